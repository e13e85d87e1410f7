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
	"slices"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
)

// retainedPlan is a plan keeping released tenants for an hour.
func retainedPlan(name, sku string) *tenantryv1alpha1.TenantPlan {
	p := newPlan(name, sku)
	p.Spec.RetentionPeriod = &metav1.Duration{Duration: time.Hour}
	return p
}

// clockAtNow sets the reconciler's clock to the API server's time, which stamps deletions, and
// puts it back where it was when the test ends, as later tests expect.
func clockAtNow(t *testing.T) {
	before := fakeClock.Now()
	fakeClock.SetTime(time.Now())
	t.Cleanup(func() { fakeClock.SetTime(before) })
}

func expectNamespaceKept(g Gomega, ns string) {
	g.Consistently(func(g Gomega) { g.Expect(namespaceDeleting(g, ns)).To(BeFalse()) }, 2*time.Second).Should(Succeed())
}

func expectReleased(g Gomega, name string) {
	g.Eventually(func(g Gomega) { finalizeNamespace(g, tenantryv1alpha1.NamespaceName(name)) }).Should(Succeed())
	g.Eventually(func(g Gomega) {
		ti := &tenantryv1alpha1.TenantInstance{}
		err := k8s.Get(context.Background(), client.ObjectKey{Name: name}, ti)
		if apierrors.IsNotFound(err) {
			return
		}
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(ti.Finalizers).NotTo(ContainElement(tenantryv1alpha1.Finalizer))
	}).Should(Succeed())
}

// TestReleaseWithAnUnresolvablePlanKeepsTheTenantUntilItResolves: a second plan listing the SKU
// (as a plan renamed by a Helm upgrade briefly does) while a tenant is released must not count as
// "no retention": the tenant is kept, scaled to zero, and says why; once one plan lists the SKU
// again the release records the retention that plan promises and honours it.
func TestReleaseWithAnUnresolvablePlanKeepsTheTenantUntilItResolves(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	clockAtNow(t)
	create(t, retainedPlan("unresolved-plan", "SKU-UNRESOLVED"), newInstance("unresolved1", "SKU-UNRESOLVED"))
	ns := tenantryv1alpha1.NamespaceName("unresolved1")
	g.Eventually(func(g Gomega) { rollOut(g, "unresolved1") }).Should(Succeed())

	second := newPlan("unresolved-plan-renamed", "SKU-UNRESOLVED")
	create(t, second)
	g.Eventually(func(g Gomega) {
		expectCondition(g, "unresolved1", tenantryv1alpha1.ConditionStalled, metav1.ConditionTrue, tenantryv1alpha1.ReasonPlanAmbiguous)
	}).Should(Succeed())

	g.Expect(k8s.Delete(ctx, newInstance("unresolved1", ""))).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(*deployment(g, "unresolved1").Spec.Replicas).To(BeZero())
		ti := expectCondition(g, "unresolved1", tenantryv1alpha1.ConditionStalled, metav1.ConditionTrue, tenantryv1alpha1.ReasonRetentionUnknown)
		g.Expect(condition(ti, tenantryv1alpha1.ConditionStalled).Message).To(ContainSubstring("SKU-UNRESOLVED"))
		g.Expect(ti.Status.State).To(Equal(tenantryv1alpha1.StateReleasing))
		g.Expect(ti.Status.RetainUntil).To(BeNil())
	}).Should(Succeed())
	// The app has stopped: without a retention, this is where the namespace would go.
	podsLeft(g, "unresolved1", 0, 0)
	expectNamespaceKept(g, ns)
	g.Expect(getInstance(g, "unresolved1").Finalizers).To(ContainElement(tenantryv1alpha1.Finalizer))
	g.Expect(eventReasons(g, "unresolved1")).To(ContainElement(tenantryv1alpha1.ReasonRetentionUnknown))

	// One plan again: the retention it promises is recorded, counted from the release.
	g.Expect(k8s.Delete(ctx, second)).To(Succeed())
	deleted := getInstance(g, "unresolved1").DeletionTimestamp.Time
	g.Eventually(func(g Gomega) {
		ti := expectCondition(g, "unresolved1", tenantryv1alpha1.ConditionReady, metav1.ConditionFalse, tenantryv1alpha1.ReasonRetained)
		g.Expect(condition(ti, tenantryv1alpha1.ConditionStalled)).To(BeNil())
		g.Expect(ti.Status.RetainUntil).NotTo(BeNil())
		g.Expect(ti.Status.RetainUntil.Time).To(BeTemporally("==", deleted.Add(time.Hour)))
	}).Should(Succeed())
	expectNamespaceKept(g, ns)

	fakeClock.SetTime(deleted.Add(time.Hour + controllers.DefaultReleaseDrainTimeout + time.Second))
	poke(g, "unresolved1")
	g.Eventually(func(g Gomega) { g.Expect(namespaceDeleting(g, ns)).To(BeTrue()) }).Should(Succeed())
	expectReleased(g, "unresolved1")
}

