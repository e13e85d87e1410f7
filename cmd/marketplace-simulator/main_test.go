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
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry/simulator"
)

const accessKey = "cli-test-access-key"

// answeringBridge answers every call with code (queryInstance lists the
// asked instance) and a valid Body-Sign; it does not verify requests, the
// simulator package's tests do.
func answeringBridge(t *testing.T, code string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req map[string]any
		_ = json.Unmarshal(body, &req)
		answer := map[string]any{"resultCode": code, "resultMsg": "stub", "instanceId": "inst-1"}
		if req["activity"] == "queryInstance" {
			answer["info"] = []map[string]any{{"instanceId": req["instanceId"], "appInfo": map[string]any{"frontEndUrl": "https://inst.example.com"}}}
		}
		out, _ := json.Marshal(answer)
		m := hmac.New(sha256.New, []byte(accessKey))
		m.Write(out)
		w.Header().Set("Body-Sign", `sign_type="HMAC-SHA256", signature= "`+base64.StdEncoding.EncodeToString(m.Sum(nil))+`"`)
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func ordersServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(simulator.NewOrderServer(simulator.OrderServerConfig{AK: "ak", SK: "sk", DefaultSKU: "sku.basic"}))
	t.Cleanup(srv.Close)
	return srv
}

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr, func(k string) string { return env[k] })
	return code, stdout.String(), stderr.String()
}

func TestHelp(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, nil, c.name, "-h")
			if code != exitOK || !strings.Contains(stderr, "usage: marketplace-simulator "+c.name) {
				t.Errorf("exit %d, stderr %q", code, stderr)
			}
		})
	}
	if code, _, _ := runCLI(t, nil, "bogus"); code != exitUsage {
		t.Errorf("unknown command: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := runCLI(t, nil); code != exitUsage {
		t.Errorf("no command: exit %d, want %d", code, exitUsage)
	}
}

func TestOrder(t *testing.T) {
	orders := ordersServer(t)
	code, stdout, stderr := runCLI(t, nil, "order", "--orders-url", orders.URL, "--sku", "sku.gold", "--expire", "20270101000000")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !regexp.MustCompile(`^(CS\d{10}[A-Z0-9]{5}) (CS\d{10}[A-Z0-9]{5})-000001\n$`).MatchString(stdout) {
		t.Errorf("stdout = %q, want \"<orderId> <orderLineId>\"", stdout)
	}
}

func TestBridgeCalls(t *testing.T) {
	env := map[string]string{"TENANTRY_ACCESS_KEY": accessKey}
	orders := ordersServer(t)
	tests := []struct {
		name     string
		bridge   string
		args     []string
		env      map[string]string
		wantCode int
		wantOut  string
	}{
		{name: "buy", bridge: "000000", args: []string{"buy", "--order-id", "CS1"}, env: env, wantCode: exitOK, wantOut: `buy: 000000 "stub" instanceId=inst-1`},
		{name: "buy registers an order", bridge: "000000", args: []string{"buy", "--orders-url", orders.URL, "--sku", "sku.gold", "--test"}, env: env, wantCode: exitOK, wantOut: `buy: 000000`},
		{name: "freeze refused", bridge: "000003", args: []string{"freeze", "--instance-id", "inst-1"}, env: env, wantCode: exitFailed, wantOut: `freeze: 000003`},
		{name: "query as JSON", bridge: "000000", args: []string{"query", "--json", "a", "b"}, env: env, wantCode: exitOK, wantOut: `"step":"query"`},
		{name: "no access key", bridge: "000000", args: []string{"release", "--instance-id", "x"}, wantCode: exitUsage},
		{name: "missing instance", bridge: "000000", args: []string{"release"}, env: env, wantCode: exitUsage},
		{name: "bad expiry", bridge: "000000", args: []string{"renew", "--instance-id", "i", "--order-id", "o", "--expire", "tomorrow"}, env: env, wantCode: exitUsage},
		{name: "lifecycle", bridge: "000000", args: []string{"lifecycle", "--orders-url", orders.URL, "--sku", "a", "--upgrade-sku", "b"}, env: env, wantCode: exitOK, wantOut: "lifecycle of instance inst-1 completed"},
		{name: "lifecycle fails", bridge: "000005", args: []string{"lifecycle", "--orders-url", orders.URL, "--sku", "a", "--upgrade-sku", "b"}, env: env, wantCode: exitFailed, wantOut: "buy: 000005"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bridge := answeringBridge(t, tc.bridge)
			args := append([]string{tc.args[0], "--bridge-url", bridge.URL + "/saasproduce"}, tc.args[1:]...)
			code, stdout, stderr := runCLI(t, tc.env, args...)
			if code != tc.wantCode || !strings.Contains(stdout, tc.wantOut) {
				t.Errorf("exit %d (want %d), stdout %q (want %q), stderr %q", code, tc.wantCode, stdout, tc.wantOut, stderr)
			}
		})
	}
}

