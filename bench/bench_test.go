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
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/test/e2e/framework"
)

func TestHistogramDeltaQuantile(t *testing.T) {
	// Before: 10 observations ≤ 0.1 and 10 more ≤ 0.2 (on two series); after: 10 more ≤ 0.1,
	// 30 more ≤ 0.4, so the observations in between are 10 ≤ 0.1 and 30 in (0.2, 0.4].
	before, err := framework.ParseMetrics(strings.NewReader(`d_bucket{le="0.1",code="200"} 6
d_bucket{le="0.1",code="500"} 4
d_bucket{le="0.2",code="200"} 12
d_bucket{le="0.2",code="500"} 8
d_bucket{le="0.4",code="200"} 12
d_bucket{le="0.4",code="500"} 8
d_bucket{le="+Inf",code="200"} 12
d_bucket{le="+Inf",code="500"} 8
`))
	if err != nil {
		t.Fatal(err)
	}
	after, err := framework.ParseMetrics(strings.NewReader(`d_bucket{le="0.1",code="200"} 16
d_bucket{le="0.1",code="500"} 4
d_bucket{le="0.2",code="200"} 22
d_bucket{le="0.2",code="500"} 8
d_bucket{le="0.4",code="200"} 52
d_bucket{le="0.4",code="500"} 8
d_bucket{le="+Inf",code="200"} 52
d_bucket{le="+Inf",code="500"} 8
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		match map[string]string
		q     float64
		want  float64
	}{
		{nil, 0.25, 0.1},
		{nil, 0.625, 0.3},
		{map[string]string{"code": "200"}, 0.625, 0.3},
		{map[string]string{"code": "!200"}, 0.5, math.NaN()}, // no new observations
	} {
		got := histogramDeltaQuantile(before, after, "d", tc.match, tc.q)
		if math.IsNaN(tc.want) != math.IsNaN(got) || !math.IsNaN(got) && math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("histogramDeltaQuantile(%v, q%.3f) = %v, want %v", tc.match, tc.q, got, tc.want)
		}
	}
}

func TestSummarizeNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 200; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := summarize(ds)
	want := Latency{Count: 200, P50: 100, P90: 180, P99: 198, P999: 200, Max: 200, Mean: 100.5}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if (summarize(nil) != Latency{}) {
		t.Error("an empty set must summarise to zeros")
	}
}

func TestCumulative(t *testing.T) {
	start := time.Unix(100, 0)
	got := cumulative(start, []time.Time{start.Add(2 * time.Second), start.Add(time.Second)})
	want := []Point{{0, 0}, {1, 1}, {2, 2}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadinessOf(t *testing.T) {
	start := time.Unix(100, 0)
	ready := map[string]time.Time{"a": start.Add(4 * time.Second), "b": start.Add(2 * time.Second), "c": start.Add(3 * time.Second)}
	created := map[string]time.Time{"a": start.Add(time.Second), "b": start.Add(time.Second)} // c's create unknown
	got := readinessOf(start, ready, created)
	want := readiness{
		count:      3,
		series:     []Point{{0, 0}, {2, 1}, {3, 2}, {4, 3}},
		latency:    Latency{Count: 2, P50: 1000, P90: 3000, P99: 3000, P999: 3000, Max: 3000, Mean: 2000},
		elapsedSec: 4,
		perSec:     0.75,
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(readiness{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(readiness{series: []Point{{0, 0}}}, readinessOf(start, nil, created), cmp.AllowUnexported(readiness{})); diff != "" {
		t.Errorf("none Ready (-want +got):\n%s", diff)
	}
}

func TestOrderExtraArgs(t *testing.T) {
	got := orderExtraArgs([]string{"a=x=1", "a=y=2", "b=x=1", "c=z=3", "b=y=2"})
	want := []string{"a=x=1", "b=x=1", "c=z=3", "a=y=2", "b=y=2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseFlagsQuickKeepsExplicitFlags(t *testing.T) {
	c, err := parseFlags([]string{"-quick", "-tenants", "7,9", "-scenarios", "ceiling"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{7, 9}, c.Tenants); diff != "" {
		t.Errorf("tenants (-want +got):\n%s", diff)
	}
	if c.ScaleTenants != 300 || c.RateDuration != 4*time.Second {
		t.Errorf("quick presets not applied: scale %d, rate duration %s", c.ScaleTenants, c.RateDuration)
	}
	if diff := cmp.Diff([]string{"ceiling"}, c.Scenarios); diff != "" {
		t.Errorf("scenarios (-want +got):\n%s", diff)
	}
	full, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if full.ScaleTenants != 10000 || len(full.Tenants) != 2 || full.Tenants[1] != 5000 {
		t.Errorf("full defaults are not the issue's sizes: %+v", full)
	}
}

// The operator runs as the chart runs it: GOMEMLIMIT is the chart's default memory limit, GOGC
// its gcPercent.
func TestManagerEnvFollowsTheChart(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "charts", "tenantry", "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Manager struct {
			GCPercent int `json:"gcPercent"`
			Resources struct {
				Limits struct {
					Memory string `json:"memory"`
				} `json:"limits"`
			} `json:"resources"`
		} `json:"manager"`
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	c, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	// A Kubernetes quantity in Mi is GOMEMLIMIT's MiB.
	want := Config{ManagerMemLimit: strings.TrimSuffix(values.Manager.Resources.Limits.Memory, "Mi") + "MiB", ManagerGOGC: fmt.Sprint(values.Manager.GCPercent)}
	got := Config{ManagerMemLimit: c.ManagerMemLimit, ManagerGOGC: c.ManagerGOGC}
	if !strings.HasSuffix(values.Manager.Resources.Limits.Memory, "Mi") || values.Manager.GCPercent == 0 {
		t.Fatalf("chart values not understood: %+v", values.Manager)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the operator's environment in the benchmark (-chart +bench):\n%s", diff)
	}
}

// The ceiling creates what the operator would: the same kinds and names in the operator's order,
// labelled for the operator's cache, without owner references (there is no owner).
func TestTenantObjects(t *testing.T) {
	objs, err := tenantObjects("ceil-00001", benchPlan(1))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, fmt.Sprintf("%T %s/%s", o, o.GetNamespace(), o.GetName()))
		if len(o.GetOwnerReferences()) != 0 {
			t.Errorf("%T %s has owner references", o, o.GetName())
		}
		if o.GetLabels()[tenantryv1alpha1.LabelManagedBy] != tenantryv1alpha1.ManagedByValue {
			t.Errorf("%T %s is not labelled for the operator's cache", o, o.GetName())
		}
	}
	want := []string{
		"*v1.Namespace /tenant-ceil-00001",
		"*v1.ResourceQuota tenant-ceil-00001/tenant-quota",
		"*v1.LimitRange tenant-ceil-00001/tenant-limits",
		"*v1.NetworkPolicy tenant-ceil-00001/tenant-isolation",
		"*v1.Secret tenant-ceil-00001/tenant-admin",
		"*v1.ConfigMap tenant-ceil-00001/tenant-info",
		"*v1.Deployment tenant-ceil-00001/app",
		"*v1.Service tenant-ceil-00001/app",
		"*v1.Service tenant-ceil-00001/suspended",
		"*v1.Ingress tenant-ceil-00001/app",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// The Helm chart of scenario 2 renders the objects the operator creates: same kinds, names,
// labels and specs. Only the admin password (random in both) and the operator's applied-hash
// annotation differ.
func TestChartMatchesOperatorObjects(t *testing.T) {
	helm, err := filepath.Abs(filepath.Join("..", "bin", "helm"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(helm); err != nil {
		t.Skip("no bin/helm (hack/tools.sh helm provides it)")
	}
	out, err := exec.Command(helm, "template", "t", "tenant-chart", "--set", "instance=ceil-00001").Output()
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	chart := map[string]client.Object{}
	for _, doc := range bytes.Split(out, []byte("\n---")) {
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			t.Fatal(err)
		}
		if string(js) == "null" || strings.TrimSpace(string(js)) == "{}" {
			continue
		}
		obj, _, err := clientgoscheme.Codecs.UniversalDeserializer().Decode(js, nil, nil)
		if err != nil {
			t.Fatalf("decoding %s: %v", doc, err)
		}
		o := obj.(client.Object)
		chart[fmt.Sprintf("%T %s", o, o.GetName())] = o
	}
	objs, err := tenantObjects("ceil-00001", benchPlan(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(chart) != len(objs) {
		t.Errorf("the chart renders %d objects, the operator creates %d", len(chart), len(objs))
	}
	normal := func(o client.Object) map[string]any {
		o = o.DeepCopyObject().(client.Object)
		o.SetAnnotations(nil)
		if s, ok := o.(*corev1.Secret); ok {
			s.StringData["password"] = "random"
		}
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "status")
		delete(m, "apiVersion")
		delete(m, "kind")
		return m
	}
	for _, o := range objs {
		key := fmt.Sprintf("%T %s", o, o.GetName())
		c, ok := chart[key]
		if !ok {
			t.Errorf("the chart has no %s", key)
			continue
		}
		if diff := cmp.Diff(normal(o), normal(c)); diff != "" {
			t.Errorf("%s differs (-operator +chart):\n%s", key, diff)
		}
	}
}

func TestAuditPolicyNamesEveryIdentity(t *testing.T) {
	var p map[string]any
	if err := yaml.Unmarshal([]byte(auditPolicy()), &p); err != nil {
		t.Fatalf("the audit policy is not YAML: %v", err)
	}
	for _, sa := range []string{managerSA, bridgeSA, ceilingSA, helmSA} {
		if !strings.Contains(auditPolicy(), saUser(sa)) {
			t.Errorf("the audit policy does not record %s", sa)
		}
	}
}
