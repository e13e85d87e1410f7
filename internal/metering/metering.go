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

// Package metering is the pure part of pay-per-use usage metering (docs/metering.md): a plan's
// meter, periods and their metering_sn, the accounting that turns what the operator observes
// into closed periods recorded on the instance's status, rounding, the usage push's wire format,
// signature and client, and the Prometheus source's query client. It keeps no state of its own:
// everything that must survive a restart is in the MeteringStatus it is given.
package metering

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Defaults and limits.
const (
	DefaultPeriod   = time.Hour
	DefaultDecimals = 4
	// MaxBatch is the most records one push carries (docs/protocol.md §7: 100 is safe).
	MaxBatch = 100
	// MaxAge is how old a record's begin_time may be when the marketplace receives it.
	MaxAge = 21 * 24 * time.Hour
	// TimeFormat is the usage push's time format.
	TimeFormat = "20060102T150405Z"
	msPerHour  = int64(time.Hour / time.Millisecond)
)

// Meter is a plan's spec.metering, parsed.
type Meter struct {
	Source   tenantryv1alpha1.MeteringSource
	Period   time.Duration
	Scale    *big.Rat
	Decimals int
	Rounding tenantryv1alpha1.MeteringRounding
	Query    string
}

// FromPlan parses a plan's meter. periodOverride, when positive, replaces the plan's period (the
// operator's --metering-period, for tests and demos).
func FromPlan(m *tenantryv1alpha1.Metering, periodOverride time.Duration) (Meter, error) {
	if m == nil {
		return Meter{}, errors.New("the plan has no meter")
	}
	out := Meter{Source: m.Source, Period: DefaultPeriod, Scale: big.NewRat(1, 1), Decimals: DefaultDecimals,
		Rounding: m.Rounding, Query: m.Query}
	switch m.Source {
	case tenantryv1alpha1.MeteringActiveHours, tenantryv1alpha1.MeteringReadyReplicaHours, tenantryv1alpha1.MeteringDirectoryUsers:
	case tenantryv1alpha1.MeteringPrometheus:
		if m.Query == "" {
			return Meter{}, errors.New("spec.metering.query is required for the Prometheus source")
		}
	default:
		return Meter{}, fmt.Errorf("unknown metering source %q", m.Source)
	}
	if m.Period != nil {
		out.Period = m.Period.Duration
	}
	if periodOverride > 0 {
		out.Period = periodOverride
	}
	if out.Period < time.Second || out.Period%time.Second != 0 {
		return Meter{}, fmt.Errorf("metering period %s is not a whole number of seconds of at least 1s", out.Period)
	}
	if m.UnitScale != "" {
		if _, ok := out.Scale.SetString(m.UnitScale); !ok || out.Scale.Sign() < 0 {
			return Meter{}, fmt.Errorf("spec.metering.unitScale %q is not a non-negative decimal", m.UnitScale)
		}
	}
	if m.Decimals != nil {
		out.Decimals = int(*m.Decimals)
	}
	if out.Decimals < 0 || out.Decimals > 4 {
		return Meter{}, fmt.Errorf("spec.metering.decimals %d is outside 0..4", out.Decimals)
	}
	if out.Rounding == "" {
		out.Rounding = tenantryv1alpha1.RoundUp
	}
	return out, nil
}

// Sampled reports whether the meter's quantity is sampled at the end of a period rather than
// accumulated over it.
func (m Meter) Sampled() bool {
	return m.Source == tenantryv1alpha1.MeteringDirectoryUsers || m.Source == tenantryv1alpha1.MeteringPrometheus
}

// PeriodEnd is the end of the period that contains t: the next multiple of period since the Unix
// epoch after t.
func PeriodEnd(t time.Time, period time.Duration) time.Time {
	p := int64(period / time.Second)
	s := t.Unix()
	return time.Unix((s/p+1)*p, 0).UTC()
}

// SN is the metering_sn of the record of instanceID's period starting at start: the same for
// every resend, different for every other period or instance, 42 characters.
func SN(instanceID string, start time.Time) string {
	sum := sha256.Sum256([]byte(instanceID + "\x00" + start.UTC().Format(TimeFormat)))
	return "tm" + hex.EncodeToString(sum[:20])
}

