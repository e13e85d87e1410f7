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
	"fmt"
	"slices"
)

// The phases of a round of scenario 1, named as their clusters are.
const (
	phaseMinimal      = "minimal"
	phaseMinimalApply = "minimalapply"
	phaseOperator     = "operator"
)

// provisioningRounds is how many rounds scenario 1 runs per N: the rounds compare the operator
// with the minimal paths, so without them there is one.
func (h *harness) provisioningRounds() int {
	if !h.cfg.Minimal {
		return 1
	}
	return max(1, h.cfg.Rounds)
}

// roundPhases is the order of round r's phases (counted from 0): the minimal path, the minimal
// path by apply when it runs, then the operator; every other round the reverse. A machine whose
// speed drifts over the run then favours neither side: what drift gives the operator in one round
// it gives the minimal path in the next.
func roundPhases(r int, minimal, byApply bool) []string {
	var ps []string
	if minimal {
		ps = append(ps, phaseMinimal)
		if byApply {
			ps = append(ps, phaseMinimalApply)
		}
	}
	ps = append(ps, phaseOperator)
	if r%2 == 1 {
		slices.Reverse(ps)
	}
	return ps
}

// roundResults are one round's phases; a phase that did not run or failed is nil.
type roundResults struct {
	Minimal, MinimalApply *MinimalResult
	Operator              *OperatorResult
}

// PhaseFigures are what a round keeps of one phase.
type PhaseFigures struct {
	TenantsPerSec            float64 `json:"tenantsPerSec"`
	ControlPlaneCPUPerTenant float64 `json:"controlPlaneCpuSecPerTenant"`
	WritesPerTenant          float64 `json:"writesPerTenant"`
	AllReady                 bool    `json:"allReady"`
}

// ProvisioningRound is one round of scenario 1: the figures of its phases, in the order they ran,
// and the operator's ratios to the minimal paths within it.
type ProvisioningRound struct {
	Order           []string      `json:"order"`
	Minimal         *PhaseFigures `json:"minimal,omitempty"`
	MinimalApply    *PhaseFigures `json:"minimalByApply,omitempty"`
	Operator        *PhaseFigures `json:"operator,omitempty"`
	MinimalRatio    float64       `json:"minimalRatio,omitempty"`
	MinimalCPURatio float64       `json:"minimalCpuRatio,omitempty"`
	// MinimalCPUPerWriteRatio is MinimalCPURatio over the ratio of the two paths' writes per
	// tenant: what a write of the operator's path costs the control plane against one of the
	// minimal path's.
	MinimalCPUPerWriteRatio float64 `json:"minimalCpuPerWriteRatio,omitempty"`
	MinimalApplyRatio       float64 `json:"minimalByApplyRatio,omitempty"`
	MinimalApplyCPURatio    float64 `json:"minimalByApplyCpuRatio,omitempty"`
}

func minimalFigures(m *MinimalResult) *PhaseFigures {
	if m == nil {
		return nil
	}
	return &PhaseFigures{TenantsPerSec: m.TenantsPerSec, ControlPlaneCPUPerTenant: m.ControlPlaneCPUPerTenant,
		WritesPerTenant: m.WritesPerTenant, AllReady: m.AllReady}
}

func operatorFigures(o *OperatorResult) *PhaseFigures {
	if o == nil {
		return nil
	}
	return &PhaseFigures{TenantsPerSec: o.TenantsPerSec, ControlPlaneCPUPerTenant: o.ControlPlaneCPUPerTenant,
		WritesPerTenant: o.PathWritesPerTenant, AllReady: o.AllReady}
}

