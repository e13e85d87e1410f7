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
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

func getHost(g Gomega, host string) *tenantryv1alpha1.TenantHost {
	th := &tenantryv1alpha1.TenantHost{}
	g.ExpectWithOffset(1, k8s.Get(context.Background(), client.ObjectKey{Name: host}, th)).To(Succeed())
	return th
}

func noHost(g Gomega, host string) {
	err := k8s.Get(context.Background(), client.ObjectKey{Name: host}, &tenantryv1alpha1.TenantHost{})
	g.ExpectWithOffset(1, apierrors.IsNotFound(err)).To(BeTrue(), "TenantHost %q: %v", host, err)
}

// refused sends the purchase of a new order for host and proves it is answered 000002 and
// changes nothing.
func refused(t *testing.T, base string, host string) {
	t.Helper()
	g := NewWithT(t)
	o := newOrder(skuSmall, withDomain(host))
	before := snapshot(g)
	var hostBefore string
	th := &tenantryv1alpha1.TenantHost{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Name: host}, th); err == nil {
		hostBefore = th.ResourceVersion
	}
	a, err := marketFor(t, base).Buy(context.Background(), o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeInvalidParam)
	g.Expect(snapshot(g)).To(Equal(before), "host %q", host)
	th = &tenantryv1alpha1.TenantHost{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Name: host}, th); err == nil {
		g.Expect(th.ResourceVersion).To(Equal(hostBefore), "host %q: claim changed", host)
	} else {
		g.Expect(hostBefore).To(BeEmpty())
	}
}

func TestDedicatedHostIsClaimedByItsInstance(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	const host = "claimed.example.net"

	id, o := buy(t, skuSmall, withDomain(host))
	ti := getInstance(g, id)
	th := getHost(g, host)
	g.Expect(th.Spec.InstanceName).To(Equal(id))
	// The instance owns its claim, so the garbage collector frees the host with the release.
	g.Expect(th.OwnerReferences).To(ConsistOf(metav1.OwnerReference{
		APIVersion: tenantryv1alpha1.GroupVersion.String(), Kind: "TenantInstance", Name: id, UID: ti.UID,
	}))

	// The same custom host for a second order is refused; a resend of the first is not.
	refused(t, bridgeURL, host)
	a, err := market(t).Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.InstanceID).To(Equal(id))
	g.Expect(getHost(g, host).ResourceVersion).To(Equal(th.ResourceVersion))

	// A debug purchase of the taken host reports it and writes nothing.
	o2 := newOrder(skuSmall, withDomain(host))
	before := snapshot(g)
	found := preflightCount(g, "host_taken")
	a, err = market(t, testFlag).Buy(ctx, o2.OrderID, o2.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(preflightCount(g, "host_taken")).To(Equal(found + 1))
	g.Expect(snapshot(g)).To(Equal(before))
	g.Expect(getHost(g, host).ResourceVersion).To(Equal(th.ResourceVersion))
}

func TestHostsThatMayNotBeClaimedAreRefused(t *testing.T) {
	integration(t)
	// Another tenant's Shared host, and anything under a plan's base domain.
	shared, _ := buy(t, skuSmall)
	for _, host := range []string{shared + ".apps.example.com", "apps.example.com", "x.y.apps.example.com"} {
		refused(t, bridgeURL, host)
		noHost(NewWithT(t), host)
	}
	// The bridge's own in-cluster names, and any other service of the cluster.
	for _, host := range []string{"tenantry-webhookbridge.tenantry-system.svc", "tenantry-webhookbridge.tenantry-system.svc.cluster.local", "kubernetes.default.svc"} {
		refused(t, bridgeURL, host)
		noHost(NewWithT(t), host)
	}
	// A configured deny list replaces the default.
	custom := newBridge(t, func(o *webhookbridge.Options) { o.DenyHostSuffixes = []string{"internal.example.org"} })
	refused(t, custom, "admin.internal.example.org")
	noHost(NewWithT(t), "admin.internal.example.org")
}

