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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/intern"
)

// Hash is the first 12 bytes of a SHA-256 (HashOf): what the operator's hashes keep.
type Hash [12]byte

// HashOf hashes data as the operator's hashes do.
func HashOf(data []byte) Hash {
	sum := sha256.Sum256(data)
	var h Hash
	copy(h[:], sum[:])
	return h
}

// Record is what the cache knows of one object, read-only. Its accessors return copies; the zero
// Record, which Lookup returns with false, holds nothing and must not be read.
type Record struct{ r *record }

// ResourceVersion is the object's resourceVersion as last seen.
func (r Record) ResourceVersion() string { return r.r.resourceVersion }

// Deleting reports whether the object has a deletion timestamp.
func (r Record) Deleting() bool { return r.r.deletionTimestamp != nil }

// AppliedHash is the object's tenantry.io/applied-hash annotation, decoded; false when it has
// none, or one that is not a hash the operator writes.
func (r Record) AppliedHash() (Hash, bool) { return r.r.hash, r.r.hasHash }

// Fingerprint is the fingerprint of what an apply sets in the object besides its status (see
// Fingerprint); false for the kinds whose status nobody else writes (anything but Deployments,
// ResourceQuotas and Ingresses).
func (r Record) Fingerprint() (Hash, bool) { return r.r.fingerprint, r.r.hasFingerprint }

// AppliedFieldsIntact reports whether the operator's server-side applies still own exactly the
// fields its last apply set: whether its managedFields entry hashes to the object's
// tenantry.io/applied-fields annotation, which that apply wrote. known is false when the object
// carries no such annotation (it was applied by an earlier operator, or the annotation was
// removed): then AppliedFields is what to compare with the apply configuration's own set.
func (r Record) AppliedFieldsIntact() (intact, known bool) {
	switch r.r.fields {
	case fieldsIntact:
		return true, true
	case fieldsEdited:
		return false, true
	}
	return false, false
}

// AppliedFields is the hash of the set of fields the operator's server-side applies own in the
// object, as its managedFields entry lists them, for an object whose AppliedFieldsIntact is not
// known; false when the object carries no applied hash or no such entry, or when
// AppliedFieldsIntact is known.
func (r Record) AppliedFields() (Hash, bool) { return r.r.owned, r.r.fields == fieldsOwned }

// UID is a Namespace's UID; empty for other kinds.
func (r Record) UID() types.UID { return r.r.uid }

// Owner is, for a Namespace, the UID of the TenantInstance that made it (NamespaceOwner); empty
// when it carries no mark of one, and for other kinds.
func (r Record) Owner() types.UID { return r.r.owner }

// Deployment is what the cache keeps of a Deployment's spec and status; false for other kinds.
func (r Record) Deployment() (DeploymentCounts, bool) {
	d := r.r.deployment
	if d == nil {
		return DeploymentCounts{}, false
	}
	counts := DeploymentCounts{
		Generation:         r.r.generation,
		ObservedGeneration: d.observedGeneration,
		StatusReplicas:     d.statusReplicas,
		UpdatedReplicas:    d.updatedReplicas,
		ReadyReplicas:      d.readyReplicas,
		AvailableReplicas:  d.available,
	}
	if d.replicas != nil {
		counts.Replicas = new(*d.replicas)
	}
	if d.terminatingReplicas != nil {
		counts.TerminatingReplicas = new(*d.terminatingReplicas)
	}
	return counts, true
}

// DeploymentCounts is what the operator reads of a Deployment beyond its name: the replicas its
// spec asks for, its generation and the counts its status reports. It is a copy: changing it
// changes nothing in the cache.
type DeploymentCounts struct {
	// Replicas is spec.replicas; nil when unset.
	Replicas                                                          *int32
	Generation, ObservedGeneration                                    int64
	StatusReplicas, UpdatedReplicas, ReadyReplicas, AvailableReplicas int32
	// TerminatingReplicas is status.terminatingReplicas; nil when not reported.
	TerminatingReplicas *int32
}

// DeploymentCountsOf is the DeploymentCounts of d, as the cache would hold them.
func DeploymentCountsOf(d *appsv1.Deployment) DeploymentCounts {
	counts := DeploymentCounts{
		Generation:         d.Generation,
		ObservedGeneration: d.Status.ObservedGeneration,
		StatusReplicas:     d.Status.Replicas,
		UpdatedReplicas:    d.Status.UpdatedReplicas,
		ReadyReplicas:      d.Status.ReadyReplicas,
		AvailableReplicas:  d.Status.AvailableReplicas,
	}
	if d.Spec.Replicas != nil {
		counts.Replicas = new(*d.Spec.Replicas)
	}
	if d.Status.TerminatingReplicas != nil {
		counts.TerminatingReplicas = new(*d.Status.TerminatingReplicas)
	}
	return counts
}

// record is what the Cache keeps of one object. Its strings are interned where thousands of
// tenants share them. It is kept compact: there are about ten per tenant.
type record struct {
	namespace, name, resourceVersion string
	generation                       int64
	deletionTimestamp                *metav1.Time
	// hash is the applied-hash annotation, decoded; hasHash is false when the object has none
	// (or one that is not a hash the operator writes).
	hash    Hash
	hasHash bool
	// fingerprint is set for the kinds whose status others write.
	fingerprint    Hash
	hasFingerprint bool
	// fields is what the record tells of the fields the operator's applies own now, as its
	// managedFields entry lists them; owned is the entry's hash when that is all it tells
	// (fieldsOwned).
	owned  Hash
	fields fieldsState
	// deployment is set for Deployments only.
	deployment *deploymentRecord
	// owner is set for Namespaces only: the UID of the TenantInstance that made it (see
	// NamespaceOwner), or "" when the namespace carries no mark of one.
	owner types.UID
	// uid is set for Namespaces only: what the operator remembers of the Secrets it wrote in a
	// tenant namespace is bound to it.
	uid types.UID
}

