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
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	fullFlag = flag.Bool("full", false, "run the full scenarios rather than the shortened ones when no -ginkgo.label-filter is given, as `make chaos` does (CHAOS_FULL=1 does the same)")
	seedFlag = flag.Uint64("seed", 0, "seed of every random choice (kill moments, calls, delays); 0 picks one (CHAOS_SEED)")
)

// config is the size of every scenario. The shortened scenarios (label "short": `go test
// ./test/chaos/`, part of `make test`) and the full ones (label "full": `make chaos`) differ
// only in these numbers.
type config struct {
	full bool
	seed uint64

	// Leader-election timing of every operator process. The full suite uses the operator's
	// defaults; the shortened one shorter ones, so that the waits for an unrenewed lease after a
	// kill stay short.
	leaseDuration, renewDeadline, retryPeriod time.Duration

	// Kills during a burst: tenants bought over burstWindow, each then receiving opsPerTenant
	// calls (renew, freeze, unfreeze, upgrade), releaseShare of them released at the end, while
	// the operator and the bridge are SIGKILLed at random moments of the window.
	burstTenants                 int
	burstWindow                  time.Duration
	opsPerTenant                 int
	releaseShare                 float64
	operatorKills, bridgeKills   int
	maxRestartDelay              time.Duration
	convergeTimeout, callGiveUp  time.Duration
	leaderRounds                 int
	outage                       time.Duration
	outageTenants, outageRate    int
	etcdRestarts                 int
	stormTenants, stormRate      int
	stormDuration                time.Duration
	upgradeTenants               int
	oldRef                       string
	clusterNodes                 int
	managerConcurrentReconciles  int
	bridgeMaxInFlight, bridgeQPS int

	// Metering under kills: meterTenants pay-per-use tenants of a plan metered every
	// meterPeriod, the leader SIGKILLed every meterKillEvery[0]..[1] for meterWindow, the usage
	// endpoint answering 503 meterOutages times for meterOutage each, meterFreezes tenants
	// frozen for less than a period.
	meterTenants, meterOutages, meterFreezes int
	meterWindow, meterPeriod, meterOutage    time.Duration
	meterKillEvery                           [2]time.Duration
}

// loadConfig is the configuration of the full scenarios or of the shortened ones.
func loadConfig(full bool) config {
	c := config{full: full, seed: *seedFlag}
	if c.seed == 0 {
		c.seed, _ = strconv.ParseUint(os.Getenv("CHAOS_SEED"), 10, 64)
	}
	if c.seed == 0 {
		c.seed = rand.Uint64()
	}
	c.oldRef = os.Getenv("CHAOS_OLD_REF")
	if c.oldRef == "" {
		// The first commit with today's pod template (quantity, tenant-info, credentials and the
		// sharded directory reach the app through it). Upgrading from an operator older than it
		// rolls every tenant's app once, by design (docs/operations.md, Upgrading the operator);
		// from it on, an upgrade must roll none. CHAOS_OLD_REF=7ab1d95, the last commit before the
		// operator annotated what it applies, shows that one-time roll.
		c.oldRef = "154dbec"
	}
	c.clusterNodes, c.managerConcurrentReconciles = 4, 4
	c.bridgeMaxInFlight, c.bridgeQPS = 64, 200
	c.opsPerTenant, c.releaseShare, c.maxRestartDelay = 4, 0.3, 3*time.Second
	if c.full {
		c.leaseDuration, c.renewDeadline, c.retryPeriod = 15*time.Second, 10*time.Second, 2*time.Second
		c.burstTenants, c.burstWindow, c.operatorKills, c.bridgeKills = 1000, 6*time.Minute, 20, 5
		c.convergeTimeout, c.callGiveUp = 20*time.Minute, 15*time.Minute
		c.leaderRounds = 3
		c.outage, c.outageTenants, c.outageRate = 60*time.Second, 50, 10
		c.etcdRestarts = 3
		c.stormTenants, c.stormRate, c.stormDuration = 100, 50, 5*time.Minute
		c.upgradeTenants = 1000
		c.clusterNodes = 25 // kwok nodes hold 110 Pods each
		c.meterTenants, c.meterWindow, c.meterPeriod = 20, 10*time.Minute, 30*time.Second
		c.meterKillEvery = [2]time.Duration{20 * time.Second, 40 * time.Second}
		c.meterOutages, c.meterOutage, c.meterFreezes = 4, 45*time.Second, 6
	} else {
		c.leaseDuration, c.renewDeadline, c.retryPeriod = 6*time.Second, 4*time.Second, time.Second
		c.burstTenants, c.burstWindow, c.operatorKills, c.bridgeKills = 100, 30*time.Second, 3, 1
		c.convergeTimeout, c.callGiveUp = 4*time.Minute, 2*time.Minute
		c.leaderRounds = 1
		c.outage, c.outageTenants, c.outageRate = 15*time.Second, 10, 5
		c.etcdRestarts = 1
		// The full storm's rate per tenant (0.5 calls/s), on fewer tenants.
		c.stormTenants, c.stormRate, c.stormDuration = 20, 10, 30*time.Second
		c.upgradeTenants = 50
		c.meterTenants, c.meterWindow, c.meterPeriod = 5, 75*time.Second, 10*time.Second
		c.meterKillEvery = [2]time.Duration{15 * time.Second, 25 * time.Second}
		c.meterOutages, c.meterOutage, c.meterFreezes = 1, 15*time.Second, 2
	}
	return c
}

// managerArgs are the flags every operator process of the suite gets.
func (c config) managerArgs() []string {
	return []string{
		"--leader-elect-lease-duration=" + c.leaseDuration.String(),
		"--leader-elect-renew-deadline=" + c.renewDeadline.String(),
		"--leader-elect-retry-period=" + c.retryPeriod.String(),
		"--max-concurrent-reconciles=" + strconv.Itoa(c.managerConcurrentReconciles),
		"--zap-time-encoding=rfc3339nano",
	}
}

// bridgeArgs are the flags every bridge process of the suite gets. The stale-FREEZE guard
// (docs/webhookbridge.md) is narrowed to 1 ms: the suite sends FREEZEs right after renewals and
// UNFREEZEs on purpose, which the guard would (rightly) ignore for an hour, and the ledger
// expects the newest acknowledged call to win. The guard has tests of its own.
func (c config) bridgeArgs() []string {
	return []string{
		"--freeze-retry-horizon=1ms",
		"--max-in-flight=" + strconv.Itoa(c.bridgeMaxInFlight),
		"--kube-api-qps=" + strconv.Itoa(c.bridgeQPS), "--kube-api-burst=" + strconv.Itoa(2*c.bridgeQPS),
		"--zap-time-encoding=rfc3339nano",
	}
}

func (c config) String() string {
	mode := "shortened (go test ./test/chaos/)"
	if c.full {
		mode = "full (make chaos)"
	}
	return fmt.Sprintf("%s, seed %d, lease %s/%s/%s", mode, c.seed, c.leaseDuration, c.renewDeadline, c.retryPeriod)
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// rng is a random source safe for concurrent use, seeded once so that a run can be repeated.
type rng struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newRNG(seed uint64) *rng { return &rng{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (r *rng) intn(n int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.r.IntN(n)
}

func (r *rng) float() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.r.Float64()
}

// between is a uniformly random duration in [lo, hi].
func (r *rng) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return lo + time.Duration(r.r.Int64N(int64(hi-lo)+1))
}
