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

package policy

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

func TestUsageInfo(t *testing.T) {
	start := metav1.NewTime(time.Date(2026, 1, 1, 8, 30, 0, 0, time.UTC))
	through := metav1.NewTime(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	inst := func(mode tenantryv1alpha1.ChargingMode, st *tenantryv1alpha1.MeteringStatus) *tenantryv1alpha1.TenantInstance {
		ti := &tenantryv1alpha1.TenantInstance{ObjectMeta: metav1.ObjectMeta{Name: "i-1"}}
		ti.Spec.Order.ChargingMode = mode
		ti.Status.Metering = st
		return ti
	}
	for _, tc := range []struct {
		name string
		ti   *tenantryv1alpha1.TenantInstance
		want []protocol.UsageInfo
	}{
		{"period order", inst(tenantryv1alpha1.ChargingPeriod, &tenantryv1alpha1.MeteringStatus{Cumulative: "3"}), nil},
		{"pay-per-use, not metered", inst(tenantryv1alpha1.ChargingOnDemand, nil), nil},
		{"metered, nothing reported yet", inst(tenantryv1alpha1.ChargingOnDemand, &tenantryv1alpha1.MeteringStatus{PeriodStart: &start}),
			[]protocol.UsageInfo{{RelatedInstanceID: "i-1", UsageValue: "0", StatisticalTime: "20260101T083000Z"}}},
		{"package, reported", inst(tenantryv1alpha1.ChargingOnDemandPkg, &tenantryv1alpha1.MeteringStatus{PeriodStart: &through, ReportedThrough: &through, Cumulative: "3.5"}),
			[]protocol.UsageInfo{{RelatedInstanceID: "i-1", UsageValue: "3.5", StatisticalTime: "20260101T120000Z"}}},
		{"metered, never started", inst(tenantryv1alpha1.ChargingOnDemand, &tenantryv1alpha1.MeteringStatus{}), nil},
	} {
		if diff := cmp.Diff(tc.want, UsageInfo(tc.ti)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
