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
	"strings"
)

// goalUnauthP99Factor bounds how far unauthenticated load may move the signed calls' p99: "must
// not move", read as within this factor of the p99 without load, on a machine the load
// generator shares.
const goalUnauthP99Factor = 2.0

// unauthGoals holds scenario 6 to "signed-call latency must not move": for every loaded step,
// the probe's p99 within goalUnauthP99Factor of the baseline's, and every signed call answered in
// full (none shed).
func unauthGoals(u *UnauthResult) []Goal {
	if u == nil {
		return nil
	}
	base := u.baseline()
	var gs []Goal
	for _, s := range u.Steps {
		if s.Load == loadNone {
			continue
		}
		g := Goal{Scenario: "6", What: fmt.Sprintf("signed-call p99 under %s load from %d clients", s.Load, s.Clients),
			Target: fmt.Sprintf("≤ %.0f× without load; every signed call answered", goalUnauthP99Factor)}
		if base != nil && base.Probe.Count > 0 && s.Probe.Count > 0 {
			g.Measurable = true
			g.Measured = fmt.Sprintf("%.1f ms vs %.1f ms without (%d/%d answered in full); bridge %.2f cores, RSS max %.0f MiB; %d requests refused",
				s.Probe.P99, base.Probe.P99, s.ProbeAcked, s.ProbeSent, s.BridgeCores, s.RSSMaxMiB, s.Refused)
			g.Met = s.Probe.P99 <= goalUnauthP99Factor*base.Probe.P99 && s.ProbeAcked == s.ProbeSent && s.Accepted == 0
			if s.Accepted > 0 {
				g.Note = fmt.Sprintf("%d unauthenticated requests were answered 000000", s.Accepted)
			}
		}
		gs = append(gs, g)
	}
	return gs
}

// renderUnauth writes scenario 6's section.
func renderUnauth(m *md, r *Results) {
	u := r.Unauth
	if u == nil || len(u.Steps) == 0 {
		return
	}
	m.p("## 6. Unauthenticated load")
	m.p("")
	m.p("Clients without the keys send %d-byte JSON bodies, each on a connection of its own and the next request as soon as "+
		"the previous one ended: *unsigned* to the production URL (no signature, timestamp or nonce), or with a *bad "+
		"signature* to a kit URL (fresh timestamp and nonce, a well-formed wrong signature: the costliest request to refuse). "+
		"Meanwhile a probe sends signed %s open-loop at %.0f/s; its latency runs from when a call was due to its answer. "+
		"Each step lasts %s. The bridge runs with `%s`.",
		u.BodyBytes, u.ProbeCall, u.ProbeRate, r.Config.UnauthDuration, strings.Join(u.BridgeArgs, " "))
	m.p("")
	var rows [][]string
	for _, s := range u.Steps {
		load := "none (baseline)"
		if s.Load != loadNone {
			load = fmt.Sprintf("%s × %d", s.Load, s.Clients)
		}
		others := ""
		for _, k := range sortedKeys(s.ProbeOthers) {
			others += fmt.Sprintf(" %s×%d", k, s.ProbeOthers[k])
		}
		answers := []string{}
		for _, k := range sortedKeys(s.Answers) {
			answers = append(answers, fmt.Sprintf("%s×%d", k, s.Answers[k]))
		}
		failures := []string{}
		for _, k := range sortedKeys(s.Failures) {
			failures = append(failures, fmt.Sprintf("%s %.0f", k, s.Failures[k]))
		}
		rows = append(rows, []string{load,
			fmt.Sprintf("%s / %s / %s", f1(s.Probe.P50), f1(s.Probe.P99), f1(s.Probe.Max)),
			fmt.Sprintf("%d/%d%s", s.ProbeAcked, s.ProbeSent, others),
			fmt.Sprintf("%d (%s/s)", s.Requests, f0(s.PerSec)),
			fmt.Sprintf("%d: %s", s.Refused, dash(strings.Join(answers, ", "))),
			fmt.Sprintf("%s / %s", f1(s.LoadLatency.P50), f1(s.LoadLatency.P99)),
			fmt.Sprintf("%.0f; %s", s.Shed, dash(strings.Join(failures, ", "))),
			f2(s.BridgeCores), fmt.Sprintf("%s → %s", f0(s.RSSStartMiB), f0(s.RSSMaxMiB)), cpuCell(s.CPU)})
	}
	m.table([]string{"load", "signed p50/p99/max ms", "signed answered in full", "unauthenticated requests", "refused: answers",
		"refusal p50/p99 ms", "bridge: shed; verification failures", "bridge cores", "bridge RSS MiB (start → max)", "CPU cores"}, rows)
}

// dash stands for an empty cell.
func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
