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

package webhookbridge

import (
	"context"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/webhookbridge/policy"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// handleUpgrade moves an instance to the SKU and quantity of an upgrade order, in place
// (docs/protocol.md §6.8): the same SKU with a new linearValue is a scale-out or scale-in, and
// the answer is 000000 only once the new quantity is written. An upgrade order already applied
// (§6.6) or sent before the last SKU or quantity change (§6.3) is answered 000000 without a
// change, decided on the first read, before any Order Query. Order Query failures and a SKU
// without a plan are answered as for newInstance (000005: the marketplace resends upgrades for
// about three hours); an invalid linearValue is 000002.
func (s *Server) handleUpgrade(ctx context.Context, c *call, p *protocol.UpgradeInstance) (protocol.Response, error) {
	c.instanceID = p.InstanceID
	ti, err := s.getInstance(ctx, p.InstanceID)
	if err != nil {
		return s.debugOr(ctx, c, nil, success(), err)
	}
	if reason := policy.UpgradeIgnored(&ti.Spec, p.OrderID, c.sentAt); reason != "" {
		c.ignored = reason
		return success(), nil
	}
	// V1 upgrades name their SKU and have no quantities.
	target := policy.Target{SKU: p.SkuCode, ProductID: p.ProductID, Quantity: 1}
	if target.SKU == "" {
		if target, err = s.orderTarget(ctx, p.OrderID, p.OrderLineID, ""); err != nil {
			return s.debugOr(ctx, c, ti, success(), err)
		}
	}
	var plan *tenantryv1alpha1.TenantPlan
	if c.testFlag {
		plan, err = s.planFor(ctx, target.SKU)
	} else {
		plan, err = s.requirePlan(ctx, target.SKU)
	}
	if err != nil {
		return s.debugOr(ctx, c, ti, success(), err)
	}
	u := policy.Upgrade{OrderID: p.OrderID, Target: target, SentAt: c.sentAt}
	from, fromQuantity := ti.Spec.SKU, policy.QuantityOf(&ti.Spec)
	var d policy.Decision
	ti, wrote, err := s.mutateReadInstance(ctx, p.InstanceID, ti, c.testFlag, func(ti *tenantryv1alpha1.TenantInstance) error {
		from, fromQuantity = ti.Spec.SKU, policy.QuantityOf(&ti.Spec)
		d = policy.DecideUpgrade(&ti.Spec, u)
		if c.ignored = d.Ignored; d.Ignored == "" {
			ti.Spec = *d.Spec
		}
		return nil
	})
	if err != nil {
		return s.debugOr(ctx, c, ti, success(), err)
	}
	switch {
	case !wrote:
	case d.Has(policy.EffectSKUChanged) || d.Has(policy.EffectQuantityChanged):
		s.event(ti, normal, ReasonMarketplaceUpgrade, "Upgrade", "SKU %q quantity %d changed to SKU %q quantity %d (plan %q) by order %q",
			from, fromQuantity, target.SKU, ti.Spec.Quantity, plan.Name, p.OrderID)
	default:
		s.event(ti, normal, ReasonMarketplaceUpgrade, "Upgrade", "Order %q applied: SKU %q quantity %d unchanged (plan %q)",
			p.OrderID, target.SKU, ti.Spec.Quantity, plan.Name)
	}
	return success(), nil
}
