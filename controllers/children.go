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
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// ChildCache is the operator's cache of the objects it makes for tenants: namespaces and, in
// them, Deployments, Services, ConfigMaps, ResourceQuotas, LimitRanges, NetworkPolicies and
// Ingresses, all labelled managed-by=tenantry. Not Secrets: the operator may not read Secrets
// outside the namespaces of its shared TLS sources (see secretwrites.go), so what it knows of the
// Secrets it writes comes from its own writes. There are about ten per tenant, so they are
// most of what the operator would hold in memory, and it reads little of them: whether each
// exists and is being deleted, its resourceVersion, the hash of its last apply, a hash of the
// fields that apply owns (see appliedFieldsIntact) and, for the kinds whose status other
// controllers write, a fingerprint of the rest (see apply). Of the app
// Deployment it also reads the replicas and their counts. So its informers keep a childRecord
// per object, about a tenth of a typed object, instead of the typed object.
//
// It is a client.Reader of those kinds only. Get fills in what the record holds and nothing
// else; List is not offered, as the operator reads its children by name. Objects read from it
// must never be written back; the operator only applies, creates, patches and deletes them.
//
// It runs as a manager Runnable on every replica, leader or not, as the manager's own cache
// does, so that a replica that becomes leader starts with its children already listed.
type ChildCache struct {
	kinds map[reflect.Type]*childKind
	// byGroupKind is kinds by API group and kind, which is what apply knows.
	byGroupKind map[schema.GroupKind]*childKind
	// order keeps the kinds in a fixed order for starting and waiting.
	order []*childKind
	// namespaces reads namespaces the cache does not hold, which may not be the operator's.
	namespaces corev1client.NamespaceInterface
}

type childKind struct {
	resource schema.GroupResource
	informer toolscache.SharedIndexInformer
}

var _ client.Reader = &ChildCache{}

// NewChildCache builds the informers of a ChildCache from cfg; httpClient may be nil. They
// list and watch in protobuf and select on the managed-by label.
func NewChildCache(cfg *rest.Config, httpClient *http.Client) (*ChildCache, error) {
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
	c := &ChildCache{kinds: map[reflect.Type]*childKind{}, byGroupKind: map[schema.GroupKind]*childKind{}}
	add := func(obj runtime.Object, gr schema.GroupResource, lw *toolscache.ListWatch) {
		gvks, _, err := clientgoscheme.Scheme.ObjectKinds(obj)
		if err != nil || len(gvks) == 0 {
			panic(fmt.Sprintf("%T is not a built-in kind", obj)) // a fixed list of built-in kinds
		}
		inf := toolscache.NewSharedIndexInformerWithOptions(lw, obj, toolscache.SharedIndexInformerOptions{})
		// Only fails once the informer has started.
		_ = inf.SetTransform(compact)
		k := &childKind{resource: gr, informer: inf}
		c.kinds[reflect.TypeOf(obj)] = k
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
func (c *ChildCache) Start(ctx context.Context) error {
	for _, k := range c.order {
		go k.informer.RunWithContext(ctx)
	}
	<-ctx.Done()
	return nil
}

// NeedLeaderElection is false: every replica keeps its cache warm.
func (c *ChildCache) NeedLeaderElection() bool { return false }

// WaitForCacheSync waits until every informer has listed, and reports whether it did before ctx
// was done.
func (c *ChildCache) WaitForCacheSync(ctx context.Context) bool {
	synced := make([]toolscache.InformerSynced, 0, len(c.order))
	for _, k := range c.order {
		synced = append(synced, k.informer.HasSynced)
	}
	return toolscache.WaitForCacheSync(ctx.Done(), synced...)
}

// Get fills obj with what the cache holds of the object: name, namespace, resourceVersion,
// generation and deletion timestamp, of a Deployment its replicas and replica counts and, of a
// Namespace, its UID and the annotation tenantry.io/instance-uid naming its owner (see
// namespaceOwner). An
// object the cache does not hold is NotFound.
func (c *ChildCache) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	k, ok := c.kinds[reflect.TypeOf(obj)]
	if !ok {
		return fmt.Errorf("the child cache holds no %T", obj)
	}
	rec, ok := k.record(key)
	if !ok {
		return apierrors.NewNotFound(k.resource, key.Name)
	}
	rec.fill(obj)
	return nil
}

// liveNamespace reads a namespace from the API server: one the cache does not hold may exist
// without the operator's label.
func (c *ChildCache) liveNamespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	return c.namespaces.Get(ctx, name, metav1.GetOptions{})
}

