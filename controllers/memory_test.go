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

package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/childcache"
	"github.com/tenantry/tenantry/internal/statusmemory"
	"github.com/tenantry/tenantry/internal/testenv"
)

// lone is an API server of its own with the operator's caches over it and no manager: the tests
// drive reconcilers directly, and nothing else writes what they look at.
type lone struct {
	ctx       context.Context
	direct    client.Client
	cached    client.Client
	informers cache.Cache
	children  *childcache.Cache
}

func startLone(t *testing.T) *lone {
	t.Helper()
	g := NewWithT(t)
	env, cfg, err := testenv.Start()
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	opts := CacheOptions()
	opts.Scheme = testenv.Scheme()
	// No controller starts informers here: reads start them.
	opts.ReaderFailOnMissingInformer = false
	informers, err := cache.New(cfg, opts)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(indexFields(ctx, informers)).To(Succeed())
	go func() { _ = informers.Start(ctx) }()
	g.Expect(informers.WaitForCacheSync(ctx)).To(BeTrue())
	children, err := childcache.New(cfg, nil, FieldOwner)
	g.Expect(err).NotTo(HaveOccurred())
	go func() { _ = children.Start(ctx) }()
	g.Expect(children.WaitForCacheSync(ctx)).To(BeTrue())
	l := &lone{ctx: ctx, informers: informers, children: children}
	l.direct, err = client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	l.cached, err = client.New(cfg, client.Options{Scheme: testenv.Scheme(), Cache: &client.CacheOptions{Reader: informers}})
	g.Expect(err).NotTo(HaveOccurred())
	return l
}

// reconciler is a freshly started operator, remembering nothing, writing through c (the cached
// client when nil).
func (l *lone) reconciler(c client.Client) *TenantInstanceReconciler {
	if c == nil {
		c = l.cached
	}
	return &TenantInstanceReconciler{
		Client: c, Scheme: l.cached.Scheme(), Children: l.children,
		Clock: clocktesting.NewFakePassiveClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
	}
}

// tenant creates a plan for sku and an instance of it, and waits until the cache has both.
func (l *lone) tenant(g *WithT, name, sku string) ctrl.Request {
	plan := &tenantryv1alpha1.TenantPlan{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-plan"},
		Spec: tenantryv1alpha1.TenantPlanSpec{
			SKUs:     []string{sku},
			App:      tenantryv1alpha1.AppSpec{Image: "registry.example.com/app:1.0", Port: 8080},
			Replicas: ptr.To[int32](2),
			Domain:   tenantryv1alpha1.DomainSettings{BaseDomain: "apps.example.com", IngressClassName: "nginx"},
		},
	}
	instance := &tenantryv1alpha1.TenantInstance{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: tenantryv1alpha1.TenantInstanceSpec{
			SKU: sku,
			Order: tenantryv1alpha1.Order{
				OrderID: "CS" + name, OrderLineID: "CS" + name + "-000001",
				ChargingMode: tenantryv1alpha1.ChargingPeriod,
			},
			Customer: &tenantryv1alpha1.Customer{CustomerID: "c-" + name, CustomerName: "Example Co"},
		},
	}
	g.Expect(l.direct.Create(l.ctx, plan)).To(Succeed())
	g.Expect(l.direct.Create(l.ctx, instance)).To(Succeed())
	l.synced(g, client.ObjectKey{Name: plan.Name}, &tenantryv1alpha1.TenantPlan{})
	l.synced(g, client.ObjectKey{Name: name}, &tenantryv1alpha1.TenantInstance{})
	return ctrl.Request{NamespacedName: client.ObjectKey{Name: name}}
}

// synced waits until the cache the operator reads obj's kind from holds it as the API server has it.
func (l *lone) synced(g *WithT, key client.ObjectKey, obj client.Object) {
	g.Eventually(func(g Gomega) {
		fresh, seen := obj.DeepCopyObject().(client.Object), obj.DeepCopyObject().(client.Object)
		g.Expect(l.direct.Get(l.ctx, key, fresh)).To(Succeed())
		// The operator's own kinds are in the manager's cache, what it makes in the child cache.
		if gvk, err := apiutil.GVKForObject(obj, testenv.Scheme()); err == nil && gvk.Group != tenantryv1alpha1.GroupVersion.Group {
			g.Expect(ChildVersion(l.children, key, obj)).To(Equal(fresh.GetResourceVersion()), "%T %s", obj, key)
			return
		}
		g.Expect(l.informers.Get(l.ctx, key, seen)).To(Succeed())
		g.Expect(seen.GetResourceVersion()).To(Equal(fresh.GetResourceVersion()), "%T %s", obj, key)
	}).Should(Succeed())
}

