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
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSample(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
		want Sample
		ok   bool
	}{
		{"a counter without labels", `up 1`, Sample{Name: "up", Labels: map[string]string{}, Value: 1}, true},
		{"a gauge with a label", `leader_election_master_status{name="tenantry-operator.tenantry.io"} 1`,
			Sample{Name: "leader_election_master_status", Labels: map[string]string{"name": "tenantry-operator.tenantry.io"}, Value: 1}, true},
		{"a counter with several labels", `rest_client_requests_total{code="200",host="127.0.0.1:6443",method="PATCH"} 390`,
			Sample{Name: "rest_client_requests_total", Labels: map[string]string{"code": "200", "host": "127.0.0.1:6443", "method": "PATCH"}, Value: 390}, true},
		{"escaped quotes and backslashes, an exponent, a timestamp", `m{a="x\"y",b="1\\2"} 2.5e+03 1700000000000`,
			Sample{Name: "m", Labels: map[string]string{"a": `x"y`, "b": `1\2`}, Value: 2500}, true},
		{"a quoted comma and an escaped newline", `x{msg="a \"quoted\", comma\nsecond line"} 2.5e+00`,
			Sample{Name: "x", Labels: map[string]string{"msg": "a \"quoted\", comma\nsecond line"}, Value: 2.5}, true},
		{"a trailing comma and spaces", `  x{a="1", } 3  `, Sample{Name: "x", Labels: map[string]string{"a": "1"}, Value: 3}, true},
		{"a +Inf bucket", `h_bucket{le="+Inf"} 7`, Sample{Name: "h_bucket", Labels: map[string]string{"le": "+Inf"}, Value: 7}, true},
		{"a NaN value", `q{quantile="0.5"} NaN`, Sample{Name: "q", Labels: map[string]string{"quantile": "0.5"}, Value: math.NaN()}, true},
		{"a comment", `# HELP x something`, Sample{}, false},
		{"a blank line", `   `, Sample{}, false},
		{"an unterminated label value", `broken{a="x 1`, Sample{}, false},
		{"an unclosed label set", `broken{a="x" 1`, Sample{}, false},
		{"a label without a value", `x{broken 1`, Sample{}, false},
		{"an unquoted label value", `x{a=1} 1`, Sample{}, false},
		{"no value", `novalue`, Sample{}, false},
		{"labels but no value", `x{a="1"}`, Sample{}, false},
		{"a value that is no number", `x{a="1"} one`, Sample{}, false},
	} {
		got, ok := parseSample(tc.line)
		if ok != tc.ok {
			t.Errorf("%s: parseSample(%q) ok = %v, want %v", tc.name, tc.line, ok, tc.ok)
			continue
		}
		if diff := cmp.Diff(tc.want, got, cmp.Comparer(sameFloat)); diff != "" {
			t.Errorf("%s: parseSample(%q) (-want +got):\n%s", tc.name, tc.line, diff)
		}
	}
}

