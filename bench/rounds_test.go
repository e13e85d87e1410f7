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

	"github.com/google/go-cmp/cmp"
)

func TestRoundPhasesAlternate(t *testing.T) {
	for _, tc := range []struct {
		round            int
		minimal, byApply bool
		want             []string
	}{
		{0, true, true, []string{phaseMinimal, phaseMinimalApply, phaseOperator}},
		{1, true, true, []string{phaseOperator, phaseMinimalApply, phaseMinimal}},
		{2, true, true, []string{phaseMinimal, phaseMinimalApply, phaseOperator}},
		{1, true, false, []string{phaseOperator, phaseMinimal}},
		{0, false, true, []string{phaseOperator}},
	} {
		if diff := cmp.Diff(tc.want, roundPhases(tc.round, tc.minimal, tc.byApply)); diff != "" {
			t.Errorf("round %d, minimal %v, by apply %v (-want +got):\n%s", tc.round, tc.minimal, tc.byApply, diff)
		}
	}
}

func TestProvisioningRounds(t *testing.T) {
	for _, tc := range []struct {
		minimal bool
		rounds  int
		want    int
	}{{true, 3, 3}, {true, 1, 1}, {false, 3, 1}} {
		h := &harness{cfg: Config{Minimal: tc.minimal, Rounds: tc.rounds}}
		if got := h.provisioningRounds(); got != tc.want {
			t.Errorf("minimal path %v, -rounds %d: %d rounds, want %d", tc.minimal, tc.rounds, got, tc.want)
		}
	}
}

// round makes a round's results from each phase's tenants/s and CPU-seconds per tenant.
func round(minRate, minCPU, applyRate, applyCPU, opRate, opCPU float64) roundResults {
	mk := func(rate, cpu float64, byApply bool) *MinimalResult {
		return &MinimalResult{ByApply: byApply, Tenants: 100, ReadyCount: 100, AllReady: true, TenantsPerSec: rate, ControlPlaneCPUPerTenant: cpu, WritesPerTenant: 12}
	}
	return roundResults{Minimal: mk(minRate, minCPU, false), MinimalApply: mk(applyRate, applyCPU, true),
		Operator: &OperatorResult{Tenants: 100, ReadyCount: 100, AllReady: true, TenantsPerSec: opRate, ControlPlaneCPUPerTenant: opCPU, PathWritesPerTenant: 14}}
}

// Several rounds: the first is kept whole, and the operator's ratios are the medians of the
// rounds', which the goals judge and say so.
func TestRoundsTakeTheMedian(t *testing.T) {
	p := ProvisioningResult{N: 100, Ceiling: &CeilingResult{TenantsPerSec: 20}}
	first := round(10, 0.1, 10, 0.1, 7, 0.13)
	order := roundPhases(0, true, true)
	p.addRound(first, order)
	if p.Minimal != first.Minimal || p.Operator != first.Operator || p.MinimalApply != first.MinimalApply {
		t.Fatalf("the first round's results are not kept whole: %+v", p)
	}
	if p.MinimalRatio != 0.7 || p.Ratio != 0.35 {
		t.Errorf("one round: ratio %v to the minimal path, %v to the ceiling; want 0.7 and 0.35", p.MinimalRatio, p.Ratio)
	}
	p.addRound(round(10, 0.1, 8, 0.1, 9.5, 0.105), roundPhases(1, true, true))
	p.addRound(round(8, 0.2, 10, 0.2, 7.2, 0.21), roundPhases(2, true, true))
	if p.Operator != first.Operator {
		t.Errorf("a later round replaced the first's results")
	}
	for _, tc := range []struct {
		what      string
		got, want float64
	}{
		{"operator ÷ minimal path", p.MinimalRatio, 0.9},   // 0.7, 0.95, 0.9
		{"CPU ÷ minimal path", p.MinimalCPURatio, 1.05},    // 1.3, 1.05, 1.05
		{"operator ÷ by apply", p.MinimalApplyRatio, 0.72}, // 0.7, 1.1875, 0.72
		{"CPU ÷ by apply", p.MinimalApplyCPURatio, 1.05},   // 1.3, 1.05, 1.05
	} {
		if diff := tc.got - tc.want; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("%s: %v, want the median %v", tc.what, tc.got, tc.want)
		}
	}
	if diff := cmp.Diff([]string{phaseOperator, phaseMinimalApply, phaseMinimal}, p.Rounds[1].Order); diff != "" {
		t.Errorf("the second round's order (-want +got):\n%s", diff)
	}
	gs := evaluateGoals(&Results{Provisioning: []ProvisioningResult{p}})
	rate, cpu := goalsLike(gs, "operator vs. minimal-path"), goalsLike(gs, "control-plane CPU per tenant")
	if len(rate) != 1 || len(cpu) != 1 {
		t.Fatalf("goals %+v", gs)
	}
	if !rate[0].Met || !cpu[0].Met {
		t.Errorf("medians 0.90× and 1.05×: goals %+v, %+v; want both met", rate[0], cpu[0])
	}
	if want := "0.90×, the median of 3 rounds (0.70–0.95×) (7.0 vs 10.0 tenants/s in the first round)"; rate[0].Measured != want {
		t.Errorf("throughput goal measured %q, want %q", rate[0].Measured, want)
	}
	if want := "1.05×, the median of 3 rounds (1.05–1.30×) (0.130 vs 0.100 CPU-s; writes 14.0 vs 12.0 per tenant in the first round); per write 0.90×"; cpu[0].Measured != want {
		t.Errorf("CPU goal measured %q, want %q", cpu[0].Measured, want)
	}

	// A round in which a phase left tenants not Ready fails the goals, whatever the medians.
	late := round(10, 0.1, 10, 0.1, 10, 0.1)
	late.Operator.AllReady = false
	p.addRound(late, roundPhases(3, true, true))
	gs = evaluateGoals(&Results{Provisioning: []ProvisioningResult{p}})
	for _, g := range append(goalsLike(gs, "operator vs. minimal-path"), goalsLike(gs, "control-plane CPU per tenant")...) {
		if g.Met || !strings.Contains(g.Note, "every round") {
			t.Errorf("a round not all Ready: goal %+v, want not met and said why", g)
		}
	}
}

func TestRenderRounds(t *testing.T) {
	p := ProvisioningResult{N: 100}
	p.addRound(round(10, 0.1, 10, 0.1, 7, 0.13), roundPhases(0, true, true))
	out := renderMarkdown(&Results{Provisioning: []ProvisioningResult{p}}, nil, nil, "")
	if strings.Contains(out, "Rounds (`-rounds`)") || strings.Contains(out, "median of") {
		t.Errorf("one round reported as rounds:\n%s", out)
	}
	p.addRound(round(8, 0.2, 10, 0.2, 7.2, 0.21), roundPhases(1, true, true))
	out = renderMarkdown(&Results{Provisioning: []ProvisioningResult{p}}, nil, nil, "")
	for _, want := range []string{
		"| 100 | 2 | operator, minimalapply, minimal | 8.0, 0.200, 12.0 | 10.0, 0.200, 12.0 | 7.2, 0.210, 14.0 | 0.90×, 1.05× CPU (0.90× per write) | 0.72×, 1.05× CPU |",
		"(median of 2 rounds)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
