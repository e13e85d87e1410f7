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
	"strings"
	"sync"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/test/e2e/framework"
)

// Messages of controller-runtime's manager and client-go's leader elector that bound a
// process's leadership in its log.
const (
	msgAcquired       = "Successfully acquired lease"
	msgRenewFailed    = "Failed to renew lease"
	msgControllersOff = "Stopping and waiting for caches" // logged once every controller has stopped
	leaseName         = "tenantry-operator.tenantry.io"
)

// replica is one of the two operator replicas: how to start it and every process it has been.
type replica struct {
	name  string
	c     component
	procs []*framework.Process
	// killed maps a process to the moment it was SIGKILLed.
	killed map[*framework.Process]time.Time
}

func (r *replica) current() *framework.Process { return r.procs[len(r.procs)-1] }

// leadership is the interval in which one process may have reconciled as the leader: from the
// moment it acquired the lease until its controllers stopped, its renewal failed, it was
// SIGKILLed, or it exited, whichever came first.
type leadership struct {
	who        string
	start, end time.Time
}

func (r *replica) leaderships() []leadership {
	var out []leadership
	for i, p := range r.procs {
		lines := logLines(p)
		var start, end time.Time
		for _, l := range lines {
			switch {
			case l.Msg == msgAcquired && start.IsZero():
				start = l.TS
			case (l.Msg == msgRenewFailed || l.Msg == msgControllersOff) && !start.IsZero() && end.IsZero():
				end = l.TS
			}
		}
		if start.IsZero() {
			continue
		}
		if k, ok := r.killed[p]; ok && (end.IsZero() || k.Before(end)) {
			end = k
		}
		if exited := p.ExitedAt(); !exited.IsZero() && (end.IsZero() || exited.Before(end)) {
			end = exited
		}
		if end.IsZero() {
			end = time.Now().Add(time.Hour) // still leading
		}
		out = append(out, leadership{who: fmt.Sprintf("%s#%d (pid %d)", r.name, i+1, p.Pid()), start: start, end: end})
	}
	return out
}

