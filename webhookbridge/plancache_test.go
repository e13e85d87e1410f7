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
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/testenv"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// TestPlansFromCache gives the bridge its watch cache as Options.Plans, and a direct
// client that refuses to list TenantPlans, so every plan it resolves comes from the cache: plans
// added or deleted are served, or not, once the cache has seen the change.
func TestPlansFromCache(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := t.Context()
	plans := startedCache(t)

	noPlanLists := intercepted(t, interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if _, ok := list.(*tenantryv1alpha1.TenantPlanList); ok {
				return errors.New("TenantPlans must be read from the cache")
			}
			return c.List(ctx, list, opts...)
		},
	})
	audit := &auditLines{}
	base := newBridge(t, func(o *webhookbridge.Options) {
		o.Client, o.Plans, o.Logger = noPlanLists, plans, audit.logger()
	})
	c := marketFor(t, base)

	// A plan the cache has.
	o := newOrder(skuSmall)
	a, err := c.Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, a.InstanceID).Spec.SKU).To(Equal(skuSmall))

	// A plan created later, for a new SKU, is served once the cache has seen it.
	const sku = "tenantry.cached"
	p := plan("plan-cached", "1", "1Gi", sku)
	g.Expect(k8s.Create(ctx, p)).To(Succeed())
	t.Cleanup(func() { _ = client.IgnoreNotFound(k8s.Delete(context.Background(), p)) })
	g.Eventually(func() error {
		return plans.Get(ctx, client.ObjectKeyFromObject(p), &tenantryv1alpha1.TenantPlan{})
	}).Should(Succeed())
	o = newOrder(sku)
	a, err = c.Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, a.InstanceID).Spec.SKU).To(Equal(sku))

	// Once the cache has seen the plan deleted, the SKU is unknown again: 000005, nothing created.
	g.Expect(k8s.Delete(ctx, p)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(plans.Get(ctx, client.ObjectKeyFromObject(p), &tenantryv1alpha1.TenantPlan{}))
	}).Should(BeTrue())
	before := snapshot(g)
	o = newOrder(sku)
	a, err = c.Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeInternalError)
	g.Expect(audit.reasons("newInstance")).To(Equal([]string{"", "", "unknown_sku"}))
	g.Expect(snapshot(g)).To(Equal(before))
}

// startedCache is the bridge's watch cache (webhookbridge.NewCache), started and synced.
func startedCache(t *testing.T) cache.Cache {
	t.Helper()
	g := NewWithT(t)
	ctx := t.Context()
	c, err := webhookbridge.NewCache(ctx, k8sConfig, testenv.Scheme(), nil)
	g.Expect(err).NotTo(HaveOccurred())
	go func() { _ = c.Start(ctx) }()
	g.Expect(c.WaitForCacheSync(ctx)).To(BeTrue())
	return c
}

// intercepted is a direct client of the test API server whose requests go through funcs.
func intercepted(t *testing.T, funcs interceptor.Funcs) client.WithWatch {
	t.Helper()
	direct, err := client.NewWithWatch(k8sConfig, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatalf("building a client: %v", err)
	}
	return interceptor.NewClient(direct, funcs)
}

// countInstanceGets is an interceptor Get that counts, in *n under mu, the TenantInstance reads
// that go through it.
func countInstanceGets(mu *sync.Mutex, n *int) func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
	return func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		if _, ok := obj.(*tenantryv1alpha1.TenantInstance); ok {
			mu.Lock()
			*n++
			mu.Unlock()
		}
		return c.Get(ctx, key, obj, opts...)
	}
}

