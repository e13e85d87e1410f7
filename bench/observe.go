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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenantry/tenantry/test/e2e/framework"
)

// OperatorSample is one scrape of the operator's metrics during a phase.
type OperatorSample struct {
	T          float64 `json:"t"`
	RSSMiB     float64 `json:"rssMiB"`
	HeapMiB    float64 `json:"heapMiB"`
	QueueDepth float64 `json:"queueDepth"`
	Reconciles float64 `json:"reconciles"`
	Writes     float64 `json:"writes"`
	Tenants    int     `json:"tenants"`
}

// sampler scrapes the operator every interval while a phase runs.
type sampler struct {
	e       *env
	start   time.Time
	tenants func() int
	stopc   chan struct{}
	wg      sync.WaitGroup

	mu      sync.Mutex
	samples []OperatorSample
}

func (e *env) startSampler(start time.Time, interval time.Duration, tenants func() int) *sampler {
	s := &sampler{e: e, start: start, tenants: tenants, stopc: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			s.once()
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) once() {
	if s.e.manager == nil {
		return
	}
	m, err := framework.Scrape(context.Background(), s.e.h.hc, s.e.managerMetrics)
	if err != nil {
		return
	}
	o := OperatorSample{
		T:          time.Since(s.start).Seconds(),
		RSSMiB:     m.Sum("process_resident_memory_bytes", nil) / (1 << 20),
		HeapMiB:    m.Sum("go_memstats_heap_alloc_bytes", nil) / (1 << 20),
		QueueDepth: m.Sum("workqueue_depth", map[string]string{"name": "tenantinstance"}),
		Reconciles: m.Sum("controller_runtime_reconcile_total", map[string]string{"controller": "tenantinstance"}),
		Writes:     m.Sum("rest_client_requests_total", map[string]string{"method": "POST|PUT|PATCH|DELETE"}),
	}
	if s.tenants != nil {
		o.Tenants = s.tenants()
	}
	s.mu.Lock()
	s.samples = append(s.samples, o)
	s.mu.Unlock()
}

func (s *sampler) stop() []OperatorSample {
	close(s.stopc)
	s.wg.Wait()
	s.once()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]OperatorSample(nil), s.samples...)
}

// cpuMark is the CPU time each process had used at one moment.
type cpuMark struct {
	at   time.Time
	secs map[string]float64
	pids map[string]int
}

// markCPU reads the CPU time of the control plane, the operator, the bridge and the harness.
func (e *env) markCPU() cpuMark {
	m := cpuMark{at: time.Now(), secs: map[string]float64{}, pids: map[string]int{}}
	pids := e.clusterPids()
	if e.manager != nil && !e.manager.exited() {
		pids["operator"] = e.manager.pid()
	}
	if e.bridge != nil && !e.bridge.exited() {
		pids["webhookbridge"] = e.bridge.pid()
	}
	pids["harness"] = os.Getpid()
	var ours float64
	for name, pid := range pids {
		if s, ok := cpuSecondsOf(pid, name == "harness"); ok {
			m.secs[name] = s
			m.pids[name] = pid
			ours += s
		}
	}
	// Whatever else the machine ran meanwhile (other work sharing it): all busy CPU time
	// minus the processes above.
	if busy, ok := machineBusySeconds(); ok {
		m.secs["other"] = busy - ours
		m.pids["other"] = -1
	}
	return m
}

// machineBusySeconds is the CPU time all processors spent not idle, from /proc/stat.
func machineBusySeconds() (float64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, false
	}
	var busy float64
	for i, v := range f[1:] {
		// user nice system idle iowait irq softirq steal ...: idle and iowait are not busy;
		// guest time is already counted in user.
		if i == 3 || i == 4 || i >= 8 {
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, false
		}
		busy += x
	}
	return busy / clockTicks, true
}

// cpuSince is the average number of cores each process used between two marks (a process that
// restarted in between is left out).
func cpuSince(a, b cpuMark) map[string]float64 {
	wall := b.at.Sub(a.at).Seconds()
	out := map[string]float64{}
	if wall <= 0 {
		return out
	}
	for name, s := range b.secs {
		if a.pids[name] != b.pids[name] {
			continue
		}
		out[name] = (s - a.secs[name]) / wall
	}
	return out
}

