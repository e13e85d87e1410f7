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

package orderquery_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge/orderquery"
)

// capturedLog collects the messages of a logger, to check the fall-back line.
type capturedLog struct {
	mu    sync.Mutex
	lines []string
}

func (c *capturedLog) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.lines = append(c.lines, args)
	}, funcr.Options{})
}

func (c *capturedLog) fellBack() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.lines {
		if strings.Contains(l, "Order Query falling back") {
			return true
		}
	}
	return false
}

// counting wraps a handler and counts the requests it gets.
func counting(n *atomic.Int32, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	})
}

func answer(status int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

// TestQueryFallsBack covers docs/protocol.md §7: a query the primary host cannot answer (no
// connection, a timeout, a 5xx from a gateway in front of it) is sent once to the fallback host,
// within the caller's deadline; an answer from the marketplace itself, whatever it says, is final.
func TestQueryFallsBack(t *testing.T) {
	orders := simulator.NewOrderServer(simulator.OrderServerConfig{AK: ak, SK: sk, Now: func() time.Time { return now }})
	order := orders.CreateOrder(simulator.OrderSpec{SKU: "sku.gold"})
	lineID := order.OrderLine[0].OrderLineID

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name string
		// primary answers the first request; nil means a closed server (connection refused).
		primary http.Handler
		// fallback answers the second; nil means the simulator's Order Query.
		fallback     http.Handler
		noFallback   bool // no FallbackEndpoint configured
		wantFallback bool
		wantSKU      string
		wantErr      error // matched with errors.Is
		wantResults  []string
	}{
		{
			name: "primary refuses connections", wantFallback: true, wantSKU: "sku.gold",
			wantResults: []string{orderquery.ResultTransport, orderquery.FallbackResultPrefix + orderquery.ResultSuccess},
		},
		{
			name: "primary gateway answers 502", primary: answer(http.StatusBadGateway, "<html>Bad Gateway</html>"), wantFallback: true, wantSKU: "sku.gold",
			wantResults: []string{orderquery.ResultServerError, orderquery.FallbackResultPrefix + orderquery.ResultSuccess},
		},
		{
			name: "primary gateway answers 503 with a JSON error", primary: answer(http.StatusServiceUnavailable, `{"error_code":"APIGW.0201","error_msg":"backend unavailable"}`),
			wantFallback: true, wantSKU: "sku.gold",
			wantResults: []string{orderquery.ResultServerError, orderquery.FallbackResultPrefix + orderquery.ResultSuccess},
		},
		{
			name: "primary times out", primary: http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }),
			wantFallback: true, wantSKU: "sku.gold",
			wantResults: []string{orderquery.ResultTransport, orderquery.FallbackResultPrefix + orderquery.ResultSuccess},
		},
		{
			name: "fallback knows no such order", fallback: answer(http.StatusOK, `{"resultCode":"MKT.0100","resultMsg":"order not exist"}`),
			wantFallback: true, wantErr: orderquery.ErrNotFound,
			wantResults: []string{orderquery.ResultTransport, orderquery.FallbackResultPrefix + orderquery.ResultNotFound},
		},
		{
			name: "fallback unreachable too", fallback: answer(http.StatusGatewayTimeout, "timeout"),
			wantFallback: true, wantErr: orderquery.ErrRetryable,
			wantResults: []string{orderquery.ResultTransport, orderquery.FallbackResultPrefix + orderquery.ResultServerError},
		},
		{
			name: "no fallback configured", noFallback: true, wantErr: orderquery.ErrRetryable,
			wantResults: []string{orderquery.ResultTransport},
		},

		// Answers of the marketplace itself are not retried elsewhere.
		{
			name: "rate limited", primary: answer(http.StatusOK, `{"resultCode":"MKT.0250","resultMsg":"too many requests"}`),
			wantErr: orderquery.ErrRetryable, wantResults: []string{orderquery.ResultRateLimited},
		},
		{
			name: "rate limited with a 503", primary: answer(http.StatusServiceUnavailable, `{"resultCode":"MKT.0250","resultMsg":"too many requests"}`),
			wantErr: orderquery.ErrRetryable, wantResults: []string{orderquery.ResultRateLimited},
		},
		{
			name: "order not found", primary: answer(http.StatusOK, `{"resultCode":"MKT.0100","resultMsg":"order not exist"}`),
			wantErr: orderquery.ErrNotFound, wantResults: []string{orderquery.ResultNotFound},
		},
		{
			name: "order not found with a 500", primary: answer(http.StatusInternalServerError, `{"resultCode":"MKT.0100","resultMsg":"order not exist"}`),
			wantErr: orderquery.ErrNotFound, wantResults: []string{orderquery.ResultNotFound},
		},
		{
			name: "marketplace internal error", primary: answer(http.StatusInternalServerError, `{"resultCode":"MKT.0999","resultMsg":"system error"}`),
			wantErr: orderquery.ErrRetryable, wantResults: []string{orderquery.ResultServerError},
		},
		{
			name: "other marketplace refusal", primary: answer(http.StatusUnauthorized, `{"resultCode":"MKT.0150","resultMsg":"signature invalid"}`),
			wantResults: []string{orderquery.ResultRejected},
		},
		{
			name: "gateway 429", primary: answer(http.StatusTooManyRequests, "slow down"),
			wantErr: orderquery.ErrRetryable, wantResults: []string{orderquery.ResultServerError},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var primaryCalls, fallbackCalls atomic.Int32
			primaryURL := closed.URL
			if tc.primary != nil {
				p := httptest.NewServer(counting(&primaryCalls, tc.primary))
				defer p.Close()
				primaryURL = p.URL
			}
			fb := tc.fallback
			if fb == nil {
				fb = orders
			}
			f := httptest.NewServer(counting(&fallbackCalls, fb))
			defer f.Close()

			obs, logs := &observed{}, &capturedLog{}
			c := &orderquery.Client{Endpoint: primaryURL, FallbackEndpoint: f.URL, AK: ak, SK: sk, Now: func() time.Time { return now }, Observe: obs.observe}
			if tc.noFallback {
				c.FallbackEndpoint = ""
			}
			// The bridge's Order Query deadline; the primary gets half of it.
			ctx, cancel := context.WithTimeout(logr.NewContext(context.Background(), logs.logger()), 2*time.Second)
			defer cancel()
			got, err := c.Query(ctx, order.OrderID, lineID)

			switch {
			case tc.wantErr == nil && tc.wantSKU == "":
				if err == nil || errors.Is(err, orderquery.ErrRetryable) || errors.Is(err, orderquery.ErrNotFound) {
					t.Errorf("Query() error = %v, want a permanent refusal", err)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("Query() error = %v, want %v", err, tc.wantErr)
				}
				if errors.Is(err, orderquery.ErrNotFound) && errors.Is(err, orderquery.ErrRetryable) {
					t.Errorf("Query() error = %v is both final (not found) and retryable", err)
				}
			default:
				if err != nil {
					t.Fatalf("Query() error = %v", err)
				}
				if l, ok := got.Line(lineID); !ok || l.Products[0].SkuCode != tc.wantSKU {
					t.Errorf("line = %+v, %v; want SKU %q", l, ok, tc.wantSKU)
				}
			}
			if diff := cmp.Diff(tc.wantResults, obs.results); diff != "" {
				t.Errorf("observed results (-want +got):\n%s", diff)
			}
			wantFallbackCalls := int32(0)
			if tc.wantFallback {
				wantFallbackCalls = 1
			}
			if n := fallbackCalls.Load(); n != wantFallbackCalls {
				t.Errorf("fallback host got %d requests, want %d", n, wantFallbackCalls)
			}
			if tc.primary != nil && primaryCalls.Load() != 1 {
				t.Errorf("primary host got %d requests, want 1", primaryCalls.Load())
			}
			if logs.fellBack() != tc.wantFallback {
				t.Errorf("fall-back log line present = %v, want %v (log: %q)", logs.fellBack(), tc.wantFallback, logs.lines)
			}
		})
	}
}