// List is not offered: the operator reads its children by name.
func (c *ChildCache) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("the child cache cannot list")
}

// lookup returns the record of the object of kind gk under key.
func (c *ChildCache) lookup(gk schema.GroupKind, key client.ObjectKey) (*childRecord, bool) {
	k, ok := c.byGroupKind[gk]
	if !ok {
		return nil, false
	}
	return k.record(key)
}

func (k *childKind) record(key client.ObjectKey) (*childRecord, bool) {
	item, exists, err := k.informer.GetIndexer().GetByKey(toolscache.ObjectName{Namespace: key.Namespace, Name: key.Name}.String())
	if err != nil || !exists {
		return nil, false
	}
	rec, ok := item.(*childRecord)
	return rec, ok
}

// source feeds a controller's queue: any change of a child enqueues its tenant (tenantOf).
func (c *ChildCache) source() *childSource { return &childSource{cache: c} }

type childSource struct{ cache *ChildCache }

var _ interface {
	Start(context.Context, workqueue.TypedRateLimitingInterface[reconcile.Request]) error
	WaitForSync(context.Context) error
} = &childSource{}

// Start adds the event handlers; it does not block.
func (s *childSource) Start(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	enqueue := func(obj any, initial bool) {
		if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		rec, ok := obj.(*childRecord)
		if !ok {
			return
		}
		req, ok := tenantOfName(rec.namespace, rec.name)
		if !ok {
			return
		}
		// Like controller-runtime's own handlers: what the first list finds waits behind changes.
		if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok && initial {
			pq.AddWithOpts(priorityqueue.AddOpts{Priority: new(handler.LowPriority)}, req)
			return
		}
		q.Add(req)
	}
	h := toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj, false) },
		DeleteFunc: func(obj any) { enqueue(obj, false) },
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

// childRecord is what the ChildCache keeps of one object. Its strings are interned where
// thousands of tenants share them.
type childRecord struct {
	namespace, name, resourceVersion string
	generation                       int64
	deletionTimestamp                *metav1.Time
	// hash is the applied-hash annotation, decoded; hasHash is false when the object has none
	// (or one that is not a hash the operator writes).
	hash    [12]byte
	hasHash bool
	// fingerprint is set for the kinds whose status others write (statusWrittenByOthers).
	fingerprint    [12]byte
	hasFingerprint bool
	// owned is the hash of the set of fields the operator's last apply owns now, as its
	// managedFields entry lists them (see appliedFieldsIntact); hasOwned is false when the
	// object carries no applied hash or no such entry.
	owned    [12]byte
	hasOwned bool
	// deployment is set for Deployments only.
	deployment *deploymentRecord
	// owner is set for Namespaces only: the UID of the TenantInstance that made it (see
	// namespaceOwner), or "" when the namespace carries no mark of one.
	owner types.UID
	// uid is set for Namespaces only: what the operator remembers of the Secrets it wrote in a
	// tenant namespace is bound to it (see secretwrites.go).
	uid types.UID
}

// deploymentRecord is what the operator reads of a Deployment besides its metadata.
type deploymentRecord struct {
	replicas                                                  *int32
	observedGeneration                                        int64
	statusReplicas, updatedReplicas, readyReplicas, available int32
	terminatingReplicas                                       *int32
}

// GetObjectMeta makes a childRecord an object to the informer's store, which keys it by
// namespace and name and compares resourceVersions.
func (r *childRecord) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: r.namespace, Name: r.name, ResourceVersion: r.resourceVersion}
}

