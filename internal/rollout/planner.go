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

// Package rollout decides which of a plan's tenants move to which revision of its app: the wave
// planner. Plan is a pure function of the strategy, the revisions, what each tenant runs and the
// clock; it keeps no state of its own, so the same fleet at the same time gives the same answer
// whichever operator replica asks.
package rollout

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// maxNamed is how many failed or held tenants a Result names.
const maxNamed = 20

// Tenant is what the planner needs of one tenant of the plan.
type Tenant struct {
	Name string
	// Revision is the revision the tenant is assigned; empty when it has none of this plan (a
	// new tenant, or one that just moved here from another plan).
	Revision string
	// Ready says the tenant is Ready and its Deployment runs Revision.
	Ready bool
	// ReadySince is when it last became Ready (zero when not Ready).
	ReadySince time.Time
	// MovedAt is when it was assigned Revision.
	MovedAt time.Time
	// Held tenants stay on Revision.
	Held bool
	// Canary tenants are in the canary ring: chosen first.
	Canary bool
	// Frozen tenants run no pods: they take a revision at once and count as done.
	Frozen bool
}

// Input is everything Plan decides from.
type Input struct {
	// Strategy of the plan; unset fields take their defaults.
	Strategy tenantryv1alpha1.RolloutStrategy
	// Target is the revision of the plan's app now; Previous the revision the last completed
	// rollout left the fleet on (empty when there is none: every tenant takes Target at once).
	Target, Previous string
	// Halted says a rollout of Target halted before (recorded in the plan's status).
	Halted  bool
	Tenants []Tenant
	Now     time.Time
}

// Move assigns a tenant a revision.
type Move struct {
	Tenant, Revision string
}

// Result is the planner's decision and what it counted.
type Result struct {
	// Moves to make now, by tenant name.
	Moves []Move
	Phase tenantryv1alpha1.RolloutPhase
	// Wave is the number of the last wave started; 0 in the canary.
	Wave int32
	// Counts over the plan's tenants: Updated run Target, Ready run it and are Ready, Failed
	// were not Ready on it within the progress deadline, Held carry the hold annotation.
	Tenants, Updated, Ready, Failed, Held int32
	// FailedTenants and HeldTenants name some of them (held ones not on Target), sorted.
	FailedTenants, HeldTenants []string
	// Halted says the rollout of Target is halted (it just halted, or had before).
	Halted bool
	// Message says what the rollout waits for.
	Message string
	// RequeueAfter is when the clock alone changes the answer (a bake ends, a deadline
	// passes); zero when only a tenant's change can.
	RequeueAfter time.Duration
}

// Plan decides which tenants move next.
//
// Tenants with no revision of the plan take the newest revision not halted at once (new tenants,
// and tenants moved here by a change of SKU). With no previous revision, or when Target is the
// previous revision (a vendor rolling back by hand), every tenant takes Target at once. Otherwise
// the canary moves first (canary-ring tenants, then others by name), must be Ready and stay so
// for the bake time, then waves move the rest, a wave starting when every tenant moved before it
// is Ready, never more than maxUnavailable moved tenants not yet Ready. A tenant moved to Target
// and not Ready within the progress deadline has failed; failureThreshold failures halt the
// rollout for good, and with autoRollback every tenant on Target returns to Previous. Held
// tenants are never moved nor counted as failed; frozen ones move at once (they run no pods).
// Paused moves nothing but new tenants.
func Plan(in Input) Result {
	st := in.Strategy.WithDefaults()
	res := Result{Tenants: int32(len(in.Tenants))}
	tenants := slices.Clone(in.Tenants)
	slices.SortFunc(tenants, func(a, b Tenant) int { return cmp.Compare(a.Name, b.Name) })

	deadline := st.ProgressDeadline.Duration
	var eligible []Tenant // tenants the rollout moves: assigned, not held, not frozen
	var failed []string
	var inFlight, moved, readyMoved int
	var soonest time.Duration
	later := func(d time.Duration) {
		if d > 0 && (soonest == 0 || d < soonest) {
			soonest = d
		}
	}
	newRevision := in.Target
	if in.Halted && in.Previous != "" {
		newRevision = in.Previous
	}
	for _, t := range tenants {
		switch {
		case t.Revision == "":
			res.Moves = append(res.Moves, Move{t.Name, newRevision})
			if newRevision == in.Target {
				res.Updated++
			}
			continue
		case t.Held:
			res.Held++
			if t.Revision == in.Target {
				res.Updated++
				if t.Ready {
					res.Ready++
				}
			} else {
				res.HeldTenants = append(res.HeldTenants, t.Name)
			}
			continue
		case t.Frozen:
			continue // counted below, once we know where the fleet goes
		}
		eligible = append(eligible, t)
		if t.Revision != in.Target {
			continue
		}
		moved++
		res.Updated++
		switch {
		case t.Ready:
			readyMoved++
			res.Ready++
		case !in.Now.Before(t.MovedAt.Add(deadline)):
			failed = append(failed, t.Name)
		default:
			inFlight++
			later(t.MovedAt.Add(deadline).Sub(in.Now))
		}
	}
	res.Failed = int32(len(failed))
	res.FailedTenants = firstN(failed)
	res.HeldTenants = firstN(res.HeldTenants)

	// Frozen tenants follow the fleet at once: back to Previous when it rolls back, else to
	// Target unless paused.
	frozenTo := in.Target
	// With no previous revision, or back on it, there is no rollout to halt.
	rolling := in.Previous != "" && in.Previous != in.Target
	halted := rolling && (in.Halted || int32(len(failed)) >= *st.FailureThreshold)
	rollback := halted && *st.AutoRollback && in.Previous != ""
	if rollback {
		frozenTo = in.Previous
	}
	for _, t := range tenants {
		if !t.Frozen || t.Held || t.Revision == "" {
			continue
		}
		if t.Revision != frozenTo && !st.Paused {
			res.Moves = append(res.Moves, Move{t.Name, frozenTo})
		}
		if frozenTo == in.Target && (t.Revision == in.Target || !st.Paused) {
			res.Updated++
			res.Ready++
		}
	}

	old := make([]Tenant, 0, len(eligible)-moved)
	for _, t := range eligible {
		if t.Revision != in.Target {
			old = append(old, t)
		}
	}
	// Canary-ring tenants move first, then the others by name.
	slices.SortStableFunc(old, func(a, b Tenant) int {
		switch {
		case a.Canary == b.Canary:
			return 0
		case a.Canary:
			return -1
		default:
			return 1
		}
	})
	moveOld := func(n int, to string) {
		for _, t := range old[:min(n, len(old))] {
			res.Moves = append(res.Moves, Move{t.Name, to})
			if to == in.Target {
				res.Updated++
			}
		}
	}

	switch {
	case halted:
		res.Halted = true
		if !rollback {
			res.Phase = tenantryv1alpha1.RolloutHalted
			res.Message = fmt.Sprintf("halted: %d tenants failed on %s: %s; no tenant moves until spec.app changes", len(failed), in.Target, strings.Join(res.FailedTenants, ", "))
			break
		}
		res.Phase = tenantryv1alpha1.RolloutRolledBack
		res.Message = fmt.Sprintf("halted and rolled back to %s: %d tenants failed on %s: %s", in.Previous, len(failed), in.Target, strings.Join(res.FailedTenants, ", "))
		if st.Paused {
			break
		}
		for _, t := range eligible {
			if t.Revision == in.Target {
				res.Moves = append(res.Moves, Move{t.Name, in.Previous})
				res.Updated--
			}
		}
	case st.Paused:
		res.Phase = tenantryv1alpha1.RolloutPaused
		res.Message = "paused: spec.rollout.paused is set"
		if len(old) == 0 && inFlight == 0 {
			res.Phase, res.Message = tenantryv1alpha1.RolloutComplete, ""
		}
	case in.Previous == "" || in.Previous == in.Target:
		moveOld(len(old), in.Target)
		res.Phase = tenantryv1alpha1.RolloutComplete
		if inFlight > 0 || len(old) > 0 {
			res.Phase = tenantryv1alpha1.RolloutWaves
			res.Message = fmt.Sprintf("%d tenants moved to %s at once", len(old), in.Target)
		}
	default:
		res.Phase, res.Wave, res.Message = waves(st, len(eligible), moved, readyMoved, inFlight, eligible, in, moveOld, later, len(old))
	}
	res.RequeueAfter = soonest
	if res.Halted || res.Phase == tenantryv1alpha1.RolloutPaused || res.Phase == tenantryv1alpha1.RolloutComplete {
		res.RequeueAfter = 0
	}
	return res
}