// Round rounds v to decimals with mode and formats it without trailing zeros ("1.5", "2").
func Round(v *big.Rat, decimals int, mode tenantryv1alpha1.MeteringRounding) string {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)
	scaled := new(big.Rat).Mul(v, new(big.Rat).SetInt(scale))
	q, r := new(big.Int).QuoRem(scaled.Num(), scaled.Denom(), new(big.Int))
	if r.Sign() != 0 && scaled.Sign() > 0 {
		switch mode {
		case tenantryv1alpha1.RoundUp:
			q.Add(q, big.NewInt(1))
		case tenantryv1alpha1.RoundNearest:
			if new(big.Int).Mul(r, big.NewInt(2)).Cmp(scaled.Denom()) >= 0 {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	return trimDecimal(new(big.Rat).SetFrac(q, scale).FloatString(decimals))
}

func trimDecimal(s string) string {
	for len(s) > 1 && s[len(s)-1] == '0' && containsDot(s) {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

func containsDot(s string) bool {
	for i := range len(s) {
		if s[i] == '.' {
			return true
		}
	}
	return false
}

// Sum adds decimal strings (an empty one counts as zero) and formats the result like Round.
func Sum(values ...string) (string, error) {
	total := new(big.Rat)
	for _, v := range values {
		if v == "" {
			continue
		}
		r, ok := new(big.Rat).SetString(v)
		if !ok {
			return "", fmt.Errorf("%q is not a decimal", v)
		}
		total.Add(total, r)
	}
	return trimDecimal(total.FloatString(DefaultDecimals)), nil
}

// Observation is what the operator sees of an instance now.
type Observation struct {
	// Rate is what accrues per millisecond now: 1 Active / 0 Frozen for ActiveHours, the ready
	// replicas for ReadyReplicaHours, 0 for sampled sources.
	Rate int32
	// RateSince is when Rate took effect, if known (the send time of the call that set the
	// lifecycle); zero means now. It is clamped to the accounting's checkpoint.
	RateSince time.Time
	// Until ends accounting (the release's deletion time); zero for none.
	Until time.Time
}

// Sampler returns the quantity of a sampled source for the period [start, end), before scaling.
type Sampler func(ctx context.Context, start, end time.Time) (*big.Rat, error)

// ErrBacklogFull says that no more periods can be closed until the marketplace acknowledges some.
var ErrBacklogFull = errors.New("too many unreported periods; closing more waits for the marketplace")

// Advance brings st up to now: it accrues the rate in force since the checkpoint, moves to the
// observed rate from the time it took effect, and closes every period that ended, appending a
// record for each one with usage. created is the instance's creation time: the first period
// starts there. It reports whether st changed: only a new rate or a period's end changes it, never
// the mere passing of time within a period, so looking again costs no write. An error (a sample that failed, a full backlog)
// leaves st advanced as far as it got, consistent and worth persisting.
func (m Meter) Advance(ctx context.Context, st *tenantryv1alpha1.MeteringStatus, created, now time.Time, obs Observation, sample Sampler) (bool, error) {
	if st.Closed {
		return false, nil
	}
	before := st.DeepCopy()
	err := m.advance(ctx, st, created, now, obs, sample)
	return !equality.Semantic.DeepEqual(before, st), err
}

func (m Meter) advance(ctx context.Context, st *tenantryv1alpha1.MeteringStatus, created, now time.Time, obs Observation, sample Sampler) error {
	now = now.UTC().Truncate(time.Second)
	if !obs.Until.IsZero() && obs.Until.Before(now) {
		now = obs.Until.UTC().Truncate(time.Second)
	}
	if st.PeriodStart == nil {
		start := metav1.NewTime(created.UTC().Truncate(time.Second))
		st.PeriodStart, st.Checkpoint = &start, start.DeepCopy()
		st.Source, st.Rate, st.Accumulated = m.Source, obs.Rate, 0
	}
	if now.Before(st.Checkpoint.Time) {
		return nil
	}
	if obs.Rate != st.Rate {
		at := now
		if !obs.RateSince.IsZero() {
			at = obs.RateSince.UTC().Truncate(time.Second)
			if at.Before(st.Checkpoint.Time) {
				at = st.Checkpoint.Time
			}
			if at.After(now) {
				at = now
			}
		}
		if err := m.accrue(ctx, st, at, sample); err != nil {
			return err
		}
		st.Rate = obs.Rate
	}
	// The checkpoint moves only with a change of rate or a period's end: while the rate holds,
	// what accrues up to any time is the accumulation plus the rate times the time since the
	// checkpoint, so recording "now" would change nothing billable and cost a write.
	for end := PeriodEnd(st.PeriodStart.Time, m.Period); !now.Before(end); end = PeriodEnd(st.PeriodStart.Time, m.Period) {
		if err := m.closePeriod(ctx, st, end, sample); err != nil {
			return err
		}
	}
	return nil
}

// Close ends accounting at until (the release's deletion time): it accrues up to it, closes the
// last, partial period and marks st closed. Nothing opens after it.
func (m Meter) Close(ctx context.Context, st *tenantryv1alpha1.MeteringStatus, created, until time.Time, obs Observation, sample Sampler) error {
	if st.Closed {
		return nil
	}
	obs.Until = until
	if _, err := m.Advance(ctx, st, created, until, obs, sample); err != nil {
		return err
	}
	until = until.UTC().Truncate(time.Second)
	if until.After(st.PeriodStart.Time) {
		if err := m.closePeriod(ctx, st, until, sample); err != nil {
			return err
		}
	}
	st.Closed = true
	return nil
}

// accrue moves the checkpoint to t, closing the periods that end on the way.
func (m Meter) accrue(ctx context.Context, st *tenantryv1alpha1.MeteringStatus, t time.Time, sample Sampler) error {
	for {
		end := PeriodEnd(st.PeriodStart.Time, m.Period)
		if t.Before(end) {
			st.Accumulated += int64(st.Rate) * t.Sub(st.Checkpoint.Time).Milliseconds()
			st.Checkpoint = &metav1.Time{Time: t}
			return nil
		}
		if err := m.closePeriod(ctx, st, end, sample); err != nil {
			return err
		}
	}
}

// closePeriod closes the open period at end (a period boundary, or the release).
func (m Meter) closePeriod(ctx context.Context, st *tenantryv1alpha1.MeteringStatus, end time.Time, sample Sampler) error {
	if len(st.Pending) >= tenantryv1alpha1.MaxPendingUsageRecords {
		return ErrBacklogFull
	}
	acc := st.Accumulated + int64(st.Rate)*end.Sub(st.Checkpoint.Time).Milliseconds()
	var qty *big.Rat
	if m.Sampled() {
		if sample == nil {
			return errors.New("no sampler for a sampled source")
		}
		var err error
		if qty, err = sample(ctx, st.PeriodStart.Time, end); err != nil {
			return fmt.Errorf("sampling %s for the period ending %s: %w", m.Source, end.Format(time.RFC3339), err)
		}
		if qty.Sign() < 0 {
			qty = new(big.Rat)
		}
	} else {
		qty = big.NewRat(acc, msPerHour)
	}
	value := Round(new(big.Rat).Mul(qty, m.Scale), m.Decimals, m.Rounding)
	if value != "0" {
		st.Pending = append(st.Pending, tenantryv1alpha1.UsageRecord{
			Start: *st.PeriodStart.DeepCopy(), End: metav1.Time{Time: end}, Value: value})
	}
	st.PeriodStart = &metav1.Time{Time: end}
	st.Checkpoint = &metav1.Time{Time: end}
	st.Accumulated = 0
	st.Source = m.Source
	return nil
}

// Acknowledge records that the marketplace took the records of st starting at starts: they
// leave pending, their values join cumulative and reportedThrough moves to the latest end. It
// reports whether st changed; a start not pending (acknowledged before) changes nothing.
func Acknowledge(st *tenantryv1alpha1.MeteringStatus, starts []time.Time) (bool, error) {
	acked := map[int64]bool{}
	for _, s := range starts {
		acked[s.Unix()] = true
	}
	kept := st.Pending[:0:0]
	values := []string{st.Cumulative}
	changed := false
	for _, r := range st.Pending {
		if !acked[r.Start.Unix()] {
			kept = append(kept, r)
			continue
		}
		changed = true
		values = append(values, r.Value)
		if st.ReportedThrough == nil || r.End.After(st.ReportedThrough.Time) {
			st.ReportedThrough = r.End.DeepCopy()
		}
	}
	if !changed {
		return false, nil
	}
	total, err := Sum(values...)
	if err != nil {
		return false, err
	}
	st.Pending, st.Cumulative = kept, total
	if len(st.Pending) == 0 {
		st.Pending = nil
	}
	return true, nil
}
