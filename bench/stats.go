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
	"math"
	"slices"
	"time"
)

// Latency summarises a set of durations in milliseconds, the unit every table of the report uses.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50Ms"`
	P90   float64 `json:"p90Ms"`
	P99   float64 `json:"p99Ms"`
	P999  float64 `json:"p999Ms"`
	Max   float64 `json:"maxMs"`
	Mean  float64 `json:"meanMs"`
}

// summarize computes nearest-rank percentiles (the smallest value with at least q of the samples
// at or below it), so a p99 over 200 samples is the second largest, never an interpolation.
func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	var total time.Duration
	for _, d := range s {
		total += d
	}
	return Latency{
		Count: len(s),
		P50:   ms(quantile(s, 0.50)),
		P90:   ms(quantile(s, 0.90)),
		P99:   ms(quantile(s, 0.99)),
		P999:  ms(quantile(s, 0.999)),
		Max:   ms(s[len(s)-1]),
		Mean:  ms(total / time.Duration(len(s))),
	}
}

// quantile is the nearest-rank quantile of sorted.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q*float64(len(sorted)))) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// rate is events per second, 0 for an empty interval.
func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// ratio is a/b, 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Point is one sample of a time series: seconds since the phase started, and a value.
type Point struct {
	T float64 `json:"t"`
	V float64 `json:"v"`
}

// cumulative turns completion times into a step series "how many were done by t".
func cumulative(start time.Time, done []time.Time) []Point {
	ts := slices.Clone(done)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	out := make([]Point, 0, len(ts)+1)
	out = append(out, Point{0, 0})
	for i, t := range ts {
		out = append(out, Point{T: t.Sub(start).Seconds(), V: float64(i + 1)})
	}
	return out
}

// readiness summarises a phase's tenants becoming Ready: ready and created are when each tenant
// (by name) became Ready and was created, start is when the phase started.
type readiness struct {
	count   int
	series  []Point // cumulative, from start
	latency Latency // create to Ready, of the tenants whose create time is known
	// elapsedSec runs from start to the last tenant Ready, perSec is the rate over it; both 0
	// if none became Ready.
	elapsedSec, perSec float64
}

func readinessOf(start time.Time, ready, created map[string]time.Time) readiness {
	var last time.Time
	ts := make([]time.Time, 0, len(ready))
	lat := make([]time.Duration, 0, len(ready))
	for name, t := range ready {
		ts = append(ts, t)
		if t.After(last) {
			last = t
		}
		if c, ok := created[name]; ok {
			lat = append(lat, t.Sub(c))
		}
	}
	r := readiness{count: len(ready), series: cumulative(start, ts), latency: summarize(lat)}
	if !last.IsZero() {
		r.elapsedSec = last.Sub(start).Seconds()
		r.perSec = rate(len(ts), last.Sub(start))
	}
	return r
}
