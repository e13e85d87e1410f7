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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
)

// TransitionResult is one lifecycle transition measured over every tenant.
type TransitionResult struct {
	What      string  `json:"what"`
	Tenants   int     `json:"tenants"`
	Completed int     `json:"completed"`
	Latency   Latency `json:"latency"`
	// CallLatency is the bridge's acknowledgement of the call that started the transition.
	CallLatency Latency `json:"callLatency"`
	Resends     int     `json:"resends"`
	ElapsedSec  float64 `json:"elapsedSec"`
	// Milestones are other moments of the same transition, timed from the same call: they tell
	// the operator's share (its write) from the rest (the Deployment controller, the pods, the
	// namespace controller).
	Milestones []MilestoneResult  `json:"milestones,omitempty"`
	CPU        map[string]float64 `json:"cpuCores"`
}

// MilestoneResult is one milestone of a transition.
type MilestoneResult struct {
	What      string  `json:"what"`
	Completed int     `json:"completed"`
	Latency   Latency `json:"latency"`
}

// milestone is a moment of a transition: fn names the tenant an event shows at that moment.
type milestone struct {
	what string
	fn   func(ev watchEvent) (string, bool)
}

// LifecycleResult is scenario 4.
type LifecycleResult struct {
	Tenants     int              `json:"tenants"`
	PacePerSec  float64          `json:"pacePerSec"`
	BackgroundN int              `json:"backgroundTenants"`
	Buy         TransitionResult `json:"buy"`
	Freeze      TransitionResult `json:"freeze"`
	Unfreeze    TransitionResult `json:"unfreeze"`
	Release     TransitionResult `json:"release"`
}

// transition sends call for every tenant at pace per second, resending (as the marketplace
// does) anything not answered 000000, and measures from the first send until done reports the
// tenant's transition complete.
func (h *harness) transition(ctx context.Context, e *env, what string, ids []string, pace float64,
	call func(ctx context.Context, id string) (*simulator.Answer, error),
	done func(ev watchEvent) (string, bool),
	milestones ...milestone,
) TransitionResult {
	res := TransitionResult{What: what, Tenants: len(ids)}
	comp := newCompletions(ids)
	mcomp := make([]*completions, len(milestones))
	for i := range mcomp {
		mcomp[i] = newCompletions(ids)
	}
	var mu sync.Mutex
	sent := make(map[string]time.Time, len(ids))
	after := func(id string, at time.Time) bool {
		mu.Lock()
		defer mu.Unlock()
		t0, sentYet := sent[id]
		// Only what happens after the call was sent counts; an earlier event is the old state.
		return sentYet && !at.Before(t0)
	}
	unwatch := e.watch.handle(func(ev watchEvent) {
		if id, ok := done(ev); ok && after(id, ev.at) {
			comp.mark(id, ev.at)
		}
		for i, m := range milestones {
			if id, ok := m.fn(ev); ok && after(id, ev.at) {
				mcomp[i].mark(id, ev.at)
			}
		}
	})
	defer unwatch()

	var (
		wg      sync.WaitGroup
		calls   []time.Duration
		resends atomic.Int64
	)
	interval := time.Duration(float64(time.Second) / pace)
	cpu0 := e.markCPU()
	start := time.Now()
	for i, id := range ids {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d) // pacing of the load, not a wait for a condition
			select {
			case <-ctx.Done():
				t.Stop()
				return res
			case <-t.C:
			}
		}
		mu.Lock()
		sent[id] = time.Now()
		mu.Unlock()
		wg.Go(func() {
			// Resend what is not answered 000000, backing off as the marketplace does (more
			// gently: it waits minutes), so that resends do not become a load of their own.
			backoff := time.Second
			deadline := time.Now().Add(h.readyTimeout(len(ids)))
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				a, err := call(ctx, id)
				if err == nil && a.ResultCode == simulator.ResultSuccess {
					mu.Lock()
					calls = append(calls, time.Since(t0))
					mu.Unlock()
					return
				}
				resends.Add(1)
				time.Sleep(backoff) // the resend interval, not a measurement
				backoff = min(2*backoff, 16*time.Second)
			}
		})
	}
	wg.Wait()
	wctx, cancel := context.WithTimeout(ctx, h.readyTimeout(len(ids)))
	defer cancel()
	if err := comp.wait(wctx); err != nil {
		h.logf("lifecycle: %s: %v%s", what, err, deadNote(e))
	}
	res.CPU = cpuSince(cpu0, e.markCPU())
	times := comp.times()
	lat := make([]time.Duration, 0, len(times))
	var last time.Time
	mu.Lock()
	for id, t := range times {
		lat = append(lat, t.Sub(sent[id]))
		if t.After(last) {
			last = t
		}
	}
	for i, m := range milestones {
		var ml []time.Duration
		for id, t := range mcomp[i].times() {
			ml = append(ml, t.Sub(sent[id]))
		}
		res.Milestones = append(res.Milestones, MilestoneResult{What: m.what, Completed: len(ml), Latency: summarize(ml)})
	}
	mu.Unlock()
	res.Completed = len(times)
	res.Latency = summarize(lat)
	res.CallLatency = summarize(calls)
	res.Resends = int(resends.Load())
	if !last.IsZero() {
		res.ElapsedSec = last.Sub(start).Seconds()
	}
	h.logf("lifecycle: %s: %d of %d done, p50 %.0f ms, p99 %.0f ms (calls p99 %.0f ms, %d resends)",
		what, res.Completed, res.Tenants, res.Latency.P50, res.Latency.P99, res.CallLatency.P99, res.Resends)
	return res
}

