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
	"sort"
	"sync"
	"time"

	"github.com/tenantry/tenantry/test/e2e/framework"
)

// killsDuringBurst buys burstTenants tenants over burstWindow, sends each a few renewals,
// freezes, unfreezes and upgrades (some at once), releases some of them, and meanwhile SIGKILLs
// the operator operatorKills times and the bridge bridgeKills times at random moments, restarting
// each after a random delay. At the end every acknowledged call must be reflected in the
// cluster, no tenant or child object may exist twice, and nothing of a released tenant may remain.
func killsDuringBurst(t *scenarioT) {
	ctx := context.Background()
	rnd := newRNG(cfg.seed ^ 0x6b696c6c)
	restartDelay := func(int) time.Duration { return rnd.between(100*time.Millisecond, cfg.maxRestartDelay) }
	op := operator(t, "kills", "a", "").supervise(t, restartDelay)
	br := bridge(t, "kills", "a")
	brs := br.supervise(t, restartDelay)
	m := newMarket(br.url, rnd)

	// The kills: which process, at which moment of the burst window.
	type kill struct {
		target string
		sup    *framework.Supervisor
		offset time.Duration
		at     time.Time
	}
	kills := make([]*kill, 0, cfg.operatorKills+cfg.bridgeKills)
	for i := 0; i < cfg.operatorKills; i++ {
		kills = append(kills, &kill{target: "operator", sup: op})
	}
	for i := 0; i < cfg.bridgeKills; i++ {
		kills = append(kills, &kill{target: "bridge", sup: brs})
	}
	for _, k := range kills {
		k.offset = rnd.between(cfg.burstWindow/20, cfg.burstWindow*19/20)
	}
	sort.Slice(kills, func(i, j int) bool { return kills[i].offset < kills[j].offset })

	start := time.Now()
	giveUp := start.Add(cfg.burstWindow + cfg.callGiveUp)
	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		for _, k := range kills {
			time.Sleep(time.Until(start.Add(k.offset)))
			// A process still being restarted after the previous kill is killed once it runs again.
			if _, err := k.sup.WaitRunning(ctx); err != nil {
				t.Errorf("waiting for the %s to run: %v", k.target, err)
				return
			}
			at, err := k.sup.Kill()
			if err != nil {
				t.Errorf("killing the %s: %v", k.target, err)
				return
			}
			k.at = at
			t.Logf("SIGKILL %s at +%s", k.target, seconds(at.Sub(start)))
		}
	}()

	tenants := make([]*tenant, cfg.burstTenants)
	var wg sync.WaitGroup
	for i := range tenants {
		arrival := start.Add(cfg.burstWindow * time.Duration(i) / time.Duration(cfg.burstTenants))
		sku := skuSmall
		if rnd.intn(4) == 0 {
			sku = skuLarge
		}
		wg.Go(func() {
			time.Sleep(time.Until(arrival))
			tn, acked, err := m.buy(ctx, sku, giveUp)
			if err != nil {
				t.Errorf("registering an order: %v", err)
				return
			}
			tenants[i] = tn
			if !acked {
				return
			}
			// The tenant's calls overlap: each starts a random moment after the one before,
			// acknowledged or not (upgrades alone wait for each other, as orders do).
			var calls sync.WaitGroup
			for j := 0; j < cfg.opsPerTenant; j++ {
				c, err := m.randomOp(tn)
				if err != nil {
					t.Errorf("registering an order: %v", err)
					return
				}
				calls.Go(func() { m.send(ctx, tn, c, giveUp) })
				time.Sleep(rnd.between(0, 800*time.Millisecond))
			}
			calls.Wait()
			if rnd.float() < cfg.releaseShare {
				m.send(ctx, tn, releaseCall(), giveUp)
			}
		})
	}
	wg.Wait()
	<-killerDone
	burst := time.Since(start)
	bought := tenants[:0]
	for _, tn := range tenants {
		if tn != nil {
			bought = append(bought, tn)
		}
	}
	var lastKill time.Time
	operatorKills, bridgeKills := 0, 0
	for _, k := range kills {
		if k.at.IsZero() {
			continue
		}
		if k.at.After(lastKill) {
			lastKill = k.at
		}
		if k.target == "operator" {
			operatorKills++
		} else {
			bridgeKills++
		}
	}

	took, ok := converge(ctx, t, bought, cfg.convergeTimeout)
	convergedAt := time.Now()
	acknowledged, uncertain, released := ledgerFigures(bought)
	report(t, "tenants", "%d bought over %s, %d released", len(bought), cfg.burstWindow, released)
	report(t, "calls", "%s", m.statsLine())
	report(t, "ledger", "%d calls acknowledged, %d never acknowledged (either outcome allowed)", acknowledged, uncertain)
	report(t, "kills", "operator %d of %d, bridge %d of %d; restarts: operator %d, bridge %d",
		operatorKills, cfg.operatorKills, bridgeKills, cfg.bridgeKills, op.Restarts(), brs.Restarts())
	report(t, "burst", "%s until the last call was answered; last kill at +%s", seconds(burst), seconds(lastKill.Sub(start)))
	if ok {
		report(t, "convergence after the last kill", "%s", seconds(convergedAt.Sub(lastKill)))
		report(t, "convergence after the last answer", "%s", seconds(took))
	}
	if operatorKills != cfg.operatorKills || bridgeKills != cfg.bridgeKills {
		t.Errorf("only %d operator and %d bridge kills of %d and %d happened", operatorKills, bridgeKills, cfg.operatorKills, cfg.bridgeKills)
	}
	if u := unexpectedAnswers(bought); len(u) > 0 {
		t.Errorf("%d calls were answered with codes the marketplace would not resend: %v", len(u), u)
	}
}
