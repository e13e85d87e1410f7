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
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/orderquery"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// gatedOrders holds every Order Query until the test opens the gate, telling it when a call is
// waiting, so a call can be kept in flight for as long as a test needs.
type gatedOrders struct {
	inner   webhookbridge.OrderQuerier
	waiting chan struct{}
	gate    chan struct{}
}

func (o *gatedOrders) Query(ctx context.Context, orderID, lineID string) (*orderquery.Order, error) {
	o.waiting <- struct{}{}
	select {
	case <-o.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return o.inner.Query(ctx, orderID, lineID)
}

// oneSlot gives the bridge one call slot and puts the gate in front of its Order Query. A call
// held at the gate keeps the slot until the test opens it, however slow the machine: with the
// default 2 s Order Query deadline a loaded machine could free the slot first, and the next call
// would take it instead of waiting for it.
func (o *gatedOrders) oneSlot(opts *webhookbridge.Options) {
	o.inner = opts.Orders
	opts.Orders = o
	opts.MaxInFlight = 1
	opts.CallBudget, opts.OrderQueryTimeout = time.Minute, 40*time.Second
}

func shedCount(g Gomega) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() == "tenantry_bridge_shed_calls_total" {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

func TestOverCapacityCallsAreShedWithARetryableAnswer(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	gated := &gatedOrders{waiting: make(chan struct{}, 4), gate: make(chan struct{})}
	base := newBridge(t, func(o *webhookbridge.Options) {
		gated.oneSlot(o)
	})
	c := marketFor(t, base)
	first, second := newOrder(skuSmall), newOrder(skuSmall)

	// The first purchase takes the only slot and stays in Order Query.
	var wg sync.WaitGroup
	var firstAnswer *simulator.Answer
	var firstErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		firstAnswer, firstErr = c.Buy(ctx, first.OrderID, first.OrderLine[0].OrderLineID, false)
	}()
	<-gated.waiting

	// The second finds no slot: 000005, unread, nothing persisted.
	shedBefore := shedCount(g)
	before := snapshot(g)
	a, err := c.Buy(ctx, second.OrderID, second.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeInternalError)
	g.Expect(shedCount(g)).To(Equal(shedBefore + 1))
	g.Expect(snapshot(g)).To(Equal(before))

	// The first completes normally once Order Query answers.
	close(gated.gate)
	wg.Wait()
	expectCode(g, firstAnswer, firstErr, protocol.CodeSuccess)

	// The marketplace's resend of the shed call now succeeds.
	go func() {
		for range gated.waiting {
		}
	}()
	a, err = c.Buy(ctx, second.OrderID, second.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.InstanceID).To(Equal(webhookbridge.InstanceName(second.OrderID, second.OrderLine[0].OrderLineID)))
	close(gated.waiting)
}
