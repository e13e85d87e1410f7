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
	"encoding/hex"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	v1 "github.com/tenantry/tenantry/api/v1alpha1"
)

const owner = "tenantry-operator"

func TestFingerprint(t *testing.T) {
	base := func() *corev1.ResourceQuota {
		return &corev1.ResourceQuota{
			ObjectMeta: metav1.ObjectMeta{
				Name: "q", Namespace: "ns", ResourceVersion: "10",
				Labels:      map[string]string{"tenantry.io/instance": "t1"},
				Annotations: map[string]string{"tenantry.io/applied-hash": "h"},
			},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceLimitsCPU: resource.MustParse("4")}},
		}
	}
	// fp fingerprints q as the cache holds it.
	fp := func(q *corev1.ResourceQuota) string {
		h, ok := RecordOf(q.DeepCopy(), owner).Fingerprint()
		if !ok {
			return ""
		}
		return hex.EncodeToString(h[:])
	}
	want := fp(base())
	if want == "" {
		t.Fatal("empty fingerprint")
	}
	same := map[string]func(*corev1.ResourceQuota){
		"a newer resourceVersion": func(q *corev1.ResourceQuota) { q.ResourceVersion = "11" },
		"a status": func(q *corev1.ResourceQuota) {
			q.Status.Used = corev1.ResourceList{corev1.ResourceLimitsCPU: resource.MustParse("1")}
		},
		"the Deployment controller's revision annotation": func(q *corev1.ResourceQuota) {
			q.Annotations["deployment.kubernetes.io/revision"] = "2"
		},
		"a new generation": func(q *corev1.ResourceQuota) { q.Generation = 2 },
	}
	for name, mutate := range same {
		q := base()
		mutate(q)
		if got := fp(q); got != want {
			t.Errorf("%s changed the fingerprint", name)
		}
	}
	differ := map[string]func(*corev1.ResourceQuota){
		"the spec":               func(q *corev1.ResourceQuota) { q.Spec.Hard[corev1.ResourceLimitsCPU] = resource.MustParse("8") },
		"an applied label value": func(q *corev1.ResourceQuota) { q.Labels["tenantry.io/instance"] = "t2" },
		"an applied label gone":  func(q *corev1.ResourceQuota) { delete(q.Labels, "tenantry.io/instance") },
		"an applied annotation":  func(q *corev1.ResourceQuota) { q.Annotations["tenantry.io/applied-hash"] = "other" },
		// Metadata someone else adds costs one apply, which leaves it alone.
		"a label of someone else": func(q *corev1.ResourceQuota) { q.Labels["team"] = "x" },
		"the owner references": func(q *corev1.ResourceQuota) {
			q.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "X", Name: "x", UID: "u"}}
		},
	}
	for name, mutate := range differ {
		q := base()
		mutate(q)
		if got := fp(q); got == want {
			t.Errorf("%s did not change the fingerprint", name)
		}
	}
}

