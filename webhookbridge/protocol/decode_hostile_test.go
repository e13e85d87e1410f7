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
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDecodeRefusesInvisibleCharactersAndUnrecordableOrderIDs pins two decoder rules the bridge's
// hostile-input table found missing: identifiers with invisible formatting characters and any
// field with a bidi override were accepted (and could be stored and logged, reading as another
// value), and order ids longer than the API can record were accepted, answered 000005 after an
// Order Query and resent by the marketplace for hours. Stored-only kit fields are the
// exception (docs/protocol.md §6.11): there such characters are removed, not refused.
func TestDecodeRefusesInvisibleCharactersAndUnrecordableOrderIDs(t *testing.T) {
	order64, order65 := strings.Repeat("o", MaxOrderIDLength), strings.Repeat("o", MaxOrderIDLength+1)
	for _, tc := range []struct {
		name    string
		body    string
		wantErr errInfo
	}{
		{"right-to-left override in an id", `{"activity":"releaseInstance","instanceId":"ti-\u202eabc"}`, errInfo{CodeInvalidParam, ReasonInvalidField, "instanceId"}},
		{"isolate in an id", `{"activity":"newInstance","orderId":"o\u2066x","orderLineId":"l","businessId":"b"}`, errInfo{CodeInvalidParam, ReasonInvalidField, "orderId"}},
		{"zero-width space in an id", `{"activity":"releaseInstance","instanceId":"ti-\u200babc"}`, errInfo{CodeInvalidParam, ReasonInvalidField, "instanceId"}},
		{"byte-order mark in an id", `{"activity":"newInstance","orderId":"\ufeffo","orderLineId":"l","businessId":"b"}`, errInfo{CodeInvalidParam, ReasonInvalidField, "orderId"}},
		{"soft hyphen in an id", `{"activity":"newInstance","orderId":"o\u00ad1","orderLineId":"l","businessId":"b"}`, errInfo{CodeInvalidParam, ReasonInvalidField, "orderId"}},
		{"emoji in an id is data", `{"activity":"releaseInstance","instanceId":"ti-🚀"}`, errInfo{}},
		{"64-character order id", `{"activity":"newInstance","orderId":"` + order64 + `","orderLineId":"` + order64 + `","businessId":"b"}`, errInfo{}},
		{"65-character order id", `{"activity":"newInstance","orderId":"` + order65 + `","orderLineId":"l","businessId":"b"}`, errInfo{CodeInvalidParam, ReasonInvalidField, "orderId"}},
		{"65-character order line id", `{"activity":"newInstance","orderId":"o","orderLineId":"` + order65 + `","businessId":"b"}`, errInfo{CodeInvalidParam, ReasonInvalidField, "orderLineId"}},
		{"65-character renewal order id", `{"activity":"refreshInstance","instanceId":"i","orderId":"` + order65 + `","orderLineId":"l","scene":"RENEWAL","expireTime":"20991231235959"}`, errInfo{CodeInvalidParam, ReasonInvalidField, "orderId"}},
		{"65-character upgrade order line id", `{"activity":"upgradeInstance","instanceId":"i","orderId":"o","orderLineId":"` + order65 + `"}`, errInfo{CodeInvalidParam, ReasonInvalidField, "orderLineId"}},
		{"long businessId is not an order id", `{"activity":"newInstance","orderId":"o","orderLineId":"l","businessId":"` + order65 + `"}`, errInfo{}},
	} {
		t.Run("basic "+tc.name, func(t *testing.T) {
			_, err := DecodeBasic([]byte(tc.body))
			if diff := cmp.Diff(tc.wantErr, infoOf(err)); diff != "" {
				t.Errorf("DecodeBasic error (-want +got):\n%s (%v)", diff, err)
			}
		})
	}
	// A stored kit field is tolerant (docs/protocol.md §6.11): a bidi override or an invisible
	// formatting character in a code is removed, not refused, and noted by field path only;
	// what reaches the store reads as what it is. A zero-width joiner in a name is data.
	for _, tc := range []struct {
		name      string
		body      string
		wantName  string
		wantCode  string
		wantNotes []string
	}{
		{"right-to-left override in a name", `{"name":"Evil\u202egpj.exe",` + kitCommon + `}`, "Evilgpj.exe", "", []string{"name: control or formatting characters removed"}},
		{"isolate and control characters in a name", `{"name":"A\u2066B\u0000C\u001bD\u2028",` + kitCommon + `}`, "ABCD", "", []string{"name: control or formatting characters removed"}},
		{"zero-width joiner in a name is data", `{"name":"👩\u200d💻 team",` + kitCommon + `}`, "👩\u200d💻 team", "", nil},
		{"zero-width joiner in tenantCode", `{"tenantCode":"a\u200db",` + kitCommon + `}`, "", "ab", []string{"tenantCode: control or formatting characters removed"}},
	} {
		t.Run("kit "+tc.name, func(t *testing.T) {
			got, err := DecodeKit(KitTenantSync, []byte(tc.body))
			if err != nil {
				t.Fatalf("DecodeKit: %v", err)
			}
			want := &TenantSync{TenantID: "t1", TenantCode: tc.wantCode, Name: tc.wantName, Flag: FlagAdd}
			if diff := cmp.Diff(want, got.TenantSync); diff != "" {
				t.Errorf("DecodeKit tenantSync (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantNotes, got.Notes); diff != "" {
				t.Errorf("DecodeKit notes (-want +got):\n%s", diff)
			}
		})
	}
	// The fields the bridge acts on stay strict: an invisible character in one is refused.
	for _, tc := range []struct {
		name    string
		body    string
		wantErr errInfo
	}{
		{"right-to-left override in tenantId", `{"instanceId":"ti-1","tenantId":"t\u202e1","flag":1,"testFlag":0,"timeStamp":"20220413093539534"}`, errInfo{CodeInvalidParam, ReasonInvalidField, "tenantId"}},
		{"zero-width space in instanceId", `{"instanceId":"ti-\u200b1","tenantId":"t1","flag":1,"testFlag":0,"timeStamp":"20220413093539534"}`, errInfo{CodeInvalidParam, ReasonInvalidField, "instanceId"}},
	} {
		t.Run("kit "+tc.name, func(t *testing.T) {
			_, err := DecodeKit(KitTenantSync, []byte(tc.body))
			if diff := cmp.Diff(tc.wantErr, infoOf(err)); diff != "" {
				t.Errorf("DecodeKit error (-want +got):\n%s (%v)", diff, err)
			}
		})
	}
	for _, tc := range []struct {
		name    string
		q       url.Values
		wantErr errInfo
	}{
		{"65-character order id", url.Values{"activity": {"upgrade"}, "instanceId": {"i"}, "orderId": {order65}}, errInfo{CodeInvalidParam, ReasonInvalidField, "orderId"}},
		{"bidi isolate in customerName", url.Values{"activity": {"newInstance"}, "orderId": {"o"}, "businessId": {"b"}, "customerId": {"c"}, "productId": {"p"},
			"customerName": {"ACME \u2067Ltd"}}, errInfo{CodeInvalidParam, ReasonInvalidField, "customerName"}},
	} {
		t.Run("v1 "+tc.name, func(t *testing.T) {
			_, err := DecodeV1(tc.q)
			if diff := cmp.Diff(tc.wantErr, infoOf(err)); diff != "" {
				t.Errorf("DecodeV1 error (-want +got):\n%s (%v)", diff, err)
			}
		})
	}
}

const kitCommon = `"instanceId":"ti-1","tenantId":"t1","flag":1,"testFlag":0,"timeStamp":"20220413093539534"`
