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

// Package ssa server-side applies the operator's objects and skips the applies that would change
// nothing, so that a reconcile of a tenant in sync sends no write, also after a restart.
//
// Every applied object carries the annotation tenantry.io/applied-hash, a hash of its apply
// configuration. A Cache remembers, per object, what the last apply returned (its
// resourceVersion and, for the kinds whose status other controllers write, the fingerprint of
// everything else); together with the child cache's record of the object (childcache.Record) it
// tells whether the object still holds what would be applied. Each apply also carries
// tenantry.io/applied-fields, the hash of the set of fields it sets, which tells a restarted
// operator whether any of them was changed while it was not running. The Cache also remembers
// what the operator wrote without applying (Remember, Recall), under the same keys.
package ssa

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/childcache"
	"github.com/tenantry/tenantry/internal/intern"
)

// Writer sends server-side applies: a controller-runtime client. Each apply is sent as a patch of
// the apply type on a typed object of a built-in kind, for which controller-runtime's client asks
// for protobuf: the API server encodes its answer, the whole object, in protobuf rather than JSON,
// and the answer decodes straight into the typed object, for a fraction of the CPU and garbage on
// both sides. (The client's Apply asks for JSON and decodes it into an unstructured object.)
type Writer interface {
	Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error
}

// Records is what Apply reads the objects' current state from: the child cache. Its FieldOwner
// is the field manager Apply applies with, whose applied fields the records hash.
type Records interface {
	Lookup(gk schema.GroupKind, key client.ObjectKey) (childcache.Record, bool)
	FieldOwner() string
}

// Change says what an Apply did.
type Change int

const (
	// Skipped: nothing was sent; the object holds what the apply would set.
	Skipped Change = iota
	// Unchanged: the apply was sent and changed nothing (the object kept its resourceVersion).
	Unchanged
	// Applied: the apply was sent for an object the records did not hold (a new one, or one the
	// cache has not seen yet).
	Applied
	// Updated: the apply was sent and changed the object.
	Updated
)

// Result is what Apply did to which object.
type Result struct {
	Kind, Name string
	Change     Change
}

// State is what a Cache remembers of one object: a version and a stamp. For an applied object
// they are the resourceVersion its last apply returned (0 when the API server's was not a number,
// which makes every comparison fail, and so the object is applied) and, for the kinds whose
// status others write, the fingerprint of everything but its status (childcache.Record's
// Fingerprint). What else the operator remembers under the Cache's keys (Remember) gives them its
// own meaning.
type State struct {
	Version uint64
	Stamp   childcache.Hash
}

// stateOf is the State of resourceVersion rv, with no stamp.
func stateOf(rv string) State {
	st := State{}
	st.Version, _ = strconv.ParseUint(rv, 10, 64)
	return st
}

// Cache remembers a State per object, grouped by tenant namespace. Its zero value is ready; it is
// safe for concurrent use.
type Cache struct {
	mu sync.Mutex
	// byTenant groups entries by tenant namespace (a Namespace object under its own name), so a
	// release forgets its tenant's entries at once. A tenant has about ten, which a slice holds
	// in half the memory of a map and searches as fast.
	byTenant map[string][]entry
}

// key names one object within its tenant. Its strings are interned: thousands of tenants share
// them.
type key struct {
	kind, name string
}

// entriesGrowth is how many entries a tenant's slice grows by when full.
const entriesGrowth = 4

type entry struct {
	key   key
	state State
}

// keyOf returns the tenant namespace an object is remembered under and its key there.
func keyOf(gk schema.GroupKind, namespace, name string) (string, key) {
	k := key{kind: intern.String(gk.String()), name: intern.String(name)}
	if namespace == "" {
		return k.name, k
	}
	return intern.String(namespace), k
}

// Recall returns what is remembered of the object of kind gk named name in namespace.
func (c *Cache) Recall(gk schema.GroupKind, namespace, name string) (State, bool) {
	tenant, k := keyOf(gk, namespace, name)
	return c.get(tenant, k)
}

// Remember records st for the object of kind gk named name in namespace.
func (c *Cache) Remember(gk schema.GroupKind, namespace, name string, st State) {
	tenant, k := keyOf(gk, namespace, name)
	c.set(tenant, k, st)
}

// Forget drops what is remembered of a tenant namespace and the objects in it.
func (c *Cache) Forget(namespace string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byTenant, namespace)
}

func (c *Cache) get(tenant string, k key) (State, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.byTenant[tenant] {
		if e.key == k {
			return e.state, true
		}
	}
	return State{}, false
}

