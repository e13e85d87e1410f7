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
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Goal targets, as the issue states them.
const (
	goalCeilingRatio  = 0.8
	goalHelmRatio     = 20.0
	goalP99At50Ms     = 50.0
	goalP99At500Ms    = 1000.0
	goalFreezeP99Ms   = 1000.0
	goalReleaseP99Ms  = 15000.0
	goalRSSMiB        = 128.0
	goalColdStartSec  = 30.0
	goalIdleWritesSec = 0.0
	goalScaleTenants  = 10000
	goalLifecycleMin  = 200
	// The operator against the minimal-path ceiling, and the bridge's own overhead.
	goalMinimalRatio    = 0.9
	goalMinimalCPURatio = 1.1
	goalOwnP99At50Ms    = 5.0
	goalOwnP99At500Ms   = 20.0
	goalAckVsCreate     = 1.2
)

func yes(b bool) string {
	if b {
		return "**met**"
	}
	return "**not met**"
}

// evaluateGoals turns the results into the goal table.
func evaluateGoals(r *Results) []Goal {
	var gs []Goal
	for _, p := range r.Provisioning {
		g := Goal{Scenario: "1", What: fmt.Sprintf("operator vs. ceiling, N = %d", p.N), Target: fmt.Sprintf("≥ %.1f×", goalCeilingRatio)}
		if p.Ceiling != nil && p.Operator != nil && p.Operator.ReadyCount > 0 {
			g.Measurable = true
			g.Measured = fmt.Sprintf("%.2f× (%.1f vs %.1f tenants/s; control plane %.2f vs %.2f CPU-s per tenant)", p.Ratio,
				p.Operator.TenantsPerSec, p.Ceiling.TenantsPerSec, p.Operator.ControlPlaneCPUPerTenant, p.Ceiling.ControlPlaneCPUPerTenant)
			g.Met = p.Ratio >= goalCeilingRatio && p.Operator.AllReady
			if !p.Operator.AllReady {
				g.Note = fmt.Sprintf("only %d of %d tenants Ready", p.Operator.ReadyCount, p.N)
			}
		}
		gs = append(gs, g)
		if m, o := p.Minimal, p.Operator; m != nil && o != nil && o.ReadyCount > 0 && m.ReadyCount > 0 {
			note := ""
			if !m.AllReady {
				note = fmt.Sprintf("only %d of %d minimal-path tenants Ready", m.ReadyCount, p.N)
			}
			ready := o.AllReady && m.AllReady && p.allRoundsReady()
			if note == "" && !p.allRoundsReady() {
				note = "not every tenant became Ready in every round"
			}
			minimalRatio := func(r ProvisioningRound) float64 { return r.MinimalRatio }
			minimalCPURatio := func(r ProvisioningRound) float64 { return r.MinimalCPURatio }
			gs = append(gs,
				Goal{Scenario: "1", What: fmt.Sprintf("operator vs. minimal-path ceiling, N = %d", p.N), Target: fmt.Sprintf("≥ %.1f×", goalMinimalRatio),
					Measured:   fmt.Sprintf("%.2f×%s (%.1f vs %.1f tenants/s%s)", p.MinimalRatio, p.roundsSpread(minimalRatio), o.TenantsPerSec, m.TenantsPerSec, p.firstRound()),
					Met:        p.MinimalRatio >= goalMinimalRatio && ready,
					Measurable: true, Note: note},
				Goal{Scenario: "1", What: fmt.Sprintf("control-plane CPU per tenant, operator vs. minimal path, N = %d", p.N), Target: fmt.Sprintf("≤ %.1f×", goalMinimalCPURatio),
					Measured: fmt.Sprintf("%.2f×%s (%.3f vs %.3f CPU-s; writes %.1f vs %.1f per tenant%s)%s", p.MinimalCPURatio, p.roundsSpread(minimalCPURatio), o.ControlPlaneCPUPerTenant, m.ControlPlaneCPUPerTenant,
						o.PathWritesPerTenant, m.WritesPerTenant, p.firstRound(), p.perWrite("; per write %.2f×")),
					Met:        p.MinimalCPURatio > 0 && p.MinimalCPURatio <= goalMinimalCPURatio && ready,
					Measurable: p.MinimalCPURatio > 0, Note: note})
		}
	}
	for _, hr := range r.Helm {
		if r.HelmOperator == nil {
			break
		}
		rt := ratio(r.HelmOperator.TenantsPerSec, hr.TenantsPerSec)
		gs = append(gs, Goal{Scenario: "2", What: fmt.Sprintf("operator vs. helm install --wait %d at a time, N = %d", hr.Parallel, hr.Tenants), Target: fmt.Sprintf("≥ %.0f× faster", goalHelmRatio),
			Measured: fmt.Sprintf("%.1f× (%.2f vs %.2f tenants/s)", rt, r.HelmOperator.TenantsPerSec, hr.TenantsPerSec),
			Met:      rt >= goalHelmRatio && r.HelmOperator.AllReady, Measurable: true})
	}
	if c := r.Callbacks; c != nil {
		for _, s := range c.Steps {
			switch s.Rate {
			case 50:
				gs = append(gs, Goal{Scenario: "3", What: "acknowledgement p99 at 50 calls/s, every call acknowledged", Target: fmt.Sprintf("≤ %.0f ms", goalP99At50Ms),
					Measured: fmt.Sprintf("p99 %.0f ms; %d of %d acknowledged", s.AllLatency.P99, s.Acked, s.Sent),
					Met:      s.AllLatency.P99 <= goalP99At50Ms && s.Acked == s.Sent, Measurable: true})
			case 500:
				gs = append(gs, Goal{Scenario: "3", What: "answer p99 at 500 calls/s, shedding with 000005", Target: fmt.Sprintf("≤ %.0f ms", goalP99At500Ms),
					Measured: fmt.Sprintf("p99 %.0f ms; %d acknowledged, %d answered 000005 (%.0f shed), %d transport errors", s.AllLatency.P99, s.Acked, s.Retryable, s.Shed, s.Transport),
					Met:      s.AllLatency.P99 <= goalP99At500Ms && s.Transport == 0, Measurable: true})
			}
		}
		for _, s := range c.Steps {
			target := 0.0
			switch s.Rate {
			case 50:
				target = goalOwnP99At50Ms
			case 500:
				target = goalOwnP99At500Ms
			default:
				continue
			}
			ok := s.OwnCalls > 0 && !math.IsNaN(s.OwnP99Ms)
			gs = append(gs, Goal{Scenario: "3", What: fmt.Sprintf("bridge's own time per call p99 at %.0f calls/s", s.Rate), Target: fmt.Sprintf("≤ %.0f ms", target),
				Measured: fmt.Sprintf("%.1f ms (p50 %.1f ms, %.0f calls)", s.OwnP99Ms, s.OwnP50Ms, s.OwnCalls), Met: ok && s.OwnP99Ms <= target, Measurable: ok})
			probed := s.ProbeCreate.Count > 0 && s.Acked > 0
			gs = append(gs, Goal{Scenario: "3", What: fmt.Sprintf("acknowledgement p99 vs. a bare TenantInstance create's p99 at %.0f calls/s", s.Rate), Target: fmt.Sprintf("≤ %.1f×", goalAckVsCreate),
				Measured: fmt.Sprintf("%.2f× (%.0f vs %.0f ms)", s.AckVsProbe, s.AckLatency.P99, s.ProbeCreate.P99), Met: probed && s.AckVsProbe <= goalAckVsCreate, Measurable: probed})
		}
		bad := 0
		for _, s := range c.Steps {
			bad += s.AckedNotPersisted
		}
		gs = append(gs, Goal{Scenario: "3", What: "acknowledged but not persisted", Target: "0", Measured: fmt.Sprint(bad), Met: bad == 0, Measurable: len(c.Steps) > 0})
	}
	if l := r.Lifecycle; l != nil {
		note := ""
		if l.Tenants < goalLifecycleMin {
			note = fmt.Sprintf("measured over %d tenants; the goal asks for ≥ %d", l.Tenants, goalLifecycleMin)
		}
		gs = append(gs,
			Goal{Scenario: "4", What: "freeze → Deployment at 0 replicas, p99", Target: "≤ 1 s", Measured: fmt.Sprintf("%.0f ms (%d/%d)%s", l.Freeze.Latency.P99, l.Freeze.Completed, l.Freeze.Tenants, milestoneNote(l.Freeze)),
				Met: l.Freeze.Completed == l.Freeze.Tenants && l.Freeze.Latency.P99 <= goalFreezeP99Ms, Measurable: l.Freeze.Tenants > 0, Note: note},
			Goal{Scenario: "4", What: "release → namespace gone, p99", Target: "≤ 15 s", Measured: fmt.Sprintf("%.1f s (%d/%d)%s", l.Release.Latency.P99/1000, l.Release.Completed, l.Release.Tenants, milestoneNote(l.Release)),
				Met: l.Release.Completed == l.Release.Tenants && l.Release.Latency.P99 <= goalReleaseP99Ms, Measurable: l.Release.Tenants > 0, Note: note})
	}
	gs = append(gs, unauthGoals(r.Unauth)...)
	if s := r.Scale; s != nil {
		note := ""
		if s.Tenants < goalScaleTenants {
			note = fmt.Sprintf("measured with %d tenants; the goal is for %d", s.Tenants, goalScaleTenants)
		}
		measurable := s.IdleWindowSec > 0
		gs = append(gs,
			Goal{Scenario: "5", What: "operator RSS, idle", Target: "≤ 128 MiB", Measured: fmt.Sprintf("%.0f MiB (max %.0f; heap %.0f MiB; peak while provisioning %.0f MiB)", s.IdleRSSMiB, s.IdleRSSMaxMiB, s.IdleHeapMiB, peakRSS(s)),
				Met: measurable && s.IdleRSSMaxMiB <= goalRSSMiB, Measurable: measurable, Note: note},
			Goal{Scenario: "5", What: "cold start to every tenant reconciled", Target: "≤ 30 s", Measured: fmt.Sprintf("%.1f s (%.0f reconciles, %d writes)", s.ColdStartSec, s.ColdReconciles, s.ColdWrites.Total),
				Met: s.ColdComplete && s.ColdStartSec <= goalColdStartSec, Measurable: s.ColdStartSec > 0, Note: note},
			Goal{Scenario: "5", What: "API writes per second at idle (lease renewals aside)", Target: "0", Measured: fmt.Sprintf("%.2f/s (%d writes in %.0f s; leases %.2f/s)", s.IdleWritesPerSec, s.IdleWrites.Total, s.IdleWindowSec, s.IdleLeasePerSec),
				Met: measurable && s.IdleWrites.Total == 0, Measurable: measurable, Note: note})
	}
	return gs
}

