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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"reflect"
	"time"
	"unique"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// CacheOptions makes the operator's informers see only what it owns (and the shared TLS Secrets
// plans name), slimmed to what it reads, so memory grows with tenants and not with the cluster,
// and slowly with tenants. The operator decides whether a child needs applying from its
// metadata alone (see apply), so the cache keeps a little metadata, the Deployment's replicas
// and status, and the data of shared TLS source Secrets, which it copies.
func CacheOptions() cache.Options {
	managed := labels.SelectorFromSet(labels.Set{tenantryv1alpha1.LabelManagedBy: tenantryv1alpha1.ManagedByValue})
	req, err := labels.NewRequirement(tenantryv1alpha1.LabelSecretRole, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant requirement: cannot fail
	}
	secrets := labels.NewSelector().Add(*req)
	byObject := map[client.Object]cache.ByObject{
		&corev1.Secret{}: {Label: secrets},
	}
	for _, o := range childKinds() {
		if _, ok := o.(*corev1.Secret); !ok {
			byObject[o] = cache.ByObject{Label: managed}
		}
	}
	return cache.Options{
		ByObject:         byObject,
		DefaultTransform: slim,
		NewInformer:      newInformer,
	}
}

// childKinds are the kinds of the objects the operator makes for a tenant (and, for Secrets,
// the shared TLS sources it copies).
func childKinds() []client.Object {
	return []client.Object{
		&corev1.Namespace{}, &appsv1.Deployment{}, &corev1.Service{}, &corev1.Secret{}, &corev1.ConfigMap{},
		&corev1.ResourceQuota{}, &corev1.LimitRange{}, &networkingv1.NetworkPolicy{}, &networkingv1.Ingress{},
	}
}

// newInformer builds the cache's informers. Those of the child kinds keep no index: the operator
// reads children by name only, never lists them, and the namespace index every informer has by
// default is a set per namespace per kind, about 2.5 KiB per tenant for nothing. Listing a child
// kind by namespace from the cache therefore fails (the index does not exist) rather than
// answering. Informers of the operator's own kinds keep their indexes.
func newInformer(lw toolscache.ListerWatcher, obj runtime.Object, resync time.Duration, indexers toolscache.Indexers) toolscache.SharedIndexInformer {
	for _, k := range childKinds() {
		if reflect.TypeOf(obj) == reflect.TypeOf(k) {
			indexers = toolscache.Indexers{}
			break
		}
	}
	return toolscache.NewSharedIndexInformer(lw, obj, resync, indexers)
}

// slim is the cache transform. It drops managedFields and the last-applied annotation from every
// object. The children the operator owns it cuts down to what the operator reads, because with
// ten of them per tenant they are most of its memory: name, namespace, resourceVersion,
// generation, deletion timestamp, the applied-hash annotation and, of a Deployment, its replicas
// and replica counts. Labels, other annotations, owner references (a child's namespace names its
// tenant: see tenantOf), UIDs, finalizers, specs and statuses are gone. Of a Deployment,
// ResourceQuota or Ingress it first records the fingerprint of what it drops (see
// fingerprintOf). Cached children must never be written back; the operator only applies,
// creates, patches and deletes them.
func slim(in any) (any, error) {
	obj, ok := in.(client.Object)
	if !ok {
		return in, nil // a tombstone: nothing to slim
	}
	obj.SetManagedFields(nil)
	if a := obj.GetAnnotations(); a != nil {
		if _, ok := a[corev1.LastAppliedConfigAnnotation]; ok {
			delete(a, corev1.LastAppliedConfigAnnotation)
			obj.SetAnnotations(a)
		}
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		keepFingerprint(o, o.Spec)
		o.Spec = appsv1.DeploymentSpec{Replicas: o.Spec.Replicas}
		o.Status = appsv1.DeploymentStatus{
			ObservedGeneration:  o.Status.ObservedGeneration,
			Replicas:            o.Status.Replicas,
			UpdatedReplicas:     o.Status.UpdatedReplicas,
			ReadyReplicas:       o.Status.ReadyReplicas,
			AvailableReplicas:   o.Status.AvailableReplicas,
			TerminatingReplicas: o.Status.TerminatingReplicas,
		}
	case *corev1.Secret:
		if o.Labels[tenantryv1alpha1.LabelSecretRole] == tenantryv1alpha1.SecretRoleSharedTLS {
			return o, nil // a plan's TLS source, which the operator copies: kept whole
		}
		o.Data, o.StringData = nil, nil
	case *corev1.ConfigMap:
		o.Data, o.BinaryData = nil, nil
	case *corev1.Namespace:
		o.Spec, o.Status = corev1.NamespaceSpec{}, corev1.NamespaceStatus{}
	case *corev1.Service:
		o.Spec, o.Status = corev1.ServiceSpec{}, corev1.ServiceStatus{}
	case *corev1.ResourceQuota:
		keepFingerprint(o, o.Spec)
		o.Spec, o.Status = corev1.ResourceQuotaSpec{}, corev1.ResourceQuotaStatus{}
	case *corev1.LimitRange:
		o.Spec = corev1.LimitRangeSpec{}
	case *networkingv1.NetworkPolicy:
		o.Spec = networkingv1.NetworkPolicySpec{}
	case *networkingv1.Ingress:
		keepFingerprint(o, o.Spec)
		o.Spec, o.Status = networkingv1.IngressSpec{}, networkingv1.IngressStatus{}
	default:
		return obj, nil // the operator's own resources: TenantInstances, plans, directories
	}
	slimMeta(obj)
	return obj, nil
}

