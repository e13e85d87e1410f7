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

// Command bench measures Tenantry on a local control plane (kube-apiserver, etcd,
// kube-controller-manager, kube-scheduler and kwok nodes, started with kwokctl): how fast the
// operator provisions compared with the API server's own ceiling and with Helm, how the webhook
// bridge answers marketplace calls under load, how fast lifecycle changes take effect, and what
// ten thousand tenants cost in memory, restart time and idle API writes. The operator and the
// bridge run as local processes authenticated as their chart ServiceAccounts, so the API
// server's priority and fairness treats them as in a real installation.
//
// It writes bench/results/<timestamp>/{report.md,results.json,*.png} and points
// bench/results/latest at it. `make bench-quick` runs a few-minute version, `make bench` the
// full one.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// Config is every knob of a run; the report records it.
type Config struct {
	Quick     bool     `json:"quick"`
	Scenarios []string `json:"scenarios"`
	// Tenants are the N of scenario 1 (ceiling and operator).
	Tenants []int `json:"tenants"`
	// Workers is how many requests the harness' own writers (ceiling, instance creation) keep
	// in flight.
	Workers int `json:"workers"`
	// Minimal runs the minimal-path ceiling beside the bare one in scenario 1.
	Minimal bool `json:"minimalPath"`
	// MinimalApply runs the minimal path a second time, writing the children by server-side
	// apply as the operator does (MinimalResult.ByApply).
	MinimalApply bool `json:"minimalPathByApply"`
	// Rounds runs the minimal paths and the operator this many times per N, alternating their
	// order (ProvisioningResult.Rounds).
	Rounds       int   `json:"rounds"`
	HelmTenants  int   `json:"helmTenants"`
	HelmParallel []int `json:"helmParallel"`
	Rates        []int `json:"ratesPerSec"`
	// CreateProbeRate is scenario 3's bare TenantInstance creates per second during each step.
	CreateProbeRate float64       `json:"createProbeRatePerSec"`
	RateDuration    time.Duration `json:"rateDuration"`
	Lifecycle       int           `json:"lifecycleTenants"`
	LifecyclePace   float64       `json:"lifecyclePacePerSec"`
	ScaleTenants    int           `json:"scaleTenants"`
	IdleWindow      time.Duration `json:"idleWindow"`
	ScaleSteps      int           `json:"scaleSteps"`
	Replicas        int           `json:"replicas"`
	Nodes           int           `json:"nodes"`
	PodsPerNode     int           `json:"podsPerNode"`
	FreshClusters   bool          `json:"freshClusterPerPhase"`
	ReadyTimeout    time.Duration `json:"readyTimeout"`

	// UnauthClients, UnauthDuration and UnauthBodyBytes size scenario 6; ProbeRate is its
	// signed calls per second.
	UnauthClients   []int         `json:"unauthClients"`
	UnauthDuration  time.Duration `json:"unauthDuration"`
	UnauthBodyBytes int           `json:"unauthBodyBytes"`
	ProbeRate       float64       `json:"probeRatePerSec"`

	// MeteringTenants, MeteringPeriod and MeteringPeriods size scenario 7; RolloutTenants
	// scenario 8.
	MeteringTenants int           `json:"meteringTenants"`
	MeteringPeriod  time.Duration `json:"meteringPeriod"`
	MeteringPeriods int           `json:"meteringPeriods"`
	RolloutTenants  int           `json:"rolloutTenants"`

	ManagerQPS         int      `json:"managerQps"`
	ManagerMemLimit    string   `json:"managerGoMemLimit,omitempty"`
	ManagerGOGC        string   `json:"managerGOGC,omitempty"`
	ManagerBurst       int      `json:"managerBurst"`
	ManagerConcurrency int      `json:"managerMaxConcurrentReconciles"`
	ManagerArgs        []string `json:"managerExtraArgs"`
	BridgeArgs         []string `json:"bridgeExtraArgs"`
	ClusterArgs        []string `json:"clusterExtraArgs"`
	ProfileSecs        int      `json:"cpuProfileSecs"`
	ColdProfileSecs    int      `json:"coldStartCpuProfileSecs"`

	ManagerBin string `json:"managerBin,omitempty"`
	BridgeBin  string `json:"bridgeBin,omitempty"`
	Label      string `json:"label,omitempty"`
	Baseline   string `json:"baseline,omitempty"`
	Notes      string `json:"notes,omitempty"`
	Render     string `json:"-"`
	Out        string `json:"-"`
	Keep       bool   `json:"-"`
}

