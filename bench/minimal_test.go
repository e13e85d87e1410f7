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
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
	"github.com/tenantry/tenantry/internal/ssa"
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

// recordingClient records the writes sent through it and answers each as the API server would
// not need to: nothing is stored.
type recordingClient struct {
	client.Client
	writes []string
}

func (c *recordingClient) Create(_ context.Context, obj client.Object, opts ...client.CreateOption) error {
	o := &client.CreateOptions{}
	o.ApplyOptions(opts)
	c.writes = append(c.writes, fmt.Sprintf("create %T %s by %s", obj, obj.GetName(), o.FieldManager))
	return nil
}

func (c *recordingClient) Patch(_ context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	o := &client.PatchOptions{}
	o.ApplyOptions(opts)
	body, err := patch.Data(obj)
	if err != nil {
		return err
	}
	var sent struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name            string `json:"name"`
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(body, &sent); err != nil {
		return err
	}
	w := fmt.Sprintf("%s %s %s by %s force=%v", patch.Type(), sent.Kind, sent.Metadata.Name, o.FieldManager, o.Force != nil && *o.Force)
	if sent.Metadata.ResourceVersion != "" {
		w += " at resourceVersion " + sent.Metadata.ResourceVersion
	}
	c.writes = append(c.writes, w)
	obj.SetResourceVersion("2")
	return nil
}

