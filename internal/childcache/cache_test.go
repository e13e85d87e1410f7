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

package childcache_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/childcache"
	"github.com/tenantry/tenantry/internal/testenv"
)

// startAPIServer starts an API server for one test and returns a context ending with the test
// and a client of the server.
func startAPIServer(t *testing.T) (context.Context, *rest.Config, client.Client) {
	t.Helper()
	g := NewWithT(t)
	env, cfg, err := testenv.Start()
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	k8s, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	return ctx, cfg, k8s
}

// startCache starts a child cache whose source feeds queue, and waits for its first lists.
func startCache(ctx context.Context, t *testing.T, cfg *rest.Config, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) *childcache.Cache {
	t.Helper()
	g := NewWithT(t)
	children, err := childcache.New(cfg, nil, "tenantry-operator")
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(queue.ShutDown)
	g.Expect(children.Source().Start(ctx, queue)).To(Succeed())
	go func() { _ = children.Start(ctx) }()
	g.Expect(children.Source().WaitForSync(ctx)).To(Succeed())
	return children
}

// The cache holds what the operator made, and nothing else: a ConfigMap without the managed-by
// label is not in it, one with the label is, a Secret is never in it (the operator may not read
// Secrets), nor any kind it does not hold. Its source enqueues the tenant of every change.
func TestCacheHoldsOnlyManagedChildren(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	g := NewWithT(t)
	ctx, cfg, k8s := startAPIServer(t)
	queue := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	children := startCache(ctx, t, cfg, queue)

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tenantryv1alpha1.NamespaceName("c1")}}
	g.Expect(k8s.Create(ctx, ns)).To(Succeed())
	managed := map[string]string{tenantryv1alpha1.LabelManagedBy: tenantryv1alpha1.ManagedByValue}
	mine := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "mine", Labels: managed},
		Data: map[string]string{"k": "v"}}
	theirs := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "theirs"}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "secret", Labels: managed}}
	g.Expect(k8s.Create(ctx, secret)).To(Succeed())
	g.Expect(k8s.Create(ctx, theirs)).To(Succeed())
	g.Expect(k8s.Create(ctx, mine)).To(Succeed())

	configMap := schema.GroupKind{Kind: "ConfigMap"}
	g.Eventually(func(g Gomega) {
		rec, ok := children.Lookup(configMap, client.ObjectKeyFromObject(mine))
		g.Expect(ok).To(BeTrue())
		g.Expect(rec.ResourceVersion()).To(Equal(mine.ResourceVersion))
	}).Should(Succeed())
	// The tenant of the ConfigMap was enqueued.
	g.Eventually(queue.Len).Should(Equal(1))
	req, _ := queue.Get()
	g.Expect(req.Name).To(Equal("c1"))
	queue.Done(req)
	// Created before mine, so the cache has had its event if it were to hold it.
	_, ok := children.Lookup(configMap, client.ObjectKeyFromObject(theirs))
	g.Expect(ok).To(BeFalse(), "a ConfigMap without the label")
	_, ok = children.Lookup(schema.GroupKind{Kind: "Secret"}, client.ObjectKeyFromObject(secret))
	g.Expect(ok).To(BeFalse(), "a Secret")
	_, ok = children.Lookup(schema.GroupKind{Kind: "Pod"}, client.ObjectKey{Namespace: ns.Name, Name: "x"})
	g.Expect(ok).To(BeFalse(), "a kind the cache does not hold")

	// A Deployment's counts, as the API server has them.
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "app", Labels: managed},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "a"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "a"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}},
			},
		},
	}
	g.Expect(k8s.Create(ctx, d)).To(Succeed())
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 2, AvailableReplicas: 2}
	g.Expect(k8s.Status().Update(ctx, d)).To(Succeed())
	g.Eventually(func(g Gomega) {
		rec, ok := children.Lookup(schema.GroupKind{Group: "apps", Kind: "Deployment"}, client.ObjectKeyFromObject(d))
		g.Expect(ok).To(BeTrue())
		g.Expect(rec.ResourceVersion()).To(Equal(d.ResourceVersion))
		counts, ok := rec.Deployment()
		g.Expect(ok).To(BeTrue())
		g.Expect(counts).To(Equal(childcache.DeploymentCounts{
			Replicas: ptr.To[int32](3), Generation: 1, ObservedGeneration: 1,
			StatusReplicas: 3, UpdatedReplicas: 3, ReadyReplicas: 2, AvailableReplicas: 2,
		}))
	}).Should(Succeed())

	// The namespace is not labelled, so not in the cache, but can be read live.
	_, ok = children.Lookup(schema.GroupKind{Kind: "Namespace"}, client.ObjectKey{Name: ns.Name})
	g.Expect(ok).To(BeFalse())
	live, err := children.LiveNamespace(ctx, ns.Name)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(live.UID).To(Equal(ns.UID))

	g.Expect(k8s.Delete(ctx, mine)).To(Succeed())
	g.Eventually(func() bool {
		_, ok := children.Lookup(configMap, client.ObjectKeyFromObject(mine))
		return ok
	}).Should(BeFalse())
}