func milestoneNote(t TransitionResult) string {
	var parts []string
	for _, m := range t.Milestones {
		parts = append(parts, fmt.Sprintf("%s p99 %.0f ms", m.What, m.Latency.P99))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, ", ")
}

func peakRSS(s *ScaleResult) float64 {
	if s.Provision == nil {
		return 0
	}
	return s.Provision.PeakRSSMiB
}

// writeReport writes results.json, the plots and report.md, and points results/latest at them.
func (h *harness) writeReport(r *Results) error {
	if h.out == "" {
		return nil
	}
	r.Goals = evaluateGoals(r)
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(h.out, "results.json"), data, 0o644); err != nil {
		return err
	}
	plots, perr := writePlots(h.out, r)
	if perr != nil {
		h.logf("plots: %v", perr)
	}
	var base *baseline
	if h.cfg.Baseline != "" {
		if b, err := os.ReadFile(h.cfg.Baseline); err == nil {
			base = &baseline{}
			if err := json.Unmarshal(b, base); err != nil {
				h.logf("reading baseline %s: %v", h.cfg.Baseline, err)
				base = nil
			}
		} else {
			h.logf("reading baseline: %v", err)
		}
	}
	notes := ""
	if h.cfg.Notes != "" {
		b, err := os.ReadFile(h.cfg.Notes)
		if err != nil {
			h.logf("reading notes: %v", err)
		}
		notes = string(b)
	}
	md := renderMarkdown(r, base, plots, notes)
	if err := os.WriteFile(filepath.Join(h.out, "report.md"), []byte(md), 0o644); err != nil {
		return err
	}
	if h.cfg.Out == "" {
		latest := filepath.Join(filepath.Dir(h.out), "latest")
		_ = os.Remove(latest)
		if err := os.Symlink(filepath.Base(h.out), latest); err != nil {
			h.logf("linking %s: %v", latest, err)
		}
	}
	h.logf("report: %s", filepath.Join(h.out, "report.md"))
	return nil
}

