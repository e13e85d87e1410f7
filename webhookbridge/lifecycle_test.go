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
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

func TestNewInstanceCreatesTheTenantInstance(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	sent := time.Now().Truncate(time.Millisecond)
	o := newOrder(skuSmall, func(s *simulator.OrderSpec) { s.PeriodType, s.PeriodNumber = "month", 3 })
	line := o.OrderLine[0]

	a, err := market(t, at(sent)).Buy(context.Background(), o.OrderID, line.OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.InstanceID).To(Equal(webhookbridge.InstanceName(o.OrderID, line.OrderLineID)))

	ti := getInstance(g, a.InstanceID)
	expires, err := time.Parse("20060102150405", line.ExpireTime)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ti.Labels).To(HaveKeyWithValue(webhookbridge.LabelOrderID, o.OrderID))
	g.Expect(ti.Spec.SKU).To(Equal(skuSmall))
	g.Expect(ti.Spec.ProductID).To(Equal("00301-111111-0--0"))
	g.Expect(ti.Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleActive))
	g.Expect(ti.Spec.ExpiresAt.Time).To(BeTemporally("==", expires))
	g.Expect(ti.Spec.Order).To(Equal(tenantryv1alpha1.Order{
		OrderID: o.OrderID, OrderLineID: line.OrderLineID, ChargingMode: tenantryv1alpha1.ChargingPeriod,
		PeriodType: "month", PeriodNumber: 3,
	}))
	// The buyer's name is personal data: kept only when the plan asks (TestCustomerNameOnlyWhenThePlanAsks).
	g.Expect(ti.Spec.Customer).To(Equal(&tenantryv1alpha1.Customer{CustomerID: o.BuyerInfo.CustomerID}))
	g.Expect(ti.Spec.Tenant).To(BeNil())
	m := ti.Spec.Marketplace
	g.Expect(m.LifecycleSetAt.Time).To(BeTemporally("==", sent))
	g.Expect(m.ExpirySetAt.Time).To(BeTemporally("==", sent))
	g.Expect(m.SKUSetAt.Time).To(BeTemporally("==", sent))
	g.Expect(m.QuantitySetAt.Time).To(BeTemporally("==", sent))
	g.Expect(m.ExpiryOrderID).To(BeEmpty())
	g.Expect(ti.Spec.Quantity).To(Equal(int32(1)), "no linearValue: quantity 1")
	g.Expect(ti.Status).To(Equal(tenantryv1alpha1.TenantInstanceStatus{}), "the bridge never writes status")
	g.Expect(events.reasons(ti.Name)).To(ConsistOf(webhookbridge.ReasonMarketplaceNewInstance))
}

func TestNewInstanceTrialAndPayPerUse(t *testing.T) {
	integration(t)
	g := NewWithT(t)

	trial, _ := buy(t, skuSmall, func(s *simulator.OrderSpec) { s.OrderType = simulator.OrderTypeTrial })
	g.Expect(getInstance(g, trial).Spec.Order.Trial).To(BeTrue())

	// A pay-per-use purchase is keyed on (orderId, productId).
	o := newOrder(skuSmall, func(s *simulator.OrderSpec) {
		s.ChargingMode, s.ExpireTime = simulator.ChargingOnDemand, time.Time{}
	})
	a, err := market(t).Buy(context.Background(), o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.InstanceID).To(Equal(webhookbridge.PayPerUseInstanceName(o.OrderID, o.OrderLine[0].ProductInfo[0].ProductID)))
	ti := getInstance(g, a.InstanceID)
	g.Expect(ti.Spec.ExpiresAt).To(BeNil())
	g.Expect(ti.Spec.Order.ChargingMode).To(Equal(tenantryv1alpha1.ChargingOnDemand))
	g.Expect(ti.Spec.Order.Trial).To(BeFalse())
}

