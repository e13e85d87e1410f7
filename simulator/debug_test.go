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
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// debugBridge answers like a bridge that follows the debug rules: newInstance answers an id
// derived from the order, queryInstance a filled test entry, everything else 000000. override,
// when set, may change the answer of a call.
func debugBridge(override func(c stubCall, code string, extra map[string]any) (string, map[string]any)) func(stubCall) (string, map[string]any) {
	return func(c stubCall) (string, map[string]any) {
		code, extra := ResultSuccess, map[string]any(nil)
		switch c.Name {
		case "newInstance":
			extra = map[string]any{"instanceId": "ti-" + strings.ToLower(c.Body["orderId"].(string))}
		case "queryInstance":
			extra = map[string]any{"info": []map[string]any{{
				"instanceId": c.Body["instanceId"],
				"appInfo":    map[string]any{"frontEndUrl": "https://debug.invalid/", "memo": "test"},
			}}}
		}
		if override != nil {
			return override(c, code, extra)
		}
		return code, extra
	}
}

func TestDebugFlow(t *testing.T) {
	b, srv := newStubBridge(t, debugBridge(nil))
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	c := newStubClient(t, b, srv, func(o *Options) { o.MerchantPublicKey = &key.PublicKey })
	var checked string
	r, err := DebugFlow(context.Background(), DebugConfig{
		Client: c, OrderID: "CSDEBUGORDER", SKU: "sku.basic", LinearValue: 3,
		Scenes:           []string{SceneRenewal, SceneRenewalChange},
		AfterNewInstance: func(_ context.Context, id string) error { checked = id; return nil },
	})
	if err != nil {
		t.Fatalf("DebugFlow() error = %v", err)
	}
	if !r.OK() {
		t.Fatalf("report not OK: %+v", r.Failed())
	}
	if r.InstanceID != "ti-csdebugorder" || checked != r.InstanceID {
		t.Errorf("instance = %q, checked %q; want ti-csdebugorder", r.InstanceID, checked)
	}

	var steps []string
	for _, call := range r.Calls {
		steps = append(steps, call.Step)
	}
	wantSteps := []string{
		"newInstance", "newInstance resend", "newInstance MOCKPERIODYEARNEW",
		"refreshInstance RENEWAL", "refreshInstance RENEWAL_CHANGE",
		"updateInstanceStatus FREEZE", "updateInstanceStatus UNFREEZE", "upgradeInstance", "changeInstanceCheck", "queryInstance",
		"tenantSync add", "applicationSync add", "authSync add", "singleOrgSync add", "allOrgSync",
		"authSync delete", "singleOrgSync delete", "tenantSync delete", "releaseInstance",
	}
	if diff := cmp.Diff(wantSteps, steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}

	// What the bridge received: every call a debug call, chained on the answered instanceId.
	calls := b.recorded()
	if len(calls) != len(wantSteps) {
		t.Fatalf("bridge received %d calls, want %d", len(calls), len(wantSteps))
	}
	for _, call := range calls {
		switch call.Name {
		case "tenantSync", "applicationSync", "authSync", "singleOrgSync", "allOrgSync":
			if got := call.Body["testFlag"]; got != json.Number("1") {
				t.Errorf("%s: testFlag = %#v, want the integer 1", call.Name, got)
			}
		default:
			if got := call.Body["testFlag"]; got != "1" {
				t.Errorf("%s: testFlag = %#v, want \"1\"", call.Name, got)
			}
		}
		if call.Name == "newInstance" {
			continue
		}
		if got := call.Body["instanceId"]; got != "ti-csdebugorder" {
			t.Errorf("%s: instanceId = %v, want the debug newInstance's", call.Name, got)
		}
	}
	byName := func(name string) []stubCall {
		var out []stubCall
		for _, call := range calls {
			if call.Name == name {
				out = append(out, call)
			}
		}
		return out
	}
	if got := byName("refreshInstance")[0].Body["orderId"]; got != DefaultDebugRenewalOrderID {
		t.Errorf("renewal order = %v, want %q", got, DefaultDebugRenewalOrderID)
	}
	if got := byName("upgradeInstance")[0].Body["orderId"]; got != DefaultDebugUpgradeOrderID {
		t.Errorf("upgrade order = %v, want %q", got, DefaultDebugUpgradeOrderID)
	}
	product, _ := byName("changeInstanceCheck")[0].Body["productInfo"].(map[string]any)
	// productId is mandatory in productInfo: the default product when none is configured.
	if product["productId"] != defaultProductID || product["skuCode"] != "sku.basic" || product["linearValue"] != json.Number("3") {
		t.Errorf("changeInstanceCheck productInfo = %v", product)
	}
	buys := byName("newInstance")
	if buys[0].Body["businessId"] == buys[1].Body["businessId"] || buys[0].Nonce == buys[1].Nonce {
		t.Error("the newInstance resend reused the businessId or the nonce")
	}
	flags := []any{}
	for _, name := range []string{"tenantSync", "singleOrgSync"} {
		for _, call := range byName(name) {
			flags = append(flags, call.Body["flag"])
		}
	}
	if diff := cmp.Diff([]any{json.Number("1"), json.Number("0"), json.Number("1"), json.Number("0")}, flags); diff != "" {
		t.Errorf("kit flags (-want +got):\n%s", diff)
	}
}

