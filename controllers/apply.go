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

// appliedVersions remembers, per object, the resourceVersion it had right after the operator's
// last apply (or when the operator first found it in sync). It is what lets a reconcile that
// changes nothing send nothing: an object whose hash annotation matches what would be applied and
// that nobody else has written since is left alone.
type appliedVersions struct {
	mu sync.Mutex
	// byTenant groups entries by tenant namespace (a Namespace object under its own name), so a
	// release forgets its tenant's entries at once.
	byTenant map[string]map[appliedKey]string
}

func (k appliedKey) tenant() string {
	if k.namespace == "" {
		return k.name
	}
	return k.namespace
}

func (a *appliedVersions) get(k appliedKey) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	rv, ok := a.byTenant[k.tenant()][k]
	return rv, ok
}

func (a *appliedVersions) set(k appliedKey, rv string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byTenant == nil {
		a.byTenant = map[string]map[appliedKey]string{}
	}
	m := a.byTenant[k.tenant()]
	if m == nil {
		m = map[appliedKey]string{}
		a.byTenant[k.tenant()] = m
	}
	m[k] = rv
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
	if r.holds(ctx, key, hash) {
		return nil
	}
	if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return err
	}
	r.applied.set(key, u.GetResourceVersion())
	return nil
}

// holds reports whether the cached object already is what an apply with this hash would make it.
func (r *TenantInstanceReconciler) holds(ctx context.Context, key appliedKey, hash string) bool {
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
	seen := obj.GetResourceVersion()
	last, ok := r.applied.get(key)
	if !ok {
		r.applied.set(key, seen)
		return true
	}
	cmp, err := resourceversion.CompareResourceVersion(seen, last)
	return err == nil && cmp <= 0
}