// compact is the ChildCache's transform: it turns a decoded object into its childRecord. A
// record, or a tombstone, passes through unchanged.
func compact(in any) (any, error) {
	obj, ok := in.(client.Object)
	if !ok {
		return in, nil
	}
	rec := &childRecord{
		namespace:         intern(obj.GetNamespace()),
		name:              intern(obj.GetName()),
		resourceVersion:   obj.GetResourceVersion(),
		generation:        obj.GetGeneration(),
		deletionTimestamp: obj.GetDeletionTimestamp(),
	}
	rec.hash, rec.hasHash = decodeHash(obj.GetAnnotations()[tenantryv1alpha1.AnnotationAppliedHash])
	if rec.hasHash {
		rec.owned, rec.hasOwned = appliedFieldsOf(obj)
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		rec.fingerprint, rec.hasFingerprint = decodeHash(fingerprintOf(o, o.Spec))
		rec.deployment = &deploymentRecord{
			replicas:            o.Spec.Replicas,
			observedGeneration:  o.Status.ObservedGeneration,
			statusReplicas:      o.Status.Replicas,
			updatedReplicas:     o.Status.UpdatedReplicas,
			readyReplicas:       o.Status.ReadyReplicas,
			available:           o.Status.AvailableReplicas,
			terminatingReplicas: o.Status.TerminatingReplicas,
		}
	case *corev1.Namespace:
		rec.owner = namespaceOwner(o)
		rec.uid = o.UID
	case *corev1.ResourceQuota:
		rec.fingerprint, rec.hasFingerprint = decodeHash(fingerprintOf(o, o.Spec))
	case *networkingv1.Ingress:
		rec.fingerprint, rec.hasFingerprint = decodeHash(fingerprintOf(o, o.Spec))
	}
	return rec, nil
}

// appliedFieldsOf hashes the set of fields the operator's server-side applies own in obj, as the
// API server serialised it in obj's managedFields. It costs one hash of a few hundred bytes.
func appliedFieldsOf(obj client.Object) ([12]byte, bool) {
	for _, e := range obj.GetManagedFields() {
		if e.Manager == FieldOwner && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" && e.FieldsV1 != nil {
			return hash12(e.FieldsV1.GetRawBytes()), true
		}
	}
	return [12]byte{}, false
}

// decodeHash decodes a hash the operator writes: 12 bytes in hex.
func decodeHash(s string) ([12]byte, bool) {
	var h [12]byte
	if len(s) != hex.EncodedLen(len(h)) {
		return h, false
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, false
	}
	return h, true
}

// fill sets in obj what the record holds.
func (r *childRecord) fill(obj client.Object) {
	obj.SetNamespace(r.namespace)
	obj.SetName(r.name)
	obj.SetResourceVersion(r.resourceVersion)
	obj.SetGeneration(r.generation)
	if r.deletionTimestamp != nil {
		obj.SetDeletionTimestamp(r.deletionTimestamp.DeepCopy())
	}
	if _, ok := obj.(*corev1.Namespace); ok {
		obj.SetUID(r.uid)
		if r.owner != "" {
			obj.SetAnnotations(map[string]string{tenantryv1alpha1.AnnotationInstanceUID: string(r.owner)})
		}
	}
	if d, ok := obj.(*appsv1.Deployment); ok && r.deployment != nil {
		if r.deployment.replicas != nil {
			d.Spec.Replicas = new(*r.deployment.replicas)
		}
		d.Status = appsv1.DeploymentStatus{
			ObservedGeneration: r.deployment.observedGeneration,
			Replicas:           r.deployment.statusReplicas,
			UpdatedReplicas:    r.deployment.updatedReplicas,
			ReadyReplicas:      r.deployment.readyReplicas,
			AvailableReplicas:  r.deployment.available,
		}
		if r.deployment.terminatingReplicas != nil {
			d.Status.TerminatingReplicas = new(*r.deployment.terminatingReplicas)
		}
	}
}

// tenantOfName is tenantOf for a namespace and name.
func tenantOfName(namespace, name string) (reconcile.Request, bool) {
	if namespace == "" {
		namespace = name
	}
	instance, ok := strings.CutPrefix(namespace, tenantryv1alpha1.NamespacePrefix)
	if !ok || instance == "" {
		return reconcile.Request{}, false
	}
	return reconcile.Request{NamespacedName: client.ObjectKey{Name: instance}}, true
}
