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
	"strconv"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// appliedKey names one object the operator applies within its tenant: appliedVersions keys its
// entries by tenant namespace first. Its strings are interned: thousands of tenants share them.
type appliedKey struct {
	kind, name string
}

// appliedState is what the operator remembers of an object right after its last apply (or when
// it first found the object in sync): its resourceVersion and, for the kinds whose status other
// controllers write, the fingerprint of everything but its status (see fingerprintOf). It is kept
// compact, as there are about ten per tenant.
type appliedState struct {
	// resourceVersion is 0 when the API server's was not a number, which makes every comparison
	// fail, and so the object is applied.
	resourceVersion uint64
	fingerprint     [12]byte
}

// newAppliedState records rv, with no fingerprint.
func newAppliedState(rv string) appliedState {
	st := appliedState{}
	st.resourceVersion, _ = strconv.ParseUint(rv, 10, 64)
	return st
}

// appliedVersions remembers, per object, its appliedState. It is what lets a reconcile that
// changes nothing send nothing: an object whose hash annotation matches what would be applied and
// that nobody else has written since is left alone.
type appliedVersions struct {
	mu sync.Mutex
	// byTenant groups entries by tenant namespace (a Namespace object under its own name), so a
	// release forgets its tenant's entries at once. A tenant has about ten, which a slice holds
	// in half the memory of a map and searches as fast.
	byTenant map[string][]appliedEntry
}

type appliedEntry struct {
	key   appliedKey
	state appliedState
}

// appliedKeyOf returns the tenant namespace an object is remembered under and its key there.
func appliedKeyOf(gvk schema.GroupVersionKind, namespace, name string) (string, appliedKey) {
	k := appliedKey{kind: intern(gvk.GroupKind().String()), name: intern(name)}
	if namespace == "" {
		return k.name, k
	}
	return intern(namespace), k
}

func (a *appliedVersions) get(tenant string, k appliedKey) (appliedState, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.byTenant[tenant] {
		if e.key == k {
			return e.state, true
		}
	}
	return appliedState{}, false
}

func (a *appliedVersions) set(tenant string, k appliedKey, st appliedState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byTenant == nil {
		a.byTenant = map[string][]appliedEntry{}
	}
	entries := a.byTenant[tenant]
	for i := range entries {
		if entries[i].key == k {
			entries[i].state = st
			return
		}
	}
	if entries == nil {
		entries = make([]appliedEntry, 0, 10)
	}
	a.byTenant[tenant] = append(entries, appliedEntry{key: k, state: st})
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
// An object is skipped when its cached record (see ChildCache) carries the hash of ac and
// either has the resourceVersion the last apply returned, or an older one (the cache has not
// caught up with that apply yet). Any other write — a hand edit, another controller — gives it a newer
// resourceVersion, and the next reconcile applies again, putting back the fields the operator owns.
// The exception is a write to the status (or the revision annotation) of a Deployment,
// ResourceQuota or Ingress, which their controllers make as a matter of course: for those kinds a
// newer object whose fingerprint is unchanged is still in sync.
// After a restart nothing is remembered: an object whose hash matches is trusted if the fields the
// operator's applies own are still those of ac (appliedFieldsIntact), which a hand edit made while
// no operator ran breaks; so a restart with thousands of tenants in sync sends no writes, and one
// with edited tenants repairs them.
func (r *TenantInstanceReconciler) apply(ctx context.Context, ac runtime.ApplyConfiguration) error {
	data, err := json.Marshal(ac)
	if err != nil {
		return fmt.Errorf("encoding apply configuration: %w", err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return fmt.Errorf("decoding apply configuration: %w", err)
	}
	hash := hash12(data)
	annotations := u.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[tenantryv1alpha1.AnnotationAppliedHash] = hex.EncodeToString(hash[:])
	u.SetAnnotations(annotations)

	gvk := u.GroupVersionKind()
	tenant, key := appliedKeyOf(gvk, u.GetNamespace(), u.GetName())
	if r.holds(u, tenant, key, hash) {
		return nil
	}
	before, known := r.Children.lookup(gvk.GroupKind(), client.ObjectKey{Namespace: u.GetNamespace(), Name: u.GetName()})
	if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return err
	}
	switch {
	case !known:
		noteChange(ctx, gvk.Kind+"/"+u.GetName()+" applied")
	case before.resourceVersion != u.GetResourceVersion():
		noteChange(ctx, gvk.Kind+"/"+u.GetName()+" updated")
	}
	st := newAppliedState(u.GetResourceVersion())
	if statusWrittenByOthers(gvk) {
		// The object as the API server returned it, as the child cache will record it.
		if o, err := r.Scheme.New(gvk); err == nil {
			if obj, ok := o.(client.Object); ok && runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj) == nil {
				if rec, err := compact(obj); err == nil {
					st.fingerprint = rec.(*childRecord).fingerprint
				}
			}
		}
	}
	r.applied.set(tenant, key, st)
	return nil
}

