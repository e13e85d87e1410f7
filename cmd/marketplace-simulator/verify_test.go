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

package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
)

func TestCompareInstance(t *testing.T) {
	expires := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	effective := time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)
	yes, no := true, false
	ti := func(mutate func(*tenantryv1alpha1.TenantInstance)) *tenantryv1alpha1.TenantInstance {
		ti := &tenantryv1alpha1.TenantInstance{Spec: tenantryv1alpha1.TenantInstanceSpec{
			SKU: "sku.basic", Quantity: 5, ExpiresAt: &metav1.Time{Time: expires}, Lifecycle: tenantryv1alpha1.LifecycleActive,
			Order:         tenantryv1alpha1.Order{Trial: true},
			PendingChange: &tenantryv1alpha1.PendingChange{SKU: "sku.gold", Quantity: 3, OrderID: "R1", EffectiveAt: metav1.Time{Time: effective}},
			Marketplace: &tenantryv1alpha1.MarketplaceRecord{AppliedOrders: []tenantryv1alpha1.AppliedOrder{
				{OrderID: "R1", Scene: tenantryv1alpha1.SceneRenewalChange}, {OrderID: "U1", Scene: tenantryv1alpha1.SceneUpgrade},
			}},
		}}
		if mutate != nil {
			mutate(ti)
		}
		return ti
	}
	all := simulator.Expectation{
		SKU: "sku.basic", Quantity: 5, ExpiresAt: expires, Trial: &yes, Frozen: &no,
		PendingChange: &simulator.ExpectedChange{SKU: "sku.gold", Quantity: 3, OrderID: "R1", EffectiveAt: effective},
		AppliedOrders: []simulator.AppliedOrderRef{{OrderID: "R1", Scene: "RENEWAL_CHANGE"}, {OrderID: "U1", Scene: "UPGRADE"}},
	}
	deleting := ti(func(ti *tenantryv1alpha1.TenantInstance) { ti.DeletionTimestamp = &metav1.Time{Time: expires} })
	tests := []struct {
		name string
		ti   *tenantryv1alpha1.TenantInstance
		want simulator.Expectation
		diff []string
	}{
		{name: "everything matches", ti: ti(nil), want: all},
		{name: "nothing asked", ti: ti(nil), want: simulator.Expectation{}},
		{name: "missing", ti: nil, want: all, diff: []string{"does not exist"}},
		{name: "released: gone", ti: nil, want: simulator.Expectation{Released: true}},
		{name: "released: being deleted", ti: deleting, want: simulator.Expectation{Released: true}},
		{name: "released: still there", ti: ti(nil), want: simulator.Expectation{Released: true}, diff: []string{"still exists and is not being deleted"}},
		{name: "quantity defaults to 1", ti: ti(func(ti *tenantryv1alpha1.TenantInstance) { ti.Spec.Quantity = 0 }), want: simulator.Expectation{Quantity: 1}},
		{
			name: "every field differs",
			ti: ti(func(ti *tenantryv1alpha1.TenantInstance) {
				ti.Spec.SKU, ti.Spec.Quantity, ti.Spec.ExpiresAt, ti.Spec.Order.Trial = "sku.other", 0, nil, false
				ti.Spec.Lifecycle = tenantryv1alpha1.LifecycleFrozen
				ti.Spec.PendingChange = &tenantryv1alpha1.PendingChange{SKU: "sku.x", Quantity: 1, OrderID: "R2", EffectiveAt: metav1.Time{Time: expires}}
				ti.Spec.Marketplace = nil
			}),
			want: all,
			diff: []string{
				`spec.sku is "sku.other", want "sku.basic"`,
				"spec.quantity is 1, want 5",
				"spec.expiresAt is unset, want 2027-01-02T03:04:05Z",
				"spec.order.trial is false, want true",
				`spec.lifecycle is "Frozen", want "Active"`,
				`spec.pendingChange.sku is "sku.x", want "sku.gold"`,
				"spec.pendingChange.quantity is 1, want 3",
				`spec.pendingChange.orderId is "R2", want "R1"`,
				"spec.pendingChange.effectiveAt is 2027-01-02T03:04:05Z, want 2026-12-02T03:04:05Z",
				"spec.marketplace.appliedOrders lacks (R1, RENEWAL_CHANGE)",
				"spec.marketplace.appliedOrders lacks (U1, UPGRADE)",
			},
		},
		{
			name: "pending change missing",
			ti:   ti(func(ti *tenantryv1alpha1.TenantInstance) { ti.Spec.PendingChange = nil }),
			want: simulator.Expectation{PendingChange: all.PendingChange},
			diff: []string{"spec.pendingChange is missing"},
		},
		{
			name: "pending change unexpected",
			ti:   ti(nil),
			want: simulator.Expectation{NoPendingChange: true},
			diff: []string{"spec.pendingChange is {SKU:sku.gold Quantity:3 ProductID: OrderID:R1 EffectiveAt:2026-12-02 03:04:05 +0000 UTC}, want none"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.diff, compareInstance(tc.ti, tc.want)); diff != "" {
				t.Errorf("compareInstance() (-want +got):\n%s", diff)
			}
		})
	}
}
