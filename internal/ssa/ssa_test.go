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

package ssa

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/childcache"
	"github.com/tenantry/tenantry/internal/intern"
)

const owner = "tenantry-operator"

// fakeRecords is a child cache holding the records of the objects put in it.
type fakeRecords map[schema.GroupKind]map[client.ObjectKey]childcache.Record

func (f fakeRecords) Lookup(gk schema.GroupKind, key client.ObjectKey) (childcache.Record, bool) {
	rec, ok := f[gk][key]
	return rec, ok
}

func (f fakeRecords) FieldOwner() string { return owner }

func (f fakeRecords) put(gk schema.GroupKind, obj client.Object) {
	if f[gk] == nil {
		f[gk] = map[client.ObjectKey]childcache.Record{}
	}
	f[gk][client.ObjectKeyFromObject(obj)] = childcache.RecordOf(obj, owner)
}

// fakeWriter answers every apply with the next resourceVersion, and keeps the last object applied.
type fakeWriter struct {
	applies int
	version int
	last    map[string]any
	opts    []client.PatchOption
}

func (w *fakeWriter) Patch(_ context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	if patch.Type() != types.ApplyPatchType {
		return fmt.Errorf("a patch of type %s, not an apply", patch.Type())
	}
	data, err := patch.Data(obj)
	if err != nil {
		return err
	}
	last := map[string]any{}
	if err := json.Unmarshal(data, &last); err != nil {
		return err
	}
	w.applies++
	w.version++
	// The answer: the object as applied, with its new resourceVersion.
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(last, obj); err != nil {
		return err
	}
	obj.SetResourceVersion(strconv.Itoa(w.version))
	w.last, w.opts = last, opts
	return nil
}

// applied is the object the last apply made, with resourceVersion rv, as typed.
func applied[T any, PT interface {
	*T
	client.Object
}](t *testing.T, w *fakeWriter, rv string) PT {
	t.Helper()
	obj := PT(new(T))
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(w.last, obj); err != nil {
		t.Fatal(err)
	}
	obj.SetResourceVersion(rv)
	return obj
}

var configMapKind = schema.GroupKind{Kind: "ConfigMap"}

func TestApplySkipsWhatTheRecordsShowApplied(t *testing.T) {
	ctx := context.Background()
	ac := corev1ac.ConfigMap("info", "tenant-t1").WithData(map[string]string{"url": "http://t1.example.com"})
	var c Cache
	w, records := &fakeWriter{}, fakeRecords{}
	apply := func(want Change) {
		t.Helper()
		res, err := c.Apply(ctx, w, records, ac)
		if err != nil {
			t.Fatal(err)
		}
		if res.Change != want || res.Kind != "ConfigMap" || res.Name != "info" {
			t.Errorf("Apply = %+v, want %v", res, want)
		}
	}

	apply(Applied) // not in the records yet
	if w.applies != 1 || len(w.opts) != 2 {
		t.Fatalf("%d applies with %d options, want 1 with the field owner and force", w.applies, len(w.opts))
	}
	u := unstructured.Unstructured{Object: w.last}
	if len(u.GetAnnotations()[tenantryv1alpha1.AnnotationAppliedHash]) != 24 {
		t.Errorf("annotations applied: %v", u.GetAnnotations())
	}
	if st, ok := c.Recall(configMapKind, "tenant-t1", "info"); !ok || st.Version != 1 {
		t.Errorf("remembered %+v, %v; want version 1", st, ok)
	}
	cm := applied[corev1.ConfigMap](t, w, "1")

	// The cache catches up: nothing to send.
	records.put(configMapKind, cm)
	apply(Skipped)
	// The cache is behind the last apply: nothing to send either.
	cm.ResourceVersion = "0"
	records.put(configMapKind, cm)
	apply(Updated) // a resourceVersion that is not a number matches nothing
	cm.ResourceVersion = "1"
	records.put(configMapKind, cm)
	apply(Skipped) // version 2 was remembered, the cache shows 1
	// Someone else wrote it: applied again.
	cm.ResourceVersion = "7"
	records.put(configMapKind, cm)
	apply(Updated)
	if w.applies != 3 {
		t.Errorf("%d applies, want 3", w.applies)
	}
	// Being deleted: applied again.
	cm = applied[corev1.ConfigMap](t, w, "3")
	cm.DeletionTimestamp = new(metav1.Now())
	records.put(configMapKind, cm)
	apply(Updated)
	// A hash that is not that of the apply configuration.
	cm = applied[corev1.ConfigMap](t, w, "4")
	cm.Annotations[tenantryv1alpha1.AnnotationAppliedHash] = "00112233445566778899aabb"
	records.put(configMapKind, cm)
	apply(Updated)

	// A fresh Cache (a restarted operator) does not trust a record whose applied fields it cannot
	// check: here there are no managedFields.
	cm = applied[corev1.ConfigMap](t, w, "5")
	records.put(configMapKind, cm)
	apply(Skipped)
	var restarted Cache
	if res, err := restarted.Apply(ctx, w, records, ac); err != nil || res.Change == Skipped {
		t.Errorf("first sight without applied fields: %+v, %v", res, err)
	}

	c.Forget("tenant-t1")
	if _, ok := c.Recall(configMapKind, "tenant-t1", "info"); ok {
		t.Error("a forgotten tenant's object is remembered")
	}
}