func TestNewInstanceResendsYieldOneInstance(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	o := newOrder(skuSmall)
	line := o.OrderLine[0].OrderLineID
	want := webhookbridge.InstanceName(o.OrderID, line)

	// 100 resends, each with a fresh businessId and nonce, five at a time.
	var wg sync.WaitGroup
	answers := make(chan *simulator.Answer, 100)
	errs := make(chan error, 100)
	sem := make(chan struct{}, 5)
	for range 100 {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			a, err := market(t).Buy(context.Background(), o.OrderID, line, false)
			answers <- a
			errs <- err
		})
	}
	wg.Wait()
	close(answers)
	close(errs)
	for err := range errs {
		g.Expect(err).NotTo(HaveOccurred())
	}
	for a := range answers {
		g.Expect(a.ResultCode).To(Equal(protocol.CodeSuccess), "answer %s", a.Raw)
		g.Expect(a.InstanceID).To(Equal(want))
	}
	var list tenantryv1alpha1.TenantInstanceList
	g.Expect(k8s.List(context.Background(), &list, client.MatchingLabels{webhookbridge.LabelOrderID: o.OrderID})).To(Succeed())
	g.Expect(list.Items).To(HaveLen(1))
	g.Expect(list.Items[0].Name).To(Equal(want))
	g.Expect(events.count(want, webhookbridge.ReasonMarketplaceNewInstance)).To(Equal(1))
}

func TestQueryInstance(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	other, _ := buy(t, skuSmall)
	c := market(t)

	// Known but not provisioned yet.
	a, err := c.Query(ctx, id)
	expectCode(g, a, err, protocol.CodeInProgress)

	// URL known, admin account not yet.
	makeReady(g, id, false)
	a, err = c.Query(ctx, id, other, "ti-00000000000000000000")
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.Info).To(HaveLen(1), "unknown and unprovisioned ids are left out")
	g.Expect(a.Info[0].InstanceID).To(Equal(id))
	g.Expect(a.Info[0].AppInfo.FrontEndURL).To(Equal("https://" + id + ".apps.example.com"))
	g.Expect(a.Info[0].AppInfo.AdminURL).To(Equal("https://" + id + ".apps.example.com/admin"))
	g.Expect(a.Info[0].AppInfo.UserName).To(BeEmpty())

	// With the admin account.
	makeReadySecretOnly(g, id)
	a, err = c.Query(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	info := a.Info[0].AppInfo
	g.Expect(info.UserName).To(Equal("admin"))
	g.Expect(info.Password).To(Equal("S3cret-Passw0rd"))
	g.Expect(info.Memo).To(ContainSubstring("请使用"))
	g.Expect(string(a.Raw)).To(ContainSubstring(`\u8bf7`), "non-ASCII is escaped on the wire")
	for _, b := range a.Raw {
		g.Expect(b).To(BeNumerically("<", 0x80))
	}

	// Only unknown ids.
	a, err = c.Query(ctx, "ti-00000000000000000000", "not/a-name")
	expectCode(g, a, err, protocol.CodeInstanceNotFound)
}

func makeReadySecretOnly(g Gomega, name string) {
	ctx := context.Background()
	ns := tenantryv1alpha1.NamespaceName(name)
	g.ExpectWithOffset(1, client.IgnoreAlreadyExists(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))).To(Succeed())
	g.ExpectWithOffset(1, k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tenantryv1alpha1.AdminSecretName},
		Type:       corev1.SecretTypeBasicAuth,
		StringData: map[string]string{"username": "admin", "password": "S3cret-Passw0rd"},
	})).To(Succeed())
}

