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
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
)

// TestReconcileWithNothingToChangeWritesNothing runs a second reconciler — a freshly started
// operator, remembering nothing — over a Ready tenant: it sends no write, neither at once nor
// on later reconciles, until somebody changes a child; then it writes again and repairs it. Having
// no bound 联营 tenant, it reads none of the tenant's directory shards either.
func TestReconcileWithNothingToChangeWritesNothing(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	create(t, newPlan("quiet-plan", "SKU-QUIET"), newInstance("quiet1", "SKU-QUIET"))
	g.Eventually(func(g Gomega) { rollOut(g, "quiet1") }).Should(Succeed())
	g.Eventually(func(g Gomega) {
		expectCondition(g, "quiet1", tenantryv1alpha1.ConditionReady, "True", "")
	}).Should(Succeed())

	var writes, directoryReads atomic.Int64
	// The tenant has no bound 联营 tenant, so it has no directory shard to read either.
	reads := directoryReadCounter{Client: controllers.WriteCounter{Client: cached, Writes: &writes}, reads: &directoryReads}
	restarted := &controllers.TenantInstanceReconciler{
		Client: reads, Scheme: cached.Scheme(), Children: children,
		Clock: fakeClock, SuspendedHost: suspendedHost, SuspendedPort: suspendedPort, MerchantKey: merchantKey,
		RolloutNamespace: rolloutNamespace,
	}
	req := ctrl.Request{NamespacedName: client.ObjectKey{Name: "quiet1"}}
	// The cache must hold the tenant as the API server has it, or the restarted operator would
	// rightly see something to do.
	g.Eventually(func(g Gomega) {
		for _, o := range []client.Object{&tenantryv1alpha1.TenantInstance{}, &appsv1.Deployment{}} {
			key := req.NamespacedName
			if _, ok := o.(*appsv1.Deployment); ok {
				key = client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName("quiet1"), Name: controllers.AppName}
			}
			fresh, seen := o.DeepCopyObject().(client.Object), o.DeepCopyObject().(client.Object)
			g.Expect(k8s.Get(ctx, key, fresh)).To(Succeed())
			if _, ok := o.(*appsv1.Deployment); ok {
				g.Expect(controllers.ChildVersion(children, key, o)).To(Equal(fresh.GetResourceVersion()))
			} else {
				g.Expect(cached.Get(ctx, key, seen)).To(Succeed())
				g.Expect(seen.GetResourceVersion()).To(Equal(fresh.GetResourceVersion()))
			}
		}
	}).Should(Succeed())

	for range 3 {
		_, err := restarted.Reconcile(ctx, req)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(writes.Load()).To(BeZero(), "reconciles of a tenant in sync must not write")
	g.Expect(directoryReads.Load()).To(BeZero(), "a tenant with no bound 联营 tenant has no directory shard to read")

	// A hand edit of the spec is put back. (The suite's running operator repairs it too, so which
	// of the two writes first is not asserted; the fingerprint tests cover the detection.)
	d := deployment(g, "quiet1")
	d.Spec.Replicas = ptr.To[int32](5)
	g.Expect(k8s.Update(ctx, d)).To(Succeed())
	g.Eventually(func(g Gomega) {
		_, err := restarted.Reconcile(ctx, req)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(*deployment(g, "quiet1").Spec.Replicas).To(Equal(int32(2)))
	}).Should(Succeed())
}

// directoryReadCounter counts the reads of TenantDirectory shards.
type directoryReadCounter struct {
	client.Client
	reads *atomic.Int64
}