// conflictingStatus answers every status patch with a Conflict, as the API server does when the
// instance was written since it was read.
type conflictingStatus struct {
	client.Client
	conflicts *atomic.Int64
}

func (c conflictingStatus) Status() client.SubResourceWriter {
	return conflictingStatusWriter{SubResourceWriter: c.Client.Status(), conflicts: c.conflicts}
}

type conflictingStatusWriter struct {
	client.SubResourceWriter
	conflicts *atomic.Int64
}

func (w conflictingStatusWriter) Patch(_ context.Context, o client.Object, _ client.Patch, _ ...client.SubResourcePatchOption) error {
	w.conflicts.Add(1)
	return apierrors.NewConflict(schema.GroupResource{Group: tenantryv1alpha1.GroupVersion.Group, Resource: "tenantinstances"},
		o.GetName(), errors.New("the object has been modified; please apply your changes to the latest version and try again"))
}

// TestAConflictingStatusWriteIsRetriedShortly: a status patch that conflicts is retried a second
// later, without an error (which controller-runtime would log and back off from).
func TestAConflictingStatusWriteIsRetriedShortly(t *testing.T) {
	g := NewWithT(t)
	l := startLone(t)
	req := l.tenant(g, "conflict1", "SKU-CONFLICT")
	var conflicts atomic.Int64
	r := l.reconciler(conflictingStatus{Client: l.cached, conflicts: &conflicts})

	res, err := r.Reconcile(l.ctx, req)
	g.Expect(conflicts.Load()).To(BeNumerically(">", 0), "the reconcile patched the status")
	g.Expect(err).NotTo(HaveOccurred(), "a conflict is retried, not returned as an error")
	g.Expect(res.RequeueAfter).To(Equal(time.Second))
}

func TestOnlyConflicts(t *testing.T) {
	conflict := apierrors.NewConflict(schema.GroupResource{Resource: "things"}, "a", errors.New("modified"))
	other := errors.New("boom")
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"nil":                               {nil, false},
		"a conflict":                        {conflict, true},
		"a wrapped conflict":                {fmt.Errorf("patching status: %w", conflict), true},
		"an aggregate of a conflict":        {kerrors.NewAggregate([]error{nil, fmt.Errorf("patching status: %w", conflict)}), true},
		"an aggregate of conflicts, nested": {kerrors.NewAggregate([]error{kerrors.NewAggregate([]error{conflict}), conflict}), true},
		"a join of conflicts":               {errors.Join(conflict, fmt.Errorf("x: %w", conflict)), true},
		"optional steps that conflicted":    {&optionalStepError{err: kerrors.NewAggregate([]error{conflict})}, true},
		"a conflict and another error":      {kerrors.NewAggregate([]error{conflict, other}), false},
		"a join of a conflict and another":  {errors.Join(conflict, other), false},
		"not found":                         {apierrors.NewNotFound(schema.GroupResource{Resource: "things"}, "a"), false},
		"another error":                     {other, false},
	} {
		if got := onlyConflicts(tc.err); got != tc.want {
			t.Errorf("%s: onlyConflicts(%v) = %v, want %v", name, tc.err, got, tc.want)
		}
	}
}

