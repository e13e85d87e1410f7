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

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// TestRenewalResentAfterANewerOneChangesNothing: R1, then R2, then a resend of R1 (a fresh
// send time, so ordering alone would apply it) keeps R2's expiry; a refund of R2 is another
// (orderId, scene) pair and applies.
func TestRenewalResentAfterANewerOneChangesNothing(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	now := time.Now().Truncate(time.Millisecond)
	r1 := orders.CreateOrder(simulator.OrderSpec{SKU: skuSmall, OrderType: simulator.OrderTypeRenew})
	r2 := orders.CreateOrder(simulator.OrderSpec{SKU: skuSmall, OrderType: simulator.OrderTypeRenew})
	e1 := time.Now().UTC().Add(60 * 24 * time.Hour).Truncate(time.Second)
	e2 := time.Now().UTC().Add(90 * 24 * time.Hour).Truncate(time.Second)
	renew := func(sent time.Duration, o simulator.Order, scene string, expires time.Time) {
		a, err := market(t, at(now.Add(sent))).Renew(ctx, id, o.OrderID, o.OrderLine[0].OrderLineID, scene, expires)
		expectCode(g, a, err, protocol.CodeSuccess)
	}

	renew(time.Second, r1, simulator.SceneRenewal, e1)
	renew(2*time.Second, r2, simulator.SceneRenewal, e2)
	before := snapshot(g)
	ignored := metricValue(g, "tenantry_bridge_ignored_calls_total", "reason", "already_applied")
	renew(3*time.Second, r1, simulator.SceneRenewal, e1)
	g.Expect(snapshot(g)).To(Equal(before), "the resend of R1 changes nothing")
	ti := getInstance(g, id)
	g.Expect(ti.Spec.ExpiresAt.Time).To(BeTemporally("==", e2))
	g.Expect(ti.Spec.Marketplace.ExpiryOrderID).To(Equal(r2.OrderID))
	g.Expect(metricValue(g, "tenantry_bridge_ignored_calls_total", "reason", "already_applied")).To(Equal(ignored + 1))

	renew(4*time.Second, r2, simulator.SceneUnsubscribeRenew, e1)
	ti = getInstance(g, id)
	g.Expect(ti.Spec.ExpiresAt.Time).To(BeTemporally("==", e1), "the refund of R2 applies")
	g.Expect(ti.Spec.Marketplace.RenewedAt).To(BeNil(), "a refund disarms the stale-FREEZE guard")
	var pairs []string
	for _, o := range ti.Spec.Marketplace.AppliedOrders {
		pairs = append(pairs, o.OrderID+"/"+string(o.Scene))
	}
	g.Expect(pairs).To(Equal([]string{r1.OrderID + "/RENEWAL", r2.OrderID + "/RENEWAL", r2.OrderID + "/UNSUBSCRIBE_RENEWAL_PERIOD"}))
}

// TestUpgradeResentAfterANewerOneChangesNothing: U1, then U2, then a resend of U1 keeps U2's SKU.
func TestUpgradeResentAfterANewerOneChangesNothing(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, o := buy(t, skuSmall)
	now := time.Now().Truncate(time.Millisecond)
	u1 := orders.CreateOrder(simulator.OrderSpec{SKU: skuLarge, OrderType: simulator.OrderTypeChange, CustomerID: o.BuyerInfo.CustomerID})
	u2 := orders.CreateOrder(simulator.OrderSpec{SKU: skuSmall, OrderType: simulator.OrderTypeChange, CustomerID: o.BuyerInfo.CustomerID, LinearValue: 3})
	upgrade := func(sent time.Duration, u simulator.Order) {
		a, err := market(t, at(now.Add(sent))).Upgrade(ctx, id, u.OrderID, u.OrderLine[0].OrderLineID)
		expectCode(g, a, err, protocol.CodeSuccess)
	}

	upgrade(time.Second, u1)
	g.Expect(getInstance(g, id).Spec.SKU).To(Equal(skuLarge))
	upgrade(2*time.Second, u2)
	before := snapshot(g)
	upgrade(3*time.Second, u1)
	g.Expect(snapshot(g)).To(Equal(before), "the resend of U1 changes nothing")
	ti := getInstance(g, id)
	g.Expect(ti.Spec.SKU).To(Equal(skuSmall))
	g.Expect(ti.Spec.Quantity).To(Equal(int32(3)))
	g.Expect(ti.Spec.Marketplace.SKUOrderID).To(Equal(u2.OrderID))
	g.Expect(ti.Spec.Marketplace.AppliedOrders).To(HaveLen(2))
	g.Expect(ti.Spec.Marketplace.AppliedOrders[1]).To(HaveField("Scene", tenantryv1alpha1.SceneUpgrade))
}