func (c *Cache) set(tenant string, k key, st State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byTenant == nil {
		c.byTenant = map[string][]entry{}
	}
	entries := c.byTenant[tenant]
	for i := range entries {
		if entries[i].key == k {
			entries[i].state = st
			return
		}
	}
	if len(entries) == cap(entries) {
		// Grow by a few, not twice over: a tenant's objects are a fixed set of about ten, and
		// append's doubling would leave most tenants' slices half empty (measured: 5 MB more at
		// 10,000 tenants when the set grew to eleven).
		grown := make([]entry, len(entries), len(entries)+entriesGrowth)
		copy(grown, entries)
		entries = grown
	}
	c.byTenant[tenant] = append(entries, entry{key: k, state: st})
}

// Apply server-side applies ac through w under records' field owner, forcing ownership, unless
// the object is known to hold exactly that already.
//
// An object is skipped when its record carries the hash of ac and either has the resourceVersion
// the last apply returned, or an older one (the cache has not caught up with that apply yet). Any
// other write — a hand edit, another controller — gives it a newer resourceVersion, and the next
// Apply sends it again, putting back the fields the operator owns. The exception is a write to the
// status (or the revision annotation) of a Deployment, ResourceQuota or Ingress, which their
// controllers make as a matter of course: for those kinds a newer object whose fingerprint is
// unchanged is still in sync. After a restart nothing is remembered: an object whose hash matches
// is trusted if the fields the operator's applies own are still those of ac (appliedFieldsIntact),
// which a hand edit made while no operator ran breaks; so a restart with thousands of tenants in
// sync sends no writes, and one with edited tenants repairs them.
func (c *Cache) Apply(ctx context.Context, w Writer, records Records, ac runtime.ApplyConfiguration) (Result, error) {
	return c.apply(ctx, w, records, ac, false)
}

// absentVersion is the resourceVersion a Create makes its apply conditional on. A resourceVersion
// in an apply is a precondition on the object it changes, and one that creates its object has none
// to meet (the API server checks it only against an existing object, then wipes it). Versions are
// etcd revisions: a store starts at revision 1 and each write makes a new one, so the first object
// ever written is at revision 2 and none is ever at 1: an apply at this version to an existing
// object always fails.
const absentVersion = "1"

// Create server-side applies ac on the condition that its object does not exist yet: it creates
// the object, or fails with a Conflict (apierrors.IsConflict) when an object of that name exists,
// whoever made it, and changes nothing. It is the apply's counterpart of a create, and makes the
// object the operator's exactly as Apply would (the same annotations, the same managed fields),
// in one write: an object it creates is later skipped or applied like any other. It is always
// sent.
func (c *Cache) Create(ctx context.Context, w Writer, records Records, ac runtime.ApplyConfiguration) (Result, error) {
	return c.apply(ctx, w, records, ac, true)
}

func (c *Cache) apply(ctx context.Context, w Writer, records Records, ac runtime.ApplyConfiguration, create bool) (Result, error) {
	data, err := json.Marshal(ac)
	if err != nil {
		return Result{}, fmt.Errorf("encoding apply configuration: %w", err)
	}
	hash := childcache.HashOf(data)
	// What is applied: ac with its hash annotation. It is decoded only once an apply is sent or
	// the skip needs it, which a reconcile of a tenant in sync never does.
	var u *unstructured.Unstructured
	config := func() (*unstructured.Unstructured, error) {
		if u != nil {
			return u, nil
		}
		d := &unstructured.Unstructured{}
		if err := d.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("decoding apply configuration: %w", err)
		}
		annotations := d.GetAnnotations()
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[tenantryv1alpha1.AnnotationAppliedHash] = hex.EncodeToString(hash[:])
		d.SetAnnotations(annotations)
		u = d
		return u, nil
	}

	gvk, namespace, name, err := identity(ac, config)
	if err != nil {
		return Result{}, err
	}
	res := Result{Kind: gvk.Kind, Name: name}
	tenant, k := keyOf(gvk.GroupKind(), namespace, name)
	if !create && c.holds(gvk, namespace, records, tenant, k, hash, config) {
		return res, nil
	}
	if _, err := config(); err != nil {
		return res, err
	}
	annotations := u.GetAnnotations()
	// The apply records in the object the set of fields it sets (AnnotationAppliedFields), so
	// that a restarted operator can tell from the object alone whether they are intact. The set
	// includes the annotation itself, whatever its value. Should the set not be computable, the
	// object goes without the annotation and a restart computes it (appliedFieldsIntact).
	annotations[tenantryv1alpha1.AnnotationAppliedFields] = ""
	u.SetAnnotations(annotations)
	if fields, err := appliedFieldsOfConfig(u); err == nil {
		annotations[tenantryv1alpha1.AnnotationAppliedFields] = hex.EncodeToString(fields[:])
	} else {
		delete(annotations, tenantryv1alpha1.AnnotationAppliedFields)
	}
	u.SetAnnotations(annotations)
	if create {
		u.SetResourceVersion(absentVersion)
	}
	body, err := u.MarshalJSON()
	if err != nil {
		return res, fmt.Errorf("encoding apply configuration: %w", err)
	}
	before, known := records.Lookup(gvk.GroupKind(), client.ObjectKey{Namespace: namespace, Name: name})
	// The object as the API server answers the apply, as the child cache will record it.
	obj := target(gvk, namespace, name)
	if err := w.Patch(ctx, obj, client.RawPatch(types.ApplyPatchType, body), client.FieldOwner(records.FieldOwner()), client.ForceOwnership); err != nil {
		return res, err
	}
	switch {
	case !known:
		res.Change = Applied
	case before.ResourceVersion() != obj.GetResourceVersion():
		res.Change = Updated
	default:
		res.Change = Unchanged
	}
	st := stateOf(obj.GetResourceVersion())
	if statusWrittenByOthers(gvk) {
		st.Stamp, _ = childcache.RecordOf(obj, records.FieldOwner()).Fingerprint()
	}
	c.set(tenant, k, st)
	return res, nil
}