func TestRecordKeepsWhatTheOperatorReads(t *testing.T) {
	now := metav1.Now()
	hash := "00112233445566778899aabb"
	fields := `{"f:spec":{"f:replicas":{}}}`
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: "app", Namespace: "tenant-t1", ResourceVersion: "42", Generation: 3, UID: "u1",
			DeletionTimestamp: &now, Finalizers: []string{"x"},
			Labels:      map[string]string{"tenantry.io/instance": "t1"},
			Annotations: map[string]string{"tenantry.io/applied-hash": hash, "deployment.kubernetes.io/revision": "4"},
			OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "tenantry.io/v1alpha1", Kind: "TenantInstance", Name: "t1", UID: "u3", Controller: ptr.To(true)},
			},
			ManagedFields: []metav1.ManagedFieldsEntry{
				{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, FieldsV1: metav1.NewFieldsV1(`{}`)},
				{Manager: owner, Operation: metav1.ManagedFieldsOperationApply, FieldsV1: metav1.NewFieldsV1(fields)},
			},
		},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "app:1"}},
		}}},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 3, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1,
			TerminatingReplicas: ptr.To(int32(1)),
			Conditions:          []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Message: "long"}},
		},
	}
	c := &Cache{fieldOwner: owner}
	out, err := c.compact(d)
	if err != nil {
		t.Fatal(err)
	}
	rec := Record{out.(*record)}
	if h, ok := rec.AppliedHash(); !ok || hex.EncodeToString(h[:]) != hash {
		t.Errorf("applied hash not kept: %x (%v)", h, ok)
	}
	if h, ok := rec.Fingerprint(); !ok || h == (Hash{}) {
		t.Error("no fingerprint kept")
	}
	if h, ok := rec.AppliedFields(); !ok || h != HashOf([]byte(fields)) {
		t.Errorf("applied fields: %x (%v), want the hash of the operator's entry", h, ok)
	}
	if rec.ResourceVersion() != "42" || !rec.Deleting() || rec.UID() != "" || rec.Owner() != "" {
		t.Errorf("metadata: rv %q, deleting %v, uid %q, owner %q", rec.ResourceVersion(), rec.Deleting(), rec.UID(), rec.Owner())
	}
	// A record passes through the transform unchanged.
	if again, err := c.compact(out); err != nil || again != out {
		t.Errorf("compact of a record: %v, %v", again, err)
	}
	got, ok := rec.Deployment()
	want := DeploymentCounts{
		Replicas: ptr.To[int32](2), Generation: 3, ObservedGeneration: 3,
		StatusReplicas: 2, UpdatedReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1, TerminatingReplicas: ptr.To(int32(1)),
	}
	if diff := cmp.Diff(want, got); !ok || diff != "" {
		t.Errorf("Deployment counts (-want +got), %v:\n%s", ok, diff)
	}
	if diff := cmp.Diff(want, DeploymentCountsOf(d)); diff != "" {
		t.Errorf("DeploymentCountsOf (-want +got):\n%s", diff)
	}
	// The counts are a copy: changing them changes nothing in the cache.
	*got.Replicas, *got.TerminatingReplicas = 7, 7
	if again, _ := rec.Deployment(); *again.Replicas != 2 || *again.TerminatingReplicas != 1 {
		t.Error("changing the counts read from a record changed the record")
	}

	// Other kinds keep their metadata only, and no fingerprint; a hash the operator did not
	// write is no hash.
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "info", Namespace: "tenant-t1", ResourceVersion: "7",
			Annotations: map[string]string{"tenantry.io/applied-hash": "edited"}},
		Data: map[string]string{"k": "v"},
	}
	rec = RecordOf(cm, owner)
	_, hasHash := rec.AppliedHash()
	_, hasFingerprint := rec.Fingerprint()
	_, hasFields := rec.AppliedFields()
	_, isDeployment := rec.Deployment()
	if hasHash || hasFingerprint || hasFields || isDeployment || rec.Deleting() || rec.ResourceVersion() != "7" {
		t.Errorf("ConfigMap record: %+v", *rec.r)
	}
	// The informer's store keys records by namespace and name.
	if key, err := toolscache.MetaNamespaceKeyFunc(rec.r); err != nil || key != "tenant-t1/info" {
		t.Errorf("store key of a record: %q, %v", key, err)
	}

	// A Namespace keeps its UID and its owner.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-t1", UID: "ns-uid",
		Labels:      map[string]string{v1.LabelManagedBy: v1.ManagedByValue},
		Annotations: map[string]string{v1.AnnotationInstanceUID: "ti-uid"}}}
	if rec := RecordOf(ns, owner); rec.UID() != "ns-uid" || rec.Owner() != "ti-uid" {
		t.Errorf("Namespace record: uid %q, owner %q", rec.UID(), rec.Owner())
	}
}

func TestNamespaceOwner(t *testing.T) {
	managed := map[string]string{v1.LabelManagedBy: v1.ManagedByValue}
	ref := func(apiVersion, kind string, controller bool) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: "t1", UID: "uid-1", Controller: ptr.To(controller)}}
	}
	for _, tc := range []struct {
		name        string
		labels      map[string]string
		annotations map[string]string
		owners      []metav1.OwnerReference
		want        types.UID
	}{
		{"made by the operator", managed, map[string]string{v1.AnnotationInstanceUID: "uid-1"}, nil, "uid-1"},
		{"made by an earlier operator, owned by the instance", managed, nil, ref(v1.GroupVersion.String(), "TenantInstance", true), "uid-1"},
		{"annotation wins over an owner reference", managed, map[string]string{v1.AnnotationInstanceUID: "uid-2"}, ref(v1.GroupVersion.String(), "TenantInstance", true), "uid-2"},
		{"created by hand", nil, nil, nil, ""},
		{"annotated but not labelled", nil, map[string]string{v1.AnnotationInstanceUID: "uid-1"}, nil, ""},
		{"labelled by someone else, no owner", managed, nil, nil, ""},
		{"owner reference that is not a controller", managed, nil, ref(v1.GroupVersion.String(), "TenantInstance", false), ""},
		{"owner reference to another kind", managed, nil, ref("apps/v1", "Deployment", true), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-t1", Labels: tc.labels, Annotations: tc.annotations, OwnerReferences: tc.owners}}
			if diff := cmp.Diff(tc.want, NamespaceOwner(ns)); diff != "" {
				t.Errorf("NamespaceOwner (-want +got):\n%s", diff)
			}
		})
	}
}

// A child's namespace names its tenant.
func TestTenantOf(t *testing.T) {
	for _, tc := range []struct {
		namespace, name string
		want            string
	}{
		{"", "tenant-t1", "t1"},
		{"tenant-t-2", "app", "t-2"},
		{"certs", "wildcard", ""},
		{"", "tenant-", ""},
		{"", "kube-system", ""},
	} {
		req, ok := tenantOf(tc.namespace, tc.name)
		if got := req.Name; ok != (tc.want != "") || got != tc.want {
			t.Errorf("tenantOf(%q, %q) = %q, %v; want %q", tc.namespace, tc.name, got, ok, tc.want)
		}
	}
}