func TestDebugFlowReportsWhatTheConsoleWouldRefuse(t *testing.T) {
	tests := []struct {
		name        string
		override    func(c stubCall, code string, extra map[string]any) (string, map[string]any)
		afterNew    func(context.Context, string) error
		wantFailed  map[string]string // step → part of the problem
		wantSkipped []string
	}{
		{
			name: "unknown order refused",
			override: func(c stubCall, code string, extra map[string]any) (string, map[string]any) {
				if c.Name == "newInstance" && c.Body["orderId"] == "CSUNKNOWN" {
					return ResultBadParam, nil
				}
				return code, extra
			},
			wantFailed: map[string]string{"newInstance": "resultCode 000002", "newInstance resend": "resultCode 000002"},
		},
		{
			name: "instance id not stable",
			override: func(c stubCall, code string, extra map[string]any) (string, map[string]any) {
				if c.Name == "newInstance" {
					return code, map[string]any{"instanceId": "ti-" + c.Nonce[:8]}
				}
				return code, extra
			},
			wantFailed: map[string]string{"newInstance resend": "must answer a stable id"},
		},
		{
			name: "unknown instance refused",
			override: func(c stubCall, code string, extra map[string]any) (string, map[string]any) {
				if c.Name == "refreshInstance" || c.Name == "releaseInstance" || c.Name == "tenantSync" {
					return ResultNoInstance, nil
				}
				return code, extra
			},
			wantFailed: map[string]string{"refreshInstance RENEWAL": "resultCode 000003", "releaseInstance": "000003",
				"tenantSync add": "000003", "tenantSync delete": "000003"},
		},
		{
			name: "query without frontEndUrl",
			override: func(c stubCall, code string, extra map[string]any) (string, map[string]any) {
				if c.Name == "queryInstance" {
					return code, map[string]any{"info": []map[string]any{{"instanceId": c.Body["instanceId"], "appInfo": map[string]any{"frontEndUrl": ""}}}}
				}
				return code, extra
			},
			wantFailed: map[string]string{"queryInstance": "frontEndUrl is empty"},
		},
		{
			name: "query of another instance",
			override: func(c stubCall, code string, extra map[string]any) (string, map[string]any) {
				if c.Name == "queryInstance" {
					return code, map[string]any{"info": []map[string]any{{"instanceId": "other", "appInfo": map[string]any{"frontEndUrl": "https://x"}}}}
				}
				return code, extra
			},
			wantFailed: map[string]string{"queryInstance": "no entry for instance"},
		},
		{
			name: "query usage without statisticalTime",
			override: func(c stubCall, code string, extra map[string]any) (string, map[string]any) {
				if c.Name == "queryInstance" {
					return code, map[string]any{"info": []map[string]any{{"instanceId": c.Body["instanceId"],
						"appInfo": map[string]any{"frontEndUrl": "https://x"}, "usageInfo": []map[string]any{{"usageValue": 3}}}}}
				}
				return code, extra
			},
			wantFailed: map[string]string{"queryInstance": "statisticalTime is empty"},
		},
		{
			name:       "debug newInstance created an instance",
			afterNew:   func(context.Context, string) error { return errors.New("created TenantInstance") },
			wantFailed: map[string]string{"newInstance": "created TenantInstance"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, srv := newStubBridge(t, debugBridge(tc.override))
			r, err := DebugFlow(context.Background(), DebugConfig{Client: newStubClient(t, b, srv, nil), OrderID: "CSUNKNOWN", AfterNewInstance: tc.afterNew})
			if err != nil {
				t.Fatalf("DebugFlow() error = %v", err)
			}
			if r.OK() {
				t.Fatal("report OK, want failures")
			}
			failed := map[string]string{}
			for _, call := range r.Failed() {
				failed[call.Step] = call.Problem
			}
			if len(failed) != len(tc.wantFailed) {
				t.Errorf("failed calls = %v, want %v", failed, tc.wantFailed)
			}
			for step, want := range tc.wantFailed {
				if !strings.Contains(failed[step], want) {
					t.Errorf("step %q problem = %q, want it to mention %q", step, failed[step], want)
				}
			}
			// Without a merchant key applicationSync is skipped, which fails nothing.
			for _, call := range r.Calls {
				if call.Activity == "applicationSync" && !call.Skipped {
					t.Errorf("applicationSync was not skipped without a merchant key")
				}
			}
		})
	}
}

func TestDebugFlowNoMockOrders(t *testing.T) {
	b, srv := newStubBridge(t, debugBridge(nil))
	r, err := DebugFlow(context.Background(), DebugConfig{Client: newStubClient(t, b, srv, nil), MockOrderIDs: []string{}})
	if err != nil || !r.OK() {
		t.Fatalf("DebugFlow() = %+v, %v", r, err)
	}
	var orders []any
	for _, call := range b.recorded() {
		if call.Name == "newInstance" {
			orders = append(orders, call.Body["orderId"])
		}
	}
	if len(orders) != 2 || orders[0] != orders[1] || !strings.HasPrefix(orders[0].(string), "CS") {
		t.Errorf("newInstance orders = %v, want one generated marketplace-looking id twice", orders)
	}
}

func TestDebugFlowStopsOnCancel(t *testing.T) {
	b, srv := newStubBridge(t, debugBridge(nil))
	ctx, cancel := context.WithCancel(context.Background())
	r, err := DebugFlow(ctx, DebugConfig{Client: newStubClient(t, b, srv, nil),
		AfterNewInstance: func(context.Context, string) error { cancel(); return nil }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if len(r.Calls) != 1 {
		t.Errorf("made %d calls after the context ended, want 1", len(r.Calls))
	}
}

func TestDebugFlowNeedsClient(t *testing.T) {
	if _, err := DebugFlow(context.Background(), DebugConfig{}); err == nil {
		t.Fatal("DebugFlow() without a client succeeded")
	}
}