// The minimal path by apply writes each of a tenant's objects once, as the operator's first
// reconcile does: the namespace by an apply conditional on its absence, the admin Secret by a
// create, the rest by forced server-side apply, all under the operator's field owner.
func TestWriteAsOperatorSendsTheOperatorsWrites(t *testing.T) {
	ti := benchInstance("min-00001")
	ti.UID = types.UID("0f1e2d3c-0000-4000-8000-000000000001")
	ws := tenantWrites(ti, benchPlan(1))
	objs, err := ownedTenantObjects(ti, benchPlan(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != len(objs) {
		t.Fatalf("%d writes for %d objects", len(ws), len(objs))
	}
	c := &recordingClient{}
	var applied ssa.Cache
	for _, w := range ws {
		if err := writeAsOperator(context.Background(), &applied, c, w); err != nil {
			t.Fatalf("writing %T: %v", w.ac, err)
		}
	}
	owner := controllers.FieldOwner
	want := []string{
		"application/apply-patch+yaml Namespace tenant-min-00001 by " + owner + " force=true at resourceVersion 1",
		"application/apply-patch+yaml ResourceQuota tenant-quota by " + owner + " force=true",
		"application/apply-patch+yaml LimitRange tenant-limits by " + owner + " force=true",
		"application/apply-patch+yaml NetworkPolicy tenant-isolation by " + owner + " force=true",
		"create *v1.Secret tenant-admin by " + owner,
		"application/apply-patch+yaml ConfigMap tenant-info by " + owner + " force=true",
		"application/apply-patch+yaml Deployment app by " + owner + " force=true",
		"application/apply-patch+yaml Service app by " + owner + " force=true",
		"application/apply-patch+yaml Service suspended by " + owner + " force=true",
		"application/apply-patch+yaml Ingress app by " + owner + " force=true",
	}
	if diff := cmp.Diff(want, c.writes); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
}

// schedOf reads the run and wait times of every thread of a process.
func TestSchedOf(t *testing.T) {
	if _, err := os.Stat("/proc/self/schedstat"); err != nil {
		t.Skipf("this kernel keeps no scheduler statistics: %v", err)
	}
	run, wait, ok := schedOf(os.Getpid())
	if !ok || run <= 0 || wait < 0 {
		t.Errorf("schedOf(self) = %v, %v, %v; want a positive run time", run, wait, ok)
	}
	if _, _, ok := schedOf(-1); ok {
		t.Error("schedOf of no process reported figures")
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

// goalsLike returns the goals whose What starts with prefix.
func goalsLike(gs []Goal, prefix string) []Goal {
	var out []Goal
	for _, g := range gs {
		if strings.HasPrefix(g.What, prefix) {
			out = append(out, g)
		}
	}
	return out
}

func TestMinimalPathGoals(t *testing.T) {
	pr := func(opRate, minRate, opCPU, minCPU float64, allReady bool) ProvisioningResult {
		p := ProvisioningResult{N: 100,
			Ceiling:  &CeilingResult{TenantsPerSec: 20},
			Operator: &OperatorResult{Tenants: 100, ReadyCount: 100, AllReady: allReady, TenantsPerSec: opRate, ControlPlaneCPUPerTenant: opCPU},
			Minimal:  &MinimalResult{Tenants: 100, ReadyCount: 100, AllReady: true, TenantsPerSec: minRate, ControlPlaneCPUPerTenant: minCPU},
		}
		p.MinimalRatio, p.MinimalCPURatio = ratio(opRate, minRate), ratio(opCPU, minCPU)
		return p
	}
	for _, tc := range []struct {
		name            string
		p               ProvisioningResult
		rateMet, cpuMet bool
	}{
		{"both within", pr(9.5, 10, 0.105, 0.1, true), true, true},
		{"slower than 0.9x", pr(8.5, 10, 0.1, 0.1, true), false, true},
		{"dearer than 1.1x", pr(10, 10, 0.12, 0.1, true), true, false},
		{"not every tenant Ready", pr(10, 10, 0.1, 0.1, false), false, false},
	} {
		gs := evaluateGoals(&Results{Provisioning: []ProvisioningResult{tc.p}})
		rate, cpu := goalsLike(gs, "operator vs. minimal-path"), goalsLike(gs, "control-plane CPU per tenant")
		if len(rate) != 1 || len(cpu) != 1 {
			t.Fatalf("%s: goals %+v", tc.name, gs)
		}
		if rate[0].Met != tc.rateMet || cpu[0].Met != tc.cpuMet || !rate[0].Measurable || !cpu[0].Measurable {
			t.Errorf("%s: throughput goal %+v, CPU goal %+v; want met %v, %v", tc.name, rate[0], cpu[0], tc.rateMet, tc.cpuMet)
		}
	}
	if gs := evaluateGoals(&Results{Provisioning: []ProvisioningResult{{N: 100, Operator: &OperatorResult{ReadyCount: 1}}}}); len(goalsLike(gs, "operator vs. minimal-path")) != 0 {
		t.Errorf("goals against a minimal path that did not run: %+v", gs)
	}
}

func TestBridgeOverheadGoals(t *testing.T) {
	step := func(rate, ownP99, ackP99, createP99 float64) RateResult {
		return RateResult{Rate: rate, Sent: 10, Acked: 10, OwnCalls: 10, OwnP99Ms: ownP99,
			AckLatency: Latency{Count: 10, P99: ackP99}, ProbeCreate: Latency{Count: 5, P99: createP99}, AckVsProbe: ratio(ackP99, createP99)}
	}
	gs := evaluateGoals(&Results{Callbacks: &CallbacksResult{Steps: []RateResult{
		step(10, 100, 1000, 10), // no goal at 10 calls/s
		step(50, 4.9, 119, 100),
		step(500, 21, 121, 100),
	}}})
	own, ack := goalsLike(gs, "bridge's own time"), goalsLike(gs, "acknowledgement p99 vs.")
	if len(own) != 2 || len(ack) != 2 {
		t.Fatalf("own-time goals %+v, ack goals %+v: want one of each per rate of 50 and 500", own, ack)
	}
	if !own[0].Met || own[1].Met {
		t.Errorf("own time 4.9 ms at 50/s and 21 ms at 500/s: %+v", own)
	}
	if !ack[0].Met || ack[1].Met {
		t.Errorf("ack 1.19x and 1.21x a bare create: %+v", ack)
	}
	nan := step(50, math.NaN(), 100, 100)
	nan.OwnCalls = 0
	if gs := goalsLike(evaluateGoals(&Results{Callbacks: &CallbacksResult{Steps: []RateResult{nan}}}), "bridge's own time"); len(gs) != 1 || gs[0].Measurable {
		t.Errorf("a bridge without the own-time metric: %+v, want the goal not measurable", gs)
	}
}

// The report gives the minimal path by apply beside the one by creates and the operator, and the
// bridge's thread times per call, with a dash where the kernel told nothing.
func TestRenderMinimalApplyAndBridgeThreads(t *testing.T) {
	r := &Results{
		Provisioning: []ProvisioningResult{{N: 100,
			Minimal:           &MinimalResult{Tenants: 100, ReadyCount: 100, TenantsPerSec: 8, ControlPlaneCPUPerTenant: 0.2},
			MinimalApply:      &MinimalResult{ByApply: true, Tenants: 100, ReadyCount: 100, TenantsPerSec: 10, ControlPlaneCPUPerTenant: 0.1},
			Operator:          &OperatorResult{Tenants: 100, ReadyCount: 100, TenantsPerSec: 5, ControlPlaneCPUPerTenant: 0.15},
			MinimalApplyRatio: 0.5, MinimalApplyCPURatio: 1.5}},
		Callbacks: &CallbacksResult{Steps: []RateResult{
			{Rate: 50, OwnCalls: 10, OwnMeanMs: 1.25, BridgeRunMsPerCall: 2.5, BridgeWaitMsPerCall: 4},
			{Rate: 10, OwnCalls: 10, OwnMeanMs: 1, BridgeRunMsPerCall: math.NaN(), BridgeWaitMsPerCall: math.NaN()},
		}},
	}
	out := renderMarkdown(r, nil, nil, "")
	for _, want := range []string{
		"| 100 | 10.0 (100/100 Ready in 0.0 s; objects written in 0.0 s, 0 errors) | 0.0 / 0.0 | 0.100 | 0.0 | 1.25× tenants/s, 0.50× CPU | **0.50×** tenants/s, **1.50×** CPU |",
		"| 1.25 / 2.50 / 4.00 |", "| 1.00 / – / – |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// Results without the CPU per write (of runs before it was measured) show none, not 0.
	if strings.Contains(out, "per write") {
		t.Errorf("report gives a CPU per write that was not measured:\n%s", out)
	}
}