// defaultClusterArgs lift the client-side limits of kube-controller-manager and kube-scheduler
// and give the controllers that take a tenant to Ready more workers, so that neither is what a
// scenario measures. The API server keeps its defaults, priority and fairness included
// (kwokctl's --disable-qps-limits would turn it off, and with it what the scenarios are about).
var defaultClusterArgs = []string{
	// kwokctl's default service range is a /24: 254 tenants.
	"kube-apiserver=service-cluster-ip-range=10.96.0.0/16",
	"kube-controller-manager=kube-api-qps=2000",
	"kube-controller-manager=kube-api-burst=4000",
	"kube-controller-manager=concurrent-deployment-syncs=20",
	"kube-controller-manager=concurrent-replicaset-syncs=20",
	"kube-controller-manager=concurrent-resource-quota-syncs=20",
	"kube-controller-manager=concurrent-namespace-syncs=20",
	"kube-scheduler=kube-api-qps=2000",
	"kube-scheduler=kube-api-burst=4000",
	// One instance of each: leader election only lets a CPU-starved controller manager or
	// scheduler lose its lease and exit (kwokctl does not restart it), which stalls a scenario.
	"kube-controller-manager=leader-elect=false",
	"kube-scheduler=leader-elect=false",
}

type listFlag struct{ v *[]string }

