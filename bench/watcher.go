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

package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// watcher observes, as the cluster administrator, what the phases wait for: TenantInstances
// becoming Ready, tenant Deployments becoming available or scaled to zero, tenant namespaces
// disappearing. Each event is stamped when it arrives; phases register handlers for what
// they measure.
type watcher struct {
	cache  cache.Cache
	cancel context.CancelFunc

	mu       sync.Mutex
	next     int
	handlers map[int]func(ev watchEvent)
}

// watchEvent is one observed change.
type watchEvent struct {
	at      time.Time
	obj     client.Object
	deleted bool
}

func startWatcher(ctx context.Context, cfg *rest.Config) (*watcher, error) {
	managed := labels.SelectorFromSet(labels.Set{tenantryv1alpha1.LabelManagedBy: tenantryv1alpha1.ManagedByValue})
	c, err := cache.New(cfg, cache.Options{
		Scheme: scheme(),
		ByObject: map[client.Object]cache.ByObject{
			&appsv1.Deployment{}: {Label: managed},
			&corev1.Namespace{}:  {Label: managed},
		},
		DefaultTransform: func(in any) (any, error) {
			if o, ok := in.(client.Object); ok {
				o.SetManagedFields(nil)
			}
			return in, nil
		},
	})
	if err != nil {
		return nil, err
	}
	w := &watcher{cache: c, handlers: map[int]func(watchEvent){}}
	runCtx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	for _, obj := range []client.Object{&tenantryv1alpha1.TenantInstance{}, &appsv1.Deployment{}, &corev1.Namespace{}} {
		inf, err := c.GetInformer(ctx, obj)
		if err != nil {
			cancel()
			return nil, err
		}
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { w.dispatch(o, false) },
			UpdateFunc: func(_, o any) { w.dispatch(o, false) },
			DeleteFunc: func(o any) {
				if t, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
					o = t.Obj
				}
				w.dispatch(o, true)
			},
		}); err != nil {
			cancel()
			return nil, err
		}
	}
	go func() { _ = c.Start(runCtx) }()
	syncCtx, syncCancel := context.WithTimeout(ctx, 2*time.Minute)
	defer syncCancel()
	if !c.WaitForCacheSync(syncCtx) {
		cancel()
		return nil, fmt.Errorf("the watcher's caches did not sync")
	}
	return w, nil
}

func (w *watcher) dispatch(o any, deleted bool) {
	obj, ok := o.(client.Object)
	if !ok {
		return
	}
	ev := watchEvent{at: time.Now(), obj: obj, deleted: deleted}
	w.mu.Lock()
	hs := make([]func(watchEvent), 0, len(w.handlers))
	for _, h := range w.handlers {
		hs = append(hs, h)
	}
	w.mu.Unlock()
	for _, h := range hs {
		h(ev)
	}
}

// handle registers fn for every following event; the returned function unregisters it.
func (w *watcher) handle(fn func(watchEvent)) func() {
	w.mu.Lock()
	defer w.mu.Unlock()
	id := w.next
	w.next++
	w.handlers[id] = fn
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.handlers, id)
	}
}

func (w *watcher) stop() { w.cancel() }

// tiReady reports whether a TenantInstance is Ready for its current generation.
func tiReady(ti *tenantryv1alpha1.TenantInstance) bool {
	c := meta.FindStatusCondition(ti.Status.Conditions, tenantryv1alpha1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == ti.Generation &&
		ti.Status.ObservedGeneration == ti.Generation
}

// deploymentAvailable reports whether a Deployment runs all its replicas, for its current spec.
func deploymentAvailable(d *appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	return d.Status.ObservedGeneration >= d.Generation && d.Status.AvailableReplicas >= want &&
		d.Status.UpdatedReplicas >= want
}

// deploymentAtZero reports whether a Deployment is set to zero replicas and its controller has
// acted on that (scaled its ReplicaSets down); its pods may still be terminating.
func deploymentAtZero(d *appsv1.Deployment) bool {
	return d.Spec.Replicas != nil && *d.Spec.Replicas == 0 && d.Status.ObservedGeneration >= d.Generation
}

// deploymentScaledToZero reports whether a Deployment is at zero replicas and has no pods left.
func deploymentScaledToZero(d *appsv1.Deployment) bool {
	return d.Spec.Replicas != nil && *d.Spec.Replicas == 0 && d.Status.ObservedGeneration >= d.Generation &&
		d.Status.Replicas == 0
}

// completions records, per name, the first time a condition held for it.
type completions struct {
	mu   sync.Mutex
	want map[string]bool
	at   map[string]time.Time
	all  chan struct{}
}

func newCompletions(names []string) *completions {
	c := &completions{want: map[string]bool{}, at: map[string]time.Time{}, all: make(chan struct{})}
	for _, n := range names {
		c.want[n] = true
	}
	if len(names) == 0 {
		close(c.all)
	}
	return c
}

// mark records name as done at t, if it is wanted and not done yet.
func (c *completions) mark(name string, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.want[name] {
		return
	}
	if _, done := c.at[name]; done {
		return
	}
	c.at[name] = t
	if len(c.at) == len(c.want) {
		close(c.all)
	}
}

func (c *completions) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.at)
}

func (c *completions) times() map[string]time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]time.Time, len(c.at))
	for k, v := range c.at {
		out[k] = v
	}
	return out
}

// wait blocks until every name completed or ctx ends.
func (c *completions) wait(ctx context.Context) error {
	select {
	case <-c.all:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%d of %d done: %w", c.count(), len(c.want), ctx.Err())
	}
}