func TestRefreshInstance(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall, func(s *simulator.OrderSpec) { s.OrderType = simulator.OrderTypeTrial })
	now := time.Now().Truncate(time.Millisecond)
	renewal := orders.CreateOrder(simulator.OrderSpec{SKU: skuSmall, OrderType: simulator.OrderTypeRenew})
	line := renewal.OrderLine[0].OrderLineID
	later := time.Now().UTC().Add(365 * 24 * time.Hour).Truncate(time.Second)

	a, err := market(t, at(now)).Renew(ctx, id, renewal.OrderID, line, simulator.SceneRenewal, later)
	expectCode(g, a, err, protocol.CodeSuccess)
	ti := getInstance(g, id)
	g.Expect(ti.Spec.ExpiresAt.Time).To(BeTemporally("==", later))
	g.Expect(ti.Spec.Marketplace.ExpiryOrderID).To(Equal(renewal.OrderID))
	g.Expect(ti.Spec.Marketplace.ExpirySetAt.Time).To(BeTemporally("==", now))
	g.Expect(ti.Spec.Order.Trial).To(BeTrue(), "a plain renewal keeps the trial flag")
	g.Expect(events.reasons(id)).To(ContainElement(webhookbridge.ReasonMarketplaceRenewal))

	// A resend of the same renewal is an order already applied: nothing changes.
	before := snapshot(g)
	a, err = market(t, at(now.Add(time.Second))).Renew(ctx, id, renewal.OrderID, line, simulator.SceneRenewal, later)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(snapshot(g)).To(Equal(before))

	// A refund moves the expiry earlier.
	earlier := time.Now().UTC().Add(10 * 24 * time.Hour).Truncate(time.Second)
	a, err = market(t, at(now.Add(2*time.Second))).Renew(ctx, id, "REFUND-"+renewal.OrderID, line, simulator.SceneUnsubscribeRenew, earlier)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.ExpiresAt.Time).To(BeTemporally("==", earlier))

	// A delivery sent before the last applied one is ignored.
	before = snapshot(g)
	a, err = market(t, at(now.Add(-time.Second))).Renew(ctx, id, "OLD", line, simulator.SceneRenewal, later.Add(time.Hour))
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(snapshot(g)).To(Equal(before))

	// Trial to formal clears the trial flag.
	a, err = market(t, at(now.Add(3*time.Second))).Renew(ctx, id, "FORMAL-"+renewal.OrderID, line, simulator.SceneTrialToFormal, later)
	expectCode(g, a, err, protocol.CodeSuccess)
	ti = getInstance(g, id)
	g.Expect(ti.Spec.Order.Trial).To(BeFalse())
	g.Expect(ti.Spec.ExpiresAt.Time).To(BeTemporally("==", later))
}

func TestFreezeAndUnfreeze(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	c := market(t)

	a, err := c.Freeze(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleFrozen))
	a, err = c.Freeze(ctx, id) // repeating is success
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleFrozen))

	a, err = c.Unfreeze(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleActive))
	g.Expect(events.count(id, webhookbridge.ReasonMarketplaceFreeze)).To(Equal(1), "events only on a change")
	g.Expect(events.count(id, webhookbridge.ReasonMarketplaceUnfreeze)).To(Equal(1))
}

func TestUpgradeInstance(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, o := buy(t, skuSmall)
	upgrade := orders.CreateOrder(simulator.OrderSpec{SKU: skuLarge, ProductID: "00301-222222-0--0",
		OrderType: simulator.OrderTypeChange, CustomerID: o.BuyerInfo.CustomerID})
	line := upgrade.OrderLine[0].OrderLineID
	now := time.Now().Truncate(time.Millisecond)

	a, err := market(t, at(now)).Upgrade(ctx, id, upgrade.OrderID, line)
	expectCode(g, a, err, protocol.CodeSuccess)
	ti := getInstance(g, id)
	g.Expect(ti.Spec.SKU).To(Equal(skuLarge))
	g.Expect(ti.Spec.ProductID).To(Equal("00301-222222-0--0"))
	g.Expect(ti.Spec.Marketplace.SKUOrderID).To(Equal(upgrade.OrderID))
	g.Expect(ti.Spec.Marketplace.SKUSetAt.Time).To(BeTemporally("==", now))
	g.Expect(events.reasons(id)).To(ContainElement(webhookbridge.ReasonMarketplaceUpgrade))

	// The same upgrade order again: already applied, nothing changes.
	before := snapshot(g)
	a, err = market(t, at(now.Add(time.Second))).Upgrade(ctx, id, upgrade.OrderID, line)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(snapshot(g)).To(Equal(before))

	// An upgrade to a SKU no plan serves: 000005 so the marketplace resends, nothing changes.
	unserved := orders.CreateOrder(simulator.OrderSpec{SKU: skuNone, OrderType: simulator.OrderTypeChange})
	a, err = market(t, at(now.Add(2*time.Second))).Upgrade(ctx, id, unserved.OrderID, unserved.OrderLine[0].OrderLineID)
	expectCode(g, a, err, protocol.CodeInternalError)
	g.Expect(snapshot(g)).To(Equal(before))

	// An older upgrade delivered late is ignored.
	old := orders.CreateOrder(simulator.OrderSpec{SKU: skuSmall, OrderType: simulator.OrderTypeChange})
	a, err = market(t, at(now.Add(-time.Second))).Upgrade(ctx, id, old.OrderID, old.OrderLine[0].OrderLineID)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(snapshot(g)).To(Equal(before))
}

