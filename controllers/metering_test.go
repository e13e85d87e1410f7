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

package controllers_test

import (
	"context"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
	"github.com/tenantry/tenantry/internal/metering"
	"github.com/tenantry/tenantry/internal/testenv"
	"github.com/tenantry/tenantry/simulator"
)

const ledgerKey = "usage-test-key"

func meteredPlan(name, sku string, source tenantryv1alpha1.MeteringSource) *tenantryv1alpha1.TenantPlan {
	p := newPlan(name, sku)
	p.Spec.Metering = &tenantryv1alpha1.Metering{Source: source}
	return p
}

func payPerUse(name, sku string, mode tenantryv1alpha1.ChargingMode) *tenantryv1alpha1.TenantInstance {
	ti := newInstance(name, sku)
	ti.Spec.Order.ChargingMode = mode
	return ti
}

// startMetering starts an operator of its own running only the metering controller and pusher
// against the shared API server, as a new operator process would, and returns what stops it
// (waiting until it has stopped). With leaderElect, it pushes only while it holds the lease.
func startMetering(t *testing.T, clk *clocktesting.FakeClock, ledgerURL string, leaderElect bool, opts ...func(*controllers.Metering)) func() {
	t.Helper()
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                        testenv.Scheme(),
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		Controller:                    config.Controller{SkipNameValidation: ptr.To(true)},
		LeaderElection:                leaderElect,
		LeaderElectionID:              "metering-test",
		LeaderElectionNamespace:       "default",
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 ptr.To(3 * time.Second),
		RenewDeadline:                 ptr.To(2 * time.Second),
		RetryPeriod:                   ptr.To(200 * time.Millisecond),
	})
	if err != nil {
		t.Fatal(err)
	}
	m := &controllers.Metering{
		Client: mgr.GetClient(), Clock: clk, Recorder: mgr.GetEventRecorder("tenantry-operator"),
		Push:         &metering.Client{Endpoint: ledgerURL, AccessKey: ledgerKey, Now: clk.Now},
		SyncInterval: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond,
	}
	for _, o := range opts {
		o(m)
	}
	if err := m.SetupWithManager(context.Background(), mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("metering operator: %v", err)
		}
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}

// period is one expected record: its bounds and the hours billed in it.
type period struct{ start, end time.Time }

