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
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// HelmResult is `helm install --wait` of the per-tenant chart, once per tenant.
type HelmResult struct {
	Tenants        int                `json:"tenants"`
	Parallel       int                `json:"parallel"`
	HelmVersion    string             `json:"helmVersion"`
	ElapsedSec     float64            `json:"elapsedSec"`
	TenantsPerSec  float64            `json:"tenantsPerSec"`
	InstallLatency Latency            `json:"installLatency"`
	Failures       int                `json:"failures"`
	LastError      string             `json:"lastError,omitempty"`
	Ready          []Point            `json:"readySeries"`
	CPU            map[string]float64 `json:"cpuCores"`
	AuditWrites    WriteCounts        `json:"auditWrites"`
}

// runHelm installs the chart in bench/tenant-chart once per tenant, parallel installs at a
// time, each `helm install --wait` (what a vendor's provisioning job runs), under a
// ServiceAccount with the operator's rights.
func (h *harness) runHelm(ctx context.Context, e *env, n, parallel int) (*HelmResult, error) {
	chart := filepath.Join(h.root, "bench", "tenant-chart")
	state := filepath.Join(e.dir, "helm")
	env := envWith(e.kubeconfigs[helmSA],
		"HELM_CACHE_HOME="+filepath.Join(state, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(state, "config"),
		"HELM_DATA_HOME="+filepath.Join(state, "data"))
	res := &HelmResult{Tenants: n, Parallel: parallel}
	if out, err := exec.CommandContext(ctx, h.helmBin, "version", "--short").Output(); err == nil {
		res.HelmVersion = strings.TrimSpace(string(out))
	}
	names := tenantNames("helm", n)

	h.logf("helm: installing %d releases, %d at a time, each with --wait", n, parallel)
	audit0 := e.auditOffset()
	cpu0 := e.markCPU()
	start := time.Now()
	var (
		mu      sync.Mutex
		lat     []time.Duration
		doneAt  []time.Time
		next    atomic.Int64
		fails   atomic.Int64
		lastErr atomic.Value
		wg      sync.WaitGroup
	)
	timeout := h.readyTimeout(1)
	for range parallel {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				cmd := exec.CommandContext(ctx, h.helmBin, "install", names[i], chart,
					"--namespace", helmNamespace, "--set", "instance="+names[i],
					"--set", "replicas="+strconv.Itoa(h.cfg.Replicas),
					"--wait", "--timeout", timeout.String())
				cmd.Env = env
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				err := cmd.Run()
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					fails.Add(1)
					lastErr.Store(fmt.Sprintf("%v: %s", err, strings.TrimSpace(out.String())))
				} else {
					lat = append(lat, d)
					doneAt = append(doneAt, time.Now())
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	elapsed := time.Since(start)
	cpu1 := e.markCPU()
	res.ElapsedSec = elapsed.Seconds()
	res.TenantsPerSec = rate(len(doneAt), elapsed)
	res.InstallLatency = summarize(lat)
	res.Failures = int(fails.Load())
	if v := lastErr.Load(); v != nil {
		res.LastError = v.(string)
	}
	res.Ready = cumulative(start, doneAt)
	res.CPU = cpuSince(cpu0, cpu1)
	var err error
	if res.AuditWrites, err = e.auditWrites(audit0, e.auditOffset(), saUser(helmSA)); err != nil {
		h.logf("reading the audit log: %v", err)
	}
	h.logf("helm: %d releases ready in %.1fs (%.2f tenants/s, %d failed)", len(doneAt), res.ElapsedSec, res.TenantsPerSec, res.Failures)
	return res, nil
}
