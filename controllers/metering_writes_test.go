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

package controllers_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
	"github.com/tenantry/tenantry/internal/metering"
)

// lookCounter is the metering's client with its writes counted (all of them, and the status
// writes to the test's own instances: the API server holds the metered instances of other tests
// too, which the metering meters as well), and its reads of each instance: a read of an instance
// is a reconcile of it, which tells the test that the metering looked at it at the clock's time.
type lookCounter struct {
	controllers.WriteCounter
	looks nameCounts
	// mine are the test's instances; minesWrites counts the status writes to them, conflicts
	// those refused with a conflict.
	mine                   map[string]bool
	minesWrites, conflicts atomic.Int64
}

func (c *lookCounter) Get(ctx context.Context, key client.ObjectKey, o client.Object, opts ...client.GetOption) error {
	if _, ok := o.(*tenantryv1alpha1.TenantInstance); ok {
		c.looks.add(key.Name)
	}
	return c.WriteCounter.Get(ctx, key, o, opts...)
}

// Status counts the status writes refused with a conflict too.
func (c *lookCounter) Status() client.SubResourceWriter {
	return conflictCounter{SubResourceWriter: c.WriteCounter.Status(), c: c}
}

type conflictCounter struct {
	client.SubResourceWriter
	c *lookCounter
}

func (w conflictCounter) Patch(ctx context.Context, o client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
	if w.c.mine[o.GetName()] {
		w.c.minesWrites.Add(1)
	}
	err := w.SubResourceWriter.Patch(ctx, o, p, opts...)
	if w.c.mine[o.GetName()] && apierrors.IsConflict(err) {
		w.c.conflicts.Add(1)
	}
	return err
}

func (c *lookCounter) lookedAt(name string) int { return c.looks.of(name) }

// nameCounts counts something per object name; safe for concurrent use.
type nameCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *nameCounts) add(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[name]++
}

func (c *nameCounts) of(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[name]
}

