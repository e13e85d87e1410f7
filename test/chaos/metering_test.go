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

package chaos

import (
	"context"
	"fmt"
	"math/big"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/metering"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/test/e2e/framework"
	"github.com/tenantry/tenantry/test/e2e/framework/suite"
	"github.com/tenantry/tenantry/webhookbridge"
)

// meteringUnderKills buys meterTenants pay-per-use (ON_DEMAND) tenants of a plan metered by
// their active hours, with the period shortened to meterPeriod, and for meterWindow SIGKILLs
// the leader of two operator replicas every meterKillEvery, while the usage endpoint answers
// 503 for meterOutage meterOutages times and meterFreezes tenants are frozen and unfrozen. Then
// the endpoint answers again and every instance's status.metering.pending empties. The
// simulated marketplace's ledger must then hold, for each instance, records that tile its
// accounting from its creation to status.metering.reportedThrough — no overlap, and no gap but
// a period the instance was frozen throughout (nothing accrued: no record) — each named by the
// metering_sn of its (instance, begin), each begin once, and adding up to
// status.metering.cumulative. Resends the ledger dropped are reported, not failed: they are
// what makes a push safe to repeat.
func meteringUnderKills(t *scenarioT) {
	ctx := context.Background()
	rnd := newRNG(cfg.seed ^ 0x6d657465)
	restartDelay := func(int) time.Duration { return rnd.between(100*time.Millisecond, cfg.maxRestartDelay) }
	args := []string{
		"--metering-url=" + components.OrderAPIURL,
		"--metering-access-key-file=" + filepath.Join(components.KeysDir, "access-key"),
		"--metering-period=" + cfg.meterPeriod.String(),
		"--metering-sync-interval=2s",
	}
	replicas := []component{
		operator(t, "metering", "a", "", args...),
		operator(t, "metering", "b", "", args...),
	}
	sups := make([]*framework.Supervisor, len(replicas))
	for i, c := range replicas {
		sups[i] = c.supervise(t, restartDelay)
	}
	br := bridge(t, "metering", "a")
	br.start(t)
	m := newMarket(br.url, rnd)
	start := time.Now()
	giveUp := start.Add(cfg.meterWindow + cfg.callGiveUp)

	// The purchases, all at once.
	tenants := make([]*tenant, cfg.meterTenants)
	var wg sync.WaitGroup
	for i := range tenants {
		wg.Go(func() {
			o, err := orders.RegisterOrder(ctx, simulator.OrderSpec{SKU: skuPayg, OrderType: simulator.OrderTypeNew,
				ChargingMode: simulator.ChargingOnDemand})
			if err != nil {
				t.Errorf("registering an order: %v", err)
				return
			}
			// A pay-per-use purchase names its instance by order and product (docs/protocol.md §6.7).
			id := webhookbridge.PayPerUseInstanceName(o.OrderID, o.Order.OrderLine[0].ProductInfo[0].ProductID)
			tn := &tenant{id: id, order: o, sku: skuPayg}
			if !m.send(ctx, tn, buyCall(tn), giveUp) {
				t.Errorf("the purchase of %s was never acknowledged", tn.id)
				return
			}
			tenants[i] = tn
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// The leader's kills.
	kills := 0
	var lastKill time.Time
	killerDone := make(chan struct{})
	end := start.Add(cfg.meterWindow)
	go func() {
		defer close(killerDone)
		for {
			next := time.Now().Add(rnd.between(cfg.meterKillEvery[0], cfg.meterKillEvery[1]))
			if next.After(end) {
				return
			}
			time.Sleep(time.Until(next))
			leader, err := leaderOf(ctx, replicas, 2*cfg.leaseDuration+30*time.Second)
			if err != nil {
				t.Errorf("finding the leader: %v", err)
				return
			}
			at, err := sups[leader].Kill()
			if err != nil {
				t.Errorf("killing operator %s: %v", replicas[leader].opts.Name, err)
				return
			}
			kills++
			lastKill = at
			t.Logf("SIGKILL %s (the leader) at +%s", replicas[leader].opts.Name, seconds(at.Sub(start)))
		}
	}()

	// The usage endpoint's outages, at random moments of the window.
	outagesDone := make(chan struct{})
	go func() {
		defer close(outagesDone)
		slot := cfg.meterWindow / time.Duration(cfg.meterOutages)
		for i := range cfg.meterOutages {
			from := start.Add(time.Duration(i)*slot + rnd.between(0, max(slot-cfg.meterOutage, 0)))
			time.Sleep(time.Until(from))
			orders.SetUsageFailure(simulator.Failure{HTTPStatus: 503})
			t.Logf("usage endpoint answers 503 from +%s", seconds(time.Since(start)))
			time.Sleep(cfg.meterOutage)
			orders.SetUsageFailure(simulator.Failure{})
			t.Logf("usage endpoint answers again from +%s", seconds(time.Since(start)))
		}
	}()
	t.Cleanup(func() { orders.SetUsageFailure(simulator.Failure{}) })

	// Freezes shorter than a period: every period keeps some active time, and so a record,
	// unless a kill hid the freeze from every operator.
	frozen := map[string][][2]time.Time{}
	var frozenMu sync.Mutex
	for i := range min(cfg.meterFreezes, len(tenants)) {
		tn := tenants[i]
		wg.Go(func() {
			time.Sleep(rnd.between(0, cfg.meterWindow*3/4))
			freeze, unfreeze := freezeCall(), unfreezeCall()
			if !m.send(ctx, tn, freeze, giveUp) {
				t.Errorf("the freeze of %s was never acknowledged", tn.id)
			}
			time.Sleep(rnd.between(cfg.meterPeriod/5, cfg.meterPeriod/3))
			if !m.send(ctx, tn, unfreeze, giveUp) {
				t.Errorf("the unfreeze of %s was never acknowledged", tn.id)
			}
			// The instance may have been frozen from the first send of the freeze to the last
			// send of the unfreeze.
			freeze.mu.Lock()
			from := freeze.attempts[0].sent
			freeze.mu.Unlock()
			unfreeze.mu.Lock()
			to := unfreeze.attempts[len(unfreeze.attempts)-1].sent
			unfreeze.mu.Unlock()
			frozenMu.Lock()
			frozen[tn.id] = append(frozen[tn.id], [2]time.Time{from, to})
			frozenMu.Unlock()
		})
	}
	wg.Wait()
	<-killerDone
	<-outagesDone
	orders.SetUsageFailure(simulator.Failure{})
	faultsEnded := time.Now()

	// Every instance's pending records are taken. The ledger is read between two identical
	// readings of the instances, both with nothing pending: a record pushed before the ledger
	// was read was then pending or acknowledged in the second reading.
	var final map[string]*tenantryv1alpha1.TenantInstance
	var ledger simulator.UsageLedger
	drainErr := wait.PollUntilContextTimeout(ctx, time.Second, cfg.convergeTimeout, true, func(ctx context.Context) (bool, error) {
		a, err := meteredInstances(ctx, tenants)
		if err != nil {
			return false, nil
		}
		l := orders.Usage()
		b, err := meteredInstances(ctx, tenants)
		if err != nil || !settled(a) || !sameAccounting(a, b) {
			return false, nil
		}
		final, ledger = b, l
		return true, nil
	})
	drained := time.Since(faultsEnded)
	if drainErr != nil {
		a, _ := meteredInstances(ctx, tenants)
		for id, ti := range a {
			if st := ti.Status.Metering; st == nil || len(st.Pending) > 0 || st.ReportedThrough == nil {
				t.Errorf("instance %s: usage still unreported %s after the faults ended: %+v", id, cfg.convergeTimeout, st)
			}
		}
		t.FailNow()
	}

	records := map[string][]simulator.UsageRecord{}
	for _, r := range ledger.Records {
		records[r.InstanceID] = append(records[r.InstanceID], r)
	}
	total := 0
	for _, tn := range tenants {
		ti := final[tn.id]
		total += len(records[tn.id])
		for _, e := range checkTiling(ti, records[tn.id], frozen[tn.id]) {
			t.Errorf("instance %s: %s", tn.id, e)
		}
	}
	if ledger.Refused > 0 {
		t.Errorf("the usage endpoint refused %d pushes (a bad signature or an invalid record)", ledger.Refused)
	}
	report(t, "tenants", "%d ON_DEMAND, metered every %s; %d frozen for less than a period", len(tenants), cfg.meterPeriod, len(frozen))
	report(t, "faults", "leader SIGKILLed %d times (last at +%s); restarts %d, %d; usage endpoint down %d times for %s",
		kills, seconds(lastKill.Sub(start)), sups[0].Restarts(), sups[1].Restarts(), cfg.meterOutages, cfg.meterOutage)
	report(t, "ledger", "%d records billed once each, %d resends dropped, %d pushes taken, %d refused",
		total, ledger.Duplicates, ledger.Pushes, ledger.Refused)
	report(t, "reported after the faults ended", "%s", seconds(drained))
	report(t, "calls", "%s", m.statsLine())
}

// leaderOf waits until one of the operator replicas says it leads, and returns its index.
func leaderOf(ctx context.Context, replicas []component, timeout time.Duration) (int, error) {
	leader := -1
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		for i, c := range replicas {
			if v, err := leaderStatus(ctx, c.metrics); err == nil && v == 1 {
				leader = i
				return true, nil
			}
		}
		return false, nil
	})
	return leader, err
}

// meteredInstances reads the tenants' instances.
func meteredInstances(ctx context.Context, tenants []*tenant) (map[string]*tenantryv1alpha1.TenantInstance, error) {
	list := &tenantryv1alpha1.TenantInstanceList{}
	if err := admin.List(ctx, list); err != nil {
		return nil, err
	}
	byName := map[string]*tenantryv1alpha1.TenantInstance{}
	for i := range list.Items {
		byName[list.Items[i].Name] = &list.Items[i]
	}
	out := map[string]*tenantryv1alpha1.TenantInstance{}
	for _, tn := range tenants {
		ti, ok := byName[tn.id]
		if !ok {
			return nil, fmt.Errorf("instance %s not found", tn.id)
		}
		out[tn.id] = ti
	}
	return out, nil
}

// settled reports whether every instance has reported something and has nothing pending.
func settled(instances map[string]*tenantryv1alpha1.TenantInstance) bool {
	for _, ti := range instances {
		st := ti.Status.Metering
		if st == nil || st.ReportedThrough == nil || len(st.Pending) > 0 {
			return false
		}
	}
	return true
}

// sameAccounting reports whether two readings show the same acknowledged usage.
func sameAccounting(a, b map[string]*tenantryv1alpha1.TenantInstance) bool {
	for id, x := range a {
		y, ok := b[id]
		if !ok || x.Status.Metering == nil || y.Status.Metering == nil {
			return false
		}
		sx, sy := x.Status.Metering, y.Status.Metering
		if sx.Cumulative != sy.Cumulative || !sx.ReportedThrough.Equal(sy.ReportedThrough) || len(sy.Pending) > 0 {
			return false
		}
	}
	return true
}

// checkTiling checks an instance's ledger records against its accounting: sorted by begin they
// tile [creation, reportedThrough) with no overlap and no gap except within a time the instance
// may have been frozen; each sn is metering.SN(instance, begin), each begin appears once, each
// value is above zero and at most the period's hours (rounded up), and they add up to
// cumulative.
func checkTiling(ti *tenantryv1alpha1.TenantInstance, records []simulator.UsageRecord, frozen [][2]time.Time) []string {
	var errs []string
	st := ti.Status.Metering
	type rec struct {
		begin, end time.Time
		r          simulator.UsageRecord
	}
	var recs []rec
	total := new(big.Rat)
	seen := map[time.Time]bool{}
	for _, r := range records {
		begin, err1 := time.Parse(metering.TimeFormat, r.BeginTime)
		end, err2 := time.Parse(metering.TimeFormat, r.EndTime)
		if err1 != nil || err2 != nil {
			errs = append(errs, fmt.Sprintf("record %s has unreadable times %s..%s", r.MeteringSN, r.BeginTime, r.EndTime))
			continue
		}
		if seen[begin] {
			errs = append(errs, fmt.Sprintf("two records begin at %s", r.BeginTime))
		}
		seen[begin] = true
		if want := metering.SN(ti.Name, begin); r.MeteringSN != want {
			errs = append(errs, fmt.Sprintf("the record beginning %s has metering_sn %s, want %s", r.BeginTime, r.MeteringSN, want))
		}
		v, ok := new(big.Rat).SetString(r.UsageValue)
		if !ok || v.Sign() <= 0 {
			errs = append(errs, fmt.Sprintf("the record beginning %s has usage %q", r.BeginTime, r.UsageValue))
			continue
		}
		if most := metering.Round(big.NewRat(int64(end.Sub(begin)/time.Second), 3600), metering.DefaultDecimals, tenantryv1alpha1.RoundUp); v.Cmp(mustRat(most)) > 0 {
			errs = append(errs, fmt.Sprintf("the record %s..%s bills %s hours, more than the %s it lasted", r.BeginTime, r.EndTime, r.UsageValue, most))
		}
		total.Add(total, v)
		recs = append(recs, rec{begin: begin, end: end, r: r})
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].begin.Before(recs[j].begin) })
	inFrozen := func(from, to time.Time) bool {
		for _, f := range frozen {
			if !from.Before(f[0].Truncate(time.Second)) && !to.After(f[1].Truncate(time.Second).Add(time.Second)) {
				return true
			}
		}
		return false
	}
	at := ti.CreationTimestamp.UTC().Truncate(time.Second)
	for _, r := range recs {
		switch {
		case !r.end.After(r.begin):
			errs = append(errs, fmt.Sprintf("the record %s..%s is empty", r.r.BeginTime, r.r.EndTime))
		case r.begin.Before(at):
			errs = append(errs, fmt.Sprintf("the record %s..%s overlaps what was billed through %s", r.r.BeginTime, r.r.EndTime, at.Format(metering.TimeFormat)))
		case r.begin.After(at) && !inFrozen(at, r.begin):
			errs = append(errs, fmt.Sprintf("nothing was billed for %s..%s, when the instance was not frozen", at.Format(metering.TimeFormat), r.r.BeginTime))
		}
		if r.end.After(at) {
			at = r.end
		}
	}
	if st.ReportedThrough == nil || !at.Equal(st.ReportedThrough.UTC()) {
		errs = append(errs, fmt.Sprintf("the records end at %s, the status says reported through %v", at.Format(metering.TimeFormat), st.ReportedThrough))
	}
	if cum := mustRat(st.Cumulative); cum.Cmp(total) != 0 {
		errs = append(errs, fmt.Sprintf("the ledger billed %s, status.metering.cumulative is %s", total.FloatString(4), st.Cumulative))
	}
	return errs
}