func (l listFlag) String() string {
	if l.v == nil {
		return ""
	}
	return strings.Join(*l.v, ",")
}
func (l listFlag) Set(s string) error { *l.v = append(*l.v, s); return nil }

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseFlags(args []string) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var tenants, rates, scenarios string
	fs.BoolVar(&c.Quick, "quick", false, "Small N and short phases (a few minutes); flags given explicitly still win.")
	fs.StringVar(&scenarios, "scenarios", "ceiling,helm,callbacks,unauth,scale,lifecycle", "Scenarios to run: ceiling (1), helm (2), callbacks (3), lifecycle (4), scale (5), unauth (6), metering (7), rollout (8); 7 and 8 only when named.")
	fs.StringVar(&tenants, "tenants", "1000,5000", "Scenario 1: N for the ceiling and the operator, comma-separated.")
	fs.BoolVar(&c.Minimal, "minimal-path", true, "Scenario 1: also run the minimal-path ceiling (TenantInstance, its objects, one status write per tenant) before the operator.")
	fs.IntVar(&c.Rounds, "rounds", 1, "Scenario 1, with -minimal-path: run the minimal paths and the operator this many times per N, each round in the reverse order of the one before, and compare them by the median of the rounds' ratios: a figure less moved by a machine whose speed drifts between phases.")
	fs.BoolVar(&c.MinimalApply, "minimal-apply", true, "Scenario 1, with -minimal-path: also run the minimal path writing the tenant's objects as the operator does (server-side apply under its field owner) instead of creating them: what server-side apply costs.")
	fs.IntVar(&c.Workers, "workers", 32, "Requests the ceiling program (and the harness creating TenantInstances) keeps in flight.")
	fs.IntVar(&c.HelmTenants, "helm-tenants", 100, "Scenario 2: releases installed.")
	var helmParallel string
	fs.StringVar(&helmParallel, "helm-parallel", "1,4", "Scenario 2: helm install processes at a time, one run per value.")
	fs.StringVar(&rates, "rates", "10,50,200,500", "Scenario 3: newInstance calls per second, one step each.")
	fs.Float64Var(&c.CreateProbeRate, "create-probe-rate", 5, "Scenario 3: bare TenantInstance creates per second (with the bridge's identity) during each step, the acknowledgement's reference (0: none).")
	fs.DurationVar(&c.RateDuration, "rate-duration", 20*time.Second, "Scenario 3: how long each rate is sent.")
	fs.IntVar(&c.Lifecycle, "lifecycle-tenants", 200, "Scenario 4: tenants frozen, unfrozen and released.")
	fs.Float64Var(&c.LifecyclePace, "lifecycle-pace", 5, "Scenario 4: calls per second of each transition (what the bridge absorbs at its default --kube-api-qps).")
	fs.IntVar(&c.ScaleTenants, "scale-tenants", 10000, "Scenario 5: tenants the operator holds.")
	fs.IntVar(&c.ScaleSteps, "scale-steps", 10, "Scenario 5: batches the tenants arrive in; memory is measured after each.")
	fs.DurationVar(&c.IdleWindow, "idle-window", time.Minute, "Scenario 5: how long the idle operator's writes are counted.")
	var unauthClients string
	fs.StringVar(&unauthClients, "unauth-clients", "8,40", "Scenario 6: clients sending unauthenticated requests, one step per value and kind of request.")
	fs.DurationVar(&c.UnauthDuration, "unauth-duration", 20*time.Second, "Scenario 6: how long each step lasts.")
	fs.IntVar(&c.UnauthBodyBytes, "unauth-body-bytes", 1<<20, "Scenario 6: size of each unauthenticated request's body.")
	fs.Float64Var(&c.ProbeRate, "probe-rate", 10, "Scenario 6: signed queryInstance calls per second measured meanwhile.")
	fs.IntVar(&c.MeteringTenants, "metering-tenants", 10000, "Scenario 7: metered (ON_DEMAND) tenants.")
	fs.DurationVar(&c.MeteringPeriod, "metering-period", 10*time.Minute, "Scenario 7: the metering period (the operator's --metering-period, whole seconds, at least 1m; on 2 cores one period's accounting and push for 10,000 tenants takes several minutes, and the measurement starts once nothing is pending).")
	fs.IntVar(&c.MeteringPeriods, "metering-periods", 1, "Scenario 7: periods measured.")
	fs.IntVar(&c.RolloutTenants, "rollout-tenants", 1000, "Scenario 8: tenants a plan change is rolled out over.")
	fs.IntVar(&c.Replicas, "replicas", 1, "Replicas of every tenant's app (the plan's spec.replicas).")
	fs.IntVar(&c.Nodes, "nodes", 6, "kwok nodes.")
	fs.IntVar(&c.PodsPerNode, "pods-per-node", 2500, "Pod capacity of each kwok node.")
	fs.BoolVar(&c.FreshClusters, "fresh-clusters", true, "A new cluster for every phase (otherwise one cluster, emptied between phases).")
	fs.DurationVar(&c.ReadyTimeout, "ready-timeout", 0, "How long a phase waits for its tenants (0: 5m + 300ms per tenant).")
	fs.IntVar(&c.ManagerQPS, "manager-qps", 200, "The operator's --kube-api-qps (its default is 200).")
	fs.IntVar(&c.ManagerBurst, "manager-burst", 400, "The operator's --kube-api-burst (its default is 400).")
	fs.IntVar(&c.ManagerConcurrency, "manager-concurrency", 8, "The operator's --max-concurrent-reconciles (its default is 8).")
	fs.StringVar(&c.ManagerMemLimit, "manager-gomemlimit", "256MiB", "The operator's GOMEMLIMIT, as the chart sets it from the container's memory limit (its default is 256Mi); empty: none.")
	fs.StringVar(&c.ManagerGOGC, "manager-gogc", "25", "The operator's GOGC, as the chart sets it (its gcPercent, 25); empty: the Go default, 100.")
	fs.Var(listFlag{&c.ManagerArgs}, "manager-arg", "Extra operator flag (repeatable).")
	fs.Var(listFlag{&c.BridgeArgs}, "bridge-arg", "Extra bridge flag (repeatable), e.g. --bridge-arg=--kube-api-qps=200.")
	fs.Var(listFlag{&c.ClusterArgs}, "cluster-arg", "kwokctl --extra-args component=key=value (repeatable; replaces the defaults).")
	fs.IntVar(&c.ProfileSecs, "profile-seconds", 30, "CPU profile of the operator while it provisions the largest N (0: none).")
	fs.IntVar(&c.ColdProfileSecs, "cold-profile-seconds", 20, "CPU profile of the operator's cold start.")
	fs.StringVar(&c.ManagerBin, "manager-bin", "", "Operator binary to measure (default: built from this tree).")
	fs.StringVar(&c.BridgeBin, "bridge-bin", "", "Bridge binary to measure (default: built from this tree).")
	fs.StringVar(&c.Label, "label", "", "A name for this run in the report (e.g. before, after).")
	fs.StringVar(&c.Baseline, "baseline", "", "results.json of an earlier run: the report puts its figures beside this run's.")
	fs.StringVar(&c.Notes, "notes", "", "A Markdown file appended to the report (findings written after looking at the figures).")
	fs.StringVar(&c.Render, "render", "", "Only render report.md and the plots again from this results.json (with -notes, -baseline).")
	fs.StringVar(&c.Out, "out", "", "Results directory (default: bench/results/<timestamp>).")
	fs.BoolVar(&c.Keep, "keep", false, "Leave the last cluster running (for poking at it).")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.Quick {
		quick := map[string]string{
			"tenants": "150", "helm-tenants": "20", "rates": "10,50,200,500", "rate-duration": "4s",
			"lifecycle-tenants": "60", "scale-tenants": "300", "idle-window": "20s", "scale-steps": "3",
			"profile-seconds": "10", "cold-profile-seconds": "5", "nodes": "2",
			"ready-timeout": "4m", "unauth-duration": "5s",
			"metering-tenants": "100", "metering-period": "1m", "metering-periods": "2", "rollout-tenants": "60",
		}
		for name, v := range quick {
			if !set[name] {
				if err := fs.Set(name, v); err != nil {
					return c, err
				}
			}
		}
	}
	var err error
	if c.Tenants, err = intList(tenants); err != nil {
		return c, err
	}
	if c.Rates, err = intList(rates); err != nil {
		return c, err
	}
	if c.HelmParallel, err = intList(helmParallel); err != nil {
		return c, err
	}
	if c.UnauthClients, err = intList(unauthClients); err != nil {
		return c, err
	}
	if c.MeteringPeriod < time.Minute || c.MeteringPeriod%time.Second != 0 || c.MeteringPeriods < 1 || c.MeteringTenants < 1 || c.RolloutTenants < 1 {
		err := fmt.Errorf("-metering-period must be whole seconds of at least 1m (not %s), -metering-periods, -metering-tenants and -rollout-tenants at least 1", c.MeteringPeriod)
		fmt.Fprintln(fs.Output(), err)
		return c, err
	}
	if c.Rounds < 1 {
		err := fmt.Errorf("-rounds must be at least 1, not %d", c.Rounds)
		fmt.Fprintln(fs.Output(), err)
		return c, err
	}
	if c.ProbeRate <= 0 {
		err := fmt.Errorf("-probe-rate must be positive, not %v", c.ProbeRate)
		fmt.Fprintln(fs.Output(), err)
		return c, err
	}
	for _, s := range strings.Split(scenarios, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.Scenarios = append(c.Scenarios, s)
		}
	}
	if len(c.ClusterArgs) == 0 {
		c.ClusterArgs = defaultClusterArgs
	}
	return c, nil
}

