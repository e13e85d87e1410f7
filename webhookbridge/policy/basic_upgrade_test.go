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

package policy

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// upgraded is what an upgrade order sent at sent records.
func upgraded(id, sku, product string, quantity int32, sent time.Duration) func(*tenantryv1alpha1.TenantInstanceSpec) {
	return func(s *tenantryv1alpha1.TenantInstanceSpec) {
		s.SKU, s.Quantity = sku, quantity
		if product != "" {
			s.ProductID = product
		}
		s.Marketplace.SKUOrderID = id
		s.Marketplace.SKUSetAt = mt(sent)
		s.Marketplace.QuantitySetAt = mt(sent)
		s.Marketplace.AppliedOrders = append(s.Marketplace.AppliedOrders, order(id, tenantryv1alpha1.SceneUpgrade, sent))
	}
}

func TestDecideUpgrade(t *testing.T) {
	up := func(id, sku, product string, quantity int32, sent time.Duration) Upgrade {
		return Upgrade{OrderID: id, Target: Target{SKU: sku, ProductID: product, Quantity: quantity}, SentAt: at(sent)}
	}
	afterU1U2 := purchased(upgraded("U1", "large", "", 1, time.Minute), upgraded("U2", "xlarge", "", 1, 2*time.Minute))

	for _, tc := range []struct {
		name string
		spec *tenantryv1alpha1.TenantInstanceSpec
		call Upgrade
		want Decision
	}{
		{
			name: "new SKU and product",
			spec: purchased(),
			call: up("U1", "large", "p-2", 1, time.Minute),
			want: Decision{Spec: purchased(upgraded("U1", "large", "p-2", 1, time.Minute)),
				Effects: []Effect{EffectSKUChanged, EffectProductChanged}},
		},
		{
			name: "same SKU, new quantity: scale-out",
			spec: purchased(),
			call: up("U1", "small", "", 10, time.Minute),
			want: Decision{Spec: purchased(upgraded("U1", "small", "", 10, time.Minute)), Effects: []Effect{EffectQuantityChanged}},
		},
		{
			name: "same SKU, smaller quantity: scale-in",
			spec: purchased(func(s *tenantryv1alpha1.TenantInstanceSpec) { s.Quantity = 10 }),
			call: up("U1", "small", "", 4, time.Minute),
			want: Decision{Spec: purchased(upgraded("U1", "small", "", 4, time.Minute)), Effects: []Effect{EffectQuantityChanged}},
		},
		{
			name: "SKU and quantity together",
			spec: purchased(),
			call: up("U1", "large", "", 3, time.Minute),
			want: Decision{Spec: purchased(upgraded("U1", "large", "", 3, time.Minute)),
				Effects: []Effect{EffectSKUChanged, EffectQuantityChanged}},
		},
		{
			name: "no quantity in the order is 1",
			spec: purchased(func(s *tenantryv1alpha1.TenantInstanceSpec) { s.Quantity = 10 }),
			call: up("U1", "large", "", 0, time.Minute),
			want: Decision{Spec: purchased(upgraded("U1", "large", "", 1, time.Minute)),
				Effects: []Effect{EffectSKUChanged, EffectQuantityChanged}},
		},
		{
			name: "U1 resent after U2 keeps U2's SKU",
			spec: afterU1U2,
			call: up("U1", "large", "", 1, 10*time.Minute),
			want: Decision{Ignored: ReasonAlreadyApplied},
		},
		{
			name: "U2 resent",
			spec: afterU1U2,
			call: up("U2", "xlarge", "", 1, 10*time.Minute),
			want: Decision{Ignored: ReasonAlreadyApplied},
		},
		{
			name: "applied before the applied-orders record existed (skuOrderId)",
			spec: purchased(func(s *tenantryv1alpha1.TenantInstanceSpec) { s.Marketplace.SKUOrderID = "U0" }),
			call: up("U0", "large", "", 1, 10*time.Minute),
			want: Decision{Ignored: ReasonAlreadyApplied},
		},
		{
			name: "sent before the last SKU change",
			spec: afterU1U2,
			call: up("U3", "small", "", 1, 90*time.Second),
			want: Decision{Ignored: ReasonOutOfOrder},
		},
		{
			name: "sent before the last quantity change",
			spec: purchased(func(s *tenantryv1alpha1.TenantInstanceSpec) { s.Marketplace.QuantitySetAt = mt(5 * time.Minute) }),
			call: up("U3", "large", "", 1, 4*time.Minute),
			want: Decision{Ignored: ReasonOutOfOrder},
		},
		{
			name: "an order that changes nothing is still remembered",
			spec: purchased(),
			call: up("U1", "small", "p-1", 1, time.Minute),
			want: Decision{Spec: purchased(upgraded("U1", "small", "", 1, time.Minute))},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.spec.DeepCopy()
			got := DecideUpgrade(tc.spec, tc.call)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decision (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.spec); diff != "" {
				t.Errorf("the stored spec was changed (-before +after):\n%s", diff)
			}
		})
	}
}
