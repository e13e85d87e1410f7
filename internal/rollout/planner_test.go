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

package rollout

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1 "github.com/tenantry/tenantry/api/v1alpha1"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	r1 = "plan-r1"
	r2 = "plan-r2"
)

// fleet is n tenants t00, t01… all Ready on rev since an hour ago.
func fleet(n int, rev string) []Tenant {
	ts := make([]Tenant, n)
	for i := range ts {
		ts[i] = Tenant{Name: fmt.Sprintf("t%02d", i), Revision: rev, Ready: true,
			ReadySince: now.Add(-time.Hour), MovedAt: now.Add(-2 * time.Hour)}
	}
	return ts
}

// with applies f to the tenants named.
func with(ts []Tenant, f func(*Tenant), names ...string) []Tenant {
	for i := range ts {
		if slices.Contains(names, ts[i].Name) {
			f(&ts[i])
		}
	}
	return ts
}

func onTarget(movedAgo time.Duration, ready bool, readyAgo time.Duration) func(*Tenant) {
	return func(t *Tenant) {
		t.Revision, t.MovedAt, t.Ready = r2, now.Add(-movedAgo), ready
		t.ReadySince = time.Time{}
		if ready {
			t.ReadySince = now.Add(-readyAgo)
		}
	}
}

func moves(rev string, names ...string) []Move {
	out := make([]Move, 0, len(names))
	for _, n := range names {
		out = append(out, Move{n, rev})
	}
	return out
}

func pct(s string) *intstr.IntOrString { v := intstr.FromString(s); return &v }
func num(n int32) *intstr.IntOrString  { v := intstr.FromInt32(n); return &v }
func dur(d time.Duration) *metav1.Duration {
	return &metav1.Duration{Duration: d}
}

