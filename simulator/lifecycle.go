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
	"slices"
	"time"
)

// OrderRegistry registers simulated orders; *OrderServer (in process) and
// *OrdersAdmin (another process) both satisfy it.
type OrderRegistry interface {
	RegisterOrder(ctx context.Context, spec OrderSpec) (RegisteredOrder, error)
}

// LifecycleConfig configures Lifecycle.
type LifecycleConfig struct {
	// Client calls the bridge; Orders holds the orders the bridge will query.
	Client *Client
	Orders OrderRegistry
	// SKU is bought first; UpgradeSKU is upgraded to. ProductID is optional.
	SKU, UpgradeSKU, ProductID string
	// Test sends newInstance with testFlag=1.
	Test bool
	// Report, when set, is called after every call with its step name (buy,
	// query, freeze, unfreeze, renew, upgrade, release) and answer, so a CLI
	// can print a line per step or a demo can inspect the cluster in between.
	Report func(step string, a *Answer)
	// MaxAttempts bounds resends of buy and upgrade while the bridge answers
	// 000004 (in progress); 30 when zero.
	MaxAttempts int
	// InitialBackoff and MaxBackoff shape the doubling wait between resends;
	// 250 ms and 5 s when zero.
	InitialBackoff, MaxBackoff time.Duration
	// Sleep waits between resends; a context-aware timer when nil. Tests
	// replace it to run without waiting.
	Sleep func(ctx context.Context, d time.Duration) error

	// Sent, when set, is called before each call of a named scenario other than
	// ScenarioBasic (see RunScenario) with its step name and a one-line description of
	// what is sent.
	Sent func(step, call string)
	// Verify, when set (and Test is not), is called after every step that changes the
	// instance with what the TenantInstance should now say; a scenario stops with a
	// VerifyError when it returns an error. The CLI implements it with a kubeconfig.
	Verify func(ctx context.Context, step string, want Expectation) error
	// Quantity and ScaleQuantity are the linearValues the scenarios buy and scale to
	// (DefaultQuantity and DefaultScaleQuantity when zero); Quantity is also the quantity of
	// trial-to-formal's renewal change.
	Quantity, ScaleQuantity int
	// Keep leaves the instance in place at the end instead of releasing it.
	Keep bool
	// Now is the clock for the expiry times the scenarios choose; time.Now when nil.
	Now func() time.Time
}

// LifecycleResult names what a scenario created.
type LifecycleResult struct {
	InstanceID   string
	Order        RegisteredOrder
	RenewOrder   RegisteredOrder
	UpgradeOrder RegisteredOrder
	// Orders are all the orders the scenario registered, in order.
	Orders []RegisteredOrder
}

// StepError reports a scenario step whose answer was not 000000.
type StepError struct {
	Step   string
	Answer *Answer
}

func (e *StepError) Error() string {
	return fmt.Sprintf("step %q: bridge answered %q (%q)", e.Step, e.Answer.ResultCode, e.Answer.ResultMsg)
}

