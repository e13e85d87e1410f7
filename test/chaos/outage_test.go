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
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/test/e2e/framework"
)

// observed is one answered attempt, as the marketplace saw it.
type observed struct {
	t *tenant
	c *call
	a attempt
}

// recorder keeps every attempt a market makes.
type recorder struct {
	mu  sync.Mutex
	all []observed
}

func (r *recorder) observe(t *tenant, c *call, a attempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, observed{t, c, a})
}

// between returns the attempts sent at or after from and answered at or before to.
func (r *recorder) between(from, to time.Time) []observed {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []observed
	for _, o := range r.all {
		if !o.a.sent.Before(from.Truncate(time.Millisecond)) && !o.a.answered.After(to) {
			out = append(out, o)
		}
	}
	return out
}

// sentBetween returns the attempts sent between from and to, whenever they were answered.
func (r *recorder) sentBetween(from, to time.Time) []observed {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []observed
	for _, o := range r.all {
		if !o.a.sent.Before(from.Truncate(time.Millisecond)) && !o.a.sent.After(to) {
			out = append(out, o)
		}
	}
	return out
}

// acksSince counts acknowledgements of attempts sent at or after from.
func (r *recorder) acksSince(from time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, o := range r.all {
		if o.a.code == simulator.ResultSuccess && !o.a.sent.Before(from.Truncate(time.Millisecond)) {
			n++
		}
	}
	return n
}

// firstAckSince is the answer time of the first acknowledgement of an attempt sent at or after from.
func (r *recorder) firstAckSince(from time.Time) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first time.Time
	for _, o := range r.all {
		if o.a.code == simulator.ResultSuccess && !o.a.sent.Before(from.Truncate(time.Millisecond)) &&
			(first.IsZero() || o.a.answered.Before(first)) {
			first = o.a.answered
		}
	}
	return first, !first.IsZero()
}

// traffic sends random calls about tenants at a steady rate, each resent until acknowledged.
type traffic struct {
	stop  chan struct{}
	done  chan struct{}
	sends sync.WaitGroup
}

func startTraffic(ctx context.Context, t *scenarioT, m *market, tenants []*tenant, rate int, giveUp time.Time) *traffic {
	tr := &traffic{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(tr.done)
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for {
			select {
			case <-tr.stop:
				return
			case <-tick.C:
			}
			tn := tenants[m.rnd.intn(len(tenants))]
			c, err := m.randomOp(tn)
			if err != nil {
				t.Errorf("registering an order: %v", err)
				continue
			}
			tr.sends.Go(func() { m.send(ctx, tn, c, giveUp) })
		}
	}()
	return tr
}

// end stops new calls and waits until every call sent has been acknowledged or given up.
func (tr *traffic) end() {
	close(tr.stop)
	<-tr.done
	tr.sends.Wait()
}

