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
	"time"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Status is an updateInstanceStatus call, or a V1 instanceStatus or expireInstance.
type Status struct {
	Freeze bool
	// ByExpiry marks a V1 expireInstance: the freeze a later V1 renewal lifts.
	ByExpiry bool
	SentAt   time.Time
}

// DecideStatus freezes or unfreezes, ordered by spec.marketplace.lifecycleSetAt (§6.3).
//
// A FREEZE is stale, and ignored, when it was sent at or after the last renewal that moved the
// paid period into the future (spec.marketplace.renewedAt) and less than horizon after it, while
// the expiry is still in the future (§6.10): the marketplace resends a failed FREEZE with a
// fresh timestamp for up to the horizon, so such a FREEZE is almost surely a resend of one sent
// before the renewal. This holds whichever order the resend and an UNFREEZE are processed in and
// whether or not an UNFREEZE is sent at all, because it rests on the renewal alone. A genuine
// FREEZE within the horizon of a renewal is lost; an SRE applies one with kubectl patch. A
// refund clears renewedAt, and a FREEZE after it applies.
func DecideStatus(spec *tenantryv1alpha1.TenantInstanceSpec, s Status, now time.Time, horizon time.Duration) Decision {
	m := spec.Marketplace
	if m != nil && SentBefore(s.SentAt, m.LifecycleSetAt) {
		return ignored(ReasonOutOfOrder)
	}
	if s.Freeze && StaleFreeze(spec, s.SentAt, now, horizon) {
		return ignored(ReasonStaleFreeze)
	}
	want := tenantryv1alpha1.LifecycleActive
	if s.Freeze {
		want = tenantryv1alpha1.LifecycleFrozen
	}
	next := spec.DeepCopy()
	nm := record(next)
	var effects []Effect
	if LifecycleOf(next) != want {
		if s.Freeze {
			effects = append(effects, EffectFrozen)
		} else {
			effects = append(effects, EffectUnfrozen)
		}
	}
	next.Lifecycle = want
	nm.LifecycleSetAt = MicroTime(s.SentAt)
	nm.FrozenByExpiry = s.Freeze && s.ByExpiry
	return Decision{Spec: next, Effects: effects}
}

// StaleFreeze reports whether a FREEZE sent at sent falls within horizon after the last renewal
// that moved the paid period into the future, while that period has not ended.
func StaleFreeze(spec *tenantryv1alpha1.TenantInstanceSpec, sent, now time.Time, horizon time.Duration) bool {
	m := spec.Marketplace
	if m == nil || m.RenewedAt == nil || spec.ExpiresAt == nil || !spec.ExpiresAt.After(now) {
		return false
	}
	renewed := m.RenewedAt.Time
	return !sent.Before(renewed) && sent.Sub(renewed) < horizon
}
