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

package webhookbridge

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// A call's queueing is one budget (Options.QueueWait): what it waited for a read permit is taken
// off what it may wait for a call slot, so it never queues for more than the budget in all. A
// free place costs none of it.
func TestQueueBudgetIsSharedByThePermitAndTheSlot(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const budget = 400 * time.Millisecond
	permits, slots := make(chan struct{}, 1), make(chan struct{}, 1)

	free := &queueBudget{left: budget}
	release, ok := free.acquire(ctx, permits)
	g.Expect(ok).To(BeTrue())
	g.Expect(free.left).To(Equal(budget), "a free place is taken without waiting")
	release()

	permits <- struct{}{} // another call's read permit, released a while later
	slots <- struct{}{}   // every slot busy for good
	b := &queueBudget{left: budget}
	start := time.Now()
	time.AfterFunc(budget/4, func() { <-permits })
	release, ok = b.acquire(ctx, permits)
	g.Expect(ok).To(BeTrue())
	defer release()
	waitedForPermit := time.Since(start)
	g.Expect(b.left).To(BeNumerically("<", budget))
	g.Expect(b.left).To(BeNumerically(">", 0))

	_, ok = b.acquire(ctx, slots)
	g.Expect(ok).To(BeFalse())
	g.Expect(b.left).To(BeNumerically("<=", 0))
	g.Expect(time.Since(start)).To(BeNumerically("<", budget+waitedForPermit/2),
		"the slot is waited for only with what the permit left of the budget (waited %s for the permit)", waitedForPermit)

	_, ok = b.acquire(ctx, slots)
	g.Expect(ok).To(BeFalse(), "a spent budget waits no more")
}
