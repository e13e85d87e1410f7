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

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	v1 "github.com/tenantry/tenantry/api/v1alpha1"
)

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
			if diff := cmp.Diff(tc.want, namespaceOwner(ns)); diff != "" {
				t.Errorf("namespaceOwner (-want +got):\n%s", diff)
			}
		})
	}
}
