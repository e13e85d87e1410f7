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
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
	"github.com/tenantry/tenantry/internal/childcache"
	"github.com/tenantry/tenantry/internal/testenv"
)

// staleInstances serves TenantInstance reads from a snapshot while one is set: a cache that has
// not seen the latest writes yet.
type staleInstances struct {
	client.Client
	mu       sync.Mutex
	snapshot *tenantryv1alpha1.TenantInstance
}

func (c *staleInstances) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.mu.Lock()
	snap := c.snapshot
	c.mu.Unlock()
	if ti, ok := obj.(*tenantryv1alpha1.TenantInstance); ok && snap != nil && key.Name == snap.Name {
		snap.DeepCopyInto(ti)
		return nil
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

func (c *staleInstances) serve(snap *tenantryv1alpha1.TenantInstance) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.snapshot = snap
}

// TestStatusIsNotLostBehindAStaleCache: a reconcile working from a cached TenantInstance older
// than the operator's own last status write must neither skip a status that differs from that
// write (because it equals the stale one) nor patch from the stale one; it comes back shortly.
// It runs on an API server of its own with one reconciler and no manager, so that nothing else
// writes the status meanwhile.
func TestStatusIsNotLostBehindAStaleCache(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env, cfg, err := testenv.Start()
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = env.Stop() }()

	opts := controllers.CacheOptions()
	opts.Scheme = testenv.Scheme()
	// No controller starts informers here: reads start them.
	opts.ReaderFailOnMissingInformer = false
	informers, err := cache.New(cfg, opts)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(controllers.IndexFields(ctx, informers)).To(Succeed())
	go func() { _ = informers.Start(ctx) }()
	g.Expect(informers.WaitForCacheSync(ctx)).To(BeTrue())
	direct, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	cachedClient, err := client.New(cfg, client.Options{Scheme: testenv.Scheme(), Cache: &client.CacheOptions{Reader: informers}})
	g.Expect(err).NotTo(HaveOccurred())
	children, err := childcache.New(cfg, nil, controllers.FieldOwner)
	g.Expect(err).NotTo(HaveOccurred())
	go func() { _ = children.Start(ctx) }()
	g.Expect(children.WaitForCacheSync(ctx)).To(BeTrue())
	stale := &staleInstances{Client: cachedClient}
	r := &controllers.TenantInstanceReconciler{Client: stale, Scheme: testenv.Scheme(), Clock: fakeClock, Children: children}

	g.Expect(direct.Create(ctx, newPlan("stale-plan", "SKU-STALE"))).To(Succeed())
	g.Expect(direct.Create(ctx, newInstance("stale1", "SKU-STALE"))).To(Succeed())
	req := ctrl.Request{NamespacedName: client.ObjectKey{Name: "stale1"}}
	deployKey := client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName("stale1"), Name: controllers.AppName}
	// synced waits until the cache holds obj as the API server has it.
	synced := func(key client.ObjectKey, obj client.Object) {
		g.Eventually(func(g Gomega) {
			fresh, seen := obj.DeepCopyObject().(client.Object), obj.DeepCopyObject().(client.Object)
			g.Expect(direct.Get(ctx, key, fresh)).To(Succeed())
			if _, ok := obj.(*appsv1.Deployment); ok {
				g.Expect(controllers.ChildVersion(children, key, obj)).To(Equal(fresh.GetResourceVersion()))
				return
			}
			g.Expect(informers.Get(ctx, key, seen)).To(Succeed())
			g.Expect(seen.GetResourceVersion()).To(Equal(fresh.GetResourceVersion()))
		}).Should(Succeed())
	}
	reconcile := func() ctrl.Result {
		res, err := r.Reconcile(ctx, req)
		g.Expect(err).NotTo(HaveOccurred())
		return res
	}
	// available plays the Deployment controller: n of the wanted replicas available.
	available := func(n int32) {
		d := &appsv1.Deployment{}
		g.Expect(direct.Get(ctx, deployKey, d)).To(Succeed())
		want := ptr.Deref(d.Spec.Replicas, 1)
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: want, UpdatedReplicas: want, ReadyReplicas: n, AvailableReplicas: n}
		g.Expect(direct.Status().Update(ctx, d)).To(Succeed())
		synced(deployKey, &appsv1.Deployment{})
	}
	ready := func() bool {
		ti := &tenantryv1alpha1.TenantInstance{}
		g.Expect(direct.Get(ctx, req.NamespacedName, ti)).To(Succeed())
		c := condition(ti, tenantryv1alpha1.ConditionReady)
		return c != nil && c.Status == "True"
	}

	// Provisioned and Ready; the cache has the Ready status.
	g.Eventually(func(g Gomega) {
		reconcile()
		g.Expect(controllers.ChildVersion(children, deployKey, &appsv1.Deployment{})).NotTo(BeEmpty())
	}).Should(Succeed())
	available(2)
	synced(req.NamespacedName, &tenantryv1alpha1.TenantInstance{})
	reconcile()
	g.Expect(ready()).To(BeTrue())
	synced(req.NamespacedName, &tenantryv1alpha1.TenantInstance{})
	readySnapshot := &tenantryv1alpha1.TenantInstance{}
	g.Expect(informers.Get(ctx, req.NamespacedName, readySnapshot)).To(Succeed())

	// A replica goes away: the operator writes "not Ready", and from then on its cache does not
	// see that write (a cache never goes back, so it is stale from the write on: the operator
	// reads its cache right after a status write, to forget writes the cache already holds).
	available(1)
	stale.serve(readySnapshot)
	reconcile()
	g.Expect(ready()).To(BeFalse())

	// It comes back, but the reconcile sees the TenantInstance as it was before the last status
	// write: Ready, as it would now compute. It must not take that for "nothing to write".
	available(2)
	res := reconcile()
	g.Expect(res.RequeueAfter).To(BeNumerically(">", 0), "a reconcile that could not write its status must come back")
	g.Expect(ready()).To(BeFalse(), "nothing is patched from a stale status")

	// Once the cache has caught up, the status is written.
	stale.serve(nil)
	synced(req.NamespacedName, &tenantryv1alpha1.TenantInstance{})
	reconcile()
	g.Expect(ready()).To(BeTrue())
}
