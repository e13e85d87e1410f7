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

// Package policy holds the bridge's decisions about marketplace calls as pure functions of the
// stored TenantInstance, the call and the time: apply (and how), or ignore (and why). The
// handlers in package webhookbridge only read, decide with these functions and write, so every
// rule of docs/protocol.md §6 is table-tested case by case here, without an API server.
package policy

import (
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Reasons a state-changing call is answered 000000 without a change. They are the "reason"
// label of tenantry_bridge_ignored_calls_total and the "ignored" value of the audit line.
const (
	// ReasonAlreadyApplied: the call's order was applied before (docs/protocol.md §6.6).
	ReasonAlreadyApplied = "already_applied"
	// ReasonOutOfOrder: the call was sent before the call that last set the same aspect (§6.3).
	ReasonOutOfOrder = "out_of_order"
	// ReasonStaleFreeze: a FREEZE sent within the resend horizon after a renewal (§6.10).
	ReasonStaleFreeze = "stale_freeze"
)

// DefaultFreezeHorizon is how long after a renewal a FREEZE is presumed to be a resend of a
// freeze sent before it: the longest resend window documented for status calls (§6.10).
const DefaultFreezeHorizon = 2 * time.Hour

// Effect is one visible consequence of an applied call, for the handler's Events and logs.
type Effect string

// Effects of applied calls.
const (
	EffectExpiryMoved     Effect = "ExpiryMoved"
	EffectTrialConverted  Effect = "TrialConverted"
	EffectRenewed         Effect = "Renewed"
	EffectProductChanged  Effect = "ProductChanged"
	EffectChangePending   Effect = "ChangePending"
	EffectPendingDropped  Effect = "PendingDropped"
	EffectFrozen          Effect = "Frozen"
	EffectUnfrozen        Effect = "Unfrozen"
	EffectSKUChanged      Effect = "SKUChanged"
	EffectQuantityChanged Effect = "QuantityChanged"
)

// Decision is the outcome of one call: either Ignored names why it changes nothing, or Spec is
// the instance's spec with the call applied, which the handler writes as it is.
type Decision struct {
	// Ignored is one of the Reason* constants; empty when the call applies.
	Ignored string
	// Spec is the spec to write; nil when Ignored is set.
	Spec *tenantryv1alpha1.TenantInstanceSpec
	// Effects are what changed, in a fixed order; none when the call applies without a visible
	// change (a repeat).
	Effects []Effect
}

// Has reports whether the decision has effect e.
func (d Decision) Has(e Effect) bool { return slices.Contains(d.Effects, e) }

func ignored(reason string) Decision { return Decision{Ignored: reason} }

// SentBefore reports whether a call sent at sent is older than the one recorded at setAt, and
// must therefore be ignored (§6.3). A call sent at the same instant is applied: it is the same
// call again, or indistinguishable from it.
func SentBefore(sent time.Time, setAt *metav1.MicroTime) bool {
	return setAt != nil && sent.Before(setAt.Time)
}

// MicroTime converts a send time to the recorded form. Marketplace times have millisecond
// precision, so nothing is lost and comparisons after a round trip through the API hold.
func MicroTime(t time.Time) *metav1.MicroTime {
	m := metav1.NewMicroTime(t.UTC().Truncate(time.Microsecond))
	return &m
}

// Applied reports whether the order was already applied in this scene (§6.6). A refund carries
// the refunded renewal's orderId in another scene, so the pair, not the order, is the key.
func Applied(m *tenantryv1alpha1.MarketplaceRecord, orderID string, scene tenantryv1alpha1.OrderScene) bool {
	if m == nil {
		return false
	}
	return slices.ContainsFunc(m.AppliedOrders, func(a tenantryv1alpha1.AppliedOrder) bool {
		return a.OrderID == orderID && a.Scene == scene
	})
}

// recordApplied remembers (orderID, scene), newest last, keeping the last
// tenantryv1alpha1.MaxAppliedOrders. Resends come within hours of the original; an order 32
// orders back is years old for any real subscription.
func recordApplied(m *tenantryv1alpha1.MarketplaceRecord, orderID string, scene tenantryv1alpha1.OrderScene, sent time.Time) {
	if Applied(m, orderID, scene) {
		return
	}
	m.AppliedOrders = append(m.AppliedOrders, tenantryv1alpha1.AppliedOrder{OrderID: orderID, Scene: scene, AppliedAt: MicroTime(sent)})
	if n := len(m.AppliedOrders) - tenantryv1alpha1.MaxAppliedOrders; n > 0 {
		m.AppliedOrders = slices.Delete(m.AppliedOrders, 0, n)
	}
}

// record returns spec's ordering record, creating it when absent.
func record(spec *tenantryv1alpha1.TenantInstanceSpec) *tenantryv1alpha1.MarketplaceRecord {
	if spec.Marketplace == nil {
		spec.Marketplace = &tenantryv1alpha1.MarketplaceRecord{}
	}
	return spec.Marketplace
}

// LifecycleOf reads spec.lifecycle with its schema default.
func LifecycleOf(spec *tenantryv1alpha1.TenantInstanceSpec) tenantryv1alpha1.Lifecycle {
	if spec.Lifecycle == "" {
		return tenantryv1alpha1.LifecycleActive
	}
	return spec.Lifecycle
}

// QuantityOf reads spec.quantity with its schema default.
func QuantityOf(spec *tenantryv1alpha1.TenantInstanceSpec) int32 {
	if spec.Quantity < 1 {
		return 1
	}
	return spec.Quantity
}

// Target is what an order moves an instance to: an upgrade order, or the renewed period of a
// renewal with a change.
type Target struct {
	SKU string
	// Quantity is the order's linearValue (see Quantity), at least 1.
	Quantity int32
	// ProductID is the order's product; empty keeps spec.productId.
	ProductID string
}