func TestChangeInstanceCheck(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuLarge)
	c := market(t)

	// Nothing provisioned yet: nothing used, anything fits.
	a, err := c.ChangeCheck(ctx, id, "00301-111111-0--0", skuSmall, 0)
	expectCode(g, a, err, protocol.CodeSuccess)

	ns := tenantryv1alpha1.NamespaceName(id)
	g.Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	rq := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tenantryv1alpha1.QuotaName},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourceRequestsCPU: resource.MustParse("8"), corev1.ResourceRequestsMemory: resource.MustParse("16Gi"),
		}},
	}
	g.Expect(k8s.Create(ctx, rq)).To(Succeed())
	rq.Status.Hard = rq.Spec.Hard
	rq.Status.Used = corev1.ResourceList{
		corev1.ResourceRequestsCPU: resource.MustParse("3"), corev1.ResourceRequestsMemory: resource.MustParse("1Gi"),
	}
	g.Expect(k8s.Status().Update(ctx, rq)).To(Succeed())
	before := snapshot(g)

	a, err = c.ChangeCheck(ctx, id, "00301-111111-0--0", skuSmall, 0)
	expectCode(g, a, err, protocol.CodeNoResource)
	g.Expect(a.ResultMsg).To(ContainSubstring("requests.cpu"))
	g.Expect(a.ResultMsg).NotTo(ContainSubstring("requests.memory"))

	a, err = c.ChangeCheck(ctx, id, "00301-111111-0--0", skuLarge, 0)
	expectCode(g, a, err, protocol.CodeSuccess)

	a, err = c.ChangeCheck(ctx, id, "00301-111111-0--0", skuNone, 0)
	expectCode(g, a, err, protocol.CodeInvalidParam)

	a, err = c.ChangeCheck(ctx, "ti-00000000000000000000", "00301-111111-0--0", skuSmall, 0)
	expectCode(g, a, err, protocol.CodeInstanceNotFound)
	g.Expect(snapshot(g)).To(Equal(before), "a check changes nothing")
}

func TestReleaseInstance(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	c := market(t)

	// The bridge created the instance with the operator's finalizer, which holds it while the
	// operator tears the tenant down (no operator runs here).
	g.Expect(getInstance(g, id).Finalizers).To(ConsistOf(tenantryv1alpha1.Finalizer))
	a, err := c.Release(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	ti := getInstance(g, id)
	g.Expect(ti.DeletionTimestamp).NotTo(BeNil())
	g.Expect(events.reasons(id)).To(ContainElement(webhookbridge.ReasonMarketplaceRelease))

	// Released is gone for the marketplace, even while the object stays.
	a, err = c.Query(ctx, id)
	expectCode(g, a, err, protocol.CodeInstanceNotFound)
	a, err = c.Freeze(ctx, id)
	expectCode(g, a, err, protocol.CodeInstanceNotFound)
	g.Expect(getInstance(g, id).Spec).To(Equal(ti.Spec), "nothing written to a released instance")

	// Released again, or never existed: the goal state holds.
	a, err = c.Release(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = c.Release(ctx, "ti-00000000000000000000")
	expectCode(g, a, err, protocol.CodeSuccess)

	// The operator lets go once the tenant is torn down; a release after that still succeeds.
	g.Expect(k8s.Patch(ctx, ti, client.RawPatch(types.JSONPatchType, []byte(`[{"op":"remove","path":"/metadata/finalizers"}]`)))).To(Succeed())
	g.Expect(apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: id}, &tenantryv1alpha1.TenantInstance{}))).To(BeTrue())
	a, err = c.Release(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
}