// A change of a tenant's child puts the tenant ahead of new work: what the first list finds is
// enqueued at handler.LowPriority, a child the operator has just created at 0, and a change or
// deletion of a child at ChangePriority, so that the reconcile finishing a tenant already under
// way (its Deployment now available) runs before the first reconcile of a tenant bought after it.
func TestSourcePutsChangesAheadOfNewTenants(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an API server")
	}
	g := NewWithT(t)
	ctx, cfg, k8s := startAPIServer(t)
	managed := map[string]string{tenantryv1alpha1.LabelManagedBy: tenantryv1alpha1.ManagedByValue}
	configMap := func(tenant string) *corev1.ConfigMap {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tenantryv1alpha1.NamespaceName(tenant)}}
		g.Expect(k8s.Create(ctx, ns)).To(Succeed())
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "info", Labels: managed},
			Data: map[string]string{"k": "v"}}
		g.Expect(k8s.Create(ctx, cm)).To(Succeed())
		return cm
	}
	listed := configMap("listed")

	queue := priorityqueue.New[reconcile.Request]("children")
	startCache(ctx, t, cfg, queue)
	next := func() (string, int) {
		req, priority, shutdown := queue.GetWithPriority()
		g.Expect(shutdown).To(BeFalse())
		queue.Done(req)
		return req.Name, priority
	}
	g.Eventually(queue.Len).Should(Equal(1))
	name, priority := next()
	g.Expect(name).To(Equal("listed"))
	g.Expect(priority).To(Equal(handler.LowPriority), "found by the first list")

	// A tenant under way, then a new one: the new one's child is enqueued first, at 0, and the
	// change of the first one's child, enqueued after it, is handed out before it.
	underWay := configMap("under-way")
	g.Eventually(queue.Len).Should(Equal(1))
	name, priority = next()
	g.Expect(name).To(Equal("under-way"))
	g.Expect(priority).To(BeZero(), "a child just created")
	configMap("new")
	g.Eventually(queue.Len).Should(Equal(1))
	underWay.Data = map[string]string{"k": "changed"}
	g.Expect(k8s.Update(ctx, underWay)).To(Succeed())
	g.Eventually(queue.Len).Should(Equal(2))
	name, priority = next()
	g.Expect(name).To(Equal("under-way"))
	g.Expect(priority).To(Equal(childcache.ChangePriority), "a child changed")
	name, priority = next()
	g.Expect(name).To(Equal("new"))
	g.Expect(priority).To(BeZero())

	// A deleted child is repaired ahead of new work too.
	g.Expect(k8s.Delete(ctx, listed)).To(Succeed())
	g.Eventually(queue.Len).Should(Equal(1))
	name, priority = next()
	g.Expect(name).To(Equal("listed"))
	g.Expect(priority).To(Equal(childcache.ChangePriority), "a child deleted")
}
