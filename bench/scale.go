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
	"time"

	"github.com/tenantry/tenantry/test/e2e/framework"
)

// ScaleResult is scenario 5: many tenants, idle and after a restart.
type ScaleResult struct {
	Tenants int `json:"tenants"`
	// Provision sums the batches: tenants Ready, time spent provisioning, peak RSS.
	Provision *OperatorResult `json:"provision"`
	// Steps are the operator's memory after each batch was Ready and the operator idle again.
	Steps []ScaleStep `json:"steps"`

	// Idle: the operator with every tenant Ready and nothing changing.
	IdleWindowSec    float64            `json:"idleWindowSec"`
	IdleRSSMiB       float64            `json:"idleRssMiB"`
	IdleRSSMaxMiB    float64            `json:"idleRssMaxMiB"`
	IdleHeapMiB      float64            `json:"idleHeapMiB"`
	IdleHeapMaxMiB   float64            `json:"idleHeapMaxMiB"`
	IdleRestWrites   map[string]float64 `json:"idleRestRequestsByMethod"`
	IdleWrites       WriteCounts        `json:"idleAuditWrites"`
	IdleWritesPerSec float64            `json:"idleWritesPerSec"`
	IdleLeasePerSec  float64            `json:"idleLeaseWritesPerSec"`
	IdleCPU          map[string]float64 `json:"idleCpuCores"`
	HeapProfile      *Profile           `json:"heapProfile,omitempty"`

	// Cold start: the operator stopped (SIGTERM, so it hands its Lease back) and started again.
	ColdStartSec       float64            `json:"coldStartSec"`
	ColdLeaderSec      float64            `json:"coldLeaderSec"`
	ColdReconciles     float64            `json:"coldReconciles"`
	ColdRestRequests   map[string]float64 `json:"coldRestRequestsByMethod"`
	ColdWrites         WriteCounts        `json:"coldAuditWrites"`
	ColdPeakRSSMiB     float64            `json:"coldPeakRssMiB"`
	ColdSettledRSSMiB  float64            `json:"coldSettledRssMiB"`
	ColdSettledHeapMiB float64            `json:"coldSettledHeapMiB"`
	ColdCPUProfile     *Profile           `json:"coldCpuProfile,omitempty"`
	// ColdCPU is the average cores each process used from the operator's start until every
	// tenant was reconciled; ColdAPIServerProfile the API server's CPU profile meanwhile.
	ColdCPU              map[string]float64 `json:"coldCpuCores,omitempty"`
	ColdAPIServerProfile *Profile           `json:"coldApiserverProfile,omitempty"`
	ColdComplete         bool               `json:"coldComplete"`
	Samples              []OperatorSample   `json:"coldSamples"`
}

