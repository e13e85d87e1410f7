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

// Package childcache is the operator's cache of the objects it makes for tenants: namespaces and,
// in them, Deployments, Services, ConfigMaps, ResourceQuotas, LimitRanges, NetworkPolicies and
// Ingresses, all labelled managed-by=tenantry. There are about ten per tenant, so they are most of
// what the operator would hold in memory, and it reads little of them; so the informers keep a
// compact Record per object, about a tenth of a typed object, instead of the typed object.
//
// Not Secrets: the operator may not read Secrets outside the namespaces of its shared TLS sources,
// so what it knows of the Secrets it writes comes from its own writes.
//
// A Record is read-only: Lookup returns what the cache knows of an object through accessors, and
// nothing that could be taken for the whole object and written back. The operator only applies,
// creates, patches and deletes its children.
package childcache

import (
	"context"
	"fmt"
	"net/http"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Cache holds a Record of every object of the operator's child kinds that carries the managed-by
// label. It runs as a manager Runnable on every replica, leader or not, as the manager's own cache
// does, so that a replica that becomes leader starts with its children already listed.
type Cache struct {
	// fieldOwner is the field manager of the operator's applies, whose managedFields entry a
	// record hashes (see Record.AppliedFields).
	fieldOwner string
	// byGroupKind holds the kinds by API group and kind.
	byGroupKind map[schema.GroupKind]*kind
	// order keeps the kinds in a fixed order for starting and waiting.
	order []*kind
	// namespaces reads namespaces the cache does not hold, which may not be the operator's.
	namespaces corev1client.NamespaceInterface
}

type kind struct {
	resource schema.GroupResource
	informer toolscache.SharedIndexInformer
}

// New builds the informers of a Cache from cfg; httpClient may be nil. They list and watch in
// protobuf and select on the managed-by label. fieldOwner is the field manager the operator
// applies with.
func New(cfg *rest.Config, httpClient *http.Client, fieldOwner string) (*Cache, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	var cs *kubernetes.Clientset
	var err error
	if httpClient != nil {
		cs, err = kubernetes.NewForConfigAndClient(cfg, httpClient)
	} else {
		cs, err = kubernetes.NewForConfig(cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("building the child cache's client: %w", err)
	}
	c := &Cache{fieldOwner: fieldOwner, byGroupKind: map[schema.GroupKind]*kind{}}
	add := func(obj runtime.Object, gr schema.GroupResource, lw *toolscache.ListWatch) {
		gvks, _, err := clientgoscheme.Scheme.ObjectKinds(obj)
		if err != nil || len(gvks) == 0 {
			panic(fmt.Sprintf("%T is not a built-in kind", obj)) // a fixed list of built-in kinds
		}
		inf := toolscache.NewSharedIndexInformerWithOptions(lw, obj, toolscache.SharedIndexInformerOptions{})
		// Only fails once the informer has started.
		_ = inf.SetTransform(c.compact)
		k := &kind{resource: gr, informer: inf}
		c.byGroupKind[gvks[0].GroupKind()] = k
		c.order = append(c.order, k)
	}
	core, apps, networking := cs.CoreV1(), cs.AppsV1(), cs.NetworkingV1()
	c.namespaces = core.Namespaces()
	add(&corev1.Namespace{}, schema.GroupResource{Resource: "namespaces"},
		listWatch(core.Namespaces().List, core.Namespaces().Watch))
	add(&appsv1.Deployment{}, schema.GroupResource{Group: "apps", Resource: "deployments"},
		listWatch(apps.Deployments("").List, apps.Deployments("").Watch))
	add(&corev1.Service{}, schema.GroupResource{Resource: "services"},
		listWatch(core.Services("").List, core.Services("").Watch))
	add(&corev1.ConfigMap{}, schema.GroupResource{Resource: "configmaps"},
		listWatch(core.ConfigMaps("").List, core.ConfigMaps("").Watch))
	add(&corev1.ResourceQuota{}, schema.GroupResource{Resource: "resourcequotas"},
		listWatch(core.ResourceQuotas("").List, core.ResourceQuotas("").Watch))
	add(&corev1.LimitRange{}, schema.GroupResource{Resource: "limitranges"},
		listWatch(core.LimitRanges("").List, core.LimitRanges("").Watch))
	add(&networkingv1.NetworkPolicy{}, schema.GroupResource{Group: "networking.k8s.io", Resource: "networkpolicies"},
		listWatch(networking.NetworkPolicies("").List, networking.NetworkPolicies("").Watch))
	add(&networkingv1.Ingress{}, schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"},
		listWatch(networking.Ingresses("").List, networking.Ingresses("").Watch))
	return c, nil
}

// listWatch lists and watches with the managed-by selector.
func listWatch[L runtime.Object](
	list func(context.Context, metav1.ListOptions) (L, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error),
) *toolscache.ListWatch {
	selector := labels.SelectorFromSet(labels.Set{tenantryv1alpha1.LabelManagedBy: tenantryv1alpha1.ManagedByValue}).String()
	return &toolscache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.LabelSelector = selector
			return list(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.LabelSelector = selector
			return watchFn(ctx, opts)
		},
	}
}

// Start runs the informers until ctx is done.
func (c *Cache) Start(ctx context.Context) error {
	for _, k := range c.order {
		go k.informer.RunWithContext(ctx)
	}
	<-ctx.Done()
	return nil
}

// NeedLeaderElection is false: every replica keeps its cache warm.
func (c *Cache) NeedLeaderElection() bool { return false }

// WaitForCacheSync waits until every informer has listed, and reports whether it did before ctx
// was done.
func (c *Cache) WaitForCacheSync(ctx context.Context) bool {
	synced := make([]toolscache.InformerSynced, 0, len(c.order))
	for _, k := range c.order {
		synced = append(synced, k.informer.HasSynced)
	}
	return toolscache.WaitForCacheSync(ctx.Done(), synced...)
}

// FieldOwner is the field manager whose applied fields the records hash: the one the operator
// must apply with for Record.AppliedFields to describe its applies.
func (c *Cache) FieldOwner() string { return c.fieldOwner }

// Lookup returns the record of the object of kind gk under key; false when the cache does not
// hold it, or holds no such kind (Secrets, Pods, the operator's own resources).
func (c *Cache) Lookup(gk schema.GroupKind, key client.ObjectKey) (Record, bool) {
	k, ok := c.byGroupKind[gk]
	if !ok {
		return Record{}, false
	}
	item, exists, err := k.informer.GetIndexer().GetByKey(toolscache.ObjectName{Namespace: key.Namespace, Name: key.Name}.String())
	if err != nil || !exists {
		return Record{}, false
	}
	rec, ok := item.(*record)
	if !ok {
		return Record{}, false
	}
	return Record{rec}, true
}

// LiveNamespace reads a namespace from the API server: one the cache does not hold may exist
// without the operator's label, and so be someone else's (see NamespaceOwner).
func (c *Cache) LiveNamespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	return c.namespaces.Get(ctx, name, metav1.GetOptions{})
}
