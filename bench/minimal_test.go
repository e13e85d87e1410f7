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

package main

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Every object of a tenant has a typed create: none is left out of the ceilings.
func TestCreateTypedCoversEveryTenantObject(t *testing.T) {
	objs, err := tenantObjects("ceil-00001", benchPlan(1))
	if err != nil {
		t.Fatal(err)
	}
	cs := fake.NewClientset()
	for _, o := range objs {
		if err := createTyped(context.Background(), cs, o); err != nil {
			t.Errorf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
	if got := len(cs.Actions()); got != len(objs) {
		t.Errorf("%d creates sent for %d objects", got, len(objs))
	}
}

// The minimal path's objects are owned by their instance as the operator's are: all but the
// namespace (marked by the instance's UID instead) and the admin account Secret (which outlives a
// foreground deletion of the instance).
func TestOwnedTenantObjectsPointAtTheInstance(t *testing.T) {
	ti := benchInstance("min-00001")
	ti.UID = types.UID("0f1e2d3c-0000-4000-8000-000000000001")
	objs, err := ownedTenantObjects(ti, benchPlan(1))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := tenantObjects("min-00001", benchPlan(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != len(plain) {
		t.Fatalf("%d owned objects, %d for the bare ceiling", len(objs), len(plain))
	}
	for _, o := range objs {
		_, isNamespace := o.(*corev1.Namespace)
		_, isSecret := o.(*corev1.Secret)
		refs := o.GetOwnerReferences()
		switch {
		case isNamespace:
			if len(refs) != 0 || o.GetAnnotations()[tenantryv1alpha1.AnnotationInstanceUID] != string(ti.UID) {
				t.Errorf("namespace: owners %v, annotations %v", refs, o.GetAnnotations())
			}
		case isSecret && o.GetName() == tenantryv1alpha1.AdminSecretName:
			if len(refs) != 0 {
				t.Errorf("the admin account Secret is owned: %v", refs)
			}
		case len(refs) != 1 || refs[0].UID != ti.UID || refs[0].Kind != "TenantInstance" || refs[0].Name != ti.Name:
			t.Errorf("%T %s is owned by %v", o, o.GetName(), refs)
		}
	}
}

// The one status the minimal path writes is what the harness counts as Ready.
func TestMinimalStatusIsReady(t *testing.T) {
	ti := benchInstance("min-00001")
	ti.Generation = 1
	ti.Status = minimalStatus(ti, benchPlan(1), 1)
	if !tiReady(ti) {
		t.Errorf("status %+v is not Ready", ti.Status)
	}
	if ti.Status.State != tenantryv1alpha1.StateRunning || ti.Status.URL == "" || ti.Status.AdminAccountSecretRef == nil {
		t.Errorf("status lacks what the operator's Ready status says: %+v", ti.Status)
	}
}

func TestWriteDiffs(t *testing.T) {
	minimal := WriteCounts{Total: 22, Kinds: map[string]int{
		"create tenantinstances": 2, "create namespaces": 2, "create deployments": 2, "patch tenantinstances/status": 2,
	}}
	operator := WriteCounts{Total: 40, Kinds: map[string]int{
		"create tenantinstances": 4, "patch namespaces": 4, "patch deployments": 4,
		"patch tenantinstances/status": 8, "create events": 4, "patch deployments (refused 409)": 2,
	}}
	got := writeDiffs(minimal, 2, operator, 4)
	// Per tenant, the largest extra first, then by name.
	want := []WriteDiff{
		{Resource: "events", Minimal: map[string]float64{}, Operator: map[string]float64{"create": 1}, Extra: 1},
		{Resource: "tenantinstances/status", Minimal: map[string]float64{"patch": 1}, Operator: map[string]float64{"patch": 2}, Extra: 1},
		{Resource: "deployments", Minimal: map[string]float64{"create": 1}, Operator: map[string]float64{"patch": 1, "patch (refused 409)": 0.5}, Extra: 0.5},
		{Resource: "namespaces", Minimal: map[string]float64{"create": 1}, Operator: map[string]float64{"patch": 1}},
		{Resource: "tenantinstances", Minimal: map[string]float64{"create": 1}, Operator: map[string]float64{"create": 1}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
