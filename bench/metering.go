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
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
)

// usageTimeLayout is how a usage record writes its times.
const usageTimeLayout = "20060102T150405Z"

// MeteringResult is scenario 7: what metering costs with many pay-per-use tenants.
type MeteringResult struct {
	Tenants     int      `json:"tenants"`
	PeriodSec   float64  `json:"periodSec"`
	ManagerArgs []string `json:"managerArgs"`
	// Provision is the operator taking the metered tenants to Ready, before their plan is metered.
	Provision *OperatorResult `json:"provision"`
	// AccountingStartSec is from the plan being metered (and the operator restarted with the
	// usage endpoint) until every instance's status has its accounting (to the 5 s it is polled at).
	AccountingStartSec float64 `json:"accountingStartSec"`
	// CatchUpSec is from the same moment until no instance had a record pending: the periods
	// that passed since the instances were created, CatchUpRecords of them, were reported.
	CatchUpSec     float64 `json:"catchUpSec"`
	CatchUpRecords int     `json:"catchUpRecords"`
	// Periods are the periods measured, each from its end to the next period's end.
	Periods []MeteringPeriod `json:"periods"`
	// Ledger is the exactly-once check of what the marketplace simulator took.
	Ledger LedgerCheck `json:"ledger"`
}

// MeteringPeriod is one period: its records pushed and what the operator spent meanwhile (from
// the period's end to the next one's).
type MeteringPeriod struct {
	End time.Time `json:"end"`
	// Records are this period's records the ledger took (one per tenant when complete).
	Records  int  `json:"records"`
	Complete bool `json:"complete"`
	// PushSec is from the period's end until the ledger had every tenant's record of it (until
	// the last one seen when incomplete); PushP50Sec is when it had half of them.
	PushSec    float64 `json:"pushSec"`
	PushP50Sec float64 `json:"pushP50Sec"`
	// Batches are the pushes the ledger answered during the window.
	Batches         int         `json:"batches"`
	WindowSec       float64     `json:"windowSec"`
	Writes          WriteCounts `json:"auditWrites"`
	WritesPerTenant float64     `json:"writesPerTenant"`
	// OperatorCores is the operator's CPU over the window, in cores; OperatorCPUSec in seconds.
	OperatorCores  float64 `json:"operatorCpuCores"`
	OperatorCPUSec float64 `json:"operatorCpuSec"`
}

// LedgerCheck says whether every tenant's periods reached the ledger exactly once.
type LedgerCheck struct {
	Records int `json:"records"`
	// Resends are pushes of a metering_sn the ledger already had (dropped: not a double bill).
	Resends int `json:"resendsDropped"`
	Refused int `json:"refused"`
	// Double are records of a tenant's period (same begin_time) taken more than once under
	// different metering_sn; Overlapping are records whose period overlaps the tenant's previous
	// one; Missing are the tenant periods measured that have no record; Foreign are records of
	// instances that are not the scenario's.
	Double      int      `json:"doubleBilled"`
	Overlapping int      `json:"overlapping"`
	Missing     int      `json:"missing"`
	Foreign     int      `json:"foreign"`
	ExactlyOnce bool     `json:"exactlyOnce"`
	Examples    []string `json:"examples,omitempty"`
}

