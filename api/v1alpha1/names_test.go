/*
Copyright 2026 The Tenantry Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package v1alpha1

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/validate/content"
)

// TestSharedNames pins the names of a tenant's objects. They are part of every installed cluster
// (existing namespaces and Secrets carry them) and are repeated where Go constants cannot be used:
// the bridge's RBAC markers and the chart's roles grant access to these resourceNames. Changing
// one is a migration, not a rename.
func TestSharedNames(t *testing.T) {
	got := map[string]string{
		"namespace":    NamespaceName("ti-0123456789abcdef0123"),
		"admin secret": AdminSecretName,
		"quota":        QuotaName,
	}
	want := map[string]string{
		"namespace":    "tenant-ti-0123456789abcdef0123",
		"admin secret": "tenant-admin",
		"quota":        "tenant-quota",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shared names (-want +got):\n%s", diff)
	}
}

// TestNamespaceNameIsDNSLabel checks the namespace of the longest instance name the TenantInstance
// schema admits (56 characters) is still a valid namespace name.
func TestNamespaceNameIsDNSLabel(t *testing.T) {
	longest := strings.Repeat("a", 56)
	if errs := content.IsDNS1123Label(NamespaceName(longest)); len(errs) != 0 {
		t.Errorf("NamespaceName(%d characters) = %q is not a DNS label: %v", len(longest), NamespaceName(longest), errs)
	}
}
