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
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/webhookbridge/orderquery"
)

// verifyingTransport runs the simulator's gateway verifier on each request in process and
// answers the outcome, so the fuzzer needs no network.
type verifyingTransport struct {
	tamper func(*http.Request)
	err    error
}

func (v *verifyingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if v.tamper != nil {
		r = r.Clone(r.Context())
		v.tamper(r)
	}
	lookup := func(ak string) (string, bool) { return testSK, ak == testAK }
	ak, err := verifyGatewayRequest(r, nil, lookup, testNow, DefaultGatewaySkew)
	if err == nil && ak != testAK {
		err = fmt.Errorf("verified as access key %q", ak)
	}
	v.err = err
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(`{"resultCode":"MKT.0100"}`)), Request: r}, nil
}

// FuzzVerifyGatewayRequest checks the simulator's independent AK/SK verifier against the Huawei
// Cloud SDK signer the bridge's Order Query client uses: whatever ids the bridge sends, an
// SDK-signed query verifies, and the same query with its orderId, date or host changed does not.
func FuzzVerifyGatewayRequest(f *testing.F) {
	for _, ids := range [][2]string{
		{"CS2211181819B4LVS", "CS2211181819B4LVS-000001"}, {"A B", ""}, {"a+b", "a+b-1"}, {"a/b?c=d&e", "x#y"},
		{"华为-1", "~._-"}, {"100%", "%zz"}, {"a;b", "a=b"}, {"\x00", "\xff"}, {"*", "'!()"},
	} {
		f.Add(ids[0], ids[1])
	}
	f.Fuzz(func(t *testing.T, orderID, lineID string) {
		if orderID == "" {
			return // the client refuses an empty order id before signing
		}
		query := func(tamper func(*http.Request)) error {
			vt := &verifyingTransport{tamper: tamper}
			c := &orderquery.Client{Endpoint: "https://mkt.example.com", AK: testAK, SK: testSK,
				HTTP: &http.Client{Transport: vt}, Now: func() time.Time { return testNow }}
			if _, err := c.Query(context.Background(), orderID, lineID); err == nil {
				t.Fatal("canned not-found answer decoded as an order")
			}
			return vt.err
		}
		if err := query(nil); err != nil {
			t.Fatalf("SDK-signed query for %q, %q refused: %v", orderID, lineID, err)
		}
		for name, tamper := range map[string]func(*http.Request){
			"orderId": func(r *http.Request) {
				q := r.URL.Query()
				q.Set("orderId", orderID+"X")
				r.URL.RawQuery = q.Encode()
			},
			"date": func(r *http.Request) {
				r.Header.Set(gatewayDateHeader, testNow.Add(time.Second).Format(gatewayDateLayout))
			},
			"host": func(r *http.Request) { r.Host = "mkt.example.org" },
		} {
			if err := query(tamper); err == nil {
				t.Fatalf("query for %q, %q with a changed %s verified", orderID, lineID, name)
			}
		}
	})
}