// TestForegroundDeletionKeepsTheRetention: `kubectl delete --cascade=foreground` makes the
// garbage collector delete every dependent of the instance before the instance. Neither the
// namespace nor the admin account may be one: only the release deletes them, when the plan's
// retention is over. envtest runs no garbage collector, so the test plays it.
func TestForegroundDeletionKeepsTheRetention(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	clockAtNow(t)
	create(t, retainedPlan("foreground-plan", "SKU-FOREGROUND"), newInstance("foreground1", "SKU-FOREGROUND"))
	ns := tenantryv1alpha1.NamespaceName("foreground1")
	g.Eventually(func(g Gomega) { rollOut(g, "foreground1") }).Should(Succeed())
	uid := getInstance(g, "foreground1").UID
	var admin *corev1.Secret
	g.Eventually(func(g Gomega) { admin = secret(g, ns, tenantryv1alpha1.AdminSecretName) }).Should(Succeed())

	g.Expect(k8s.Delete(ctx, newInstance("foreground1", ""), client.PropagationPolicy(metav1.DeletePropagationForeground))).To(Succeed())
	g.Eventually(func(g Gomega) {
		ti := expectCondition(g, "foreground1", tenantryv1alpha1.ConditionReady, metav1.ConditionFalse, tenantryv1alpha1.ReasonRetained)
		g.Expect(ti.Finalizers).To(ContainElement(metav1.FinalizerDeleteDependents))
	}).Should(Succeed())

	collectDependents(g, uid, ns)
	expectNamespaceKept(g, ns)
	kept := secret(g, ns, tenantryv1alpha1.AdminSecretName)
	g.Expect(kept.UID).To(Equal(admin.UID))
	g.Expect(getInstance(g, "foreground1").Status.RetainUntil).NotTo(BeNil())

	deleted := getInstance(g, "foreground1").DeletionTimestamp.Time
	fakeClock.SetTime(deleted.Add(time.Hour + controllers.DefaultReleaseDrainTimeout + time.Second))
	poke(g, "foreground1")
	g.Eventually(func(g Gomega) { g.Expect(namespaceDeleting(g, ns)).To(BeTrue()) }).Should(Succeed())
	expectReleased(g, "foreground1")
	// What is left is the garbage collector's own finalizer.
	g.Eventually(func(g Gomega) {
		ti := &tenantryv1alpha1.TenantInstance{}
		err := k8s.Get(ctx, client.ObjectKey{Name: "foreground1"}, ti)
		if apierrors.IsNotFound(err) {
			return
		}
		g.Expect(err).NotTo(HaveOccurred())
		patch := client.MergeFromWithOptions(ti.DeepCopy(), client.MergeFromWithOptimisticLock{})
		ti.Finalizers = slices.DeleteFunc(ti.Finalizers, func(f string) bool { return f == metav1.FinalizerDeleteDependents })
		g.Expect(k8s.Patch(ctx, ti, patch)).To(Succeed())
	}).Should(Succeed())
}

// collectDependents plays the garbage collector for an owner deleted in the foreground: it
// deletes the namespace and the Secrets in it that name the owner in their owner references.
func collectDependents(g Gomega, owner types.UID, ns string) {
	ctx := context.Background()
	owned := func(o client.Object) bool {
		return slices.ContainsFunc(o.GetOwnerReferences(), func(r metav1.OwnerReference) bool { return r.UID == owner })
	}
	n := &corev1.Namespace{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: ns}, n)).To(Succeed())
	secrets := &corev1.SecretList{}
	g.Expect(k8s.List(ctx, secrets, client.InNamespace(ns))).To(Succeed())
	for i := range secrets.Items {
		if owned(&secrets.Items[i]) {
			g.Expect(client.IgnoreNotFound(k8s.Delete(ctx, &secrets.Items[i]))).To(Succeed())
		}
	}
	if owned(n) {
		g.Expect(client.IgnoreNotFound(k8s.Delete(ctx, n))).To(Succeed())
	}
}

// TestRetentionIsRecordedOnceAndKeptUntilItsEnd: the end of the retention is recorded at the
// release and a later change of the plan's retention period does not move it; the namespace is
// kept until that recorded end, by the reconciler's clock.
func TestRetentionIsRecordedOnceAndKeptUntilItsEnd(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	clockAtNow(t)
	plan := newPlan("recorded-plan", "SKU-RECORDED")
	plan.Spec.RetentionPeriod = &metav1.Duration{Duration: 24 * time.Hour}
	create(t, plan, newInstance("recorded1", "SKU-RECORDED"))
	ns := tenantryv1alpha1.NamespaceName("recorded1")
	g.Eventually(func(g Gomega) { rollOut(g, "recorded1") }).Should(Succeed())

	g.Expect(k8s.Delete(ctx, newInstance("recorded1", ""))).To(Succeed())
	deleted := getInstance(g, "recorded1").DeletionTimestamp.Time
	until := deleted.Add(24 * time.Hour)
	g.Eventually(func(g Gomega) {
		expectCondition(g, "recorded1", tenantryv1alpha1.ConditionReady, metav1.ConditionFalse, tenantryv1alpha1.ReasonRetained)
	}).Should(Succeed())
	podsLeft(g, "recorded1", 0, 0)

	// The plan now keeps released tenants for a minute only: the recorded end stands.
	g.Eventually(func(g Gomega) {
		p := &tenantryv1alpha1.TenantPlan{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "recorded-plan"}, p)).To(Succeed())
		p.Spec.RetentionPeriod = &metav1.Duration{Duration: time.Minute}
		g.Expect(k8s.Update(ctx, p)).To(Succeed())
	}).Should(Succeed())
	fakeClock.SetTime(until.Add(-time.Second))
	poke(g, "recorded1")
	expectNamespaceKept(g, ns)
	ti := getInstance(g, "recorded1")
	g.Expect(ti.Status.RetainUntil).NotTo(BeNil())
	g.Expect(ti.Status.RetainUntil.Time).To(BeTemporally("==", until))
	g.Expect(condition(ti, tenantryv1alpha1.ConditionReady).Reason).To(Equal(tenantryv1alpha1.ReasonRetained))

	fakeClock.SetTime(until.Add(controllers.DefaultReleaseDrainTimeout + time.Second))
	poke(g, "recorded1")
	g.Eventually(func(g Gomega) { g.Expect(namespaceDeleting(g, ns)).To(BeTrue()) }).Should(Succeed())
	expectReleased(g, "recorded1")
}