// controlPlaneSeconds is the CPU time kube-apiserver and etcd spent between two marks: what
// the API server's work costs, whatever else the machine was doing.
func controlPlaneSeconds(a, b cpuMark) float64 {
	total := 0.0
	for _, n := range []string{"kube-apiserver", "etcd"} {
		if a.pids[n] == b.pids[n] {
			total += b.secs[n] - a.secs[n]
		}
	}
	return total
}

// auditEvent is what the harness reads of an audit log line.
type auditEvent struct {
	Verb string `json:"verb"`
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Name        string `json:"name"`
		Namespace   string `json:"namespace"`
		APIGroup    string `json:"apiGroup"`
	} `json:"objectRef"`
	ResponseStatus struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	StageTimestamp time.Time `json:"stageTimestamp"`
}

// auditOffset is where the audit log ends now; writes after it belong to what follows.
func (e *env) auditOffset() int64 {
	st, err := os.Stat(e.auditPath)
	if err != nil {
		return 0
	}
	return st.Size()
}

// WriteCounts are API writes by one identity, keyed "verb resource[/subresource]".
type WriteCounts struct {
	Total int            `json:"total"`
	Lease int            `json:"leaseWrites"` // leader election: Lease updates and its Events
	Kinds map[string]int `json:"byVerbAndResource"`
	// Events names up to ten Events written (what they are about is in their names).
	Events []string `json:"events,omitempty"`
}

// auditWrites counts the writes users sent between two offsets of the audit log, lease writes
// (leader election) apart.
func (e *env) auditWrites(from, to int64, users ...string) (WriteCounts, error) {
	wc := WriteCounts{Kinds: map[string]int{}}
	f, err := os.Open(e.auditPath)
	if err != nil {
		return wc, err
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return wc, err
	}
	r := bufio.NewReaderSize(io.LimitReader(f, to-from), 1<<20)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			var ev auditEvent
			if json.Unmarshal(line, &ev) == nil && slices.Contains(users, ev.User.Username) {
				key := ev.Verb + " " + ev.ObjectRef.Resource
				if ev.ObjectRef.Subresource != "" {
					key += "/" + ev.ObjectRef.Subresource
				}
				if ev.ResponseStatus.Code >= 400 {
					key += fmt.Sprintf(" (refused %d)", ev.ResponseStatus.Code)
				}
				// Leader election: the Lease, and the Event it records in the Lease's namespace when a
				// leader is elected (tenant Events go to the namespace of cluster-scoped objects).
				if ev.ObjectRef.Resource == "leases" || (ev.ObjectRef.Resource == "events" && ev.ObjectRef.Namespace == systemNamespace) {
					wc.Lease++
				} else {
					wc.Total++
					wc.Kinds[key]++
					if ev.ObjectRef.Resource == "events" && len(wc.Events) < 10 {
						wc.Events = append(wc.Events, ev.ObjectRef.Namespace+"/"+ev.ObjectRef.Name)
					}
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return wc, err
		}
	}
	return wc, nil
}

// restWrites are the operator's own client-side request counts by method.
func restByMethod(m framework.Metrics) map[string]float64 {
	return m.ByLabel("rest_client_requests_total", "method", nil)
}