// checkLedger checks records against tenants and the period ends measured: each tenant has a
// record ending at every one of ends, no period is recorded twice and no two overlap.
func checkLedger(records []simulator.UsageRecord, tenants []string, ends []time.Time) LedgerCheck {
	lc := LedgerCheck{Records: len(records)}
	example := func(format string, args ...any) {
		if len(lc.Examples) < 10 {
			lc.Examples = append(lc.Examples, fmt.Sprintf(format, args...))
		}
	}
	known := make(map[string]bool, len(tenants))
	for _, t := range tenants {
		known[t] = true
	}
	type period struct{ begin, end time.Time }
	byTenant := map[string][]period{}
	for _, r := range records {
		if !known[r.InstanceID] {
			lc.Foreign++
			example("record %s of unknown instance %s", r.MeteringSN, r.InstanceID)
			continue
		}
		b, err1 := time.Parse(usageTimeLayout, r.BeginTime)
		e, err2 := time.Parse(usageTimeLayout, r.EndTime)
		if err1 != nil || err2 != nil {
			lc.Foreign++
			example("record %s of %s has unreadable times %q–%q", r.MeteringSN, r.InstanceID, r.BeginTime, r.EndTime)
			continue
		}
		byTenant[r.InstanceID] = append(byTenant[r.InstanceID], period{b, e})
	}
	for _, t := range tenants {
		ps := byTenant[t]
		sort.Slice(ps, func(i, j int) bool { return ps[i].begin.Before(ps[j].begin) })
		for i := 1; i < len(ps); i++ {
			switch {
			case ps[i].begin.Equal(ps[i-1].begin):
				lc.Double++
				example("%s: period from %s recorded twice", t, ps[i].begin.Format(time.RFC3339))
			case ps[i].begin.Before(ps[i-1].end):
				lc.Overlapping++
				example("%s: period %s–%s overlaps the one before", t, ps[i].begin.Format(time.RFC3339), ps[i].end.Format(time.RFC3339))
			}
		}
		for _, end := range ends {
			if !slices.ContainsFunc(ps, func(p period) bool { return p.end.Equal(end) }) {
				lc.Missing++
				example("%s: no record of the period ending %s", t, end.Format(time.RFC3339))
			}
		}
	}
	lc.ExactlyOnce = lc.Double == 0 && lc.Overlapping == 0 && lc.Missing == 0 && lc.Foreign == 0
	return lc
}

// periodPush is how long after end the ledger had the tenants' records ending at end: the
// record count, the time until the last and until half of them, and whether all n arrived.
// seen is when the harness first saw each metering_sn in the ledger.
func periodPush(records []simulator.UsageRecord, seen map[string]time.Time, end time.Time, n int) (count int, last, half time.Duration, complete bool) {
	stamp := end.UTC().Format(usageTimeLayout)
	var ds []time.Duration
	for _, r := range records {
		if r.EndTime != stamp {
			continue
		}
		if t, ok := seen[r.MeteringSN]; ok {
			ds = append(ds, max(0, t.Sub(end)))
		}
	}
	slices.Sort(ds)
	count = len(ds)
	if count > 0 {
		last = ds[count-1]
		half = ds[(count-1)/2]
	}
	return count, last, half, count >= n && n > 0
}

// ledgerWatch polls the simulator's ledger, noting when each record first appears.
type ledgerWatch struct {
	orders *simulator.OrderServer
	mu     sync.Mutex
	seen   map[string]time.Time
	taken  int
	stopc  chan struct{}
	done   chan struct{}
}

// ledgerPoll is the resolution of push times.
const ledgerPoll = 100 * time.Millisecond

func watchLedger(orders *simulator.OrderServer) *ledgerWatch {
	w := &ledgerWatch{orders: orders, seen: map[string]time.Time{}, stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(ledgerPoll)
		defer t.Stop()
		for {
			w.once()
			select {
			case <-w.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *ledgerWatch) once() {
	l := w.orders.Usage()
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	// The ledger keeps records in the order it took them.
	for _, r := range l.Records[min(w.taken, len(l.Records)):] {
		if _, ok := w.seen[r.MeteringSN]; !ok {
			w.seen[r.MeteringSN] = now
		}
	}
	w.taken = len(l.Records)
}

func (w *ledgerWatch) snapshot() map[string]time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]time.Time, len(w.seen))
	for k, v := range w.seen {
		out[k] = v
	}
	return out
}

func (w *ledgerWatch) stop() { close(w.stopc); <-w.done }

// meteredInstance is a pay-per-use purchase: an ON_DEMAND order line has no period or expiry.
func meteredInstance(name string) *tenantryv1alpha1.TenantInstance {
	ti := benchInstance(name)
	ti.Spec.ExpiresAt = nil
	ti.Spec.Order.ChargingMode = tenantryv1alpha1.ChargingOnDemand
	ti.Spec.Order.PeriodType, ti.Spec.Order.PeriodNumber = "", 0
	return ti
}