// leaderElection runs two operator replicas with leader election and hands leadership over
// leaderRounds times each way: gracefully (SIGTERM: the leader releases the Lease) and
// ungracefully (SIGKILL: the standby waits for the Lease to expire). Two replicas must never lead
// at once — judged from each process's own log and from sampling both processes'
// leader_election_master_status — and the tenants changed meanwhile must converge.
func leaderElection(t *scenarioT) {
	ctx := context.Background()
	rnd := newRNG(cfg.seed ^ 0x6c656164)
	a := &replica{name: "a", c: operator(t, "leader", "a", ""), killed: map[*framework.Process]time.Time{}}
	b := &replica{name: "b", c: operator(t, "leader", "b", ""), killed: map[*framework.Process]time.Time{}}
	a.procs = append(a.procs, a.c.start(t))
	if err := waitLeader(ctx, a.c.metrics, 2*cfg.leaseDuration+30*time.Second); err != nil {
		t.Fatalf("operator a never led: %v", err)
	}
	b.procs = append(b.procs, b.c.start(t))

	// Sample both replicas' view of themselves until the end.
	var mu sync.Mutex
	samples, both := 0, []string{}
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			va, erra := leaderStatus(ctx, a.c.metrics)
			vb, errb := leaderStatus(ctx, b.c.metrics)
			mu.Lock()
			samples++
			if erra == nil && errb == nil && va == 1 && vb == 1 {
				both = append(both, time.Now().Format(time.RFC3339Nano))
			}
			mu.Unlock()
		}
	}()

	// Tenants whose calls keep both replicas' work queues busy across the handovers.
	brc := bridge(t, "leader", "a")
	brc.start(t)
	m := newMarket(brc.url, rnd)
	giveUp := time.Now().Add(cfg.callGiveUp)
	var tenants []*tenant
	var tmu sync.Mutex
	var traffic sync.WaitGroup
	sendSome := func(n int) {
		for range n {
			traffic.Go(func() {
				tmu.Lock()
				var tn *tenant
				if len(tenants) > 0 && rnd.intn(3) > 0 {
					tn = tenants[rnd.intn(len(tenants))]
				}
				tmu.Unlock()
				if tn == nil {
					bought, acked, err := m.buy(ctx, skuSmall, giveUp)
					if err != nil {
						t.Errorf("registering an order: %v", err)
						return
					}
					tmu.Lock()
					tenants = append(tenants, bought)
					tmu.Unlock()
					if !acked {
						return
					}
					tn = bought
				}
				c, err := m.randomOp(tn)
				if err != nil {
					t.Errorf("registering an order: %v", err)
					return
				}
				m.send(ctx, tn, c, giveUp)
			})
		}
	}

	var handovers, takeovers []time.Duration
	leader, standby := a, b
	for round := 1; round <= cfg.leaderRounds; round++ {
		// Graceful: SIGTERM the leader; it stops its controllers and releases the Lease.
		sendSome(5)
		from := leader.current()
		t0 := time.Now()
		if err := from.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		acquired, err := waitAcquired(ctx, standby.current(), 2*cfg.leaseDuration+30*time.Second)
		if err != nil {
			t.Fatalf("round %d: %s never took over after SIGTERM of %s: %v", round, standby.name, leader.name, err)
		}
		handovers = append(handovers, acquired.Sub(t0))
		t.Logf("round %d: graceful handover %s → %s in %s", round, leader.name, standby.name, seconds(acquired.Sub(t0)))
		select {
		case <-from.Exited():
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not exit within 30 s of SIGTERM", leader.name)
		}
		restart(t, leader)
		leader, standby = standby, leader

		// Ungraceful: SIGKILL the leader; the standby takes over once the Lease expires.
		sendSome(5)
		victim := leader.current()
		t1, err := victim.Kill()
		if err != nil {
			t.Fatal(err)
		}
		leader.killed[victim] = t1
		acquired, err = waitAcquired(ctx, standby.current(), 2*cfg.leaseDuration+30*time.Second)
		if err != nil {
			t.Fatalf("round %d: %s never took over after SIGKILL of %s: %v", round, standby.name, leader.name, err)
		}
		takeovers = append(takeovers, acquired.Sub(t1))
		t.Logf("round %d: ungraceful takeover %s → %s in %s", round, leader.name, standby.name, seconds(acquired.Sub(t1)))
		restart(t, leader)
		leader, standby = standby, leader
	}
	traffic.Wait()
	close(stop)
	<-sampled

	// Leaderships from the logs must not overlap.
	all := append(a.leaderships(), b.leaderships()...)
	var overlaps []string
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			x, y := all[i], all[j]
			if x.start.Before(y.end) && y.start.Before(x.end) {
				overlaps = append(overlaps, fmt.Sprintf("%s led %s–%s and %s led %s–%s", x.who, x.start.Format(time.RFC3339Nano),
					x.end.Format(time.RFC3339Nano), y.who, y.start.Format(time.RFC3339Nano), y.end.Format(time.RFC3339Nano)))
			}
		}
	}
	if len(overlaps) > 0 {
		t.Errorf("two active leaders:\n  %s", strings.Join(overlaps, "\n  "))
	}
	if len(both) > 0 {
		t.Errorf("both replicas reported leader_election_master_status 1 at %d of %d samples, first at %s", len(both), samples, both[0])
	}
	if want := 1 + 2*cfg.leaderRounds; len(all) != want {
		t.Errorf("the logs show %d leaderships, want %d (the first and one per handover)", len(all), want)
	}
	lease := &coordinationv1.Lease{}
	if err := admin.Get(ctx, client.ObjectKey{Namespace: framework.Namespace, Name: leaseName}, lease); err != nil {
		t.Errorf("reading the Lease: %v", err)
	}

	_, ok := converge(ctx, t, tenants, cfg.convergeTimeout)
	report(t, "graceful handover (SIGTERM → standby leads)", "%s", durations(handovers))
	report(t, "ungraceful takeover (SIGKILL → standby leads)", "%s", durations(takeovers))
	report(t, "leaderships", "%d from the logs, 0 overlapping; %d metric samples of both replicas, %d with two leaders; Lease transitions %d",
		len(all), samples, len(both), ptrValue(lease.Spec.LeaseTransitions))
	report(t, "calls", "%s", m.statsLine())
	if !ok {
		t.Error("the tenants changed across the handovers did not converge")
	}
}

// restart starts a new process of the replica after its last one exited, and waits until ready.
func restart(t *scenarioT, r *replica) {
	t.Helper()
	p, err := r.current().Restart()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(20 * time.Second) })
	r.procs = append(r.procs, p)
	if err := framework.WaitHTTP(context.Background(), r.c.ready, p, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
}

// leaderStatus reads an operator's leader_election_master_status.
func leaderStatus(ctx context.Context, url string) (float64, error) {
	m, err := framework.Scrape(ctx, scrapeClient, url)
	if err != nil {
		return 0, err
	}
	return m.Sum(metricLeader, map[string]string{"name": leaseName}), nil
}

// waitLeader waits until the operator at metrics url says it leads.
func waitLeader(ctx context.Context, url string, timeout time.Duration) error {
	return wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		v, err := leaderStatus(ctx, url)
		return err == nil && v == 1, nil
	})
}

// waitAcquired waits until p logs that it acquired the Lease and returns when it did, by its log.
func waitAcquired(ctx context.Context, p *framework.Process, timeout time.Duration) (time.Time, error) {
	var at time.Time
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		if !p.Running() {
			return false, fmt.Errorf("%s exited: %w", p.Name, p.Err())
		}
		var ok bool
		at, ok = firstLog(p, msgAcquired)
		return ok, nil
	})
	return at, err
}

func durations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = seconds(d)
	}
	return strings.Join(parts, ", ")
}

func ptrValue[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
