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

package webhookbridge_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// statusSend is one FREEZE or UNFREEZE with its send time.
type statusSend struct {
	freeze bool
	sent   time.Time
}

func TestStatusOrderingNewestSendWins(t *testing.T) {
	integration(t)
	for seed := range uint64(6) {
		concurrent := seed%2 == 1
		t.Run(fmt.Sprintf("seed %d concurrent %v", seed, concurrent), func(t *testing.T) {
			g := NewWithT(t)
			id, _ := buy(t, skuSmall)
			// Distinct send times after the purchase, delivered in a shuffled order.
			base := time.Now().Truncate(time.Millisecond)
			rng := rand.New(rand.NewPCG(seed, 42))
			sends := make([]statusSend, 8)
			for i := range sends {
				sends[i] = statusSend{freeze: rng.IntN(2) == 0, sent: base.Add(time.Duration(i*10+1) * time.Millisecond)}
			}
			newest := sends[len(sends)-1]
			rng.Shuffle(len(sends), func(i, j int) { sends[i], sends[j] = sends[j], sends[i] })
			send := func(s statusSend) {
				c := market(t, at(s.sent))
				var a *simulator.Answer
				var err error
				if s.freeze {
					a, err = c.Freeze(context.Background(), id)
				} else {
					a, err = c.Unfreeze(context.Background(), id)
				}
				expectCode(g, a, err, protocol.CodeSuccess)
			}
			if concurrent {
				var wg sync.WaitGroup
				for _, s := range sends {
					wg.Go(func() { send(s) })
				}
				wg.Wait()
			} else {
				for _, s := range sends {
					send(s)
				}
			}
			want := tenantryv1alpha1.LifecycleActive
			if newest.freeze {
				want = tenantryv1alpha1.LifecycleFrozen
			}
			ti := getInstance(g, id)
			g.Expect(ti.Spec.Lifecycle).To(Equal(want), "concurrent=%v", concurrent)
			g.Expect(ti.Spec.Marketplace.LifecycleSetAt.Time).To(BeTemporally("==", newest.sent))
		})
	}
}

func TestStaleFreezeGuard(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Millisecond)
	clock := clocktesting.NewFakePassiveClock(t0)
	base := newBridge(t, func(o *webhookbridge.Options) {
		o.Clock = clock
		o.Verifier = &protocol.Verifier{Keys: []string{accessKey}, KitKeys: []string{kitKey}, Now: clock.Now,
			Nonces: protocol.NewNonceCache(0, 0, clock.Now)}
	})
	// Every call is sent at the bridge's current (fake) time.
	mk := func(offset time.Duration) *simulator.Client {
		clock.SetTime(t0.Add(offset))
		return marketFor(t, base, at(t0.Add(offset)))
	}

	o := newOrder(skuSmall)
	a, err := mk(0).Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	id := a.InstanceID

	// A freeze soon after the purchase applies: there was no renewal.
	a, err = mk(time.Minute).Freeze(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleFrozen))

	// The customer renews, then the marketplace unfreezes.
	renewal := orders.CreateOrder(simulator.OrderSpec{SKU: skuSmall, OrderType: simulator.OrderTypeRenew})
	a, err = mk(2*time.Minute).Renew(ctx, id, renewal.OrderID, renewal.OrderLine[0].OrderLineID, simulator.SceneRenewal, t0.Add(60*24*time.Hour))
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = mk(3*time.Minute).Unfreeze(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleActive))

	// The marketplace's retry of a FREEZE sent before the renewal arrives half an hour later.
	before := snapshot(g)
	a, err = mk(33*time.Minute).Freeze(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(snapshot(g)).To(Equal(before), "the stale freeze records nothing")
	g.Expect(getInstance(g, id).Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleActive))
	g.Expect(events.count(id, webhookbridge.ReasonStaleFreezeIgnored)).To(Equal(1))

	// A freeze two hours after the unfreeze is a real one.
	a, err = mk(3*time.Minute+2*time.Hour).Freeze(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	ti := getInstance(g, id)
	g.Expect(ti.Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleFrozen))
	g.Expect(ti.Spec.Marketplace.LifecycleSetAt.Time).To(BeTemporally("==", t0.Add(3*time.Minute+2*time.Hour)))
}