func (c directoryReadCounter) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*tenantryv1alpha1.TenantDirectory); ok {
		c.reads.Add(1)
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// TestStatusWritesOfOtherControllersCauseNoApply: the Deployment and quota controllers write the
// status (and the Deployment's revision annotation) of what the operator applied; that alone must
// not make a reconcile apply again. An edit of what the operator owns is still put back.
func TestStatusWritesOfOtherControllersCauseNoApply(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	plan := newPlan("status-plan", "SKU-STATUS")
	plan.Spec.Quota = corev1.ResourceList{corev1.ResourceLimitsCPU: resource.MustParse("4")}
	create(t, plan, newInstance("status1", "SKU-STATUS"))
	g.Eventually(func(g Gomega) { rollOut(g, "status1") }).Should(Succeed())
	g.Eventually(func(g Gomega) {
		expectCondition(g, "status1", tenantryv1alpha1.ConditionReady, "True", "")
	}).Should(Succeed())

	var writes atomic.Int64
	restarted := &controllers.TenantInstanceReconciler{
		Client: controllers.WriteCounter{Client: cached, Writes: &writes}, Scheme: cached.Scheme(), Children: children,
		Clock: fakeClock, SuspendedHost: suspendedHost, SuspendedPort: suspendedPort, MerchantKey: merchantKey,
		RolloutNamespace: rolloutNamespace,
	}
	req := ctrl.Request{NamespacedName: client.ObjectKey{Name: "status1"}}
	ns := tenantryv1alpha1.NamespaceName("status1")
	deployKey := client.ObjectKey{Namespace: ns, Name: controllers.AppName}
	quotaKey := client.ObjectKey{Namespace: ns, Name: tenantryv1alpha1.QuotaName}
	// inSync waits until the cache holds the Deployment and the quota as the API server has them,
	// and the instance too, with the running operator's status of that Deployment: otherwise the
	// restarted reconciler would write the status the running one is about to.
	inSync := func() {
		g.Eventually(func(g Gomega) {
			for key, o := range map[client.ObjectKey]client.Object{deployKey: &appsv1.Deployment{}, quotaKey: &corev1.ResourceQuota{}} {
				fresh := o.DeepCopyObject().(client.Object)
				g.Expect(k8s.Get(ctx, key, fresh)).To(Succeed())
				g.Expect(controllers.ChildVersion(children, key, o)).To(Equal(fresh.GetResourceVersion()))
			}
			live, seen := &tenantryv1alpha1.TenantInstance{}, &tenantryv1alpha1.TenantInstance{}
			g.Expect(k8s.Get(ctx, req.NamespacedName, live)).To(Succeed())
			g.Expect(cached.Get(ctx, req.NamespacedName, seen)).To(Succeed())
			g.Expect(seen.ResourceVersion).To(Equal(live.ResourceVersion))
			// ... with the running operator's status of the Deployment as it is now.
			d := &appsv1.Deployment{}
			g.Expect(k8s.Get(ctx, deployKey, d)).To(Succeed())
			g.Expect(live.Status.Replicas).To(Equal(d.Status.Replicas))
			g.Expect(live.Status.ReadyReplicas).To(Equal(d.Status.ReadyReplicas))
			// ... and on the plan's revision, which the rollout controller makes meanwhile.
			g.Expect(live.Status.Revision).NotTo(BeEmpty())
		}).Should(Succeed())
	}
	inSync()
	_, err := restarted.Reconcile(ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(writes.Load()).To(BeZero(), "first sight of a tenant in sync")

	// What the Deployment and quota controllers write.
	d := deployment(g, "status1")
	d.Annotations["deployment.kubernetes.io/revision"] = "1"
	g.Expect(k8s.Update(ctx, d)).To(Succeed())
	d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"}}
	g.Expect(k8s.Status().Update(ctx, d)).To(Succeed())
	quota := &corev1.ResourceQuota{}
	g.Expect(k8s.Get(ctx, quotaKey, quota)).To(Succeed())
	quota.Status = corev1.ResourceQuotaStatus{Hard: quota.Spec.Hard, Used: corev1.ResourceList{corev1.ResourceLimitsCPU: resource.MustParse("1")}}
	g.Expect(k8s.Status().Update(ctx, quota)).To(Succeed())
	inSync()
	for range 2 {
		_, err = restarted.Reconcile(ctx, req)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(writes.Load()).To(BeZero(), "status writes of other controllers must not cause an apply")

	// Edits of what the operator owns are put back: the quota's spec, a label of the Deployment.
	g.Expect(k8s.Get(ctx, quotaKey, quota)).To(Succeed())
	quota.Spec.Hard[corev1.ResourceLimitsCPU] = resource.MustParse("8")
	g.Expect(k8s.Update(ctx, quota)).To(Succeed())
	d = deployment(g, "status1")
	delete(d.Labels, tenantryv1alpha1.LabelInstance)
	g.Expect(k8s.Update(ctx, d)).To(Succeed())
	g.Eventually(func(g Gomega) {
		_, err := restarted.Reconcile(ctx, req)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(k8s.Get(ctx, quotaKey, quota)).To(Succeed())
		g.Expect(quota.Spec.Hard[corev1.ResourceLimitsCPU]).To(Equal(resource.MustParse("4")))
		g.Expect(deployment(g, "status1").Labels).To(HaveKeyWithValue(tenantryv1alpha1.LabelInstance, "status1"))
	}).Should(Succeed())
}
