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

func TestDecideStatus(t *testing.T) {
	const horizon = 2 * time.Hour
	set := func(l tenantryv1alpha1.Lifecycle, sent time.Duration, byExpiry bool) func(*tenantryv1alpha1.TenantInstanceSpec) {
		return func(s *tenantryv1alpha1.TenantInstanceSpec) {
			s.Lifecycle = l
			s.Marketplace.LifecycleSetAt = mt(sent)
			s.Marketplace.FrozenByExpiry = byExpiry
		}
	}
	frozen, active := tenantryv1alpha1.LifecycleFrozen, tenantryv1alpha1.LifecycleActive
	// renewedAt: a renewal sent at +10m moved the expiry to day 60.
	renewedAt := func(s *tenantryv1alpha1.TenantInstanceSpec) {
		s.ExpiresAt = tt(60 * day)
		s.Marketplace.ExpiryOrderID = "R1"
		s.Marketplace.ExpirySetAt = mt(10 * time.Minute)
		s.Marketplace.RenewedAt = mt(10 * time.Minute)
	}
	freeze := func(sent time.Duration) Status { return Status{Freeze: true, SentAt: at(sent)} }
	unfreeze := func(sent time.Duration) Status { return Status{SentAt: at(sent)} }

	for _, tc := range []struct {
		name string
		spec *tenantryv1alpha1.TenantInstanceSpec
		call Status
		now  time.Duration
		want Decision
	}{
		{
			name: "freeze",
			spec: purchased(),
			call: freeze(time.Minute),
			want: Decision{Spec: purchased(set(frozen, time.Minute, false)), Effects: []Effect{EffectFrozen}},
		},
		{
			name: "freeze again records the newer send without a visible change",
			spec: purchased(set(frozen, time.Minute, false)),
			call: freeze(2 * time.Minute),
			want: Decision{Spec: purchased(set(frozen, 2*time.Minute, false))},
		},
		{
			name: "unfreeze",
			spec: purchased(set(frozen, time.Minute, false)),
			call: unfreeze(2 * time.Minute),
			want: Decision{Spec: purchased(set(active, 2*time.Minute, false)), Effects: []Effect{EffectUnfrozen}},
		},
		{
			name: "sent before the call that last set the lifecycle",
			spec: purchased(set(active, 2*time.Minute, false)),
			call: freeze(time.Minute),
			want: Decision{Ignored: ReasonOutOfOrder},
		},
		{
			name: "V1 expireInstance freezes and marks the freeze",
			spec: purchased(),
			call: Status{Freeze: true, ByExpiry: true, SentAt: at(time.Minute)},
			want: Decision{Spec: purchased(set(frozen, time.Minute, true)), Effects: []Effect{EffectFrozen}},
		},
		{
			name: "V1 NORMAL clears the expiry mark",
			spec: purchased(set(frozen, time.Minute, true)),
			call: unfreeze(2 * time.Minute),
			want: Decision{Spec: purchased(set(active, 2*time.Minute, false)), Effects: []Effect{EffectUnfrozen}},
		},
		{
			name: "stale freeze: resend after the renewal and its UNFREEZE",
			spec: purchased(renewedAt, set(active, 20*time.Minute, false)),
			call: freeze(40 * time.Minute),
			now:  41 * time.Minute,
			want: Decision{Ignored: ReasonStaleFreeze},
		},
		{
			name: "stale freeze: resend after the renewal, before its UNFREEZE",
			spec: purchased(renewedAt, set(frozen, 5*time.Minute, false)),
			call: freeze(15 * time.Minute),
			now:  16 * time.Minute,
			want: Decision{Ignored: ReasonStaleFreeze},
		},
		{
			name: "stale freeze: resend after a renewal that no UNFREEZE followed",
			spec: purchased(renewedAt),
			call: freeze(30 * time.Minute),
			now:  31 * time.Minute,
			want: Decision{Ignored: ReasonStaleFreeze},
		},
		{
			name: "freeze at the horizon applies",
			spec: purchased(renewedAt, set(active, 20*time.Minute, false)),
			call: freeze(10*time.Minute + horizon),
			now:  10*time.Minute + horizon,
			want: Decision{Spec: purchased(renewedAt, set(frozen, 10*time.Minute+horizon, false)), Effects: []Effect{EffectFrozen}},
		},
		{
			name: "freeze within the horizon once the renewed period has ended applies",
			spec: purchased(renewedAt, func(s *tenantryv1alpha1.TenantInstanceSpec) { s.ExpiresAt = tt(20 * time.Minute) }),
			call: freeze(30 * time.Minute),
			now:  30 * time.Minute,
			want: Decision{Spec: purchased(renewedAt, func(s *tenantryv1alpha1.TenantInstanceSpec) { s.ExpiresAt = tt(20 * time.Minute) },
				set(frozen, 30*time.Minute, false)), Effects: []Effect{EffectFrozen}},
		},
		{
			name: "freeze after a refund applies (the refund cleared renewedAt)",
			spec: purchased(renewedAt, func(s *tenantryv1alpha1.TenantInstanceSpec) { s.Marketplace.RenewedAt = nil }),
			call: freeze(30 * time.Minute),
			now:  31 * time.Minute,
			want: Decision{Spec: purchased(renewedAt, func(s *tenantryv1alpha1.TenantInstanceSpec) { s.Marketplace.RenewedAt = nil },
				set(frozen, 30*time.Minute, false)), Effects: []Effect{EffectFrozen}},
		},
		{
			name: "V1 expireInstance within the horizon after a renewal is stale too",
			spec: purchased(renewedAt),
			call: Status{Freeze: true, ByExpiry: true, SentAt: at(30 * time.Minute)},
			now:  31 * time.Minute,
			want: Decision{Ignored: ReasonStaleFreeze},
		},
		{
			name: "an UNFREEZE within the horizon after a renewal applies",
			spec: purchased(renewedAt, set(frozen, 5*time.Minute, false)),
			call: unfreeze(15 * time.Minute),
			now:  16 * time.Minute,
			want: Decision{Spec: purchased(renewedAt, set(active, 15*time.Minute, false)), Effects: []Effect{EffectUnfrozen}},
		},
		{
			name: "no ordering record yet",
			spec: &tenantryv1alpha1.TenantInstanceSpec{SKU: "small"},
			call: freeze(time.Minute),
			want: Decision{Spec: &tenantryv1alpha1.TenantInstanceSpec{SKU: "small", Lifecycle: frozen,
				Marketplace: &tenantryv1alpha1.MarketplaceRecord{LifecycleSetAt: mt(time.Minute)}}, Effects: []Effect{EffectFrozen}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.spec.DeepCopy()
			got := DecideStatus(tc.spec, tc.call, at(tc.now), horizon)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decision (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.spec); diff != "" {
				t.Errorf("the stored spec was changed (-before +after):\n%s", diff)
			}
		})
	}
}
