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

package controllers

import (
	"testing"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/intern"
)

// The manager's cache, which holds the operator's own resources and the shared TLS sources,
// drops only what nobody reads.
func TestSlimKeepsSources(t *testing.T) {
	source := func() *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "wildcard", Namespace: "certs", Labels: map[string]string{
				"tenantry.io/secret-role": "shared-tls-source",
			}},
			Data: map[string][]byte{"tls.crt": []byte("c")},
		}
	}
	s := source()
	s.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	s.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: "{}"}
	if _, err := slim(s); err != nil {
		t.Fatal(err)
	}
	want := source()
	want.Annotations = map[string]string{}
	if !equality.Semantic.DeepEqual(s, want) {
		t.Errorf("slimmed source: %+v", s)
	}
}

// A cached TenantInstance loses its managedFields and shares its common strings
// (intern.TenantInstance, tested in its package).
func TestSlimSharesInstanceStrings(t *testing.T) {
	ti := &tenantryv1alpha1.TenantInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "a", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "tenantry"}}},
		Spec:       tenantryv1alpha1.TenantInstanceSpec{SKU: string([]byte("basic"))},
	}
	if _, err := slim(ti); err != nil {
		t.Fatal(err)
	}
	if ti.ManagedFields != nil {
		t.Errorf("managedFields kept: %v", ti.ManagedFields)
	}
	if shared := intern.String("basic"); ti.Spec.SKU != shared || unsafe.StringData(ti.Spec.SKU) != unsafe.StringData(shared) {
		t.Errorf("the SKU %q is not the shared copy", ti.Spec.SKU)
	}
	// A tombstone passes through.
	if out, err := slim("tombstone"); err != nil || out != "tombstone" {
		t.Errorf("slim of a tombstone: %v, %v", out, err)
	}
}
