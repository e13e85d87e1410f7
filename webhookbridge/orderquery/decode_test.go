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

package orderquery

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// realisticAnswer follows the published success example, with the variations
// seen in the wild: numbers as strings, 17-digit times, a second line.
const realisticAnswer = `{
  "resultCode": "MKT.0000",
  "resultMsg": "Success",
  "orderInfo": {
    "orderId": "CS2207261447AUY4H",
    "orderType": "NEW",
    "createTime": "20220726064736",
    "buyerInfo": {"customerId": "68cbc86abc2018ab880d92f36422fa0e", "customerName": "ACME", "userId": "u1", "userName": "acme-admin", "mobilePhone": "", "email": "ops@acme.example"},
    "orderLine": [
      {
        "orderLineId": "CS2207261447AUY4H-000001",
        "chargingMode": "PERIOD",
        "periodType": "year",
        "periodNumber": 1,
        "expireTime": "20230726155959",
        "productInfo": [{"productId": "00301-666666-0--0", "skuCode": "e3d54c1b-2c8f-4b5e-9c3c-8a1d8c5e0a11", "linearValue": 10}],
        "extendParams": [{"name": "emailDomainName", "value": "acme.example"}]
      },
      {
        "orderLineId": "CS2207261447AUY4H-000002",
        "chargingMode": "ON_DEMAND",
        "periodNumber": "3",
        "expireTime": "20230726155959123",
        "productInfo": [{"productId": "p2", "skuCode": "s2", "linearValue": "2.5"}],
        "unknownField": {"ignored": true}
      }
    ]
  }
}`