func TestReleaseFreesTheHost(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	const host = "released.example.net"

	first, _ := buy(t, skuSmall, withDomain(host))
	a, err := market(t).Release(ctx, first)
	expectCode(g, a, err, protocol.CodeSuccess)
	// No operator here: the instance stays, being deleted, and no garbage collector runs either.
	g.Expect(getInstance(g, first).DeletionTimestamp).NotTo(BeNil())
	g.Expect(getHost(g, host).Spec.InstanceName).To(Equal(first))

	second, _ := buy(t, skuSmall, withDomain(host))
	th := getHost(g, host)
	g.Expect(th.Spec.InstanceName).To(Equal(second))
	g.Expect(th.OwnerReferences).To(HaveLen(1))
	g.Expect(th.OwnerReferences[0].UID).To(Equal(getInstance(g, second).UID))
}

func TestStaleClaimsAreTakenOver(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()

	// A claim whose owner is gone (the garbage collector not having run yet).
	const gone = "owner-gone.example.net"
	g.Expect(k8s.Create(ctx, &tenantryv1alpha1.TenantHost{
		ObjectMeta: metav1.ObjectMeta{Name: gone, OwnerReferences: []metav1.OwnerReference{{
			APIVersion: tenantryv1alpha1.GroupVersion.String(), Kind: "TenantInstance", Name: "ti-gone", UID: "2f0c5a5e-0000-4000-8000-000000000001",
		}}},
		Spec: tenantryv1alpha1.TenantHostSpec{InstanceName: "ti-gone"},
	})).To(Succeed())
	id, _ := buy(t, skuSmall, withDomain(gone))
	g.Expect(getHost(g, gone).Spec.InstanceName).To(Equal(id))

	// A claim a crash left without owner before its instance was created: the same order's
	// resend takes it as its own and completes it.
	const crashed = "crashed.example.net"
	o := newOrder(skuSmall, withDomain(crashed))
	name := webhookbridge.InstanceName(o.OrderID, o.OrderLine[0].OrderLineID)
	g.Expect(k8s.Create(ctx, &tenantryv1alpha1.TenantHost{
		ObjectMeta: metav1.ObjectMeta{Name: crashed}, Spec: tenantryv1alpha1.TenantHostSpec{InstanceName: name},
	})).To(Succeed())
	// Meanwhile another order for the same host is refused: the claim is fresh.
	refused(t, bridgeURL, crashed)
	a, err := market(t).Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	th := getHost(g, crashed)
	g.Expect(th.Spec.InstanceName).To(Equal(name))
	g.Expect(th.OwnerReferences).To(HaveLen(1))
	g.Expect(th.OwnerReferences[0].UID).To(Equal(getInstance(g, name).UID))
}

func TestConcurrentOrdersForOneHostGetItOnce(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	const host = "race.example.net"
	// Two bridges, as two replicas would be.
	bridges := []string{bridgeURL, newBridge(t, func(*webhookbridge.Options) {})}
	var ordersFor []simulator.Order
	for range 6 {
		ordersFor = append(ordersFor, newOrder(skuSmall, withDomain(host)))
	}
	codes := make([]string, len(ordersFor))
	var wg sync.WaitGroup
	for i, o := range ordersFor {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := marketFor(t, bridges[i%2]).Buy(context.Background(), o.OrderID, o.OrderLine[0].OrderLineID, false)
			if err == nil {
				codes[i] = a.ResultCode
			}
		}()
	}
	wg.Wait()
	g.Expect(codes).To(ContainElement(protocol.CodeSuccess))
	winners := 0
	for i, code := range codes {
		name := webhookbridge.InstanceName(ordersFor[i].OrderID, ordersFor[i].OrderLine[0].OrderLineID)
		err := k8s.Get(context.Background(), client.ObjectKey{Name: name}, &tenantryv1alpha1.TenantInstance{})
		if code == protocol.CodeSuccess {
			winners++
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(getHost(g, host).Spec.InstanceName).To(Equal(name))
		} else {
			g.Expect(code).To(Equal(protocol.CodeInvalidParam))
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
		}
	}
	g.Expect(winners).To(Equal(1))
}

// TestRefusedInstanceLeavesNoClaim: when the API server refuses the instance after its host was
// reserved, the claim goes too, and the host stays free for the next order.
func TestRefusedInstanceLeavesNoClaim(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	const host = "refused-instance.example.net"
	o := newOrder(skuSmall, withDomain(host), func(s *simulator.OrderSpec) { s.CustomerID = strings.Repeat("c", 101) })
	before := snapshot(g)
	a, err := market(t).Buy(context.Background(), o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeInvalidParam)
	g.Expect(snapshot(g)).To(Equal(before))
	noHost(g, host)
	buy(t, skuSmall, withDomain(host))
}