type md struct{ strings.Builder }

func (m *md) p(format string, args ...any) { fmt.Fprintf(&m.Builder, format+"\n", args...) }

func (m *md) table(header []string, rows [][]string) {
	m.p("| %s |", strings.Join(header, " | "))
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
	}
	m.p("|%s|", strings.Join(seps, "|"))
	for _, r := range rows {
		m.p("| %s |", strings.Join(r, " | "))
	}
	m.p("")
}

func f1(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f", v)
}
func f2(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}
func f0(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.0f", v)
}

func cpuCell(cpu map[string]float64) string {
	type kv struct {
		k string
		v float64
	}
	var kvs []kv
	for k, v := range cpu {
		if v >= 0.05 {
			kvs = append(kvs, kv{k, v})
		}
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].v > kvs[j].v })
	var parts []string
	for _, x := range kvs {
		parts = append(parts, fmt.Sprintf("%s %.2f", short(x.k), x.v))
	}
	return strings.Join(parts, ", ")
}

var shortNames = map[string]string{
	"kube-apiserver": "apiserver", "kube-controller-manager": "kcm", "kube-scheduler": "scheduler",
	"kwok-controller": "kwok", "webhookbridge": "bridge",
}

func short(component string) string {
	if s, ok := shortNames[component]; ok {
		return s
	}
	return component
}

func apfCell(st APIServerStats) string {
	var parts []string
	for _, l := range st.APF {
		if l.Dispatched < 10 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %.0f, wait %.0f/%.0f ms, %.0f rejected", l.Level, l.Dispatched, l.WaitMeanMs, l.WaitP99Ms, l.Rejected))
	}
	if st.Mutating > 0 {
		parts = append(parts, fmt.Sprintf("writes take %.0f ms on average", st.MutatingMeanMs))
	}
	return strings.Join(parts, "; ")
}

func reasonsCell(m map[string]int) string {
	total := 0
	for _, v := range m {
		total += v
	}
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", k, 100*float64(m[k])/float64(total)))
	}
	return strings.Join(parts, ", ")
}