// activeHours is how much of [p.start, p.end) lies in the active intervals, in hours, rounded
// up to 4 decimals as the plan's default says; "0" when none.
func activeHours(p period, active [][2]time.Time) string {
	total := time.Duration(0)
	for _, a := range active {
		from, to := maxTime(p.start, a[0]), minTime(p.end, a[1])
		if to.After(from) {
			total += to.Sub(from)
		}
	}
	return metering.Round(big.NewRat(total.Milliseconds(), int64(time.Hour/time.Millisecond)), 4, tenantryv1alpha1.RoundUp)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// expectedRecords lists the records due for an instance created at created, whose periods up
// to now have closed, skipping those without usage: "begin end value sn".
func expectedRecords(name string, created, now time.Time, active [][2]time.Time) []string {
	out := []string{}
	for start := created; ; {
		end := metering.PeriodEnd(start, time.Hour)
		if end.After(now) {
			return out
		}
		if v := activeHours(period{start, end}, active); v != "0" {
			out = append(out, fmt.Sprintf("%s %s %s %s", start.UTC().Format(metering.TimeFormat), end.UTC().Format(metering.TimeFormat), v, metering.SN(name, start)))
		}
		start = end
	}
}

func ledgerRecords(ledger *simulator.OrderServer, name string) []string {
	out := []string{}
	for _, r := range ledger.Usage().Records {
		if r.InstanceID == name {
			out = append(out, fmt.Sprintf("%s %s %s %s", r.BeginTime, r.EndTime, r.UsageValue, r.MeteringSN))
		}
	}
	return out
}

// expectReported waits until the ledger holds exactly the records due and the instance's status
// says they were all taken, with the ledger's total as its cumulative usage.
func expectReported(g Gomega, ledger *simulator.OrderServer, name string, want []string) {
	g.Eventually(func(g Gomega) {
		g.Expect(ledgerRecords(ledger, name)).To(Equal(want))
		st := getInstance(g, name).Status.Metering
		g.Expect(st).NotTo(BeNil())
		g.Expect(st.Pending).To(BeEmpty())
		g.Expect(st.Cumulative).To(Equal(ledger.Usage().Billed()[name]))
	}).Should(Succeed())
}

func expectRate(g Gomega, name string, rate int32) {
	g.Eventually(func(g Gomega) {
		st := getInstance(g, name).Status.Metering
		g.Expect(st).NotTo(BeNil())
		g.Expect(st.Rate).To(Equal(rate))
	}).Should(Succeed())
}

// releaseNow deletes an instance and moves the operator's clock past the release's drain, which
// envtest, without a Deployment controller, would otherwise wait out.
func releaseNow(g Gomega, name string) {
	// Timestamps have whole seconds: an instance released in the second it was created had no
	// period to bill.
	created := getInstance(g, name).CreationTimestamp.Time
	g.Eventually(func(g Gomega) { g.Expect(time.Now().Truncate(time.Second).After(created)).To(BeTrue()) }).Should(Succeed())
	g.Expect(k8s.Delete(context.Background(), payPerUse(name, "", ""))).To(Succeed())
	deleted := getInstance(g, name).DeletionTimestamp.Time
	fakeClock.SetTime(deleted.Add(controllers.DefaultReleaseDrainTimeout + time.Second))
	poke(g, name)
}

// setLifecycle records a freeze or an unfreeze as the bridge does, retrying when the operator's
// own writes (its status, the metering accounts) moved the instance on since it was read.
func setLifecycle(g Gomega, name string, l tenantryv1alpha1.Lifecycle, at time.Time) {
	g.Eventually(func(g Gomega) {
		ti := getInstance(g, name)
		ti.Spec.Lifecycle = l
		if ti.Spec.Marketplace == nil {
			ti.Spec.Marketplace = &tenantryv1alpha1.MarketplaceRecord{}
		}
		ti.Spec.Marketplace.LifecycleSetAt = &metav1.MicroTime{Time: at}
		g.Expect(k8s.Update(context.Background(), ti)).To(Succeed())
	}).Should(Succeed())
}

// TestMeteringReportsEveryPeriodExactlyOnce lets hours pass on an injected clock and checks the
// marketplace ledger after each step: every period that ended is reported once, under the
// metering_sn of its start, frozen time is not billed, an answer lost mid-push and a restart,
// then a leader change, add no second record and leave no gap, and a five-hour outage of the
// usage endpoint is caught up.
func TestMeteringReportsEveryPeriodExactlyOnce(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	ledger := simulator.NewOrderServer(simulator.OrderServerConfig{UsageKey: ledgerKey, Now: clk.Now})
	// Answers lost after the ledger took the push, as when the operator dies mid-push.
	var loseAnswers atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if loseAnswers.Load() {
			ledger.ServeHTTP(httptest.NewRecorder(), r)
			http.Error(w, "answer lost", http.StatusBadGateway)
			return
		}
		ledger.ServeHTTP(w, r)
	}))
	defer srv.Close()

	name := "metered-hours"
	create(t, meteredPlan("metered-hours", "METER-HOURS", tenantryv1alpha1.MeteringActiveHours),
		payPerUse(name, "METER-HOURS", tenantryv1alpha1.ChargingOnDemand))
	created := getInstance(g, name).CreationTimestamp.Time
	if clk.Now().Before(created) {
		clk.SetTime(created)
	}
	stop1 := startMetering(t, clk, srv.URL, false)
	g.Eventually(func(g Gomega) {
		st := getInstance(g, name).Status.Metering
		g.Expect(st).NotTo(BeNil())
		g.Expect(st.PeriodStart.Time).To(BeTemporally("==", created))
	}).Should(Succeed())

	// Three hours pass: three periods, the first partial, from the creation.
	active := [][2]time.Time{{created, created.Add(1000 * time.Hour)}}
	clk.Step(3 * time.Hour)
	want := expectedRecords(name, created, clk.Now(), active)
	g.Expect(want).To(HaveLen(3))
	expectReported(g, ledger, name, want)

	// Frozen half an hour later (the call's send time counts, not when the operator saw it),
	// unfrozen two hours after that: the frozen time is not billed, and a period spent frozen
	// is not reported at all.
	clk.Step(30 * time.Minute)
	frozenAt := clk.Now()
	setLifecycle(g, name, tenantryv1alpha1.LifecycleFrozen, frozenAt)
	expectRate(g, name, 0)
	clk.Step(2 * time.Hour)
	unfrozenAt := clk.Now()
	setLifecycle(g, name, tenantryv1alpha1.LifecycleActive, unfrozenAt)
	expectRate(g, name, 1)
	active = [][2]time.Time{{created, frozenAt}, {unfrozenAt, unfrozenAt.Add(1000 * time.Hour)}}
	clk.Step(time.Hour)
	want = expectedRecords(name, created, clk.Now(), active)
	g.Expect(len(want)).To(BeNumerically("<", len(expectedRecords(name, created, clk.Now(), [][2]time.Time{{created, clk.Now()}}))))
	expectReported(g, ledger, name, want)

	// The next push lands but its answer is lost, and the operator dies before it hears back.
	loseAnswers.Store(true)
	pushes := ledger.Usage().Pushes
	clk.Step(time.Hour)
	want = expectedRecords(name, created, clk.Now(), active)
	g.Eventually(func(g Gomega) { g.Expect(ledgerRecords(ledger, name)).To(Equal(want)) }).Should(Succeed())
	g.Expect(ledger.Usage().Pushes).To(BeNumerically(">", pushes))
	stop1()
	g.Expect(getInstance(g, name).Status.Metering.Pending).NotTo(BeEmpty(), "the lost answer left the period unacknowledged")
	loseAnswers.Store(false)

	// A new operator resends the same sn (dropped by the ledger) and acknowledges it; it then
	// hands over to another replica by leader election.
	duplicates := ledger.Usage().Duplicates
	stop2 := startMetering(t, clk, srv.URL, true)
	expectReported(g, ledger, name, want)
	g.Expect(ledger.Usage().Duplicates).To(BeNumerically(">", duplicates))
	startMetering(t, clk, srv.URL, true)
	stop2()
	clk.Step(time.Hour)
	want = expectedRecords(name, created, clk.Now(), active)
	expectReported(g, ledger, name, want)

	// Five hours of outage of the usage endpoint: nothing is lost; once it answers again,
	// every missed period is caught up.
	ledger.SetUsageFailure(simulator.Failure{HTTPStatus: http.StatusServiceUnavailable})
	before := ledgerRecords(ledger, name)
	for range 5 {
		clk.Step(time.Hour)
	}
	g.Eventually(func(g Gomega) {
		g.Expect(getInstance(g, name).Status.Metering.Pending).To(HaveLen(5))
	}).Should(Succeed())
	g.Expect(ledgerRecords(ledger, name)).To(Equal(before))
	g.Eventually(func(g Gomega) {
		g.Expect(gauge(g, "tenantry_metering_backlog_periods")).To(BeNumerically(">=", 5))
		g.Expect(gauge(g, "tenantry_metering_oldest_unreported_seconds")).To(BeNumerically(">=", 4*3600))
	}).Should(Succeed())
	ledger.SetUsageFailure(simulator.Failure{})
	want = expectedRecords(name, created, clk.Now(), active)
	g.Expect(want).To(HaveLen(len(before) + 5))
	expectReported(g, ledger, name, want)
	g.Expect(getInstance(g, name).Status.Metering.ReportedThrough.Time).To(BeTemporally("==", metering.PeriodEnd(clk.Now(), time.Hour).Add(-time.Hour)))
	g.Eventually(func(g Gomega) { g.Expect(gauge(g, "tenantry_metering_backlog_periods")).To(BeZero()) }).Should(Succeed())
}