// runLifecycle buys tenants through the bridge, then freezes, unfreezes and releases each.
func (h *harness) runLifecycle(ctx context.Context, e *env, n int, background int) (*LifecycleResult, error) {
	if err := e.ensureStack(ctx); err != nil {
		return nil, err
	}
	market, err := e.marketClient(20 * time.Second)
	if err != nil {
		return nil, err
	}
	pace := h.cfg.LifecyclePace
	res := &LifecycleResult{Tenants: n, PacePerSec: pace, BackgroundN: background}
	orders := map[string][2]string{}
	ids := make([]string, n)
	for i := range ids {
		o := e.orders.CreateOrder(simulator.OrderSpec{SKU: planSKU, CustomerName: "Bench Co"})
		line := o.OrderLine[0].OrderLineID
		ids[i] = webhookbridge.InstanceName(o.OrderID, line)
		orders[ids[i]] = [2]string{o.OrderID, line}
	}
	tenantOf := func(namespace string) string { return strings.TrimPrefix(namespace, tenantryv1alpha1.NamespacePrefix) }

	res.Buy = h.transition(ctx, e, "buy → Ready", ids, pace,
		func(ctx context.Context, id string) (*simulator.Answer, error) {
			return market.Buy(ctx, orders[id][0], orders[id][1], false)
		},
		func(ev watchEvent) (string, bool) {
			ti, ok := ev.obj.(*tenantryv1alpha1.TenantInstance)
			return nameOf(ti), ok && !ev.deleted && tiReady(ti) && ti.Status.State == tenantryv1alpha1.StateRunning
		})
	if res.Buy.Completed < n {
		return res, fmt.Errorf("only %d of %d tenants bought became Ready", res.Buy.Completed, n)
	}
	app := func(ev watchEvent) (*appsv1.Deployment, bool) {
		d, ok := ev.obj.(*appsv1.Deployment)
		return d, ok && !ev.deleted && d.Name == controllers.AppName
	}
	res.Freeze = h.transition(ctx, e, "freeze → Deployment at 0 replicas", ids, pace,
		func(ctx context.Context, id string) (*simulator.Answer, error) { return market.Freeze(ctx, id) },
		func(ev watchEvent) (string, bool) {
			d, ok := app(ev)
			return tenantOf(nameSpace(d)), ok && deploymentAtZero(d)
		},
		milestone{"the operator's write (spec.replicas 0)", func(ev watchEvent) (string, bool) {
			d, ok := app(ev)
			return tenantOf(nameSpace(d)), ok && d.Spec.Replicas != nil && *d.Spec.Replicas == 0
		}},
		milestone{"no pod left", func(ev watchEvent) (string, bool) {
			d, ok := app(ev)
			return tenantOf(nameSpace(d)), ok && deploymentScaledToZero(d)
		}})
	res.Unfreeze = h.transition(ctx, e, "unfreeze → Ready", ids, pace,
		func(ctx context.Context, id string) (*simulator.Answer, error) { return market.Unfreeze(ctx, id) },
		func(ev watchEvent) (string, bool) {
			ti, ok := ev.obj.(*tenantryv1alpha1.TenantInstance)
			return nameOf(ti), ok && !ev.deleted && ti.Spec.Lifecycle != tenantryv1alpha1.LifecycleFrozen &&
				tiReady(ti) && ti.Status.State == tenantryv1alpha1.StateRunning
		},
		milestone{"the operator's write (replicas back)", func(ev watchEvent) (string, bool) {
			d, ok := app(ev)
			return tenantOf(nameSpace(d)), ok && d.Spec.Replicas != nil && *d.Spec.Replicas > 0
		}})
	res.Release = h.transition(ctx, e, "release → namespace gone", ids, pace,
		func(ctx context.Context, id string) (*simulator.Answer, error) { return market.Release(ctx, id) },
		func(ev watchEvent) (string, bool) {
			n, ok := ev.obj.(*corev1.Namespace)
			if !ok || !ev.deleted {
				return "", false
			}
			return tenantOf(n.Name), true
		},
		milestone{"the operator's delete (namespace terminating)", func(ev watchEvent) (string, bool) {
			n, ok := ev.obj.(*corev1.Namespace)
			if !ok || ev.deleted || n.DeletionTimestamp.IsZero() {
				return "", false
			}
			return tenantOf(n.Name), true
		}})
	return res, nil
}

func nameSpace(d *appsv1.Deployment) string {
	if d == nil {
		return ""
	}
	return d.Namespace
}

func nameOf(ti *tenantryv1alpha1.TenantInstance) string {
	if ti == nil {
		return ""
	}
	return ti.Name
}
