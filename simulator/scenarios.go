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
	"strings"
	"time"
)

// Lifecycle scenarios RunScenario knows.
const (
	// ScenarioBasic is Lifecycle: buy, query, freeze, unfreeze, renew, upgrade, release.
	ScenarioBasic = "basic"
	// ScenarioTrialToFormal is a trial purchase converted (TRIAL_TO_FORMAL), renewed with a
	// change of SKU and quantity (RENEWAL_CHANGE, checked first with changeInstanceCheck), that
	// renewal refunded (UNSUBSCRIBE_RENEWAL_PERIOD), then released.
	ScenarioTrialToFormal = "trial-to-formal"
	// ScenarioScaleOut is a linear SKU bought with linearValue Quantity, then an upgrade order
	// with the same SKU and linearValue ScaleQuantity (docs/protocol.md §6.8), then released.
	ScenarioScaleOut = "scale-out"
	// ScenarioResendOlder is renewals R1, R2 then R1 resent, and upgrades U1, U2 then U1
	// resent, each resend with a fresh timestamp and nonce as the marketplace's are: the
	// resent older order must change nothing (docs/protocol.md §6.6). Then released.
	ScenarioResendOlder = "resend-older"
)

// SceneUpgrade is how an instance records an applied upgrade order among its applied orders.
const SceneUpgrade = "UPGRADE"

// Default quantities of the scenarios (LifecycleConfig.Quantity and ScaleQuantity).
const (
	DefaultQuantity      = 5
	DefaultScaleQuantity = 10
)

// Scenarios lists the scenario names RunScenario accepts, ScenarioBasic first.
func Scenarios() []string {
	return []string{ScenarioBasic, ScenarioTrialToFormal, ScenarioScaleOut, ScenarioResendOlder}
}

// Expectation is what a TenantInstance should say after a scenario step. Zero fields are not
// checked.
type Expectation struct {
	InstanceID string
	// Released: the TenantInstance is gone or being deleted. Nothing else is checked.
	Released  bool
	SKU       string
	ProductID string
	// Quantity is spec.quantity (the order's linearValue; 1 when it has none).
	Quantity  int
	ExpiresAt time.Time
	Trial     *bool
	Frozen    *bool
	// PendingChange, when set, must be spec.pendingChange; NoPendingChange says there is none.
	PendingChange   *ExpectedChange
	NoPendingChange bool
	// AppliedOrders must all be among spec.marketplace.appliedOrders.
	AppliedOrders []AppliedOrderRef
}

// ExpectedChange is a RENEWAL_CHANGE recorded as pending (docs/protocol.md §6.9).
type ExpectedChange struct {
	SKU         string
	Quantity    int
	OrderID     string
	EffectiveAt time.Time
}

// AppliedOrderRef is one (orderId, scene) pair an instance remembers having applied; Scene is a
// refreshInstance scene or SceneUpgrade.
type AppliedOrderRef struct {
	OrderID, Scene string
}

// VerifyError reports a scenario step after which the TenantInstance was not as expected.
type VerifyError struct {
	Step string
	Err  error
}

func (e *VerifyError) Error() string { return fmt.Sprintf("step %q: %v", e.Step, e.Err) }

func (e *VerifyError) Unwrap() error { return e.Err }

// RunScenario runs the named scenario (see Scenarios). ScenarioBasic is Lifecycle. The others
// print through Sent and Report what they send and what comes back and, with Verify set and
// Test unset, check the TenantInstance after every step that changes it; they stop at the first
// answer that is not 000000 or the first failed check.
func RunScenario(ctx context.Context, name string, cfg LifecycleConfig) (*LifecycleResult, error) {
	var f func(*scenario) error
	switch name {
	case ScenarioBasic, "":
		return Lifecycle(ctx, cfg)
	case ScenarioTrialToFormal:
		f = (*scenario).trialToFormal
	case ScenarioScaleOut:
		f = (*scenario).scaleOut
	case ScenarioResendOlder:
		f = (*scenario).resendOlder
	default:
		return nil, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(Scenarios(), ", "))
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.Quantity <= 0 {
		cfg.Quantity = DefaultQuantity
	}
	if cfg.ScaleQuantity <= 0 {
		cfg.ScaleQuantity = DefaultScaleQuantity
	}
	s := &scenario{ctx: ctx, cfg: cfg, res: &LifecycleResult{}}
	return s.res, f(s)
}

