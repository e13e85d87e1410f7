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

package e2e

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
)

// A Shared and a Dedicated tenant walk through everything the marketplace does to an instance —
// buy, query, freeze, unfreeze, renew, upgrade to a bigger SKU, release — with signed calls only;
// after each call the specs check what the cluster really runs.
var _ = Describe("A tenant's lifecycle", Label("lifecycle"), func() {
	// dedicatedHost, when set, is the buyer's own domain, entered at purchase as the product's
	// custom parameter "domain": the order's extendParams make the tenant Dedicated.
	DescribeTable("follows signed marketplace calls from purchase to release",
		func(ctx SpecContext, dedicatedHost string) {
			g := Default

			o, id := buy(g, skuSmall, func(s *simulator.OrderSpec) {
				if dedicatedHost != "" {
					s.ExtendParams = []simulator.Param{{Name: "domain", Value: dedicatedHost}}
				}
			})
			releaseOnCleanup(id)
			ti := instance(g, id)
			g.Expect(ti.Spec.SKU).To(Equal(skuSmall))
			g.Expect(ti.Spec.Order.OrderID).To(Equal(o.OrderID))
			g.Expect(ti.Spec.Customer).NotTo(BeNil())
			g.Expect(ti.Spec.Customer.CustomerID).To(Equal(o.Order.BuyerInfo.CustomerID))

			wantURL := "http://" + id + "." + baseDomain
			if dedicatedHost != "" {
				g.Expect(ti.Spec.Domain).To(Equal(tenantryv1alpha1.TenantDomain{Type: tenantryv1alpha1.DomainDedicated, Host: dedicatedHost}))
				wantURL = "https://" + dedicatedHost
			}

			By("buy: the tenant runs its plan")
			ti = expectRunning(id, 1)
			g.Expect(ti.Status.Plan).To(Equal(planSmall))
			g.Expect(ti.Status.URL).To(Equal(wantURL))
			g.Expect(ti.Status.Namespace).To(Equal("tenant-" + id))
			g.Eventually(func(g Gomega) {
				ing := &networkingv1.Ingress{}
				g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: "tenant-" + id, Name: "app"}, ing)).To(Succeed())
				g.Expect(ing.Spec.Rules).To(HaveLen(1))
				g.Expect(wantURL).To(HaveSuffix("://" + ing.Spec.Rules[0].Host))
				if dedicatedHost != "" {
					g.Expect(ing.Annotations).To(HaveKeyWithValue("cert-manager.io/cluster-issuer", "e2e-issuer"))
				}
			}).Should(Succeed())

			By("query: the marketplace learns where the tenant is")
			a := send(g, func() (*simulator.Answer, error) { return market.Query(ctx, id) })
			g.Expect(a.Info).To(HaveLen(1))
			g.Expect(a.Info[0].AppInfo).NotTo(BeNil())
			g.Expect(a.Info[0].AppInfo.FrontEndURL).To(Equal(wantURL))

			By("freeze: scaled to zero, data kept")
			send(g, func() (*simulator.Answer, error) { return market.Freeze(ctx, id) })
			expectFrozen(id)
			g.Expect(instance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleFrozen))

			By("unfreeze: running again")
			send(g, func() (*simulator.Answer, error) { return market.Unfreeze(ctx, id) })
			expectRunning(id, 1)

			By("renew: the paid period moves")
			expire := time.Now().UTC().AddDate(0, 3, 0).Truncate(time.Second)
			renewal := order(g, simulator.OrderSpec{SKU: skuSmall, OrderType: simulator.OrderTypeRenew,
				CustomerID: o.Order.BuyerInfo.CustomerID, ExpireTime: expire})
			send(g, func() (*simulator.Answer, error) {
				return market.Renew(ctx, id, renewal.OrderID, renewal.OrderLineID, simulator.SceneRenewal, expire)
			})
			g.Eventually(func(g Gomega) {
				ti := instance(g, id)
				g.Expect(ti.Spec.ExpiresAt).NotTo(BeNil())
				g.Expect(ti.Spec.ExpiresAt.Time.Equal(expire)).To(BeTrue(), "expiresAt is %s, want %s", ti.Spec.ExpiresAt, expire)
			}).Should(Succeed())

			By("upgrade: the bigger plan, in place")
			change := order(g, simulator.OrderSpec{SKU: skuLarge, OrderType: simulator.OrderTypeChange,
				CustomerID: o.Order.BuyerInfo.CustomerID, ExpireTime: expire})
			send(g, func() (*simulator.Answer, error) {
				return market.Upgrade(ctx, id, change.OrderID, change.OrderLineID)
			})
			g.Eventually(func(g Gomega) {
				g.Expect(instance(g, id).Spec.SKU).To(Equal(skuLarge))
			}).Should(Succeed())
			ti = expectRunning(id, 2)
			g.Expect(ti.Status.Plan).To(Equal(planLarge))
			g.Expect(ti.Status.Namespace).To(Equal("tenant-"+id), "an upgrade keeps the namespace")
			g.Expect(ti.Status.URL).To(Equal(wantURL))

			By("release: the tenant and its namespace are gone")
			release(g, id)
		},
		Entry("Shared", ""),
		Entry("Dedicated", "erp.customer.example.org"),
	)

	// What queryInstance tells the marketplace, and so the customer: where the tenant is and the
	// initial admin account the operator created.
	It("reports the URL and the admin account to queryInstance", func(ctx SpecContext) {
		queryInstanceReportsURLAndAdminAccount(ctx, Default)
	})
})

func queryInstanceReportsURLAndAdminAccount(ctx context.Context, g Gomega) {
	_, id := buy(g, skuSmall)
	releaseOnCleanup(id)
	ti := expectRunning(id, 1)
	user, password := adminAccount(g, id)
	g.Expect(user).NotTo(BeEmpty())
	g.Expect(password).NotTo(BeEmpty())

	a := send(g, func() (*simulator.Answer, error) { return market.Query(ctx, id, "ti-00000000000000000000") })
	g.Expect(a.Info).To(HaveLen(1), "unknown instances are left out")
	info := a.Info[0]
	g.Expect(info.InstanceID).To(Equal(id))
	g.Expect(info.AppInfo).NotTo(BeNil())
	g.Expect(info.AppInfo.FrontEndURL).To(Equal(ti.Status.URL))
	g.Expect(info.AppInfo.FrontEndURL).To(Equal("http://" + id + "." + baseDomain))
	g.Expect(info.AppInfo.AdminURL).To(Equal(ti.Status.AdminURL))
	g.Expect(info.AppInfo.AdminURL).To(Equal("http://" + id + "." + baseDomain + "/admin"))
	g.Expect(info.AppInfo.UserName).To(Equal(user))
	g.Expect(info.AppInfo.Password).To(Equal(password))
	g.Expect(info.AppInfo.Memo).NotTo(BeEmpty())

	a, err := market.Query(ctx, "ti-00000000000000000000")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a.ResultCode).To(Equal(simulator.ResultNoInstance), "an unknown instance is 000003")
}
