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

package controllers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
)

func listener(elb string, tenants int32) tenantryv1alpha1.Listener {
	return tenantryv1alpha1.Listener{ELBID: elb, Port: 443, Class: tenantryv1alpha1.ELBDedicated, Tenants: ptr.To(tenants)}
}

func newPool(name string, listeners ...tenantryv1alpha1.Listener) *tenantryv1alpha1.LoadBalancerPool {
	return &tenantryv1alpha1.LoadBalancerPool{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       tenantryv1alpha1.LoadBalancerPoolSpec{Listeners: listeners},
	}
}

// ingressListener is the ELB listener (<elbId>-<port>) a tenant's Ingress is on, "" when its
// Ingress carries no listener, or an error when it has no Ingress.
func ingressListener(instance string) (string, error) {
	ing := &networkingv1.Ingress{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName(instance), Name: controllers.AppName}, ing); err != nil {
		return "", err
	}
	id := ing.Annotations[controllers.AnnotationELBID]
	if id == "" {
		return "", nil
	}
	return id + "-" + ing.Annotations[controllers.AnnotationELBPort], nil
}

// ingressesPerListener counts the tenants' Ingresses on each listener.
func ingressesPerListener(g Gomega, instances []string) map[string]int {
	counts := map[string]int{}
	for _, name := range instances {
		l, err := ingressListener(name)
		if apierrors.IsNotFound(err) {
			continue
		}
		g.Expect(err).NotTo(HaveOccurred())
		if l != "" {
			counts[l]++
		}
	}
	return counts
}

// TestListenersAreFilledInOrderNeverPastCapacity: tenants bought at once are put on the pool's
// listeners in order, never more than a listener holds; the rest stall (NoLoadBalancerCapacity)
// with a message saying what to add, and adding a listener resumes them at once. Each tenant's
// Ingress carries the CCE annotations of its listener and its status names it; the pool's status
// counts them.
func TestListenersAreFilledInOrderNeverPastCapacity(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	plan := newPlan("lb-plan", "SKU-LB")
	plan.Spec.Domain.IngressClassName = "cce"
	plan.Spec.Domain.LoadBalancerPool = "lb-pool"
	create(t, plan, newPool("lb-pool", listener("elb-one", 2), listener("elb-two", 3)))

	var names []string
	for i := range 7 {
		name := fmt.Sprintf("lb-tenant-%d", i)
		names = append(names, name)
		create(t, newInstance(name, "SKU-LB"))
	}
	g.Eventually(func(g Gomega) {
		g.Expect(ingressesPerListener(g, names)).To(Equal(map[string]int{"elb-one-443": 2, "elb-two-443": 3}))
		stalled := 0
		for _, name := range names {
			ti := getInstance(g, name)
			if c := condition(ti, tenantryv1alpha1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
				g.Expect(c.Reason).To(Equal(tenantryv1alpha1.ReasonNoLoadBalancerCapacity))
				g.Expect(c.Message).To(ContainSubstring(`every listener of LoadBalancerPool "lb-pool" is full of tenants (5 in all); add a listener`))
				g.Expect(ti.Status.LoadBalancer).To(BeNil())
				stalled++
				continue
			}
			g.Expect(ti.Status.LoadBalancer).NotTo(BeNil())
			l, err := ingressListener(name)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(ti.Status.LoadBalancer.ELBID + "-443").To(Equal(l))
		}
		g.Expect(stalled).To(Equal(2))
	}).Should(Succeed())
	ing := &networkingv1.Ingress{}
	for _, name := range names {
		if l, _ := ingressListener(name); l == "elb-one-443" {
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName(name), Name: controllers.AppName}, ing)).To(Succeed())
			g.Expect(ing.Annotations).To(HaveKeyWithValue(controllers.AnnotationELBClass, "performance"))
			g.Expect(ing.Annotations).To(HaveKeyWithValue(controllers.AnnotationELBPort, "443"))
			break
		}
	}
	g.Eventually(func(g Gomega) {
		pool := &tenantryv1alpha1.LoadBalancerPool{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "lb-pool"}, pool)).To(Succeed())
		g.Expect(pool.Status.Tenants).To(Equal(int32(5)))
		g.Expect(pool.Status.TenantCapacity).To(Equal(int32(5)))
	}).Should(Succeed())

	// A third listener: the two waiting tenants go there at once; nobody else moves.
	before := map[string]string{}
	for _, name := range names {
		before[name], _ = ingressListener(name)
	}
	pool := &tenantryv1alpha1.LoadBalancerPool{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "lb-pool"}, pool)).To(Succeed())
	pool.Spec.Listeners = append(pool.Spec.Listeners, listener("elb-three", 5))
	g.Expect(k8s.Update(ctx, pool)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(ingressesPerListener(g, names)).To(Equal(map[string]int{"elb-one-443": 2, "elb-two-443": 3, "elb-three-443": 2}))
		for _, name := range names {
			expectNotStalled(g, name)
		}
	}).Should(Succeed())
	for name, l := range before {
		if l != "" {
			got, err := ingressListener(name)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(l), "tenant %s stays on its listener", name)
		}
	}

	// The first listener is removed: its two tenants move to the third, which has room for
	// three more; nobody else moves.
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "lb-pool"}, pool)).To(Succeed())
	pool.Spec.Listeners = pool.Spec.Listeners[1:]
	g.Expect(k8s.Update(ctx, pool)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(ingressesPerListener(g, names)).To(Equal(map[string]int{"elb-two-443": 3, "elb-three-443": 4}))
		var slots tenantryv1alpha1.ListenerSlotList
		g.Expect(k8s.List(ctx, &slots, client.MatchingLabels{tenantryv1alpha1.LabelListener: "elb-one-443"})).To(Succeed())
		g.Expect(slots.Items).To(BeEmpty(), "the removed listener's slots are released")
	}).Should(Succeed())
	for name, l := range before {
		if l == "elb-two-443" {
			got, err := ingressListener(name)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(l), "tenant %s stays on its listener", name)
		}
	}
}

