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
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/test/e2e/framework"
	"github.com/tenantry/tenantry/webhookbridge"
)

// RateResult is one step of the callback load: newInstance calls at a fixed rate.
type RateResult struct {
	Rate        float64 `json:"ratePerSec"`
	DurationSec float64 `json:"durationSec"`
	Sent        int     `json:"sent"`
	Acked       int     `json:"acked000000"`
	Retryable   int     `json:"retryable000005"`
	Shed        float64 `json:"shedByBridge"`
	OtherCodes  map[string]int
	Transport   int `json:"transportErrors"`
	// AckLatency is the time from when a call was due to when its 000000 answer arrived, so a
	// load generator falling behind shows up as latency rather than hiding it.
	AckLatency       Latency `json:"ackLatency"`
	RetryableLatency Latency `json:"retryableLatency"`
	AllLatency       Latency `json:"allLatency"`
	// SendLag is how late the generator sent calls relative to the schedule.
	SendLag Latency `json:"sendLag"`
	// AckedNotPersisted must be 0: an acknowledged purchase whose TenantInstance does not exist.
	AckedNotPersisted int `json:"ackedNotPersisted"`
	// FailedButPersisted are calls answered other than 000000 whose instance exists anyway
	// (harmless: the marketplace's resend finds it and is answered 000000).
	FailedButPersisted int                `json:"failedButPersisted"`
	OperatorBacklogMax float64            `json:"operatorQueueDepthMax"`
	CPU                map[string]float64 `json:"cpuCores"`
	APIServer          APIServerStats     `json:"apiserver"`
	// RetryableReasons are the reasons the bridge's audit lines give for 000005 answers; its
	// log is sampled under load, so they are proportions, not counts of every call.
	RetryableReasons map[string]int `json:"retryableReasonsSampled"`
	// Own is the bridge's own time per acknowledged-or-not newInstance call
	// (tenantry_bridge_call_own_duration_seconds over the step, estimated from its buckets): the
	// call's time less the time its API server and Order Query requests were in flight.
	OwnP50Ms float64 `json:"ownP50Ms"`
	OwnP99Ms float64 `json:"ownP99Ms"`
	OwnCalls float64 `json:"ownCalls"`
	// OwnMeanMs is the mean own time (the histogram's sum over its count).
	OwnMeanMs float64 `json:"ownMeanMs"`
	// BridgeRunMsPerCall and BridgeWaitMsPerCall are how long all of the bridge's threads ran,
	// and were runnable but waited for a core, over the step, per newInstance call
	// (/proc/<pid>/task/*/schedstat): the CPU a call costs, and how much of the machine's
	// contention the bridge met. NaN when the kernel does not tell.
	BridgeRunMsPerCall  float64 `json:"bridgeRunMsPerCall"`
	BridgeWaitMsPerCall float64 `json:"bridgeWaitMsPerCall"`
	// BridgeProfile is the bridge's CPU profile over the step, when it can be profiled.
	BridgeProfile *Profile `json:"bridgeProfile,omitempty"`
	// QueuedP99Ms is how long newInstance calls waited for a read permit and a call slot
	// (tenantry_bridge_call_queued_duration_seconds), which own time leaves out.
	QueuedP99Ms float64 `json:"queuedP99Ms"`
	// RateLimitedP99Ms is the p99 of the bridge's client-side rate limiter waits over the step
	// (rest_client_rate_limiter_duration_seconds, every request), which own time includes.
	RateLimitedP99Ms float64 `json:"rateLimitedP99Ms"`
	// ProbeCreate is the latency of bare TenantInstance creates a probe sends meanwhile at
	// ProbeRate, with the bridge's identity, from when each was due; AckVsProbe is the
	// acknowledgements' p99 over the probe's p99.
	ProbeRate   float64 `json:"probeCreatesPerSec"`
	ProbeCreate Latency `json:"probeCreate"`
	ProbeErrors int     `json:"probeErrors"`
	AckVsProbe  float64 `json:"ackP99OverProbeP99"`
	// Breakdown is where a newInstance call's time goes, as mean milliseconds: the bridge's own
	// measure of the whole call and of Order Query, and the API server's of each request the
	// bridge sends.
	Breakdown map[string]float64 `json:"breakdownMeanMs"`
}

// CallbacksResult is scenario 3.
type CallbacksResult struct {
	Steps      []RateResult `json:"steps"`
	BridgeArgs []string     `json:"bridgeArgs"`
}