// TestUpgradeWritesFromItsFirstRead counts the TenantInstance requests of an upgrade: the read
// that decides whether it applies is also the one its write starts from, so an upgrade is one
// read and one update. A change someone makes between that read and the update is a conflict:
// the bridge reads again, and both the change and the upgrade persist.
func TestUpgradeWritesFromItsFirstRead(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := t.Context()
	id, o := buy(t, skuSmall)

	var mu sync.Mutex
	var gets, updates int
	var meddle func() // run before the next update goes out, once
	counting := intercepted(t, interceptor.Funcs{
		Get: countInstanceGets(&mu, &gets),
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			mu.Lock()
			updates++
			m := meddle
			meddle = nil
			mu.Unlock()
			if m != nil {
				m()
			}
			return c.Update(ctx, obj, opts...)
		},
	})
	requests := func() []int {
		mu.Lock()
		defer mu.Unlock()
		r := []int{gets, updates}
		gets, updates = 0, 0
		return r
	}
	c := marketFor(t, newBridge(t, func(o *webhookbridge.Options) { o.Client = counting }))
	upgradeTo := func(sku string) string {
		order := orders.CreateOrder(simulator.OrderSpec{SKU: sku, OrderType: simulator.OrderTypeChange, CustomerID: o.BuyerInfo.CustomerID})
		a, err := c.Upgrade(ctx, id, order.OrderID, order.OrderLine[0].OrderLineID)
		expectCode(g, a, err, protocol.CodeSuccess)
		return order.OrderID
	}

	upgradeTo(skuLarge)
	g.Expect(getInstance(g, id).Spec.SKU).To(Equal(skuLarge))
	g.Expect(requests()).To(Equal([]int{1, 1}), "TenantInstance reads and updates of an upgrade")

	mu.Lock()
	meddle = func() {
		ti := getInstance(g, id)
		ti.Labels["team"] = "sre"
		g.Expect(k8s.Update(context.Background(), ti)).To(Succeed())
	}
	mu.Unlock()
	orderID := upgradeTo(skuSmall)
	ti := getInstance(g, id)
	g.Expect(ti.Spec.SKU).To(Equal(skuSmall))
	g.Expect(ti.Spec.Marketplace.SKUOrderID).To(Equal(orderID))
	g.Expect(ti.Labels).To(HaveKeyWithValue("team", "sre"))
	g.Expect(requests()).To(Equal([]int{2, 2}), "TenantInstance reads and updates of an upgrade that met a conflict")
}

// TestCustomerNameOnlyWhenThePlanAsks: the buyer's display name is personal data the operator
// never uses; a purchase records it in spec.customer only when the SKU's plan sets
// recordCustomerName, and the customer id always.
func TestCustomerNameOnlyWhenThePlanAsks(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	const sku = "tenantry.named"
	p := plan("plan-named", "1", "1Gi", sku)
	p.Spec.RecordCustomerName = true
	g.Expect(k8s.Create(ctx, p)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), p) })

	id, o := buy(t, sku)
	g.Expect(getInstance(g, id).Spec.Customer).To(Equal(&tenantryv1alpha1.Customer{
		CustomerID: o.BuyerInfo.CustomerID, CustomerName: "Example Co"}))

	id, o = buy(t, skuSmall)
	g.Expect(getInstance(g, id).Spec.Customer).To(Equal(&tenantryv1alpha1.Customer{CustomerID: o.BuyerInfo.CustomerID}))
}

// TestQueryReadsTheAdminAccountOnlyInTheDerivedNamespace: whoever can write an instance's status
// cannot point the bridge at another namespace's tenant-admin Secret; the bridge reads it only in
// tenant-<instance>.
func TestQueryReadsTheAdminAccountOnlyInTheDerivedNamespace(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	makeReady(g, id, false)
	g.Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "unrelated-" + id}})).To(Succeed())
	g.Expect(k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "unrelated-" + id, Name: tenantryv1alpha1.AdminSecretName},
		Type:       corev1.SecretTypeBasicAuth,
		StringData: map[string]string{"username": "root", "password": "Someone-Elses-Secret"},
	})).To(Succeed())
	ti := getInstance(g, id)
	ti.Status.Namespace = "unrelated-" + id
	ti.Status.AdminAccountSecretRef = &tenantryv1alpha1.SecretReference{Namespace: "unrelated-" + id, Name: tenantryv1alpha1.AdminSecretName}
	g.Expect(k8s.Status().Update(ctx, ti)).To(Succeed())

	a, err := market(t).Query(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.Info).To(HaveLen(1))
	g.Expect(a.Info[0].AppInfo.Password).To(BeEmpty())
	g.Expect(string(a.Raw)).NotTo(ContainSubstring("Someone-Elses-Secret"))

	// The tenant's own namespace is where its account is read.
	makeReadySecretOnly(g, id)
	a, err = market(t).Query(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.Info[0].AppInfo.Password).To(Equal("S3cret-Passw0rd"))
}