// harness is one benchmark run.
type harness struct {
	cfg                   Config
	root, work, out       string
	kwokWorkdir, k8sBin   string
	helmBin               string
	managerBin, bridgeBin string
	managerHasPprof       bool
	bridgeHasPprof        bool
	hc                    *http.Client
	clusters              map[string]bool
	runID                 string
	started               time.Time
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %s %s\n", time.Since(h.started).Round(time.Second), fmt.Sprintf(format, args...))
}

func (h *harness) has(scenario string) bool {
	for _, s := range h.cfg.Scenarios {
		if s == scenario {
			return true
		}
	}
	return false
}

func main() {
	os.Exit(runMain())
}

// runMain runs the harness and returns its exit code, once its deferred calls have run.
func runMain() int {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		return 2
	}
	// controller-runtime's clients log through this; the harness reports errors itself.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h := &harness{cfg: cfg, hc: &http.Client{Timeout: 10 * time.Second}, clusters: map[string]bool{}, started: time.Now()}
	if cfg.Render != "" {
		if err := h.render(cfg.Render); err != nil {
			h.logf("FAILED: %v", err)
			return 1
		}
		return 0
	}
	if err := h.run(ctx); err != nil {
		h.logf("FAILED: %v", err)
		return 1
	}
	return 0
}

// render writes the report of an earlier run again, keeping its configuration but taking notes
// and baseline from this invocation.
func (h *harness) render(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	r := &Results{}
	if err := json.Unmarshal(b, r); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	notes, base := h.cfg.Notes, h.cfg.Baseline
	h.cfg = r.Config
	h.cfg.Notes, h.cfg.Baseline, h.cfg.Out = notes, base, filepath.Dir(path)
	h.out = h.cfg.Out
	return h.writeReport(r)
}

