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
	"encoding/json"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// TestQueryInstanceReportsMeteredUsage: a pay-per-use instance the operator meters answers
// queryInstance with its cumulative usage and the end of the last period the marketplace took;
// a period instance answers none.
func TestQueryInstanceReportsMeteredUsage(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	o := newOrder(skuSmall, func(s *simulator.OrderSpec) {
		s.ChargingMode, s.ExpireTime = simulator.ChargingOnDemand, time.Time{}
	})
	bought, err := market(t).Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, bought, err, protocol.CodeSuccess)
	id := bought.InstanceID
	period, _ := buy(t, skuSmall)
	makeReady(g, id, false)
	makeReady(g, period, false)

	ti := getInstance(g, id)
	start := metav1.NewTime(time.Date(2026, 1, 1, 8, 30, 0, 0, time.UTC))
	through := metav1.NewTime(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	ti.Status.Metering = &tenantryv1alpha1.MeteringStatus{PeriodStart: &through, ReportedThrough: &through, Cumulative: "3.5",
		Pending: []tenantryv1alpha1.UsageRecord{{Start: start, End: through, Value: "9"}}}
	g.Expect(k8s.Status().Update(ctx, ti)).To(Succeed())

	g.Eventually(func(g Gomega) {
		a, err := market(t).Query(ctx, id, period)
		expectCode(g, a, err, protocol.CodeSuccess)
		g.Expect(a.Info).To(HaveLen(2))
		byID := map[string]simulator.InstanceInfo{}
		for _, i := range a.Info {
			byID[i.InstanceID] = i
		}
		g.Expect(byID[period].UsageInfo).To(BeEmpty())
		u := byID[id].UsageInfo
		g.Expect(u).To(HaveLen(1))
		g.Expect(u[0].RelatedInstanceID).To(Equal(id))
		var v string
		g.Expect(json.Unmarshal(u[0].UsageValue, &v)).To(Succeed())
		g.Expect(v).To(Equal("3.5"), "only what the marketplace acknowledged counts")
		g.Expect(u[0].StatisticalTime).To(Equal("20260101T120000Z"))
	}).Should(Succeed())
}
