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

package intern

import (
	"encoding/json"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/equality"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func TestStringSharesOneCopy(t *testing.T) {
	a, b := strings.Repeat("x", 3), strings.Repeat("x", 3)
	if unsafe.StringData(a) == unsafe.StringData(b) {
		t.Fatal("the test needs two copies")
	}
	if x, y := String(a), String(b); x != "xxx" || unsafe.StringData(x) != unsafe.StringData(y) {
		t.Errorf("String(%q) and String(%q) are two copies", a, b)
	}
	type reason string
	if got := String(reason("Available")); got != "Available" {
		t.Errorf("String of a named string type: %q", got)
	}
}

// Cached TenantInstances share the strings every instance has alike, and hold the same values.
func TestTenantInstanceSharesStrings(t *testing.T) {
	decode := func(name string) *tenantryv1alpha1.TenantInstance {
		// Decoded from JSON as the cache's informer does, so every string is a copy of its own.
		data := []byte(`{"apiVersion":"tenantry.io/v1alpha1","kind":"TenantInstance",
			"metadata":{"name":"` + name + `","finalizers":["tenantry.io/release"]},
			"spec":{"sku":"basic","productId":"p-1","lifecycle":"Active","domain":{"type":"Shared"},
				"order":{"orderId":"o-` + name + `","orderLineId":"l-` + name + `","chargingMode":"PERIOD","periodType":"month"}},
			"status":{"state":"Running","plan":"basic","namespace":"tenant-` + name + `",
				"adminAccountSecretRef":{"namespace":"tenant-` + name + `","name":"tenant-admin"},
				"conditions":[{"type":"Ready","status":"True","reason":"Available","message":"Serving ` + name + `","lastTransitionTime":"2026-01-02T03:04:05Z"}]}}`)
		ti := &tenantryv1alpha1.TenantInstance{}
		if err := json.Unmarshal(data, ti); err != nil {
			t.Fatal(err)
		}
		return ti
	}
	a, b := decode("a"), decode("b")
	wantA := a.DeepCopy()
	TenantInstance(a)
	TenantInstance(b)
	if !equality.Semantic.DeepEqual(a, wantA) {
		t.Errorf("sharing changed the instance's values:\n%s", cmp.Diff(wantA, a))
	}
	same := func(what, x, y string) {
		if unsafe.StringData(x) != unsafe.StringData(y) {
			t.Errorf("%s: %q and %q are two copies", what, x, y)
		}
	}
	same("finalizer", a.Finalizers[0], b.Finalizers[0])
	same("sku", a.Spec.SKU, b.Spec.SKU)
	same("sku and plan", a.Spec.SKU, b.Status.Plan)
	same("lifecycle", string(a.Spec.Lifecycle), string(b.Spec.Lifecycle))
	same("charging mode", string(a.Spec.Order.ChargingMode), string(b.Spec.Order.ChargingMode))
	same("state", string(a.Status.State), string(b.Status.State))
	same("condition reason", a.Status.Conditions[0].Reason, b.Status.Conditions[0].Reason)
	same("admin Secret", a.Status.AdminAccountSecretRef.Name, b.Status.AdminAccountSecretRef.Name)
	same("namespace", a.Status.Namespace, a.Status.AdminAccountSecretRef.Namespace)
	if c := a.Status.Conditions; cap(c) != len(c) {
		t.Errorf("conditions keep a capacity of %d for %d", cap(c), len(c))
	}
}
