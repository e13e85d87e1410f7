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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
)

func ingressHost(g Gomega, instance string) (string, error) {
	ing := &networkingv1.Ingress{}
	err := k8s.Get(context.Background(), client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName(instance), Name: controllers.AppName}, ing)
	if err != nil {
		return "", err
	}
	g.Expect(ing.Spec.Rules).NotTo(BeEmpty())
	return ing.Spec.Rules[0].Host, nil
}

// expectClaim waits for the TenantHost of host to name holder and be owned by it.
func expectClaim(g Gomega, host, holder string) {
	g.Eventually(func(g Gomega) {
		th := &tenantryv1alpha1.TenantHost{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: host}, th)).To(Succeed())
		g.Expect(th.Spec.InstanceName).To(Equal(holder))
		g.Expect(th.OwnerReferences).To(ConsistOf(HaveField("UID", getInstance(g, holder).UID)))
	}).Should(Succeed())
}

// TestHostHeldByAnotherInstanceIsNotServed: a Dedicated tenant without a claim on its host (made
// with kubectl, or before claims existed) gets one from the operator, first come first served, so
// that no later order can take its host. A tenant asking for a host another instance holds is
// Stalled (HostConflict) and has no Ingress while the holder is served; once the holder is
// released, the tenant is served.
func TestHostHeldByAnotherInstanceIsNotServed(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const host = "contested.example.org"
	create(t, newPlan("host-plan", "SKU-HOST"))

	owner := newInstance("hostowner", "SKU-HOST")
	owner.Spec.Domain = tenantryv1alpha1.TenantDomain{Type: tenantryv1alpha1.DomainDedicated, Host: host}
	create(t, owner)
	expectClaim(g, host, "hostowner")
	g.Eventually(func(g Gomega) {
		got, err := ingressHost(g, "hostowner")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got).To(Equal(host))
	}).Should(Succeed())

	thief := newInstance("hostthief", "SKU-HOST")
	thief.Spec.Domain = tenantryv1alpha1.TenantDomain{Type: tenantryv1alpha1.DomainDedicated, Host: host}
	create(t, thief)
	g.Eventually(func(g Gomega) {
		ti := expectCondition(g, "hostthief", tenantryv1alpha1.ConditionStalled, metav1.ConditionTrue, tenantryv1alpha1.ReasonHostConflict)
		g.Expect(condition(ti, tenantryv1alpha1.ConditionStalled).Message).To(ContainSubstring(`"hostowner"`))
	}).Should(Succeed())
	g.Consistently(func(g Gomega) {
		_, err := ingressHost(g, "hostthief")
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "no Ingress for a host held by another: %v", err)
		got, err := ingressHost(g, "hostowner")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got).To(Equal(host))
	}, 2*time.Second).Should(Succeed())
	expectClaim(g, host, "hostowner")

	// The holder is released, and its claim goes with it (envtest runs no garbage collector, so
	// the test deletes the claim as the collector does once the holder is gone): the other tenant
	// is served, and holds the host from then on.
	g.Expect(k8s.Delete(ctx, getInstance(g, "hostowner"))).To(Succeed())
	g.Eventually(func(g Gomega) {
		ti := &tenantryv1alpha1.TenantInstance{}
		err := k8s.Get(ctx, client.ObjectKey{Name: "hostowner"}, ti)
		g.Expect(apierrors.IsNotFound(err) || (err == nil && !ti.DeletionTimestamp.IsZero())).To(BeTrue(), "the holder is released: %v", err)
	}).Should(Succeed())
	g.Expect(k8s.Delete(ctx, &tenantryv1alpha1.TenantHost{ObjectMeta: metav1.ObjectMeta{Name: host}})).To(Succeed())
	expectClaim(g, host, "hostthief")
	g.Eventually(func(g Gomega) {
		got, err := ingressHost(g, "hostthief")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got).To(Equal(host))
		if c := condition(getInstance(g, "hostthief"), tenantryv1alpha1.ConditionStalled); c != nil {
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		}
	}).Should(Succeed())
}

// TestSharedHostHeldByAnotherInstanceIsNotServed: the check covers a Shared tenant's host too.
func TestSharedHostHeldByAnotherInstanceIsNotServed(t *testing.T) {
	g := NewWithT(t)
	create(t, newPlan("host-shared-plan", "SKU-HOST-SHARED"))
	holder := newInstance("sharedholder", "SKU-HOST-SHARED")
	holder.Spec.Domain = tenantryv1alpha1.TenantDomain{Type: tenantryv1alpha1.DomainDedicated, Host: "sharedvictim.apps.example.com"}
	create(t, holder)
	expectClaim(g, "sharedvictim.apps.example.com", "sharedholder")
	create(t, newInstance("sharedvictim", "SKU-HOST-SHARED"))

	g.Eventually(func(g Gomega) {
		expectCondition(g, "sharedvictim", tenantryv1alpha1.ConditionStalled, metav1.ConditionTrue, tenantryv1alpha1.ReasonHostConflict)
	}).Should(Succeed())
	g.Consistently(func(g Gomega) {
		_, err := ingressHost(g, "sharedvictim")
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "no Ingress for a host held by another: %v", err)
	}, 2*time.Second).Should(Succeed())
}
