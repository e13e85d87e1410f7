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

package framework

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The suites and the benchmark read the operator's, the bridge's and the API server's /metrics in
// the Prometheus text exposition format. The parser is written here rather than taken from
// github.com/prometheus/common/expfmt because expfmt's text parser stops at the first line it
// cannot read and returns an error, losing every sample after it; a measurement must not fail
// because one metric of hundreds is odd.

// ScrapeTimeout bounds one Scrape, whatever the client's own timeout.
const ScrapeTimeout = 10 * time.Second

// Sample is one sample line of the text exposition format.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Metrics is one scraped /metrics page, its samples in the order of the page.
type Metrics []Sample

// Scrape fetches and parses a /metrics URL with hc, giving up after ScrapeTimeout. Anything but
// HTTP 200 is an error.
func Scrape(ctx context.Context, hc *http.Client, url string) (Metrics, error) {
	ctx, cancel := context.WithTimeout(ctx, ScrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping %s: HTTP %d", url, resp.StatusCode)
	}
	return ParseMetrics(resp.Body)
}

// ParseMetrics reads the text exposition format: blank lines and comments (# HELP, # TYPE) are
// skipped, every other line is `name{label="value",...} value [timestamp]`. It is lenient: a line
// it cannot read is skipped, so one odd metric never costs a measurement. The error is only the
// reader's (or a line longer than 16 MiB).
func ParseMetrics(r io.Reader) (Metrics, error) {
	var out Metrics
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if s, ok := parseSample(sc.Text()); ok {
			out = append(out, s)
		}
	}
	return out, sc.Err()
}

// parseSample reads one line; false if it is blank, a comment or not a sample.
func parseSample(line string) (Sample, bool) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return Sample{}, false
	}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return Sample{}, false
	}
	s := Sample{Name: line[:i], Labels: map[string]string{}}
	rest := line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, " ,")
			if rest == "" {
				return Sample{}, false
			}
			if rest[0] == '}' {
				rest = rest[1:]
				break
			}
			eq := strings.IndexByte(rest, '=')
			if eq <= 0 || eq+1 >= len(rest) || rest[eq+1] != '"' {
				return Sample{}, false
			}
			key := strings.TrimSpace(rest[:eq])
			rest = rest[eq+2:]
			var val strings.Builder
			j := 0
			for ; j < len(rest) && rest[j] != '"'; j++ {
				if rest[j] == '\\' && j+1 < len(rest) {
					j++
					if rest[j] == 'n' {
						val.WriteByte('\n')
					} else {
						val.WriteByte(rest[j])
					}
					continue
				}
				val.WriteByte(rest[j])
			}
			if j >= len(rest) {
				return Sample{}, false
			}
			s.Labels[key] = val.String()
			rest = rest[j+1:]
		}
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return Sample{}, false
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return Sample{}, false
	}
	s.Value = v
	return s, true
}

// Sum adds every sample called name whose labels include all of match. A match value "!v" means
// any value but v (a missing label included), and "a|b" means a or b.
func (m Metrics) Sum(name string, match map[string]string) float64 {
	total := 0.0
	for _, s := range m {
		if s.Name == name && labelsMatch(s.Labels, match) {
			total += s.Value
		}
	}
	return total
}

// Has reports whether any sample is called name.
func (m Metrics) Has(name string) bool {
	return slices.ContainsFunc(m, func(s Sample) bool { return s.Name == name })
}

// ByLabel sums the samples called name that match (as Sum's) per value of label; a sample
// without label counts under "".
func (m Metrics) ByLabel(name, label string, match map[string]string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range m {
		if s.Name == name && labelsMatch(s.Labels, match) {
			out[s.Labels[label]] += s.Value
		}
	}
	return out
}

// HistogramQuantile estimates quantile q of the histogram name from its cumulative name_bucket
// samples that match (as Sum's), summed per upper bound, as Prometheus' histogram_quantile does:
// linear interpolation inside the bucket holding the rank, the lower bound of the +Inf bucket if
// the rank falls there. NaN if there are no buckets or no observations.
func (m Metrics) HistogramQuantile(name string, match map[string]string, q float64) float64 {
	type bucket struct{ le, count float64 }
	agg := map[float64]float64{}
	for _, s := range m {
		if s.Name != name+"_bucket" || !labelsMatch(s.Labels, match) {
			continue
		}
		le, err := strconv.ParseFloat(s.Labels["le"], 64)
		if err != nil {
			continue
		}
		agg[le] += s.Value
	}
	bs := make([]bucket, 0, len(agg))
	for le, c := range agg {
		bs = append(bs, bucket{le, c})
	}
	if len(bs) == 0 {
		return math.NaN()
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.le, b.le) })
	total := bs[len(bs)-1].count
	if total == 0 {
		return math.NaN()
	}
	rank := q * total
	prevLe, prevCount := 0.0, 0.0
	for _, b := range bs {
		if b.count >= rank {
			if math.IsInf(b.le, 1) {
				return prevLe
			}
			if b.count == prevCount {
				return b.le
			}
			return prevLe + (b.le-prevLe)*(rank-prevCount)/(b.count-prevCount)
		}
		prevLe, prevCount = b.le, b.count
	}
	return prevLe
}

func labelsMatch(labels, match map[string]string) bool {
	for k, want := range match {
		got := labels[k]
		switch {
		case strings.HasPrefix(want, "!"):
			if got == want[1:] {
				return false
			}
		case strings.Contains(want, "|"):
			if !slices.Contains(strings.Split(want, "|"), got) {
				return false
			}
		default:
			if got != want {
				return false
			}
		}
	}
	return true
}
