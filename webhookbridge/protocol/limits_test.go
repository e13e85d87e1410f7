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

package protocol

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDecodeIDLimits pins each identifier's length bound at its edge: the longest value is
// accepted and one character more is refused with 000002 naming the field. The bounds follow
// docs/protocol.md §5 (instanceId ≤ 64, at most 100 ids per query), the V1 guide (customerId
// ≤ 100) and what the TenantInstance API can record (order ids, productId ≤ 64): a value the API
// would refuse is refused here, so the marketplace is told at once instead of resending for hours.
func TestDecodeIDLimits(t *testing.T) {
	v1 := func(field string, n int, base string) func() (Request, error) {
		return func() (Request, error) {
			q, err := url.ParseQuery(base)
			if err != nil {
				t.Fatal(err)
			}
			q.Set(field, strings.Repeat("x", n))
			return DecodeV1(q)
		}
	}
	v2 := func(field string, n int, base map[string]string) func() (Request, error) {
		return func() (Request, error) {
			m := map[string]string{field: strings.Repeat("x", n)}
			for k, v := range base {
				if k != field {
					m[k] = v
				}
			}
			body, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			return DecodeBasic(body)
		}
	}
	const (
		v1New     = "activity=newInstance&orderId=o1&businessId=b1&customerId=c1&productId=p1"
		v1Refresh = "activity=refreshInstance&instanceId=i1&orderId=o2&expireTime=20991231235959"
		v1Upgrade = "activity=upgrade&instanceId=i1&orderId=o3"
	)
	v2Refresh := map[string]string{"activity": "refreshInstance", "instanceId": "i1", "orderId": "o2", "orderLineId": "o2-1", "scene": "RENEWAL", "expireTime": "20991231235959"}
	v2New := map[string]string{"activity": "newInstance", "orderId": "o1", "orderLineId": "o1-1", "businessId": "b1"}
	tests := []struct {
		name  string
		field string
		max   int
		call  func(field string, n int) func() (Request, error)
	}{
		{"v1 newInstance customerId", "customerId", MaxCustomerIDLength, func(f string, n int) func() (Request, error) { return v1(f, n, v1New) }},
		{"v1 newInstance productId", "productId", MaxProductIDLength, func(f string, n int) func() (Request, error) { return v1(f, n, v1New) }},
		{"v1 newInstance orderId", "orderId", MaxOrderIDLength, func(f string, n int) func() (Request, error) { return v1(f, n, v1New) }},
		{"v1 newInstance businessId", "businessId", MaxFieldLength, func(f string, n int) func() (Request, error) { return v1(f, n, v1New) }},
		{"v1 refreshInstance productId", "productId", MaxProductIDLength, func(f string, n int) func() (Request, error) { return v1(f, n, v1Refresh) }},
		{"v1 refreshInstance instanceId", "instanceId", MaxInstanceIDLength, func(f string, n int) func() (Request, error) { return v1(f, n, v1Refresh) }},
		{"v1 upgrade productId", "productId", MaxProductIDLength, func(f string, n int) func() (Request, error) { return v1(f, n, v1Upgrade) }},
		{"v1 upgrade orderId", "orderId", MaxOrderIDLength, func(f string, n int) func() (Request, error) { return v1(f, n, v1Upgrade) }},
		{"v2 newInstance orderLineId", "orderLineId", MaxOrderIDLength, func(f string, n int) func() (Request, error) { return v2(f, n, v2New) }},
		{"v2 refreshInstance orderLineId", "orderLineId", MaxOrderIDLength, func(f string, n int) func() (Request, error) { return v2(f, n, v2Refresh) }},
		{"v2 refreshInstance productId", "productId", MaxProductIDLength, func(f string, n int) func() (Request, error) { return v2(f, n, v2Refresh) }},
		{"v2 refreshInstance instanceId", "instanceId", MaxInstanceIDLength, func(f string, n int) func() (Request, error) { return v2(f, n, v2Refresh) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.call(tc.field, tc.max)(); err != nil {
				t.Errorf("%d characters refused: %v", tc.max, err)
			}
			_, err := tc.call(tc.field, tc.max+1)()
			want := errInfo{Code: CodeInvalidParam, Reason: ReasonInvalidField, Field: tc.field}
			if diff := cmp.Diff(want, infoOf(err)); diff != "" {
				t.Errorf("%d characters (-want +got):\n%s", tc.max+1, diff)
			}
		})
	}
}