func TestParseExpire(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "20270102030405", want: time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)},
		{in: "2027-01-02T11:04:05+08:00", want: time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)},
		{in: "+720h", want: now.Add(720 * time.Hour)},
		{in: "+soon", wantErr: true},
		{in: "2027-01-02", wantErr: true},
	}
	for _, tc := range tests {
		got, err := parseExpire(tc.in, now)
		if (err != nil) != tc.wantErr || !got.Equal(tc.want) {
			t.Errorf("parseExpire(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// recordingBridge is answeringBridge that also records each call's testFlag, as sent.
func recordingBridge(t *testing.T, code string) (*httptest.Server, *[]string) {
	t.Helper()
	inner := answeringBridge(t, code)
	var flags []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req map[string]json.RawMessage
		_ = json.Unmarshal(body, &req)
		mu.Lock()
		flags = append(flags, string(req["testFlag"]))
		mu.Unlock()
		proxy, err := http.NewRequestWithContext(r.Context(), r.Method, inner.URL+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			t.Errorf("proxying: %v", err)
			return
		}
		resp, err := inner.Client().Do(proxy)
		if err != nil {
			t.Errorf("proxying: %v", err)
			return
		}
		defer func() { _ = resp.Body.Close() }()
		w.Header().Set("Body-Sign", resp.Header.Get("Body-Sign"))
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv, &flags
}

func TestDebug(t *testing.T) {
	env := map[string]string{"TENANTRY_ACCESS_KEY": accessKey}
	tests := []struct {
		name     string
		bridge   string
		args     []string
		env      map[string]string
		wantCode int
		wantOut  []string
	}{
		{name: "every answer as expected", bridge: "000000", env: env, wantCode: exitOK,
			wantOut: []string{"ok    newInstance resend", "ok    queryInstance", "skip  applicationSync add", "ok    releaseInstance", "17 of 17 calls answered as the console expects, 1 skipped"}},
		{name: "unknown instance refused", bridge: "000003", env: env, wantCode: exitFailed,
			wantOut: []string{"FAIL  updateInstanceStatus FREEZE", "resultCode 000003, want 000000", "0 of 17 calls"}},
		{name: "several scenes, no mock order", bridge: "000000", env: env, args: []string{"--scenes", "RENEWAL,RENEWAL_CHANGE", "--mock-order-ids", ""}, wantCode: exitOK,
			wantOut: []string{"refreshInstance RENEWAL_CHANGE", "17 of 17 calls"}},
		{name: "unknown scene", bridge: "000000", env: env, args: []string{"--scenes", "RENEW"}, wantCode: exitUsage},
		{name: "unknown output", bridge: "000000", env: env, args: []string{"-o", "yaml"}, wantCode: exitUsage},
		{name: "no access key", bridge: "000000", wantCode: exitUsage},
		{name: "bad kubeconfig", bridge: "000000", env: env, args: []string{"--kubeconfig", "/nonexistent/kubeconfig"}, wantCode: exitFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bridge, flags := recordingBridge(t, tc.bridge)
			args := append([]string{"debug", "--bridge-url", bridge.URL + "/saasproduce"}, tc.args...)
			code, stdout, stderr := runCLI(t, tc.env, args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", code, tc.wantCode, stdout, stderr)
			}
			for _, want := range tc.wantOut {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout %q lacks %q", stdout, want)
				}
			}
			for _, f := range *flags {
				if f != `"1"` && f != "1" {
					t.Errorf("a call carried testFlag %s, want 1", f)
				}
			}
		})
	}
}

func TestDebugJSON(t *testing.T) {
	bridge, _ := recordingBridge(t, "000000")
	code, stdout, stderr := runCLI(t, map[string]string{"TENANTRY_ACCESS_KEY": accessKey}, "debug", "--bridge-url", bridge.URL+"/saasproduce", "-o", "json", "--order-id", "CSDEBUG")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var report struct {
		OK         bool                  `json:"ok"`
		InstanceID string                `json:"instanceId"`
		Calls      []simulator.DebugCall `json:"calls"`
	}
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("stdout is not one JSON report: %v\n%s", err, stdout)
	}
	if !report.OK || report.InstanceID != "inst-1" || len(report.Calls) != 18 {
		t.Errorf("report = ok %v, instance %q, %d calls", report.OK, report.InstanceID, len(report.Calls))
	}
	if c := report.Calls[0]; c.Step != "newInstance" || c.ResultCode != "000000" || !c.OK {
		t.Errorf("first call = %+v", c)
	}
}