// runScale provisions n tenants, measures the idle operator, then restarts it.
func (h *harness) runScale(ctx context.Context, e *env, n int) (*ScaleResult, error) {
	res := &ScaleResult{Tenants: n}
	// Tenants arrive in batches, each provisioned to Ready and the operator settled before the
	// next, so memory is measured against tenants the operator holds, not against a backlog.
	steps := max(1, min(h.cfg.ScaleSteps, n))
	prov := &OperatorResult{Tenants: n, RestWrites: map[string]float64{}, CPU: map[string]float64{}}
	res.Provision = prov
	done := 0
	for k := range steps {
		size := n*(k+1)/steps - done
		batch, err := h.runOperator(ctx, e, fmt.Sprintf("scale%02d", k+1), size, 0)
		if err != nil {
			return res, err
		}
		done += size
		prov.ReadyCount += batch.ReadyCount
		prov.ElapsedSec += batch.ElapsedSec
		prov.PeakRSSMiB = max(prov.PeakRSSMiB, batch.PeakRSSMiB)
		prov.AuditWrites.Total += batch.AuditWrites.Total
		for k, v := range batch.RestWrites {
			prov.RestWrites[k] += v
		}
		prov.ManagerArgs = batch.ManagerArgs
		if !batch.AllReady {
			return res, fmt.Errorf("only %d of %d tenants of batch %d became Ready%s", batch.ReadyCount, size, k+1, deadNote(e))
		}
		if err := h.settle(ctx, e); err != nil {
			return res, err
		}
		m, err := framework.Scrape(ctx, h.hc, e.managerMetrics)
		if err != nil {
			return res, err
		}
		step := ScaleStep{Tenants: done, RSSMiB: m.Sum("process_resident_memory_bytes", nil) / (1 << 20),
			HeapMiB: m.Sum("go_memstats_heap_alloc_bytes", nil) / (1 << 20), HeapInuseMiB: m.Sum("go_memstats_heap_inuse_bytes", nil) / (1 << 20)}
		res.Steps = append(res.Steps, step)
		h.logf("scale: %d tenants: RSS %.0f MiB, heap %.0f MiB", done, step.RSSMiB, step.HeapMiB)
	}
	prov.AllReady = prov.ReadyCount == n
	prov.TenantsPerSec = ratio(float64(prov.ReadyCount), prov.ElapsedSec)
	prov.WritesPerTenant = ratio(float64(prov.AuditWrites.Total), float64(n))

	// Idle: a fixed observation window.
	h.logf("scale: observing the idle operator with %d tenants for %s", n, h.cfg.IdleWindow)
	m0, err := framework.Scrape(ctx, h.hc, e.managerMetrics)
	if err != nil {
		return res, err
	}
	audit0 := e.auditOffset()
	cpu0 := e.markCPU()
	start := time.Now()
	smp := e.startSampler(start, time.Second, nil)
	t := time.NewTimer(h.cfg.IdleWindow) // the measurement window itself
	select {
	case <-ctx.Done():
		t.Stop()
		smp.stop()
		return res, ctx.Err()
	case <-t.C:
	}
	idle := smp.stop()
	window := time.Since(start)
	cpu1 := e.markCPU()
	m1, err := framework.Scrape(ctx, h.hc, e.managerMetrics)
	if err != nil {
		return res, err
	}
	res.IdleWindowSec = window.Seconds()
	res.IdleRestWrites = diffMaps(restByMethod(m0), restByMethod(m1))
	if res.IdleWrites, err = e.auditWrites(audit0, e.auditOffset(), saUser(managerSA)); err != nil {
		h.logf("reading the audit log: %v", err)
	}
	res.IdleWritesPerSec = float64(res.IdleWrites.Total) / window.Seconds()
	res.IdleLeasePerSec = float64(res.IdleWrites.Lease) / window.Seconds()
	res.IdleCPU = cpuSince(cpu0, cpu1)
	var rss, heap float64
	for _, s := range idle {
		rss += s.RSSMiB
		heap += s.HeapMiB
		res.IdleRSSMaxMiB = max(res.IdleRSSMaxMiB, s.RSSMiB)
		res.IdleHeapMaxMiB = max(res.IdleHeapMaxMiB, s.HeapMiB)
	}
	if len(idle) > 0 {
		res.IdleRSSMiB, res.IdleHeapMiB = rss/float64(len(idle)), heap/float64(len(idle))
	}
	if p, err := e.fetchProfile(ctx, "heap", fmt.Sprintf("operator idle with %d tenants", n), fmt.Sprintf("heap-idle-%d.pb.gz", n), 0); err != nil {
		h.logf("scale: heap profile: %v", err)
	} else {
		res.HeapProfile = p
	}
	h.logf("scale: idle: RSS %.0f MiB (max %.0f), heap %.0f MiB, %.2f writes/s besides %.2f lease writes/s",
		res.IdleRSSMiB, res.IdleRSSMaxMiB, res.IdleHeapMiB, res.IdleWritesPerSec, res.IdleLeasePerSec)

	if err := h.coldStart(ctx, e, n, res); err != nil {
		return res, err
	}
	return res, nil
}

// ScaleStep is the operator's memory with a number of tenants, all Ready, the operator idle.
type ScaleStep struct {
	Tenants      int     `json:"tenants"`
	RSSMiB       float64 `json:"rssMiB"`
	HeapMiB      float64 `json:"heapAllocMiB"`
	HeapInuseMiB float64 `json:"heapInuseMiB"`
}

