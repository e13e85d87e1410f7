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

package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
)

// The marketplace side of the suite: it sends signed calls the way the marketplace does —
// resending a call answered 000005 or lost in transport, with a new send time, until it is
// acknowledged (000000) or the scenario gives up on it — and keeps a ledger of every attempt.
// The ledger says what the cluster must end up as (see expect in world_test.go).

// kind is what a call does.
type kind string

const (
	kindBuy      kind = "newInstance"
	kindRenew    kind = "refreshInstance"
	kindFreeze   kind = "updateInstanceStatus FREEZE"
	kindUnfreeze kind = "updateInstanceStatus UNFREEZE"
	kindUpgrade  kind = "upgradeInstance"
	kindRelease  kind = "releaseInstance"
)

// attempt is one delivery of a call.
type attempt struct {
	// sent is the send time the call was signed with (its timestamp, to the millisecond); answered
	// when the answer (or the transport error) came back.
	sent, answered time.Time
	// code is the answer's resultCode; empty when the call failed in transport.
	code string
	err  error
}

// call is one marketplace call and its deliveries.
type call struct {
	kind kind
	// value is what the call sets: the lifecycle, the SKU, or the expiry (RFC 3339).
	value string
	// expire is the expiry a renewal sets.
	expire time.Time
	// order is the order of a purchase, renewal or upgrade.
	order simulator.RegisteredOrder

	mu       sync.Mutex
	attempts []attempt
	// acked is the attempt answered 000000; nil until then.
	acked *attempt
	// unexpected is an answer the marketplace would not resend and the suite does not expect.
	unexpected string
}

func (c *call) record(a attempt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attempts = append(c.attempts, a)
	if a.err == nil && a.code == simulator.ResultSuccess {
		ack := a
		c.acked = &ack
	}
}

// tenant is one order line and the calls about its instance.
type tenant struct {
	id    string
	order simulator.RegisteredOrder
	// sku and expire are what the purchase bought.
	sku    string
	expire time.Time

	mu    sync.Mutex
	last  time.Time
	calls []*call
	// upgrades serialises upgrade orders: the marketplace takes no new change order for an
	// instance while one is still being delivered.
	upgrades sync.Mutex
}

// stamp is the send time of the next attempt about the tenant: now, to the millisecond, and
// later than every earlier attempt about it, so that no two calls about one instance share a
// send time (the bridge applies a call with the same send time as the recorded one: a resend).
func (t *tenant) stamp() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now().Truncate(time.Millisecond)
	if !now.After(t.last) {
		now = t.last.Add(time.Millisecond)
	}
	t.last = now
	return now
}

func (t *tenant) add(c *call) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls = append(t.calls, c)
}

func (t *tenant) snapshot() []*call {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]*call(nil), t.calls...)
}

// market sends calls to one bridge URL.
type market struct {
	url  string
	http *http.Client
	rnd  *rng
	// observe, when set, sees every attempt as it is answered.
	observe func(*tenant, *call, attempt)

	stats marketStats
}

// marketStats count attempts by outcome.
type marketStats struct {
	calls, attempts, acked, retryable, transport, unexpected, gaveUp atomic.Int64
}

func newMarket(url string, rnd *rng) *market {
	return &market{url: url, rnd: rnd, http: &http.Client{
		// The marketplace waits 5 s for an answer.
		Timeout:   5 * time.Second,
		Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second},
	}}
}

// newTenant registers a purchase of sku with the simulated marketplace.
func newTenant(sku string) (*tenant, error) {
	o, err := orders.RegisterOrder(context.Background(), simulator.OrderSpec{SKU: sku, OrderType: simulator.OrderTypeNew})
	if err != nil {
		return nil, err
	}
	expire, err := time.Parse("20060102150405", o.Order.OrderLine[0].ExpireTime)
	if err != nil {
		return nil, fmt.Errorf("reading the expiry of order %q: %w", o.OrderID, err)
	}
	return &tenant{id: webhookbridge.InstanceName(o.OrderID, o.OrderLineID), order: o, sku: sku, expire: expire.UTC()}, nil
}

func buyCall(t *tenant) *call { return &call{kind: kindBuy, order: t.order} }

func renewCall(t *tenant, expire time.Time) (*call, error) {
	expire = expire.UTC().Truncate(time.Second)
	o, err := orders.RegisterOrder(context.Background(), simulator.OrderSpec{
		SKU: t.sku, OrderType: simulator.OrderTypeRenew, CustomerID: t.order.Order.BuyerInfo.CustomerID, ExpireTime: expire})
	if err != nil {
		return nil, err
	}
	return &call{kind: kindRenew, order: o, expire: expire, value: expire.Format(time.RFC3339)}, nil
}

func freezeCall() *call {
	return &call{kind: kindFreeze, value: string(tenantryv1alpha1.LifecycleFrozen)}
}

func unfreezeCall() *call {
	return &call{kind: kindUnfreeze, value: string(tenantryv1alpha1.LifecycleActive)}
}