// gauge reads a metric of the operator's registry.
func gauge(g Gomega, name string) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) > 0 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	g.Expect(name).To(BeEmpty(), "metric not exported")
	return 0
}

// newLedger starts a marketplace simulator taking usage pushes, on a fake clock starting now, and
// stops it when the test ends.
func newLedger(t *testing.T) (*clocktesting.FakeClock, *simulator.OrderServer, *httptest.Server) {
	t.Helper()
	clk := clocktesting.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	ledger := simulator.NewOrderServer(simulator.OrderServerConfig{UsageKey: ledgerKey, Now: clk.Now})
	srv := httptest.NewServer(ledger)
	t.Cleanup(srv.Close)
	return clk, ledger, srv
}

// TestMeteringSourcesReadyReplicasAndPrometheus: ReadyReplicaHours bills the app's ready
// replicas by the hour; the Prometheus source evaluates the plan's query, filled with the
// instance, at each period's end.
func TestMeteringSourcesReadyReplicasAndPrometheus(t *testing.T) {
	g := NewWithT(t)
	clk, ledger, srv := newLedger(t)
	var queries atomic.Value
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		queries.Store(r.Form.Get("query"))
		at, _ := strconv.ParseInt(r.Form.Get("time"), 10, 64)
		// 1.5 requests per minute of the period that ends at the evaluation time.
		_, _ = fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[%d,"%d"]},{"metric":{},"value":[%d,"0.5"]}]}}`,
			at, time.Unix(at, 0).UTC().Hour(), at)
	}))
	defer prom.Close()

	replicas, promName := "metered-replicas", "metered-prom"
	promPlan := meteredPlan("metered-prom", "METER-PROM", tenantryv1alpha1.MeteringPrometheus)
	promPlan.Spec.Metering.Query = `sum(increase(requests_total{namespace="{{.Namespace}}",instance="{{.InstanceID}}"}[{{.Period}}]))`
	create(t, meteredPlan("metered-replicas", "METER-REPLICAS", tenantryv1alpha1.MeteringReadyReplicaHours),
		payPerUse(replicas, "METER-REPLICAS", tenantryv1alpha1.ChargingOnDemand), promPlan,
		payPerUse(promName, "METER-PROM", tenantryv1alpha1.ChargingOnDemandPkg))
	created := getInstance(g, replicas).CreationTimestamp.Time
	promCreated := getInstance(g, promName).CreationTimestamp.Time
	if clk.Now().Before(created) {
		clk.SetTime(created)
	}
	startMetering(t, clk, srv.URL, false, func(m *controllers.Metering) { m.Prometheus = &metering.Prometheus{URL: prom.URL} })
	g.Eventually(func(g Gomega) { rollOut(g, replicas) }).Should(Succeed())
	expectRate(g, replicas, 2)
	rateSince := clk.Now()

	clk.Step(2 * time.Hour)
	var want []string
	for start := created; ; {
		end := metering.PeriodEnd(start, time.Hour)
		if end.After(clk.Now()) {
			break
		}
		v := metering.Round(big.NewRat(2*end.Sub(maxTime(start, rateSince)).Milliseconds(), int64(time.Hour/time.Millisecond)), 4, tenantryv1alpha1.RoundUp)
		want = append(want, fmt.Sprintf("%s %s %s %s", start.UTC().Format(metering.TimeFormat), end.UTC().Format(metering.TimeFormat), v, metering.SN(replicas, start)))
		start = end
	}
	expectReported(g, ledger, replicas, want)

	var wantProm []string
	for start := promCreated; ; {
		end := metering.PeriodEnd(start, time.Hour)
		if end.After(clk.Now()) {
			break
		}
		wantProm = append(wantProm, fmt.Sprintf("%s %s %d.5 %s", start.UTC().Format(metering.TimeFormat), end.UTC().Format(metering.TimeFormat), end.UTC().Hour(), metering.SN(promName, start)))
		start = end
	}
	expectReported(g, ledger, promName, wantProm)
	g.Expect(queries.Load()).To(HavePrefix(`sum(increase(requests_total{namespace="tenant-metered-prom",instance="metered-prom"}[`))
	for _, r := range ledger.Usage().Records {
		if r.InstanceID == promName {
			g.Expect(r.RelatePkgInstance).To(Equal(promName))
		}
	}
}

// directoryMetered is a pay-per-use instance billed by its enabled 联营 users, with a directory
// shard of three users: two enabled ones, one of them authorised to two applications.
func directoryMetered(t *testing.T, name, sku string, mode tenantryv1alpha1.ChargingMode) {
	t.Helper()
	ti := payPerUse(name, sku, mode)
	ti.Spec.Tenant = &tenantryv1alpha1.Tenant{TenantID: "tenant-" + name}
	create(t, meteredPlan(name, sku, tenantryv1alpha1.MeteringDirectoryUsers), ti, &tenantryv1alpha1.TenantDirectory{
		ObjectMeta: metav1.ObjectMeta{Name: tenantryv1alpha1.DirectoryShardName(name, tenantryv1alpha1.DirectoryUsers, 0)},
		Spec: tenantryv1alpha1.TenantDirectorySpec{InstanceName: name, Part: tenantryv1alpha1.DirectoryUsers, TenantID: "tenant-" + name,
			Users: []tenantryv1alpha1.DirectoryUser{
				{AppID: "a", UserName: "alice", Enabled: true},
				{AppID: "b", UserName: "alice", Enabled: true},
				{AppID: "a", UserName: "bob", Enabled: true},
				{AppID: "a", UserName: "carol"},
			}},
	})
}

// TestReleaseFlushesTheLastPartialPeriod: a released ON_DEMAND_PKG instance reports its last,
// partial period (here its enabled directory users, sampled at the release), naming its
// package, before the finalizer lets it go.
func TestReleaseFlushesTheLastPartialPeriod(t *testing.T) {
	g := NewWithT(t)
	clockAtNow(t)
	name := "metered-release"
	directoryMetered(t, name, "METER-RELEASE", tenantryv1alpha1.ChargingOnDemandPkg)
	g.Eventually(func(g Gomega) {
		g.Expect(getInstance(g, name).Finalizers).To(ContainElement(tenantryv1alpha1.Finalizer))
	}).Should(Succeed())
	created := getInstance(g, name).CreationTimestamp.Time
	releaseNow(g, name)
	expectReleased(g, name)
	var recs []simulator.UsageRecord
	for _, r := range releaseLedger.Usage().Records {
		if r.InstanceID == name {
			recs = append(recs, r)
		}
	}
	g.Expect(recs).To(HaveLen(1))
	g.Expect(recs[0].BeginTime).To(Equal(created.UTC().Format(metering.TimeFormat)))
	g.Expect(recs[0].RelatePkgInstance).To(Equal(name))
	g.Expect(recs[0].MeteringSN).To(Equal(metering.SN(name, created)))
	g.Expect(recs[0].UsageValue).To(Equal("2"))
}

// TestReleaseFlushGivesUpAfterItsTimeoutAndSaysWhat: while the marketplace cannot be reached the
// release waits; after the flush timeout it lets go, with a Warning Event naming what it did not
// report.
func TestReleaseFlushGivesUpAfterItsTimeoutAndSaysWhat(t *testing.T) {
	g := NewWithT(t)
	clockAtNow(t)
	releaseLedger.SetUsageFailure(simulator.Failure{HTTPStatus: http.StatusServiceUnavailable})
	t.Cleanup(func() { releaseLedger.SetUsageFailure(simulator.Failure{}) })
	name := "metered-release-down"
	directoryMetered(t, name, "METER-RELEASE-DOWN", tenantryv1alpha1.ChargingOnDemand)
	g.Eventually(func(g Gomega) {
		g.Expect(getInstance(g, name).Finalizers).To(ContainElement(tenantryv1alpha1.Finalizer))
	}).Should(Succeed())
	releaseNow(g, name)
	g.Eventually(func(g Gomega) { finalizeNamespace(g, tenantryv1alpha1.NamespaceName(name)) }).Should(Succeed())
	g.Eventually(func(g Gomega) {
		st := getInstance(g, name).Status.Metering
		g.Expect(st).NotTo(BeNil())
		g.Expect(st.Closed).To(BeTrue())
		g.Expect(st.Pending).To(HaveLen(1))
	}).Should(Succeed())
	g.Consistently(func(g Gomega) {
		g.Expect(getInstance(g, name).Finalizers).To(ContainElement(tenantryv1alpha1.Finalizer))
	}, time.Second).Should(Succeed())

	fakeClock.Step(2 * time.Hour)
	g.Eventually(func(g Gomega) {
		err := k8s.Get(context.Background(), client.ObjectKey{Name: name}, &tenantryv1alpha1.TenantInstance{})
		g.Expect(client.IgnoreNotFound(err)).To(Succeed())
		g.Expect(err).To(HaveOccurred())
	}).Should(Succeed())
	g.Eventually(func(g Gomega) { g.Expect(eventReasons(g, name)).To(ContainElement("UsageNotReported")) }).Should(Succeed())
	for _, r := range releaseLedger.Usage().Records {
		g.Expect(r.InstanceID).NotTo(Equal(name))
	}
}

// refusingAcks refuses the status writes that acknowledge records of one instance (those that
// set reportedThrough); every other write goes through.
type refusingAcks struct {
	client.Client
	name string
}

func (c refusingAcks) Status() client.SubResourceWriter {
	return refusingAckWriter{SubResourceWriter: c.Client.Status(), name: c.name}
}

type refusingAckWriter struct {
	client.SubResourceWriter
	name string
}

func (w refusingAckWriter) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	if ti, ok := obj.(*tenantryv1alpha1.TenantInstance); ok && ti.Name == w.name &&
		ti.Status.Metering != nil && ti.Status.Metering.ReportedThrough != nil {
		return fmt.Errorf("acknowledgement of %s refused by the test", ti.Name)
	}
	return w.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

// An acknowledgement that keeps failing for one instance holds back no other instance's: the
// records of both were taken, the other's are acknowledged, the failing one's stay pending (and
// are resent, dropped by the marketplace by metering_sn).
func TestOneFailingAcknowledgementHoldsBackNoOther(t *testing.T) {
	g := NewWithT(t)
	clk, ledger, srv := newLedger(t)

	// The failing instance sorts first: when acknowledgements were written one after another in
	// name order, its failure ended the round before the other's.
	failing, other := "ack-refused-a", "ack-refused-b"
	create(t, meteredPlan("metered-acks", "METER-ACKS", tenantryv1alpha1.MeteringActiveHours),
		payPerUse(failing, "METER-ACKS", tenantryv1alpha1.ChargingOnDemand),
		payPerUse(other, "METER-ACKS", tenantryv1alpha1.ChargingOnDemand))
	created := map[string]time.Time{}
	for _, name := range []string{failing, other} {
		created[name] = getInstance(g, name).CreationTimestamp.Time
		if clk.Now().Before(created[name]) {
			clk.SetTime(created[name])
		}
	}
	startMetering(t, clk, srv.URL, false, func(m *controllers.Metering) {
		m.Client = refusingAcks{Client: m.Client, name: failing}
	})
	for _, name := range []string{failing, other} {
		g.Eventually(func(g Gomega) { g.Expect(getInstance(g, name).Status.Metering).NotTo(BeNil()) }).Should(Succeed())
	}

	clk.Step(2 * time.Hour)
	forever := func(name string) [][2]time.Time {
		return [][2]time.Time{{created[name], created[name].Add(1000 * time.Hour)}}
	}
	wantOther := expectedRecords(other, created[other], clk.Now(), forever(other))
	g.Expect(wantOther).NotTo(BeEmpty())
	expectReported(g, ledger, other, wantOther)

	wantFailing := expectedRecords(failing, created[failing], clk.Now(), forever(failing))
	g.Eventually(func(g Gomega) {
		g.Expect(ledgerRecords(ledger, failing)).To(Equal(wantFailing))
		g.Expect(ledger.Usage().Duplicates).To(BeNumerically(">", 0), "the unacknowledged records are resent")
	}).Should(Succeed())
	g.Expect(getInstance(g, failing).Status.Metering.Pending).To(HaveLen(len(wantFailing)))
	g.Expect(getInstance(g, failing).Status.Metering.ReportedThrough).To(BeNil())
}
