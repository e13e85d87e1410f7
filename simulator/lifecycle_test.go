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
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/webhookbridge/orderquery"
)

// fakeTenants is a toy bridge backend: it looks orders up through the
// bridge's real Order Query client against an OrderServer, answers
// newInstance with 000004 a few times as an asynchronous bridge would, and
// keeps one instance's state.
type fakeTenants struct {
	t          *testing.T
	orders     *orderquery.Client
	inProgress int
	failStep   string

	mu     sync.Mutex
	sku    map[string]string
	status map[string]string
}

func (f *fakeTenants) handle(c stubCall) (string, map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	str := func(k string) string { s, _ := c.Body[k].(string); return s }
	id := str("instanceId")
	if c.Name == f.failStep {
		return ResultNoInstance, nil
	}
	switch c.Name {
	case "newInstance", "upgradeInstance":
		o, err := f.orders.Query(context.Background(), str("orderId"), str("orderLineId"))
		if err != nil {
			f.t.Errorf("%s: order query: %v", c.Name, err)
			return ResultInternal, nil
		}
		if c.Name == "newInstance" {
			id = "inst-" + o.OrderID
			if f.inProgress > 0 {
				f.inProgress--
				return ResultInProgress, map[string]any{"instanceId": id}
			}
			f.status[id] = "NORMAL"
		}
		f.sku[id] = o.Lines[0].Products[0].SkuCode
		return ResultSuccess, map[string]any{"instanceId": id}
	case "queryInstance":
		return ResultSuccess, map[string]any{"info": []map[string]any{{"instanceId": id, "appInfo": map[string]any{"frontEndUrl": "https://" + id + ".example.com"}}}}
	case "updateInstanceStatus":
		f.status[id] = str("status")
	case "releaseInstance":
		delete(f.status, id)
	}
	return ResultSuccess, nil
}

func TestLifecycle(t *testing.T) {
	orders, _, oq := newOrderServer(t)
	tenants := &fakeTenants{t: t, orders: oq, inProgress: 2, sku: map[string]string{}, status: map[string]string{}}
	b, srv := newStubBridge(t, tenants.handle)
	c := newStubClient(t, b, srv, nil)

	var steps []string
	var waits []time.Duration
	res, err := Lifecycle(context.Background(), LifecycleConfig{
		Client: c, Orders: orders, SKU: "sku.basic", UpgradeSKU: "sku.gold",
		Report: func(step string, a *Answer) { steps = append(steps, step+" "+a.ResultCode) },
		Sleep:  func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
	})
	if err != nil {
		t.Fatalf("Lifecycle() error = %v", err)
	}
	wantSteps := []string{"buy 000004", "buy 000004", "buy 000000", "query 000000", "freeze 000000", "unfreeze 000000", "renew 000000", "upgrade 000000", "release 000000"}
	if diff := cmp.Diff(wantSteps, steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{250 * time.Millisecond, 500 * time.Millisecond}, waits); diff != "" {
		t.Errorf("backoff (-want +got):\n%s", diff)
	}
	if got, want := res.InstanceID, "inst-"+res.Order.OrderID; got != want {
		t.Errorf("instance = %q, want %q", got, want)
	}
	if got := tenants.sku[res.InstanceID]; got != "sku.gold" {
		t.Errorf("SKU after upgrade = %q, want %q", got, "sku.gold")
	}
	if _, ok := tenants.status[res.InstanceID]; ok {
		t.Errorf("instance %q still exists after release", res.InstanceID)
	}
	if res.UpgradeOrder.Order.OrderType != OrderTypeChange || res.RenewOrder.Order.OrderType != OrderTypeRenew {
		t.Errorf("renew/upgrade order types = %q/%q", res.RenewOrder.Order.OrderType, res.UpgradeOrder.Order.OrderType)
	}
	var renew stubCall
	for _, call := range b.recorded() {
		if call.Name == "refreshInstance" {
			renew = call
		}
	}
	if got, want := renew.Body["expireTime"], res.RenewOrder.Order.OrderLine[0].ExpireTime; got != want {
		t.Errorf("renewal expireTime = %v, want the renewal order's %q", got, want)
	}
}

func TestLifecycleFailures(t *testing.T) {
	tests := []struct {
		name       string
		failStep   string
		inProgress int
		wantStep   string
	}{
		{name: "freeze fails", failStep: "updateInstanceStatus", wantStep: "freeze"},
		{name: "release fails", failStep: "releaseInstance", wantStep: "release"},
		{name: "buy stays in progress", inProgress: 100, wantStep: "buy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orders, _, oq := newOrderServer(t)
			tenants := &fakeTenants{t: t, orders: oq, inProgress: tc.inProgress, failStep: tc.failStep, sku: map[string]string{}, status: map[string]string{}}
			b, srv := newStubBridge(t, tenants.handle)
			attempts := 0
			_, err := Lifecycle(context.Background(), LifecycleConfig{
				Client: newStubClient(t, b, srv, nil), Orders: orders, SKU: "a", UpgradeSKU: "b", MaxAttempts: 3,
				Sleep: func(context.Context, time.Duration) error { attempts++; return nil },
			})
			var se *StepError
			if !errors.As(err, &se) || se.Step != tc.wantStep {
				t.Fatalf("error = %v, want a StepError for %q", err, tc.wantStep)
			}
			if tc.inProgress > 0 && attempts != 2 {
				t.Errorf("waited %d times, want 2 (MaxAttempts 3)", attempts)
			}
		})
	}
}

func TestLifecycleStopsOnCancel(t *testing.T) {
	orders, _, oq := newOrderServer(t)
	tenants := &fakeTenants{t: t, orders: oq, inProgress: 100, sku: map[string]string{}, status: map[string]string{}}
	b, srv := newStubBridge(t, tenants.handle)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Lifecycle(ctx, LifecycleConfig{
		Client: newStubClient(t, b, srv, nil), Orders: orders, SKU: "a", UpgradeSKU: "b",
		Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return sleepCtx(ctx, time.Hour) },
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

func TestLifecycleDetectsInstanceChange(t *testing.T) {
	orders, _, _ := newOrderServer(t)
	n := 0
	b, srv := newStubBridge(t, func(c stubCall) (string, map[string]any) {
		n++
		return ResultInProgress, map[string]any{"instanceId": fmt.Sprintf("inst-%d", n)}
	})
	_, err := Lifecycle(context.Background(), LifecycleConfig{
		Client: newStubClient(t, b, srv, nil), Orders: orders, SKU: "a", UpgradeSKU: "b",
		Sleep: func(context.Context, time.Duration) error { return nil },
	})
	if err == nil {
		t.Fatal("Lifecycle() accepted a resend that named another instance")
	}
}
