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

package webhookbridge_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// clockedMarket is a bridge on a fake clock and a marketplace whose calls are sent at the
// bridge's current time: send(offset) moves the clock to t0+offset and returns a client.
// sentAt(offset) returns a client whose calls were sent at t0+offset without moving the clock:
// a delivery processed later than it was sent (within the verifier's window).
func clockedMarket(t *testing.T, t0 time.Time) (send, sentAt func(offset time.Duration) *simulator.Client) {
	clock := clocktesting.NewFakePassiveClock(t0)
	base := newBridge(t, func(o *webhookbridge.Options) {
		o.Clock = clock
		o.Verifier = &protocol.Verifier{Keys: []string{accessKey}, KitKeys: []string{kitKey}, Now: clock.Now,
			Nonces: protocol.NewNonceCache(0, 0, clock.Now)}
	})
	sentAt = func(offset time.Duration) *simulator.Client { return marketFor(t, base, at(t0.Add(offset))) }
	send = func(offset time.Duration) *simulator.Client {
		clock.SetTime(t0.Add(offset))
		return sentAt(offset)
	}
	return send, sentAt
}

// TestStaleFreezeAfterARenewal: a FREEZE sent before a renewal, failed, and resent within the
// horizon after it never freezes the paid tenant — whether the UNFREEZE is processed before the
// resend, after it, or never sent at all. A FREEZE past the horizon applies.
func TestStaleFreezeAfterARenewal(t *testing.T) {
	integration(t)
	for _, tc := range []struct {
		name string
		// unfreeze is when the UNFREEZE (sent at +3m) is processed: "before" or "after" the
		// resent FREEZE, or "never".
		unfreeze string
		// resend is when the FREEZE is resent.
		resend time.Duration
	}{
		{"UNFREEZE processed before the resend", "before", 40 * time.Minute},
		{"UNFREEZE processed after the resend", "after", 3*time.Minute + 10*time.Second},
		{"no UNFREEZE at all", "never", 40 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			t0 := time.Now().Truncate(time.Millisecond)
			send, sentAt := clockedMarket(t, t0)
			o := newOrder(skuSmall)
			a, err := send(0).Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
			expectCode(g, a, err, protocol.CodeSuccess)
			id := a.InstanceID

			// The renewal (sent at +2m) moves the paid period into the future; the marketplace's
			// FREEZE from before it failed and is resent later, its UNFREEZE was sent at +3m.
			renewal := orders.CreateOrder(simulator.OrderSpec{SKU: skuSmall, OrderType: simulator.OrderTypeRenew})
			a, err = send(2*time.Minute).Renew(ctx, id, renewal.OrderID, renewal.OrderLine[0].OrderLineID, simulator.SceneRenewal, t0.Add(60*24*time.Hour))
			expectCode(g, a, err, protocol.CodeSuccess)
			g.Expect(getInstance(g, id).Spec.Marketplace.RenewedAt.Time).To(BeTemporally("==", t0.Add(2*time.Minute)))
			if tc.unfreeze == "before" {
				a, err = send(3*time.Minute).Unfreeze(ctx, id)
				expectCode(g, a, err, protocol.CodeSuccess)
			}
			stale := events.count(id, webhookbridge.ReasonStaleFreezeIgnored)
			a, err = send(tc.resend).Freeze(ctx, id)
			expectCode(g, a, err, protocol.CodeSuccess)
			g.Expect(getInstance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleActive))
			g.Expect(events.count(id, webhookbridge.ReasonStaleFreezeIgnored)).To(Equal(stale + 1))
			if tc.unfreeze == "after" {
				a, err = sentAt(3*time.Minute).Unfreeze(ctx, id)
				expectCode(g, a, err, protocol.CodeSuccess)
			}
			g.Expect(getInstance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleActive))

			// Past the two-hour horizon a FREEZE is a real one.
			a, err = send(2*time.Minute+2*time.Hour).Freeze(ctx, id)
			expectCode(g, a, err, protocol.CodeSuccess)
			g.Expect(getInstance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleFrozen))
		})
	}
}