func TestDecodeRealisticAnswer(t *testing.T) {
	got, err := decode(http.StatusOK, []byte(realisticAnswer), "CS2207261447AUY4H-000001")
	if err != nil {
		t.Fatalf("decode() error = %v", err)
	}
	e1 := time.Date(2023, 7, 26, 15, 59, 59, 0, time.UTC)
	e2 := time.Date(2023, 7, 26, 15, 59, 59, 123e6, time.UTC)
	want := &Order{
		OrderID:    "CS2207261447AUY4H",
		OrderType:  "NEW",
		CreateTime: "20220726064736",
		Buyer:      Buyer{CustomerID: "68cbc86abc2018ab880d92f36422fa0e", CustomerName: "ACME", UserID: "u1", UserName: "acme-admin", Email: "ops@acme.example"},
		Lines: []OrderLine{{
			OrderLineID:  "CS2207261447AUY4H-000001",
			ChargingMode: "PERIOD",
			PeriodType:   "year",
			PeriodNumber: 1,
			ExpireTime:   "20230726155959",
			ExpireAt:     &e1,
			Products:     []Product{{ProductID: "00301-666666-0--0", SkuCode: "e3d54c1b-2c8f-4b5e-9c3c-8a1d8c5e0a11", LinearValue: "10"}},
			ExtendParams: []Param{{Name: "emailDomainName", Value: "acme.example"}},
		}, {
			OrderLineID:  "CS2207261447AUY4H-000002",
			ChargingMode: "ON_DEMAND",
			PeriodNumber: 3,
			ExpireTime:   "20230726155959123",
			ExpireAt:     &e2,
			Products:     []Product{{ProductID: "p2", SkuCode: "s2", LinearValue: "2.5"}},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if l, ok := got.Line("CS2207261447AUY4H-000002"); !ok || l.ChargingMode != "ON_DEMAND" {
		t.Errorf("Line() = %+v, %v", l, ok)
	}
	if _, ok := got.Line("nope"); ok {
		t.Error("Line() found a missing line")
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		body          string
		line          string
		wantCode      string
		wantRetryable bool
		wantNotFound  bool
		wantResult    string
	}{
		{name: "rate limited", status: http.StatusNotAcceptable, body: `{"resultCode":"MKT.0250","resultMsg":"Access frequency overlimit"}`, wantCode: "MKT.0250", wantRetryable: true, wantResult: ResultRateLimited},
		{name: "internal error", status: http.StatusInternalServerError, body: `{"resultCode":"MKT.0999","resultMsg":"System internal error."}`, wantCode: "MKT.0999", wantRetryable: true, wantResult: ResultServerError},
		{name: "unknown order, sent with HTTP 500", status: http.StatusInternalServerError, body: `{"resultCode":"MKT.0100","resultMsg":"Failure of input parameter"}`, wantCode: "MKT.0100", wantNotFound: true, wantResult: ResultNotFound},
		{name: "auth failure", status: http.StatusUnauthorized, body: `{"resultCode":"MKT.0154","resultMsg":"Illegal token"}`, wantCode: "MKT.0154", wantResult: ResultRejected},
		{name: "unknown code with 5xx", status: http.StatusServiceUnavailable, body: `{"resultCode":"MKT.0777","resultMsg":"?"}`, wantCode: "MKT.0777", wantRetryable: true, wantResult: ResultServerError},
		{name: "unknown code with 4xx", status: http.StatusBadRequest, body: `{"resultCode":"MKT.0199","resultMsg":"Request parameter error"}`, wantCode: "MKT.0199", wantResult: ResultRejected},
		{name: "gateway error page", status: http.StatusBadGateway, body: `<html>bad gateway</html>`, wantRetryable: true, wantResult: ResultServerError},
		{name: "throttled without body", status: http.StatusTooManyRequests, body: ``, wantRetryable: true, wantResult: ResultServerError},
		{name: "garbage with 200", status: http.StatusOK, body: `<html>`, wantResult: ResultMalformed},
		{name: "no result code", status: http.StatusOK, body: `{"orderInfo":{}}`, wantResult: ResultMalformed},
		{name: "success without order", status: http.StatusOK, body: `{"resultCode":"MKT.0000","resultMsg":"Success"}`, wantCode: "MKT.0000", wantNotFound: true, wantResult: ResultNotFound},
		{name: "success with non-200", status: http.StatusInternalServerError, body: `{"resultCode":"MKT.0000","orderInfo":{"orderId":"x"}}`, wantCode: "MKT.0000", wantRetryable: true, wantResult: ResultServerError},
		{name: "line missing", status: http.StatusOK, body: realisticAnswer, line: "CS2207261447AUY4H-000009", wantCode: "MKT.0000", wantNotFound: true, wantResult: ResultNotFound},
		{name: "bad expire time", status: http.StatusOK, body: `{"resultCode":"MKT.0000","orderInfo":{"orderId":"x","orderLine":[{"orderLineId":"x-1","expireTime":"2023-07-26"}]}}`, wantCode: "MKT.0000", wantResult: ResultMalformed},
		{name: "bad period number", status: http.StatusOK, body: `{"resultCode":"MKT.0000","orderInfo":{"orderId":"x","orderLine":[{"orderLineId":"x-1","periodNumber":"one"}]}}`, wantCode: "MKT.0000", wantResult: ResultMalformed},
		{name: "line without id", status: http.StatusOK, body: `{"resultCode":"MKT.0000","orderInfo":{"orderId":"x","orderLine":[{}]}}`, wantCode: "MKT.0000", wantResult: ResultMalformed},
		{name: "object where number expected", status: http.StatusOK, body: `{"resultCode":"MKT.0000","orderInfo":{"orderId":"x","orderLine":[{"orderLineId":"x-1","periodNumber":{}}]}}`, wantCode: "MKT.0000", wantResult: ResultMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(tc.status, []byte(tc.body), tc.line)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("decode() error = %v, want *Error", err)
			}
			got := []any{e.Code, errors.Is(err, ErrRetryable), errors.Is(err, ErrNotFound), resultOf(err), e.HTTPStatus}
			want := []any{tc.wantCode, tc.wantRetryable, tc.wantNotFound, tc.wantResult, tc.status}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("[code retryable notFound result status] (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	err := &Error{Code: "MKT.0250", Message: "Access frequency overlimit", HTTPStatus: 406, Retryable: true}
	want := `order query failed: marketplace answered "MKT.0250" ("Access frequency overlimit") with HTTP status 406`
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "20230726155959", want: time.Date(2023, 7, 26, 15, 59, 59, 0, time.UTC)},
		{in: "20230726155959007", want: time.Date(2023, 7, 26, 15, 59, 59, 7e6, time.UTC)},
		{in: "20240229000000", want: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{in: "20230229000000", wantErr: true},
		{in: "2023072615595", wantErr: true},
		{in: "202307261559591", wantErr: true},
		{in: "2023-07-26T15:5", wantErr: true},
		{in: "20230726 55959", wantErr: true},
		{in: "2023072615595.9", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTime(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseTime(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if !got.Equal(tc.want) || (err == nil && got.Location() != time.UTC) {
				t.Errorf("ParseTime(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzParseTime(f *testing.F) {
	f.Add("20230726155959")
	f.Add("20230726155959123")
	f.Add("2023072615595.9")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		if err != nil {
			return
		}
		// Whatever parses must print back to the same digits.
		back := got.Format("20060102150405")
		if len(s) == 17 {
			back += got.Format(".000")[1:]
		}
		if back != s {
			t.Fatalf("ParseTime(%q) = %v, which formats as %q", s, got, back)
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add(200, []byte(realisticAnswer), "CS2207261447AUY4H-000001")
	f.Add(500, []byte(`{"resultCode":"MKT.0100"}`), "")
	f.Add(200, []byte(`{"resultCode":"MKT.0000","orderInfo":{"orderId":"x","orderLine":[{"orderLineId":"x-1","periodNumber":1e400}]}}`), "")
	f.Fuzz(func(t *testing.T, status int, body []byte, line string) {
		o, err := decode(status, body, line)
		if err == nil {
			if o == nil || o.OrderID == "" {
				t.Fatal("success without an order")
			}
			if line != "" {
				if _, ok := o.Line(line); !ok {
					t.Fatalf("success without line %q", line)
				}
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v is not an *Error", err)
		}
		if e.Retryable && e.NotFound {
			t.Fatalf("error %v is both retryable and not found", err)
		}
	})
}
