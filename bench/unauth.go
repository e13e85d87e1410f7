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
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/test/e2e/framework"
	"github.com/tenantry/tenantry/webhookbridge"
)

// Scenario 6: the bridge under unauthenticated load. Clients without the keys send large bodies
// as fast as the bridge answers them, while a probe sends signed calls at a fixed rate; what is
// measured is what the load costs the signed calls (their latency, whether any is shed) and the
// bridge (CPU, RSS), and how the load itself is answered.

// Kinds of unauthenticated load.
const (
	// loadNone is the probe alone: the baseline.
	loadNone = "none"
	// loadUnsigned posts bodies to the production URL (the basic family) with no signature,
	// timestamp or nonce: what anyone who finds the URL can send.
	loadUnsigned = "unsigned"
	// loadBadSignature posts bodies to a kit URL (the family with the largest body cap) with a
	// fresh timestamp, a fresh nonce and a well-formed signature that is wrong: everything an
	// attacker without the key can get right, so the costliest request to refuse.
	loadBadSignature = "bad-signature"
)

// UnauthStep is one step of scenario 6: a kind of load from a number of clients, with the probe.
type UnauthStep struct {
	Load        string  `json:"load"`
	Clients     int     `json:"clients"`
	DurationSec float64 `json:"durationSec"`
	// Probe is the signed calls' latency, from when each was due to its answer.
	Probe       Latency        `json:"probeLatency"`
	ProbeSent   int            `json:"probeSent"`
	ProbeAcked  int            `json:"probeAcked000000"`
	ProbeOthers map[string]int `json:"probeOtherAnswers,omitempty"`
	// Requests is how many unauthenticated requests were sent; Answers counts them by answer
	// (a result code, "http <status>", or "connection closed" when the bridge closed the
	// connection before or instead of answering). Refused is every one not answered 000000.
	Requests    int            `json:"loadRequests"`
	PerSec      float64        `json:"loadRequestsPerSec"`
	Answers     map[string]int `json:"loadAnswers,omitempty"`
	Refused     int            `json:"loadRefused"`
	Accepted    int            `json:"loadAccepted000000"`
	LoadLatency Latency        `json:"loadLatency"`
	// Shed is the bridge's count of calls answered 000005 unread (slots or read permits full);
	// Failures its verification failures by reason, over the step.
	Shed     float64            `json:"shedByBridge"`
	Failures map[string]float64 `json:"verificationFailures,omitempty"`
	// BridgeCores is the bridge's CPU over the step; CPU every process's.
	BridgeCores float64            `json:"bridgeCores"`
	CPU         map[string]float64 `json:"cpuCores"`
	// RSSStartMiB and RSSMaxMiB are the bridge's resident set at the start and at its largest
	// (sampled every 50 ms).
	RSSStartMiB float64 `json:"bridgeRssStartMiB"`
	RSSMaxMiB   float64 `json:"bridgeRssMaxMiB"`
}

// UnauthResult is scenario 6.
type UnauthResult struct {
	BodyBytes  int          `json:"bodyBytes"`
	ProbeRate  float64      `json:"probeRatePerSec"`
	ProbeCall  string       `json:"probeCall"`
	BridgeArgs []string     `json:"bridgeArgs"`
	Steps      []UnauthStep `json:"steps"`
}

// baseline is the step without load, nil when it was not measured.
func (r *UnauthResult) baseline() *UnauthStep {
	for i := range r.Steps {
		if r.Steps[i].Load == loadNone {
			return &r.Steps[i]
		}
	}
	return nil
}

// unauthBody is a JSON object of exactly size bytes (at least the object's fixed part): a
// plausible call padded with one long string member, so that a bridge that parsed it would have
// all of it to parse.
func unauthBody(size int) []byte {
	const head, tail = `{"testFlag":"0","activity":"newInstance","instanceId":"bench","pad":"`, `"}`
	pad := max(0, size-len(head)-len(tail))
	b := make([]byte, 0, len(head)+pad+len(tail))
	b = append(b, head...)
	b = append(b, bytes.Repeat([]byte("a"), pad)...)
	return append(b, tail...)
}