// sameFloat is == except that NaN equals NaN.
func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func TestParseMetricsSkipsWhatItCannotRead(t *testing.T) {
	got, err := ParseMetrics(strings.NewReader(`# HELP a A counter.
# TYPE a counter
a{x="1"} 1
b{broken 1

c 3
`))
	if err != nil {
		t.Fatal(err)
	}
	want := Metrics{
		{Name: "a", Labels: map[string]string{"x": "1"}, Value: 1},
		{Name: "c", Labels: map[string]string{}, Value: 3},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMetricsSum(t *testing.T) {
	m, err := ParseMetrics(strings.NewReader(`# HELP x y
# TYPE rest_client_requests_total counter
rest_client_requests_total{method="GET"} 5
rest_client_requests_total{method="PATCH"} 7
rest_client_requests_total{method="POST"} 3
rest_client_requests_total{method="PUT"} 2
workqueue_depth{name="tenantinstance"} 4
workqueue_depth{name="other"} 9
workqueue_depth 1
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		match map[string]string
		want  float64
	}{
		{"rest_client_requests_total", nil, 17},
		{"rest_client_requests_total", map[string]string{"method": "POST|PUT|PATCH|DELETE"}, 12},
		{"rest_client_requests_total", map[string]string{"method": "!GET"}, 12},
		{"rest_client_requests_total", map[string]string{"method": "GET", "code": "200"}, 0},
		{"workqueue_depth", map[string]string{"name": "tenantinstance"}, 4},
		{"workqueue_depth", map[string]string{"name": "!other"}, 5},
		{"workqueue_depth", nil, 14},
		{"missing", nil, 0},
	} {
		if got := m.Sum(tc.name, tc.match); got != tc.want {
			t.Errorf("Sum(%s, %v) = %v, want %v", tc.name, tc.match, got, tc.want)
		}
	}
	if !m.Has("workqueue_depth") || m.Has("workqueue") {
		t.Errorf("Has: workqueue_depth %v (want true), workqueue %v (want false)", m.Has("workqueue_depth"), m.Has("workqueue"))
	}
	want := map[string]float64{"GET": 5, "PATCH": 7, "POST": 3, "PUT": 2}
	if diff := cmp.Diff(want, m.ByLabel("rest_client_requests_total", "method", nil)); diff != "" {
		t.Errorf("ByLabel (-want +got):\n%s", diff)
	}
	want = map[string]float64{"tenantinstance": 4, "": 1}
	if diff := cmp.Diff(want, m.ByLabel("workqueue_depth", "name", map[string]string{"name": "!other"})); diff != "" {
		t.Errorf("ByLabel with a match (-want +got):\n%s", diff)
	}
}

func TestHistogramQuantile(t *testing.T) {
	m, err := ParseMetrics(strings.NewReader(`d_bucket{le="0.1",code="200"} 30
d_bucket{le="0.1",code="500"} 20
d_bucket{le="0.4",code="200"} 60
d_bucket{le="0.4",code="500"} 40
d_bucket{le="0.2",code="200"} 54
d_bucket{le="0.2",code="500"} 36
d_bucket{le="+Inf",code="200"} 60
d_bucket{le="+Inf",code="500"} 40
d_sum 12
d_count 100
`))
	if err != nil {
		t.Fatal(err)
	}
	// Summed over both codes: 50 ≤ 0.1, 90 ≤ 0.2, 100 ≤ 0.4.
	for _, tc := range []struct{ q, want float64 }{{0.5, 0.1}, {0.25, 0.05}, {0.7, 0.15}, {0.95, 0.3}, {1, 0.4}} {
		if got := m.HistogramQuantile("d", nil, tc.q); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("q%.2f = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := m.HistogramQuantile("d", map[string]string{"code": "500"}, 0.5); math.Abs(got-0.1) > 1e-9 {
		t.Errorf("q0.5 of code 500 = %v, want 0.1", got)
	}

	inf, err := ParseMetrics(strings.NewReader("e_bucket{le=\"1\"} 1\ne_bucket{le=\"+Inf\"} 10\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := inf.HistogramQuantile("e", nil, 0.99); got != 1 {
		t.Errorf("a rank in the +Inf bucket: %v, want its lower bound 1", got)
	}
	for name, m := range map[string]Metrics{
		"no buckets":      {},
		"no observations": {{Name: "d_bucket", Labels: map[string]string{"le": "+Inf"}}},
	} {
		if got := m.HistogramQuantile("d", nil, 0.5); !math.IsNaN(got) {
			t.Errorf("%s: %v, want NaN", name, got)
		}
	}
}

func TestScrape(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("# TYPE up gauge\nup 1\n"))
	}))
	defer srv.Close()

	m, err := Scrape(context.Background(), srv.Client(), srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Metrics{{Name: "up", Labels: map[string]string{}, Value: 1}}, m); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := Scrape(context.Background(), srv.Client(), srv.URL+"/other"); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("a 404 must be an error naming the status, got %v", err)
	}
}
