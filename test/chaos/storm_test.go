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
	"sync"
	"time"

	"github.com/tenantry/tenantry/test/e2e/framework"
)

// conflictStorm changes the specs of stormTenants tenants through the bridge at stormRate
// calls per second for stormDuration while the operator writes their status: the bridge's
// optimistic-concurrency updates and the operator's status writes collide on the same objects.
// Every tenant must end at the state of the newest acknowledged call about it, and the operator's
// reconcile errors must stop once the storm is over.
func conflictStorm(t *scenarioT) {
	ctx := context.Background()
	rnd := newRNG(cfg.seed ^ 0x73746f72)
	opc := operator(t, "storm", "a", "")
	opc.start(t)
	brc := bridge(t, "storm", "a")
	brc.start(t)
	m := newMarket(brc.url, rnd)
	giveUp := time.Now().Add(cfg.stormDuration + cfg.callGiveUp)

	tenants := buyAll(ctx, t, m, cfg.stormTenants, giveUp)
	if _, ok := converge(ctx, t, tenants, cfg.convergeTimeout); !ok {
		t.Fatal("the tenants did not converge before the storm")
	}
	if err := waitLeader(ctx, opc.metrics, time.Minute); err != nil {
		t.Fatalf("the operator does not lead: %v", err)
	}
	opBefore, err := framework.Scrape(ctx, scrapeClient, opc.metrics)
	if err != nil {
		t.Fatal(err)
	}
	brBefore, err := framework.Scrape(ctx, scrapeClient, brc.metrics)
	if err != nil {
		t.Fatal(err)
	}

	// The operator's reconcile errors, sampled every second from the start of the storm.
	type errSample struct {
		at     time.Time
		errors float64
	}
	var mu sync.Mutex
	errSamples := []errSample{{time.Now(), opBefore.Sum(metricReconcileErrors, tenantController)}}
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if om, err := framework.Scrape(ctx, scrapeClient, opc.metrics); err == nil {
				mu.Lock()
				errSamples = append(errSamples, errSample{time.Now(), om.Sum(metricReconcileErrors, tenantController)})
				mu.Unlock()
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(time.Second):
			}
		}
	}()

	start := time.Now()
	tr := startTraffic(ctx, t, m, tenants, cfg.stormRate, giveUp)
	time.Sleep(cfg.stormDuration) // the fault: the storm lasts this long
	stormEnd := time.Now()
	sent := m.stats.calls.Load()
	tr.end()
	answered := time.Now()
	took, ok := converge(ctx, t, tenants, cfg.convergeTimeout)

	// Errors must stop: the counter holds still for quietFor after everything has converged.
	const quietFor = 10 * time.Second
	lastIncrease := func() (time.Time, time.Time) {
		mu.Lock()
		defer mu.Unlock()
		at := errSamples[0].at
		for i := 1; i < len(errSamples); i++ {
			if errSamples[i].errors > errSamples[i-1].errors {
				at = errSamples[i].at
			}
		}
		return at, errSamples[len(errSamples)-1].at
	}
	settled := time.Now()
	quietSince, lastSample := lastIncrease()
	for lastSample.Sub(quietSince) < quietFor || lastSample.Sub(settled) < quietFor {
		if time.Since(settled) > cfg.convergeTimeout {
			break
		}
		time.Sleep(time.Second)
		quietSince, lastSample = lastIncrease()
	}
	quiet := lastSample.Sub(quietSince) >= quietFor
	close(stopSampling)
	<-sampled
	mu.Lock()
	first, last := errSamples[0], errSamples[len(errSamples)-1]
	maxPerSecond := 0.0
	for i := 1; i < len(errSamples); i++ {
		maxPerSecond = max(maxPerSecond, errSamples[i].errors-errSamples[i-1].errors)
	}
	mu.Unlock()

	opAfter, err := framework.Scrape(ctx, scrapeClient, opc.metrics)
	if err != nil {
		t.Fatal(err)
	}
	brAfter, err := framework.Scrape(ctx, scrapeClient, brc.metrics)
	if err != nil {
		t.Fatal(err)
	}
	delta := func(after, before framework.Metrics, name string, match map[string]string) float64 {
		return after.Sum(name, match) - before.Sum(name, match)
	}
	puts := delta(brAfter, brBefore, metricRESTRequests, map[string]string{"method": "PUT"})
	conflicts := delta(brAfter, brBefore, metricRESTRequests, map[string]string{"method": "PUT", "code": "409"})
	patches := delta(opAfter, opBefore, metricRESTRequests, map[string]string{"method": "PATCH"})
	opConflicts := delta(opAfter, opBefore, metricRESTRequests, map[string]string{"code": "409"})
	reconciles := delta(opAfter, opBefore, metricReconciles, tenantController)
	ignored := delta(brAfter, brBefore, metricBridgeIgnored, nil)

	report(t, "storm", "%d tenants, %d calls in %s (%.1f/s), all answered %s after the storm",
		len(tenants), sent, seconds(stormEnd.Sub(start)), float64(sent)/stormEnd.Sub(start).Seconds(), seconds(answered.Sub(stormEnd)))
	report(t, "calls", "%s", m.statsLine())
	report(t, "bridge writes", "%.0f TenantInstance updates, %.0f of them conflicts (409) retried; %.0f calls ignored as out of order", puts, conflicts, ignored)
	report(t, "operator", "%.0f reconciles, %.0f PATCH requests (status and applies), %.0f conflicts", reconciles, patches, opConflicts)
	report(t, "reconcile errors", "%.0f during and after the storm (at most %.0f/s)", last.errors-first.errors, maxPerSecond)
	if ok {
		report(t, "convergence after the storm", "%s after the last call was answered", seconds(took))
	}
	if quiet {
		report(t, "reconcile errors back to 0/s", "from +%s after the storm (no error since)", seconds(max(0, quietSince.Sub(stormEnd))))
	} else {
		t.Errorf("the operator's reconcile errors never stopped growing after the storm (%.0f in all)", last.errors-first.errors)
	}
	if u := unexpectedAnswers(tenants); len(u) > 0 {
		t.Errorf("%d calls were answered with codes the marketplace would not resend: %v", len(u), u)
	}
}
