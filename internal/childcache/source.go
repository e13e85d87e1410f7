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

package childcache

import (
	"context"
	"fmt"
	"strings"

	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Source feeds a controller of TenantInstances: any change of a child enqueues its tenant, the
// instance its namespace is named after (tenantOf). Children are mapped by namespace rather than
// by owner reference, as Owns would.
//
// A child's change or deletion enqueues its tenant at ChangePriority, ahead of new tenants
// (a TenantInstance's creation enqueues it at priority 0), when the controller's queue is
// controller-runtime's priority queue: the reconcile that finds a tenant's Deployment available
// and reports it Ready, or that repairs a deleted object, then does not wait behind the first
// reconciles of every tenant bought after it. Children the operator creates itself are enqueued
// at priority 0, and those the first list finds at handler.LowPriority.
func (c *Cache) Source() source.SyncingSource { return &childSource{cache: c} }

// ChangePriority is the priority at which a change of a tenant's child enqueues the tenant.
const ChangePriority = 10

type childSource struct{ cache *Cache }

// Start adds the event handlers; it does not block.
func (s *childSource) Start(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	enqueue := func(obj any, priority int) {
		if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		rec, ok := obj.(*record)
		if !ok {
			return
		}
		req, ok := tenantOf(rec.namespace, rec.name)
		if !ok {
			return
		}
		pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request])
		switch {
		case !ok || priority == 0:
			q.Add(req)
		default:
			pq.AddWithOpts(priorityqueue.AddOpts{Priority: new(priority)}, req)
		}
	}
	h := toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) {
			// Like controller-runtime's own handlers: what the first list finds waits behind
			// changes.
			if initial {
				enqueue(obj, handler.LowPriority)
				return
			}
			enqueue(obj, 0)
		},
		UpdateFunc: func(_, obj any) { enqueue(obj, ChangePriority) },
		DeleteFunc: func(obj any) { enqueue(obj, ChangePriority) },
	}
	for _, k := range s.cache.order {
		if _, err := k.informer.AddEventHandler(h); err != nil {
			return fmt.Errorf("watching %s: %w", k.resource, err)
		}
	}
	return nil
}

// WaitForSync waits for the cache's first lists, so that the controller does not reconcile a
// tenant from a cache that has not seen its children yet.
func (s *childSource) WaitForSync(ctx context.Context) error {
	if !s.cache.WaitForCacheSync(ctx) {
		return fmt.Errorf("timed out waiting for the child cache to sync: %w", ctx.Err())
	}
	return nil
}

func (s *childSource) String() string { return "tenant children" }

// tenantOf is the TenantInstance a child belongs to, by its namespace (or, for a Namespace, its
// name): tenant-<instance>. False for anything outside a tenant namespace.
func tenantOf(namespace, name string) (reconcile.Request, bool) {
	if namespace == "" {
		namespace = name
	}
	instance, ok := strings.CutPrefix(namespace, tenantryv1alpha1.NamespacePrefix)
	if !ok || instance == "" {
		return reconcile.Request{}, false
	}
	return reconcile.Request{NamespacedName: client.ObjectKey{Name: instance}}, true
}