// repoRoot is the directory holding go.mod of the operator: bench's parent.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; dir != "/"; dir = filepath.Dir(dir) {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/tenantry/tenantry\n") {
			return dir, nil
		}
	}
	return "", fmt.Errorf("not inside the tenantry repository (%s)", wd)
}

// tool runs hack/tools.sh and returns the path it prints last.
func (h *harness) tool(ctx context.Context, name string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(h.root, "hack", "tools.sh"), name)
	cmd.Dir = h.root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/tools.sh %s: %w", name, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// prepare builds the binaries under test and provides the cluster tools.
func (h *harness) prepare(ctx context.Context) error {
	var err error
	if h.root, err = repoRoot(); err != nil {
		return err
	}
	h.runID = time.Now().UTC().Format("20060102-150405")
	h.work = filepath.Join(h.root, "bench", ".work", h.runID)
	h.kwokWorkdir = filepath.Join(h.root, "bench", ".work", "kwok")
	h.out = h.cfg.Out
	if h.out == "" {
		h.out = filepath.Join(h.root, "bench", "results", h.runID)
	}
	for _, d := range []string{h.work, h.kwokWorkdir, h.out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if h.k8sBin, err = h.tool(ctx, "cluster"); err != nil {
		return err
	}
	if h.has("helm") {
		if h.helmBin, err = h.tool(ctx, "helm"); err != nil {
			return err
		}
	}
	binDir := filepath.Join(h.work, "bin")
	h.managerBin, h.bridgeBin = h.cfg.ManagerBin, h.cfg.BridgeBin
	var build []string
	if h.managerBin == "" {
		h.managerBin = filepath.Join(binDir, "manager")
		build = append(build, "./cmd/manager")
	}
	if h.bridgeBin == "" {
		h.bridgeBin = filepath.Join(binDir, "webhookbridge")
		build = append(build, "./cmd/webhookbridge")
	}
	if len(build) > 0 {
		h.logf("building %s as the image does (static, -trimpath, stripped)", strings.Join(build, " "))
		// The Dockerfile's build: a cgo binary with symbols would be measured with the C runtime
		// and longer file tables mapped in.
		cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-trimpath", "-ldflags=-s -w", "-o", binDir + "/"}, build...)...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.Dir = h.root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building the binaries: %w", err)
		}
	}
	help, _ := exec.CommandContext(ctx, h.managerBin, "-h").CombinedOutput()
	h.managerHasPprof = strings.Contains(string(help), "pprof-bind-address")
	help, _ = exec.CommandContext(ctx, h.bridgeBin, "-h").CombinedOutput()
	h.bridgeHasPprof = strings.Contains(string(help), "pprof-bind-address")
	if !h.managerHasPprof {
		h.logf("the operator has no --pprof-bind-address flag: no profiles this run")
	}
	return nil
}

