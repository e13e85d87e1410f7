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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// RolloutResult is scenario 8: a change of the plan's spec.app rolled out over its tenants.
type RolloutResult struct {
	Tenants   int             `json:"tenants"`
	Provision *OperatorResult `json:"provision"`
	Runs      []RolloutRun    `json:"runs"`
}

// RolloutRun is one rollout, under one strategy.
type RolloutRun struct {
	Strategy string `json:"strategy"`
	// Settings are the strategy's fields in effect (defaults filled in).
	Settings string `json:"settings"`
	Image    string `json:"image"`
	// Complete: the plan's status.rollout reached Complete with every tenant Ready on the new
	// revision; Sec is from the plan's change until then (until giving up otherwise).
	Complete bool    `json:"complete"`
	Sec      float64 `json:"sec"`
	// Phases are when each phase (and wave) was first seen, from the plan's change.
	Phases          []PhaseMark        `json:"phases"`
	Updated         int                `json:"updated"`
	Ready           int                `json:"ready"`
	Failed          int32              `json:"failed"`
	Writes          WriteCounts        `json:"auditWrites"`
	WritesPerTenant float64            `json:"writesPerTenant"`
	CPU             map[string]float64 `json:"cpuCores"`
}

// PhaseMark is a rollout phase first seen at AtSec.
type PhaseMark struct {
	Phase string  `json:"phase"`
	Wave  int32   `json:"wave,omitempty"`
	AtSec float64 `json:"atSec"`
}

// addPhase appends the plan's rollout phase to marks unless it is the last one seen or the
// status is of an earlier generation of the plan (the rollout before).
func addPhase(marks []PhaseMark, p *tenantryv1alpha1.TenantPlan, at float64) []PhaseMark {
	st := p.Status.Rollout
	if st == nil || st.Phase == "" || p.Status.ObservedGeneration < p.Generation {
		return marks
	}
	if k := len(marks); k > 0 && marks[k-1].Phase == string(st.Phase) && marks[k-1].Wave == st.Wave {
		return marks
	}
	return append(marks, PhaseMark{Phase: string(st.Phase), Wave: st.Wave, AtSec: at})
}

// rolloutDone says whether the plan's rollout to the revision of its spec.app ended with every
// tenant Ready on it, and how many tenants run it and are Ready on it.
func rolloutDone(p *tenantryv1alpha1.TenantPlan, tis []tenantryv1alpha1.TenantInstance, n int) (done bool, updated, ready int) {
	rev := p.Status.UpdateRevision
	for i := range tis {
		if rev == "" || tis[i].Status.Revision != rev {
			continue
		}
		updated++
		if tiReady(&tis[i]) {
			ready++
		}
	}
	complete := p.Status.ObservedGeneration >= p.Generation && p.Status.Rollout != nil && p.Status.Rollout.Phase == tenantryv1alpha1.RolloutComplete
	return complete && ready >= n, updated, ready
}

// rolloutStrategy is one strategy the scenario runs.
type rolloutStrategy struct {
	name string
	spec tenantryv1alpha1.RolloutStrategy
}

// rolloutStrategies are the benchmark's strategy (canary 1, no bake, waves of 25%, 25% of the
// tenants unavailable at once) and the default one with the bake time at 0.
func rolloutStrategies() []rolloutStrategy {
	zero := &metav1.Duration{}
	return []rolloutStrategy{
		{name: "bench", spec: tenantryv1alpha1.RolloutStrategy{
			Canary: new(intstr.FromInt32(1)), BakeTime: zero, WaveSize: new(intstr.FromString("25%")), MaxUnavailable: new(intstr.FromString("25%")),
		}},
		{name: "default, bake 0", spec: tenantryv1alpha1.RolloutStrategy{BakeTime: zero}},
	}
}

func strategySettings(s tenantryv1alpha1.RolloutStrategy) string {
	s = s.WithDefaults()
	return fmt.Sprintf("canary %s, bake %s, waves %s, maxUnavailable %s, progressDeadline %s",
		s.Canary.String(), s.BakeTime.Duration, s.WaveSize.String(), s.MaxUnavailable.String(), s.ProgressDeadline.Duration)
}

