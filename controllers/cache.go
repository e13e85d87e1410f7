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

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// CacheOptions makes the operator's informers see only what it owns (and the shared TLS Secrets
// plans name), slimmed to what it reads, so memory grows with tenants and not with the cluster,
// and slowly with tenants. The operator decides whether a child needs applying from its
// metadata alone (see apply), so the cache keeps metadata, the Deployment's replicas and status,
// the Namespace's phase, and the data of shared TLS source Secrets, which it copies.
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
	for _, o := range []client.Object{
		&corev1.Namespace{}, &appsv1.Deployment{}, &corev1.Service{}, &corev1.ConfigMap{}, &corev1.ResourceQuota{},
		&corev1.LimitRange{}, &networkingv1.NetworkPolicy{}, &networkingv1.Ingress{},
	} {
		byObject[o] = cache.ByObject{Label: managed}
	}
	return cache.Options{
		ByObject:         byObject,
		DefaultTransform: slim,
	}
}

// slim is the cache transform: it drops managedFields and the last-applied annotation from every
// object, and from the children the operator owns everything it never reads. Cached children must
// never be written back; the operator only applies, creates and deletes them.
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
		keepSpecHash(o, o.Spec)
		o.Spec = appsv1.DeploymentSpec{Replicas: o.Spec.Replicas}
	case *corev1.Secret:
		if o.Labels[tenantryv1alpha1.LabelSecretRole] != tenantryv1alpha1.SecretRoleSharedTLS {
			o.Data, o.StringData = nil, nil
		}
	case *corev1.ConfigMap:
		o.Data, o.BinaryData = nil, nil
	case *corev1.Namespace:
		o.Spec = corev1.NamespaceSpec{}
	case *corev1.Service:
		o.Spec, o.Status = corev1.ServiceSpec{}, corev1.ServiceStatus{}
	case *corev1.ResourceQuota:
		keepSpecHash(o, o.Spec)
		o.Spec, o.Status = corev1.ResourceQuotaSpec{}, corev1.ResourceQuotaStatus{}
	case *corev1.LimitRange:
		o.Spec = corev1.LimitRangeSpec{}
	case *networkingv1.NetworkPolicy:
		o.Spec = networkingv1.NetworkPolicySpec{}
	case *networkingv1.Ingress:
		keepSpecHash(o, o.Spec)
		o.Spec, o.Status = networkingv1.IngressSpec{}, networkingv1.IngressStatus{}
	}
	return obj, nil
}

// annotationCachedSpecHash is set on cached Deployments, ResourceQuotas and Ingresses only, never
// on the API server: the hash of the spec slim dropped, so that apply can tell an edit of the spec
// from a status write without keeping the spec in memory.
const annotationCachedSpecHash = "tenantry.io/cached-spec-hash"

// keepSpecHash records the hash of spec in obj's annotationCachedSpecHash.
func keepSpecHash(obj client.Object, spec any) {
	data, err := json.Marshal(spec)
	if err != nil {
		return // cannot happen for API types, which always encode
	}
	sum := sha256.Sum256(data)
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[annotationCachedSpecHash] = hex.EncodeToString(sum[:12])
	obj.SetAnnotations(a)
}