// target is the object an apply of kind gvk to namespace/name is sent on and answered into:
// typed for the built-in kinds, unstructured for any other.
func target(gvk schema.GroupVersionKind, namespace, name string) client.Object {
	var obj client.Object
	if o, err := clientgoscheme.Scheme.New(gvk); err == nil {
		obj, _ = o.(client.Object)
	}
	if obj == nil {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk)
		obj = u
	}
	obj.SetNamespace(namespace)
	obj.SetName(name)
	return obj
}

// holds reports whether the recorded object already is what applying config (of kind gvk, in
// namespace, whose hash is hash) would make it.
func (c *Cache) holds(gvk schema.GroupVersionKind, namespace string, records Records, tenant string, k key, hash childcache.Hash, config func() (*unstructured.Unstructured, error)) bool {
	rec, ok := records.Lookup(gvk.GroupKind(), client.ObjectKey{Namespace: namespace, Name: k.name})
	if !ok || rec.Deleting() {
		return false
	}
	if h, ok := rec.AppliedHash(); !ok || h != hash {
		return false
	}
	seen := stateOf(rec.ResourceVersion())
	fp, hasFingerprint := rec.Fingerprint()
	fingerprinted := statusWrittenByOthers(gvk) && hasFingerprint
	if fingerprinted {
		seen.Stamp = fp
	}
	last, ok := c.get(tenant, k)
	switch {
	case !ok:
		// First sight since this process started: nothing tells which writes came after the
		// last apply, but the fields that apply owns do (appliedFieldsIntact).
		if !appliedFieldsIntact(config, rec) {
			return false
		}
		c.set(tenant, k, seen)
		return true
	case seen.Version == 0 || last.Version == 0:
		return false
	case seen.Version <= last.Version:
		return true
	case fingerprinted && seen.Stamp == last.Stamp:
		// Only the status moved (the Deployment controller reporting a rollout, the quota
		// controller counting usage): remember the newer version and send nothing.
		c.set(tenant, k, seen)
		return true
	}
	return false
}

// identified is what client-go's apply configurations tell of their object without being encoded.
type identified interface {
	GetAPIVersion() *string
	GetKind() *string
	GetName() *string
	GetNamespace() *string
}

// identity is the kind, namespace and name of the object ac applies: read from ac itself, or else
// from config, its decoded form.
func identity(ac runtime.ApplyConfiguration, config func() (*unstructured.Unstructured, error)) (gvk schema.GroupVersionKind, namespace, name string, err error) {
	if id, ok := ac.(identified); ok && id.GetAPIVersion() != nil && id.GetKind() != nil && id.GetName() != nil {
		if gv, err := schema.ParseGroupVersion(*id.GetAPIVersion()); err == nil {
			if ns := id.GetNamespace(); ns != nil {
				namespace = *ns
			}
			return gv.WithKind(*id.GetKind()), namespace, *id.GetName(), nil
		}
	}
	u, err := config()
	if err != nil {
		return gvk, "", "", err
	}
	return u.GroupVersionKind(), u.GetNamespace(), u.GetName(), nil
}