// TestDedicatedTenantsTakeCertificatesOnHTTPSListeners: a Dedicated tenant's certificate takes
// one of an HTTPS listener's SNI certificates, so a listener with tenant room but no certificate
// room sends it to the next listener; Shared tenants are not held back by certificates.
func TestDedicatedTenantsTakeCertificatesOnHTTPSListeners(t *testing.T) {
	g := NewWithT(t)
	plan := newPlan("lb-cert-plan", "SKU-LB-CERT")
	plan.Spec.Domain.LoadBalancerPool = "lb-cert-pool"
	plan.Spec.Domain.ClusterIssuer = "letsencrypt"
	first := listener("elb-cert-one", 10)
	first.Certificates = ptr.To[int32](1)
	create(t, plan, newPool("lb-cert-pool", first, listener("elb-cert-two", 10)))

	dedicated := func(name string) *tenantryv1alpha1.TenantInstance {
		ti := newInstance(name, "SKU-LB-CERT")
		ti.Spec.Domain = tenantryv1alpha1.TenantDomain{Type: tenantryv1alpha1.DomainDedicated, Host: name + ".customer.example.org"}
		return ti
	}
	create(t, dedicated("lb-cert-a"))
	g.Eventually(func() (string, error) { return ingressListener("lb-cert-a") }).Should(Equal("elb-cert-one-443"))
	create(t, dedicated("lb-cert-b"))
	g.Eventually(func() (string, error) { return ingressListener("lb-cert-b") }).Should(Equal("elb-cert-two-443"))
	create(t, newInstance("lb-cert-shared", "SKU-LB-CERT"))
	g.Eventually(func() (string, error) { return ingressListener("lb-cert-shared") }).Should(Equal("elb-cert-one-443"))
}

// TestReleaseFreesTheListenerSlot: a released tenant's place goes to a tenant waiting for one.
func TestReleaseFreesTheListenerSlot(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	plan := newPlan("lb-release-plan", "SKU-LB-REL")
	plan.Spec.Domain.LoadBalancerPool = "lb-release-pool"
	create(t, plan, newPool("lb-release-pool", listener("elb-rel", 1)))
	create(t, newInstance("lb-rel-first", "SKU-LB-REL"))
	g.Eventually(func() (string, error) { return ingressListener("lb-rel-first") }).Should(Equal("elb-rel-443"))
	create(t, newInstance("lb-rel-second", "SKU-LB-REL"))
	g.Eventually(func(g Gomega) {
		expectCondition(g, "lb-rel-second", tenantryv1alpha1.ConditionStalled, metav1.ConditionTrue, tenantryv1alpha1.ReasonNoLoadBalancerCapacity)
	}).Should(Succeed())

	g.Expect(k8s.Delete(ctx, getInstance(g, "lb-rel-first"))).To(Succeed())
	g.Eventually(func(g Gomega) { g.Expect(*deployment(g, "lb-rel-first").Spec.Replicas).To(BeZero()) }).Should(Succeed())
	podsLeft(g, "lb-rel-first", 0, 0)
	g.Eventually(func(g Gomega) {
		g.Expect(namespaceDeleting(g, tenantryv1alpha1.NamespaceName("lb-rel-first"))).To(BeTrue())
	}).Should(Succeed())
	finalizeNamespace(g, tenantryv1alpha1.NamespaceName("lb-rel-first"))
	g.Eventually(func() (string, error) { return ingressListener("lb-rel-second") }).Should(Equal("elb-rel-443"))
	g.Eventually(func(g Gomega) { expectNotStalled(g, "lb-rel-second") }).Should(Succeed())
}

// TestMissingPoolStallsUntilCreated: a plan naming a pool that does not exist stalls its tenants
// with the pool's name, without an Ingress on any listener, until the pool appears.
func TestMissingPoolStallsUntilCreated(t *testing.T) {
	g := NewWithT(t)
	plan := newPlan("lb-missing-plan", "SKU-LB-MISSING")
	plan.Spec.Domain.LoadBalancerPool = "lb-missing-pool"
	create(t, plan, newInstance("lb-missing", "SKU-LB-MISSING"))
	g.Eventually(func(g Gomega) {
		ti := expectCondition(g, "lb-missing", tenantryv1alpha1.ConditionStalled, metav1.ConditionTrue, tenantryv1alpha1.ReasonNoLoadBalancerCapacity)
		g.Expect(condition(ti, tenantryv1alpha1.ConditionStalled).Message).To(ContainSubstring(`LoadBalancerPool "lb-missing-pool", which does not exist`))
	}).Should(Succeed())
	_, err := ingressListener("lb-missing")
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "no Ingress without a listener: %v", err)
	create(t, newPool("lb-missing-pool", listener("elb-missing", 1)))
	g.Eventually(func() (string, error) { return ingressListener("lb-missing") }, 10*time.Second).Should(Equal("elb-missing-443"))
}

// expectNotStalled: the instance has no Stalled condition, or a False one.
func expectNotStalled(g Gomega, name string) {
	if c := condition(getInstance(g, name), tenantryv1alpha1.ConditionStalled); c != nil {
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse), "%s is stalled: %s", name, c.Message)
	}
}
