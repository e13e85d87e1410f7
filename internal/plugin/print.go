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

package plugin

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// ANSI colours, used only when writing to a terminal.
const (
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	red    = "\x1b[31m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

// printer writes aligned tables, coloured only on a terminal.
type printer struct {
	out   io.Writer
	color bool
	tw    *tabwriter.Writer
	err   error
}

func newPrinter(out io.Writer, color bool) *printer {
	return &printer{out: out, color: color}
}

func (p *printer) paint(code, s string) string {
	if !p.color || s == "" {
		return s
	}
	return code + s + reset
}

// heading starts a section.
func (p *printer) heading(title string) {
	p.flush()
	p.printf("\n%s\n", p.paint(bold, title))
}

// row writes one table row; the table ends at the next heading or flush.
func (p *printer) row(cells ...string) {
	if p.tw == nil {
		p.tw = tabwriter.NewWriter(p.out, 0, 4, 2, ' ', 0)
	}
	if _, err := fmt.Fprintln(p.tw, strings.Join(cells, "\t")); err != nil && p.err == nil {
		p.err = err
	}
}

func (p *printer) printf(format string, args ...any) {
	p.flush()
	if _, err := fmt.Fprintf(p.out, format, args...); err != nil && p.err == nil {
		p.err = err
	}
}

func (p *printer) flush() {
	if p.tw != nil {
		if err := p.tw.Flush(); err != nil && p.err == nil {
			p.err = err
		}
		p.tw = nil
	}
}

func (p *printer) done() error {
	p.flush()
	return p.err
}

// stateColor colours an instance state.
func (p *printer) state(s string) string {
	switch s {
	case string(tenantryv1alpha1.StateRunning):
		return p.paint(green, s)
	case string(tenantryv1alpha1.StateStalled):
		return p.paint(red, s)
	case string(tenantryv1alpha1.StateFrozen), string(tenantryv1alpha1.StateReleasing), string(tenantryv1alpha1.StateProvisioning):
		return p.paint(yellow, s)
	default:
		return s
	}
}

// states are the columns of the per-SKU table, in lifecycle order.
var states = []string{
	string(tenantryv1alpha1.StateProvisioning), string(tenantryv1alpha1.StateRunning), string(tenantryv1alpha1.StateFrozen),
	string(tenantryv1alpha1.StateStalled), string(tenantryv1alpha1.StateReleasing), stateUnknown,
}

// PrintStatus writes the fleet status as tables.
func PrintStatus(out io.Writer, st FleetStatus, color bool) error {
	p := newPrinter(out, color)
	p.printf("%s %d\n", p.paint(bold, "Tenants:"), st.Instances)
	var parts []string
	for _, s := range states {
		if n := st.ByState[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", p.state(s), n))
		}
	}
	if len(parts) > 0 {
		p.printf("  by state:     %s\n", strings.Join(parts, ", "))
	}
	parts = nil
	for _, l := range sortedKeys(st.ByLifecycle) {
		parts = append(parts, fmt.Sprintf("%s %d", l, st.ByLifecycle[l]))
	}
	if len(parts) > 0 {
		p.printf("  by lifecycle: %s\n", strings.Join(parts, ", "))
	}

	p.heading("SKUs")
	header := []string{"SKU", "PLAN", "TOTAL"}
	for _, s := range states {
		header = append(header, strings.ToUpper(s))
	}
	p.row(header...)
	for _, s := range st.SKUs {
		plan := strings.Join(s.Plans, ",")
		switch {
		case len(s.Plans) == 0:
			plan = p.paint(red, "<none>")
		case len(s.Plans) > 1:
			plan = p.paint(red, plan+" (ambiguous)")
		}
		cells := []string{s.SKU, plan, fmt.Sprint(s.Total)}
		for _, state := range states {
			cells = append(cells, fmt.Sprint(s.ByState[state]))
		}
		p.row(cells...)
	}

	p.heading(fmt.Sprintf("Expiring within %s (%d)", st.ExpiringWithin, len(st.Expiring)))
	if len(st.Expiring) > 0 {
		p.row("INSTANCE", "SKU", "LIFECYCLE", "EXPIRES", "IN")
		for _, e := range st.Expiring {
			in := e.In
			if strings.HasPrefix(in, "-") {
				in = p.paint(red, "expired "+strings.TrimPrefix(in, "-")+" ago")
			}
			p.row(e.Name, e.SKU, e.Lifecycle, e.ExpiresAt.Format(time.RFC3339), in)
		}
	}

	p.heading(fmt.Sprintf("Stalled (%d)", len(st.Stalled)))
	if len(st.Stalled) > 0 {
		p.row("INSTANCE", "SKU", "REASON", "SINCE", "MESSAGE")
		for _, s := range st.Stalled {
			p.row(s.Name, s.SKU, p.paint(red, s.Reason), s.Since.Format(time.RFC3339), s.Message)
		}
	}

	if len(st.Listeners) > 0 {
		p.heading("ELB listeners")
		p.row("POOL", "LISTENER", "TENANTS", "CERTIFICATES", "HEADROOM")
		for _, l := range st.Listeners {
			room := fmt.Sprint(l.Headroom)
			switch {
			case l.Headroom <= 0:
				room = p.paint(red, room)
			case l.Headroom*10 < l.TenantCapacity:
				room = p.paint(yellow, room)
			}
			certs := "-"
			if l.CertificateCapacity > 0 {
				certs = fmt.Sprintf("%d/%d", l.Certificates, l.CertificateCapacity)
			}
			p.row(l.Pool, l.Listener, fmt.Sprintf("%d/%d", l.Tenants, l.TenantCapacity), certs, room)
		}
	}

	if len(st.Releasing) > 0 {
		p.heading(fmt.Sprintf("Releasing (%d)", len(st.Releasing)))
		p.row("INSTANCE", "KEPT UNTIL", "REASON")
		for _, r := range st.Releasing {
			until := "-"
			if r.RetainUntil != nil {
				until = r.RetainUntil.Format(time.RFC3339)
			}
			p.row(r.Name, until, r.Reason)
		}
	}
	return p.done()
}

// PrintStory writes one tenant's story.
func PrintStory(out io.Writer, s InstanceStory, now time.Time, color bool) error {
	p := newPrinter(out, color)
	st := string(s.Status.State)
	if st == "" {
		st = stateUnknown
	}
	p.row("Instance:", p.paint(bold, s.Name))
	p.row("State:", p.state(st))
	p.row("SKU:", fmt.Sprintf("%s × %d (plan %s)", s.Spec.SKU, max(s.Spec.Quantity, 1), orDash(s.Status.Plan)))
	p.row("Lifecycle:", orDash(string(s.Spec.Lifecycle)))
	if s.Spec.ExpiresAt != nil {
		p.row("Expires:", fmt.Sprintf("%s (in %s)", s.Spec.ExpiresAt.UTC().Format(time.RFC3339), HumanDuration(s.Spec.ExpiresAt.Sub(now))))
	}
	p.row("Order:", fmt.Sprintf("%s line %s, %s", s.Spec.Order.OrderID, orDash(s.Spec.Order.OrderLineID), orDash(string(s.Spec.Order.ChargingMode))))
	p.row("Domain:", orDash(string(s.Spec.Domain.Type))+hostSuffix(s.Spec.Domain.Host))
	p.row("Namespace:", orDash(s.Status.Namespace))
	p.row("URL:", orDash(s.Status.URL))
	if s.Status.AdminURL != "" {
		p.row("Admin URL:", s.Status.AdminURL)
	}
	p.row("Replicas:", fmt.Sprintf("%d/%d ready", s.Status.ReadyReplicas, s.Status.Replicas))
	p.row("Created:", s.Created.Format(time.RFC3339))
	if s.Status.ObservedGeneration != s.Generation {
		p.row("Observed:", p.paint(yellow, fmt.Sprintf("generation %d of %d: the operator has not caught up", s.Status.ObservedGeneration, s.Generation)))
	}
	if s.Releasing {
		until := "until its namespace is gone"
		if s.Status.RetainUntil != nil {
			until = "kept until " + s.Status.RetainUntil.UTC().Format(time.RFC3339)
		}
		p.row("Released:", p.paint(yellow, until))
	}
	if pc := s.Spec.PendingChange; pc != nil {
		p.row("Pending change:", fmt.Sprintf("%s × %d from order %s at %s", pc.SKU, max(pc.Quantity, 1), pc.OrderID, pc.EffectiveAt.UTC().Format(time.RFC3339)))
	}
	if t := s.Spec.Tenant; t != nil {
		p.row("Enterprise:", fmt.Sprintf("%s (%d application(s)); directory: %d users, %d departments in %d shard(s)",
			t.TenantID, len(t.Applications), s.Directory.Users, s.Directory.Orgs, s.Directory.Shards))
	}
	if len(s.Hosts) > 0 {
		p.row("Hosts held:", strings.Join(s.Hosts, ", "))
	}
	if m := s.Status.Metering; m != nil {
		usage := fmt.Sprintf("%s reported", orDash(m.Cumulative))
		if m.ReportedThrough != nil {
			usage += " through " + m.ReportedThrough.UTC().Format(time.RFC3339)
		}
		if n := len(m.Pending); n > 0 {
			usage += p.paint(yellow, fmt.Sprintf("; %d period(s) waiting, the oldest from %s", n, m.Pending[0].Start.UTC().Format(time.RFC3339)))
		}
		if m.Closed {
			usage += "; closed at release"
		} else if m.PeriodStart != nil {
			usage += "; open period from " + m.PeriodStart.UTC().Format(time.RFC3339)
		}
		p.row("Usage:", usage)
	}

	p.heading("Conditions")
	p.row("TYPE", "STATUS", "REASON", "SINCE", "MESSAGE")
	for _, c := range s.Status.Conditions {
		status := string(c.Status)
		if (c.Type == tenantryv1alpha1.ConditionReady) == (status == "True") {
			status = p.paint(green, status)
		} else if c.Type == tenantryv1alpha1.ConditionReady || c.Type == tenantryv1alpha1.ConditionStalled {
			status = p.paint(red, status)
		}
		p.row(c.Type, status, c.Reason, c.LastTransitionTime.UTC().Format(time.RFC3339), c.Message)
	}

	p.heading("Marketplace calls")
	if len(s.Calls) == 0 {
		p.printf("none recorded\n")
	} else {
		p.row("AT", "CALL", "ORDER", "NOTE")
		for _, c := range s.Calls {
			what := c.What
			if c.Ignored {
				what = p.paint(yellow, what+" (ignored)")
			}
			p.row(c.At.Format(time.RFC3339), what, orDash(c.Order), c.Note)
		}
	}

	p.heading("Children in " + orDash(s.Status.Namespace))
	if len(s.Children) > 0 {
		p.row("KIND", "NAME", "DETAIL")
		for _, c := range s.Children {
			p.row(c.Kind, c.Name, c.Detail)
		}
	}

	p.heading("Events")
	if len(s.Events) > 0 {
		p.row("AT", "TYPE", "REASON", "FROM", "COUNT", "NOTE")
		for _, e := range s.Events {
			typ := e.Type
			if typ == "Warning" {
				typ = p.paint(yellow, typ)
			}
			p.row(e.At.Format(time.RFC3339), typ, e.Reason, e.From, fmt.Sprint(e.Count), e.Note)
		}
	}
	return p.done()
}

// PrintDiagnosis writes doctor's checks.
func PrintDiagnosis(out io.Writer, d Diagnosis, color bool) error {
	p := newPrinter(out, color)
	p.row("CHECK", "RESULT", "DETAIL")
	for _, c := range d.Checks {
		p.row(c.Name, p.result(c.Result), c.Message)
	}
	p.printf("\n%s %s\n", p.paint(bold, "Overall:"), p.result(d.Result))
	return p.done()
}

func (p *printer) result(r Result) string {
	switch r {
	case ResultOK:
		return p.paint(green, string(r))
	case ResultWarning:
		return p.paint(yellow, string(r))
	default:
		return p.paint(red, string(r))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func hostSuffix(h string) string {
	if h == "" {
		return ""
	}
	return " (" + h + ")"
}