// statusWrittenByOthers lists the kinds the operator applies whose status (or metadata) other
// controllers write after every apply: the Deployment controller, the quota controller, an
// Ingress controller. Their records carry the fingerprint of what they held besides their status,
// which is what tells such a write from an edit of what the operator applied.
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
// applying u (what config decodes) sets, with the value u gives it. It answers for an object
// first seen after a restart, when this process has no resourceVersion of its own apply to
// compare with: was it edited while no operator ran?
//
// The API server records in managedFields, per field manager, the set of fields that manager owns
// (names and list keys, not values). An apply makes the operator own exactly the fields of its
// apply configuration; anyone else who changes one of them, or removes it, takes it out of that
// set (a change by an update moves the field to the updater; a change by another apply has to
// force it away). So the set the operator owns equals the set u would own if, and only if, no
// field the operator applied has been changed since — and the hash annotation says u is what was
// applied. This needs no read and no write. The set of u is computed when an apply is sent (about
// half a millisecond for the Deployment: BenchmarkAppliedFieldsOfConfig) and its hash written
// into the object with it (AnnotationAppliedFields), so the child cache's record tells, without
// computing anything, whether the entry still hashes to it (Record.AppliedFieldsIntact): a
// restart with thousands of tenants types no apply configuration. An object without that
// annotation (applied by an earlier operator) has the set of u computed here, once per object and
// process, and compared with the entry's hash the record keeps. Should the API server's schema of
// a kind ever differ from client-go's, the two sets differ and such objects cost one apply per
// restart: never a missed repair.
//
// Other ways were weighed: comparing a fingerprint of the live object with one of u fails on every
// field the API server defaults; metadata.generation exists for some kinds only, misses edits of
// labels and annotations, and cannot be written into the apply that raises it. Writes to fields
// the operator does not set (a status, the Deployment controller's revision annotation, a label
// someone adds) leave its set alone and cost nothing, as an apply would not change them anyway.
func appliedFieldsIntact(config func() (*unstructured.Unstructured, error), rec childcache.Record) bool {
	if intact, known := rec.AppliedFieldsIntact(); known {
		return intact
	}
	owned, ok := rec.AppliedFields()
	if !ok {
		return false
	}
	u, err := config()
	if err != nil {
		return false
	}
	want, err := appliedFieldsOfConfig(u)
	return err == nil && want == owned
}

// applyTypes knows the schema of the built-in kinds the operator applies, as the API server does.
var applyTypes = sync.OnceValue(func() managedfields.TypeConverter {
	return applyconfigurations.NewTypeConverter(clientgoscheme.Scheme)
})

// identities holds, per kind, the set of fields of an object's identity and server-set metadata
// (identityFields); a *fieldpath.Set per schema.GroupVersionKind.
var identities sync.Map

// identityFields is the set of fields of an object of kind gvk that holds just its identity and
// server-set metadata, which the API server records no owner of (its "strip meta" field manager).
// It depends on the kind alone and is computed once per kind.
func identityFields(gvk schema.GroupVersionKind) (*fieldpath.Set, error) {
	if set, ok := identities.Load(gvk); ok {
		return set.(*fieldpath.Set), nil
	}
	id := &unstructured.Unstructured{}
	id.SetGroupVersionKind(gvk)
	id.SetName("name")
	id.SetNamespace("namespace")
	id.SetUID("uid")
	id.SetResourceVersion("1")
	id.SetGeneration(1)
	id.SetCreationTimestamp(metav1.Unix(1, 0))
	idv, err := applyTypes().ObjectToTyped(id)
	if err != nil {
		return nil, fmt.Errorf("typing the identity of %s: %w", gvk.Kind, err)
	}
	set, err := idv.ToFieldSet()
	if err != nil {
		return nil, fmt.Errorf("listing the identity fields of %s: %w", gvk.Kind, err)
	}
	stored, _ := identities.LoadOrStore(gvk, set)
	return stored.(*fieldpath.Set), nil
}

// appliedFieldsOfConfig is childcache.Record's AppliedFields for the object an apply of u would
// make: the hash of the set of fields u sets, serialised as the API server serialises a
// managedFields entry.
func appliedFieldsOfConfig(u *unstructured.Unstructured) (childcache.Hash, error) {
	tv, err := applyTypes().ObjectToTyped(u)
	if err != nil {
		return childcache.Hash{}, fmt.Errorf("typing the apply configuration of %s: %w", u.GroupVersionKind().Kind, err)
	}
	set, err := tv.ToFieldSet()
	if err != nil {
		return childcache.Hash{}, fmt.Errorf("listing the fields of %s: %w", u.GroupVersionKind().Kind, err)
	}
	idSet, err := identityFields(u.GroupVersionKind())
	if err != nil {
		return childcache.Hash{}, err
	}
	data, err := set.Difference(idSet).ToJSON()
	if err != nil {
		return childcache.Hash{}, fmt.Errorf("encoding the fields of %s: %w", u.GroupVersionKind().Kind, err)
	}
	return childcache.HashOf(data), nil
}
