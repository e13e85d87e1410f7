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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Refresh is a refreshInstance call (V2, or V1 mapped onto it).
type Refresh struct {
	OrderID string
	Scene   tenantryv1alpha1.OrderScene
	// ProductID is the call's optional productId.
	ProductID string
	ExpiresAt time.Time
	SentAt    time.Time
	// Change is what the renewal order of a RENEWAL_CHANGE bought, from Order Query; nil for
	// the other scenes.
	Change *Target
}

// DecideRefresh applies a renewal, a refund, a trial conversion or a renewal with a change.
//
//   - An (orderId, scene) already applied is ignored, even when newer orders came since (§6.6);
//     so is a call sent before the one that last set the expiry (§6.3).
//   - The expiry is set, not extended, so applying the same order twice could not extend twice
//     anyway; a refund may move it earlier.
//   - TRIAL_TO_FORMAL clears the trial flag; it and RENEWAL record a productId the call carries
//     (a period-type change may come with a new product, §6.9).
//   - RENEWAL_CHANGE records the renewal order's SKU, quantity and product as spec.pendingChange,
//     effective at the expiry before this renewal, or now if that has passed (§6.9). A target
//     equal to the current spec drops a pending change instead.
//   - A renewal that moves the paid period into the future records its send time in
//     spec.marketplace.renewedAt, which arms the stale-FREEZE guard (§6.10); a refund disarms it.
//     Such a renewal also lifts a freeze that the guard would have ignored had it been
//     processed after the renewal (sent at or after it, within horizon), and a freeze by a V1
//     expireInstance sent before it (V1 has no unfreeze for period products).
func DecideRefresh(spec *tenantryv1alpha1.TenantInstanceSpec, r Refresh, now time.Time, horizon time.Duration) Decision {
	m := spec.Marketplace
	switch {
	case Applied(m, r.OrderID, r.Scene):
		return ignored(ReasonAlreadyApplied)
	case m != nil && SentBefore(r.SentAt, m.ExpirySetAt):
		return ignored(ReasonOutOfOrder)
	}
	next := spec.DeepCopy()
	nm := record(next)
	var effects []Effect

	previous := spec.ExpiresAt
	expires := metav1.NewTime(r.ExpiresAt.UTC().Truncate(time.Second))
	if previous == nil || !previous.Equal(&expires) {
		effects = append(effects, EffectExpiryMoved)
	}
	next.ExpiresAt = &expires
	nm.ExpiryOrderID = r.OrderID
	nm.ExpirySetAt = MicroTime(r.SentAt)
	recordApplied(nm, r.OrderID, r.Scene, r.SentAt)

	switch r.Scene {
	case tenantryv1alpha1.SceneTrialToFormal, tenantryv1alpha1.SceneRenewal:
		if r.Scene == tenantryv1alpha1.SceneTrialToFormal && next.Order.Trial {
			next.Order.Trial = false
			effects = append(effects, EffectTrialConverted)
		}
		if r.ProductID != "" && r.ProductID != next.ProductID {
			next.ProductID = r.ProductID
			effects = append(effects, EffectProductChanged)
		}
	case tenantryv1alpha1.SceneRenewalChange:
		if r.Change != nil {
			effects = append(effects, pendingChange(next, r, previous, now)...)
		}
	}

	if r.Scene == tenantryv1alpha1.SceneRefund || !expires.After(now) {
		nm.RenewedAt = nil
		return Decision{Spec: next, Effects: effects}
	}
	nm.RenewedAt = MicroTime(r.SentAt)
	effects = append(effects, EffectRenewed)
	if LifecycleOf(next) == tenantryv1alpha1.LifecycleFrozen && liftsFreeze(nm, r.SentAt, horizon) {
		next.Lifecycle = tenantryv1alpha1.LifecycleActive
		if nm.FrozenByExpiry && !SentBefore(r.SentAt, nm.LifecycleSetAt) {
			nm.LifecycleSetAt = MicroTime(r.SentAt)
		}
		nm.FrozenByExpiry = false
		effects = append(effects, EffectUnfrozen)
	}
	return Decision{Spec: next, Effects: effects}
}

// liftsFreeze reports whether a renewal sent at sent lifts the freeze in effect: one by a V1
// expireInstance sent before the renewal, or any freeze sent within horizon after it (a stale
// resend that was processed first).
func liftsFreeze(m *tenantryv1alpha1.MarketplaceRecord, sent time.Time, horizon time.Duration) bool {
	if m.LifecycleSetAt == nil {
		return false
	}
	frozen := m.LifecycleSetAt.Time
	if m.FrozenByExpiry && !sent.Before(frozen) {
		return true
	}
	return !frozen.Before(sent) && frozen.Sub(sent) < horizon
}

// pendingChange records the target of a renewal with a change in next.
func pendingChange(next *tenantryv1alpha1.TenantInstanceSpec, r Refresh, previous *metav1.Time, now time.Time) []Effect {
	target := *r.Change
	if target.ProductID == "" {
		target.ProductID = r.ProductID
	}
	if target.Quantity < 1 {
		target.Quantity = 1
	}
	if target.SKU == next.SKU && target.Quantity == QuantityOf(next) && (target.ProductID == "" || target.ProductID == next.ProductID) {
		if next.PendingChange == nil {
			return nil
		}
		next.PendingChange = nil
		return []Effect{EffectPendingDropped}
	}
	effective := now.UTC().Truncate(time.Second)
	if previous != nil && previous.After(now) {
		effective = previous.UTC()
	}
	next.PendingChange = &tenantryv1alpha1.PendingChange{
		SKU: target.SKU, Quantity: target.Quantity, ProductID: target.ProductID,
		OrderID: r.OrderID, EffectiveAt: metav1.NewTime(effective),
	}
	return []Effect{EffectChangePending}
}