// settle waits until the operator has nothing queued and no reconcile running, several scrapes
// in a row.
func (h *harness) settle(ctx context.Context, e *env) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	quiet := 0
	return poll(ctx, 500*time.Millisecond, func() (bool, error) {
		m, err := framework.Scrape(ctx, h.hc, e.managerMetrics)
		if err != nil {
			return false, nil
		}
		if m.Sum("workqueue_depth", map[string]string{"name": "tenantinstance"}) == 0 &&
			m.Sum("controller_runtime_active_workers", map[string]string{"controller": "tenantinstance"}) == 0 {
			quiet++
		} else {
			quiet = 0
		}
		return quiet >= 4, nil
	})
}

// coldStart stops the operator and starts it again, measuring until every tenant was
// reconciled: at least n reconciles, nothing queued and no worker busy.
func (h *harness) coldStart(ctx context.Context, e *env, n int, res *ScaleResult) error {
	h.logf("scale: restarting the operator")
	if err := e.manager.stop(30 * time.Second); err != nil {
		h.logf("scale: %v", err)
	}
	e.manager = nil
	audit0 := e.auditOffset()
	// Before the operator starts, so its mark holds no operator: all the new process' CPU time
	// is the cold start's.
	cpu0 := e.markCPU()
	start := time.Now()
	if err := e.startManager(ctx); err != nil {
		return err
	}
	res.ColdLeaderSec = time.Since(start).Seconds()
	apiProf := h.profileAPIServer(ctx, e, fmt.Sprintf("kube-apiserver during the operator's cold start with %d tenants", n), fmt.Sprintf("apiserver-coldstart-%d.pb.gz", n), h.cfg.ColdProfileSecs)
	smp := e.startSampler(start, 500*time.Millisecond, nil)
	profc := make(chan *Profile, 1)
	go func() {
		p, err := e.fetchProfile(ctx, "cpu", fmt.Sprintf("operator cold start with %d tenants", n), fmt.Sprintf("cpu-coldstart-%d.pb.gz", n), h.cfg.ColdProfileSecs)
		if err != nil {
			h.logf("scale: cold start CPU profile: %v", err)
		}
		profc <- p
	}()
	wctx, cancel := context.WithTimeout(ctx, h.readyTimeout(n))
	defer cancel()
	var last framework.Metrics
	err := poll(wctx, 100*time.Millisecond, func() (bool, error) {
		m, err := framework.Scrape(wctx, h.hc, e.managerMetrics)
		if err != nil {
			return false, nil
		}
		last = m
		return m.Sum("controller_runtime_reconcile_total", map[string]string{"controller": "tenantinstance"}) >= float64(n) &&
			m.Sum("workqueue_depth", map[string]string{"name": "tenantinstance"}) == 0 &&
			m.Sum("controller_runtime_active_workers", map[string]string{"controller": "tenantinstance"}) == 0, nil
	})
	res.ColdComplete = err == nil
	res.ColdStartSec = time.Since(start).Seconds()
	cpu1 := e.markCPU()
	res.ColdCPU = cpuSince(cpu0, cpu1)
	if secs, ok := cpu1.secs["operator"]; ok {
		res.ColdCPU["operator"] = secs / cpu1.at.Sub(cpu0.at).Seconds()
	}
	if last != nil {
		res.ColdReconciles = last.Sum("controller_runtime_reconcile_total", map[string]string{"controller": "tenantinstance"})
		res.ColdRestRequests = restByMethod(last)
	}
	if res.ColdWrites, err = e.auditWrites(audit0, e.auditOffset(), saUser(managerSA)); err != nil {
		h.logf("reading the audit log: %v", err)
	}
	if err := h.settle(ctx, e); err != nil {
		h.logf("scale: %v", err)
	}
	res.Samples = smp.stop()
	for _, s := range res.Samples {
		res.ColdPeakRSSMiB = max(res.ColdPeakRSSMiB, s.RSSMiB)
	}
	if k := len(res.Samples); k > 0 {
		res.ColdSettledRSSMiB, res.ColdSettledHeapMiB = res.Samples[k-1].RSSMiB, res.Samples[k-1].HeapMiB
	}
	res.ColdCPUProfile = <-profc
	res.ColdAPIServerProfile = <-apiProf
	h.logf("scale: cold start: leader after %.1fs, every tenant reconciled after %.1fs (%.0f reconciles, %d writes besides leases), peak RSS %.0f MiB",
		res.ColdLeaderSec, res.ColdStartSec, res.ColdReconciles, res.ColdWrites.Total, res.ColdPeakRSSMiB)
	return nil
}
