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

// handleStatus freezes or unfreezes (V2 updateInstanceStatus, V1 instanceStatus and
// expireInstance), ordered by spec.marketplace.lifecycleSetAt; policy.DecideStatus says how.
//
// A FREEZE sent within the resend horizon (Options.FreezeRetryHorizon, 2 h by default) after a
// renewal that moved the paid period into the future is presumed to be a late resend of a
// freeze sent before that renewal (docs/protocol.md §6.10): it is answered 000000, recorded
// nowhere, and reported with a Warning Event (StaleFreezeIgnored) so an operator can see it. A
// V1 expireInstance freezes and marks the freeze (spec.marketplace.frozenByExpiry), so that a
// later V1 renewal into the future lifts it: V1 has no unfreeze for period products.
func (s *Server) handleStatus(ctx context.Context, c *call, p *protocol.UpdateInstanceStatus) (protocol.Response, error) {
	c.instanceID = p.InstanceID
	st := policy.Status{
		Freeze:   p.Status == protocol.StatusFreeze,
		ByExpiry: c.activity == "v1/"+protocol.V1ActivityExpireInstance,
		SentAt:   c.sentAt,
	}
	now := s.clock.Now()
	var d policy.Decision
	ti, wrote, err := s.mutateInstance(ctx, p.InstanceID, c.testFlag, func(ti *tenantryv1alpha1.TenantInstance) error {
		d = policy.DecideStatus(&ti.Spec, st, now, s.freezeHorizon)
		if c.ignored = d.Ignored; d.Ignored == "" {
			ti.Spec = *d.Spec
		}
		return nil
	})
	if err != nil {
		return s.debugOr(ctx, c, ti, success(), err)
	}
	switch {
	case c.ignored == policy.ReasonStaleFreeze && !c.testFlag:
		renewed := ti.Spec.Marketplace.RenewedAt.Time
		logr.FromContextOrDiscard(ctx).Info("Ignoring a FREEZE presumed to be a late resend from before the last renewal",
			"instanceId", ti.Name, "renewedAt", renewed.UTC(), "renewalOrderId", ti.Spec.Marketplace.ExpiryOrderID)
		s.event(ti, warning, ReasonStaleFreezeIgnored, "Freeze",
			"Ignored a FREEZE sent %s after renewal order %q moved the expiry into the future; it is presumed to be a resend of a freeze sent before the renewal",
			c.sentAt.Sub(renewed).Round(time.Second), ti.Spec.Marketplace.ExpiryOrderID)
	case wrote && d.Has(policy.EffectFrozen) && st.ByExpiry:
		s.event(ti, normal, ReasonMarketplaceFreeze, "Freeze", "Frozen by a V1 expireInstance; data is kept, and a V1 renewal into the future unfreezes")
	case wrote && d.Has(policy.EffectFrozen):
		s.event(ti, normal, ReasonMarketplaceFreeze, "Freeze", "Frozen by the marketplace; data is kept")
	case wrote && d.Has(policy.EffectUnfrozen):
		s.event(ti, normal, ReasonMarketplaceUnfreeze, "Unfreeze", "Unfrozen by the marketplace")
	}
	return success(), nil
}