func TestPlan(t *testing.T) {
	allAtOnce := v1.RolloutStrategy{Canary: num(0), BakeTime: dur(0), WaveSize: pct("100%"), MaxUnavailable: pct("100%")}
	tests := []struct {
		name     string
		in       Input
		moves    []Move
		phase    v1.RolloutPhase
		wave     int32
		counts   [5]int32 // tenants, updated, ready, failed, held
		failed   []string
		held     []string
		halted   bool
		requeue  time.Duration
		contains string
	}{
		{
			name:  "no previous revision: everyone at once",
			in:    Input{Target: r2, Tenants: fleet(3, r1)},
			moves: moves(r2, "t00", "t01", "t02"), phase: v1.RolloutWaves, counts: [5]int32{3, 3, 0, 0, 0},
		},
		{
			name:  "target is the previous revision (a rollback by hand): everyone at once",
			in:    Input{Target: r1, Previous: r1, Tenants: with(fleet(3, r1), onTarget(time.Minute, false, 0), "t01")},
			moves: moves(r1, "t01"), phase: v1.RolloutWaves, counts: [5]int32{3, 3, 2, 0, 0},
		},
		{
			name:  "no previous revision: a tenant past the deadline halts nothing",
			in:    Input{Target: r2, Tenants: with(fleet(2, r2), onTarget(time.Hour, false, 0), "t00")},
			phase: v1.RolloutComplete, counts: [5]int32{2, 2, 1, 1, 0}, failed: []string{"t00"},
		},
		{
			name:  "default strategy: a canary of one, the first by name",
			in:    Input{Target: r2, Previous: r1, Tenants: fleet(10, r1)},
			moves: moves(r2, "t00"), phase: v1.RolloutCanary, counts: [5]int32{10, 1, 0, 0, 0},
		},
		{
			name:  "a single tenant under the default strategy: the canary is the whole fleet",
			in:    Input{Target: r2, Previous: r1, Tenants: fleet(1, r1)},
			moves: moves(r2, "t00"), phase: v1.RolloutCanary, counts: [5]int32{1, 1, 0, 0, 0},
		},
		{
			name:  "a single tenant Ready on the target: complete, no bake",
			in:    Input{Target: r2, Previous: r1, Tenants: with(fleet(1, r1), onTarget(time.Minute, true, time.Second), "t00")},
			phase: v1.RolloutComplete, counts: [5]int32{1, 1, 1, 0, 0},
		},
		{
			name: "canary-ring tenants go first",
			in: Input{Target: r2, Previous: r1, Strategy: v1.RolloutStrategy{Canary: num(2)},
				Tenants: with(fleet(5, r1), func(t *Tenant) { t.Canary = true }, "t03")},
			moves: moves(r2, "t03", "t00"), phase: v1.RolloutCanary, counts: [5]int32{5, 2, 0, 0, 0},
		},
		{
			name: "canary percentage rounds up",
			in: Input{Target: r2, Previous: r1, Strategy: v1.RolloutStrategy{Canary: pct("10%")},
				Tenants: fleet(11, r1)},
			moves: moves(r2, "t00", "t01"), phase: v1.RolloutCanary, counts: [5]int32{11, 2, 0, 0, 0},
		},
		{
			name: "canary moved, not Ready yet: wait",
			in: Input{Target: r2, Previous: r1, Now: now,
				Tenants: with(fleet(4, r1), onTarget(time.Minute, false, 0), "t00")},
			phase: v1.RolloutCanary, counts: [5]int32{4, 1, 0, 0, 0}, requeue: 9 * time.Minute, contains: "waiting for 1",
		},
		{
			name: "canary Ready, baking",
			in: Input{Target: r2, Previous: r1, Now: now,
				Tenants: with(fleet(4, r1), onTarget(5*time.Minute, true, 4*time.Minute), "t00")},
			phase: v1.RolloutBaking, counts: [5]int32{4, 1, 1, 0, 0}, requeue: 6 * time.Minute,
		},
		{
			name: "canary baked: wave 1 of 25%, at most 10% not Ready (rounded up to 1)",
			in: Input{Target: r2, Previous: r1, Now: now,
				Tenants: with(fleet(8, r1), onTarget(15*time.Minute, true, 11*time.Minute), "t00")},
			moves: moves(r2, "t01"), phase: v1.RolloutWaves, wave: 1, counts: [5]int32{8, 2, 1, 0, 0},
		},
		{
			name: "waves of 2 with room for 2: the second wave starts once the first is Ready",
			in: Input{Target: r2, Previous: r1, Now: now,
				Strategy: v1.RolloutStrategy{Canary: num(1), BakeTime: dur(0), WaveSize: num(2), MaxUnavailable: num(2)},
				Tenants:  with(fleet(8, r1), onTarget(time.Minute, true, time.Second), "t00", "t01", "t02")},
			moves: moves(r2, "t03", "t04"), phase: v1.RolloutWaves, wave: 2, counts: [5]int32{8, 5, 3, 0, 0},
		},
		{
			name: "a wave in flight: no next wave, the rest of the current one within maxUnavailable",
			in: Input{Target: r2, Previous: r1, Now: now,
				Strategy: v1.RolloutStrategy{Canary: num(1), BakeTime: dur(0), WaveSize: num(3), MaxUnavailable: num(2)},
				Tenants: with(with(fleet(8, r1), onTarget(time.Minute, true, time.Second), "t00", "t01"),
					onTarget(time.Minute, false, 0), "t02")},
			moves: moves(r2, "t03"), phase: v1.RolloutWaves, wave: 1, counts: [5]int32{8, 4, 2, 0, 0}, requeue: 9 * time.Minute,
		},
		{
			name: "the last wave Ready: complete",
			in: Input{Target: r2, Previous: r1, Now: now,
				Tenants: with(fleet(3, r1), onTarget(time.Hour, true, time.Minute), "t00", "t01", "t02")},
			phase: v1.RolloutComplete, counts: [5]int32{3, 3, 3, 0, 0},
		},
		{
			name:  "all at once strategy: everyone in the first wave",
			in:    Input{Target: r2, Previous: r1, Now: now, Strategy: allAtOnce, Tenants: fleet(4, r1)},
			moves: moves(r2, "t00", "t01", "t02", "t03"), phase: v1.RolloutWaves, wave: 1,
			counts: [5]int32{4, 4, 0, 0, 0},
		},
		{
			name: "a tenant past the deadline halts at the default threshold and rolls back the moved",
			in: Input{Target: r2, Previous: r1, Now: now,
				Tenants: with(with(fleet(5, r1), onTarget(11*time.Minute, false, 0), "t00"),
					onTarget(time.Hour, true, time.Minute), "t01")},
			moves: moves(r1, "t00", "t01"), phase: v1.RolloutRolledBack, counts: [5]int32{5, 0, 1, 1, 0},
			failed: []string{"t00"}, halted: true, contains: "t00",
		},
		{
			name: "halt without autoRollback: nothing moves",
			in: Input{Target: r2, Previous: r1, Now: now, Strategy: v1.RolloutStrategy{AutoRollback: new(false)},
				Tenants: with(fleet(5, r1), onTarget(11*time.Minute, false, 0), "t00")},
			phase: v1.RolloutHalted, counts: [5]int32{5, 1, 0, 1, 0}, failed: []string{"t00"}, halted: true,
		},
		{
			name: "failures below the threshold: the rollout goes on, failures do not block a wave",
			in: Input{Target: r2, Previous: r1, Now: now,
				Strategy: v1.RolloutStrategy{Canary: num(0), WaveSize: num(2), MaxUnavailable: num(2), FailureThreshold: new(int32(2))},
				Tenants: with(with(fleet(5, r1), onTarget(11*time.Minute, false, 0), "t00"),
					onTarget(11*time.Minute, true, time.Minute), "t01")},
			moves: moves(r2, "t02", "t03"), phase: v1.RolloutWaves, wave: 2, counts: [5]int32{5, 4, 1, 1, 0},
			failed: []string{"t00"},
		},
		{
			name: "halted before: stays halted though the failed tenant is now Ready, new tenants start on the previous revision",
			in: Input{Target: r2, Previous: r1, Now: now, Halted: true, Strategy: v1.RolloutStrategy{AutoRollback: new(false)},
				Tenants: with(with(fleet(3, r1), onTarget(time.Hour, true, time.Minute), "t00"),
					func(t *Tenant) { t.Revision = "" }, "t02")},
			moves: moves(r1, "t02"), phase: v1.RolloutHalted, counts: [5]int32{3, 1, 1, 0, 0}, halted: true,
		},
		{
			name: "new tenants take the target at once during a rollout, outside the canary count",
			in: Input{Target: r2, Previous: r1, Now: now,
				Tenants: with(with(fleet(4, r1), onTarget(time.Minute, false, 0), "t00"),
					func(t *Tenant) { t.Revision = "" }, "t03")},
			moves: moves(r2, "t03"), phase: v1.RolloutCanary, counts: [5]int32{4, 2, 0, 0, 0}, requeue: 9 * time.Minute,
		},
		{
			name: "held tenants are passed by, reported, and a held failure is no failure",
			in: Input{Target: r2, Previous: r1, Now: now, Strategy: v1.RolloutStrategy{Canary: num(2)},
				Tenants: with(with(fleet(4, r1), func(t *Tenant) { t.Held = true }, "t00"),
					func(t *Tenant) { t.Held = true; onTarget(time.Hour, false, 0)(t) }, "t01")},
			moves: moves(r2, "t02", "t03"), phase: v1.RolloutCanary, counts: [5]int32{4, 3, 0, 0, 2},
			held: []string{"t00"},
		},
		{
			name: "frozen tenants take the target at once and count as done",
			in: Input{Target: r2, Previous: r1, Now: now,
				Tenants: with(fleet(3, r1), func(t *Tenant) { t.Frozen = true; t.Ready = false }, "t00")},
			moves: append(moves(r2, "t00"), moves(r2, "t01")...), phase: v1.RolloutCanary, counts: [5]int32{3, 2, 1, 0, 0},
		},
		{
			name: "paused: nothing moves but new tenants",
			in: Input{Target: r2, Previous: r1, Now: now, Strategy: v1.RolloutStrategy{Paused: true},
				Tenants: with(with(fleet(3, r1), func(t *Tenant) { t.Frozen = true }, "t00"), func(t *Tenant) { t.Revision = "" }, "t02")},
			moves: moves(r2, "t02"), phase: v1.RolloutPaused, counts: [5]int32{3, 1, 0, 0, 0},
		},
		{
			name: "paused with nothing left to move is complete",
			in: Input{Target: r2, Previous: r1, Now: now, Strategy: v1.RolloutStrategy{Paused: true},
				Tenants: with(fleet(2, r1), onTarget(time.Hour, true, time.Minute), "t00", "t01")},
			phase: v1.RolloutComplete, counts: [5]int32{2, 2, 2, 0, 0},
		},
		{
			name:  "rolled back tenants already on the previous revision: nothing left to move",
			in:    Input{Target: r2, Previous: r1, Now: now, Halted: true, Tenants: fleet(3, r1)},
			phase: v1.RolloutRolledBack, counts: [5]int32{3, 0, 0, 0, 0}, halted: true,
		},
		{
			name: "a frozen tenant returns with a rollback",
			in: Input{Target: r2, Previous: r1, Now: now, Halted: true,
				Tenants: with(fleet(2, r1), func(t *Tenant) { t.Frozen = true; t.Revision = r2 }, "t01")},
			moves: moves(r1, "t01"), phase: v1.RolloutRolledBack, counts: [5]int32{2, 0, 0, 0, 0}, halted: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in.Now.IsZero() {
				tc.in.Now = now
			}
			got := Plan(tc.in)
			if !reflect.DeepEqual(got.Moves, tc.moves) && (len(got.Moves) != 0 || len(tc.moves) != 0) {
				t.Errorf("moves = %v, want %v", got.Moves, tc.moves)
			}
			if got.Phase != tc.phase || got.Wave != tc.wave {
				t.Errorf("phase = %s wave %d, want %s wave %d (%s)", got.Phase, got.Wave, tc.phase, tc.wave, got.Message)
			}
			if c := [5]int32{got.Tenants, got.Updated, got.Ready, got.Failed, got.Held}; c != tc.counts {
				t.Errorf("tenants, updated, ready, failed, held = %v, want %v", c, tc.counts)
			}
			if !slices.Equal(got.FailedTenants, tc.failed) || !slices.Equal(got.HeldTenants, tc.held) {
				t.Errorf("failed %v held %v, want %v %v", got.FailedTenants, got.HeldTenants, tc.failed, tc.held)
			}
			if got.Halted != tc.halted || got.RequeueAfter != tc.requeue {
				t.Errorf("halted %v requeue %v, want %v %v", got.Halted, got.RequeueAfter, tc.halted, tc.requeue)
			}
			if tc.contains != "" && !strings.Contains(got.Message, tc.contains) {
				t.Errorf("message %q does not mention %q", got.Message, tc.contains)
			}
		})
	}
}