// runRollout provisions n tenants, then rolls a new image out over them once per strategy.
func (h *harness) runRollout(ctx context.Context, e *env, n int) (*RolloutResult, error) {
	res := &RolloutResult{Tenants: n}
	// In a cluster the operator keeps plan revisions in its Pod's namespace; run locally it needs
	// the namespace named, or rollouts are off and every tenant follows spec.app at once.
	e.restartManager()
	e.managerFlags = []string{"--rollout-namespace=" + systemNamespace}
	defer func() {
		e.restartManager()
		e.managerFlags = nil
	}()
	prov, err := h.runOperator(ctx, e, "roll", n, 0)
	res.Provision = prov
	if err != nil {
		return res, err
	}
	if !prov.AllReady {
		return res, fmt.Errorf("only %d of %d tenants became Ready%s", prov.ReadyCount, n, deadNote(e))
	}
	defer func() {
		// Later phases on this cluster get the plan as installed.
		if err := e.setPlan(context.WithoutCancel(ctx), func(p *tenantryv1alpha1.TenantPlan) {
			p.Spec.App, p.Spec.Rollout = benchPlan(h.cfg.Replicas).Spec.App, nil
		}); err != nil {
			h.logf("rollout: restoring the plan: %v", err)
		}
	}()
	for i, s := range rolloutStrategies() {
		run, err := h.rolloutOnce(ctx, e, n, s, fmt.Sprintf("registry.example.com/bench/app:2.%d", i))
		if run != nil {
			res.Runs = append(res.Runs, *run)
		}
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// rolloutOnce sets the strategy, lets the operator settle, changes the image and waits until
// the rollout is complete with every tenant Ready on the new revision.
func (h *harness) rolloutOnce(ctx context.Context, e *env, n int, s rolloutStrategy, image string) (*RolloutRun, error) {
	run := &RolloutRun{Strategy: s.name, Settings: strategySettings(s.spec), Image: image}
	if err := e.setPlan(ctx, func(p *tenantryv1alpha1.TenantPlan) { p.Spec.Rollout = s.spec.DeepCopy() }); err != nil {
		return run, fmt.Errorf("setting the rollout strategy: %w", err)
	}
	if err := h.settle(ctx, e); err != nil {
		return run, err
	}
	audit0 := e.auditOffset()
	cpu0 := e.markCPU()
	start := time.Now()
	if err := e.setPlan(ctx, func(p *tenantryv1alpha1.TenantPlan) { p.Spec.App.Image = image }); err != nil {
		return run, fmt.Errorf("changing the image: %w", err)
	}
	h.logf("rollout (%s): %s over %d tenants", s.name, image, n)
	wctx, cancel := context.WithTimeout(ctx, h.readyTimeout(n))
	defer cancel()
	var halted error
	err := poll(wctx, 250*time.Millisecond, func() (bool, error) {
		var p tenantryv1alpha1.TenantPlan
		if err := e.adminClient.Get(wctx, client.ObjectKey{Name: planName}, &p); err != nil {
			return false, nil
		}
		run.Phases = addPhase(run.Phases, &p, time.Since(start).Seconds())
		if st := p.Status.Rollout; st != nil {
			run.Failed = st.Failed
			if p.Status.ObservedGeneration >= p.Generation && (st.Phase == tenantryv1alpha1.RolloutHalted || st.Phase == tenantryv1alpha1.RolloutRolledBack) {
				halted = fmt.Errorf("the rollout ended %s: %s", st.Phase, st.Message)
				return true, nil
			}
			if st.Phase != tenantryv1alpha1.RolloutComplete {
				return false, nil
			}
		}
		var tis tenantryv1alpha1.TenantInstanceList
		if err := e.adminClient.List(wctx, &tis); err != nil {
			return false, nil
		}
		var done bool
		done, run.Updated, run.Ready = rolloutDone(&p, tis.Items, n)
		return done, nil
	})
	run.Sec = time.Since(start).Seconds()
	run.Complete = err == nil && halted == nil
	run.CPU = cpuSince(cpu0, e.markCPU())
	var werr error
	if run.Writes, werr = e.auditWrites(audit0, e.auditOffset(), saUser(managerSA)); werr != nil {
		h.logf("reading the audit log: %v", werr)
	}
	run.WritesPerTenant = ratio(float64(run.Writes.Total), float64(n))
	h.logf("rollout (%s): complete %v after %.1fs, %d writes (%.1f per tenant)", s.name, run.Complete, run.Sec, run.Writes.Total, run.WritesPerTenant)
	if halted != nil {
		return run, halted
	}
	if err != nil {
		return run, fmt.Errorf("rollout (%s) not complete after %.0fs: %d of %d tenants Ready on the new revision: %w", s.name, run.Sec, run.Ready, n, err)
	}
	return run, nil
}