func writesCell(w WriteCounts) string {
	keys := sortedKeys(w.Kinds)
	sort.SliceStable(keys, func(i, j int) bool { return w.Kinds[keys[i]] > w.Kinds[keys[j]] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, w.Kinds[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func methodsCell(m map[string]float64) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// baseline is what a before/after comparison reads of an earlier run's results.json; only these
// fields, so that results of older harness versions still read.
type baseline struct {
	Config struct {
		Label string `json:"label"`
	} `json:"config"`
	Started time.Time `json:"started"`
	Goals   []Goal    `json:"goals"`
}

func renderMarkdown(r *Results, base *baseline, plots []string, notes string) string {
	var m md
	title := "Tenantry benchmark"
	if r.Config.Label != "" {
		title += " — " + r.Config.Label
	}
	m.p("# %s", title)
	m.p("")
	kind := fmt.Sprintf("full mode (as `make bench`) at the sizes N = %s, %d Helm releases, %s per rate, %d lifecycle tenants, %d scale tenants",
		strings.Trim(strings.Join(strings.Fields(fmt.Sprint(r.Config.Tenants)), ", "), "[]"), r.Config.HelmTenants, r.Config.RateDuration, r.Config.Lifecycle, r.Config.ScaleTenants)
	if r.Config.Quick {
		kind = "quick (`make bench-quick`): small N, short phases — a smoke run, not the goals' sizes"
	}
	m.p("Run of %s, %s, took %s. Commit `%s`%s.", r.Started.Format("2006-01-02 15:04 MST"), kind,
		(time.Duration(r.DurationSec) * time.Second).String(), r.Machine.Commit, map[bool]string{true: " with uncommitted changes outside bench/", false: ""}[r.Machine.Dirty])
	m.p("")
	m.p("**Machine:** %d CPUs (%s), %d GiB, Linux %s, %s; %s. Everything — etcd, kube-apiserver, kube-controller-manager, "+
		"kube-scheduler, the kwok nodes, the operator, the bridge and the load generator — shares this one machine "+
		"(load average %s at the start), so absolute figures are those of a small shared box; the ratios within a scenario "+
		"come from the same run and hold better than the absolute numbers.",
		r.Machine.CPUs, r.Machine.CPUModel, r.Machine.MemoryGiB, r.Machine.Kernel, r.Machine.GoVersion, r.Machine.Kubernetes, r.Machine.LoadAvgStart)
	m.p("")
	m.p("The operator and the bridge run as local processes authenticated with tokens of their chart ServiceAccounts "+
		"(`tenantry-manager`, `tenantry-webhookbridge`, RBAC from `config/rbac`); the ceiling program and Helm run as "+
		"ServiceAccounts with the operator's rights. None is exempt from API Priority and Fairness. Operator flags: "+
		"`--kube-api-qps=%d --kube-api-burst=%d --max-concurrent-reconciles=%d%s`, GOMEMLIMIT `%s`, GOGC `%s`; bridge extra flags: `%s`.",
		r.Config.ManagerQPS, r.Config.ManagerBurst, r.Config.ManagerConcurrency, prefixSpace(strings.Join(r.Config.ManagerArgs, " ")),
		cmp.Or(r.Config.ManagerMemLimit, "none"), cmp.Or(r.Config.ManagerGOGC, "100"), orNone(strings.Join(r.Config.BridgeArgs, " ")))
	m.p("")
	if len(r.Errors) > 0 {
		m.p("**Problems during the run:**")
		for _, e := range r.Errors {
			m.p("- %s", e)
		}
		m.p("")
	}

	m.p("## Goals")
	m.p("")
	var rows [][]string
	for _, g := range r.Goals {
		met := yes(g.Met)
		if !g.Measurable {
			met = "not measured"
		}
		measured := g.Measured
		if g.Note != "" {
			measured += " — " + g.Note
		}
		rows = append(rows, []string{g.Scenario, g.What, g.Target, measured, met})
	}
	m.table([]string{"#", "goal", "target", "measured", ""}, rows)

	if base != nil {
		renderComparison(&m, r, base)
	}

	if len(r.Provisioning) > 0 {
		m.p("## 1. Provisioning ceiling")
		m.p("")
		m.p("The ceiling is a bare client-go program creating, %d requests in flight, exactly the objects the operator "+
			"creates for a tenant (built by the operator's own `controllers.Desired` builders: %s), as fast as the API "+
			"server accepts them. Then the same number of TenantInstances is created (with the bridge's identity) and the "+
			"operator takes each to Ready. tenants/s counts from the first request to the last tenant done.",
			r.Config.Workers, objectList(r.Provisioning))
		m.p("")
		rows = nil
		for _, p := range r.Provisioning {
			row := []string{fmt.Sprint(p.N)}
			if c := p.Ceiling; c != nil {
				row = append(row, fmt.Sprintf("%s (%s objects/s, %d errors)", f1(c.TenantsPerSec), f0(c.ObjectsPerSec), c.Errors),
					fmt.Sprintf("%s s (%s tenants/s)", f1(c.AvailableSec), f1(c.AvailablePerSec)))
			} else {
				row = append(row, "–", "–")
			}
			if o := p.Operator; o != nil {
				row = append(row, fmt.Sprintf("%s (%d/%d Ready in %s s)", f1(o.TenantsPerSec), o.ReadyCount, o.Tenants, f1(o.ElapsedSec)),
					fmt.Sprintf("%s / %s", f1(o.ReadyLatency.P50/1000), f1(o.ReadyLatency.P99/1000)),
					f1(o.WritesPerTenant), f0(o.PeakRSSMiB))
			} else {
				row = append(row, "–", "–", "–", "–")
			}
			row = append(row, fmt.Sprintf("**%.2f×** (%.2f× of pods-available)", p.Ratio, p.RatioAvailable))
			rows = append(rows, row)
		}
		m.table([]string{"N", "ceiling tenants/s (objects accepted)", "ceiling: every Deployment available", "operator tenants/s (to Ready)", "operator create→Ready p50/p99 (s)", "operator writes/tenant", "operator peak RSS MiB", "ratio"}, rows)
		rows = nil
		for _, p := range r.Provisioning {
			if c := p.Ceiling; c != nil {
				rows = append(rows, []string{fmt.Sprintf("ceiling N=%d", p.N), cpuCell(c.CPU), f2(c.ControlPlaneCPUPerTenant), apfCell(c.APIServer), writesCell(c.AuditWrites)})
			}
			if mp := p.Minimal; mp != nil {
				rows = append(rows, []string{fmt.Sprintf("minimal path N=%d", p.N), cpuCell(mp.CPU), f2(mp.ControlPlaneCPUPerTenant), apfCell(mp.APIServer), writesCell(mp.Writes)})
			}
			if ma := p.MinimalApply; ma != nil {
				rows = append(rows, []string{fmt.Sprintf("minimal path by apply N=%d", p.N), cpuCell(ma.CPU), f2(ma.ControlPlaneCPUPerTenant), apfCell(ma.APIServer), writesCell(ma.Writes)})
			}
			if o := p.Operator; o != nil {
				rows = append(rows, []string{fmt.Sprintf("operator N=%d", p.N), cpuCell(o.CPU), f2(o.ControlPlaneCPUPerTenant), apfCell(o.APIServer), writesCell(o.AuditWrites)})
			}
		}
		m.p("Where the time went: CPU by process (average cores over the phase; `other` is everything else the shared " +
			"machine ran meanwhile), kube-apiserver + etcd CPU-seconds per tenant (the cost of a tenant to the control " +
			"plane, which background load does not change much), what API Priority and Fairness did (per priority level: " +
			"requests dispatched, mean/p99 queue wait, rejections) and the writes of the identity under test (API server audit log):")
		m.p("")
		m.table([]string{"phase", "CPU cores", "apiserver+etcd CPU-s/tenant", "APF", "writes"}, rows)
		renderMinimal(&m, r)
	}
	if plotted(plots, "tenants_ready.png") {
		m.p("![tenants Ready vs time](tenants_ready.png)")
		m.p("")
	}

	if len(r.Helm) > 0 {
		m.p("## 2. Helm, what vendors use instead")
		m.p("")
		m.p("`helm install --wait` of `bench/tenant-chart` (the same objects; one release per tenant, stored in `%s`; %s), "+
			"some installs at a time, against the operator taking the same number of TenantInstances to Ready on a fresh cluster.",
			helmNamespace, r.Helm[0].HelmVersion)
		m.p("")
		rows = nil
		for _, hr := range r.Helm {
			rows = append(rows, []string{fmt.Sprintf("helm, %d at a time", hr.Parallel), fmt.Sprint(hr.Tenants - hr.Failures), f1(hr.ElapsedSec), f2(hr.TenantsPerSec),
				fmt.Sprintf("%s / %s", f1(hr.InstallLatency.P50/1000), f1(hr.InstallLatency.P99/1000)), fmt.Sprint(hr.AuditWrites.Total), cpuCell(hr.CPU)})
		}
		o := r.HelmOperator
		if o != nil {
			rows = append(rows, []string{"operator", fmt.Sprint(o.ReadyCount), f1(o.ElapsedSec), f2(o.TenantsPerSec),
				fmt.Sprintf("%s / %s", f1(o.ReadyLatency.P50/1000), f1(o.ReadyLatency.P99/1000)), fmt.Sprint(o.AuditWrites.Total), cpuCell(o.CPU)})
		}
		m.table([]string{"", "tenants Ready", "elapsed s", "tenants/s", "per tenant p50/p99 (s)", "API writes", "CPU cores"}, rows)
		for _, hr := range r.Helm {
			if o != nil {
				m.p("- operator / helm with %d at a time: **%.1f×**", hr.Parallel, ratio(o.TenantsPerSec, hr.TenantsPerSec))
			}
			if hr.LastError != "" {
				m.p("- %d installs (%d at a time) failed; the last error: `%s`", hr.Failures, hr.Parallel, oneLine(hr.LastError))
			}
		}
		m.p("")
	}

	if c := r.Callbacks; c != nil && len(c.Steps) > 0 {
		m.p("## 3. Callbacks")
		m.p("")
		m.p("Signed `newInstance` calls (the simulator's `Client.Buy`, each for a new order registered with the in-process "+
			"Order Query API) sent open-loop at a fixed rate for %s each, in increasing order, while the operator provisions "+
			"everything bought so far. Latency runs from when a call was due to when its answer arrived. After each step every "+
			"acknowledged instance is looked up on the API server.", r.Config.RateDuration)
		m.p("")
		rows = nil
		for _, s := range c.Steps {
			other := ""
			for _, k := range sortedKeys(s.OtherCodes) {
				other += fmt.Sprintf(" %s×%d", k, s.OtherCodes[k])
			}
			rows = append(rows, []string{f0(s.Rate), fmt.Sprint(s.Sent),
				fmt.Sprintf("%d (%.0f%%)", s.Acked, 100*ratio(float64(s.Acked), float64(s.Sent))),
				fmt.Sprintf("%s / %s / %s", f0(s.AckLatency.P50), f0(s.AckLatency.P99), f0(s.AckLatency.P999)),
				fmt.Sprintf("%d (%.0f shed)", s.Retryable, s.Shed),
				fmt.Sprintf("%s / %s", f0(s.RetryableLatency.P50), f0(s.RetryableLatency.P99)),
				fmt.Sprintf("%s / %s / %s", f0(s.AllLatency.P50), f0(s.AllLatency.P99), f0(s.AllLatency.P999)),
				fmt.Sprintf("%d%s", s.Transport, other),
				fmt.Sprint(s.AckedNotPersisted), fmt.Sprint(s.FailedButPersisted), f0(s.OperatorBacklogMax), cpuCell(s.CPU), reasonsCell(s.RetryableReasons)})
		}
		m.table([]string{"calls/s", "sent", "000000", "000000 p50/p99/p99.9 ms", "000005", "000005 p50/p99 ms", "all p50/p99/p99.9 ms", "errors", "acked, not persisted", "failed, persisted", "operator queue max", "CPU cores", "000005 reasons (bridge log, sampled)"}, rows)
	}
	if c := r.Callbacks; c != nil && len(c.Steps) > 0 {
		m.p("Where a newInstance call's time goes (mean ms; the bridge's histograms and the API server's request durations " +
			"over the step — the API server's figures include every client of these resources, mostly the bridge):")
		m.p("")
		keys := map[string]bool{}
		for _, s := range c.Steps {
			for k := range s.Breakdown {
				keys[k] = true
			}
		}
		cols := sortedKeys(keys)
		var rows [][]string
		for _, s := range c.Steps {
			row := []string{f0(s.Rate)}
			for _, k := range cols {
				if v, ok := s.Breakdown[k]; ok {
					row = append(row, f1(v))
				} else {
					row = append(row, "–")
				}
			}
			rows = append(rows, row)
		}
		m.table(append([]string{"calls/s"}, cols...), rows)
	}
	renderOwnTime(&m, r)
	if plotted(plots, "latency_vs_rate.png") {
		m.p("![latency vs rate](latency_vs_rate.png)")
		m.p("")
	}

	if l := r.Lifecycle; l != nil {
		m.p("## 4. Lifecycle latency")
		m.p("")
		m.p("%d tenants bought through the bridge, then each frozen, unfrozen and released with signed calls at %.0f calls/s "+
			"(%d other tenants in the cluster). Latency runs from sending the call to: the Deployment at 0 replicas, i.e. "+
			"`spec.replicas` 0 and observed by the Deployment controller, which has scaled the ReplicaSet down (freeze); the "+
			"TenantInstance Ready and Running again (unfreeze); the namespace gone (release). The milestones are timed from the "+
			"same call: the operator's own write, and, for freeze, the last pod gone (which depends on the pods' termination, "+
			"instant with kwok, up to the grace period in a real cluster).",
			l.Tenants, l.PacePerSec, l.BackgroundN)
		m.p("")
		rows = nil
		for _, t := range []TransitionResult{l.Buy, l.Freeze, l.Unfreeze, l.Release} {
			var ms []string
			for _, m := range t.Milestones {
				ms = append(ms, fmt.Sprintf("%s: %s / %s", m.What, f0(m.Latency.P50), f0(m.Latency.P99)))
			}
			stepCell := strings.Join(ms, "; ")
			if stepCell == "" {
				stepCell = "–"
			}
			rows = append(rows, []string{t.What, fmt.Sprintf("%d/%d", t.Completed, t.Tenants), f0(t.Latency.P50), f0(t.Latency.P90), f0(t.Latency.P99), f0(t.Latency.Max),
				fmt.Sprintf("%s / %s", f0(t.CallLatency.P50), f0(t.CallLatency.P99)), stepCell, fmt.Sprint(t.Resends), cpuCell(t.CPU)})
		}
		m.table([]string{"transition", "done", "p50 ms", "p90 ms", "p99 ms", "max ms", "bridge answer p50/p99 ms", "milestones p50/p99 ms", "resends", "CPU cores"}, rows)
	}

	if s := r.Scale; s != nil {
		m.p("## 5. Scale")
		m.p("")
		rows = nil
		if p := s.Provision; p != nil {
			rows = append(rows, []string{"provisioning", fmt.Sprintf("%d/%d Ready in %s s (%s tenants/s); peak RSS %s MiB", p.ReadyCount, p.Tenants, f1(p.ElapsedSec), f1(p.TenantsPerSec), f0(p.PeakRSSMiB))})
		}
		rows = append(rows,
			[]string{"idle RSS / heap", fmt.Sprintf("%s MiB (max %s) / %s MiB (max %s)", f0(s.IdleRSSMiB), f0(s.IdleRSSMaxMiB), f0(s.IdleHeapMiB), f0(s.IdleHeapMaxMiB))},
			[]string{"idle writes", fmt.Sprintf("%d in %.0f s (%.2f/s): %s; lease writes %d (%.2f/s)", s.IdleWrites.Total, s.IdleWindowSec, s.IdleWritesPerSec, writesCell(s.IdleWrites), s.IdleWrites.Lease, s.IdleLeasePerSec)},
			[]string{"idle client requests (operator's rest_client_requests_total)", methodsCell(s.IdleRestWrites)},
			[]string{"idle CPU cores", cpuCell(s.IdleCPU)},
			[]string{"cold start", fmt.Sprintf("leader after %s s; every tenant reconciled after **%s s** (%.0f reconciles)", f1(s.ColdLeaderSec), f1(s.ColdStartSec), s.ColdReconciles)},
			[]string{"cold start CPU cores", cpuCell(s.ColdCPU)},
			[]string{"cold start writes", fmt.Sprintf("%d: %s; requests by method %s", s.ColdWrites.Total, writesCell(s.ColdWrites), methodsCell(s.ColdRestRequests))},
			[]string{"cold start memory", fmt.Sprintf("peak RSS %s MiB, settled %s MiB (heap %s MiB)", f0(s.ColdPeakRSSMiB), f0(s.ColdSettledRSSMiB), f0(s.ColdSettledHeapMiB))},
		)
		m.p("%d tenants provisioned through the operator, observed idle for %.0f s, then the operator is stopped with SIGTERM "+
			"(it hands its Lease back) and started again; cold start runs from the new process' start until at least %d "+
			"reconciles completed with nothing queued and no worker busy.", s.Tenants, s.IdleWindowSec, s.Tenants)
		m.p("")
		m.table([]string{"", "measured"}, rows)
		if len(s.Steps) > 0 {
			rows = nil
			for _, st := range s.Steps {
				rows = append(rows, []string{fmt.Sprint(st.Tenants), f0(st.RSSMiB), f0(st.HeapMiB), f0(st.HeapInuseMiB)})
			}
			m.p("Memory as tenants arrive in batches (each batch Ready and the operator idle before the reading):")
			m.p("")
			m.table([]string{"tenants", "RSS MiB", "heap alloc MiB", "heap in use MiB"}, rows)
			if k := len(s.Steps); k >= 2 && s.Steps[k-1].Tenants > s.Steps[0].Tenants {
				a, b := s.Steps[0], s.Steps[k-1]
				per := (b.RSSMiB - a.RSSMiB) * 1024 / float64(b.Tenants-a.Tenants)
				perHeap := (b.HeapInuseMiB - a.HeapInuseMiB) * 1024 / float64(b.Tenants-a.Tenants)
				m.p("Each tenant adds about %.0f KiB of RSS (%.0f KiB of heap in use); at that slope %d tenants would take about %.0f MiB of RSS.",
					per, perHeap, goalScaleTenants, b.RSSMiB+per*float64(goalScaleTenants-b.Tenants)/1024)
				m.p("")
			}
		}
	}
	if plotted(plots, "memory_vs_tenants.png") {
		m.p("![memory vs tenants](memory_vs_tenants.png)")
		m.p("")
	}

	renderUnauth(&m, r)
	renderMetering(&m, r)
	renderRollout(&m, r)

	renderProfiles(&m, r)

	if notes != "" {
		m.p("%s", strings.TrimSpace(notes))
		m.p("")
	}

	m.p("## How this was run")
	m.p("")
	m.p("```")
	cfg, _ := json.MarshalIndent(r.Config, "", "  ")
	m.p("%s", cfg)
	m.p("```")
	return m.String()
}

func renderProfiles(m *md, r *Results) {
	var ps []*Profile
	for _, p := range r.Provisioning {
		if p.Operator != nil && p.Operator.Profile != nil {
			ps = append(ps, p.Operator.Profile)
		}
	}
	if r.Scale != nil {
		if r.Scale.HeapProfile != nil {
			ps = append(ps, r.Scale.HeapProfile)
		}
		if r.Scale.ColdCPUProfile != nil {
			ps = append(ps, r.Scale.ColdCPUProfile)
		}
		if r.Scale.ColdAPIServerProfile != nil {
			ps = append(ps, r.Scale.ColdAPIServerProfile)
		}
	}
	if r.Callbacks != nil {
		for _, s := range r.Callbacks.Steps {
			if s.BridgeProfile != nil {
				ps = append(ps, s.BridgeProfile)
			}
		}
	}
	m.p("## Profiles")
	m.p("")
	for _, p := range r.Provisioning {
		var c, mp, ma, o *Profile
		if p.Ceiling != nil {
			c = p.Ceiling.APIServerProfile
		}
		if p.Minimal != nil {
			mp = p.Minimal.APIServerProfile
		}
		if p.MinimalApply != nil {
			ma = p.MinimalApply.APIServerProfile
		}
		if p.Operator != nil {
			o = p.Operator.APIServerProfile
		}
		if c == nil && mp == nil && ma == nil && o == nil {
			continue
		}
		m.p("### kube-apiserver CPU while N = %d tenants are created: ceiling, minimal path (creates, then by apply), operator", p.N)
		m.p("")
		m.p("Share of the API server's CPU samples spent in each part (a sample can count in more than one); "+
			"profiles `%s`, `%s`, `%s`, `%s` (`go tool pprof -top -cum` of each beside it; "+
			"`go tool pprof -top -diff_base` of two compares them).", fileOf(c), fileOf(mp), fileOf(ma), fileOf(o))
		m.p("")
		var rows [][]string
		for _, k := range sortedKeys(apiserverFocus) {
			rows = append(rows, []string{k, pct(c, k), pct(mp, k), pct(ma, k), pct(o, k)})
		}
		m.table([]string{"part of kube-apiserver", "ceiling", "minimal path", "minimal path by apply", "operator"}, rows)
	}
	if !r.Machine.PprofAvailable {
		m.p("The operator binary has no `--pprof-bind-address` flag, so no profile was taken.")
		m.p("")
		return
	}
	if len(ps) == 0 {
		m.p("No profile in this run.")
		m.p("")
		return
	}
	for _, p := range ps {
		m.p("### %s (%s, `%s`)", p.What, p.Kind, p.File)
		m.p("")
		m.p("```")
		lines := strings.Split(p.Top, "\n")
		if len(lines) > 22 {
			lines = lines[:22]
		}
		m.p("%s", strings.Join(lines, "\n"))
		m.p("```")
		m.p("")
	}
}

func fileOf(p *Profile) string {
	if p == nil {
		return "–"
	}
	return p.File
}

func pct(p *Profile, k string) string {
	if p == nil {
		return "–"
	}
	v, ok := p.Shares[k]
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*v)
}

// renderComparison puts an earlier run's headline figures beside this run's.
func renderComparison(m *md, r *Results, base *baseline) {
	label := base.Config.Label
	if label == "" {
		label = base.Started.Format("2006-01-02 15:04")
	}
	now := r.Config.Label
	if now == "" {
		now = "this run"
	}
	m.p("## Before / after")
	m.p("")
	m.p("Headline figures of `%s` (%s) beside `%s`.", label, base.Started.Format("2006-01-02 15:04"), now)
	m.p("")
	bg := map[string]Goal{}
	for _, g := range base.Goals {
		bg[g.Scenario+g.What] = g
	}
	var rows [][]string
	for _, g := range r.Goals {
		b, ok := bg[g.Scenario+g.What]
		before := "–"
		if ok && b.Measurable {
			before = b.Measured
		}
		after := "–"
		if g.Measurable {
			after = g.Measured
		}
		rows = append(rows, []string{g.Scenario, g.What, before, after})
	}
	m.table([]string{"#", "figure", label, now}, rows)
}

func objectList(ps []ProvisioningResult) string {
	for _, p := range ps {
		if p.Ceiling != nil {
			var names []string
			for _, o := range p.Ceiling.Objects {
				t, n, _ := strings.Cut(o, " ")
				t = strings.TrimPrefix(t[strings.LastIndex(t, ".")+1:], "*")
				names = append(names, fmt.Sprintf("%s `%s`", t, n))
			}
			return fmt.Sprintf("%d objects — %s", len(names), strings.Join(names, ", "))
		}
	}
	return "the tenant's objects"
}

func plotted(plots []string, name string) bool {
	for _, p := range plots {
		if p == name {
			return true
		}
	}
	return false
}

func prefixSpace(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

func orNone(s string) string {
	if s == "" {
		return "none (defaults)"
	}
	return s
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// renderMinimal compares the operator with the minimal-path ceiling: throughput, control-plane
// CPU and writes per tenant, resource by resource.
func renderMinimal(m *md, r *Results) {
	var rows [][]string
	for _, p := range r.Provisioning {
		mp, o := p.Minimal, p.Operator
		if mp == nil {
			continue
		}
		row := []string{fmt.Sprint(p.N), fmt.Sprintf("%s (%d/%d Ready in %s s; objects created in %s s, %d errors)", f1(mp.TenantsPerSec), mp.ReadyCount, mp.Tenants, f1(mp.ElapsedSec), f1(mp.CreatedSec), mp.Errors),
			fmt.Sprintf("%s / %s", f1(mp.ReadyLatency.P50/1000), f1(mp.ReadyLatency.P99/1000)), f3(mp.ControlPlaneCPUPerTenant), f1(mp.WritesPerTenant)}
		if o != nil {
			row = append(row, f1(o.TenantsPerSec), f3(o.ControlPlaneCPUPerTenant), f1(o.PathWritesPerTenant),
				fmt.Sprintf("**%.2f×** tenants/s, **%.2f×** CPU%s%s", p.MinimalRatio, p.MinimalCPURatio, p.perWrite(" (%.2f× per write)"), p.ofRounds()))
		} else {
			row = append(row, "–", "–", "–", "–")
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return
	}
	m.p("### Against the minimal path")
	m.p("")
	m.p("The minimal-path ceiling does the least any declarative system must per tenant, on a fresh cluster of its own " +
		"just before the operator's (in the first round, when there are several): it creates the TenantInstance (with the bridge's identity, as the bridge does), then " +
		"the tenant's objects (the same as above, owned by the instance, each created once, with the operator's rights), " +
		"and, when its one watch (of Deployments) sees the tenant's Deployment available, writes the instance's status once " +
		"(Ready, as the operator's final status reads). Both are timed from the first request to the last tenant Ready " +
		"(seen by the harness' watch); writes count both identities of each path (the operator's path: the bridge's " +
		"creates and the operator's writes).")
	m.p("")
	m.table([]string{"N", "minimal path tenants/s", "minimal create→Ready p50/p99 (s)", "minimal apiserver+etcd CPU-s/tenant", "minimal writes/tenant",
		"operator tenants/s", "operator apiserver+etcd CPU-s/tenant", "operator path writes/tenant", "operator / minimal"}, rows)
	for _, p := range r.Provisioning {
		if len(p.Writes) == 0 {
			continue
		}
		m.p("Writes per tenant by resource, N = %d (API server audit log; `patch` is server-side apply or a merge patch; "+
			"docs/performance.md says why the operator makes each write beyond the minimum):", p.N)
		m.p("")
		rows = nil
		for _, d := range p.Writes {
			rows = append(rows, []string{d.Resource, verbsCell(d.Minimal), verbsCell(d.Operator), fmt.Sprintf("%+.2f", d.Extra)})
		}
		m.table([]string{"resource", "minimal path", "operator path", "operator extra"}, rows)
	}
	renderMinimalApply(m, r)
	renderRounds(m, r)
}

// renderMinimalApply compares the minimal path writing the children by server-side apply with
// the same path by creates, and the operator with it.
func renderMinimalApply(m *md, r *Results) {
	var rows [][]string
	for _, p := range r.Provisioning {
		ma, mp, o := p.MinimalApply, p.Minimal, p.Operator
		if ma == nil {
			continue
		}
		row := []string{fmt.Sprint(p.N), fmt.Sprintf("%s (%d/%d Ready in %s s; objects written in %s s, %d errors)", f1(ma.TenantsPerSec), ma.ReadyCount, ma.Tenants, f1(ma.ElapsedSec), f1(ma.CreatedSec), ma.Errors),
			fmt.Sprintf("%s / %s", f1(ma.ReadyLatency.P50/1000), f1(ma.ReadyLatency.P99/1000)), f3(ma.ControlPlaneCPUPerTenant), f1(ma.WritesPerTenant)}
		if mp != nil {
			row = append(row, fmt.Sprintf("%.2f× tenants/s, %.2f× CPU", ratio(ma.TenantsPerSec, mp.TenantsPerSec), ratio(ma.ControlPlaneCPUPerTenant, mp.ControlPlaneCPUPerTenant)))
		} else {
			row = append(row, "–")
		}
		if o != nil {
			row = append(row, fmt.Sprintf("**%.2f×** tenants/s, **%.2f×** CPU%s", p.MinimalApplyRatio, p.MinimalApplyCPURatio, p.ofRounds()))
		} else {
			row = append(row, "–")
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return
	}
	m.p("The same minimal path, on a fresh cluster of its own, writing each of the tenant's objects as the operator does " +
		"instead of creating it: by server-side apply under the operator's field owner, sent by the operator's own `ssa` " +
		"package (the namespace by an apply conditional on its absence, the admin Secret by a create). It tells what " +
		"server-side apply itself costs over creates, which any operator owning its fields this way pays, from what the " +
		"operator adds beyond it (its caches' watches, its reconciles, its two writes beyond the minimum):")
	m.p("")
	m.table([]string{"N", "minimal path by apply tenants/s", "create→Ready p50/p99 (s)", "apiserver+etcd CPU-s/tenant", "writes/tenant",
		"by apply ÷ by creates", "operator ÷ minimal path by apply"}, rows)
}

// renderRounds lists the rounds of scenario 1 when there were several: each phase's figures in
// the order they ran, and the operator's ratios within the round.
func renderRounds(m *md, r *Results) {
	var rows [][]string
	for _, p := range r.Provisioning {
		if len(p.Rounds) < 2 {
			continue
		}
		for i, rd := range p.Rounds {
			rows = append(rows, []string{fmt.Sprint(p.N), fmt.Sprint(i + 1), strings.Join(rd.Order, ", "),
				phaseCell(rd.Minimal), phaseCell(rd.MinimalApply), phaseCell(rd.Operator),
				ratiosCell(rd.MinimalRatio, rd.MinimalCPURatio, rd.MinimalCPUPerWriteRatio),
				ratiosCell(rd.MinimalApplyRatio, rd.MinimalApplyCPURatio, 0)})
		}
	}
	if len(rows) == 0 {
		return
	}
	m.p("Rounds (`-rounds`): the minimal paths and the operator again on the same N, each round in the reverse order " +
		"of the one before, so that a drift of the machine's speed favours neither side. The ratios above are the medians " +
		"of these rounds' ratios; the tables by resource and the profiles are the first round's. Each phase: tenants/s, " +
		"apiserver+etcd CPU-s per tenant, writes per tenant:")
	m.p("")
	m.table([]string{"N", "round", "order", "minimal path", "minimal path by apply", "operator", "operator ÷ minimal path", "operator ÷ by apply"}, rows)
}

func phaseCell(f *PhaseFigures) string {
	if f == nil {
		return "–"
	}
	c := fmt.Sprintf("%s, %s, %s", f1(f.TenantsPerSec), f3(f.ControlPlaneCPUPerTenant), f1(f.WritesPerTenant))
	if !f.AllReady {
		c += " (not all Ready)"
	}
	return c
}

// ratiosCell gives the operator's ratios to a path; perWrite is left out when 0.
func ratiosCell(rate, cpu, perWrite float64) string {
	if rate == 0 {
		return "–"
	}
	c := fmt.Sprintf("%.2f×, %.2f× CPU", rate, cpu)
	if perWrite > 0 {
		c += fmt.Sprintf(" (%.2f× per write)", perWrite)
	}
	return c
}

func verbsCell(v map[string]float64) string {
	var parts []string
	for _, k := range sortedKeys(v) {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, v[k]))
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, ", ")
}

func f3(v float64) string { return fmt.Sprintf("%.3f", v) }

// renderOwnTime gives, per rate, the bridge's own time and the acknowledgement against a bare
// create of the one object it persists.
func renderOwnTime(m *md, r *Results) {
	c := r.Callbacks
	if c == nil || len(c.Steps) == 0 {
		return
	}
	m.p("The bridge's own time and the one write an acknowledgement waits for: `tenantry_bridge_call_own_duration_seconds` " +
		"of newInstance calls over the step (the call's time less the time during which a request to the API server or to " +
		"Order Query was in flight or the call queued for a read permit and a call slot, which " +
		"`tenantry_bridge_call_queued_duration_seconds` gives; percentiles estimated from the histograms' buckets), and a probe creating bare " +
		"TenantInstances open-loop meanwhile, with the bridge's identity, timed like the calls from when each was due. " +
		"Beside the mean own time, how long all of the bridge's threads ran and how long they were runnable but waited " +
		"for a core over the step, per call (the kernel's `/proc/<pid>/task/*/schedstat`): what a call costs in CPU, " +
		"and how much of the machine's contention the bridge met, in its own time or while its requests were in flight:")
	m.p("")
	var rows [][]string
	for _, s := range c.Steps {
		rows = append(rows, []string{f0(s.Rate), fmt.Sprintf("%.1f / %.1f (%.0f calls)", s.OwnP50Ms, s.OwnP99Ms, s.OwnCalls),
			fmt.Sprintf("%s / %s / %s", f2(s.OwnMeanMs), f2(s.BridgeRunMsPerCall), f2(s.BridgeWaitMsPerCall)), f1(s.RateLimitedP99Ms), f1(s.QueuedP99Ms),
			fmt.Sprintf("%s / %s", f0(s.AckLatency.P50), f0(s.AckLatency.P99)),
			fmt.Sprintf("%s / %s (%d at %.0f/s, %d failed)", f0(s.ProbeCreate.P50), f0(s.ProbeCreate.P99), s.ProbeCreate.Count, s.ProbeRate, s.ProbeErrors),
			fmt.Sprintf("%.2f×", s.AckVsProbe)})
	}
	m.table([]string{"calls/s", "bridge's own time p50/p99 ms", "own mean / bridge threads running / bridge threads waiting for a core, ms per call", "client-side rate limit wait p99 per request ms (part of own)", "queued for a permit and slot p99 ms", "000000 p50/p99 ms", "bare TenantInstance create p50/p99 ms", "ack p99 / create p99"}, rows)
}