func diffMaps(a, b map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range b {
		if d := v - a[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// Profile is a pprof profile the harness saved, with its top functions as text.
type Profile struct {
	Kind string `json:"kind"`
	What string `json:"what"`
	File string `json:"file"`
	Top  string `json:"top"`
	// Shares are fractions of the samples spent in named parts of the program.
	Shares map[string]float64 `json:"shares,omitempty"`
}

// fetchProfile saves the operator's CPU (seconds > 0) or heap profile into the results and
// renders its top entries with `go tool pprof`.
func (e *env) fetchProfile(ctx context.Context, kind, what, file string, seconds int) (*Profile, error) {
	if e.pprofURL == "" {
		return nil, errNoPprof
	}
	p, err := e.downloadProfile(ctx, e.pprofURL, kind, what, file, seconds)
	if err != nil {
		return nil, err
	}
	e.renderProfile(ctx, e.h.managerBin, p)
	return p, nil
}

// downloadBridgeProfile saves the bridge's CPU profile over the next seconds; renderProfile
// renders it, once what it measured is over.
func (e *env) downloadBridgeProfile(ctx context.Context, what, file string, seconds int) (*Profile, error) {
	if e.bridgePprofURL == "" {
		return nil, errors.New("the bridge has no --pprof-bind-address flag")
	}
	return e.downloadProfile(ctx, e.bridgePprofURL, "cpu", what, file, seconds)
}

// downloadProfile saves a profile from the /debug/pprof at base into the results.
func (e *env) downloadProfile(ctx context.Context, base, kind, what, file string, seconds int) (*Profile, error) {
	url := base + "/heap"
	if kind == "cpu" {
		url = fmt.Sprintf("%s/profile?seconds=%d", base, seconds)
	}
	hc := &http.Client{Timeout: time.Duration(seconds+60) * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s profile: %w", kind, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching %s profile: HTTP %d", kind, resp.StatusCode)
	}
	path := filepath.Join(e.h.out, "profiles", file)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return &Profile{Kind: kind, What: what, File: filepath.Join("profiles", file)}, nil
}

// renderProfile renders the top entries of a downloaded profile of binary with `go tool pprof`,
// into p and beside its file.
func (e *env) renderProfile(ctx context.Context, binary string, p *Profile) {
	path := filepath.Join(e.h.out, p.File)
	kind := p.Kind
	args := []string{"tool", "pprof", "-top", "-nodecount=25"}
	if kind == "heap" {
		args = append(args, "-sample_index=inuse_space")
	}
	args = append(args, binary, path)
	out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
	if err != nil {
		p.Top = fmt.Sprintf("(go tool pprof failed: %v)", err)
	} else {
		p.Top = trimPprof(string(out))
	}
	topPath := strings.TrimSuffix(path, ".pb.gz") + ".txt"
	_ = os.WriteFile(topPath, []byte(p.Top), 0o644)
	// A cumulative view too: where the time goes by caller, which the flat list hides.
	if kind == "cpu" {
		cum, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=40", binary, path).CombinedOutput()
		if err == nil {
			_ = os.WriteFile(strings.TrimSuffix(path, ".pb.gz")+".cum.txt", []byte(trimPprof(string(cum))), 0o644)
		}
	}
}

// fetchAPIServerProfile saves a CPU profile of kube-apiserver (its /debug/pprof, as the
// administrator) and measures which share of it goes where.
func (e *env) fetchAPIServerProfile(ctx context.Context, what, file string, seconds int) (*Profile, error) {
	raw, err := e.cs.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").
		Param("seconds", fmt.Sprint(seconds)).Timeout(time.Duration(seconds+60) * time.Second).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetching the API server's CPU profile: %w", err)
	}
	path := filepath.Join(e.h.out, "profiles", file)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return nil, err
	}
	p := &Profile{Kind: "cpu", What: what, File: filepath.Join("profiles", file), Shares: map[string]float64{}}
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=30", path).CombinedOutput()
	if err != nil {
		p.Top = fmt.Sprintf("(go tool pprof failed: %v)", err)
	} else {
		p.Top = trimPprof(string(out))
	}
	_ = os.WriteFile(strings.TrimSuffix(path, ".pb.gz")+".cum.txt", []byte(p.Top), 0o644)
	for name, focus := range apiserverFocus {
		if share, ok := pprofShare(ctx, path, focus); ok {
			p.Shares[name] = share
		}
	}
	return p, nil
}

// apiserverFocus names the parts of kube-apiserver whose share of CPU the report gives.
var apiserverFocus = map[string]string{
	"server-side apply, managedFields":       `structured-merge-diff|fieldmanager`,
	"watch fan-out to clients":               `cacheWatcher|dispatchEvent|WatchServer|serveWatch`,
	"etcd client":                            `go.etcd.io/etcd/client`,
	"admission":                              `admission`,
	"encoding and decoding":                  `serializer|encoding/json|protobuf|Marshal|Unmarshal`,
	"audit logging (the bench's own policy)": `apiserver/pkg/audit|plugin/pkg/audit`,
}

var shareRE = regexp.MustCompile(`accounting for [^,]+, ([0-9.]+)% of`)

