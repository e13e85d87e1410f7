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

// Upgrade is an upgradeInstance call with what its order bought.
type Upgrade struct {
	OrderID string
	Target  Target
	SentAt  time.Time
}

// UpgradeIgnored says why an upgrade order must not be applied, or "" when it may: already
// applied (§6.6; spec.marketplace.skuOrderId also counts, for instances older than the
// applied-orders record), or sent before the call that last set the SKU or the quantity (§6.3).
// Handlers ask it before looking the order up, so a resend costs no Order Query.
func UpgradeIgnored(spec *tenantryv1alpha1.TenantInstanceSpec, orderID string, sent time.Time) string {
	m := spec.Marketplace
	switch {
	case m == nil:
		return ""
	case Applied(m, orderID, tenantryv1alpha1.SceneUpgrade) || m.SKUOrderID == orderID:
		return ReasonAlreadyApplied
	case SentBefore(sent, m.SKUSetAt) || SentBefore(sent, m.QuantitySetAt):
		return ReasonOutOfOrder
	}
	return ""
}

// DecideUpgrade moves the instance to the upgrade order's SKU and quantity in place (§6.8): the
// same SKU with a new quantity is a scale-out or scale-in, and an upgrade may change both.
func DecideUpgrade(spec *tenantryv1alpha1.TenantInstanceSpec, u Upgrade) Decision {
	if reason := UpgradeIgnored(spec, u.OrderID, u.SentAt); reason != "" {
		return ignored(reason)
	}
	next := spec.DeepCopy()
	nm := record(next)
	var effects []Effect
	if next.SKU != u.Target.SKU {
		next.SKU = u.Target.SKU
		effects = append(effects, EffectSKUChanged)
	}
	if u.Target.ProductID != "" && u.Target.ProductID != next.ProductID {
		next.ProductID = u.Target.ProductID
		effects = append(effects, EffectProductChanged)
	}
	quantity := max(u.Target.Quantity, 1)
	if QuantityOf(next) != quantity {
		effects = append(effects, EffectQuantityChanged)
	}
	next.Quantity = quantity
	nm.SKUOrderID = u.OrderID
	nm.SKUSetAt = MicroTime(u.SentAt)
	nm.QuantitySetAt = MicroTime(u.SentAt)
	recordApplied(nm, u.OrderID, tenantryv1alpha1.SceneUpgrade, u.SentAt)
	return Decision{Spec: next, Effects: effects}
}
