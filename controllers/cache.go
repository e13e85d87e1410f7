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
	"unique"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// CacheOptions makes the manager's informers see the operator's own resources and, of Secrets,
// only the shared TLS sources plans name, which it copies: those labelled as such in
// sharedTLSNamespaces, the only namespaces whose Secrets the operator may read (the chart grants
// it a Role in each, and nothing else on Secrets). No namespace given means every namespace, for
// tests and for an operator given cluster-wide reads. What the operator makes for tenants is in
// its ChildCache instead, in a compact form. A read of any other kind through the manager's cache
// fails rather than starting an informer of the whole cluster.
func CacheOptions(sharedTLSNamespaces ...string) cache.Options {
	sources := labels.SelectorFromSet(labels.Set{tenantryv1alpha1.LabelSecretRole: tenantryv1alpha1.SecretRoleSharedTLS})
	secrets := cache.ByObject{Label: sources}
	if len(sharedTLSNamespaces) > 0 {
		secrets.Namespaces = make(map[string]cache.Config, len(sharedTLSNamespaces))
		for _, ns := range sharedTLSNamespaces {
			secrets.Namespaces[ns] = cache.Config{LabelSelector: sources}
		}
	}
	return cache.Options{
		ByObject:                    map[client.Object]cache.ByObject{&corev1.Secret{}: secrets},
		DefaultTransform:            slim,
		ReaderFailOnMissingInformer: true,
	}
}

// slim is the manager cache's transform: it drops managedFields and the last-applied
// annotation, which the operator never reads, and makes a TenantInstance share its common
// strings with the others (shareStrings).
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
	if ti, ok := obj.(*tenantryv1alpha1.TenantInstance); ok {
		shareStrings(ti)
	}
	return obj, nil
}

// shareStrings replaces the strings a TenantInstance holds in common with thousands of others
// (its finalizer, SKU, product, lifecycle, billing terms, condition types, statuses and reasons,
// state, plan, admin Secret name) by one shared copy each, gives its Secret reference the status'
// copy of the namespace, and trims the conditions to their length: the JSON decoder allocates
// every string of every cached instance separately, and grows slices by doubling. Strings that
// differ between instances (names, ids, URLs, messages) are left alone: a shared copy of those
// would only add the interning table's entry. Strings never change in place, so the copies the
// reconciler gets from the cache share them safely.
func shareStrings(ti *tenantryv1alpha1.TenantInstance) {
	for i := range ti.Finalizers {
		ti.Finalizers[i] = intern(ti.Finalizers[i])
	}
	spec := &ti.Spec
	spec.SKU, spec.ProductID, spec.Lifecycle = intern(spec.SKU), intern(spec.ProductID), intern(spec.Lifecycle)
	spec.Domain.Type = intern(spec.Domain.Type)
	spec.Order.ChargingMode, spec.Order.PeriodType = intern(spec.Order.ChargingMode), intern(spec.Order.PeriodType)
	st := &ti.Status
	st.State, st.Plan = intern(st.State), intern(st.Plan)
	if ref := st.AdminAccountSecretRef; ref != nil {
		ref.Name = intern(ref.Name)
		if ref.Namespace == st.Namespace {
			ref.Namespace = st.Namespace
		}
	}
	if len(st.Conditions) < cap(st.Conditions) {
		st.Conditions = append([]metav1.Condition(nil), st.Conditions...)
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		c.Type, c.Status, c.Reason = intern(c.Type), intern(c.Status), intern(c.Reason)
	}
}

// intern returns the one shared copy of s.
func intern[S ~string](s S) S {
	return S(unique.Make(string(s)).Value())
}

// annotationRevision is the Deployment controller's own annotation, which it raises on every
// rollout; it is not part of the fingerprint.
const annotationRevision = "deployment.kubernetes.io/revision"

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