// holds reports whether the cached object already is what applying u, whose hash is hash, would
// make it.
func (r *TenantInstanceReconciler) holds(u *unstructured.Unstructured, tenant string, key appliedKey, hash [12]byte) bool {
	gvk := u.GroupVersionKind()
	rec, ok := r.Children.lookup(gvk.GroupKind(), client.ObjectKey{Namespace: u.GetNamespace(), Name: key.name})
	if !ok || !rec.hasHash || rec.hash != hash || rec.deletionTimestamp != nil {
		return false
	}
	seen := newAppliedState(rec.resourceVersion)
	fingerprinted := statusWrittenByOthers(gvk) && rec.hasFingerprint
	if fingerprinted {
		seen.fingerprint = rec.fingerprint
	}
	last, ok := r.applied.get(tenant, key)
	switch {
	case !ok:
		// First sight since this process started: nothing tells which writes came after the
		// last apply, but the fields that apply owns do (appliedFieldsIntact).
		if !appliedFieldsIntact(u, rec) {
			return false
		}
		r.applied.set(tenant, key, seen)
		return true
	case seen.resourceVersion == 0 || last.resourceVersion == 0:
		return false
	case seen.resourceVersion <= last.resourceVersion:
		return true
	case fingerprinted && seen.fingerprint == last.fingerprint:
		// Only the status moved (the Deployment controller reporting a rollout, the quota
		// controller counting usage): remember the newer version and send nothing.
		r.applied.set(tenant, key, seen)
		return true
	}
	return false
}

// statusWrittenByOthers lists the kinds the operator applies whose status (or metadata) other
// controllers write after every apply: the Deployment controller, the quota controller, an
// Ingress controller. Their cached records carry the fingerprint of what they held besides their
// status (see compact), which is what tells such a write from an edit of what the operator applied.
func statusWrittenByOthers(gvk schema.GroupVersionKind) bool {
	switch gvk.GroupKind() {
	case schema.GroupKind{Group: "apps", Kind: "Deployment"},
		schema.GroupKind{Group: "networking.k8s.io", Kind: "Ingress"},
		schema.GroupKind{Kind: "ResourceQuota"}:
		return true
	}
	return false
}

// appliedFieldsIntact reports whether the object rec records still holds every field that
// applying u sets, with the value u gives it. It answers for an object first seen after a restart,
// when this process has no resourceVersion of its own apply to compare with: was it edited while
// no operator ran?
//
// The API server records in managedFields, per field manager, the set of fields that manager owns
// (names and list keys, not values). An apply makes the operator own exactly the fields of its
// apply configuration; anyone else who changes one of them, or removes it, takes it out of that
// set (a change by an update moves the field to the updater; a change by another apply has to
// force it away). So the set the operator owns equals the set u would own if, and only if, no
// field the operator applied has been changed since — and the hash annotation says u is what was
// applied. This needs no read and no write, the cache keeps a 12-byte hash more per object, and the
// set of u is computed once per object and process, at first sight (about half a millisecond for
// the Deployment: BenchmarkAppliedFieldsOfConfig). Should the API server's schema of a kind ever
// differ from client-go's, the two sets differ and such objects cost one apply per restart: never
// a missed repair.
//
// Other ways were weighed: comparing a fingerprint of the live object with one of u fails on every
// field the API server defaults; metadata.generation exists for some kinds only, misses edits of
// labels and annotations, and cannot be written into the apply that raises it. Writes to fields
// the operator does not set (a status, the Deployment controller's revision annotation, a label
// someone adds) leave its set alone and cost nothing, as an apply would not change them anyway.
func appliedFieldsIntact(u *unstructured.Unstructured, rec *childRecord) bool {
	if !rec.hasOwned {
		return false
	}
	want, err := appliedFieldsOfConfig(u)
	return err == nil && want == rec.owned
}

// applyTypes knows the schema of the built-in kinds the operator applies, as the API server does.
var applyTypes = sync.OnceValue(func() managedfields.TypeConverter {
	return applyconfigurations.NewTypeConverter(clientgoscheme.Scheme)
})

// appliedFieldsOfConfig is appliedFieldsOf for the object an apply of u would make: the hash of
// the set of fields u sets, serialised as the API server serialises a managedFields entry.
func appliedFieldsOfConfig(u *unstructured.Unstructured) ([12]byte, error) {
	tv, err := applyTypes().ObjectToTyped(u)
	if err != nil {
		return [12]byte{}, fmt.Errorf("typing the apply configuration of %s: %w", u.GroupVersionKind().Kind, err)
	}
	set, err := tv.ToFieldSet()
	if err != nil {
		return [12]byte{}, fmt.Errorf("listing the fields of %s: %w", u.GroupVersionKind().Kind, err)
	}
	// The API server records no owner of an object's identity and server-set metadata (its
	// "strip meta" field manager); the set of an object holding just those is taken away.
	id := &unstructured.Unstructured{}
	id.SetGroupVersionKind(u.GroupVersionKind())
	id.SetName(u.GetName())
	id.SetNamespace(u.GetNamespace())
	id.SetUID("uid")
	id.SetResourceVersion("1")
	id.SetGeneration(1)
	id.SetCreationTimestamp(metav1.Unix(1, 0))
	idv, err := applyTypes().ObjectToTyped(id)
	if err != nil {
		return [12]byte{}, fmt.Errorf("typing the identity of %s: %w", u.GroupVersionKind().Kind, err)
	}
	idSet, err := idv.ToFieldSet()
	if err != nil {
		return [12]byte{}, fmt.Errorf("listing the identity fields of %s: %w", u.GroupVersionKind().Kind, err)
	}
	data, err := set.Difference(idSet).ToJSON()
	if err != nil {
		return [12]byte{}, fmt.Errorf("encoding the fields of %s: %w", u.GroupVersionKind().Kind, err)
	}
	return hash12(data), nil
}

// hash12 is the first 12 bytes of the SHA-256 of data: what the operator's hashes keep.
func hash12(data []byte) [12]byte {
	sum := sha256.Sum256(data)
	var h [12]byte
	copy(h[:], sum[:])
	return h
}