type callOutcome struct {
	due, sent time.Time
	latency   time.Duration
	code      string
	err       error
	instance  string
}

// marketClient is a marketplace that can keep thousands of calls in flight.
func (e *env) marketClient(timeout time.Duration) (*simulator.Client, error) {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     90 * time.Second,
	}
	return simulator.NewClient(simulator.Options{
		BaseURL: e.bridgeURL, AccessKey: e.keys.access,
		HTTP: &http.Client{Timeout: timeout, Transport: tr},
	})
}

// runCallbacks sends signed newInstance calls at each rate for a fixed duration while the
// operator provisions what the earlier steps bought.
func (h *harness) runCallbacks(ctx context.Context, e *env) (*CallbacksResult, error) {
	if err := e.ensureStack(ctx); err != nil {
		return nil, err
	}
	market, err := e.marketClient(10 * time.Second)
	if err != nil {
		return nil, err
	}
	res := &CallbacksResult{BridgeArgs: h.cfg.BridgeArgs}
	for _, r := range h.cfg.Rates {
		step, err := h.rateStep(ctx, e, market, float64(r), h.cfg.RateDuration)
		if err != nil {
			return res, err
		}
		res.Steps = append(res.Steps, *step)
	}
	return res, nil
}

func (h *harness) rateStep(ctx context.Context, e *env, market *simulator.Client, r float64, dur time.Duration) (*RateResult, error) {
	total := int(r * dur.Seconds())
	type order struct{ id, line string }
	orders := make([]order, total)
	for i := range orders {
		o := e.orders.CreateOrder(simulator.OrderSpec{SKU: planSKU, CustomerName: "Bench Co"})
		orders[i] = order{o.OrderID, o.OrderLine[0].OrderLineID}
	}
	h.logf("callbacks: %d newInstance calls at %.0f/s for %s", total, r, dur)
	b0, err := framework.Scrape(ctx, h.hc, e.bridgeMetrics)
	if err != nil {
		return nil, err
	}
	outcomes := make([]callOutcome, total)
	interval := time.Duration(float64(time.Second) / r)
	api0, _ := e.apiserverMetrics(ctx)
	log0 := fileSize(e.bridge.logPath)
	cpu0 := e.markCPU()
	run0, wait0, sched0 := schedOf(e.bridge.pid())
	smp := e.startSampler(time.Now(), time.Second, nil)
	start := time.Now()
	probe, err := h.startCreateProbe(ctx, e, fmt.Sprintf("probe-%d", int(r)), h.cfg.CreateProbeRate)
	if err != nil {
		return nil, err
	}
	// The bridge's CPU profile over the step (sampling at 100 Hz costs it next to nothing).
	bridgeProf := make(chan *Profile, 1)
	go func() {
		p, err := e.downloadBridgeProfile(ctx, fmt.Sprintf("the bridge answering newInstance at %.0f calls/s", r),
			fmt.Sprintf("cpu-bridge-%d.pb.gz", int(r)), max(int(dur.Seconds()), 1))
		if err != nil {
			h.logf("callbacks: no profile of the bridge at %.0f calls/s: %v", r, err)
		}
		bridgeProf <- p
	}()
	var wg sync.WaitGroup
	for i := range total {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			// Pacing of the open-loop schedule (the load itself), not a wait for a condition.
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
		wg.Go(func() {
			o := &outcomes[i]
			o.due, o.sent = due, time.Now()
			o.instance = webhookbridge.InstanceName(orders[i].id, orders[i].line)
			a, err := market.Buy(ctx, orders[i].id, orders[i].line, false)
			o.latency = time.Since(due)
			o.err = err
			if a != nil {
				o.code = a.ResultCode
			}
		})
	}
	wg.Wait()
	probeLat, probeErrs := probe.stop()
	cpu1 := e.markCPU()
	run1, wait1, sched1 := schedOf(e.bridge.pid())
	samples := smp.stop()
	bridgeProfile := <-bridgeProf
	b1, err := framework.Scrape(ctx, h.hc, e.bridgeMetrics)
	if err != nil {
		return nil, err
	}
	api1, _ := e.apiserverMetrics(ctx)
	step := &RateResult{Rate: r, DurationSec: dur.Seconds(), Sent: total, OtherCodes: map[string]int{}, CPU: cpuSince(cpu0, cpu1), APIServer: apiserverDelta(api0, api1)}
	if bridgeProfile != nil {
		e.renderProfile(ctx, h.bridgeBin, bridgeProfile)
		step.BridgeProfile = bridgeProfile
	}
	step.Breakdown = callBreakdown(b0, b1, api0, api1)
	step.RetryableReasons = bridgeReasons(e.bridge.logPath, log0, fileSize(e.bridge.logPath), simulator.ResultInternal)
	step.Shed = b1.Sum("tenantry_bridge_shed_calls_total", nil) - b0.Sum("tenantry_bridge_shed_calls_total", nil)
	own := map[string]string{"activity": "newInstance"}
	step.OwnCalls = b1.Sum(ownMetric+"_count", own) - b0.Sum(ownMetric+"_count", own)
	step.OwnMeanMs, step.BridgeRunMsPerCall, step.BridgeWaitMsPerCall = math.NaN(), math.NaN(), math.NaN()
	if step.OwnCalls > 0 {
		step.OwnMeanMs = 1000 * (b1.Sum(ownMetric+"_sum", own) - b0.Sum(ownMetric+"_sum", own)) / step.OwnCalls
		if sched0 && sched1 {
			step.BridgeRunMsPerCall = float64(run1-run0) / float64(time.Millisecond) / step.OwnCalls
			step.BridgeWaitMsPerCall = float64(wait1-wait0) / float64(time.Millisecond) / step.OwnCalls
		}
		step.OwnP50Ms = 1000 * histogramDeltaQuantile(b0, b1, ownMetric, own, 0.5)
		step.OwnP99Ms = 1000 * histogramDeltaQuantile(b0, b1, ownMetric, own, 0.99)
		step.QueuedP99Ms = 1000 * histogramDeltaQuantile(b0, b1, queuedMetric, own, 0.99)
		step.RateLimitedP99Ms = math.NaN()
		if b1.Has(rateLimiterMetric + "_count") {
			step.RateLimitedP99Ms = 1000 * histogramDeltaQuantile(b0, b1, rateLimiterMetric, nil, 0.99)
		}
	} else if !b1.Has(ownMetric + "_count") {
		// a bridge without the metrics
		step.OwnP50Ms, step.OwnP99Ms, step.QueuedP99Ms, step.RateLimitedP99Ms = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	}
	step.ProbeRate, step.ProbeCreate, step.ProbeErrors = h.cfg.CreateProbeRate, summarize(probeLat), probeErrs
	for _, s := range samples {
		step.OperatorBacklogMax = max(step.OperatorBacklogMax, s.QueueDepth)
	}

	// What was persisted: every TenantInstance, read from the API server (not a cache).
	list := &tenantryv1alpha1.TenantInstanceList{}
	if err := e.adminClient.List(ctx, list, client.Limit(0)); err != nil {
		return nil, fmt.Errorf("listing TenantInstances: %w", err)
	}
	exists := make(map[string]bool, len(list.Items))
	for _, ti := range list.Items {
		exists[ti.Name] = true
	}
	var ack, retry, all, lag []time.Duration
	for _, o := range outcomes {
		all = append(all, o.latency)
		lag = append(lag, o.sent.Sub(o.due))
		switch {
		case o.err != nil && o.code == "":
			step.Transport++
		case o.code == simulator.ResultSuccess && o.err == nil:
			step.Acked++
			ack = append(ack, o.latency)
			if !exists[o.instance] {
				step.AckedNotPersisted++
			}
		case o.code == simulator.ResultInternal:
			step.Retryable++
			retry = append(retry, o.latency)
		default:
			step.OtherCodes[o.code]++
		}
		if o.code != simulator.ResultSuccess && exists[o.instance] {
			step.FailedButPersisted++
		}
	}
	step.AckLatency, step.RetryableLatency, step.AllLatency, step.SendLag = summarize(ack), summarize(retry), summarize(all), summarize(lag)
	step.AckVsProbe = ratio(step.AckLatency.P99, step.ProbeCreate.P99)
	h.logf("callbacks: %.0f/s: %d acked (p50 %.0f ms, p99 %.0f ms), %d answered 000005 (%.0f shed, p99 %.0f ms), %d transport errors, %d acked but not persisted; bridge's own time p50 %.1f ms, p99 %.1f ms; bare creates p99 %.0f ms",
		r, step.Acked, step.AckLatency.P50, step.AckLatency.P99, step.Retryable, step.Shed, step.RetryableLatency.P99, step.Transport, step.AckedNotPersisted,
		step.OwnP50Ms, step.OwnP99Ms, step.ProbeCreate.P99)
	return step, nil
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// bridgeReasons counts the reason field of the bridge's audit lines with the given result code
// between two offsets of its log.
func bridgeReasons(path string, from, to int64, code string) map[string]int {
	out := map[string]int{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return out
	}
	sc := bufio.NewScanner(io.LimitReader(f, to-from))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg        string `json:"msg"`
			ResultCode string `json:"resultCode"`
			Reason     string `json:"reason"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.ResultCode != code || !strings.HasPrefix(line.Msg, "Marketplace call") {
			continue
		}
		out[line.Reason]++
	}
	return out
}

// meanDelta is the mean of a histogram's observations between two scrapes, in milliseconds.
func meanDelta(a, b framework.Metrics, name string, match map[string]string) (float64, bool) {
	sum := b.Sum(name+"_sum", match) - a.Sum(name+"_sum", match)
	cnt := b.Sum(name+"_count", match) - a.Sum(name+"_count", match)
	if cnt < 1 {
		return 0, false
	}
	return 1000 * sum / cnt, true
}

func callBreakdown(b0, b1, api0, api1 framework.Metrics) map[string]float64 {
	out := map[string]float64{}
	for name, m := range map[string]struct {
		bridge bool
		metric string
		match  map[string]string
	}{
		"call (bridge)":          {true, "tenantry_bridge_call_duration_seconds", map[string]string{"activity": "newInstance"}},
		"Order Query":            {true, "tenantry_bridge_order_query_duration_seconds", nil},
		"GET tenantinstances":    {false, "apiserver_request_duration_seconds", map[string]string{"resource": "tenantinstances", "verb": "GET"}},
		"LIST tenantplans":       {false, "apiserver_request_duration_seconds", map[string]string{"resource": "tenantplans", "verb": "LIST"}},
		"POST tenantinstances":   {false, "apiserver_request_duration_seconds", map[string]string{"resource": "tenantinstances", "verb": "POST"}},
		"APF wait, workload-low": {false, "apiserver_flowcontrol_request_wait_duration_seconds", map[string]string{"priority_level": "workload-low", "execute": "true"}},
	} {
		a, b := api0, api1
		if m.bridge {
			a, b = b0, b1
		}
		if v, ok := meanDelta(a, b, m.metric, m.match); ok {
			out[name] = v
		}
	}
	return out
}

// The bridge's histograms of its own time per call and of the time calls queued.
const (
	ownMetric    = "tenantry_bridge_call_own_duration_seconds"
	queuedMetric = "tenantry_bridge_call_queued_duration_seconds"
	// rateLimiterMetric is client-go's histogram of waits for the client-side rate limit.
	rateLimiterMetric = "rest_client_rate_limiter_duration_seconds"
)

// createProbe creates bare TenantInstances open-loop at a fixed rate, with the bridge's identity
// and no client-side limit: what the acknowledgement's one persisted write costs at that moment,
// without the bridge around it.
type createProbe struct {
	stopc chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	lat   []time.Duration
	errs  int
}

func (h *harness) startCreateProbe(ctx context.Context, e *env, prefix string, perSec float64) (*createProbe, error) {
	cfg, err := e.saConfig(bridgeSA)
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme()})
	if err != nil {
		return nil, err
	}
	p := &createProbe{stopc: make(chan struct{}), done: make(chan struct{})}
	if perSec <= 0 {
		close(p.done)
		return p, nil
	}
	interval := time.Duration(float64(time.Second) / perSec)
	go func() {
		defer close(p.done)
		var wg sync.WaitGroup
		defer wg.Wait()
		start := time.Now()
		for i := 0; ; i++ {
			due := start.Add(time.Duration(i) * interval)
			t := time.NewTimer(time.Until(due)) // pacing of the open-loop schedule
			select {
			case <-p.stopc:
				t.Stop()
				return
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			wg.Go(func() {
				err := c.Create(ctx, benchInstance(fmt.Sprintf("%s-%05d", prefix, i+1)))
				d := time.Since(due)
				p.mu.Lock()
				defer p.mu.Unlock()
				if err != nil {
					p.errs++
					return
				}
				p.lat = append(p.lat, d)
			})
		}
	}()
	return p, nil
}

// stop ends the probe, waits for its creates in flight and returns their latencies.
func (p *createProbe) stop() ([]time.Duration, int) {
	select {
	case <-p.stopc:
	default:
		close(p.stopc)
	}
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Duration(nil), p.lat...), p.errs
}
