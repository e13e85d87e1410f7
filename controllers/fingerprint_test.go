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
	"maps"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

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
		c := q.DeepCopy()
		if _, err := slim(c); err != nil {
			t.Fatal(err)
		}
		return c.Annotations[annotationCachedFingerprint]
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

func TestSlimKeepsWhatTheOperatorReads(t *testing.T) {
	now := metav1.Now()
	replicas := int32(2)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: "app", Namespace: "tenant-t1", ResourceVersion: "42", Generation: 3, UID: "u1",
			DeletionTimestamp: &now, Finalizers: []string{"x"},
			Labels:      map[string]string{"tenantry.io/instance": "t1"},
			Annotations: map[string]string{"tenantry.io/applied-hash": "h", "deployment.kubernetes.io/revision": "4"},
			OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "v1", Kind: "ConfigMap", Name: "other", UID: "u2"},
				{APIVersion: "tenantry.io/v1alpha1", Kind: "TenantInstance", Name: "t1", UID: "u3", Controller: ptr.To(true)},
			},
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
	if _, err := slim(d); err != nil {
		t.Fatal(err)
	}
	want := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: "app", Namespace: "tenant-t1", ResourceVersion: "42", Generation: 3, DeletionTimestamp: &now,
			Annotations: map[string]string{
				"tenantry.io/applied-hash":  "h",
				annotationCachedFingerprint: d.Annotations[annotationCachedFingerprint],
			},
		},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 3, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1,
			TerminatingReplicas: ptr.To(int32(1)),
		},
	}
	if d.Annotations[annotationCachedFingerprint] == "" {
		t.Error("no fingerprint kept")
	}
	if !equality.Semantic.DeepEqual(d, want) {
		t.Errorf("slimmed Deployment:\n got %+v\nwant %+v", d, want)
	}

	secret := func(role string) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns", Labels: map[string]string{
				"tenantry.io/secret-role": role, "tenantry.io/instance": "t1",
			}},
			Data: map[string][]byte{"k": []byte("v")},
		}
	}
	tls := secret("shared-tls-source")
	if _, err := slim(tls); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(tls, secret("shared-tls-source")) {
		t.Errorf("a shared TLS source was slimmed: %+v", tls)
	}
	admin := secret("admin")
	if _, err := slim(admin); err != nil {
		t.Fatal(err)
	}
	if admin.Data != nil || admin.Labels != nil {
		t.Errorf("slimmed admin Secret keeps data or labels: %+v", admin)
	}
	// The shared TLS watch's predicate still tells a source from the rest.
	if watched := func(o client.Object) bool {
		return o.GetLabels()[tenantryv1alpha1.LabelSecretRole] == tenantryv1alpha1.SecretRoleSharedTLS
	}; !watched(tls) || watched(admin) {
		t.Error("a slimmed Secret's role is misread")
	}

	ns := &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "tenant-t1", Labels: map[string]string{"a": "b"}},
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"kubernetes"}},
		Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating, Conditions: []corev1.NamespaceCondition{
			{Type: corev1.NamespaceDeletionContentFailure},
		}},
	}
	if _, err := slim(ns); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(ns, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-t1"}}) {
		t.Errorf("slimmed Namespace: %+v", ns)
	}
}

// Cached children keep no owner reference: their namespace names their tenant.
func TestTenantOf(t *testing.T) {
	for _, tc := range []struct {
		obj  client.Object
		want []reconcile.Request
	}{
		{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-t1"}}, []reconcile.Request{{NamespacedName: client.ObjectKey{Name: "t1"}}}},
		{&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-t-2", Name: "app"}}, []reconcile.Request{{NamespacedName: client.ObjectKey{Name: "t-2"}}}},
		{&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "certs", Name: "wildcard"}}, nil},
		{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-"}}, nil},
		{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system"}}, nil},
	} {
		if got := tenantOf(t.Context(), tc.obj); !equality.Semantic.DeepEqual(got, tc.want) {
			t.Errorf("tenantOf(%s/%s) = %v, want %v", tc.obj.GetNamespace(), tc.obj.GetName(), got, tc.want)
		}
	}
}

func TestChildInformersKeepNoIndex(t *testing.T) {
	byNamespace := toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc}
	for _, o := range childKinds() {
		inf := newInformer(&toolscache.ListWatch{}, o, 0, byNamespace)
		if got := inf.GetIndexer().GetIndexers(); len(got) != 0 {
			t.Errorf("the %T informer keeps indexes %v", o, slices.Collect(maps.Keys(got)))
		}
	}
	inf := newInformer(&toolscache.ListWatch{}, &tenantryv1alpha1.TenantInstance{}, 0, byNamespace)
	if _, ok := inf.GetIndexer().GetIndexers()[toolscache.NamespaceIndex]; !ok {
		t.Error("the TenantInstance informer lost its namespace index")
	}
}
