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
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/tenantry/tenantry/internal/testenv"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/calltime"
	"github.com/tenantry/tenantry/webhookbridge/orderquery"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// laggingTransport stands for a far, busy server: every request takes delay longer.
type laggingTransport struct {
	delay time.Duration
	next  http.RoundTripper
}

func (l laggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t := time.NewTimer(l.delay) // the simulated distance itself, not a wait for a condition
	defer t.Stop()
	select {
	case <-t.C:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	return l.next.RoundTrip(req)
}

// histogramOf returns the sample count and sum of a histogram's series for one activity.
func histogramOf(g Gomega, name, activity string) (count uint64, sum float64) {
	families, err := ctrlmetrics.Registry.Gather()
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "activity" && l.GetValue() == activity {
					return m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
				}
			}
		}
	}
	return 0, 0
}

// The bridge's own time of a purchase leaves out the time its API requests and its Order Query
// take, as the binary wires the clients' transports.
func TestOwnTimeLeavesOutAPIAndOrderQueryTime(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	const lag = 300 * time.Millisecond
	cfg := rest.CopyConfig(k8sConfig)
	cfg.Wrap(func(next http.RoundTripper) http.RoundTripper { return laggingTransport{delay: lag, next: next} })
	cfg.Wrap(calltime.Wrapper(calltime.API))
	slow, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	base := newBridge(t, func(o *webhookbridge.Options) {
		o.Client = slow
		o.Orders = &orderquery.Client{
			Endpoint: orderURL, AK: sellerAK, SK: sellerSK, Observe: webhookbridge.ObserveOrderQuery,
			HTTP: &http.Client{Transport: calltime.Transport(calltime.OrderQuery, laggingTransport{delay: lag, next: http.DefaultTransport})},
		}
		o.CallBudget = 10 * time.Second
		o.OrderQueryTimeout = 5 * time.Second
	})
	// A first purchase lets the client discover the API (its REST mapper's requests are not a
	// call's, and lag too); the second is measured.
	c := marketFor(t, base)
	warm := newOrder(skuSmall)
	a, err := c.Buy(context.Background(), warm.OrderID, warm.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	o := newOrder(skuSmall)

	calls0, callSum0 := histogramOf(g, "tenantry_bridge_call_duration_seconds", "newInstance")
	own0, ownSum0 := histogramOf(g, "tenantry_bridge_call_own_duration_seconds", "newInstance")
	a, err = c.Buy(context.Background(), o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	calls1, callSum1 := histogramOf(g, "tenantry_bridge_call_duration_seconds", "newInstance")
	own1, ownSum1 := histogramOf(g, "tenantry_bridge_call_own_duration_seconds", "newInstance")

	g.Expect(calls1-calls0).To(Equal(uint64(1)), "one purchase answered")
	g.Expect(own1-own0).To(Equal(uint64(1)), "its own time recorded once")
	whole, own := callSum1-callSum0, ownSum1-ownSum0
	// At least the Order Query and the instance's create, each lagging, are left out.
	g.Expect(whole-own).To(BeNumerically(">=", (2*lag).Seconds()), "call %.3fs, own %.3fs", whole, own)
	g.Expect(own).To(BeNumerically(">=", 0))
	g.Expect(own).To(BeNumerically("<", lag.Seconds()), "the bridge's own work is far below one lagging request")
}

// A call waiting for a slot held by another is queued, not busy: the wait is left out of its own
// time and recorded as queued.
func TestQueueingIsNotOwnTime(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	const queueWait = 300 * time.Millisecond
	gated := &gatedOrders{waiting: make(chan struct{}, 4), gate: make(chan struct{})}
	base := newBridge(t, func(o *webhookbridge.Options) {
		gated.oneSlot(o)
		o.QueueWait = queueWait
	})
	c := marketFor(t, base)
	first, second := newOrder(skuSmall), newOrder(skuSmall)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.Buy(ctx, first.OrderID, first.OrderLine[0].OrderLineID, false)
	}()
	<-gated.waiting

	queued0, queuedSum0 := histogramOf(g, "tenantry_bridge_call_queued_duration_seconds", "unverified")
	own0, ownSum0 := histogramOf(g, "tenantry_bridge_call_own_duration_seconds", "unverified")
	a, err := c.Buy(ctx, second.OrderID, second.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeInternalError)
	queued1, queuedSum1 := histogramOf(g, "tenantry_bridge_call_queued_duration_seconds", "unverified")
	own1, ownSum1 := histogramOf(g, "tenantry_bridge_call_own_duration_seconds", "unverified")
	close(gated.gate)
	<-done

	g.Expect(queued1 - queued0).To(Equal(uint64(1)))
	g.Expect(own1 - own0).To(Equal(uint64(1)))
	g.Expect(queuedSum1-queuedSum0).To(BeNumerically(">=", queueWait.Seconds()), "the shed call waited for the slot")
	g.Expect(ownSum1-ownSum0).To(BeNumerically("<", queueWait.Seconds()), "and that wait is not its own time")
}
