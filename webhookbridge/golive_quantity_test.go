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
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/orderquery"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// fixedOrders is an Order Query that knows exactly the orders a test gives it, for order
// shapes the simulator does not make (several lines, odd linearValues).
type fixedOrders struct {
	mu     sync.Mutex
	orders map[string]*orderquery.Order
}

func (f *fixedOrders) add(o *orderquery.Order) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.orders == nil {
		f.orders = map[string]*orderquery.Order{}
	}
	f.orders[o.OrderID] = o
}

func (f *fixedOrders) Query(_ context.Context, orderID, _ string) (*orderquery.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[orderID]
	if !ok {
		return nil, fmt.Errorf("order %q: %w", orderID, orderquery.ErrNotFound)
	}
	return o, nil
}

// fixedOrder is an order of one customer whose lines each buy one product.
func fixedOrder(mode string, lines ...orderquery.Product) *orderquery.Order {
	id := "CSFIXED" + nonce()[:10]
	o := &orderquery.Order{OrderID: id, OrderType: "NEW", Buyer: orderquery.Buyer{CustomerID: "cust-fixed", CustomerName: "Fixed Co"}}
	for i, p := range lines {
		o.Lines = append(o.Lines, orderquery.OrderLine{OrderLineID: fmt.Sprintf("%s-%06d", id, i+1), ChargingMode: mode,
			Products: []orderquery.Product{p}})
	}
	return o
}

