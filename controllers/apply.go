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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// appliedKey names one object the operator applies.
type appliedKey struct {
	gvk             schema.GroupVersionKind
	namespace, name string
}

// appliedState is what the operator remembers of an object right after its last apply (or when
// it first found the object in sync): its resourceVersion and, for the kinds whose status other
// controllers write, the fingerprint of everything but its status (see fingerprint).
type appliedState struct {
	resourceVersion string
	fingerprint     string
}

// appliedVersions remembers, per object, its appliedState. It is what lets a reconcile that
// changes nothing send nothing: an object whose hash annotation matches what would be applied and
// that nobody else has written since is left alone.
type appliedVersions struct {
	mu sync.Mutex
	// byTenant groups entries by tenant namespace (a Namespace object under its own name), so a
	// release forgets its tenant's entries at once.
	byTenant map[string]map[appliedKey]appliedState
}

func (k appliedKey) tenant() string {
	if k.namespace == "" {
		return k.name
	}
	return k.namespace
}

func (a *appliedVersions) get(k appliedKey) (appliedState, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	rv, ok := a.byTenant[k.tenant()][k]
	return rv, ok
}

func (a *appliedVersions) set(k appliedKey, st appliedState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byTenant == nil {
		a.byTenant = map[string]map[appliedKey]appliedState{}
	}
	m := a.byTenant[k.tenant()]
	if m == nil {
		m = map[appliedKey]appliedState{}
		a.byTenant[k.tenant()] = m
	}
	m[k] = st
}

// forget drops what is remembered of a tenant namespace and the objects in it.
func (a *appliedVersions) forget(namespace string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.byTenant, namespace)
}

// apply server-side applies ac under the operator's field owner, unless the object is known to
// hold exactly that already. Every applied object carries the annotation
// tenantry.io/applied-hash, a hash of the apply configuration: together with the resourceVersion
// the apply returned, it tells whether an object still holds what was applied.
//
// An object is skipped when its cached copy carries the hash of ac and either has the
// resourceVersion the last apply returned, or an older one (the cache has not caught up with that
// apply yet). Any other write — a hand edit, another controller — gives it a newer
// resourceVersion, and the next reconcile applies again, putting back the fields the operator owns.
// The exception is a write to the status (or the revision annotation) of a Deployment,
// ResourceQuota or Ingress, which their controllers make as a matter of course: for those kinds a
// newer object whose fingerprint is unchanged is still in sync.
// After a restart nothing is remembered: an object whose hash matches is trusted once, so that a
// restart with thousands of tenants sends no writes.
func (r *TenantInstanceReconciler) apply(ctx context.Context, ac runtime.ApplyConfiguration) error {
	data, err := json.Marshal(ac)
	if err != nil {
		return fmt.Errorf("encoding apply configuration: %w", err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return fmt.Errorf("decoding apply configuration: %w", err)
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:12])
	annotations := u.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[tenantryv1alpha1.AnnotationAppliedHash] = hash
	u.SetAnnotations(annotations)

	key := appliedKey{gvk: u.GroupVersionKind(), namespace: u.GetNamespace(), name: u.GetName()}
	if r.holds(ctx, key, hash, u) {
		return nil
	}
	if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return err
	}
	st := appliedState{resourceVersion: u.GetResourceVersion()}
	if statusWrittenByOthers(key.gvk) {
		// The object as the API server returned it, slimmed as the cache will hold it.
		if o, err := r.Scheme.New(key.gvk); err == nil {
			if obj, ok := o.(client.Object); ok && runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj) == nil {
				if _, err := slim(obj); err == nil {
					st.fingerprint = fingerprint(obj, u)
				}
			}
		}
	}
	r.applied.set(key, st)
	return nil
}

// holds reports whether the cached object already is what an apply with this hash would make it.
func (r *TenantInstanceReconciler) holds(ctx context.Context, key appliedKey, hash string, desired *unstructured.Unstructured) bool {
	o, err := r.Scheme.New(key.gvk)
	if err != nil {
		return false
	}
	obj, ok := o.(client.Object)
	if !ok {
		return false
	}
	if err := r.Get(ctx, client.ObjectKey{Namespace: key.namespace, Name: key.name}, obj); err != nil {
		return false
	}
	if obj.GetAnnotations()[tenantryv1alpha1.AnnotationAppliedHash] != hash || !obj.GetDeletionTimestamp().IsZero() {
		return false
	}
	seen := appliedState{resourceVersion: obj.GetResourceVersion()}
	if statusWrittenByOthers(key.gvk) {
		seen.fingerprint = fingerprint(obj, desired)
	}
	last, ok := r.applied.get(key)
	if !ok {
		r.applied.set(key, seen)
		return true
	}
	cmp, err := resourceversion.CompareResourceVersion(seen.resourceVersion, last.resourceVersion)
	switch {
	case err != nil:
		return false
	case cmp <= 0:
		return true
	case last.fingerprint != "" && seen.fingerprint == last.fingerprint:
		// Only the status moved (the Deployment controller reporting a rollout, the quota
		// controller counting usage): remember the newer version and send nothing.
		r.applied.set(key, seen)
		return true
	}
	return false
}

// statusWrittenByOthers lists the kinds the operator applies whose status (or metadata) other
// controllers write after every apply: the Deployment controller, the quota controller, an
// Ingress controller. Their cached copies carry the hash of the spec they had (see slim), which
// is what tells such a write from an edit of what the operator applied.
func statusWrittenByOthers(gvk schema.GroupVersionKind) bool {
	switch gvk.GroupKind() {
	case schema.GroupKind{Group: "apps", Kind: "Deployment"},
		schema.GroupKind{Group: "networking.k8s.io", Kind: "Ingress"},
		schema.GroupKind{Kind: "ResourceQuota"}:
		return true
	}
	return false
}

// fingerprint hashes what of a cached (slimmed) object an apply of desired sets: its spec (by
// the hash slim kept of it), owner references, and the labels and annotations desired names —
// not its status, resourceVersion, generation (a Deployment's rises with any annotation change)
// or metadata others add, such as the Deployment controller's revision annotation, which an apply
// would leave alone anyway. Two versions with the same fingerprint need no apply between them. An
// object that cannot be encoded has an empty fingerprint, which matches nothing.
func fingerprint(obj client.Object, desired *unstructured.Unstructured) string {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return ""
	}
	delete(m, "status")
	want := maps.Clone(desired.GetAnnotations())
	if want == nil {
		want = map[string]string{}
	}
	want[annotationCachedSpecHash] = ""
	m["metadata"] = map[string]any{
		"ownerReferences": obj.GetOwnerReferences(),
		"labels":          pick(obj.GetLabels(), desired.GetLabels()),
		"annotations":     pick(obj.GetAnnotations(), want),
	}
	data, err := json.Marshal(m)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:12])
}

// pick returns the entries of have under the keys of want, absent ones included as absent.
func pick(have, want map[string]string) map[string]*string {
	out := make(map[string]*string, len(want))
	for k := range want {
		if v, ok := have[k]; ok {
			out[k] = &v
		} else {
			out[k] = nil
		}
	}
	return out
}