// TestStaleFreezeProcessedBeforeItsRenewal: the resent FREEZE reaches the bridge before the
// renewal it followed (another replica was slow); the renewal lifts it.
func TestStaleFreezeProcessedBeforeItsRenewal(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Millisecond)
	send, sentAt := clockedMarket(t, t0)
	o := newOrder(skuSmall)
	a, err := send(0).Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	id := a.InstanceID
	renewal := orders.CreateOrder(simulator.OrderSpec{SKU: skuSmall, OrderType: simulator.OrderTypeRenew})

	// The renewal is sent at +2m and the resent FREEZE at +2m30s; the FREEZE is processed first.
	a, err = send(2*time.Minute+30*time.Second).Freeze(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleFrozen))
	a, err = sentAt(2*time.Minute).Renew(ctx, id, renewal.OrderID, renewal.OrderLine[0].OrderLineID, simulator.SceneRenewal, t0.Add(60*24*time.Hour))
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleActive))
}

// TestV1ExpireThenRenewalUnfreezes: V1 has no unfreeze for period products, so a V1 renewal that
// moves the expiry into the future lifts the freeze of an earlier expireInstance.
func TestV1ExpireThenRenewalUnfreezes(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Millisecond)
	send, _ := clockedMarket(t, t0)
	orderID := "CSV1EXP" + nonce()[:10]
	a, err := send(0).V1(ctx, v1Params("activity", "newInstance", "orderId", orderID, "businessId", nonce(),
		"customerId", "cust-v1", "productId", "00301-333333-0--0", "skuCode", skuSmall,
		"expireTime", t0.Add(time.Hour).UTC().Format("20060102150405")))
	expectCode(g, a, err, protocol.CodeSuccess)
	id := a.InstanceID

	a, err = send(2*time.Hour).V1(ctx, v1Params("activity", "expireInstance", "instanceId", id))
	expectCode(g, a, err, protocol.CodeSuccess)
	ti := getInstance(g, id)
	g.Expect(ti.Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleFrozen))
	g.Expect(ti.Spec.Marketplace.FrozenByExpiry).To(BeTrue())

	// A V1 renewal into the past leaves it frozen; one into the future lifts the freeze.
	a, err = send(3*time.Hour).V1(ctx, v1Params("activity", "refreshInstance", "instanceId", id, "orderId", orderID+"R1",
		"expireTime", t0.Add(150*time.Minute).UTC().Format("20060102150405")))
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleFrozen))
	a, err = send(4*time.Hour).V1(ctx, v1Params("activity", "refreshInstance", "instanceId", id, "orderId", orderID+"R2",
		"expireTime", t0.Add(90*24*time.Hour).UTC().Format("20060102150405")))
	expectCode(g, a, err, protocol.CodeSuccess)
	ti = getInstance(g, id)
	g.Expect(ti.Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleActive))
	g.Expect(ti.Spec.Marketplace.FrozenByExpiry).To(BeFalse())
	g.Expect(ti.Spec.Marketplace.LifecycleSetAt.Time).To(BeTemporally("==", t0.Add(4*time.Hour)))
	g.Expect(events.reasons(id)).To(ContainElement(webhookbridge.ReasonMarketplaceUnfreeze))
}

// TestV1SaasExtendParamsDomain: the Dedicated-domain parameter in a V1 call's saasExtendParams
// buys a Dedicated tenant, as Order Query's extendParams do for V2.
func TestV1SaasExtendParamsDomain(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	buyV1 := func(params string) (*simulator.Answer, error) {
		return market(t).V1(ctx, v1Params("activity", "newInstance", "orderId", "CSV1DOM"+nonce()[:10], "businessId", nonce(),
			"customerId", "cust-v1", "productId", "00301-333333-0--0", "skuCode", skuSmall, "saasExtendParams", params))
	}
	a, err := buyV1(`[{"name":"domain","value":"Shop.Example.org"}]`)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, a.InstanceID).Spec.Domain).To(Equal(tenantryv1alpha1.TenantDomain{Type: tenantryv1alpha1.DomainDedicated, Host: "shop.example.org"}))

	before := snapshot(g)
	a, err = buyV1(`[{"name":"domain","value":"*.example.org"}]`)
	expectCode(g, a, err, protocol.CodeInvalidParam)
	g.Expect(snapshot(g)).To(Equal(before))
}