// The status of a Deployment, which its controller writes, does not make it applied again; its
// spec does.
func TestApplyIgnoresStatusWritesOfOthers(t *testing.T) {
	ctx := context.Background()
	ac := appsv1ac.Deployment("app", "tenant-t1").WithSpec(appsv1ac.DeploymentSpec().WithReplicas(2))
	deploymentKind := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	var c Cache
	w, records := &fakeWriter{}, fakeRecords{}
	if _, err := c.Apply(ctx, w, records, ac); err != nil {
		t.Fatal(err)
	}
	d := applied[appsv1.Deployment](t, w, "5")
	d.Status.ReadyReplicas = 2
	d.Annotations["deployment.kubernetes.io/revision"] = "1"
	records.put(deploymentKind, d)
	if res, err := c.Apply(ctx, w, records, ac); err != nil || res.Change != Skipped {
		t.Errorf("after a status write: %+v, %v", res, err)
	}
	if st, _ := c.Recall(deploymentKind, "tenant-t1", "app"); st.Version != 5 {
		t.Errorf("the newer version is not remembered: %+v", st)
	}
	d.ResourceVersion = "6"
	d.Spec.Replicas = new(int32(5))
	records.put(deploymentKind, d)
	if res, err := c.Apply(ctx, w, records, ac); err != nil || res.Change != Updated {
		t.Errorf("after an edit of the spec: %+v, %v", res, err)
	}
	// A ConfigMap has no status: any newer version is applied again (above).
}

func TestRememberAndRecall(t *testing.T) {
	var c Cache
	secret := schema.GroupKind{Kind: "Secret"}
	if _, ok := c.Recall(secret, "tenant-t1", "admin"); ok {
		t.Error("recalled what was never remembered")
	}
	st := State{Version: 3, Stamp: childcache.HashOf([]byte("x"))}
	c.Remember(secret, "tenant-t1", "admin", st)
	c.Remember(secret, "tenant-t2", "admin", State{})
	if got, ok := c.Recall(secret, "tenant-t1", "admin"); !ok || got != st {
		t.Errorf("recalled %+v, %v; want %+v", got, ok, st)
	}
	if _, ok := c.Recall(configMapKind, "tenant-t1", "admin"); ok {
		t.Error("another kind of the same name is recalled")
	}
	// A Namespace is remembered under its own name, with the objects in it.
	c.Remember(schema.GroupKind{Kind: "Namespace"}, "", "tenant-t1", State{Version: 1})
	c.Forget("tenant-t1")
	if _, ok := c.Recall(secret, "tenant-t1", "admin"); ok {
		t.Error("a forgotten tenant's Secret is recalled")
	}
	if _, ok := c.Recall(schema.GroupKind{Kind: "Namespace"}, "", "tenant-t1"); ok {
		t.Error("a forgotten tenant's Namespace is recalled")
	}
	if _, ok := c.Recall(secret, "tenant-t2", "admin"); !ok {
		t.Error("forgetting one tenant forgot another")
	}
}

// TestATenantsRecordsGrowByFew: the records of a tenant's objects take about the room they need.
// Doubling would leave a tenant of eleven objects with room for twenty, at 10,000 tenants some
// megabytes of the operator's memory.
func TestATenantsRecordsGrowByFew(t *testing.T) {
	var c Cache
	for objects := 1; objects <= 25; objects++ {
		c.Remember(configMapKind, "tenant-t1", fmt.Sprintf("cm-%d", objects), State{Version: uint64(objects)})
		if got := cap(c.byTenant["tenant-t1"]); got > objects+entriesGrowth {
			t.Fatalf("%d records take room for %d", objects, got)
		}
	}
	for objects := 1; objects <= 25; objects++ {
		if st, ok := c.Recall(configMapKind, "tenant-t1", fmt.Sprintf("cm-%d", objects)); !ok || st.Version != uint64(objects) {
			t.Errorf("record %d: recalled %+v, %v", objects, st, ok)
		}
	}
}

// BenchmarkAppliedFieldsOfConfig is what a restarted operator spends, once per object, on an
// object it finds with a matching hash: here the app Deployment, the largest (testdata holds the
// apply configuration the operator's builder makes for a tenant of a two-replica plan).
func BenchmarkAppliedFieldsOfConfig(b *testing.B) {
	data, err := os.ReadFile("testdata/deployment.json")
	if err != nil {
		b.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := appliedFieldsOfConfig(u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCache10kTenants fills a Cache as 10,000 tenants of ten objects each do: B/op is what
// it holds.
func BenchmarkCache10kTenants(b *testing.B) {
	kinds := []string{"Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy.networking.k8s.io", "ConfigMap",
		"Deployment.apps", "Service", "Ingress.networking.k8s.io", "Secret", "Secret2"}
	for b.Loop() {
		c := &Cache{}
		for t := range 10000 {
			ns := "tenant-" + strconv.Itoa(t)
			for _, k := range kinds {
				c.set(ns, key{kind: intern.String(k), name: intern.String("app")}, State{Version: uint64(t)})
			}
		}
	}
}
