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
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// scenarioRun is what a scenario did: the calls the bridge received, described with the
// index of the registered order they name (o0, o1, ...), the orders, and the checks asked for.
type scenarioRun struct {
	calls  []string
	orders []string
	checks []string
	sent   []string
	res    *LifecycleResult
	err    error
}

func runScenario(t *testing.T, name string, mutate func(*LifecycleConfig), handle func(stubCall) (string, map[string]any)) scenarioRun {
	t.Helper()
	orders, _, _ := newOrderServer(t)
	if handle == nil {
		handle = func(c stubCall) (string, map[string]any) {
			if c.Name == "newInstance" {
				return ResultSuccess, map[string]any{"instanceId": "inst-1"}
			}
			return ResultSuccess, nil
		}
	}
	b, srv := newStubBridge(t, handle)
	var run scenarioRun
	cfg := LifecycleConfig{
		Client: newStubClient(t, b, srv, nil), Orders: orders, SKU: "sku.basic", UpgradeSKU: "sku.gold",
		Quantity: 3, ScaleQuantity: 7, Now: func() time.Time { return testNow },
		Sleep: func(context.Context, time.Duration) error { return nil },
		Sent:  func(step, call string) { run.sent = append(run.sent, step) },
		Verify: func(_ context.Context, step string, e Expectation) error {
			run.checks = append(run.checks, fmt.Sprintf("%s %+v", step, flatten(e)))
			return nil
		},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	run.res, run.err = RunScenario(context.Background(), name, cfg)
	label := map[string]string{}
	for i, o := range run.res.Orders {
		label[o.OrderID] = fmt.Sprintf("o%d", i)
		l := o.Order.OrderLine[0]
		run.orders = append(run.orders, fmt.Sprintf("o%d %s %s x%d", i, o.Order.OrderType, l.ProductInfo[0].SkuCode, l.ProductInfo[0].LinearValue))
	}
	for _, c := range b.recorded() {
		d := c.Name
		for _, k := range []string{"scene", "status"} {
			if v, ok := c.Body[k].(string); ok {
				d += " " + v
			}
		}
		if id, ok := c.Body["orderId"].(string); ok {
			d += " " + label[id]
		}
		if p, ok := c.Body["productInfo"].(map[string]any); ok {
			d += fmt.Sprintf(" %v/%v x%v", p["productId"], p["skuCode"], p["linearValue"])
		}
		run.calls = append(run.calls, d)
	}
	return run
}

// flatten renders an expectation compactly, dereferencing pointers.
func flatten(e Expectation) string {
	var parts []string
	add := func(f string, v any) { parts = append(parts, fmt.Sprintf("%s=%v", f, v)) }
	if e.Released {
		add("released", true)
	}
	if e.SKU != "" {
		add("sku", e.SKU)
	}
	if e.Quantity != 0 {
		add("quantity", e.Quantity)
	}
	if !e.ExpiresAt.IsZero() {
		add("expires", e.ExpiresAt.Format("2006-01-02"))
	}
	if e.Trial != nil {
		add("trial", *e.Trial)
	}
	if e.Frozen != nil {
		add("frozen", *e.Frozen)
	}
	if p := e.PendingChange; p != nil {
		add("pending", fmt.Sprintf("%s/x%d/%s", p.SKU, p.Quantity, p.EffectiveAt.Format("2006-01-02")))
	}
	if n := len(e.AppliedOrders); n > 0 {
		add("applied", n)
	}
	return e.InstanceID + " " + strings.Join(parts, " ")
}

func TestScenarios(t *testing.T) {
	// testNow is 2026-03-14; orders without an expiry run a month from it.
	tests := []struct {
		name                              string
		wantOrders, wantCalls, wantChecks []string
	}{
		{
			name:       ScenarioTrialToFormal,
			wantOrders: []string{"o0 TRIAL sku.basic x0", "o1 TRIAL_TO_FORMAL sku.basic x0", "o2 RENEW sku.gold x3"},
			wantCalls: []string{"newInstance o0", "refreshInstance TRIAL_TO_FORMAL o1", "changeInstanceCheck prod-1/sku.gold x3",
				"refreshInstance RENEWAL_CHANGE o2", "refreshInstance UNSUBSCRIBE_RENEWAL_PERIOD o2", "releaseInstance"},
			wantChecks: []string{
				"buy inst-1 sku=sku.basic quantity=1 expires=2026-03-21 trial=true",
				"trial-to-formal inst-1 sku=sku.basic expires=2026-04-14 trial=false applied=1",
				"renewal-change inst-1 sku=sku.basic expires=2026-05-14 pending=sku.gold/x3/2026-04-14 applied=2",
				"renewal-refund inst-1 expires=2026-04-14 applied=2",
				"release inst-1 released=true",
			},
		},
		{
			name:       ScenarioScaleOut,
			wantOrders: []string{"o0 NEW sku.basic x3", "o1 CHANGE sku.basic x7"},
			wantCalls:  []string{"newInstance o0", "changeInstanceCheck prod-1/sku.basic x7", "upgradeInstance o1", "releaseInstance"},
			wantChecks: []string{
				"buy inst-1 sku=sku.basic quantity=3",
				"scale-out inst-1 sku=sku.basic quantity=7 applied=1",
				"release inst-1 released=true",
			},
		},
		{
			name: ScenarioResendOlder,
			wantOrders: []string{"o0 NEW sku.basic x0", "o1 RENEW sku.basic x0", "o2 RENEW sku.basic x0",
				"o3 CHANGE sku.gold x3", "o4 CHANGE sku.gold x7"},
			wantCalls: []string{"newInstance o0",
				"refreshInstance RENEWAL o1", "refreshInstance RENEWAL o2", "refreshInstance RENEWAL o1",
				"upgradeInstance o3", "upgradeInstance o4", "upgradeInstance o3", "releaseInstance"},
			wantChecks: []string{
				"buy inst-1 sku=sku.basic",
				"renew R1 inst-1 expires=2026-05-14",
				"renew R2 inst-1 expires=2026-06-14",
				"renew R1 resent inst-1 expires=2026-06-14 applied=2",
				"upgrade U1 inst-1 sku=sku.gold quantity=3",
				"upgrade U2 inst-1 sku=sku.gold quantity=7",
				"upgrade U1 resent inst-1 sku=sku.gold quantity=7 expires=2026-06-14 applied=2",
				"release inst-1 released=true",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := runScenario(t, tc.name, nil, nil)
			if run.err != nil {
				t.Fatalf("RunScenario() error = %v", run.err)
			}
			if diff := cmp.Diff(tc.wantOrders, run.orders); diff != "" {
				t.Errorf("orders (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantCalls, run.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantChecks, run.checks); diff != "" {
				t.Errorf("checks (-want +got):\n%s", diff)
			}
			if len(run.sent) != len(run.calls) {
				t.Errorf("Sent reported %d calls, the bridge received %d", len(run.sent), len(run.calls))
			}
		})
	}
}

// A resent older order must be a new send: same order, fresh nonce (the stub's clock is fixed,
// so only the nonce can tell).
func TestScenarioResendIsANewSend(t *testing.T) {
	orders, _, _ := newOrderServer(t)
	b, srv := newStubBridge(t, func(c stubCall) (string, map[string]any) {
		return ResultSuccess, map[string]any{"instanceId": "inst-1"}
	})
	_, err := RunScenario(context.Background(), ScenarioResendOlder, LifecycleConfig{
		Client: newStubClient(t, b, srv, nil), Orders: orders, SKU: "a", UpgradeSKU: "b", Keep: true,
	})
	if err != nil {
		t.Fatalf("RunScenario() error = %v", err)
	}
	nonces := map[string]bool{}
	sends := map[string]int{}
	for _, c := range b.recorded() {
		if nonces[c.Nonce] {
			t.Errorf("nonce %q sent twice", c.Nonce)
		}
		nonces[c.Nonce] = true
		if id, ok := c.Body["orderId"].(string); ok {
			sends[c.Name+" "+id]++
		}
		if c.Name == "releaseInstance" {
			t.Error("released although Keep is set")
		}
	}
	resent := 0
	for _, n := range sends {
		if n == 2 {
			resent++
		}
	}
	if resent != 2 {
		t.Errorf("sends per order = %v, want one renewal and one upgrade order sent twice", sends)
	}
}

func TestScenarioStops(t *testing.T) {
	t.Run("answer not 000000", func(t *testing.T) {
		run := runScenario(t, ScenarioScaleOut, nil, func(c stubCall) (string, map[string]any) {
			if c.Name == "upgradeInstance" {
				return ResultBadParam, nil
			}
			return ResultSuccess, map[string]any{"instanceId": "inst-1"}
		})
		var se *StepError
		if !errors.As(run.err, &se) || se.Step != "scale-out" {
			t.Fatalf("error = %v, want a StepError for scale-out", run.err)
		}
		if got := run.calls[len(run.calls)-1]; got != "upgradeInstance o1" {
			t.Errorf("last call = %q, want the failed upgrade", got)
		}
	})
	t.Run("check fails", func(t *testing.T) {
		run := runScenario(t, ScenarioTrialToFormal, func(cfg *LifecycleConfig) {
			cfg.Verify = func(_ context.Context, step string, _ Expectation) error {
				if step == "trial-to-formal" {
					return errors.New("spec.order.trial is true")
				}
				return nil
			}
		}, nil)
		var ve *VerifyError
		if !errors.As(run.err, &ve) || ve.Step != "trial-to-formal" {
			t.Fatalf("error = %v, want a VerifyError for trial-to-formal", run.err)
		}
		if len(run.calls) != 2 {
			t.Errorf("calls = %v, want the scenario to stop after the failed check", run.calls)
		}
	})
	t.Run("debug calls are not checked", func(t *testing.T) {
		run := runScenario(t, ScenarioScaleOut, func(cfg *LifecycleConfig) { cfg.Test = true }, nil)
		if run.err != nil || len(run.checks) != 0 {
			t.Errorf("error %v, checks %v; want none with testFlag=1", run.err, run.checks)
		}
	})
	t.Run("unknown scenario", func(t *testing.T) {
		if _, err := RunScenario(context.Background(), "bogus", LifecycleConfig{}); err == nil || !strings.Contains(err.Error(), "trial-to-formal") {
			t.Errorf("error = %v, want one listing the scenarios", err)
		}
	})
}

func TestBasicLifecycleChecks(t *testing.T) {
	orders, _, _ := newOrderServer(t)
	b, srv := newStubBridge(t, func(c stubCall) (string, map[string]any) {
		if c.Name == "queryInstance" {
			return ResultSuccess, map[string]any{"info": []map[string]any{{"instanceId": "inst-1", "appInfo": map[string]any{"frontEndUrl": "https://x"}}}}
		}
		return alwaysOK(c)
	})
	var checks []string
	_, err := RunScenario(context.Background(), ScenarioBasic, LifecycleConfig{
		Client: newStubClient(t, b, srv, nil), Orders: orders, SKU: "a", UpgradeSKU: "b", Now: func() time.Time { return testNow },
		Verify: func(_ context.Context, step string, e Expectation) error {
			checks = append(checks, step+" "+flatten(e))
			return nil
		},
	})
	if err != nil {
		t.Fatalf("RunScenario() error = %v", err)
	}
	want := []string{"buy inst-1 sku=a", "freeze inst-1 frozen=true", "unfreeze inst-1 frozen=false",
		"renew inst-1 expires=2026-05-14", "upgrade inst-1 sku=b", "release inst-1 released=true"}
	if diff := cmp.Diff(want, checks); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
}

func TestExpectationMissing(t *testing.T) {
	e := Expectation{AppliedOrders: []AppliedOrderRef{{"R1", SceneRenewal}, {"R1", SceneUnsubscribeRenew}, {"U1", SceneUpgrade}}}
	got := e.Missing([]AppliedOrderRef{{"R1", SceneRenewal}, {"U1", SceneUpgrade}, {"X", SceneRenewal}})
	if diff := cmp.Diff([]AppliedOrderRef{{"R1", SceneUnsubscribeRenew}}, got); diff != "" {
		t.Errorf("Missing() (-want +got):\n%s", diff)
	}
}