// unauthRequest builds one request of the load kind to the bridge whose production URL is
// bridgeURL: unsigned to that URL, or with a fresh timestamp (now), nonce and a well-formed wrong
// signature to its kit path.
func unauthRequest(ctx context.Context, kind, bridgeURL string, body []byte, now time.Time, nonce, signature string) (*http.Request, error) {
	url := bridgeURL
	if kind == loadBadSignature {
		url = strings.TrimSuffix(bridgeURL, "/") + "/produceAPI/v2/tenantSync"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	switch kind {
	case loadUnsigned:
	case loadBadSignature:
		req.Header.Set("x-sign", signature)
		req.Header.Set("x-timestamp", strconv.FormatInt(now.UnixMilli(), 10))
		req.Header.Set("x-nonce", nonce)
	default:
		return nil, fmt.Errorf("unknown load %q", kind)
	}
	return req, nil
}

// answerOf is how an unauthenticated request ended: its result code, "http <status>" for an
// answer that is not the protocol's, or "connection closed" for no answer.
func answerOf(resp *http.Response, err error) string {
	if err != nil {
		return "connection closed"
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("http %d", resp.StatusCode)
	}
	var a struct {
		ResultCode string `json:"resultCode"`
	}
	if json.Unmarshal(raw, &a) != nil || a.ResultCode == "" {
		return "http 200, not an answer"
	}
	return a.ResultCode
}

// randomHex is 32 random bytes in hex: the length of a nonce and of a signature.
func randomHex() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runUnauth buys one tenant, waits until a signed queryInstance about it is answered with its
// admin account, and then runs the probe alone and with each load from each number of clients.
func (h *harness) runUnauth(ctx context.Context, e *env) (*UnauthResult, error) {
	// As the chart runs it: a queryInstance is claimed in a Lease before it is answered.
	bridgeArgs := []string{"--replay-claims-namespace=" + systemNamespace}
	if err := e.ensureStack(ctx, bridgeArgs...); err != nil {
		return nil, err
	}
	res := &UnauthResult{BodyBytes: h.cfg.UnauthBodyBytes, ProbeRate: h.cfg.ProbeRate,
		ProbeCall: "queryInstance (signed; answered with the admin account)", BridgeArgs: append(bridgeArgs, h.cfg.BridgeArgs...)}
	market, err := e.marketClient(10 * time.Second)
	if err != nil {
		return nil, err
	}
	o := e.orders.CreateOrder(simulator.OrderSpec{SKU: planSKU, CustomerName: "Bench Co"})
	id := webhookbridge.InstanceName(o.OrderID, o.OrderLine[0].OrderLineID)
	h.logf("unauthenticated load: buying tenant %s for the probe", id)
	wait, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	err = poll(wait, 500*time.Millisecond, func() (bool, error) {
		a, err := market.Buy(wait, o.OrderID, o.OrderLine[0].OrderLineID, false)
		return err == nil && a.ResultCode == simulator.ResultSuccess, nil
	})
	if err == nil {
		err = poll(wait, 500*time.Millisecond, func() (bool, error) {
			a, err := market.Query(wait, id)
			return err == nil && probeOK(a), nil
		})
	}
	if err != nil {
		return res, fmt.Errorf("waiting for tenant %s to be bought and answered with its admin account: %w", id, err)
	}

	steps := []struct {
		load    string
		clients int
	}{{loadNone, 0}}
	for _, kind := range []string{loadUnsigned, loadBadSignature} {
		for _, n := range h.cfg.UnauthClients {
			steps = append(steps, struct {
				load    string
				clients int
			}{kind, n})
		}
	}
	body := unauthBody(h.cfg.UnauthBodyBytes)
	for _, s := range steps {
		step, err := h.unauthStep(ctx, e, market, id, s.load, s.clients, body)
		if err != nil {
			return res, err
		}
		res.Steps = append(res.Steps, *step)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
	}
	return res, nil
}

// probeOK reports whether a queryInstance was answered in full: 000000 with the admin account.
func probeOK(a *simulator.Answer) bool {
	return a != nil && a.ResultCode == simulator.ResultSuccess && len(a.Info) == 1 && a.Info[0].AppInfo != nil &&
		a.Info[0].AppInfo.Password != ""
}

func (h *harness) unauthStep(ctx context.Context, e *env, market *simulator.Client, id, load string, clients int, body []byte) (*UnauthStep, error) {
	dur := h.cfg.UnauthDuration
	step := &UnauthStep{Load: load, Clients: clients, DurationSec: dur.Seconds(), ProbeOthers: map[string]int{}, Answers: map[string]int{}, Failures: map[string]float64{}}
	h.logf("unauthenticated load: %s from %d clients, %d-byte bodies, signed queryInstance at %.0f/s, for %s", load, clients, len(body), h.cfg.ProbeRate, dur)
	m0, err := framework.Scrape(ctx, h.hc, e.bridgeMetrics)
	if err != nil {
		return nil, err
	}
	pid := e.bridge.pid()
	if rss, ok := rssBytes(pid); ok {
		step.RSSStartMiB = rss / (1 << 20)
	}
	cpu0 := e.markCPU()
	start := time.Now()
	end := start.Add(dur)

	// The bridge's RSS, sampled until the step ends.
	var rssMax atomic.Uint64
	sampled := make(chan struct{})
	stopRSS := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, ok := rssBytes(pid); ok && uint64(rss) > rssMax.Load() {
				rssMax.Store(uint64(rss))
			}
			select {
			case <-stopRSS:
				return
			case <-t.C:
			}
		}
	}()

	// The load: each client on a connection of its own, sending the next request as soon as the
	// previous one ended.
	var mu sync.Mutex
	var loadLatencies []time.Duration
	var attackers sync.WaitGroup
	for range clients {
		attackers.Go(func() {
			hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
				DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
				MaxIdleConnsPerHost: 1, DisableCompression: true,
			}}
			defer hc.CloseIdleConnections()
			for time.Now().Before(end) && ctx.Err() == nil {
				req, err := unauthRequest(ctx, load, e.bridgeURL, body, time.Now(), strings.ToUpper(randomHex()), randomHex())
				if err != nil {
					return
				}
				sent := time.Now()
				resp, err := hc.Do(req)
				answer := answerOf(resp, err)
				took := time.Since(sent)
				mu.Lock()
				step.Requests++
				step.Answers[answer]++
				loadLatencies = append(loadLatencies, took)
				mu.Unlock()
			}
		})
	}

	// The probe: signed calls open-loop at a fixed rate.
	var probe sync.WaitGroup
	var probeLatencies []time.Duration
	interval := time.Duration(float64(time.Second) / h.cfg.ProbeRate)
	for due := start; due.Before(end); due = due.Add(interval) {
		if d := time.Until(due); d > 0 {
			// Pacing of the open-loop schedule (the load itself), not a wait for a condition.
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		probe.Go(func() {
			a, err := market.Query(ctx, id)
			took := time.Since(due)
			mu.Lock()
			defer mu.Unlock()
			step.ProbeSent++
			probeLatencies = append(probeLatencies, took)
			switch {
			case err != nil && a == nil:
				step.ProbeOthers["transport error"]++
			case err != nil:
				step.ProbeOthers[a.ResultCode+" ("+err.Error()+")"]++
			case probeOK(a):
				step.ProbeAcked++
			default:
				step.ProbeOthers[a.ResultCode]++
			}
		})
	}
	probe.Wait()
	attackers.Wait()
	close(stopRSS)
	<-sampled
	cpu1 := e.markCPU()
	elapsed := time.Since(start)
	m1, err := framework.Scrape(ctx, h.hc, e.bridgeMetrics)
	if err != nil {
		return nil, err
	}

	step.Probe, step.LoadLatency = summarize(probeLatencies), summarize(loadLatencies)
	step.PerSec = rate(step.Requests, elapsed)
	for answer, n := range step.Answers {
		if answer == simulator.ResultSuccess {
			step.Accepted += n
		} else {
			step.Refused += n
		}
	}
	step.Shed = m1.Sum("tenantry_bridge_shed_calls_total", nil) - m0.Sum("tenantry_bridge_shed_calls_total", nil)
	before := m0.ByLabel("tenantry_bridge_verification_failures_total", "reason", nil)
	for reason, v := range m1.ByLabel("tenantry_bridge_verification_failures_total", "reason", nil) {
		if d := v - before[reason]; d > 0 {
			step.Failures[reason] = d
		}
	}
	step.CPU = cpuSince(cpu0, cpu1)
	step.BridgeCores = step.CPU["webhookbridge"]
	step.RSSMaxMiB = float64(rssMax.Load()) / (1 << 20)
	h.logf("unauthenticated load: %s ×%d: probe p50 %.1f ms p99 %.1f ms (%d/%d answered in full); %d requests (%.0f/s), %d refused, %d accepted; bridge %.2f cores, RSS max %.0f MiB",
		load, clients, step.Probe.P50, step.Probe.P99, step.ProbeAcked, step.ProbeSent, step.Requests, step.PerSec, step.Refused, step.Accepted, step.BridgeCores, step.RSSMaxMiB)
	return step, nil
}
