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

package e2e

import (
	"math/big"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/metering"
	"github.com/tenantry/tenantry/simulator"
)

// A pay-per-use purchase of a metered plan, with the chart's manager.metering pointing the
// operator at the simulated marketplace's usage endpoint and a period of meteringPeriod: the
// marketplace is billed each period once, queryInstance reports what it was billed, and the
// release reports the last, partial period before the instance is gone.
var _ = Describe("Usage metering", Label("metering"), func() {
	It("pushes each period of a pay-per-use tenant once and reports the last one at release", func(ctx SpecContext) {
		g := Default
		_, id := buy(g, skuPayg, func(s *simulator.OrderSpec) { s.ChargingMode = simulator.ChargingOnDemand })
		releaseOnCleanup(id)
		ti := expectRunning(id, 1)
		g.Expect(ti.Spec.Order.ChargingMode).To(Equal(tenantryv1alpha1.ChargingOnDemand))
		created := ti.CreationTimestamp.UTC().Truncate(time.Second)

		By("a period ends: the marketplace's ledger has its record, named by its metering_sn")
		g.Eventually(func(g Gomega) {
			records := ledgerOf(id)
			g.Expect(records).NotTo(BeEmpty(), "no usage record of %s yet", id)
			// The first period starts at the instance's creation.
			g.Expect(records[0].BeginTime).To(Equal(created.Format(metering.TimeFormat)))
			for _, r := range records {
				begin, err := time.Parse(metering.TimeFormat, r.BeginTime)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(r.MeteringSN).To(Equal(metering.SN(id, begin)), "record %+v", r)
				g.Expect(r.RelatePkgInstance).To(BeEmpty(), "an ON_DEMAND instance debits no package")
			}
		}).WithTimeout(meteringPeriod + time.Minute).Should(Succeed())

		By("queryInstance: usageValue is what the ledger billed the instance")
		g.Eventually(func(g Gomega) {
			a, err := market.Query(ctx, id)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(a.ResultCode).To(Equal(simulator.ResultSuccess))
			g.Expect(a.Info).To(HaveLen(1))
			g.Expect(a.Info[0].UsageInfo).To(HaveLen(1))
			u := a.Info[0].UsageInfo[0]
			g.Expect(u.RelatedInstanceID).To(Equal(id))
			g.Expect(u.StatisticalTime).NotTo(BeEmpty())
			billed := orders.Usage().Billed()[id]
			g.Expect(billed).NotTo(BeEmpty())
			g.Expect(decimal(g, string(u.UsageValue))).To(Equal(decimal(g, billed)),
				"queryInstance answered usageValue %s, the ledger billed %s", u.UsageValue, billed)
			st := instance(g, id).Status.Metering
			g.Expect(st).NotTo(BeNil())
			g.Expect(decimal(g, st.Cumulative)).To(Equal(decimal(g, billed)))
		}).Should(Succeed())

		By("release while the usage endpoint is down: the instance waits with its last, partial period")
		orders.SetUsageFailure(simulator.Failure{HTTPStatus: http.StatusServiceUnavailable})
		DeferCleanup(func() { orders.SetUsageFailure(simulator.Failure{}) })
		send(g, func() (*simulator.Answer, error) { return market.Release(ctx, id) })
		var last tenantryv1alpha1.UsageRecord
		g.Eventually(func(g Gomega) {
			ti := instance(g, id)
			g.Expect(ti.DeletionTimestamp).NotTo(BeNil())
			st := ti.Status.Metering
			g.Expect(st).NotTo(BeNil())
			g.Expect(st.Closed).To(BeTrue(), "the last period is not closed")
			// The release stops the accrual at the deletion (to the second). Only when that is a
			// period's boundary, and that period was billed before the release, is nothing left.
			deleted := ti.DeletionTimestamp.UTC().Truncate(time.Second)
			if len(st.Pending) == 0 {
				g.Expect(st.ReportedThrough).NotTo(BeNil())
				g.Expect(st.ReportedThrough.Time.Equal(deleted)).To(BeTrue(),
					"nothing is pending, yet the usage is reported through %s, not the deletion %s", st.ReportedThrough, deleted)
				return
			}
			last = st.Pending[len(st.Pending)-1]
			g.Expect(last.End.Time.Equal(deleted)).To(BeTrue(), "the last period ends at %s, not at the deletion %s", last.End, deleted)
		}).Should(Succeed())
		sn := ""
		if !last.Start.IsZero() {
			sn = metering.SN(id, last.Start.Time)
			for _, r := range ledgerOf(id) {
				g.Expect(r.MeteringSN).NotTo(Equal(sn), "the last period was billed while the endpoint was down")
			}
		}

		By("the endpoint is back: the last period is billed, then the instance is gone")
		orders.SetUsageFailure(simulator.Failure{})
		g.Eventually(func(g Gomega) {
			err := admin.Get(ctx, client.ObjectKey{Name: id}, &tenantryv1alpha1.TenantInstance{})
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "TenantInstance %s still exists (%v)", id, err)
		}).Should(Succeed())
		if sn == "" {
			expectReleased(g, id)
			return
		}
		// Once the instance is gone no operator holds its records any more: a record in the
		// ledger now was pushed before the finalizer let the instance go.
		var final *simulator.UsageRecord
		for _, r := range ledgerOf(id) {
			if r.MeteringSN == sn {
				final = &r
			}
		}
		g.Expect(final).NotTo(BeNil(), "the last period (metering_sn %s) was never billed", sn)
		g.Expect(final.BeginTime).To(Equal(last.Start.UTC().Format(metering.TimeFormat)))
		g.Expect(final.EndTime).To(Equal(last.End.UTC().Format(metering.TimeFormat)))
		g.Expect(decimal(g, final.UsageValue)).To(Equal(decimal(g, last.Value)))
		expectReleased(g, id)
	})
})

// ledgerOf is the simulated marketplace's records of instance id, in the order it took them.
func ledgerOf(id string) []simulator.UsageRecord {
	var out []simulator.UsageRecord
	for _, r := range orders.Usage().Records {
		if r.InstanceID == id {
			out = append(out, r)
		}
	}
	return out
}

// decimal parses a usage value, a JSON number or string, for comparing values written with
// different numbers of decimals.
func decimal(g Gomega, s string) string {
	v, ok := new(big.Rat).SetString(strings.Trim(s, `"`))
	g.Expect(ok).To(BeTrue(), "%q is not a decimal", s)
	return v.RatString()
}
