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
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge/orderquery"
)

const (
	ak = "HPUAEXAMPLEAK000001"
	sk = "example-secret-key-for-tests"
)

var now = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// observed collects Observe calls.
type observed struct {
	mu      sync.Mutex
	results []string
}

func (o *observed) observe(result string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if d < 0 {
		result += " (negative duration)"
	}
	o.results = append(o.results, result)
}

// TestQuerySignsForTheGateway sends queries through the simulator's Order
// Query server, whose AK/SK verifier is independent of the SDK signer the
// client uses, and checks the headers on the wire.
func TestQuerySignsForTheGateway(t *testing.T) {
	orders := simulator.NewOrderServer(simulator.OrderServerConfig{AK: ak, SK: sk, Now: func() time.Time { return now }})
	order := orders.CreateOrder(simulator.OrderSpec{SKU: "sku.gold"})

	var seen *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Clone(context.Background())
		orders.ServeHTTP(w, r)
	}))
	defer srv.Close()

	obs := &observed{}
	c := &orderquery.Client{Endpoint: srv.URL, AK: ak, SK: sk, HTTP: srv.Client(), Now: func() time.Time { return now }, Observe: obs.observe}
	got, err := c.Query(context.Background(), order.OrderID, order.OrderLine[0].OrderLineID)
	if err != nil {
		t.Fatalf("Query() error = %v", err)
	}
	if l, ok := got.Line(order.OrderLine[0].OrderLineID); !ok || l.Products[0].SkuCode != "sku.gold" {
		t.Errorf("line = %+v, %v; want SKU %q", l, ok, "sku.gold")
	}

	if seen.Method != http.MethodGet || seen.URL.Path != orderquery.QueryPath {
		t.Errorf("request = %s %s", seen.Method, seen.URL.Path)
	}
	if diff := cmp.Diff(map[string][]string{"orderId": {order.OrderID}, "orderLineId": {order.OrderLine[0].OrderLineID}}, map[string][]string(seen.URL.Query())); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if got, want := seen.Header.Get("X-Sdk-Date"), "20260314T092653Z"; got != want {
		t.Errorf("X-Sdk-Date = %q, want %q", got, want)
	}
	if seen.Host != strings.TrimPrefix(srv.URL, "http://") {
		t.Errorf("Host = %q", seen.Host)
	}
	auth := regexp.MustCompile(`^SDK-HMAC-SHA256 Access=` + ak + `, SignedHeaders=host;x-sdk-date, Signature=[0-9a-f]{64}$`)
	if h := seen.Header.Get("Authorization"); !auth.MatchString(h) {
		t.Errorf("Authorization = %q, want %s", h, auth)
	}

	// The same client with a wrong secret is refused by the verifier.
	c.SK = "wrong"
	if _, err := c.Query(context.Background(), order.OrderID, ""); err == nil || errors.Is(err, orderquery.ErrRetryable) {
		t.Errorf("Query() with a wrong secret: error = %v, want a permanent error", err)
	}
	if diff := cmp.Diff([]string{orderquery.ResultSuccess, orderquery.ResultRejected}, obs.results); diff != "" {
		t.Errorf("observed results (-want +got):\n%s", diff)
	}
}

// roundTripFunc lets a test answer without a server.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestQueryDefaultEndpoint(t *testing.T) {
	var got *http.Request
	c := &orderquery.Client{AK: ak, SK: sk, HTTP: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{"resultCode":"MKT.0000","orderInfo":{"orderId":"MOCKPERIODYEARNEW"}}`)), Header: http.Header{}}, nil
	})}}
	if _, err := c.Query(context.Background(), "MOCKPERIODYEARNEW", ""); err != nil {
		t.Fatalf("Query() error = %v", err)
	}
	if got.URL.String() != "https://mkt.myhuaweicloud.com"+orderquery.QueryPath+"?orderId=MOCKPERIODYEARNEW" || got.Host != "mkt.myhuaweicloud.com" {
		t.Errorf("request = %s (Host %q)", got.URL, got.Host)
	}
}

func TestQueryTransportFailures(t *testing.T) {
	block := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer block.Close()
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"resultCode":"MKT.0000","resultMsg":"` + strings.Repeat("x", orderquery.MaxBodyBytes) + `"}`))
	}))
	defer huge.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name          string
		endpoint      string
		timeout       time.Duration
		wantRetryable bool
		wantDeadline  bool
		wantResult    string
	}{
		{name: "connection refused", endpoint: closed.URL, wantRetryable: true, wantResult: orderquery.ResultTransport},
		{name: "context deadline", endpoint: block.URL, timeout: 50 * time.Millisecond, wantRetryable: true, wantDeadline: true, wantResult: orderquery.ResultTransport},
		{name: "answer over the cap", endpoint: huge.URL, wantResult: orderquery.ResultMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			obs := &observed{}
			c := &orderquery.Client{Endpoint: tc.endpoint, AK: ak, SK: sk, Observe: obs.observe}
			_, err := c.Query(ctx, "CS1", "CS1-000001")
			if err == nil {
				t.Fatal("Query() succeeded")
			}
			if errors.Is(err, orderquery.ErrRetryable) != tc.wantRetryable || errors.Is(err, context.DeadlineExceeded) != tc.wantDeadline {
				t.Errorf("error = %v: retryable %v (want %v), deadline %v (want %v)", err, errors.Is(err, orderquery.ErrRetryable), tc.wantRetryable, errors.Is(err, context.DeadlineExceeded), tc.wantDeadline)
			}
			if diff := cmp.Diff([]string{tc.wantResult}, obs.results); diff != "" {
				t.Errorf("observed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQueryRejectsBadInput(t *testing.T) {
	for name, c := range map[string]*orderquery.Client{
		"no keys":           {Endpoint: "http://127.0.0.1:1"},
		"relative endpoint": {Endpoint: "mkt.example.com", AK: ak, SK: sk},
		"bad scheme":        {Endpoint: "ftp://mkt.example.com", AK: ak, SK: sk},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := c.Query(context.Background(), "CS1", ""); err == nil || errors.Is(err, orderquery.ErrRetryable) {
				t.Errorf("Query() error = %v, want a permanent error", err)
			}
		})
	}
	c := &orderquery.Client{AK: ak, SK: sk}
	if _, err := c.Query(context.Background(), "", ""); err == nil {
		t.Error("Query() with an empty order id succeeded")
	}
}