// fieldsState is what a record tells of the fields the operator's applies own. Its zero value
// tells nothing: the object has no applied hash, or neither a managedFields entry of the
// operator's applies nor an applied-fields annotation.
type fieldsState uint8

const (
	// fieldsOwned: an entry, whose hash is in owned, and no applied-fields annotation.
	fieldsOwned fieldsState = iota + 1
	// fieldsIntact: the entry hashes to the applied-fields annotation.
	fieldsIntact
	// fieldsEdited: the object has an applied-fields annotation, and no entry or one whose hash
	// differs: someone changed or removed a field the operator applied.
	fieldsEdited
)

// deploymentRecord is what the operator reads of a Deployment besides its metadata.
type deploymentRecord struct {
	replicas                                                  *int32
	observedGeneration                                        int64
	statusReplicas, updatedReplicas, readyReplicas, available int32
	terminatingReplicas                                       *int32
}

// GetObjectMeta makes a record an object to the informer's store, which keys it by namespace and
// name and compares resourceVersions.
func (r *record) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: r.namespace, Name: r.name, ResourceVersion: r.resourceVersion}
}

// compact is the Cache's transform: it turns a decoded object into its record. A record, or a
// tombstone, passes through unchanged.
func (c *Cache) compact(in any) (any, error) {
	obj, ok := in.(client.Object)
	if !ok {
		return in, nil
	}
	return newRecord(obj, c.fieldOwner), nil
}

// RecordOf is the Record the cache would hold of obj, whose applied fields are those of
// fieldOwner: what a cache that has seen obj returns.
func RecordOf(obj client.Object, fieldOwner string) Record {
	return Record{newRecord(obj, fieldOwner)}
}

func newRecord(obj client.Object, fieldOwner string) *record {
	rec := &record{
		namespace:         intern.String(obj.GetNamespace()),
		name:              intern.String(obj.GetName()),
		resourceVersion:   obj.GetResourceVersion(),
		generation:        obj.GetGeneration(),
		deletionTimestamp: obj.GetDeletionTimestamp(),
	}
	annotations := obj.GetAnnotations()
	rec.hash, rec.hasHash = decodeHash(annotations[tenantryv1alpha1.AnnotationAppliedHash])
	if rec.hasHash {
		owned, hasEntry := appliedFieldsOf(obj, fieldOwner)
		expected, hasExpected := decodeHash(annotations[tenantryv1alpha1.AnnotationAppliedFields])
		switch {
		case hasExpected && hasEntry && owned == expected:
			rec.fields = fieldsIntact
		case hasExpected:
			rec.fields = fieldsEdited
		case hasEntry:
			rec.owned, rec.fields = owned, fieldsOwned
		}
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
		rec.owner = NamespaceOwner(o)
		rec.uid = o.UID
	case *corev1.ResourceQuota:
		rec.fingerprint, rec.hasFingerprint = decodeHash(fingerprintOf(o, o.Spec))
	case *networkingv1.Ingress:
		rec.fingerprint, rec.hasFingerprint = decodeHash(fingerprintOf(o, o.Spec))
	}
	return rec
}

// appliedFieldsOf hashes the set of fields fieldOwner's server-side applies own in obj, as the
// API server serialised it in obj's managedFields. It costs one hash of a few hundred bytes.
func appliedFieldsOf(obj client.Object, fieldOwner string) (Hash, bool) {
	for _, e := range obj.GetManagedFields() {
		if e.Manager == fieldOwner && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" && e.FieldsV1 != nil {
			return HashOf(e.FieldsV1.GetRawBytes()), true
		}
	}
	return Hash{}, false
}

// decodeHash decodes a hash the operator writes: 12 bytes in hex.
func decodeHash(s string) (Hash, bool) {
	var h Hash
	if len(s) != hex.EncodedLen(len(h)) {
		return h, false
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, false
	}
	return h, true
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

// NamespaceOwner is the UID of the TenantInstance that made ns, or "" when ns carries no mark of
// one. The marks are the managed-by label together with the annotation tenantry.io/instance-uid
// or, on namespaces made by earlier versions of the operator, a controller owner reference to a
// TenantInstance. Anything else — a namespace someone created by hand, say — is not the
// operator's: it never writes into it nor deletes it.
func NamespaceOwner(ns *corev1.Namespace) types.UID {
	if ns.Labels[tenantryv1alpha1.LabelManagedBy] != tenantryv1alpha1.ManagedByValue {
		return ""
	}
	if uid := ns.Annotations[tenantryv1alpha1.AnnotationInstanceUID]; uid != "" {
		return types.UID(uid)
	}
	if ref := metav1.GetControllerOfNoCopy(ns); ref != nil && ref.Kind == "TenantInstance" &&
		ref.APIVersion == tenantryv1alpha1.GroupVersion.String() {
		return ref.UID
	}
	return ""
}
