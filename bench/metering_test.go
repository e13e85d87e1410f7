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
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
)

var t0 = time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)

func rec(id string, begin, end time.Time, sn string) simulator.UsageRecord {
	return simulator.UsageRecord{InstanceID: id, BeginTime: begin.Format(usageTimeLayout), EndTime: end.Format(usageTimeLayout),
		RecordTime: end.Format(usageTimeLayout), UsageValue: "0.0167", MeteringSN: sn}
}

func TestCheckLedger(t *testing.T) {
	m := time.Minute
	ends := []time.Time{t0.Add(m), t0.Add(2 * m)}
	tenants := []string{"a", "b"}
	good := []simulator.UsageRecord{
		rec("a", t0.Add(-30*time.Second), t0, "a0"), rec("a", t0, t0.Add(m), "a1"), rec("a", t0.Add(m), t0.Add(2*m), "a2"),
		rec("b", t0.Add(10*time.Second), t0.Add(m), "b1"), rec("b", t0.Add(m), t0.Add(2*m), "b2"),
	}
	for _, tc := range []struct {
		name                              string
		records                           []simulator.UsageRecord
		double, overlap, missing, foreign int
	}{
		{"every period once", good, 0, 0, 0, 0},
		{"a period under a second metering_sn", append(append([]simulator.UsageRecord{}, good...), rec("b", t0.Add(m), t0.Add(2*m), "b2bis")), 1, 0, 0, 0},
		{"overlapping periods", append(append([]simulator.UsageRecord{}, good...), rec("a", t0.Add(90*time.Second), t0.Add(3*m), "a3")), 0, 1, 0, 0},
		{"a period missing", good[:4], 0, 0, 1, 0},
		{"another instance's record", append(append([]simulator.UsageRecord{}, good...), rec("zz", t0, t0.Add(m), "z1")), 0, 0, 0, 1},
		{"unreadable times", append(append([]simulator.UsageRecord{}, good...), simulator.UsageRecord{InstanceID: "a", BeginTime: "yesterday", EndTime: "today", MeteringSN: "x"}), 0, 0, 0, 1},
	} {
		lc := checkLedger(tc.records, tenants, ends)
		want := tc.double == 0 && tc.overlap == 0 && tc.missing == 0 && tc.foreign == 0
		if lc.Double != tc.double || lc.Overlapping != tc.overlap || lc.Missing != tc.missing || lc.Foreign != tc.foreign || lc.ExactlyOnce != want || lc.Records != len(tc.records) {
			t.Errorf("%s: %+v, want double %d overlapping %d missing %d foreign %d exactly once %v",
				tc.name, lc, tc.double, tc.overlap, tc.missing, tc.foreign, want)
		}
		if !want && len(lc.Examples) == 0 {
			t.Errorf("%s: no example names the problem", tc.name)
		}
	}
}

func TestPeriodPush(t *testing.T) {
	end := t0.Add(time.Minute)
	records := []simulator.UsageRecord{
		rec("a", t0, end, "a1"), rec("b", t0, end, "b1"), rec("c", t0, end, "c1"),
		rec("a", t0.Add(-time.Minute), t0, "a0"), // another period
		rec("d", t0, end, "d1"),                  // not seen yet
	}
	seen := map[string]time.Time{
		"a1": end.Add(2 * time.Second), "b1": end.Add(5 * time.Second), "c1": end.Add(9 * time.Second),
		"a0": end.Add(time.Second),
	}
	n, last, half, complete := periodPush(records, seen, end, 3)
	if n != 3 || last != 9*time.Second || half != 5*time.Second || !complete {
		t.Errorf("got %d records, last %s, half %s, complete %v; want 3, 9s, 5s, true", n, last, half, complete)
	}
	if _, _, _, complete := periodPush(records, seen, end, 4); complete {
		t.Error("3 of 4 records counted as complete")
	}
	if n, last, _, complete := periodPush(records, seen, end.Add(time.Hour), 1); n != 0 || last != 0 || complete {
		t.Errorf("a period with no record: %d, %s, %v", n, last, complete)
	}
}

func TestMeteredInstanceIsPayPerUse(t *testing.T) {
	ti := meteredInstance("meter-00001")
	if ti.Spec.Order.ChargingMode != tenantryv1alpha1.ChargingOnDemand || ti.Spec.ExpiresAt != nil || ti.Spec.Order.PeriodType != "" || ti.Spec.Order.PeriodNumber != 0 {
		t.Errorf("not a pay-per-use instance: %+v", ti.Spec.Order)
	}
}