func TestLifecycleScenarios(t *testing.T) {
	env := map[string]string{"TENANTRY_ACCESS_KEY": accessKey}
	orders := ordersServer(t)
	tests := []struct {
		name     string
		bridge   string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{name: "scale-out", bridge: "000000", args: []string{"--scenario", "scale-out", "--quantity", "2", "--scale-quantity", "4"}, wantCode: exitOK,
			wantOut: []string{"-> buy: newInstance", "linearValue 2", "-> scale-out: upgradeInstance", "linearValue 4", "completed (scenario scale-out)"}},
		{name: "trial-to-formal", bridge: "000000", args: []string{"--scenario", "trial-to-formal"}, wantCode: exitOK,
			wantOut: []string{"scene=TRIAL_TO_FORMAL", "scene=RENEWAL_CHANGE", "scene=UNSUBSCRIBE_RENEWAL_PERIOD", "release: 000000"}},
		{name: "resend-older kept", bridge: "000000", args: []string{"--scenario", "resend-older", "--keep"}, wantCode: exitOK,
			wantOut: []string{"renew R1 resent: 000000", "upgrade U1 resent: 000000"}},
		{name: "refused", bridge: "000002", args: []string{"--scenario", "resend-older"}, wantCode: exitFailed, wantOut: []string{"buy: 000002"}},
		{name: "unknown scenario", bridge: "000000", args: []string{"--scenario", "bogus"}, wantCode: exitUsage},
		{name: "bad quantity", bridge: "000000", args: []string{"--scenario", "scale-out", "--quantity", "0"}, wantCode: exitUsage},
		{name: "bad kubeconfig", bridge: "000000", args: []string{"--kubeconfig", "/nonexistent/kubeconfig"}, wantCode: exitFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bridge := answeringBridge(t, tc.bridge)
			args := append([]string{"lifecycle", "--bridge-url", bridge.URL + "/saasproduce", "--orders-url", orders.URL, "--sku", "a", "--upgrade-sku", "b"}, tc.args...)
			code, stdout, stderr := runCLI(t, env, args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", code, tc.wantCode, stdout, stderr)
			}
			for _, want := range tc.wantOut {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout %q lacks %q", stdout, want)
				}
			}
			if strings.Contains(tc.name, "kept") && strings.Contains(stdout, "-> release") {
				t.Error("released although --keep")
			}
		})
	}
}

func TestServeOrdersHelpListsMockOrders(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "serve-orders", "-h")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, m := range simulator.MockOrders() {
		if !strings.Contains(stderr, m.OrderID) {
			t.Errorf("help lacks mock order %s", m.OrderID)
		}
	}
	for _, f := range []string{"-mock-change-sku", "-mock-linear-value"} {
		if !strings.Contains(stderr, f) {
			t.Errorf("help lacks %s", f)
		}
	}
	if code, _, _ := runCLI(t, nil, "serve-orders", "--mock-linear-value", "0", "--ak", "a", "--sk", "s"); code != exitUsage {
		t.Errorf("--mock-linear-value 0: exit %d, want %d", code, exitUsage)
	}
}

func TestOrderLines(t *testing.T) {
	orders := ordersServer(t)
	code, stdout, stderr := runCLI(t, nil, "order", "--orders-url", orders.URL, "--charging-mode", "ON_DEMAND", "--lines", "2", "--linear", "30")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !regexp.MustCompile(`^(CS\d{10}[A-Z0-9]{5}) (CS\d{10}[A-Z0-9]{5})-000001\n(CS\d{10}[A-Z0-9]{5}) (CS\d{10}[A-Z0-9]{5})-000002\n$`).MatchString(stdout) {
		t.Errorf("stdout = %q, want one \"<orderId> <orderLineId>\" per line", stdout)
	}
	for _, n := range []string{"0", "101"} {
		if code, _, _ := runCLI(t, nil, "order", "--orders-url", orders.URL, "--lines", n); code != exitUsage {
			t.Errorf("--lines %s: exit %d, want %d", n, code, exitUsage)
		}
	}
	if code, _, _ := runCLI(t, nil, "order", "--orders-url", orders.URL, "--linear", "-1"); code != exitUsage {
		t.Errorf("--linear -1: exit %d, want %d", code, exitUsage)
	}
}

func TestUsagePrintsWhatEachInstanceWasBilled(t *testing.T) {
	s := simulator.NewOrderServer(simulator.OrderServerConfig{AK: "ak", SK: "sk", UsageKey: "k"})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	code, out, _ := runCLI(t, nil, "usage-faults", "--orders-url", srv.URL, "--http-status", "503", "--times", "2")
	if code != exitOK || !strings.Contains(out, `"httpStatus":503`) {
		t.Fatalf("usage-faults: exit %d, %q", code, out)
	}
	code, out, _ = runCLI(t, nil, "usage", "--orders-url", srv.URL)
	if code != exitOK || !strings.Contains(out, "0 records in 0 pushes; 0 resent records dropped") {
		t.Errorf("usage: exit %d, %q", code, out)
	}
	if code, _, _ := runCLI(t, nil, "usage", "--orders-url", "http://127.0.0.1:1"); code != exitFailed {
		t.Errorf("unreachable ledger: exit %d", code)
	}
}
