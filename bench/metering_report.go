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
	"sort"
	"strings"
	"time"
)

// perTenantCell is writes by verb and resource divided by the tenants: "update
// tenantinstances/status 2.00, ...", most first.
func perTenantCell(w WriteCounts, tenants int) string {
	if tenants <= 0 || len(w.Kinds) == 0 {
		return "none"
	}
	keys := sortedKeys(w.Kinds)
	sort.SliceStable(keys, func(i, j int) bool { return w.Kinds[keys[i]] > w.Kinds[keys[j]] })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, float64(w.Kinds[k])/float64(tenants)))
	}
	return strings.Join(parts, ", ")
}

// renderMetering writes scenario 7's section.
func renderMetering(m *md, r *Results) {
	mr := r.Metering
	if mr == nil {
		return
	}
	m.p("## 7. Usage metering")
	m.p("")
	m.p("%d pay-per-use (`ON_DEMAND`) tenants of a plan metered by `ActiveHours`, the operator run with `%s` and pushing to the "+
		"simulator's usage endpoint. Each row is one period: from its end to the next period's end, the operator's API writes "+
		"(audit log, leases aside), its CPU, and the pushes (batches) the simulator answered; *push time* runs from the period's "+
		"end until the simulator's ledger held every tenant's record of it (polled every %s; p50: half of them). No goal is set: "+
		"these are figures.", mr.Tenants, strings.Join(meteringFlags(mr.ManagerArgs), " "), ledgerPoll)
	m.p("")
	if p := mr.Provision; p != nil {
		m.p("Provisioning the metered tenants (before their plan was metered): %d of %d Ready in %.1f s. "+
			"After the meter was added to the plan and the operator restarted with the usage endpoint, every instance "+
			"accounted usage in %.1f s; the periods since their creation (instances are billed from then), %d records, "+
			"were reported and nothing was pending after %.1f s. The periods below start at the next boundary.",
			p.ReadyCount, p.Tenants, p.ElapsedSec, mr.AccountingStartSec, mr.CatchUpRecords, mr.CatchUpSec)
		m.p("")
	}
	var rows [][]string
	for _, p := range mr.Periods {
		push := fmt.Sprintf("%.1f s (p50 %.1f s)", p.PushSec, p.PushP50Sec)
		if !p.Complete {
			push = "incomplete: last seen after " + push
		}
		rows = append(rows, []string{p.End.UTC().Format(time.TimeOnly), fmt.Sprintf("%d / %d", p.Records, mr.Tenants), push,
			fmt.Sprint(p.Batches), fmt.Sprintf("%d (%.2f per tenant)", p.Writes.Total, p.WritesPerTenant), perTenantCell(p.Writes, mr.Tenants),
			fmt.Sprintf("%.3f cores (%.1f s)", p.OperatorCores, p.OperatorCPUSec)})
	}
	m.table([]string{"period end (UTC)", "records", "push time", "batches", "writes", "writes per tenant by verb and resource", "operator CPU"}, rows)
	l := mr.Ledger
	verdict := "**yes**"
	if !l.ExactlyOnce {
		verdict = "**no**"
	}
	m.p("Exactly once on the ledger (every tenant's periods measured present once, none overlapping): %s — %d records; "+
		"%d periods recorded twice, %d overlapping, %d missing, %d of other instances; %d resends dropped by metering_sn, %d pushes refused.",
		verdict, l.Records, l.Double, l.Overlapping, l.Missing, l.Foreign, l.Resends, l.Refused)
	for _, e := range l.Examples {
		m.p("- %s", e)
	}
	m.p("")
}

// meteringFlags are the operator's metering flags among its arguments.
func meteringFlags(args []string) []string {
	var out []string
	for _, a := range args {
		if strings.HasPrefix(a, "--metering-") && !strings.HasPrefix(a, "--metering-access-key-file") {
			out = append(out, a)
		}
	}
	return out
}

// renderRollout writes scenario 8's section.
func renderRollout(m *md, r *Results) {
	rr := r.Rollout
	if rr == nil {
		return
	}
	m.p("## 8. Plan rollout")
	m.p("")
	m.p("%d tenants of one plan, Ready on kwok; the plan's `spec.app.image` is changed, once per strategy. *Time* runs from the "+
		"plan's change until its `status.rollout.phase` is `Complete` with every tenant Ready on the new revision; writes are the "+
		"operator's in that time (audit log, leases aside). No goal is set: these are figures.", rr.Tenants)
	m.p("")
	var rows [][]string
	for _, run := range rr.Runs {
		t := fmt.Sprintf("%.1f s", run.Sec)
		if !run.Complete {
			t = fmt.Sprintf("not complete after %.1f s (%d updated, %d Ready, %d failed)", run.Sec, run.Updated, run.Ready, run.Failed)
		}
		rows = append(rows, []string{run.Strategy, run.Settings, t, phasesCell(run.Phases),
			fmt.Sprintf("%d (%.2f per tenant)", run.Writes.Total, run.WritesPerTenant), perTenantCell(run.Writes, rr.Tenants), cpuCell(run.CPU)})
	}
	m.table([]string{"strategy", "settings", "time", "phases (first seen)", "writes", "writes per tenant by verb and resource", "CPU (cores)"}, rows)
}

// phasesCell is "Canary 0.3 s, Waves 1 2.0 s, ...".
func phasesCell(ps []PhaseMark) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		name := p.Phase
		if p.Wave > 0 {
			name += fmt.Sprintf(" %d", p.Wave)
		}
		parts = append(parts, fmt.Sprintf("%s %.1f s", name, p.AtSec))
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, ", ")
}
