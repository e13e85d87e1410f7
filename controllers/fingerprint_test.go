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
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

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
		rec, err := compact(q.DeepCopy())
		if err != nil {
			t.Fatal(err)
		}
		if !rec.(*childRecord).hasFingerprint {
			return ""
		}
		return hex.EncodeToString(rec.(*childRecord).fingerprint[:])
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

func TestChildRecordKeepsWhatTheOperatorReads(t *testing.T) {
	now := metav1.Now()
	replicas := int32(2)
	hash := "00112233445566778899aabb"
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: "app", Namespace: "tenant-t1", ResourceVersion: "42", Generation: 3, UID: "u1",
			DeletionTimestamp: &now, Finalizers: []string{"x"},
			Labels:      map[string]string{"tenantry.io/instance": "t1"},
			Annotations: map[string]string{"tenantry.io/applied-hash": hash, "deployment.kubernetes.io/revision": "4"},
			OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "tenantry.io/v1alpha1", Kind: "TenantInstance", Name: "t1", UID: "u3", Controller: ptr.To(true)},
			},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "tenantry"}},
		},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "app:1"}},
		}}},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 3, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1,
			TerminatingReplicas: ptr.To(int32(1)),
			Conditions:          []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Message: "long"}},
		},
	}
	out, err := compact(d)
	if err != nil {
		t.Fatal(err)
	}
	rec := out.(*childRecord)
	if !rec.hasHash || hex.EncodeToString(rec.hash[:]) != hash {
		t.Errorf("applied hash not kept: %x (%v)", rec.hash, rec.hasHash)
	}
	if !rec.hasFingerprint || rec.fingerprint == [12]byte{} {
		t.Error("no fingerprint kept")
	}
	// A record passes through the transform unchanged.
	if again, err := compact(rec); err != nil || again != rec {
		t.Errorf("compact of a record: %v, %v", again, err)
	}
	got := &appsv1.Deployment{}
	rec.fill(got)
	want := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: "app", Namespace: "tenant-t1", ResourceVersion: "42", Generation: 3, DeletionTimestamp: &now,
		},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 3, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1,
			TerminatingReplicas: ptr.To(int32(1)),
		},
	}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("Deployment read from its record:\n got %+v\nwant %+v", got, want)
	}

	// Other kinds keep their metadata only, and no fingerprint; a hash the operator did not
	// write is no hash.
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "admin", Namespace: "tenant-t1", ResourceVersion: "7",
			Annotations: map[string]string{"tenantry.io/applied-hash": "edited"}},
		Data: map[string][]byte{"k": []byte("v")},
	}
	out, err = compact(secret)
	if err != nil {
		t.Fatal(err)
	}
	rec = out.(*childRecord)
	if rec.hasHash || rec.hasFingerprint || rec.deployment != nil {
		t.Errorf("Secret record: %+v", rec)
	}
	gotSecret := &corev1.Secret{}
	rec.fill(gotSecret)
	if !equality.Semantic.DeepEqual(gotSecret, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "admin", Namespace: "tenant-t1", ResourceVersion: "7"}}) {
		t.Errorf("Secret read from its record: %+v", gotSecret)
	}
	// The informer's store keys records by namespace and name.
	if key, err := toolscache.MetaNamespaceKeyFunc(rec); err != nil || key != "tenant-t1/admin" {
		t.Errorf("store key of a record: %q, %v", key, err)
	}
}

// The manager's cache, which holds the operator's own resources and the shared TLS sources,
// drops only what nobody reads.
func TestSlimKeepsSources(t *testing.T) {
	source := func() *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "wildcard", Namespace: "certs", Labels: map[string]string{
				"tenantry.io/secret-role": "shared-tls-source",
			}},
			Data: map[string][]byte{"tls.crt": []byte("c")},
		}
	}
	s := source()
	s.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	s.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: "{}"}
	if _, err := slim(s); err != nil {
		t.Fatal(err)
	}
	want := source()
	want.Annotations = map[string]string{}
	if !equality.Semantic.DeepEqual(s, want) {
		t.Errorf("slimmed source: %+v", s)
	}
}

// Cached TenantInstances share the strings every instance has alike, and hold the same values.
func TestSlimSharesInstanceStrings(t *testing.T) {
	decode := func(name string) *tenantryv1alpha1.TenantInstance {
		// Decoded from JSON as the cache's informer does, so every string is a copy of its own.
		data := []byte(`{"apiVersion":"tenantry.io/v1alpha1","kind":"TenantInstance",
			"metadata":{"name":"` + name + `","finalizers":["tenantry.io/release"],"managedFields":[{"manager":"tenantry"}]},
			"spec":{"sku":"basic","productId":"p-1","lifecycle":"Active","domain":{"type":"Shared"},
				"order":{"orderId":"o-` + name + `","orderLineId":"l-` + name + `","chargingMode":"PERIOD","periodType":"month"}},
			"status":{"state":"Running","plan":"basic","namespace":"tenant-` + name + `",
				"adminAccountSecretRef":{"namespace":"tenant-` + name + `","name":"tenant-admin"},
				"conditions":[{"type":"Ready","status":"True","reason":"Available","message":"Serving ` + name + `","lastTransitionTime":"2026-01-02T03:04:05Z"}]}}`)
		ti := &tenantryv1alpha1.TenantInstance{}
		if err := json.Unmarshal(data, ti); err != nil {
			t.Fatal(err)
		}
		return ti
	}
	a, b := decode("a"), decode("b")
	wantA := a.DeepCopy()
	wantA.ManagedFields = nil
	for _, ti := range []*tenantryv1alpha1.TenantInstance{a, b} {
		if _, err := slim(ti); err != nil {
			t.Fatal(err)
		}
	}
	if !equality.Semantic.DeepEqual(a, wantA) {
		t.Errorf("slim changed the instance's values:\n%s", cmp.Diff(wantA, a))
	}
	same := func(what, x, y string) {
		if unsafe.StringData(x) != unsafe.StringData(y) {
			t.Errorf("%s: %q and %q are two copies", what, x, y)
		}
	}
	same("finalizer", a.Finalizers[0], b.Finalizers[0])
	same("sku", a.Spec.SKU, b.Spec.SKU)
	same("sku and plan", a.Spec.SKU, b.Status.Plan)
	same("lifecycle", string(a.Spec.Lifecycle), string(b.Spec.Lifecycle))
	same("charging mode", string(a.Spec.Order.ChargingMode), string(b.Spec.Order.ChargingMode))
	same("state", string(a.Status.State), string(b.Status.State))
	same("condition reason", a.Status.Conditions[0].Reason, b.Status.Conditions[0].Reason)
	same("admin Secret", a.Status.AdminAccountSecretRef.Name, b.Status.AdminAccountSecretRef.Name)
	same("namespace", a.Status.Namespace, a.Status.AdminAccountSecretRef.Namespace)
	if c := a.Status.Conditions; cap(c) != len(c) {
		t.Errorf("conditions keep a capacity of %d for %d", cap(c), len(c))
	}
}

// A child's namespace names its tenant.
func TestTenantOfName(t *testing.T) {
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
		req, ok := tenantOfName(tc.namespace, tc.name)
		if got := req.Name; ok != (tc.want != "") || got != tc.want {
			t.Errorf("tenantOfName(%q, %q) = %q, %v; want %q", tc.namespace, tc.name, got, ok, tc.want)
		}
	}
}

func TestChildInformersKeepNoIndex(t *testing.T) {
	c, err := NewChildCache(&rest.Config{Host: "http://127.0.0.1:1"}, nil)
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