// setPlan changes the bench plan as its administrator would.
func (e *env) setPlan(ctx context.Context, change func(*tenantryv1alpha1.TenantPlan)) error {
	var p tenantryv1alpha1.TenantPlan
	if err := e.adminClient.Get(ctx, client.ObjectKey{Name: planName}, &p); err != nil {
		return err
	}
	change(&p)
	return e.adminClient.Update(ctx, &p)
}

// restartManager stops the operator if it runs; the next phase starts it with its flags.
func (e *env) restartManager() {
	if e.manager != nil {
		_ = e.manager.stop(30 * time.Second)
		e.manager = nil
	}
}

// runMetering provisions n metered tenants with the operator pushing usage to the simulator,
// then measures periods whole periods.
func (h *harness) runMetering(ctx context.Context, e *env, n, periods int, period time.Duration) (*MeteringResult, error) {
	res := &MeteringResult{Tenants: n, PeriodSec: period.Seconds()}
	if err := e.startOrders(); err != nil {
		return nil, err
	}
	keyFile := filepath.Join(e.dir, "metering-access-key")
	if err := os.WriteFile(keyFile, []byte(e.keys.access+"\n"), 0o600); err != nil {
		return nil, err
	}
	// The tenants are provisioned before the plan is metered: with the short periods a bench
	// can afford, the accounting of the periods that pass while 10,000 tenants are created
	// (each a write per instance) would be measured as provisioning, which an hourly period
	// does not cost.
	e.restartManager()
	e.newInstance = meteredInstance
	defer func() {
		e.restartManager()
		e.managerFlags, e.newInstance = nil, nil
		if err := e.setPlan(context.WithoutCancel(ctx), func(p *tenantryv1alpha1.TenantPlan) { p.Spec.Metering = nil }); err != nil {
			h.logf("metering: taking the meter off the plan: %v", err)
		}
	}()
	lw := watchLedger(e.orders)
	defer lw.stop()

	prov, err := h.runOperator(ctx, e, "meter", n, 0)
	res.Provision = prov
	if err != nil {
		return res, err
	}
	if !prov.AllReady {
		return res, fmt.Errorf("only %d of %d metered tenants became Ready%s", prov.ReadyCount, n, deadNote(e))
	}
	names := tenantNames("meter", n)

	// Now the plan is metered and the operator pushes: every instance starts its accounting
	// (a status write each) before the first measured period.
	if err := e.setPlan(ctx, func(p *tenantryv1alpha1.TenantPlan) {
		p.Spec.Metering = &tenantryv1alpha1.Metering{Source: tenantryv1alpha1.MeteringActiveHours, Period: &metav1.Duration{Duration: period}}
	}); err != nil {
		return res, fmt.Errorf("adding the meter to the plan: %w", err)
	}
	e.restartManager()
	e.managerFlags = []string{"--metering-url=" + e.ordersURL, "--metering-access-key-file=" + keyFile, "--metering-period=" + period.String()}
	if err := e.ensureManager(ctx); err != nil {
		return res, err
	}
	res.ManagerArgs = e.managerArgs
	// Instances are billed from their creation, so the periods that passed while they were
	// provisioned are accounted and pushed first (a catch-up); the measured periods start at the
	// first boundary after every instance has accounted usage and has nothing left pending.
	started := time.Now()
	sctx, cancelStart := context.WithTimeout(ctx, 30*time.Minute+time.Duration(n)*100*time.Millisecond)
	// A list of every instance is heavy at 10,000 (tens of MB): every 15 s, not to slow what it
	// waits for.
	err = poll(sctx, 15*time.Second, func() (bool, error) {
		list := &tenantryv1alpha1.TenantInstanceList{}
		if err := e.adminClient.List(sctx, list); err != nil {
			return false, nil //nolint:nilerr // a failed list is retried at the next poll
		}
		accounting, settled := 0, 0
		for i := range list.Items {
			if st := list.Items[i].Status.Metering; st != nil {
				accounting++
				if len(st.Pending) == 0 {
					settled++
				}
			}
		}
		if accounting >= n && res.AccountingStartSec == 0 {
			res.AccountingStartSec = time.Since(started).Seconds()
			h.logf("metering: every instance accounts usage %.1fs after the plan was metered", res.AccountingStartSec)
		}
		return accounting >= n && settled >= n, nil
	})
	cancelStart()
	if err != nil {
		return res, fmt.Errorf("waiting for every instance to account usage and report its first periods: %w", err)
	}
	res.CatchUpSec = time.Since(started).Seconds()
	res.CatchUpRecords = len(lw.snapshot())
	h.logf("metering: nothing pending %.1fs after the plan was metered (%d records pushed)", res.CatchUpSec, res.CatchUpRecords)

	// The windows start at period boundaries (periods are aligned to multiples from the epoch).
	type mark struct {
		at     time.Time
		audit  int64
		cpu    cpuMark
		pushes int
	}
	next := time.Now().Truncate(period).Add(period)
	h.logf("metering: %d tenants Ready; measuring %d periods of %s from %s", n, periods, period, next.Format(time.TimeOnly))
	marks := make([]mark, 0, periods+1)
	for k := 0; k <= periods; k++ {
		b := next.Add(time.Duration(k) * period)
		t := time.NewTimer(time.Until(b)) // waits for the period boundary itself
		select {
		case <-ctx.Done():
			t.Stop()
			return res, ctx.Err()
		case <-t.C:
		}
		marks = append(marks, mark{at: b, audit: e.auditOffset(), cpu: e.markCPU(), pushes: e.orders.Usage().Pushes})
		if k > 0 {
			h.logf("metering: period ending %s: %d records so far", marks[k-1].at.Format(time.TimeOnly), len(lw.snapshot()))
		}
	}
	// The last period's records may still be on their way: wait up to one more period.
	lastEnd := marks[periods-1].at
	wctx, cancel := context.WithTimeout(ctx, period)
	_ = poll(wctx, ledgerPoll, func() (bool, error) {
		_, _, _, complete := periodPush(e.orders.Usage().Records, lw.snapshot(), lastEnd, n)
		return complete, nil
	})
	cancel()
	lw.once()
	ledger := e.orders.Usage()
	seen := lw.snapshot()
	ends := make([]time.Time, 0, periods)
	for k := range periods {
		a, b := marks[k], marks[k+1]
		p := MeteringPeriod{End: a.at, WindowSec: b.at.Sub(a.at).Seconds(), Batches: b.pushes - a.pushes}
		var last, half time.Duration
		p.Records, last, half, p.Complete = periodPush(ledger.Records, seen, a.at, n)
		p.PushSec, p.PushP50Sec = last.Seconds(), half.Seconds()
		if p.Writes, err = e.auditWrites(a.audit, b.audit, saUser(managerSA)); err != nil {
			h.logf("reading the audit log: %v", err)
		}
		p.WritesPerTenant = ratio(float64(p.Writes.Total), float64(n))
		p.OperatorCores = cpuSince(a.cpu, b.cpu)["operator"]
		p.OperatorCPUSec = p.OperatorCores * p.WindowSec
		res.Periods = append(res.Periods, p)
		ends = append(ends, a.at)
		h.logf("metering: period ending %s: %d/%d records in %.1fs (p50 %.1fs), %d batches, %d writes (%.2f per tenant), operator %.2f cores",
			a.at.Format(time.TimeOnly), p.Records, n, p.PushSec, p.PushP50Sec, p.Batches, p.Writes.Total, p.WritesPerTenant, p.OperatorCores)
	}
	res.Ledger = checkLedger(ledger.Records, names, ends)
	res.Ledger.Resends, res.Ledger.Refused = ledger.Duplicates, ledger.Refused
	h.logf("metering: ledger: %d records, exactly once: %v (%d double, %d overlapping, %d missing, %d foreign; %d resends dropped)",
		res.Ledger.Records, res.Ledger.ExactlyOnce, res.Ledger.Double, res.Ledger.Overlapping, res.Ledger.Missing, res.Ledger.Foreign, res.Ledger.Resends)
	return res, nil
}