func TestAddPhase(t *testing.T) {
	plan := func(phase tenantryv1alpha1.RolloutPhase, wave int32, observed int64) *tenantryv1alpha1.TenantPlan {
		p := &tenantryv1alpha1.TenantPlan{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
		p.Status.ObservedGeneration = observed
		if phase != "" {
			p.Status.Rollout = &tenantryv1alpha1.RolloutStatus{Phase: phase, Wave: wave}
		}
		return p
	}
	var ps []PhaseMark
	for i, p := range []*tenantryv1alpha1.TenantPlan{
		plan(tenantryv1alpha1.RolloutComplete, 0, 1), // the rollout before, not yet observed
		plan("", 0, 2), plan(tenantryv1alpha1.RolloutCanary, 0, 2), plan(tenantryv1alpha1.RolloutCanary, 0, 2),
		plan(tenantryv1alpha1.RolloutWaves, 1, 2), plan(tenantryv1alpha1.RolloutWaves, 1, 2),
		plan(tenantryv1alpha1.RolloutWaves, 2, 2), plan(tenantryv1alpha1.RolloutComplete, 0, 2),
	} {
		ps = addPhase(ps, p, float64(i))
	}
	if got, want := phasesCell(ps), "Canary 2.0 s, Waves 1 4.0 s, Waves 2 6.0 s, Complete 7.0 s"; got != want {
		t.Errorf("phases %q, want %q", got, want)
	}
}

func TestRolloutDone(t *testing.T) {
	plan := func(phase tenantryv1alpha1.RolloutPhase, observed int64) *tenantryv1alpha1.TenantPlan {
		p := &tenantryv1alpha1.TenantPlan{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
		p.Status.ObservedGeneration = observed
		p.Status.UpdateRevision = "bench-new"
		p.Status.Rollout = &tenantryv1alpha1.RolloutStatus{Phase: phase}
		return p
	}
	ti := func(rev string, ready bool) tenantryv1alpha1.TenantInstance {
		var t tenantryv1alpha1.TenantInstance
		t.Generation = 1
		t.Status.ObservedGeneration = 1
		t.Status.Revision = rev
		status := metav1.ConditionFalse
		if ready {
			status = metav1.ConditionTrue
		}
		t.Status.Conditions = []metav1.Condition{{Type: tenantryv1alpha1.ConditionReady, Status: status, ObservedGeneration: 1}}
		return t
	}
	all := []tenantryv1alpha1.TenantInstance{ti("bench-new", true), ti("bench-new", true)}
	for _, tc := range []struct {
		name           string
		plan           *tenantryv1alpha1.TenantPlan
		tis            []tenantryv1alpha1.TenantInstance
		done           bool
		updated, ready int
	}{
		{"complete, every tenant Ready on the new revision", plan(tenantryv1alpha1.RolloutComplete, 3), all, true, 2, 2},
		{"status of an older generation", plan(tenantryv1alpha1.RolloutComplete, 2), all, false, 2, 2},
		{"still in waves", plan(tenantryv1alpha1.RolloutWaves, 3), all, false, 2, 2},
		{"a tenant on the old revision", plan(tenantryv1alpha1.RolloutComplete, 3), []tenantryv1alpha1.TenantInstance{ti("bench-new", true), ti("bench-old", true)}, false, 1, 1},
		{"a tenant not Ready", plan(tenantryv1alpha1.RolloutComplete, 3), []tenantryv1alpha1.TenantInstance{ti("bench-new", true), ti("bench-new", false)}, false, 2, 1},
	} {
		done, updated, ready := rolloutDone(tc.plan, tc.tis, 2)
		if done != tc.done || updated != tc.updated || ready != tc.ready {
			t.Errorf("%s: done %v, updated %d, ready %d; want %v, %d, %d", tc.name, done, updated, ready, tc.done, tc.updated, tc.ready)
		}
	}
}

func TestStrategySettings(t *testing.T) {
	ss := rolloutStrategies()
	if len(ss) != 2 {
		t.Fatalf("%d strategies", len(ss))
	}
	for i, want := range []string{
		"canary 1, bake 0s, waves 25%, maxUnavailable 25%, progressDeadline 10m0s",
		"canary 1, bake 0s, waves 25%, maxUnavailable 10%, progressDeadline 10m0s",
	} {
		if got := strategySettings(ss[i].spec); got != want {
			t.Errorf("%s: %q, want %q", ss[i].name, got, want)
		}
	}
}

func TestRenderMeteringAndRollout(t *testing.T) {
	end := t0.Add(time.Minute)
	r := &Results{
		Metering: &MeteringResult{Tenants: 2, PeriodSec: 60, ManagerArgs: []string{"--leader-elect", "--metering-period=1m0s", "--metering-access-key-file=/k"},
			Periods: []MeteringPeriod{{End: end, Records: 2, Complete: true, PushSec: 1.5, PushP50Sec: 1.2, Batches: 1,
				Writes: WriteCounts{Total: 4, Kinds: map[string]int{"update tenantinstances/status": 4}}, WritesPerTenant: 2, OperatorCores: 0.01, OperatorCPUSec: 0.6}},
			Ledger: LedgerCheck{Records: 2, ExactlyOnce: true}},
		Rollout: &RolloutResult{Tenants: 4, Runs: []RolloutRun{{Strategy: "bench", Settings: "canary 1", Complete: true, Sec: 12.5,
			Phases: []PhaseMark{{Phase: "Canary"}, {Phase: "Complete", AtSec: 12}}, Writes: WriteCounts{Total: 8, Kinds: map[string]int{"patch deployments": 4, "update tenantinstances/status": 4}}, WritesPerTenant: 2},
			{Strategy: "default, bake 0", Sec: 30, Updated: 3, Ready: 2}}},
	}
	out := renderMarkdown(r, nil, nil, "")
	for _, want := range []string{
		"## 7. Usage metering", "`--metering-period=1m0s`", "| 18:01:00 | 2 / 2 | 1.5 s (p50 1.2 s) | 1 | 4 (2.00 per tenant) | update tenantinstances/status 2.00 |",
		"Exactly once on the ledger (every tenant's periods measured present once, none overlapping): **yes**",
		"## 8. Plan rollout", "| bench | canary 1 | 12.5 s | Canary 0.0 s, Complete 12.0 s | 8 (2.00 per tenant) | patch deployments 1.00, update tenantinstances/status 1.00 |",
		"not complete after 30.0 s (3 updated, 2 Ready, 0 failed)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "/k") {
		t.Error("the report names the access key file")
	}
}