// slimMeta cuts a child's metadata down to what the operator reads (see slim).
func slimMeta(obj client.Object) {
	obj.SetName(unique.Make(obj.GetName()).Value())
	obj.SetNamespace(unique.Make(obj.GetNamespace()).Value())
	obj.SetUID("")
	obj.SetGenerateName("")
	obj.SetFinalizers(nil)
	obj.SetLabels(nil)
	var kept map[string]string
	for _, k := range []string{tenantryv1alpha1.AnnotationAppliedHash, annotationCachedFingerprint} {
		if v, ok := obj.GetAnnotations()[k]; ok {
			if kept == nil {
				kept = make(map[string]string, 2)
			}
			kept[k] = v
		}
	}
	obj.SetAnnotations(kept)
	obj.SetOwnerReferences(nil)
}

// annotationCachedFingerprint is set on cached Deployments, ResourceQuotas and Ingresses only,
// never on the API server: the fingerprint of what slim dropped, so that apply can tell an edit
// from a status write without keeping the object in memory.
const annotationCachedFingerprint = "tenantry.io/cached-fingerprint"

// annotationRevision is the Deployment controller's own annotation, which it raises on every
// rollout; it is not part of the fingerprint.
const annotationRevision = "deployment.kubernetes.io/revision"

// keepFingerprint records in obj's annotationCachedFingerprint the fingerprint of obj with spec:
// see fingerprintOf.
func keepFingerprint(obj client.Object, spec any) {
	fp := fingerprintOf(obj, spec)
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[annotationCachedFingerprint] = fp
	obj.SetAnnotations(a)
}

// fingerprintOf hashes what of an object an apply sets, besides its name: its spec, owner
// references, labels and annotations — not its status, resourceVersion, generation (a
// Deployment's rises with any annotation change) or the Deployment controller's revision
// annotation. Two versions with the same fingerprint need no apply between them; a version whose
// fingerprint differs from the one the last apply returned was written by someone else, and the
// next reconcile applies again. Metadata that others add changes the fingerprint too: it costs one
// apply, which leaves that metadata alone. An object that cannot be encoded has an empty
// fingerprint, which matches nothing.
func fingerprintOf(obj client.Object, spec any) string {
	annotations := maps.Clone(obj.GetAnnotations())
	delete(annotations, annotationRevision)
	delete(annotations, annotationCachedFingerprint)
	delete(annotations, corev1.LastAppliedConfigAnnotation)
	data, err := json.Marshal(struct {
		Spec        any                     `json:"spec"`
		Owners      []metav1.OwnerReference `json:"ownerReferences"`
		Labels      map[string]string       `json:"labels"`
		Annotations map[string]string       `json:"annotations"`
	}{spec, obj.GetOwnerReferences(), obj.GetLabels(), annotations})
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:12])
}
