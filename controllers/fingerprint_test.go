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
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestFingerprint(t *testing.T) {
	desired := &unstructured.Unstructured{}
	desired.SetLabels(map[string]string{"tenantry.io/instance": "t1"})
	desired.SetAnnotations(map[string]string{"tenantry.io/applied-hash": "h"})
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
		return fingerprint(c, desired)
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
		"an annotation of someone else": func(q *corev1.ResourceQuota) {
			q.Annotations["deployment.kubernetes.io/revision"] = "2"
		},
		"a label of someone else": func(q *corev1.ResourceQuota) { q.Labels["team"] = "x" },
		"a new generation":        func(q *corev1.ResourceQuota) { q.Generation = 2 },
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
