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
	"time"

	"github.com/go-logr/logr"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/webhookbridge/policy"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// handleRefresh applies a renewal, a refund, a trial conversion or a renewal with a change (V2
// refreshInstance, V1 refreshInstance); policy.DecideRefresh says how. An order already applied
// in the same scene, or a call sent before the one that last set the expiry, is answered 000000
// without a change — decided on the first read, before any Order Query, so resends stay cheap.
//
// A RENEWAL_CHANGE also looks the renewal order up with Order Query and records its SKU,
// quantity and product as spec.pendingChange (docs/protocol.md §6.9), which the operator applies
// when the renewed period starts. Order Query unreachable is 000005 with nothing written; the
// marketplace resends.
func (s *Server) handleRefresh(ctx context.Context, c *call, p *protocol.RefreshInstance) (protocol.Response, error) {
	c.instanceID = p.InstanceID
	ti, err := s.getInstance(ctx, p.InstanceID)
	if err != nil {
		return s.debugOr(ctx, c, nil, success(), err)
	}
	r := policy.Refresh{
		OrderID: p.OrderID, Scene: tenantryv1alpha1.OrderScene(p.Scene), ProductID: p.ProductID,
		ExpiresAt: p.ExpireTime, SentAt: c.sentAt,
	}
	now := s.clock.Now()
	if d := policy.DecideRefresh(&ti.Spec, r, now, s.freezeHorizon); d.Ignored != "" {
		c.ignored = d.Ignored
		return success(), nil
	}
	if r.Scene == tenantryv1alpha1.SceneRenewalChange {
		target, err := s.orderTarget(ctx, p.OrderID, p.OrderLineID, p.ProductID)
		if err != nil {
			return s.debugOr(ctx, c, ti, success(), err)
		}
		r.Change = &target
	}
	var d policy.Decision
	ti, wrote, err := s.mutateReadInstance(ctx, p.InstanceID, ti, c.testFlag, func(ti *tenantryv1alpha1.TenantInstance) error {
		d = policy.DecideRefresh(&ti.Spec, r, now, s.freezeHorizon)
		if c.ignored = d.Ignored; d.Ignored == "" {
			ti.Spec = *d.Spec
		}
		return nil
	})
	if err != nil {
		return s.debugOr(ctx, c, ti, success(), err)
	}
	if !wrote {
		return success(), nil
	}
	expires := ti.Spec.ExpiresAt.UTC().Format(time.RFC3339)
	switch {
	case d.Has(policy.EffectTrialConverted):
		s.event(ti, normal, ReasonMarketplaceRenewal, "Renew", "Trial converted; expiry set to %s by order %q (%s)", expires, p.OrderID, p.Scene)
	case d.Has(policy.EffectExpiryMoved) || d.Has(policy.EffectProductChanged):
		s.event(ti, normal, ReasonMarketplaceRenewal, "Renew", "Expiry set to %s by order %q (%s)", expires, p.OrderID, p.Scene)
	}
	if pc := ti.Spec.PendingChange; d.Has(policy.EffectChangePending) && pc != nil {
		logr.FromContextOrDiscard(ctx).Info("Recorded a change pending for the renewed period", "instanceId", ti.Name,
			"orderId", p.OrderID, "sku", pc.SKU, "quantity", pc.Quantity, "effectiveAt", pc.EffectiveAt.UTC())
		s.event(ti, normal, ReasonMarketplaceChangePending, "Renew", "Renewal order %q bought a change to SKU %q, quantity %d, effective %s",
			p.OrderID, pc.SKU, pc.Quantity, pc.EffectiveAt.UTC().Format(time.RFC3339))
	}
	if d.Has(policy.EffectPendingDropped) {
		s.event(ti, normal, ReasonMarketplaceChangePending, "Renew", "Renewal order %q keeps SKU %q and quantity %d: the pending change is dropped",
			p.OrderID, ti.Spec.SKU, policy.QuantityOf(&ti.Spec))
	}
	if d.Has(policy.EffectUnfrozen) {
		s.event(ti, normal, ReasonMarketplaceUnfreeze, "Unfreeze", "Unfrozen: renewal order %q moved the expiry into the future (%s)", p.OrderID, expires)
	}
	return success(), nil
}
