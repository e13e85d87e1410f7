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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/policy"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// preflightCount reads tenantry_bridge_preflight_findings_total for one reason.
func preflightCount(g Gomega, reason string) float64 {
	return metricValue(g, "tenantry_bridge_preflight_findings_total", "reason", reason)
}

// TestDebugChainCreatesNothing runs the console's debug tool as it chains its calls: the
// instanceId of a debug newInstance (of the documented mock order) is used in every later debug
// call, each is answered 000000, and nothing is created, changed or deleted.
func TestDebugChainCreatesNothing(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	c := market(t, testFlag)
	const mock = "MOCKPERIODYEARNEW"
	before := snapshot(g)
	notFound := preflightCount(g, "instance_not_found")

	a, err := c.Buy(ctx, mock, mock+"-000001", true)
	expectCode(g, a, err, protocol.CodeSuccess)
	id := a.InstanceID
	g.Expect(id).To(Equal(webhookbridge.InstanceName(mock, mock+"-000001")))
	a, err = c.Buy(ctx, mock, mock+"-000001", true)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.InstanceID).To(Equal(id), "the same instanceId every time")

	renewal := orders.CreateOrder(simulator.OrderSpec{SKU: skuSmall, OrderType: simulator.OrderTypeRenew})
	upgrade := orders.CreateOrder(simulator.OrderSpec{SKU: skuLarge, OrderType: simulator.OrderTypeChange, LinearValue: 5})
	for name, call := range map[string]func() (*simulator.Answer, error){
		"renewal": func() (*simulator.Answer, error) {
			return c.Renew(ctx, id, renewal.OrderID, renewal.OrderLine[0].OrderLineID, simulator.SceneRenewal, time.Now().Add(400*24*time.Hour))
		},
		"renewal change": func() (*simulator.Answer, error) {
			return c.Renew(ctx, id, "MOCKMONTYCHANGE", "MOCKMONTYCHANGE-000001", simulator.SceneRenewalChange, time.Now().Add(400*24*time.Hour))
		},
		"freeze":   func() (*simulator.Answer, error) { return c.Freeze(ctx, id) },
		"unfreeze": func() (*simulator.Answer, error) { return c.Unfreeze(ctx, id) },
		"upgrade": func() (*simulator.Answer, error) {
			return c.Upgrade(ctx, id, upgrade.OrderID, upgrade.OrderLine[0].OrderLineID)
		},
		"change check": func() (*simulator.Answer, error) { return c.ChangeCheck(ctx, id, "p", skuLarge, 3) },
		"release":      func() (*simulator.Answer, error) { return c.Release(ctx, id) },
	} {
		a, err := call()
		g.Expect(err).NotTo(HaveOccurred(), name)
		g.Expect(a.ResultCode).To(Equal(protocol.CodeSuccess), "%s: %s", name, a.Raw)
	}

	a, err = c.Query(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.Info).To(HaveLen(1))
	g.Expect(a.Info[0].InstanceID).To(Equal(id))
	g.Expect(a.Info[0].AppInfo.FrontEndURL).To(Equal("https://debug.invalid/" + id))
	g.Expect(a.Info[0].AppInfo.Memo).To(Equal(policy.DebugMemo))

	g.Expect(snapshot(g)).To(Equal(before), "a debug chain creates, changes and deletes nothing")
	g.Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: id}, &tenantryv1alpha1.TenantInstance{}))).To(BeTrue())
	// renewal, renewal change, freeze, unfreeze, upgrade, change check and query each found no instance.
	g.Expect(preflightCount(g, "instance_not_found")).To(Equal(notFound + 7))
}

// TestDebugPurchasesAnswerAsOnSuccess shows a debug purchase that a real one would have refused
// — an order Order Query does not know, a SKU no plan serves, an invalid quantity or domain —
// answered 000000 with the order's stable instanceId, and the refusal counted as a pre-flight
// finding by reason.
func TestDebugPurchasesAnswerAsOnSuccess(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	c := market(t, testFlag)
	before := snapshot(g)

	for _, tc := range []struct {
		name, reason string
		order        func() (string, string)
	}{
		{"unknown order", "order_not_found", func() (string, string) { return "CSUNKNOWN" + nonce()[:8], "CSUNKNOWN-000001" }},
		{"unknown SKU", "unknown_sku", func() (string, string) {
			o := newOrder(skuNone)
			return o.OrderID, o.OrderLine[0].OrderLineID
		}},
		{"invalid domain", "invalid_domain", func() (string, string) {
			o := newOrder(skuSmall, withDomain("*.example.com"))
			return o.OrderID, o.OrderLine[0].OrderLineID
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			orderID, lineID := tc.order()
			found := preflightCount(g, tc.reason)
			a, err := c.Buy(ctx, orderID, lineID, true)
			expectCode(g, a, err, protocol.CodeSuccess)
			g.Expect(a.InstanceID).To(Equal(webhookbridge.InstanceName(orderID, lineID)))
			g.Expect(preflightCount(g, tc.reason)).To(Equal(found+1), "finding %s counted", tc.reason)
		})
	}

	// The real purchase of the unknown SKU is refused as before.
	o := newOrder(skuNone)
	a, err := market(t).Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeInternalError)
	g.Expect(snapshot(g)).To(Equal(before))
}

// TestDebugCallsOnARealInstance: debug calls about an instance that exists answer as on success,
// report what the real call would refuse as an Event on it, and change nothing.
func TestDebugCallsOnARealInstance(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	c := market(t, testFlag)
	before := snapshot(g)

	// Not provisioned yet: a debug query still answers a filled entry.
	a, err := c.Query(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.Info).To(HaveLen(1))
	g.Expect(a.Info[0].AppInfo.FrontEndURL).To(HavePrefix("https://debug.invalid/"))

	// An upgrade to a SKU no plan serves: 000000, and a finding on the instance.
	unserved := orders.CreateOrder(simulator.OrderSpec{SKU: skuNone, OrderType: simulator.OrderTypeChange})
	a, err = c.Upgrade(ctx, id, unserved.OrderID, unserved.OrderLine[0].OrderLineID)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(events.count(id, webhookbridge.ReasonPreflightFinding)).To(Equal(1))

	// A renewal with a change whose order Order Query does not know.
	a, err = c.Renew(ctx, id, "CSNOSUCHORDER", "CSNOSUCHORDER-000001", simulator.SceneRenewalChange, time.Now().Add(90*24*time.Hour))
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(events.count(id, webhookbridge.ReasonPreflightFinding)).To(Equal(2))
	g.Expect(snapshot(g)).To(Equal(before))
}