// TestInstanceNamesFromCache gives the bridge its watch cache as Options.Instances and counts
// the TenantInstance reads and creates its direct client sends. A new purchase is one Create and
// no read; a resend, once the cache holds the name, is one read and nothing written. When the
// cache has not seen an instance yet, the Create's AlreadyExists leads to the same answers as a
// read would have: success for the same order line, and an error, with nothing changed, for an
// instance of that name that belongs to another order line.
func TestInstanceNamesFromCache(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := t.Context()
	names := startedCache(t)

	var mu sync.Mutex
	var gets, creates int
	counting := intercepted(t, interceptor.Funcs{
		Get: countInstanceGets(&mu, &gets),
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if _, ok := obj.(*tenantryv1alpha1.TenantInstance); ok {
				mu.Lock()
				creates++
				mu.Unlock()
			}
			return c.Create(ctx, obj, opts...)
		},
	})
	requests := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		g, c := gets, creates
		gets, creates = 0, 0
		return g, c
	}
	c := marketFor(t, newBridge(t, func(o *webhookbridge.Options) { o.Client, o.Instances = counting, names }))

	o := newOrder(skuSmall)
	a, err := c.Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, a.InstanceID).Spec.Order.OrderID).To(Equal(o.OrderID))
	reads, writes := requests()
	g.Expect([]int{reads, writes}).To(Equal([]int{0, 1}), "TenantInstance reads and creates of a new purchase")

	g.Eventually(func() error {
		return names.Get(ctx, client.ObjectKey{Name: a.InstanceID}, &metav1.PartialObjectMetadata{
			TypeMeta: metav1.TypeMeta{APIVersion: tenantryv1alpha1.GroupVersion.String(), Kind: "TenantInstance"},
		})
	}).Should(Succeed())
	before := snapshot(g)
	a, err = c.Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	reads, writes = requests()
	g.Expect([]int{reads, writes}).To(Equal([]int{1, 0}), "TenantInstance reads and creates of a resend")
	g.Expect(snapshot(g)).To(Equal(before))

	// A cache that has not seen the instance yet.
	stale := marketFor(t, newBridge(t, func(o *webhookbridge.Options) { o.Client, o.Instances = counting, neverCached{} }))
	a, err = stale.Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	reads, writes = requests()
	g.Expect([]int{reads, writes}).To(Equal([]int{1, 1}), "TenantInstance reads and creates of a resend the cache missed")
	g.Expect(snapshot(g)).To(Equal(before))

	// An instance of the new order line's name, made for another order line.
	other := newOrder(skuSmall)
	squatter := getInstance(g, a.InstanceID).DeepCopy()
	squatter.ObjectMeta = metav1.ObjectMeta{Name: webhookbridge.InstanceName(other.OrderID, other.OrderLine[0].OrderLineID)}
	g.Expect(k8s.Create(ctx, squatter)).To(Succeed())
	t.Cleanup(func() { _ = client.IgnoreNotFound(k8s.Delete(context.Background(), squatter)) })
	before = snapshot(g)
	a, err = stale.Buy(ctx, other.OrderID, other.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeInternalError)
	g.Expect(snapshot(g)).To(Equal(before))
}

// neverCached is an instance cache that holds no name.
type neverCached struct{}

func (neverCached) Get(_ context.Context, key client.ObjectKey, _ client.Object, _ ...client.GetOption) error {
	return apierrors.NewNotFound(tenantryv1alpha1.GroupVersion.WithResource("tenantinstances").GroupResource(), key.Name)
}

func (neverCached) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("not a list")
}

// auditLines keeps the bridge's audit lines ("Marketplace call", "Marketplace call failed").
type auditLines struct {
	mu    sync.Mutex
	lines []map[string]any
}

func (l *auditLines) logger() logr.Logger {
	return funcr.NewJSON(func(obj string) {
		var line map[string]any
		if json.Unmarshal([]byte(obj), &line) != nil {
			return
		}
		if msg, _ := line["msg"].(string); msg != "Marketplace call" && msg != "Marketplace call failed" {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, line)
	}, funcr.Options{})
}

// reasons lists the audit reason of every call of activity, in order; "" for a call without one.
func (l *auditLines) reasons(activity string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if line["activity"] == activity {
			reason, _ := line["reason"].(string)
			out = append(out, reason)
		}
	}
	return out
}