// run executes the scenarios in order and writes the report, even after a failure (with
// whatever was measured).
func (h *harness) run(ctx context.Context) (err error) {
	if err := h.prepare(ctx); err != nil {
		return err
	}
	res := &Results{Config: h.cfg, Started: h.started.UTC(), Machine: machineInfo(ctx, h.root, h.k8sBin)}
	res.Machine.PprofAvailable = h.managerHasPprof
	var cur *env
	defer func() {
		cur.close()
		for name := range h.clusters {
			if h.cfg.Keep && cur != nil && name == cur.name {
				h.logf("keeping cluster %s (KWOK_WORKDIR=%s, kubeconfig %s)", name, h.kwokWorkdir, cur.adminKubeconfig)
				continue
			}
			h.downCluster(name)
		}
		res.DurationSec = time.Since(h.started).Seconds()
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
		}
		if werr := h.writeReport(res); werr != nil {
			h.logf("writing the report: %v", werr)
		}
	}()

	phase := 0
	// cluster returns a cluster for the next phase: a new one, or the current one emptied.
	cluster := func(what string) (*env, error) {
		phase++
		if cur != nil && !h.cfg.FreshClusters {
			if err := cur.reset(ctx); err == nil {
				return cur, nil
			}
		}
		if cur != nil {
			cur.close()
			h.downCluster(cur.name)
		}
		name := fmt.Sprintf("bench-%s-%d-%s", strings.ReplaceAll(h.runID[9:], "-", ""), phase, what)
		if !h.cfg.FreshClusters {
			name = fmt.Sprintf("bench-%s", strings.ReplaceAll(h.runID[9:], "-", ""))
		}
		e, err := h.upCluster(ctx, name)
		if err != nil {
			return e, err
		}
		cur = e
		return e, nil
	}
	record := func(scenario string, err error) {
		if err != nil {
			h.logf("%s: %v", scenario, err)
			res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", scenario, err))
		}
	}

	if h.has("ceiling") {
		for i, n := range h.cfg.Tenants {
			pr := ProvisioningResult{N: n}
			e, err := cluster(fmt.Sprintf("ceiling%d", n))
			if err != nil {
				return err
			}
			profile := 0
			if i == len(h.cfg.Tenants)-1 {
				profile = h.cfg.ProfileSecs
			}
			pr.Ceiling, err = h.runCeiling(ctx, e, n, profile)
			record("ceiling", err)
			for r := range h.provisioningRounds() {
				var rd roundResults
				order := roundPhases(r, h.cfg.Minimal, h.cfg.MinimalApply)
				for _, ph := range order {
					if e, err = cluster(fmt.Sprintf("%s%d", ph, n)); err != nil {
						return err
					}
					switch ph {
					case phaseMinimal:
						rd.Minimal, err = h.runMinimal(ctx, e, n, profile, false)
						record("minimal path", err)
					case phaseMinimalApply:
						rd.MinimalApply, err = h.runMinimal(ctx, e, n, profile, true)
						record("minimal path by apply", err)
					case phaseOperator:
						prefix := "op"
						if r > 0 {
							prefix = fmt.Sprintf("op%d", r+1)
						}
						rd.Operator, err = h.runOperator(ctx, e, prefix, n, profile)
						record("operator", err)
					}
					if ctx.Err() != nil {
						break
					}
				}
				pr.addRound(rd, order)
				if ctx.Err() != nil {
					break
				}
				// The profiles are taken in the first round only: their cost is then the same in
				// each of its phases, and the later rounds' figures carry none of it.
				profile = 0
			}
			res.Provisioning = append(res.Provisioning, pr)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	if h.has("helm") {
		e, err := cluster("helm")
		if err != nil {
			return err
		}
		for i, par := range h.cfg.HelmParallel {
			if i > 0 {
				if e, err = cluster(fmt.Sprintf("helm%d", par)); err != nil {
					return err
				}
			}
			hr, err := h.runHelm(ctx, e, h.cfg.HelmTenants, par)
			record("helm", err)
			if hr != nil {
				res.Helm = append(res.Helm, hr)
			}
		}
		// The operator on the same N, same cluster kind, for the ratio.
		if len(res.Helm) > 0 {
			e, err := cluster("helmop")
			if err != nil {
				return err
			}
			res.HelmOperator, err = h.runOperator(ctx, e, "hop", h.cfg.HelmTenants, 0)
			record("helm (operator side)", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if h.has("callbacks") {
		e, err := cluster("callbacks")
		if err != nil {
			return err
		}
		res.Callbacks, err = h.runCallbacks(ctx, e)
		record("callbacks", err)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if h.has("unauth") {
		e, err := cluster("unauth")
		if err != nil {
			return err
		}
		res.Unauth, err = h.runUnauth(ctx, e)
		record("unauth", err)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if h.has("scale") || h.has("lifecycle") {
		e, err := cluster("scale")
		if err != nil {
			return err
		}
		background := 0
		if h.has("scale") {
			res.Scale, err = h.runScale(ctx, e, h.cfg.ScaleTenants)
			record("scale", err)
			background = h.cfg.ScaleTenants
		}
		if h.has("lifecycle") && ctx.Err() == nil {
			res.Lifecycle, err = h.runLifecycle(ctx, e, h.cfg.Lifecycle, background)
			record("lifecycle", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if h.has("metering") {
		e, err := cluster("metering")
		if err != nil {
			return err
		}
		res.Metering, err = h.runMetering(ctx, e, h.cfg.MeteringTenants, h.cfg.MeteringPeriods, h.cfg.MeteringPeriod)
		record("metering", err)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if h.has("rollout") {
		e, err := cluster("rollout")
		if err != nil {
			return err
		}
		res.Rollout, err = h.runRollout(ctx, e, h.cfg.RolloutTenants)
		record("rollout", err)
	}
	return ctx.Err()
}