func TestPayPerUseOrderYieldsOneInstancePerProduct(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	fixed := &fixedOrders{}
	c := marketFor(t, newBridge(t, func(o *webhookbridge.Options) { o.Orders = fixed }))
	o := fixedOrder("ON_DEMAND",
		orderquery.Product{ProductID: "p-od", SkuCode: skuSmall},
		orderquery.Product{ProductID: "p-od", SkuCode: skuSmall},
		orderquery.Product{ProductID: "p-other", SkuCode: skuLarge})
	fixed.add(o)
	want := webhookbridge.PayPerUseInstanceName(o.OrderID, "p-od")

	for _, line := range []string{o.Lines[0].OrderLineID, o.Lines[1].OrderLineID, o.Lines[0].OrderLineID} {
		a, err := c.Buy(ctx, o.OrderID, line, false)
		expectCode(g, a, err, protocol.CodeSuccess)
		g.Expect(a.InstanceID).To(Equal(want), "line %s", line)
	}
	a, err := c.Buy(ctx, o.OrderID, o.Lines[2].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	other := a.InstanceID
	g.Expect(other).To(Equal(webhookbridge.PayPerUseInstanceName(o.OrderID, "p-other")))

	var list tenantryv1alpha1.TenantInstanceList
	g.Expect(k8s.List(ctx, &list, client.MatchingLabels{webhookbridge.LabelOrderID: o.OrderID})).To(Succeed())
	g.Expect(list.Items).To(HaveLen(2), "one instance per product")
	ti := getInstance(g, want)
	g.Expect(ti.Spec.Order.ChargingMode).To(Equal(tenantryv1alpha1.ChargingOnDemand))
	g.Expect(ti.Spec.Order.OrderLineID).To(Equal(o.Lines[0].OrderLineID))
	g.Expect(ti.Spec.ProductID).To(Equal("p-od"))
	g.Expect(events.count(want, webhookbridge.ReasonMarketplaceNewInstance)).To(Equal(1))

	// A period order keeps its (orderId, orderLineId) key.
	period := fixedOrder("PERIOD", orderquery.Product{ProductID: "p-od", SkuCode: skuSmall}, orderquery.Product{ProductID: "p-od", SkuCode: skuSmall})
	fixed.add(period)
	for _, line := range period.Lines {
		a, err := c.Buy(ctx, period.OrderID, line.OrderLineID, false)
		expectCode(g, a, err, protocol.CodeSuccess)
		g.Expect(a.InstanceID).To(Equal(webhookbridge.InstanceName(period.OrderID, line.OrderLineID)))
	}
}

func TestQuantityFromLinearValue(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, o := buy(t, skuSmall, func(s *simulator.OrderSpec) { s.LinearValue = 5 })
	now := time.Now().Truncate(time.Millisecond)
	ti := getInstance(g, id)
	g.Expect(ti.Spec.Quantity).To(Equal(int32(5)))
	g.Expect(ti.Spec.Marketplace.QuantitySetAt).NotTo(BeNil())

	// Same SKU, a new linearValue: a scale-out, written before the answer.
	scale := orders.CreateOrder(simulator.OrderSpec{SKU: skuSmall, OrderType: simulator.OrderTypeChange, LinearValue: 12, CustomerID: o.BuyerInfo.CustomerID})
	a, err := market(t, at(now)).Upgrade(ctx, id, scale.OrderID, scale.OrderLine[0].OrderLineID)
	expectCode(g, a, err, protocol.CodeSuccess)
	ti = getInstance(g, id)
	g.Expect(ti.Spec.SKU).To(Equal(skuSmall))
	g.Expect(ti.Spec.Quantity).To(Equal(int32(12)))
	g.Expect(ti.Spec.Marketplace.QuantitySetAt.Time).To(BeTemporally("==", now))
	g.Expect(events.reasons(id)).To(ContainElement(webhookbridge.ReasonMarketplaceUpgrade))

	// A linearValue that is no quantity: 000002 with a message saying so, nothing written.
	fixed := &fixedOrders{}
	c := marketFor(t, newBridge(t, func(o *webhookbridge.Options) { o.Orders = fixed }))
	before := snapshot(g)
	for _, bad := range []string{"2.5", "0", "1000000001"} {
		order := fixedOrder("PERIOD", orderquery.Product{ProductID: "p", SkuCode: skuSmall, LinearValue: bad})
		fixed.add(order)
		a, err := c.Buy(ctx, order.OrderID, order.Lines[0].OrderLineID, false)
		expectCode(g, a, err, protocol.CodeInvalidParam)
		g.Expect(a.ResultMsg).To(ContainSubstring("linearValue"), "linearValue %q", bad)
		a, err = c.Upgrade(ctx, id, order.OrderID, order.Lines[0].OrderLineID)
		expectCode(g, a, err, protocol.CodeInvalidParam)
		g.Expect(a.ResultMsg).To(ContainSubstring("linearValue"), "linearValue %q", bad)
	}
	g.Expect(snapshot(g)).To(Equal(before))
}

func TestChangeInstanceCheckJudgesSKUAndQuantity(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	const skuLinear = "tenantry.linear"
	p := plan("plan-linear", "1", "1Gi", skuLinear)
	p.Spec.PerUnit = &tenantryv1alpha1.PerUnitScaling{Quota: corev1.ResourceList{corev1.ResourceRequestsCPU: resource.MustParse("1")}}
	g.Expect(k8s.Create(ctx, p)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), p) })
	id, _ := buy(t, skuLinear, func(s *simulator.OrderSpec) { s.LinearValue = 4 })

	ns := tenantryv1alpha1.NamespaceName(id)
	g.Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	rq := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tenantryv1alpha1.QuotaName},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceRequestsCPU: resource.MustParse("4")}}}
	g.Expect(k8s.Create(ctx, rq)).To(Succeed())
	rq.Status.Hard = rq.Spec.Hard
	rq.Status.Used = corev1.ResourceList{corev1.ResourceRequestsCPU: resource.MustParse("3")}
	g.Expect(k8s.Status().Update(ctx, rq)).To(Succeed())
	before := snapshot(g)
	c := market(t)

	a, err := c.ChangeCheck(ctx, id, "p", skuLinear, 2) // 2 CPUs for quantity 2
	expectCode(g, a, err, protocol.CodeNoResource)
	g.Expect(a.ResultMsg).To(ContainSubstring("requests.cpu"))
	a, err = c.ChangeCheck(ctx, id, "p", skuLinear, 3) // 3 CPUs for quantity 3
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = c.ChangeCheck(ctx, id, "p", skuLinear, 0) // no linearValue: quantity 1
	expectCode(g, a, err, protocol.CodeNoResource)
	a, err = c.ChangeCheck(ctx, id, "p", skuLarge, 0) // 8 CPUs
	expectCode(g, a, err, protocol.CodeSuccess)

	body := []byte(fmt.Sprintf(`{"activity":"changeInstanceCheck","instanceId":%q,"productInfo":{"productId":"p","skuCode":%q,"linearValue":"2.5"},"testFlag":"0"}`, id, skuLinear))
	a, err = c.Call(ctx, body)
	expectCode(g, a, err, protocol.CodeInvalidParam)
	g.Expect(a.ResultMsg).To(ContainSubstring("not a whole number"))

	// The debug check answers as on success, and reports the misfit.
	found := preflightCount(g, "no_resource")
	a, err = market(t, testFlag).ChangeCheck(ctx, id, "p", skuLinear, 2)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(preflightCount(g, "no_resource")).To(Equal(found + 1))
	g.Expect(snapshot(g)).To(Equal(before), "a check changes nothing")
}

