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

func renewal(id string, scene tenantryv1alpha1.OrderScene, sent, expires time.Duration) Refresh {
	return Refresh{OrderID: id, Scene: scene, ExpiresAt: at(expires), SentAt: at(sent)}
}

// renewed is what a renewal sent at sent, to expires, records.
func renewed(id string, scene tenantryv1alpha1.OrderScene, sent, expires time.Duration) func(*tenantryv1alpha1.TenantInstanceSpec) {
	return func(s *tenantryv1alpha1.TenantInstanceSpec) {
		s.ExpiresAt = tt(expires)
		s.Marketplace.ExpiryOrderID = id
		s.Marketplace.ExpirySetAt = mt(sent)
		s.Marketplace.AppliedOrders = append(s.Marketplace.AppliedOrders, order(id, scene, sent))
		if scene == tenantryv1alpha1.SceneRefund {
			s.Marketplace.RenewedAt = nil
		} else {
			s.Marketplace.RenewedAt = mt(sent)
		}
	}
}

func TestDecideRefresh(t *testing.T) {
	const (
		horizon = 2 * time.Hour
		r1      = tenantryv1alpha1.SceneRenewal
		refund  = tenantryv1alpha1.SceneRefund
		formal  = tenantryv1alpha1.SceneTrialToFormal
		change  = tenantryv1alpha1.SceneRenewalChange
	)
	now := at(time.Hour) // the bridge's clock in every case but where a case says otherwise
	// afterR1R2: R1 (sent +1m, to day 60) then R2 (sent +2m, to day 90) were applied.
	afterR1R2 := with(purchased(), renewed("R1", r1, time.Minute, 60*day), renewed("R2", r1, 2*time.Minute, 90*day))
	frozenAt := func(sent time.Duration, byExpiry bool) func(*tenantryv1alpha1.TenantInstanceSpec) {
		return func(s *tenantryv1alpha1.TenantInstanceSpec) {
			s.Lifecycle = tenantryv1alpha1.LifecycleFrozen
			s.Marketplace.LifecycleSetAt = mt(sent)
			s.Marketplace.FrozenByExpiry = byExpiry
		}
	}
	active := func(s *tenantryv1alpha1.TenantInstanceSpec) {
		s.Lifecycle = tenantryv1alpha1.LifecycleActive
		s.Marketplace.FrozenByExpiry = false
	}
	pending := func(p *tenantryv1alpha1.PendingChange) func(*tenantryv1alpha1.TenantInstanceSpec) {
		return func(s *tenantryv1alpha1.TenantInstanceSpec) { s.PendingChange = p }
	}

	for _, tc := range []struct {
		name string
		spec *tenantryv1alpha1.TenantInstanceSpec
		call Refresh
		now  time.Time
		want Decision
	}{
		{
			name: "renewal sets the expiry and arms the stale-freeze guard",
			spec: purchased(),
			call: renewal("R1", r1, time.Minute, 60*day),
			want: Decision{Spec: with(purchased(), renewed("R1", r1, time.Minute, 60*day)),
				Effects: []Effect{EffectExpiryMoved, EffectRenewed}},
		},
		{
			name: "sent before the call that last set the expiry",
			spec: afterR1R2,
			call: renewal("R0", r1, 90*time.Second, 45*day),
			want: Decision{Ignored: ReasonOutOfOrder},
		},
		{
			name: "R1 resent after R2 keeps R2's expiry",
			spec: afterR1R2,
			call: renewal("R1", r1, 10*time.Minute, 60*day),
			want: Decision{Ignored: ReasonAlreadyApplied},
		},
		{
			name: "R2 resent",
			spec: afterR1R2,
			call: renewal("R2", r1, 10*time.Minute, 90*day),
			want: Decision{Ignored: ReasonAlreadyApplied},
		},
		{
			name: "refund of R2 is another (orderId, scene) pair: applied, and disarms the guard",
			spec: afterR1R2,
			call: renewal("R2", refund, 3*time.Minute, 60*day),
			want: Decision{Spec: with(afterR1R2, renewed("R2", refund, 3*time.Minute, 60*day)), Effects: []Effect{EffectExpiryMoved}},
		},
		{
			name: "refund resent",
			spec: with(afterR1R2, renewed("R2", refund, 3*time.Minute, 60*day)),
			call: renewal("R2", refund, 20*time.Minute, 60*day),
			want: Decision{Ignored: ReasonAlreadyApplied},
		},
		{
			name: "same expiry again by a new order: applied without a visible change",
			spec: with(purchased(), renewed("R1", r1, time.Minute, 60*day)),
			call: renewal("R1b", r1, 2*time.Minute, 60*day),
			want: Decision{Spec: with(purchased(), renewed("R1", r1, time.Minute, 60*day), renewed("R1b", r1, 2*time.Minute, 60*day)),
				Effects: []Effect{EffectRenewed}},
		},
		{
			name: "renewal to an expiry already past does not arm the guard",
			spec: purchased(),
			call: renewal("R1", r1, time.Minute, 30*time.Minute),
			want: Decision{Spec: with(purchased(), renewed("R1", r1, time.Minute, 30*time.Minute),
				func(s *tenantryv1alpha1.TenantInstanceSpec) { s.Marketplace.RenewedAt = nil }),
				Effects: []Effect{EffectExpiryMoved}},
		},
		{
			name: "trial to formal clears the trial flag and records the product",
			spec: purchased(func(s *tenantryv1alpha1.TenantInstanceSpec) { s.Order.Trial = true }),
			call: Refresh{OrderID: "F1", Scene: formal, ProductID: "p-formal", ExpiresAt: at(365 * day), SentAt: at(time.Minute)},
			want: Decision{Spec: with(purchased(), renewed("F1", formal, time.Minute, 365*day),
				func(s *tenantryv1alpha1.TenantInstanceSpec) { s.ProductID = "p-formal" }),
				Effects: []Effect{EffectExpiryMoved, EffectTrialConverted, EffectProductChanged, EffectRenewed}},
		},
		{
			name: "renewal with a period-type change records the new product",
			spec: purchased(),
			call: Refresh{OrderID: "R1", Scene: r1, ProductID: "p-yearly", ExpiresAt: at(365 * day), SentAt: at(time.Minute)},
			want: Decision{Spec: with(purchased(), renewed("R1", r1, time.Minute, 365*day),
				func(s *tenantryv1alpha1.TenantInstanceSpec) { s.ProductID = "p-yearly" }),
				Effects: []Effect{EffectExpiryMoved, EffectProductChanged, EffectRenewed}},
		},
		{
			name: "renewal with a change: pending from the expiry before this renewal",
			spec: purchased(),
			call: Refresh{OrderID: "C1", Scene: change, ExpiresAt: at(60 * day), SentAt: at(time.Minute),
				Change: &Target{SKU: "large", Quantity: 20, ProductID: "p-2"}},
			want: Decision{Spec: with(purchased(), renewed("C1", change, time.Minute, 60*day), pending(&tenantryv1alpha1.PendingChange{
				SKU: "large", Quantity: 20, ProductID: "p-2", OrderID: "C1", EffectiveAt: *tt(30 * day)})),
				Effects: []Effect{EffectExpiryMoved, EffectChangePending, EffectRenewed}},
		},
		{
			name: "renewal with a change after the expiry passed: effective now",
			spec: purchased(func(s *tenantryv1alpha1.TenantInstanceSpec) { s.ExpiresAt = tt(30 * time.Minute) }),
			call: Refresh{OrderID: "C1", Scene: change, ProductID: "p-call", ExpiresAt: at(60 * day), SentAt: at(time.Minute),
				Change: &Target{SKU: "small", Quantity: 5}},
			want: Decision{Spec: with(purchased(), renewed("C1", change, time.Minute, 60*day), pending(&tenantryv1alpha1.PendingChange{
				SKU: "small", Quantity: 5, ProductID: "p-call", OrderID: "C1", EffectiveAt: *tt(time.Hour)})),
				Effects: []Effect{EffectExpiryMoved, EffectChangePending, EffectRenewed}},
		},
		{
			name: "renewal with a change to the current spec drops an older pending change",
			spec: purchased(pending(&tenantryv1alpha1.PendingChange{SKU: "large", Quantity: 2, OrderID: "C0", EffectiveAt: *tt(30 * day)})),
			call: Refresh{OrderID: "C1", Scene: change, ExpiresAt: at(60 * day), SentAt: at(time.Minute),
				Change: &Target{SKU: "small", Quantity: 1, ProductID: "p-1"}},
			want: Decision{Spec: with(purchased(), renewed("C1", change, time.Minute, 60*day)),
				Effects: []Effect{EffectExpiryMoved, EffectPendingDropped, EffectRenewed}},
		},
		{
			name: "a freeze sent within the horizon after the renewal, processed first, is lifted",
			spec: purchased(frozenAt(30*time.Minute, false)),
			call: renewal("R1", r1, time.Minute, 60*day),
			want: Decision{Spec: with(purchased(frozenAt(30*time.Minute, false)), renewed("R1", r1, time.Minute, 60*day), active),
				Effects: []Effect{EffectExpiryMoved, EffectRenewed, EffectUnfrozen}},
		},
		{
			name: "a freeze sent before the renewal stays until its UNFREEZE",
			spec: purchased(frozenAt(30*time.Second, false)),
			call: renewal("R1", r1, time.Minute, 60*day),
			want: Decision{Spec: with(purchased(frozenAt(30*time.Second, false)), renewed("R1", r1, time.Minute, 60*day)),
				Effects: []Effect{EffectExpiryMoved, EffectRenewed}},
		},
		{
			name: "a freeze sent more than the horizon after the renewal stays",
			spec: purchased(frozenAt(3*time.Hour, false)),
			call: renewal("R1", r1, time.Minute, 60*day),
			now:  at(4 * time.Hour),
			want: Decision{Spec: with(purchased(frozenAt(3*time.Hour, false)), renewed("R1", r1, time.Minute, 60*day)),
				Effects: []Effect{EffectExpiryMoved, EffectRenewed}},
		},
		{
			name: "V1: a later renewal into the future lifts the freeze of expireInstance",
			spec: purchased(frozenAt(30*time.Second, true)),
			call: renewal("R1", r1, time.Minute, 60*day),
			want: Decision{Spec: with(purchased(frozenAt(30*time.Second, true)), renewed("R1", r1, time.Minute, 60*day), active,
				func(s *tenantryv1alpha1.TenantInstanceSpec) { s.Marketplace.LifecycleSetAt = mt(time.Minute) }),
				Effects: []Effect{EffectExpiryMoved, EffectRenewed, EffectUnfrozen}},
		},
		{
			name: "V1: a renewal into the past leaves the freeze of expireInstance",
			spec: purchased(frozenAt(30*time.Second, true)),
			call: renewal("R1", r1, time.Minute, 50*time.Minute),
			want: Decision{Spec: with(purchased(frozenAt(30*time.Second, true)), renewed("R1", r1, time.Minute, 50*time.Minute),
				func(s *tenantryv1alpha1.TenantInstanceSpec) { s.Marketplace.RenewedAt = nil }),
				Effects: []Effect{EffectExpiryMoved}},
		},
		{
			name: "a refund does not lift a freeze",
			spec: with(afterR1R2, frozenAt(3*time.Minute, true)),
			call: renewal("R2", refund, 4*time.Minute, 60*day),
			want: Decision{Spec: with(afterR1R2, frozenAt(3*time.Minute, true), renewed("R2", refund, 4*time.Minute, 60*day)),
				Effects: []Effect{EffectExpiryMoved}},
		},
		{
			name: "no ordering record yet (an instance made by hand)",
			spec: &tenantryv1alpha1.TenantInstanceSpec{SKU: "small", Order: tenantryv1alpha1.Order{OrderID: "X", OrderLineID: "X"}},
			call: renewal("R1", r1, time.Minute, 60*day),
			want: Decision{Spec: &tenantryv1alpha1.TenantInstanceSpec{SKU: "small", Order: tenantryv1alpha1.Order{OrderID: "X", OrderLineID: "X"},
				ExpiresAt: tt(60 * day), Marketplace: &tenantryv1alpha1.MarketplaceRecord{ExpiryOrderID: "R1", ExpirySetAt: mt(time.Minute),
					RenewedAt: mt(time.Minute), AppliedOrders: []tenantryv1alpha1.AppliedOrder{order("R1", r1, time.Minute)}}},
				Effects: []Effect{EffectExpiryMoved, EffectRenewed}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.spec.DeepCopy()
			n := now
			if !tc.now.IsZero() {
				n = tc.now
			}
			got := DecideRefresh(tc.spec, tc.call, n, horizon)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decision (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.spec); diff != "" {
				t.Errorf("the stored spec was changed (-before +after):\n%s", diff)
			}
		})
	}
}