// pprofShare is the share (0..1) of a profile's samples that pass through functions matching focus.
func pprofShare(ctx context.Context, path, focus string) (float64, bool) {
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodefraction=0", "-nodecount=1000000", "-focus="+focus, path).CombinedOutput()
	if err != nil {
		return 0, false
	}
	m := shareRE.FindStringSubmatch(string(out))
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v / 100, err == nil
}

// trimPprof drops pprof's header lines about files and build ids.
func trimPprof(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Main binary") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}

// sortedKeys returns m's keys in order, for stable tables.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// APFLevel is what API Priority and Fairness did with one priority level's requests during a
// phase: how many it dispatched, how long they queued, how many it rejected (429).
type APFLevel struct {
	Level      string  `json:"priorityLevel"`
	Dispatched float64 `json:"dispatched"`
	Rejected   float64 `json:"rejected"`
	WaitMeanMs float64 `json:"queueWaitMeanMs"`
	WaitP99Ms  float64 `json:"queueWaitP99Ms"`
}

// APIServerStats summarises the API server's own view of a phase.
type APIServerStats struct {
	APF []APFLevel `json:"apf"`
	// MutatingMeanMs is the mean duration of writes (POST, PUT, PATCH, DELETE, APPLY) as the API
	// server measured them.
	MutatingMeanMs float64 `json:"mutatingMeanMs"`
	Mutating       float64 `json:"mutating"`
}

// apiserverMetrics scrapes the API server's /metrics as the administrator.
func (e *env) apiserverMetrics(ctx context.Context) (framework.Metrics, error) {
	raw, err := e.cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	return framework.ParseMetrics(bytes.NewReader(raw))
}

func apiserverDelta(a, b framework.Metrics) APIServerStats {
	var st APIServerStats
	if a == nil || b == nil {
		return st
	}
	d0 := a.ByLabel("apiserver_flowcontrol_dispatched_requests_total", "priority_level", nil)
	d1 := b.ByLabel("apiserver_flowcontrol_dispatched_requests_total", "priority_level", nil)
	r0 := a.ByLabel("apiserver_flowcontrol_rejected_requests_total", "priority_level", nil)
	r1 := b.ByLabel("apiserver_flowcontrol_rejected_requests_total", "priority_level", nil)
	for _, level := range sortedKeys(d1) {
		disp := d1[level] - d0[level]
		if disp < 1 || level == "exempt" {
			continue
		}
		l := APFLevel{Level: level, Dispatched: disp, Rejected: r1[level] - r0[level]}
		match := map[string]string{"priority_level": level, "execute": "true"}
		sum := b.Sum("apiserver_flowcontrol_request_wait_duration_seconds_sum", match) - a.Sum("apiserver_flowcontrol_request_wait_duration_seconds_sum", match)
		cnt := b.Sum("apiserver_flowcontrol_request_wait_duration_seconds_count", match) - a.Sum("apiserver_flowcontrol_request_wait_duration_seconds_count", match)
		l.WaitMeanMs = 1000 * ratio(sum, cnt)
		l.WaitP99Ms = 1000 * histogramDeltaQuantile(a, b, "apiserver_flowcontrol_request_wait_duration_seconds", match, 0.99)
		st.APF = append(st.APF, l)
	}
	mut := map[string]string{"verb": "POST|PUT|PATCH|DELETE|APPLY"}
	sum := b.Sum("apiserver_request_duration_seconds_sum", mut) - a.Sum("apiserver_request_duration_seconds_sum", mut)
	cnt := b.Sum("apiserver_request_duration_seconds_count", mut) - a.Sum("apiserver_request_duration_seconds_count", mut)
	st.Mutating, st.MutatingMeanMs = cnt, 1000*ratio(sum, cnt)
	return st
}

// histogramDeltaQuantile is a quantile of the observations a histogram gained between two
// scrapes.
func histogramDeltaQuantile(a, b framework.Metrics, name string, match map[string]string, q float64) float64 {
	before := a.ByLabel(name+"_bucket", "le", match)
	var delta framework.Metrics
	for le, v := range b.ByLabel(name+"_bucket", "le", match) {
		delta = append(delta, framework.Sample{Name: name + "_bucket", Labels: map[string]string{"le": le}, Value: v - before[le]})
	}
	return delta.HistogramQuantile(name, nil, q)
}