// Lifecycle drives one instance through the whole basic interface: buy
// (resending while in progress), query, freeze, unfreeze, renew, upgrade to
// another SKU, release. It stops at the first step that fails and returns
// what was created so far.
func Lifecycle(ctx context.Context, cfg LifecycleConfig) (*LifecycleResult, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := cfg.Client
	res := &LifecycleResult{}
	verify := func(name string, e Expectation) error {
		if cfg.Verify == nil || cfg.Test {
			return nil
		}
		e.InstanceID = res.InstanceID
		if err := cfg.Verify(ctx, name, e); err != nil {
			return &VerifyError{Step: name, Err: err}
		}
		return nil
	}

	step := func(name string, a *Answer, err error) error {
		if a != nil && cfg.Report != nil {
			cfg.Report(name, a)
		}
		if err != nil {
			return fmt.Errorf("step %q: %w", name, err)
		}
		if a.ResultCode != ResultSuccess {
			return &StepError{Step: name, Answer: a}
		}
		return nil
	}

	res.Order, err = cfg.Orders.RegisterOrder(ctx, OrderSpec{SKU: cfg.SKU, ProductID: cfg.ProductID, OrderType: OrderTypeNew})
	if err != nil {
		return res, fmt.Errorf("registering order: %w", err)
	}
	res.Orders = append(res.Orders, res.Order)

	a, err := resend(ctx, cfg, "buy", func() (*Answer, error) {
		return c.Buy(ctx, res.Order.OrderID, res.Order.OrderLineID, cfg.Test)
	})
	if err := step("buy", a, err); err != nil {
		return res, err
	}
	if a.InstanceID == "" {
		return res, errors.New(`step "buy": answer has no instanceId`)
	}
	res.InstanceID = a.InstanceID
	id := res.InstanceID
	if err := verify("buy", Expectation{SKU: cfg.SKU}); err != nil {
		return res, err
	}

	a, err = c.Query(ctx, id)
	if err := step("query", a, err); err != nil {
		return res, err
	}
	if !slices.ContainsFunc(a.Info, func(i InstanceInfo) bool { return i.InstanceID == id }) {
		return res, fmt.Errorf("step %q: answer does not list instance %q", "query", id)
	}

	a, err = c.Freeze(ctx, id)
	if err := step("freeze", a, err); err != nil {
		return res, err
	}
	if err := verify("freeze", Expectation{Frozen: ptrTo(true)}); err != nil {
		return res, err
	}
	a, err = c.Unfreeze(ctx, id)
	if err := step("unfreeze", a, err); err != nil {
		return res, err
	}
	if err := verify("unfreeze", Expectation{Frozen: ptrTo(false)}); err != nil {
		return res, err
	}

	expire := cfg.Now().UTC().AddDate(0, 2, 0).Truncate(time.Second)
	if lines := res.Order.Order.OrderLine; len(lines) > 0 {
		if t, err := time.Parse(marketTimeLayout, lines[0].ExpireTime); err == nil {
			expire = t.AddDate(0, 1, 0)
		}
	}
	res.RenewOrder, err = cfg.Orders.RegisterOrder(ctx, OrderSpec{
		SKU: cfg.SKU, ProductID: cfg.ProductID, OrderType: OrderTypeRenew,
		CustomerID: res.Order.Order.BuyerInfo.CustomerID, ExpireTime: expire,
	})
	if err != nil {
		return res, fmt.Errorf("registering renewal order: %w", err)
	}
	res.Orders = append(res.Orders, res.RenewOrder)
	a, err = c.Renew(ctx, id, res.RenewOrder.OrderID, res.RenewOrder.OrderLineID, SceneRenewal, expire)
	if err := step("renew", a, err); err != nil {
		return res, err
	}
	if err := verify("renew", Expectation{ExpiresAt: expire}); err != nil {
		return res, err
	}

	res.UpgradeOrder, err = cfg.Orders.RegisterOrder(ctx, OrderSpec{
		SKU: cfg.UpgradeSKU, ProductID: cfg.ProductID, OrderType: OrderTypeChange,
		CustomerID: res.Order.Order.BuyerInfo.CustomerID, ExpireTime: expire,
	})
	if err != nil {
		return res, fmt.Errorf("registering upgrade order: %w", err)
	}
	res.Orders = append(res.Orders, res.UpgradeOrder)
	a, err = resend(ctx, cfg, "upgrade", func() (*Answer, error) {
		return c.Upgrade(ctx, id, res.UpgradeOrder.OrderID, res.UpgradeOrder.OrderLineID)
	})
	if err := step("upgrade", a, err); err != nil {
		return res, err
	}
	if err := verify("upgrade", Expectation{SKU: cfg.UpgradeSKU}); err != nil {
		return res, err
	}
	if cfg.Keep {
		return res, nil
	}

	a, err = c.Release(ctx, id)
	if err := step("release", a, err); err != nil {
		return res, err
	}
	return res, verify("release", Expectation{Released: true})
}

// resend repeats call while the bridge answers 000004, as the marketplace
// does for newInstance and upgradeInstance, and checks that every answer
// naming an instance names the same one (docs/protocol.md §6.2).
func resend(ctx context.Context, cfg LifecycleConfig, name string, call func() (*Answer, error)) (*Answer, error) {
	backoff := cfg.InitialBackoff
	var seen string
	for attempt := 1; ; attempt++ {
		a, err := call()
		if err != nil {
			return a, err
		}
		if a.InstanceID != "" {
			if seen != "" && seen != a.InstanceID {
				return a, fmt.Errorf("resend returned instance %q after %q", a.InstanceID, seen)
			}
			seen = a.InstanceID
		}
		if a.ResultCode != ResultInProgress || attempt >= cfg.MaxAttempts {
			return a, nil
		}
		if cfg.Report != nil {
			cfg.Report(name, a)
		}
		if err := cfg.Sleep(ctx, backoff); err != nil {
			return a, err
		}
		backoff = min(backoff*2, cfg.MaxBackoff)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