// TestPlanWalksTheFleet drives a fleet of 20 through a whole rollout, each tenant becoming Ready
// a minute after it moves: the canary, the bake, then waves that never have more than
// maxUnavailable tenants not Ready, in order, to Complete.
func TestPlanWalksTheFleet(t *testing.T) {
	st := v1.RolloutStrategy{Canary: num(2), BakeTime: dur(10 * time.Minute), WaveSize: pct("25%"), MaxUnavailable: num(3)}
	ts := fleet(20, r1)
	clock := now
	var phases []v1.RolloutPhase
	for range 200 {
		res := Plan(Input{Strategy: st, Target: r2, Previous: r1, Tenants: ts, Now: clock})
		if len(phases) == 0 || phases[len(phases)-1] != res.Phase {
			phases = append(phases, res.Phase)
		}
		if res.Phase == v1.RolloutComplete {
			break
		}
		notReady := 0
		for _, tn := range ts {
			if tn.Revision == r2 && !tn.Ready {
				notReady++
			}
		}
		if notReady+len(res.Moves) > 3 && res.Phase == v1.RolloutWaves {
			t.Fatalf("%d tenants not Ready at once, max 3", notReady+len(res.Moves))
		}
		for _, m := range res.Moves {
			i := slices.IndexFunc(ts, func(x Tenant) bool { return x.Name == m.Tenant })
			ts[i].Revision, ts[i].MovedAt, ts[i].Ready, ts[i].ReadySince = m.Revision, clock, false, time.Time{}
		}
		clock = clock.Add(time.Minute)
		for i := range ts {
			if ts[i].Revision == r2 && !ts[i].Ready && !clock.Before(ts[i].MovedAt.Add(time.Minute)) {
				ts[i].Ready, ts[i].ReadySince = true, clock
			}
		}
	}
	want := []v1.RolloutPhase{v1.RolloutCanary, v1.RolloutBaking, v1.RolloutWaves, v1.RolloutComplete}
	if !slices.Equal(phases, want) {
		t.Fatalf("phases %v, want %v", phases, want)
	}
	for _, tn := range ts {
		if tn.Revision != r2 || !tn.Ready {
			t.Fatalf("tenant %s on %s ready %v at the end", tn.Name, tn.Revision, tn.Ready)
		}
	}
	if elapsed := clock.Sub(now); elapsed < 12*time.Minute {
		t.Fatalf("finished in %s: the bake of 10m cannot have been kept", elapsed)
	}
}