// TestQueryFallbackKeepsTheDeadline checks that the fallback never outlives the caller's deadline:
// both hosts hang, and the query still ends by the deadline, having tried each once.
func TestQueryFallbackKeepsTheDeadline(t *testing.T) {
	var calls atomic.Int32
	hang := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	p := httptest.NewServer(counting(&calls, hang))
	defer p.Close()
	f := httptest.NewServer(counting(&calls, hang))
	defer f.Close()

	obs := &observed{}
	c := &orderquery.Client{Endpoint: p.URL, FallbackEndpoint: f.URL, AK: ak, SK: sk, Observe: obs.observe}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Query(ctx, "CS1", "CS1-000001")
	if !errors.Is(err, orderquery.ErrRetryable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Query() error = %v, want a retryable deadline error", err)
	}
	if ctx.Err() == nil {
		t.Error("Query() returned before the deadline although both hosts hang")
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("hosts got %d requests, want 2", n)
	}
	if diff := cmp.Diff([]string{orderquery.ResultTransport, orderquery.FallbackResultPrefix + orderquery.ResultTransport}, obs.results); diff != "" {
		t.Errorf("observed results (-want +got):\n%s", diff)
	}
}

// TestQueryFallbackToItself checks that a fallback equal to the primary is not a second try.
func TestQueryFallbackToItself(t *testing.T) {
	var calls atomic.Int32
	p := httptest.NewServer(counting(&calls, answer(http.StatusBadGateway, "down")))
	defer p.Close()
	c := &orderquery.Client{Endpoint: p.URL, FallbackEndpoint: p.URL + "/", AK: ak, SK: sk}
	if _, err := c.Query(context.Background(), "CS1", ""); !errors.Is(err, orderquery.ErrRetryable) {
		t.Errorf("Query() error = %v, want retryable", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("host got %d requests, want 1", n)
	}
}