func TestInformersKeepNoIndex(t *testing.T) {
	c, err := New(&rest.Config{Host: "http://127.0.0.1:1"}, nil, owner)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.order) != 8 {
		t.Errorf("%d child kinds, want 8", len(c.order))
	}
	if c.byGroupKind[schema.GroupKind{Kind: "Secret"}] != nil {
		t.Error("an informer of Secrets: the operator may not read them")
	}
	for _, gk := range []schema.GroupKind{{Kind: "Namespace"}, {Group: "apps", Kind: "Deployment"}, {Group: "networking.k8s.io", Kind: "Ingress"}} {
		if c.byGroupKind[gk] == nil {
			t.Errorf("no informer for %s", gk)
		}
	}
	for _, k := range c.order {
		if got := k.informer.GetIndexer().GetIndexers(); len(got) != 0 {
			t.Errorf("the %s informer keeps indexes %v", k.resource, slices.Collect(maps.Keys(got)))
		}
	}
}

// BenchmarkCompactDeployment is what the cache spends on every event of the app Deployment.
func BenchmarkCompactDeployment(b *testing.B) {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: "app", Namespace: "tenant-t1", ResourceVersion: "42", Generation: 3, UID: "u1",
			Labels:      map[string]string{"tenantry.io/instance": "t1", "tenantry.io/managed-by": "tenantry"},
			Annotations: map[string]string{"tenantry.io/applied-hash": "00112233445566778899aabb", "deployment.kubernetes.io/revision": "4"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: owner, Operation: metav1.ManagedFieldsOperationApply,
				FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{"f:tenantry.io/instance":{}}},"f:spec":{"f:replicas":{}}}`)}},
		},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "app:1"}},
		}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2},
	}
	c := &Cache{fieldOwner: owner}
	for b.Loop() {
		if _, err := c.compact(d); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRecordTellsWhetherAppliedFieldsAreIntact(t *testing.T) {
	hash := "00112233445566778899aabb"
	fields := `{"f:spec":{"f:replicas":{}}}`
	sum := HashOf([]byte(fields))
	entry := metav1.ManagedFieldsEntry{Manager: owner, Operation: metav1.ManagedFieldsOperationApply, FieldsV1: metav1.NewFieldsV1(fields)}
	for _, tc := range []struct {
		name          string
		annotations   map[string]string
		entries       []metav1.ManagedFieldsEntry
		intact, known bool
		owned         bool
	}{
		{name: "the entry hashes to the annotation", intact: true, known: true,
			annotations: map[string]string{v1.AnnotationAppliedHash: hash, v1.AnnotationAppliedFields: hex.EncodeToString(sum[:])},
			entries:     []metav1.ManagedFieldsEntry{entry}},
		{name: "a field left the entry", known: true,
			annotations: map[string]string{v1.AnnotationAppliedHash: hash, v1.AnnotationAppliedFields: "ffffffffffffffffffffffff"},
			entries:     []metav1.ManagedFieldsEntry{entry}},
		{name: "every field left the entry", known: true,
			annotations: map[string]string{v1.AnnotationAppliedHash: hash, v1.AnnotationAppliedFields: hex.EncodeToString(sum[:])}},
		{name: "another manager's entry is not the operator's", known: true,
			annotations: map[string]string{v1.AnnotationAppliedHash: hash, v1.AnnotationAppliedFields: hex.EncodeToString(sum[:])},
			entries:     []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply, FieldsV1: metav1.NewFieldsV1(fields)}}},
		{name: "no annotation: the entry's hash is kept for the caller", owned: true,
			annotations: map[string]string{v1.AnnotationAppliedHash: hash},
			entries:     []metav1.ManagedFieldsEntry{entry}},
		{name: "an annotation that is no hash the operator writes counts as none", owned: true,
			annotations: map[string]string{v1.AnnotationAppliedHash: hash, v1.AnnotationAppliedFields: "edited"},
			entries:     []metav1.ManagedFieldsEntry{entry}},
		{name: "no applied hash: nothing is known",
			annotations: map[string]string{v1.AnnotationAppliedFields: hex.EncodeToString(sum[:])},
			entries:     []metav1.ManagedFieldsEntry{entry}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "info", Namespace: "tenant-t1",
				Annotations: tc.annotations, ManagedFields: tc.entries}}
			rec := RecordOf(cm, owner)
			if intact, known := rec.AppliedFieldsIntact(); intact != tc.intact || known != tc.known {
				t.Errorf("AppliedFieldsIntact() = %v, %v; want %v, %v", intact, known, tc.intact, tc.known)
			}
			if h, ok := rec.AppliedFields(); ok != tc.owned || (ok && h != sum) {
				t.Errorf("AppliedFields() = %x, %v; want the entry's hash: %v", h, ok, tc.owned)
			}
		})
	}
}
