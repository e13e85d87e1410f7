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

package simulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/webhookbridge/orderquery"
)

const (
	testAK = "SIMULATORTESTAK0000"
	testSK = "simulator-test-secret-key"
)

var testNow = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// newOrderServer serves an OrderServer whose clock is fixed at testNow and
// returns it with an orderquery client (the bridge's SDK-signed client).
func newOrderServer(t *testing.T) (*OrderServer, *httptest.Server, *orderquery.Client) {
	t.Helper()
	s := NewOrderServer(OrderServerConfig{AK: testAK, SK: testSK, DefaultSKU: "sku.basic", DefaultProductID: "prod-1", Now: func() time.Time { return testNow }})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv, &orderquery.Client{Endpoint: srv.URL, AK: testAK, SK: testSK, HTTP: srv.Client(), Now: func() time.Time { return testNow }}
}

func TestOrderServerAnswersSDKSignedQuery(t *testing.T) {
	s, _, c := newOrderServer(t)
	o := s.CreateOrder(OrderSpec{SKU: "sku.gold", ProductID: "prod-9", OrderType: OrderTypeNew, PeriodType: PeriodYear, PeriodNumber: 1, LinearValue: 20, CustomerName: "ACME <Ltd> & Co", ExtendParams: []Param{{Name: "region", Value: "cn-north-4"}}})

	got, err := c.Query(context.Background(), o.OrderID, o.OrderLine[0].OrderLineID)
	if err != nil {
		t.Fatalf("Query() error = %v", err)
	}
	expire := testNow.AddDate(1, 0, 0)
	want := &orderquery.Order{
		OrderID:    o.OrderID,
		OrderType:  "NEW",
		CreateTime: "20260314092653",
		Buyer:      orderquery.Buyer{CustomerID: o.BuyerInfo.CustomerID, CustomerName: "ACME <Ltd> & Co", UserID: o.BuyerInfo.CustomerID, UserName: "ACME <Ltd> & Co"},
		Lines: []orderquery.OrderLine{{
			OrderLineID:  o.OrderID + "-000001",
			ChargingMode: "PERIOD",
			PeriodType:   "year",
			PeriodNumber: 1,
			ExpireTime:   "20270314092653",
			ExpireAt:     &expire,
			Products:     []orderquery.Product{{ProductID: "prod-9", SkuCode: "sku.gold", LinearValue: "20"}},
			ExtendParams: []orderquery.Param{{Name: "region", Value: "cn-north-4"}},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestOrderServerIDs(t *testing.T) {
	s, _, _ := newOrderServer(t)
	o := s.CreateOrder(OrderSpec{})
	if !regexp.MustCompile(`^CS2603140926[A-Z0-9]{5}$`).MatchString(o.OrderID) {
		t.Errorf("order id %q does not look like a marketplace id", o.OrderID)
	}
	if got, want := o.OrderLine[0].OrderLineID, o.OrderID+"-000001"; got != want {
		t.Errorf("line id = %q, want %q", got, want)
	}
	if got := o.OrderLine[0].ProductInfo[0].SkuCode; got != "sku.basic" {
		t.Errorf("default SKU = %q, want %q", got, "sku.basic")
	}
}

func TestOrderServerMockOrders(t *testing.T) {
	_, _, c := newOrderServer(t)
	tests := []struct {
		id, orderType, charging, periodType string
	}{
		{"MOCKPERIODYEARNEW", "NEW", "PERIOD", "year"},
		{"MOCKPERIODDAYTRIAL", "TRIAL", "PERIOD", "day"},
		{"MOCKMONTYRENEW", "RENEW", "PERIOD", "month"},
		{"MOCKMONTYCHANGE", "CHANGE", "PERIOD", "month"},
		{"MOCKONDEMAND", "NEW", "ON_DEMAND", ""},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			o, err := c.Query(context.Background(), tc.id, tc.id+"-000001")
			if err != nil {
				t.Fatalf("Query() error = %v", err)
			}
			l := o.Lines[0]
			got := []string{o.OrderType, l.ChargingMode, l.PeriodType, l.Products[0].SkuCode}
			if diff := cmp.Diff([]string{tc.orderType, tc.charging, tc.periodType, "sku.basic"}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestOrderServerRejectsBadSignatures(t *testing.T) {
	s, srv, _ := newOrderServer(t)
	o := s.CreateOrder(OrderSpec{})
	tests := []struct {
		name     string
		client   orderquery.Client
		tamper   func(*http.Request)
		wantCode string
	}{
		{name: "valid", wantCode: ""},
		{name: "valid at the edge of the skew window", client: orderquery.Client{Now: func() time.Time { return testNow.Add(-14 * time.Minute) }}},
		{name: "wrong secret key", client: orderquery.Client{SK: "not-the-secret"}, wantCode: MKTIllegalToken},
		{name: "unknown access key", client: orderquery.Client{AK: "OTHERAK"}, wantCode: MKTIllegalToken},
		{name: "stale date", client: orderquery.Client{Now: func() time.Time { return testNow.Add(-16 * time.Minute) }}, wantCode: MKTIllegalToken},
		{name: "future date", client: orderquery.Client{Now: func() time.Time { return testNow.Add(16 * time.Minute) }}, wantCode: MKTIllegalToken},
		{name: "tampered query", tamper: func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "orderId=", "orderId=X", 1) }, wantCode: MKTIllegalToken},
		{name: "tampered date", tamper: func(r *http.Request) { r.Header.Set("X-Sdk-Date", testNow.Add(time.Second).Format(gatewayDateLayout)) }, wantCode: MKTIllegalToken},
		{name: "no authorization", tamper: func(r *http.Request) { r.Header.Del("Authorization") }, wantCode: MKTIllegalToken},
		{name: "host not as signed", tamper: func(r *http.Request) { r.Host = "mkt.example.com" }, wantCode: MKTIllegalToken},
		// The scheme always appends a slash to the canonical URI, so this is no tampering.
		{name: "trailing slash", tamper: func(r *http.Request) { r.URL.Path += "/" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.client
			c.Endpoint = srv.URL
			c.AK = or(c.AK, testAK)
			c.SK = or(c.SK, testSK)
			if c.Now == nil {
				c.Now = func() time.Time { return testNow }
			}
			c.HTTP = &http.Client{Transport: tamperTransport{tamper: tc.tamper}}
			_, err := c.Query(context.Background(), o.OrderID, o.OrderLine[0].OrderLineID)
			var qe *orderquery.Error
			switch {
			case tc.wantCode == "" && err != nil:
				t.Fatalf("Query() error = %v, want success", err)
			case tc.wantCode != "" && (!errors.As(err, &qe) || qe.Code != tc.wantCode):
				t.Fatalf("Query() error = %v, want code %q", err, tc.wantCode)
			case tc.wantCode != "" && errors.Is(err, orderquery.ErrRetryable):
				t.Errorf("auth failure %v is retryable", err)
			}
		})
	}
}

// tamperTransport changes a request after it was signed.
type tamperTransport struct{ tamper func(*http.Request) }

func (tt tamperTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if tt.tamper != nil {
		r = r.Clone(r.Context())
		tt.tamper(r)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// Ids with reserved characters check that the simulator's canonical URI and
// query agree with the SDK signer's: a disagreement would show as an
// authentication failure instead of "not found".
func TestOrderServerCanonicalisationMatchesSDK(t *testing.T) {
	s, _, c := newOrderServer(t)
	for _, id := range []string{"A B", "a+b", "a/b?c=d&e", "华为-1", "~._-", "100%"} {
		t.Run(id, func(t *testing.T) {
			s.CreateOrder(OrderSpec{OrderID: id})
			o, err := c.Query(context.Background(), id, id+"-000001")
			if err != nil {
				t.Fatalf("Query(%q) error = %v", id, err)
			}
			if o.OrderID != id {
				t.Errorf("order id = %q, want %q", o.OrderID, id)
			}
		})
	}
}

func TestOrderServerNotFound(t *testing.T) {
	s, _, c := newOrderServer(t)
	o := s.CreateOrder(OrderSpec{})
	for name, ids := range map[string][2]string{
		"unknown order": {"CS0000000000NOPE0", ""},
		"unknown line":  {o.OrderID, o.OrderID + "-000002"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Query(context.Background(), ids[0], ids[1])
			if !errors.Is(err, orderquery.ErrNotFound) || errors.Is(err, orderquery.ErrRetryable) {
				t.Fatalf("Query() error = %v, want permanent not found", err)
			}
		})
	}
}

func TestOrderServerFaults(t *testing.T) {
	s, _, c := newOrderServer(t)
	o := s.CreateOrder(OrderSpec{})
	query := func() error {
		_, err := c.Query(context.Background(), o.OrderID, o.OrderLine[0].OrderLineID)
		return err
	}

	s.SetFailure(Failure{Code: MKTRateLimited, Times: 2})
	for i := range 2 {
		var qe *orderquery.Error
		if err := query(); !errors.Is(err, orderquery.ErrRetryable) || !errors.As(err, &qe) || qe.Code != MKTRateLimited || qe.HTTPStatus != http.StatusNotAcceptable {
			t.Fatalf("attempt %d: error = %v, want retryable %q with HTTP 406", i, err, MKTRateLimited)
		}
	}
	if err := query(); err != nil {
		t.Fatalf("after the injected failures ran out: error = %v", err)
	}

	s.SetFailure(Failure{HTTPStatus: http.StatusBadGateway})
	if err := query(); !errors.Is(err, orderquery.ErrRetryable) {
		t.Fatalf("bare 502: error = %v, want retryable", err)
	}
	s.SetFailure(Failure{Code: "MKT.0151"})
	if err := query(); err == nil || errors.Is(err, orderquery.ErrRetryable) {
		t.Fatalf("MKT.0151: error = %v, want permanent", err)
	}
	s.SetFailure(Failure{})
	if err := query(); err != nil {
		t.Fatalf("after clearing: error = %v", err)
	}

	s.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Query(ctx, o.OrderID, "")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, orderquery.ErrRetryable) {
		t.Fatalf("with latency: error = %v, want retryable deadline exceeded", err)
	}
}

func TestOrdersAdmin(t *testing.T) {
	s, srv, c := newOrderServer(t)
	admin := &OrdersAdmin{URL: srv.URL, HTTP: srv.Client()}
	ctx := context.Background()

	expire := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	reg, err := admin.RegisterOrder(ctx, OrderSpec{SKU: "sku.gold", OrderType: OrderTypeTrial, ExpireTime: expire})
	if err != nil {
		t.Fatalf("RegisterOrder() error = %v", err)
	}
	if reg.OrderLineID != reg.OrderID+"-000001" {
		t.Errorf("orderLineId = %q for order %q", reg.OrderLineID, reg.OrderID)
	}
	stored, ok := s.Order(reg.OrderID)
	if !ok {
		t.Fatalf("order %q not stored", reg.OrderID)
	}
	if diff := cmp.Diff(stored, reg.Order); diff != "" {
		t.Errorf("registered order differs from stored (-stored +answer):\n%s", diff)
	}
	got, err := admin.Order(ctx, reg.OrderID)
	if err != nil {
		t.Fatalf("Order() error = %v", err)
	}
	if diff := cmp.Diff(reg, got); diff != "" {
		t.Errorf("GET differs from POST (-post +get):\n%s", diff)
	}
	o, err := c.Query(ctx, reg.OrderID, reg.OrderLineID)
	if err != nil {
		t.Fatalf("Query() error = %v", err)
	}
	if l := o.Lines[0]; l.ExpireTime != "20270102030405" || o.OrderType != "TRIAL" || l.PeriodType != "day" {
		t.Errorf("queried line = %+v, type %q", l, o.OrderType)
	}

	if _, err := admin.Order(ctx, "CS-missing"); err == nil {
		t.Error("Order() of a missing id succeeded")
	}
	if _, err := admin.RegisterOrder(ctx, OrderSpec{OrderID: strings.Repeat("x", 65)}); err == nil {
		t.Error("RegisterOrder() with a 65-character id succeeded")
	}

	f, err := admin.SetFaults(ctx, Faults{Latency: "1.5s", Failure: Failure{Code: MKTRateLimited, Times: 1}})
	if err != nil {
		t.Fatalf("SetFaults() error = %v", err)
	}
	if diff := cmp.Diff(Faults{Latency: "1.5s", Failure: Failure{Code: MKTRateLimited, Times: 1}}, f); diff != "" {
		t.Errorf("faults (-want +got):\n%s", diff)
	}
	if _, err := admin.SetFaults(ctx, Faults{Latency: "soon"}); err == nil {
		t.Error("SetFaults() with a bad latency succeeded")
	}
	if _, err := admin.SetFaults(ctx, Faults{}); err != nil {
		t.Fatalf("clearing faults: %v", err)
	}
	if _, err := c.Query(ctx, reg.OrderID, reg.OrderLineID); err != nil {
		t.Fatalf("Query() after clearing faults: %v", err)
	}
}

func FuzzParseGatewayAuthorization(f *testing.F) {
	f.Add("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=abcd")
	f.Add("SDK-HMAC-SHA256 ,,=")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseGatewayAuthorization(h)
		if err == nil && (a.access == "" || a.signature == "" || len(a.signedHeaders) == 0) {
			t.Fatalf("accepted incomplete header %q", h)
		}
	})
}

func TestOrderServerSeveralLines(t *testing.T) {
	s, srv, c := newOrderServer(t)
	o := s.CreateOrder(OrderSpec{OrderID: "CSMULTI", SKU: "sku.api", ChargingMode: ChargingOnDemand, Lines: []LineSpec{
		{LinearValue: 100}, {LinearValue: 50}, {ProductID: "prod-2", SKU: "sku.other"},
	}})
	var got []string
	for _, l := range o.OrderLine {
		p := l.ProductInfo[0]
		got = append(got, fmt.Sprintf("%s %s %s %s/%s x%d expire=%q", l.OrderLineID, l.ChargingMode, l.PeriodType, p.ProductID, p.SkuCode, p.LinearValue, l.ExpireTime))
	}
	want := []string{
		`CSMULTI-000001 ON_DEMAND  prod-1/sku.api x100 expire=""`,
		`CSMULTI-000002 ON_DEMAND  prod-1/sku.api x50 expire=""`,
		`CSMULTI-000003 ON_DEMAND  prod-2/sku.other x0 expire=""`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}

	// Order Query answers each line on its own, and the whole order without a line id.
	q, err := c.Query(context.Background(), "CSMULTI", "CSMULTI-000002")
	if err != nil {
		t.Fatalf("Query() error = %v", err)
	}
	if len(q.Lines) != 1 || q.Lines[0].Products[0].LinearValue != "50" {
		t.Errorf("line 2 = %+v", q.Lines)
	}
	q, err = c.Query(context.Background(), "CSMULTI", "")
	if err != nil || len(q.Lines) != 3 {
		t.Fatalf("Query() of the whole order = %+v, %v", q, err)
	}

	admin := &OrdersAdmin{URL: srv.URL, HTTP: srv.Client()}
	reg, err := admin.RegisterOrder(context.Background(), OrderSpec{ChargingMode: ChargingOnDemand, Lines: []LineSpec{{}, {}}})
	if err != nil {
		t.Fatalf("RegisterOrder() error = %v", err)
	}
	if diff := cmp.Diff([]string{reg.OrderID + "-000001", reg.OrderID + "-000002"}, reg.OrderLineIDs); diff != "" || reg.OrderLineID != reg.OrderLineIDs[0] {
		t.Errorf("line ids (-want +got):\n%s; first %q", diff, reg.OrderLineID)
	}
}

func TestOrdersAdminRefusesImpossibleOrders(t *testing.T) {
	_, srv, _ := newOrderServer(t)
	admin := &OrdersAdmin{URL: srv.URL, HTTP: srv.Client()}
	for name, spec := range map[string]OrderSpec{
		"long id":                 {OrderID: strings.Repeat("x", 65)},
		"negative linearValue":    {LinearValue: -1},
		"negative line linear":    {Lines: []LineSpec{{}, {LinearValue: -2}}},
		"more than 100 lines":     {Lines: make([]LineSpec, 101)},
		"unknown field is caught": {},
	} {
		t.Run(name, func(t *testing.T) {
			if name == "unknown field is caught" {
				resp, err := srv.Client().Post(srv.URL+AdminOrdersPath, "application/json", strings.NewReader(`{"lines":[{"quantity":3}]}`))
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("status = %d, want 400", resp.StatusCode)
				}
				return
			}
			if _, err := admin.RegisterOrder(context.Background(), spec); err == nil {
				t.Error("RegisterOrder() succeeded")
			}
		})
	}
}

func TestOrderServerMockOrdersConfigurable(t *testing.T) {
	s := NewOrderServer(OrderServerConfig{AK: testAK, SK: testSK, DefaultSKU: "sku.basic", MockChangeSKU: "sku.gold", MockLinearValue: 8, Now: func() time.Time { return testNow }})
	tests := []struct {
		id   string
		want []string
	}{
		{"MOCKMONTYCHANGE", []string{"CHANGE MOCKMONTYCHANGE-000001 PERIOD sku.gold x8 20260414092653"}},
		{"MOCKPERIODYEARNEW", []string{"NEW MOCKPERIODYEARNEW-000001 PERIOD sku.basic x0 20270314092653"}},
		{"MOCKPERIODYEARNEWLINEAR", []string{"NEW MOCKPERIODYEARNEWLINEAR-000001 PERIOD sku.basic x8 20270314092653"}},
		{"MOCKPERIODDAYTRIAL", []string{"TRIAL MOCKPERIODDAYTRIAL-000001 PERIOD sku.basic x0 20260321092653"}},
		{"MOCKONDEMANDMULTI", []string{"NEW MOCKONDEMANDMULTI-000001 ON_DEMAND sku.basic x0 ", "NEW MOCKONDEMANDMULTI-000002 ON_DEMAND sku.basic x0 "}},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			o, ok := s.Order(tc.id)
			if !ok {
				t.Fatalf("mock order %q unknown", tc.id)
			}
			var got []string
			for _, l := range o.OrderLine {
				p := l.ProductInfo[0]
				got = append(got, fmt.Sprintf("%s %s %s %s x%d %s", o.OrderType, l.OrderLineID, l.ChargingMode, p.SkuCode, p.LinearValue, l.ExpireTime))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// Every mock order listed is answered, and its customer is stable across queries.
	for _, m := range MockOrders() {
		a, ok1 := s.Order(m.OrderID)
		b, ok2 := s.Order(m.OrderID)
		if !ok1 || !ok2 || a.BuyerInfo.CustomerID != b.BuyerInfo.CustomerID {
			t.Errorf("mock order %q: answered %v/%v, customers %q/%q", m.OrderID, ok1, ok2, a.BuyerInfo.CustomerID, b.BuyerInfo.CustomerID)
		}
	}
}