func mustRat(s string) *big.Rat {
	v, ok := new(big.Rat).SetString(s)
	if !ok {
		return new(big.Rat)
	}
	return v
}

var _ = Describe("The usage ledger check", Label(suite.Unit), func() {
	created := time.Date(2026, 3, 1, 10, 0, 3, 0, time.UTC)
	period := 10 * time.Second
	ti := func(reported time.Time, cumulative string) *tenantryv1alpha1.TenantInstance {
		ti := &tenantryv1alpha1.TenantInstance{}
		ti.Name = "ti-0123456789abcdef0123"
		ti.CreationTimestamp = metav1.Time{Time: created.Add(400 * time.Millisecond)}
		ti.Status.Metering = &tenantryv1alpha1.MeteringStatus{ReportedThrough: &metav1.Time{Time: reported}, Cumulative: cumulative}
		return ti
	}
	rec := func(begin, end time.Time, value string) simulator.UsageRecord {
		return simulator.UsageRecord{InstanceID: "ti-0123456789abcdef0123", BeginTime: begin.Format(metering.TimeFormat),
			EndTime: end.Format(metering.TimeFormat), UsageValue: value, MeteringSN: metering.SN("ti-0123456789abcdef0123", begin)}
	}
	b1 := metering.PeriodEnd(created, period) // 10:00:10
	b2, b3 := b1.Add(period), b1.Add(2*period)
	// A complete ledger: the first partial period, then two whole ones.
	good := []simulator.UsageRecord{rec(created, b1, "0.002"), rec(b1, b2, "0.0028"), rec(b2, b3, "0.0028")}
	frozen := [][2]time.Time{{b1.Add(-500 * time.Millisecond), b2.Add(300 * time.Millisecond)}}

	DescribeTable("finds what is wrong with an instance's records",
		func(records []simulator.UsageRecord, reported time.Time, cumulative string, frozen [][2]time.Time, want []string) {
			errs := checkTiling(ti(reported, cumulative), records, frozen)
			if len(want) == 0 {
				Expect(errs).To(BeEmpty())
				return
			}
			Expect(errs).To(HaveLen(len(want)), "%q", errs)
			for i, w := range want {
				Expect(errs[i]).To(ContainSubstring(w))
			}
		},
		Entry("records tiling the accounting", good, b3, "0.0076", nil, nil),
		Entry("in any order", []simulator.UsageRecord{good[2], good[0], good[1]}, b3, "0.0076", nil, nil),
		Entry("a gap while frozen", []simulator.UsageRecord{good[0], good[2]}, b3, "0.0048", frozen, nil),
		Entry("a gap", []simulator.UsageRecord{good[0], good[2]}, b3, "0.0048", nil, []string{"nothing was billed for"}),
		Entry("the first period missing", good[1:], b3, "0.0056", nil, []string{"nothing was billed for"}),
		Entry("an overlap", append(slices.Clone(good), rec(b1.Add(5*time.Second), b3, "0.0042")), b3, "0.0118", nil,
			[]string{"overlaps what was billed", "overlaps what was billed"}),
		Entry("one begin twice", append(slices.Clone(good), func() simulator.UsageRecord {
			r := rec(b2, b3, "0.0028")
			r.MeteringSN = "tm-other"
			return r
		}()), b3, "0.0104", nil, []string{"two records begin at", "has metering_sn tm-other", "overlaps what was billed"}),
		Entry("a wrong metering_sn", []simulator.UsageRecord{good[0], good[1], func() simulator.UsageRecord {
			r := good[2]
			r.MeteringSN = metering.SN("ti-other", b2)
			return r
		}()}, b3, "0.0076", nil, []string{"has metering_sn"}),
		Entry("more hours than the period lasted", []simulator.UsageRecord{good[0], good[1], rec(b2, b3, "0.0029")}, b3, "0.0077", nil,
			[]string{"more than the 0.0028 it lasted"}),
		Entry("reported through a later time than billed", good, b3.Add(period), "0.0076", nil, []string{"the status says reported through"}),
		Entry("a cumulative the ledger did not bill", good, b3, "0.0104", nil, []string{"status.metering.cumulative is 0.0104"}),
	)
})