// addRound records a round. The first round's results are kept whole (the tables by resource, the
// profiles); of later rounds only their figures. The operator's ratios to the minimal paths are
// then the medians of the rounds' ratios.
func (p *ProvisioningResult) addRound(rr roundResults, order []string) {
	if len(p.Rounds) == 0 {
		p.Minimal, p.MinimalApply, p.Operator = rr.Minimal, rr.MinimalApply, rr.Operator
		if p.Ceiling != nil && p.Operator != nil {
			p.Ratio = ratio(p.Operator.TenantsPerSec, p.Ceiling.TenantsPerSec)
			p.RatioAvailable = ratio(p.Operator.TenantsPerSec, p.Ceiling.AvailablePerSec)
		}
		if p.Minimal != nil && p.Operator != nil {
			p.Writes = writeDiffs(p.Minimal.Writes, p.Minimal.Tenants, p.Operator.PathWrites, p.Operator.Tenants)
		}
	}
	rd := ProvisioningRound{Order: order, Minimal: minimalFigures(rr.Minimal), MinimalApply: minimalFigures(rr.MinimalApply),
		Operator: operatorFigures(rr.Operator)}
	if o := rd.Operator; o != nil {
		if m := rd.Minimal; m != nil {
			rd.MinimalRatio = ratio(o.TenantsPerSec, m.TenantsPerSec)
			rd.MinimalCPURatio = ratio(o.ControlPlaneCPUPerTenant, m.ControlPlaneCPUPerTenant)
			rd.MinimalCPUPerWriteRatio = ratio(rd.MinimalCPURatio, ratio(o.WritesPerTenant, m.WritesPerTenant))
		}
		if m := rd.MinimalApply; m != nil {
			rd.MinimalApplyRatio = ratio(o.TenantsPerSec, m.TenantsPerSec)
			rd.MinimalApplyCPURatio = ratio(o.ControlPlaneCPUPerTenant, m.ControlPlaneCPUPerTenant)
		}
	}
	p.Rounds = append(p.Rounds, rd)
	p.MinimalRatio = p.roundsMedian(func(r ProvisioningRound) float64 { return r.MinimalRatio })
	p.MinimalCPURatio = p.roundsMedian(func(r ProvisioningRound) float64 { return r.MinimalCPURatio })
	p.MinimalCPUPerWriteRatio = p.roundsMedian(func(r ProvisioningRound) float64 { return r.MinimalCPUPerWriteRatio })
	p.MinimalApplyRatio = p.roundsMedian(func(r ProvisioningRound) float64 { return r.MinimalApplyRatio })
	p.MinimalApplyCPURatio = p.roundsMedian(func(r ProvisioningRound) float64 { return r.MinimalApplyCPURatio })
}

// roundsValues are a ratio's values over the rounds that measured it.
func (p *ProvisioningResult) roundsValues(of func(ProvisioningRound) float64) []float64 {
	var vs []float64
	for _, r := range p.Rounds {
		if v := of(r); v > 0 {
			vs = append(vs, v)
		}
	}
	return vs
}

// roundsMedian is the median of a ratio over the rounds that measured it (0 when none did).
func (p *ProvisioningResult) roundsMedian(of func(ProvisioningRound) float64) float64 {
	return median(p.roundsValues(of))
}

// allRoundsReady says whether every phase of every round took all its tenants to Ready.
func (p *ProvisioningResult) allRoundsReady() bool {
	for _, r := range p.Rounds {
		for _, f := range []*PhaseFigures{r.Minimal, r.MinimalApply, r.Operator} {
			if f != nil && !f.AllReady {
				return false
			}
		}
	}
	return true
}

// median is the median of vs, the mean of the middle two for an even count, 0 for none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// roundsSpread says, when there were several rounds, that a ratio is their median and over what
// range it went; nothing for one round.
func (p *ProvisioningResult) roundsSpread(of func(ProvisioningRound) float64) string {
	if len(p.Rounds) < 2 {
		return ""
	}
	vs := p.roundsValues(of)
	if len(vs) == 0 {
		return ""
	}
	return fmt.Sprintf(", the median of %d rounds (%.2f–%.2f×)", len(p.Rounds), slices.Min(vs), slices.Max(vs))
}

// firstRound marks, when there were several rounds, the figures that are the first round's.
func (p *ProvisioningResult) firstRound() string {
	if len(p.Rounds) < 2 {
		return ""
	}
	return " in the first round"
}

// perWrite gives the operator's control-plane CPU per write against the minimal path's, when it
// was measured (results of runs before it was have none).
func (p *ProvisioningResult) perWrite(format string) string {
	if p.MinimalCPUPerWriteRatio == 0 {
		return ""
	}
	return fmt.Sprintf(format, p.MinimalCPUPerWriteRatio)
}

// ofRounds marks a ratio as the median of the rounds when there were several.
func (p *ProvisioningResult) ofRounds() string {
	if len(p.Rounds) < 2 {
		return ""
	}
	return fmt.Sprintf(" (median of %d rounds)", len(p.Rounds))
}