func TestRenewalChangeRecordsAPendingChange(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, o := buy(t, skuSmall)
	expiryBefore := getInstance(g, id).Spec.ExpiresAt.DeepCopy()
	now := time.Now().Truncate(time.Millisecond)
	renewed := time.Now().UTC().Add(400 * 24 * time.Hour).Truncate(time.Second)
	change := orders.CreateOrder(simulator.OrderSpec{SKU: skuLarge, ProductID: "00301-999999-0--0", LinearValue: 4,
		OrderType: simulator.OrderTypeRenew, CustomerID: o.BuyerInfo.CustomerID})
	line := change.OrderLine[0].OrderLineID

	// Order Query unreachable: 000005, nothing written; the marketplace resends.
	before := snapshot(g)
	orders.SetFailure(simulator.Failure{HTTPStatus: http.StatusServiceUnavailable})
	a, err := market(t, at(now)).Renew(ctx, id, change.OrderID, line, simulator.SceneRenewalChange, renewed)
	orders.SetFailure(simulator.Failure{})
	expectCode(g, a, err, protocol.CodeInternalError)
	g.Expect(snapshot(g)).To(Equal(before))

	a, err = market(t, at(now.Add(time.Second))).Renew(ctx, id, change.OrderID, line, simulator.SceneRenewalChange, renewed)
	expectCode(g, a, err, protocol.CodeSuccess)
	ti := getInstance(g, id)
	g.Expect(ti.Spec.ExpiresAt.Time).To(BeTemporally("==", renewed))
	g.Expect(ti.Spec.SKU).To(Equal(skuSmall), "the change waits for the renewed period")
	pc := ti.Spec.PendingChange
	g.Expect(pc).NotTo(BeNil())
	g.Expect([]any{pc.SKU, pc.Quantity, pc.ProductID, pc.OrderID}).To(Equal([]any{skuLarge, int32(4), "00301-999999-0--0", change.OrderID}))
	g.Expect(pc.EffectiveAt.Time).To(BeTemporally("==", expiryBefore.Time), "effective when the paid period before the renewal ends")
	g.Expect(events.reasons(id)).To(ContainElement(webhookbridge.ReasonMarketplaceChangePending))

	// Its resend changes nothing and asks Order Query nothing.
	before = snapshot(g)
	orders.SetFailure(simulator.Failure{HTTPStatus: http.StatusServiceUnavailable})
	a, err = market(t, at(now.Add(2*time.Second))).Renew(ctx, id, change.OrderID, line, simulator.SceneRenewalChange, renewed)
	orders.SetFailure(simulator.Failure{})
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(snapshot(g)).To(Equal(before))
}