// TestMeteringWritesTwicePerInstanceAndPeriod: metered, Ready, idle instances cost the metering
// at most two status writes per instance and period, the least it can do without losing
// exactly-once: one that closes the period into pending (and opens the next; the record must be
// durable before it is pushed) and one that acknowledges the pushed record (the marketplace took
// it; it must leave pending, or it is pushed again forever). Looking at an instance within a
// period, however often, costs no write, nor do the main reconciler's status writes.
func TestMeteringWritesTwicePerInstanceAndPeriod(t *testing.T) {
	const instances, periods = 4, 3
	g := NewWithT(t)
	clk, ledger, srv := newLedger(t)

	create(t, meteredPlan("meter-writes", "METER-WRITES", tenantryv1alpha1.MeteringActiveHours))
	names := make([]string, instances)
	for i := range names {
		names[i] = fmt.Sprintf("meter-writes-%d", i)
		create(t, payPerUse(names[i], "METER-WRITES", tenantryv1alpha1.ChargingOnDemand))
	}
	for _, name := range names {
		g.Eventually(func(g Gomega) { rollOut(g, name) }).Should(Succeed())
		g.Eventually(func(g Gomega) {
			expectCondition(g, name, tenantryv1alpha1.ConditionReady, "True", "")
		}).Should(Succeed())
		if created := getInstance(g, name).CreationTimestamp.Time; clk.Now().Before(created) {
			clk.SetTime(created)
		}
	}

	var writes atomic.Int64
	var counter *lookCounter
	startMetering(t, clk, srv.URL, false, func(m *controllers.Metering) {
		counter = &lookCounter{WriteCounter: controllers.WriteCounter{Client: m.Client, Writes: &writes}, mine: map[string]bool{}}
		for _, name := range names {
			counter.mine[name] = true
		}
		m.Client = counter
	})
	// lookAgain waits until the metering looked at every instance twice at the clock's time.
	lookAgain := func() {
		for _, name := range names {
			seen := counter.lookedAt(name)
			g.Eventually(func() int { return counter.lookedAt(name) }).Should(BeNumerically(">=", seen+2))
		}
	}
	// reportedThrough waits until every instance's periods up to end are reported.
	reportedThrough := func(end time.Time) {
		for _, name := range names {
			g.Eventually(func(g Gomega) {
				st := getInstance(g, name).Status.Metering
				g.Expect(st).NotTo(BeNil())
				g.Expect(st.Pending).To(BeEmpty())
				g.Expect(st.ReportedThrough).NotTo(BeNil())
				g.Expect(st.ReportedThrough.Time).To(BeTemporally("==", end))
			}).Should(Succeed())
		}
	}

	// The first, partial period of each instance closes at the next hour.
	boundary := metering.PeriodEnd(clk.Now(), time.Hour)
	clk.SetTime(boundary.Add(time.Second))
	reportedThrough(boundary)
	lookAgain()

	// A period with nothing to close costs nothing: the metering looks at every instance after
	// each of five 10-minute steps, and writes nothing.
	before := counter.minesWrites.Load()
	for range 5 {
		clk.Step(10 * time.Minute)
		lookAgain()
	}
	g.Expect(counter.minesWrites.Load()-before).To(BeZero(), "writes within a period")

	// periods more hours, looked at every quarter of an hour: each costs two writes per instance.
	before, all := counter.minesWrites.Load(), writes.Load()
	for range periods {
		boundary = metering.PeriodEnd(clk.Now(), time.Hour)
		for clk.Now().Before(boundary) {
			clk.SetTime(minTime(clk.Now().Add(15*time.Minute), boundary.Add(time.Second)))
			lookAgain()
		}
		reportedThrough(boundary)
	}
	lookAgain()
	t.Logf("%d refused with a conflict", counter.conflicts.Load())
	t.Logf("%d status writes for %d instances over %d periods (%d with the other tests' instances)",
		counter.minesWrites.Load()-before, instances, periods, writes.Load()-all)
	g.Expect(counter.minesWrites.Load()-before).To(BeNumerically("<=", 2*instances*periods),
		"status writes for %d instances over %d periods", instances, periods)

	// Exactly once: every period of every instance is on the ledger once.
	for _, name := range names {
		g.Expect(ledgerRecords(ledger, name)).To(HaveLen(1 + periods))
	}
}

// listRecorder is the metering's client with the names of every TenantInstance its lists return.
type listRecorder struct {
	client.Client
	listed nameCounts
}

func (c *listRecorder) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	err := c.Client.List(ctx, list, opts...)
	if l, ok := list.(*tenantryv1alpha1.TenantInstanceList); ok && err == nil {
		for i := range l.Items {
			c.listed.add(l.Items[i].Name)
		}
	}
	return err
}

// TestThePusherListsOnlyPayPerUseInstances: the pusher's rounds, every sync interval, read the
// pay-per-use instances only. Listing every instance would copy all of them out of the cache
// each round, which at 10,000 tenants of which none is metered is megabytes of the operator's
// memory for nothing.
func TestThePusherListsOnlyPayPerUseInstances(t *testing.T) {
	g := NewWithT(t)
	clk, _, srv := newLedger(t)
	create(t, meteredPlan("meter-lists", "METER-LISTS", tenantryv1alpha1.MeteringActiveHours),
		payPerUse("meter-lists-od", "METER-LISTS", tenantryv1alpha1.ChargingOnDemand),
		newInstance("meter-lists-period", "METER-LISTS"))
	recorder := &listRecorder{}
	startMetering(t, clk, srv.URL, false, func(m *controllers.Metering) {
		recorder.Client = m.Client
		m.Client = recorder
	})
	g.Eventually(func() int { return recorder.listed.of("meter-lists-od") }).Should(BeNumerically(">=", 3),
		"the pusher's rounds list the pay-per-use instance")
	g.Expect(recorder.listed.of("meter-lists-period")).To(BeZero(), "a period instance was listed")
}
