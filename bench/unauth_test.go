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
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/orderquery"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

func TestUnauthBody(t *testing.T) {
	for _, size := range []int{1, 100, 64 << 10, 1 << 20} {
		b := unauthBody(size)
		if size >= 100 && len(b) != size {
			t.Errorf("unauthBody(%d) has %d bytes", size, len(b))
		}
		var v map[string]string
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("unauthBody(%d) is not a JSON object: %v", size, err)
		}
	}
}

func TestUnauthRequest(t *testing.T) {
	now := time.UnixMilli(1767225600123)
	type shape struct {
		URL                    string
		Sign, Timestamp, Nonce string
	}
	for _, tc := range []struct {
		kind    string
		want    shape
		wantErr bool
	}{
		{kind: loadUnsigned, want: shape{URL: "http://b/saasproduce"}},
		{kind: loadBadSignature, want: shape{URL: "http://b/saasproduce/produceAPI/v2/tenantSync", Sign: "sig", Timestamp: "1767225600123", Nonce: "NONCE"}},
		{kind: loadNone, wantErr: true},
	} {
		req, err := unauthRequest(context.Background(), tc.kind, "http://b/saasproduce", []byte("{}"), now, "NONCE", "sig")
		if tc.wantErr {
			if err == nil {
				t.Errorf("%s: no error", tc.kind)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.kind, err)
		}
		got := shape{URL: req.URL.String(), Sign: req.Header.Get("x-sign"), Timestamp: req.Header.Get("x-timestamp"), Nonce: req.Header.Get("x-nonce")}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.kind, diff)
		}
	}
}

type noOrders struct{}

func (noOrders) Query(context.Context, string, string) (*orderquery.Order, error) {
	return nil, errors.New("no Order Query in this test")
}

// The load is refused by the bridge as the report says: the unsigned request before any
// signature is computed, the badly signed one for its signature (so it did get past the
// timestamp, nonce and form checks, and cost the HMAC).
func TestUnauthRequestsAreRefusedByTheBridge(t *testing.T) {
	s, err := webhookbridge.New(webhookbridge.Options{
		Client:    fake.NewClientBuilder().WithScheme(scheme()).Build(),
		Verifier:  &protocol.Verifier{Keys: []string{"bench-access-key"}, Nonces: protocol.NewNonceCache(0, 0, nil)},
		AccessKey: "bench-access-key", Orders: noOrders{}, Path: bridgePath,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	body := unauthBody(1 << 20)
	for _, tc := range []struct {
		kind, code, reason string
	}{
		// Over the basic family's cap: refused unread.
		{loadUnsigned, protocol.CodeInvalidParam, protocol.ReasonBodyTooLarge},
		{loadBadSignature, protocol.CodeAuthFailed, protocol.ReasonBadSignature},
	} {
		req, err := unauthRequest(context.Background(), tc.kind, srv.URL+bridgePath, body, time.Now(), strings.ToUpper(randomHex()), randomHex())
		if err != nil {
			t.Fatal(err)
		}
		before := verificationFailures(t)
		resp, err := srv.Client().Do(req)
		if got := answerOf(resp, err); got != tc.code {
			t.Errorf("%s: answered %q, want %q", tc.kind, got, tc.code)
		}
		after := verificationFailures(t)
		if after[tc.reason] != before[tc.reason]+1 {
			t.Errorf("%s: verification failures went from %v to %v, want one more %q", tc.kind, before, after, tc.reason)
		}
	}
}

// verificationFailures reads the bridge's tenantry_bridge_verification_failures_total by reason.
func verificationFailures(t *testing.T) map[string]float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "tenantry_bridge_verification_failures_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" {
					out[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

func TestUnauthGoals(t *testing.T) {
	probe := func(p99 float64, n int) Latency { return Latency{Count: n, P99: p99} }
	base := UnauthStep{Load: loadNone, Probe: probe(10, 100), ProbeSent: 100, ProbeAcked: 100}
	for _, tc := range []struct {
		name string
		step UnauthStep
		met  bool
	}{
		{"within the factor", UnauthStep{Load: loadBadSignature, Clients: 40, Probe: probe(19, 100), ProbeSent: 100, ProbeAcked: 100}, true},
		{"slowed past the factor", UnauthStep{Load: loadBadSignature, Clients: 40, Probe: probe(21, 100), ProbeSent: 100, ProbeAcked: 100}, false},
		{"a signed call not answered in full", UnauthStep{Load: loadUnsigned, Clients: 8, Probe: probe(10, 100), ProbeSent: 100, ProbeAcked: 99}, false},
		{"an unauthenticated request accepted", UnauthStep{Load: loadUnsigned, Clients: 8, Probe: probe(10, 100), ProbeSent: 100, ProbeAcked: 100, Accepted: 1}, false},
	} {
		gs := unauthGoals(&UnauthResult{Steps: []UnauthStep{base, tc.step}})
		if len(gs) != 1 || !gs[0].Measurable || gs[0].Met != tc.met {
			t.Errorf("%s: goals %+v, want one measurable with met %v", tc.name, gs, tc.met)
		}
	}
	if gs := unauthGoals(&UnauthResult{Steps: []UnauthStep{{Load: loadUnsigned, Clients: 8, Probe: probe(10, 1)}}}); len(gs) != 1 || gs[0].Measurable {
		t.Errorf("without a baseline: %+v, want one goal not measurable", gs)
	}
}

func TestAnswerOf(t *testing.T) {
	answer := func(status int, body string) *http.Response {
		rec := httptest.NewRecorder()
		rec.WriteHeader(status)
		_, _ = rec.WriteString(body)
		return rec.Result()
	}
	for _, tc := range []struct {
		resp *http.Response
		err  error
		want string
	}{
		{answer(200, `{"resultCode":"000001","resultMsg":"x"}`), nil, "000001"},
		{answer(413, ``), nil, "http 413"},
		{answer(200, `not json`), nil, "http 200, not an answer"},
		{nil, errors.New("connection reset"), "connection closed"},
	} {
		if got := answerOf(tc.resp, tc.err); got != tc.want {
			t.Errorf("answerOf = %q, want %q", got, tc.want)
		}
	}
}