func upgradeCall(t *tenant, sku string) (*call, error) {
	o, err := orders.RegisterOrder(context.Background(), simulator.OrderSpec{
		SKU: sku, OrderType: simulator.OrderTypeChange, CustomerID: t.order.Order.BuyerInfo.CustomerID, ExpireTime: t.expire})
	if err != nil {
		return nil, err
	}
	return &call{kind: kindUpgrade, order: o, value: sku}, nil
}

func releaseCall() *call { return &call{kind: kindRelease} }

// randomOp is a renewal, a freeze, an unfreeze or an upgrade, chosen at random.
func (m *market) randomOp(t *tenant) (*call, error) {
	switch n := m.rnd.intn(10); {
	case n < 3:
		return renewCall(t, time.Now().AddDate(0, 0, 30+m.rnd.intn(700)))
	case n < 5:
		return freezeCall(), nil
	case n < 7:
		return unfreezeCall(), nil
	default:
		sku := skuSmall
		if m.rnd.intn(2) == 0 {
			sku = skuLarge
		}
		return upgradeCall(t, sku)
	}
}

// send delivers c about t, resending until it is acknowledged, answered with something the
// marketplace would not resend, ctx ends or giveUp passes. It reports whether c was acknowledged.
func (m *market) send(ctx context.Context, t *tenant, c *call, giveUp time.Time) bool {
	t.add(c)
	m.stats.calls.Add(1)
	if c.kind == kindUpgrade {
		t.upgrades.Lock()
		defer t.upgrades.Unlock()
	}
	wait := time.Second
	for {
		sent := t.stamp()
		a := m.deliver(ctx, t, c, sent)
		c.record(a)
		m.stats.attempts.Add(1)
		if m.observe != nil {
			m.observe(t, c, a)
		}
		switch {
		case a.err == nil && a.code == simulator.ResultSuccess:
			m.stats.acked.Add(1)
			return true
		case a.err != nil:
			m.stats.transport.Add(1)
		case a.code == simulator.ResultInternal:
			m.stats.retryable.Add(1)
		default:
			m.stats.unexpected.Add(1)
			c.mu.Lock()
			c.unexpected = a.code
			c.mu.Unlock()
			return false
		}
		if ctx.Err() != nil || time.Now().Add(wait).After(giveUp) {
			m.stats.gaveUp.Add(1)
			return false
		}
		// The marketplace's resend interval, much shortened: jittered, doubling up to 8 s.
		select {
		case <-time.After(m.rnd.between(wait/2, wait)):
		case <-ctx.Done():
		}
		wait = min(2*wait, 8*time.Second)
	}
}

// deliver makes one attempt, signed with send time sent.
func (m *market) deliver(ctx context.Context, t *tenant, c *call, sent time.Time) attempt {
	a := attempt{sent: sent}
	cl, err := simulator.NewClient(simulator.Options{BaseURL: m.url, AccessKey: keys.AccessKey, HTTP: m.http,
		Now: func() time.Time { return sent }})
	if err != nil {
		a.err, a.answered = err, time.Now()
		return a
	}
	var answer *simulator.Answer
	switch c.kind {
	case kindBuy:
		answer, err = cl.Buy(ctx, c.order.OrderID, c.order.OrderLineID, false)
	case kindRenew:
		answer, err = cl.Renew(ctx, t.id, c.order.OrderID, c.order.OrderLineID, simulator.SceneRenewal, c.expire)
	case kindFreeze:
		answer, err = cl.Freeze(ctx, t.id)
	case kindUnfreeze:
		answer, err = cl.Unfreeze(ctx, t.id)
	case kindUpgrade:
		answer, err = cl.Upgrade(ctx, t.id, c.order.OrderID, c.order.OrderLineID)
	case kindRelease:
		answer, err = cl.Release(ctx, t.id)
	default:
		err = fmt.Errorf("unknown call kind %q", c.kind)
	}
	a.answered = time.Now()
	switch {
	case errors.Is(err, simulator.ErrBodySign):
		// A wrongly signed answer is not an answer the marketplace accepts.
		a.code = "bad-body-sign"
	case err != nil:
		a.err = err
	default:
		a.code = answer.ResultCode
		if c.kind == kindBuy && answer.ResultCode == simulator.ResultSuccess && answer.InstanceID != t.id {
			a.code = "instance-id " + answer.InstanceID
		}
	}
	return a
}

// buy registers a purchase of sku and delivers it; the tenant is returned even when the
// purchase was not acknowledged, since it may still have been persisted.
func (m *market) buy(ctx context.Context, sku string, giveUp time.Time) (*tenant, bool, error) {
	t, err := newTenant(sku)
	if err != nil {
		return nil, false, err
	}
	return t, m.send(ctx, t, buyCall(t), giveUp), nil
}

// statsLine summarises the market's attempts for the figures.
func (m *market) statsLine() string {
	s := &m.stats
	return fmt.Sprintf("%d calls, %d attempts: %d acknowledged, %d answered 000005, %d lost in transport, %d unexpected, %d given up",
		s.calls.Load(), s.attempts.Load(), s.acked.Load(), s.retryable.Load(), s.transport.Load(), s.unexpected.Load(), s.gaveUp.Load())
}