// TestAnInstanceGoneWithoutReleaseIsForgotten: an instance deleted without a release (its
// finalizer removed by hand) leaves nothing behind in the operator's memory.
func TestAnInstanceGoneWithoutReleaseIsForgotten(t *testing.T) {
	g := NewWithT(t)
	l := startLone(t)
	req := l.tenant(g, "gone1", "SKU-GONE")
	ns := tenantryv1alpha1.NamespaceName("gone1")
	r := l.reconciler(nil)
	remembered := func() (applied, status bool) {
		_, applied = r.applied.Recall(namespaceKind, "", ns)
		// A status write is remembered as long as a cached version before it would be behind.
		_, status = r.statuses.Behind("gone1", "1")
		return applied, status
	}
	g.Eventually(func(g Gomega) {
		_, err := r.Reconcile(l.ctx, req)
		g.Expect(err).NotTo(HaveOccurred())
		applied, _ := remembered()
		g.Expect(applied).To(BeTrue(), "the applied objects are remembered")
	}).Should(Succeed())
	// A status write the cache has not seen yet (the memory drops those it has).
	r.statuses.Remember("gone1", "999999999", "h")
	_, status := remembered()
	g.Expect(status).To(BeTrue(), "the status write is remembered")

	ti := &tenantryv1alpha1.TenantInstance{}
	g.Expect(l.direct.Get(l.ctx, req.NamespacedName, ti)).To(Succeed())
	patch := client.MergeFrom(ti.DeepCopy())
	controllerutil.RemoveFinalizer(ti, tenantryv1alpha1.Finalizer)
	g.Expect(l.direct.Patch(l.ctx, ti, patch)).To(Succeed())
	g.Expect(l.direct.Delete(l.ctx, ti)).To(Succeed())
	g.Eventually(func() error {
		return l.cached.Get(l.ctx, req.NamespacedName, &tenantryv1alpha1.TenantInstance{})
	}).Should(Satisfy(apierrors.IsNotFound))

	_, err := r.Reconcile(l.ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	applied, status := remembered()
	g.Expect(applied).To(BeFalse(), "the applied objects of a gone instance are forgotten")
	g.Expect(status).To(BeFalse(), "the status write of a gone instance is forgotten")
}

// TestAHandEditMadeWhileNoOperatorRanIsRepairedAfterARestart: edits of what the operator applied,
// made while no operator ran, are put back by the first reconcile after a restart; and a restart
// over a tenant in sync still sends no write.
func TestAHandEditMadeWhileNoOperatorRanIsRepairedAfterARestart(t *testing.T) {
	g := NewWithT(t)
	l := startLone(t)
	req := l.tenant(g, "edit1", "SKU-EDIT")
	ns := tenantryv1alpha1.NamespaceName("edit1")
	deployKey := client.ObjectKey{Namespace: ns, Name: AppName}
	serviceKey := client.ObjectKey{Namespace: ns, Name: AppName}
	ingressKey := client.ObjectKey{Namespace: ns, Name: AppName}
	configKey := client.ObjectKey{Namespace: ns, Name: TenantInfoName}
	deploy, svc, ing, info := &appsv1.Deployment{}, &corev1.Service{}, &networkingv1.Ingress{}, &corev1.ConfigMap{}

	first := l.reconciler(nil)
	g.Eventually(func(g Gomega) {
		_, err := first.Reconcile(l.ctx, req)
		g.Expect(err).NotTo(HaveOccurred())
		for key, o := range map[client.ObjectKey]client.Object{deployKey: deploy, ingressKey: ing} {
			g.Expect(ChildVersion(l.children, key, o)).NotTo(BeEmpty(), "%T %s", o, key)
		}
		ti := &tenantryv1alpha1.TenantInstance{}
		g.Expect(l.direct.Get(l.ctx, req.NamespacedName, ti)).To(Succeed())
		g.Expect(ti.Status.URL).NotTo(BeEmpty())
	}).Should(Succeed())
	g.Expect(l.direct.Get(l.ctx, deployKey, deploy)).To(Succeed())
	g.Expect(l.direct.Get(l.ctx, ingressKey, ing)).To(Succeed())
	image, host := deploy.Spec.Template.Spec.Containers[0].Image, ing.Spec.Rules[0].Host

	// The operator stops; meanwhile somebody edits what it applied: the Deployment's image and
	// replicas, the Ingress host, a label of the Service (removed), the tenant-info data.
	deploy.Spec.Replicas = ptr.To[int32](5)
	deploy.Spec.Template.Spec.Containers[0].Image = "registry.example.com/other:6.6"
	g.Expect(l.direct.Update(l.ctx, deploy)).To(Succeed())
	ing.Spec.Rules[0].Host = "elsewhere.example.com"
	g.Expect(l.direct.Update(l.ctx, ing)).To(Succeed())
	g.Expect(l.direct.Get(l.ctx, serviceKey, svc)).To(Succeed())
	delete(svc.Labels, tenantryv1alpha1.LabelInstance)
	g.Expect(l.direct.Update(l.ctx, svc)).To(Succeed())
	g.Expect(l.direct.Get(l.ctx, configKey, info)).To(Succeed())
	wantInfo := info.Data["url"]
	info.Data["url"] = "http://elsewhere.example.com"
	g.Expect(l.direct.Update(l.ctx, info)).To(Succeed())
	inSync := func() {
		l.synced(g, req.NamespacedName, &tenantryv1alpha1.TenantInstance{})
		l.synced(g, deployKey, &appsv1.Deployment{})
		l.synced(g, ingressKey, &networkingv1.Ingress{})
		l.synced(g, serviceKey, &corev1.Service{})
		l.synced(g, configKey, &corev1.ConfigMap{})
	}
	inSync()

	// The first reconcile after the restart puts everything back.
	_, err := l.reconciler(nil).Reconcile(l.ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(l.direct.Get(l.ctx, deployKey, deploy)).To(Succeed())
	g.Expect(deploy.Spec.Replicas).To(Equal(ptr.To[int32](2)))
	g.Expect(deploy.Spec.Template.Spec.Containers[0].Image).To(Equal(image))
	g.Expect(l.direct.Get(l.ctx, ingressKey, ing)).To(Succeed())
	g.Expect(ing.Spec.Rules[0].Host).To(Equal(host))
	g.Expect(l.direct.Get(l.ctx, serviceKey, svc)).To(Succeed())
	g.Expect(svc.Labels).To(HaveKeyWithValue(tenantryv1alpha1.LabelInstance, "edit1"))
	g.Expect(l.direct.Get(l.ctx, configKey, info)).To(Succeed())
	g.Expect(info.Data).To(HaveKeyWithValue("url", wantInfo))

	// Another restart over the tenant, now in sync, sends nothing.
	inSync()
	var writes atomic.Int64
	restarted := l.reconciler(WriteCounter{Client: l.cached, Writes: &writes})
	for range 2 {
		_, err := restarted.Reconcile(l.ctx, req)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(writes.Load()).To(BeZero(), "a restart over a tenant in sync must not write")
}

// TestAReadOlderThanTheLastStatusWriteIsNotPatchedFrom: a reconcile that read the instance
// before the cache held the operator's last status write neither compares its status with that
// read nor patches from it, even when the cache catches up while the reconcile runs (the memory
// of status writes then forgets the write). It writes nothing and comes back: shortly while the
// cache is behind, at once when it has caught up. It once judged by the memory only at the end,
// and then patched from the read: a change of SKU made just before the first status write was
// reported without its PlanChanged Event.
func TestAReadOlderThanTheLastStatusWriteIsNotPatchedFrom(t *testing.T) {
	g := NewWithT(t)
	l := startLone(t)
	req := l.tenant(g, "behind1", "SKU-BEHIND")
	r := l.reconciler(nil)
	// The instance as bought: no status yet. A reconcile reads this while the cache is behind.
	stale := &tenantryv1alpha1.TenantInstance{}
	g.Expect(l.direct.Get(l.ctx, req.NamespacedName, stale)).To(Succeed())

	_, err := r.Reconcile(l.ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	written := &tenantryv1alpha1.TenantInstance{}
	g.Expect(l.direct.Get(l.ctx, req.NamespacedName, written)).To(Succeed())
	g.Expect(written.Status.Plan).To(Equal("behind1-plan"), "the reconcile wrote the status")
	l.synced(g, req.NamespacedName, &tenantryv1alpha1.TenantInstance{})

	// The cache has not seen that write yet (the memory is told so), and the next reconcile
	// reads the instance as bought. It resolves no plan (its status has none).
	r.statuses.Remember(req.Name, written.ResourceVersion, statusmemory.Hash(written.Status))
	s := r.newScope(stale.DeepCopy())
	g.Expect(r.finalizeStatus(l.ctx, s, nil)).To(Succeed())
	g.Expect(s.statusRetry).To(Equal(statusRetryAfter), "the reconcile comes back once the cache holds the write")
	after := &tenantryv1alpha1.TenantInstance{}
	g.Expect(l.direct.Get(l.ctx, req.NamespacedName, after)).To(Succeed())
	g.Expect(after.ResourceVersion).To(Equal(written.ResourceVersion), "nothing was written while the cache was behind")

	// The same, but the cache catches up while the reconcile runs.
	s = r.newScope(stale.DeepCopy())
	r.statuses.Seen(req.Name, written.ResourceVersion)
	g.Expect(r.finalizeStatus(l.ctx, s, nil)).To(Succeed())
	g.Expect(s.statusRetry).To(BeNumerically(">", 0), "the reconcile comes back to compare with what the cache holds now")
	g.Expect(s.statusRetry).To(BeNumerically("<", statusRetryAfter), "at once: the cache holds the write")
	g.Expect(l.direct.Get(l.ctx, req.NamespacedName, after)).To(Succeed())
	g.Expect(after.ResourceVersion).To(Equal(written.ResourceVersion), "nothing was written from the older read")
}