// withDefaults checks cfg and fills in what Lifecycle and the scenarios default.
func (cfg LifecycleConfig) withDefaults() (LifecycleConfig, error) {
	if cfg.Client == nil || cfg.Orders == nil {
		return cfg, errors.New("lifecycle needs a client and an order registry")
	}
	if cfg.SKU == "" || cfg.UpgradeSKU == "" {
		return cfg, errors.New("lifecycle needs a SKU and an upgrade SKU")
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 30
	}
	if cfg.InitialBackoff <= 0 {
		cfg.InitialBackoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg, nil
}

// scenario is one run of a named scenario.
type scenario struct {
	ctx context.Context
	cfg LifecycleConfig
	res *LifecycleResult
	id  string
}

// register registers an order for the scenario's customer.
func (s *scenario) register(spec OrderSpec) (RegisteredOrder, error) {
	spec.ProductID = or(spec.ProductID, s.cfg.ProductID)
	if s.res.Order.OrderID != "" {
		spec.CustomerID = s.res.Order.Order.BuyerInfo.CustomerID
	}
	o, err := s.cfg.Orders.RegisterOrder(s.ctx, spec)
	if err != nil {
		return o, fmt.Errorf("registering %s order: %w", spec.OrderType, err)
	}
	s.res.Orders = append(s.res.Orders, o)
	return o, nil
}

// call makes one call, reporting what is sent and what comes back; resendable calls
// (newInstance, upgradeInstance) are resent while the bridge answers 000004.
func (s *scenario) call(step, sent string, resendable bool, f func() (*Answer, error)) (*Answer, error) {
	if s.cfg.Sent != nil {
		s.cfg.Sent(step, sent)
	}
	var a *Answer
	var err error
	if resendable {
		a, err = resend(s.ctx, s.cfg, step, f)
	} else {
		a, err = f()
	}
	if a != nil && s.cfg.Report != nil {
		s.cfg.Report(step, a)
	}
	if err != nil {
		return a, fmt.Errorf("step %q: %w", step, err)
	}
	if a.ResultCode != ResultSuccess {
		return a, &StepError{Step: step, Answer: a}
	}
	return a, nil
}

// verify checks the instance after step, unless the scenario runs as debug calls (nothing is
// created then) or the caller cannot see the cluster.
func (s *scenario) verify(step string, e Expectation) error {
	if s.cfg.Verify == nil || s.cfg.Test {
		return nil
	}
	e.InstanceID = s.id
	if err := s.cfg.Verify(s.ctx, step, e); err != nil {
		return &VerifyError{Step: step, Err: err}
	}
	return nil
}

// buy registers spec and buys it, recording the instance.
func (s *scenario) buy(spec OrderSpec) error {
	o, err := s.register(spec)
	if err != nil {
		return err
	}
	s.res.Order = o
	a, err := s.call("buy", fmt.Sprintf("newInstance orderId=%s orderLineId=%s (%s %s, linearValue %d)", o.OrderID, o.OrderLineID, spec.OrderType, skuOf(o), linearOf(o)), true,
		func() (*Answer, error) { return s.cfg.Client.Buy(s.ctx, o.OrderID, o.OrderLineID, s.cfg.Test) })
	if err != nil {
		return err
	}
	if a.InstanceID == "" {
		return errors.New(`step "buy": answer has no instanceId`)
	}
	s.id, s.res.InstanceID = a.InstanceID, a.InstanceID
	return nil
}

func (s *scenario) renew(step string, o RegisteredOrder, scene string, expire time.Time) error {
	_, err := s.call(step, fmt.Sprintf("refreshInstance instanceId=%s orderId=%s scene=%s expireTime=%s", s.id, o.OrderID, scene, expire.UTC().Format(expireTimeLayout)), false,
		func() (*Answer, error) {
			return s.cfg.Client.Renew(s.ctx, s.id, o.OrderID, o.OrderLineID, scene, expire)
		})
	return err
}

func (s *scenario) upgrade(step string, o RegisteredOrder) error {
	_, err := s.call(step, fmt.Sprintf("upgradeInstance instanceId=%s orderId=%s (%s, linearValue %d)", s.id, o.OrderID, skuOf(o), linearOf(o)), true,
		func() (*Answer, error) { return s.cfg.Client.Upgrade(s.ctx, s.id, o.OrderID, o.OrderLineID) })
	return err
}

// changeCheck asks whether the instance may move to sku and quantity. productId is mandatory in
// productInfo: the configured one, else the product the instance was bought as.
func (s *scenario) changeCheck(sku string, quantity int) error {
	product := or(s.cfg.ProductID, productOf(s.res.Order))
	_, err := s.call("change-check", fmt.Sprintf("changeInstanceCheck instanceId=%s productId=%s skuCode=%s linearValue=%d", s.id, product, sku, quantity), false,
		func() (*Answer, error) { return s.cfg.Client.ChangeCheck(s.ctx, s.id, product, sku, quantity) })
	return err
}

// release releases the instance unless the caller keeps it.
func (s *scenario) release() error {
	if s.cfg.Keep {
		return nil
	}
	if _, err := s.call("release", "releaseInstance instanceId="+s.id, false,
		func() (*Answer, error) { return s.cfg.Client.Release(s.ctx, s.id) }); err != nil {
		return err
	}
	return s.verify("release", Expectation{Released: true})
}

func (s *scenario) trialToFormal() error {
	if err := s.buy(OrderSpec{SKU: s.cfg.SKU, OrderType: OrderTypeTrial, PeriodType: PeriodDay, PeriodNumber: 7}); err != nil {
		return err
	}
	if err := s.verify("buy", Expectation{SKU: s.cfg.SKU, Quantity: 1, Trial: ptrTo(true), ExpiresAt: expiryOf(s.res.Order)}); err != nil {
		return err
	}

	formalEnd := s.cfg.Now().UTC().Truncate(time.Second).AddDate(0, 1, 0)
	formal, err := s.register(OrderSpec{SKU: s.cfg.SKU, OrderType: OrderTypeTrialToFormal, PeriodType: PeriodMonth, PeriodNumber: 1, ExpireTime: formalEnd})
	if err != nil {
		return err
	}
	s.res.RenewOrder = formal
	if err := s.renew("trial-to-formal", formal, SceneTrialToFormal, formalEnd); err != nil {
		return err
	}
	if err := s.verify("trial-to-formal", Expectation{SKU: s.cfg.SKU, Trial: ptrTo(false), ExpiresAt: formalEnd,
		AppliedOrders: []AppliedOrderRef{{formal.OrderID, SceneTrialToFormal}}}); err != nil {
		return err
	}

	// A change at renewal is checked first, then bought as a renewal order carrying the new
	// SKU and quantity; it takes effect when the renewed period starts, at formalEnd.
	if err := s.changeCheck(s.cfg.UpgradeSKU, s.cfg.Quantity); err != nil {
		return err
	}
	renewedEnd := formalEnd.AddDate(0, 1, 0)
	change, err := s.register(OrderSpec{SKU: s.cfg.UpgradeSKU, LinearValue: s.cfg.Quantity, OrderType: OrderTypeRenew, PeriodType: PeriodMonth, PeriodNumber: 1, ExpireTime: renewedEnd})
	if err != nil {
		return err
	}
	s.res.UpgradeOrder = change
	if err := s.renew("renewal-change", change, SceneRenewalChange, renewedEnd); err != nil {
		return err
	}
	if err := s.verify("renewal-change", Expectation{SKU: s.cfg.SKU, ExpiresAt: renewedEnd,
		PendingChange: &ExpectedChange{SKU: s.cfg.UpgradeSKU, Quantity: s.cfg.Quantity, OrderID: change.OrderID, EffectiveAt: formalEnd},
		AppliedOrders: []AppliedOrderRef{{formal.OrderID, SceneTrialToFormal}, {change.OrderID, SceneRenewalChange}}}); err != nil {
		return err
	}

	// The refund carries the refunded renewal's order and moves the expiry back.
	if err := s.renew("renewal-refund", change, SceneUnsubscribeRenew, formalEnd); err != nil {
		return err
	}
	if err := s.verify("renewal-refund", Expectation{ExpiresAt: formalEnd,
		AppliedOrders: []AppliedOrderRef{{change.OrderID, SceneRenewalChange}, {change.OrderID, SceneUnsubscribeRenew}}}); err != nil {
		return err
	}
	return s.release()
}

func (s *scenario) scaleOut() error {
	if err := s.buy(OrderSpec{SKU: s.cfg.SKU, LinearValue: s.cfg.Quantity, OrderType: OrderTypeNew}); err != nil {
		return err
	}
	if err := s.verify("buy", Expectation{SKU: s.cfg.SKU, Quantity: s.cfg.Quantity}); err != nil {
		return err
	}
	if err := s.changeCheck(s.cfg.SKU, s.cfg.ScaleQuantity); err != nil {
		return err
	}
	up, err := s.register(OrderSpec{SKU: s.cfg.SKU, LinearValue: s.cfg.ScaleQuantity, OrderType: OrderTypeChange, ExpireTime: expiryOf(s.res.Order)})
	if err != nil {
		return err
	}
	s.res.UpgradeOrder = up
	if err := s.upgrade("scale-out", up); err != nil {
		return err
	}
	if err := s.verify("scale-out", Expectation{SKU: s.cfg.SKU, Quantity: s.cfg.ScaleQuantity,
		AppliedOrders: []AppliedOrderRef{{up.OrderID, SceneUpgrade}}}); err != nil {
		return err
	}
	return s.release()
}

func (s *scenario) resendOlder() error {
	if err := s.buy(OrderSpec{SKU: s.cfg.SKU, OrderType: OrderTypeNew}); err != nil {
		return err
	}
	if err := s.verify("buy", Expectation{SKU: s.cfg.SKU}); err != nil {
		return err
	}
	end := expiryOf(s.res.Order)
	if end.IsZero() {
		end = s.cfg.Now().UTC().Truncate(time.Second).AddDate(0, 1, 0)
	}
	r1End, r2End := end.AddDate(0, 1, 0), end.AddDate(0, 2, 0)
	r1, err := s.register(OrderSpec{SKU: s.cfg.SKU, OrderType: OrderTypeRenew, ExpireTime: r1End})
	if err != nil {
		return err
	}
	r2, err := s.register(OrderSpec{SKU: s.cfg.SKU, OrderType: OrderTypeRenew, ExpireTime: r2End})
	if err != nil {
		return err
	}
	s.res.RenewOrder = r2
	if err := s.renew("renew R1", r1, SceneRenewal, r1End); err != nil {
		return err
	}
	if err := s.verify("renew R1", Expectation{ExpiresAt: r1End}); err != nil {
		return err
	}
	if err := s.renew("renew R2", r2, SceneRenewal, r2End); err != nil {
		return err
	}
	if err := s.verify("renew R2", Expectation{ExpiresAt: r2End}); err != nil {
		return err
	}
	if err := s.renew("renew R1 resent", r1, SceneRenewal, r1End); err != nil {
		return err
	}
	if err := s.verify("renew R1 resent", Expectation{ExpiresAt: r2End,
		AppliedOrders: []AppliedOrderRef{{r1.OrderID, SceneRenewal}, {r2.OrderID, SceneRenewal}}}); err != nil {
		return err
	}

	u1, err := s.register(OrderSpec{SKU: s.cfg.UpgradeSKU, LinearValue: s.cfg.Quantity, OrderType: OrderTypeChange, ExpireTime: r2End})
	if err != nil {
		return err
	}
	u2, err := s.register(OrderSpec{SKU: s.cfg.UpgradeSKU, LinearValue: s.cfg.ScaleQuantity, OrderType: OrderTypeChange, ExpireTime: r2End})
	if err != nil {
		return err
	}
	s.res.UpgradeOrder = u2
	if err := s.upgrade("upgrade U1", u1); err != nil {
		return err
	}
	if err := s.verify("upgrade U1", Expectation{SKU: s.cfg.UpgradeSKU, Quantity: s.cfg.Quantity}); err != nil {
		return err
	}
	if err := s.upgrade("upgrade U2", u2); err != nil {
		return err
	}
	if err := s.verify("upgrade U2", Expectation{SKU: s.cfg.UpgradeSKU, Quantity: s.cfg.ScaleQuantity}); err != nil {
		return err
	}
	if err := s.upgrade("upgrade U1 resent", u1); err != nil {
		return err
	}
	if err := s.verify("upgrade U1 resent", Expectation{SKU: s.cfg.UpgradeSKU, Quantity: s.cfg.ScaleQuantity, ExpiresAt: r2End,
		AppliedOrders: []AppliedOrderRef{{u1.OrderID, SceneUpgrade}, {u2.OrderID, SceneUpgrade}}}); err != nil {
		return err
	}
	return s.release()
}

func ptrTo[T any](v T) *T { return &v }

// expiryOf is the expiry of an order's first line; zero when it has none.
func expiryOf(o RegisteredOrder) time.Time {
	if len(o.Order.OrderLine) == 0 {
		return time.Time{}
	}
	t, err := time.ParseInLocation(marketTimeLayout, o.Order.OrderLine[0].ExpireTime, time.UTC)
	if err != nil {
		return time.Time{}
	}
	return t
}

func productOf(o RegisteredOrder) string {
	if len(o.Order.OrderLine) == 0 || len(o.Order.OrderLine[0].ProductInfo) == 0 {
		return ""
	}
	return o.Order.OrderLine[0].ProductInfo[0].ProductID
}

func skuOf(o RegisteredOrder) string {
	if len(o.Order.OrderLine) == 0 || len(o.Order.OrderLine[0].ProductInfo) == 0 {
		return ""
	}
	return o.Order.OrderLine[0].ProductInfo[0].SkuCode
}

func linearOf(o RegisteredOrder) int {
	if len(o.Order.OrderLine) == 0 || len(o.Order.OrderLine[0].ProductInfo) == 0 {
		return 0
	}
	return o.Order.OrderLine[0].ProductInfo[0].LinearValue
}

// Missing lists the expected applied orders that applied (an instance's
// spec.marketplace.appliedOrders) lacks, for Verify implementations.
func (e Expectation) Missing(applied []AppliedOrderRef) []AppliedOrderRef {
	var out []AppliedOrderRef
	for _, w := range e.AppliedOrders {
		if !slices.Contains(applied, w) {
			out = append(out, w)
		}
	}
	return out
}