// buyAll buys n tenants at once and waits until each purchase is answered.
func buyAll(ctx context.Context, t *scenarioT, m *market, n int, giveUp time.Time) []*tenant {
	t.Helper()
	tenants := make([]*tenant, n)
	var wg sync.WaitGroup
	for i := range tenants {
		sku := skuSmall
		if m.rnd.intn(4) == 0 {
			sku = skuLarge
		}
		wg.Go(func() {
			tn, _, err := m.buy(ctx, sku, giveUp)
			if err != nil {
				t.Errorf("registering an order: %v", err)
				return
			}
			tenants[i] = tn
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return tenants
}

// waitAcks waits until n calls sent at or after from are acknowledged.
func waitAcks(ctx context.Context, r *recorder, from time.Time, n int, timeout time.Duration) error {
	return wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		return r.acksSince(from) >= n, nil
	})
}

// codes counts attempts by answer; transport failures count as "transport".
func codes(obs []observed) map[string]int {
	out := map[string]int{}
	for _, o := range obs {
		switch {
		case o.a.err != nil:
			out["transport"]++
		default:
			out[o.a.code]++
		}
	}
	return out
}

// progress is where kwokctl's output goes: the scenario's log directory.
func progress(t *scenarioT, scenario string) *os.File {
	t.Helper()
	dir := filepath.Join(logDir, scenario)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "kwokctl.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// apiServerOutage stops the API server for `outage` while the marketplace keeps calling.
// The bridge must answer every call 000005 (resend) while nothing can be persisted and
// acknowledge nothing; the operator's leader must exit once its renew deadline has passed
// (docs/operations.md: restart on a lost lease), and be restarted the way a kubelet would; after
// the API server is back, every acknowledged call must be reflected.
func apiServerOutage(t *scenarioT) {
	ctx := context.Background()
	rnd := newRNG(cfg.seed ^ 0x61706973)
	opc := operator(t, "apiserver", "a", "")
	op := opc.supervise(t, backoff)
	br := bridge(t, "apiserver", "a")
	brs := br.supervise(t, backoff)
	m := newMarket(br.url, rnd)
	rec := &recorder{}
	m.observe = rec.observe
	giveUp := time.Now().Add(cfg.outage + cfg.callGiveUp)

	tenants := buyAll(ctx, t, m, cfg.outageTenants, giveUp)
	if _, ok := converge(ctx, t, tenants, cfg.convergeTimeout); !ok {
		t.Fatal("the tenants did not converge before the outage")
	}
	if err := waitLeader(ctx, opc.metrics, time.Minute); err != nil {
		t.Fatalf("the operator does not lead: %v", err)
	}
	leader := op.Current()

	trafficStart := time.Now()
	tr := startTraffic(ctx, t, m, tenants, cfg.outageRate, giveUp)
	if err := waitAcks(ctx, rec, trafficStart, cfg.outageRate, time.Minute); err != nil {
		t.Fatalf("the calls are not acknowledged before the outage: %v", err)
	}

	down, err := cluster.KillComponent(ctx, framework.KubeAPIServer)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kube-apiserver killed; down for %s", cfg.outage)
	time.Sleep(cfg.outage) // the fault: the API server stays down this long
	upStart := time.Now()
	if err := cluster.StartComponents(ctx, progress(t, "apiserver")); err != nil {
		t.Fatal(err)
	}
	upReady := time.Now()
	t.Logf("kube-apiserver ready %s after its restart", seconds(upReady.Sub(upStart)))
	leadsAgain := "never"
	if err := waitLeader(ctx, opc.metrics, cfg.convergeTimeout); err == nil {
		leadsAgain = seconds(time.Since(upReady))
	}
	if err := waitAcks(ctx, rec, upReady, cfg.outageRate, cfg.callGiveUp); err != nil {
		t.Errorf("no calls acknowledged after the API server came back: %v", err)
	}
	tr.end()
	took, ok := converge(ctx, t, tenants, cfg.convergeTimeout)
	convergedAt := time.Now()

	// While the API server was down, every answer must be a retryable 000005.
	during := rec.between(down, upStart)
	byCode := codes(during)
	var acked []string
	for _, o := range during {
		if o.a.err == nil && o.a.code == simulator.ResultSuccess {
			acked = append(acked, fmt.Sprintf("%s %s sent %s", o.t.id, o.c.kind, o.a.sent.Format(time.RFC3339Nano)))
		}
	}
	if len(acked) > 0 {
		t.Errorf("the bridge acknowledged %d calls while the API server was down:\n  %s", len(acked), strings.Join(acked, "\n  "))
	}
	if byCode["transport"] > 0 {
		t.Errorf("%d calls got no answer from the bridge while the API server was down", byCode["transport"])
	}
	if byCode[simulator.ResultInternal] == 0 {
		t.Errorf("no call reached the bridge during the outage (answers: %v)", byCode)
	}
	var maxLatency time.Duration
	for _, o := range during {
		maxLatency = max(maxLatency, o.a.answered.Sub(o.a.sent))
	}

	// The leader exits once it cannot renew its Lease.
	var exit *framework.Exit
	for _, e := range op.Exits() {
		if e.Process == leader {
			exit = &e
			break
		}
	}
	mustExit := cfg.outage > cfg.renewDeadline+2*cfg.retryPeriod+5*time.Second
	switch {
	case exit == nil && mustExit:
		t.Errorf("the leading operator did not exit during a %s outage (renew deadline %s)", cfg.outage, cfg.renewDeadline)
	case exit != nil && exit.At.After(upStart) && mustExit:
		t.Errorf("the leading operator exited only %s after the API server went down, after the outage", seconds(exit.At.Sub(down)))
	case exit != nil:
		if _, ok := firstLog(leader, msgRenewFailed); !ok {
			t.Errorf("the leading operator exited (%v) without logging %q", exit.Err, msgRenewFailed)
		}
		report(t, "leader exit after the API server went down", "%s (renew deadline %s), %v", seconds(exit.At.Sub(down)), cfg.renewDeadline, exit.Err)
	}

	first, _ := rec.firstAckSince(upReady)
	report(t, "outage", "%s; kube-apiserver ready %s after restart", cfg.outage, seconds(upReady.Sub(upStart)))
	report(t, "answers during the outage", "%d × 000005, %d × 000000, %d without answer; slowest %s", byCode[simulator.ResultInternal],
		len(acked), byCode["transport"], seconds(maxLatency))
	report(t, "first acknowledgement after recovery", "%s after the API server was ready", seconds(first.Sub(upReady)))
	report(t, "operator leads again", "%s after the API server was ready; operator restarts %d (bridge %d)", leadsAgain, op.Restarts(), brs.Restarts())
	report(t, "calls", "%s", m.statsLine())
	if ok {
		report(t, "convergence after recovery", "%s (%s after the last call was answered)", seconds(convergedAt.Sub(upReady)), seconds(took))
	}
}

// etcdRestart kills etcd (SIGKILL) etcdRestarts times while the marketplace keeps calling and
// starts it again after a short random delay. Calls the bridge could not persist must be answered
// 000005; whatever it acknowledged, even while etcd was down (reads the API server could serve
// from its cache), must be reflected once everything has converged.
func etcdRestart(t *scenarioT) {
	ctx := context.Background()
	rnd := newRNG(cfg.seed ^ 0x65746364)
	opc := operator(t, "etcd", "a", "")
	op := opc.supervise(t, backoff)
	br := bridge(t, "etcd", "a")
	brs := br.supervise(t, backoff)
	m := newMarket(br.url, rnd)
	rec := &recorder{}
	m.observe = rec.observe
	giveUp := time.Now().Add(time.Duration(cfg.etcdRestarts)*time.Minute + cfg.callGiveUp)

	tenants := buyAll(ctx, t, m, cfg.outageTenants, giveUp)
	if _, ok := converge(ctx, t, tenants, cfg.convergeTimeout); !ok {
		t.Fatal("the tenants did not converge before etcd was restarted")
	}
	tr := startTraffic(ctx, t, m, tenants, cfg.outageRate, giveUp)
	var downtimes []time.Duration
	var windows [][2]time.Time
	retryable, ackedDown, unanswered := 0, 0, 0
	var lastUp time.Time
	for i := 1; i <= cfg.etcdRestarts; i++ {
		if err := waitAcks(ctx, rec, time.Now(), cfg.outageRate, cfg.callGiveUp); err != nil {
			t.Fatalf("the calls are not acknowledged before etcd restart %d: %v", i, err)
		}
		down, err := cluster.KillComponent(ctx, framework.Etcd)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(rnd.between(500*time.Millisecond, 2*time.Second)) // the fault: etcd stays down this long
		if err := cluster.StartComponents(ctx, progress(t, "etcd")); err != nil {
			t.Fatal(err)
		}
		lastUp = time.Now()
		downtimes = append(downtimes, lastUp.Sub(down))
		windows = append(windows, [2]time.Time{down, lastUp})
		t.Logf("etcd restart %d: API server ready again %s after the kill", i, seconds(lastUp.Sub(down)))
	}
	if err := waitAcks(ctx, rec, lastUp, cfg.outageRate, cfg.callGiveUp); err != nil {
		t.Errorf("no calls acknowledged after etcd came back: %v", err)
	}
	tr.end()
	// The outcome of every attempt sent while etcd was down, whenever it was answered.
	for _, w := range windows {
		byCode := codes(rec.sentBetween(w[0], w[1]))
		retryable += byCode[simulator.ResultInternal]
		ackedDown += byCode[simulator.ResultSuccess]
		unanswered += byCode["transport"]
	}
	took, ok := converge(ctx, t, tenants, cfg.convergeTimeout)
	convergedAt := time.Now()
	if err := waitLeader(ctx, opc.metrics, cfg.convergeTimeout); err != nil {
		t.Errorf("no operator leads after the etcd restarts: %v", err)
	}

	report(t, "etcd restarts", "%d; kill → API server ready: %s", cfg.etcdRestarts, durations(downtimes))
	report(t, "calls sent while etcd was down", "%d answered 000005, %d acknowledged (each reflected in the end), %d without answer", retryable, ackedDown, unanswered)
	report(t, "operator restarts", "%d (bridge %d)", op.Restarts(), brs.Restarts())
	report(t, "calls", "%s", m.statsLine())
	if ok {
		report(t, "convergence after the last restart", "%s (%s after the last call was answered)", seconds(convergedAt.Sub(lastUp)), seconds(took))
	}
}