// waves moves the canary, then the waves, and says where the rollout is.
func waves(st tenantryv1alpha1.RolloutStrategy, total, moved, readyMoved, inFlight int, eligible []Tenant, in Input,
	moveOld func(int, string), later func(time.Duration), remaining int) (tenantryv1alpha1.RolloutPhase, int32, string) {
	canary := min(scaled(*st.Canary, total), total)
	if remaining == 0 {
		if inFlight > 0 {
			return tenantryv1alpha1.RolloutWaves, 0, fmt.Sprintf("waiting for %d tenants to become Ready on %s", inFlight, in.Target)
		}
		return tenantryv1alpha1.RolloutComplete, 0, ""
	}
	if moved < canary {
		moveOld(canary-moved, in.Target)
		return tenantryv1alpha1.RolloutCanary, 0, fmt.Sprintf("canary: %d of %d tenants on %s", canary, total, in.Target)
	}
	if moved == canary && canary > 0 {
		if inFlight > 0 || readyMoved < canary {
			return tenantryv1alpha1.RolloutCanary, 0, fmt.Sprintf("canary: waiting for %d tenants to become Ready on %s", canary-readyMoved, in.Target)
		}
		var lastReady time.Time
		for _, t := range eligible {
			if t.Revision == in.Target && t.ReadySince.After(lastReady) {
				lastReady = t.ReadySince
			}
		}
		if bakeEnd := lastReady.Add(st.BakeTime.Duration); in.Now.Before(bakeEnd) {
			later(bakeEnd.Sub(in.Now))
			return tenantryv1alpha1.RolloutBaking, 0, fmt.Sprintf("baking the canary until %s", bakeEnd.UTC().Format(time.RFC3339))
		}
	}
	size := max(scaled(*st.WaveSize, total), 1)
	beyond := moved - canary
	wave := (beyond + size - 1) / size
	if inFlight == 0 && beyond >= wave*size {
		wave++
	}
	boundary := canary + wave*size
	room := max(scaled(*st.MaxUnavailable, total), 1) - inFlight
	if n := min(boundary-moved, room, remaining); n > 0 {
		moveOld(n, in.Target)
	}
	return tenantryv1alpha1.RolloutWaves, int32(wave), fmt.Sprintf("wave %d: %d of %d tenants on %s", wave, min(boundary, total), total, in.Target)
}

// scaled is a count or a percentage of total, rounded up.
func scaled(v intstr.IntOrString, total int) int {
	n, err := intstr.GetScaledValueFromIntOrPercent(&v, total, true)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func firstN(names []string) []string {
	if len(names) > maxNamed {
		return names[:maxNamed]
	}
	return names
}
