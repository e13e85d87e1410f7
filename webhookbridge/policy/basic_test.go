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
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// t0 is the purchase's send time in every table; offsets are relative to it.
var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func at(d time.Duration) time.Time { return t0.Add(d) }

func mt(d time.Duration) *metav1.MicroTime { return MicroTime(at(d)) }

func tt(d time.Duration) *metav1.Time {
	t := metav1.NewTime(at(d))
	return &t
}

// purchased is a paid, active instance bought at t0 and expiring 30 days later.
func purchased(mutate ...func(*tenantryv1alpha1.TenantInstanceSpec)) *tenantryv1alpha1.TenantInstanceSpec {
	s := &tenantryv1alpha1.TenantInstanceSpec{
		SKU: "small", ProductID: "p-1", Quantity: 1, Lifecycle: tenantryv1alpha1.LifecycleActive,
		ExpiresAt: tt(30 * day),
		Order:     tenantryv1alpha1.Order{OrderID: "BUY", OrderLineID: "BUY-1", ChargingMode: tenantryv1alpha1.ChargingPeriod},
		Marketplace: &tenantryv1alpha1.MarketplaceRecord{
			LifecycleSetAt: mt(0), ExpirySetAt: mt(0), SKUSetAt: mt(0), QuantitySetAt: mt(0),
		},
	}
	for _, m := range mutate {
		m(s)
	}
	return s
}

// with returns a copy of spec changed by mutate: the expected spec of an applied call.
func with(spec *tenantryv1alpha1.TenantInstanceSpec, mutate ...func(*tenantryv1alpha1.TenantInstanceSpec)) *tenantryv1alpha1.TenantInstanceSpec {
	out := spec.DeepCopy()
	for _, m := range mutate {
		m(out)
	}
	return out
}

func order(id string, scene tenantryv1alpha1.OrderScene, sent time.Duration) tenantryv1alpha1.AppliedOrder {
	return tenantryv1alpha1.AppliedOrder{OrderID: id, Scene: scene, AppliedAt: mt(sent)}
}

func TestRecordAppliedKeepsTheLast32(t *testing.T) {
	m := &tenantryv1alpha1.MarketplaceRecord{}
	for i := range 40 {
		recordApplied(m, fmt.Sprintf("R%02d", i), tenantryv1alpha1.SceneRenewal, at(time.Duration(i)*time.Minute))
	}
	recordApplied(m, "R39", tenantryv1alpha1.SceneRenewal, at(time.Hour)) // already there: unchanged
	recordApplied(m, "R39", tenantryv1alpha1.SceneRefund, at(time.Hour))  // another pair
	var got []string
	for _, a := range m.AppliedOrders {
		got = append(got, a.OrderID+"/"+string(a.Scene))
	}
	var want []string
	for i := 9; i < 40; i++ {
		want = append(want, fmt.Sprintf("R%02d/RENEWAL", i))
	}
	want = append(want, "R39/UNSUBSCRIBE_RENEWAL_PERIOD")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("applied orders (-want +got):\n%s", diff)
	}
	if !Applied(m, "R20", tenantryv1alpha1.SceneRenewal) || Applied(m, "R05", tenantryv1alpha1.SceneRenewal) ||
		Applied(m, "R20", tenantryv1alpha1.SceneRefund) || Applied(nil, "R20", tenantryv1alpha1.SceneRenewal) {
		t.Errorf("Applied answers wrongly for %v", got)
	}
}

func TestSentBefore(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sent  time.Time
		setAt *metav1.MicroTime
		want  bool
	}{
		{"nothing recorded", at(0), nil, false},
		{"earlier", at(-time.Millisecond), mt(0), true},
		{"same instant is the same call", at(0), mt(0), false},
		{"later", at(time.Millisecond), mt(0), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SentBefore(tc.sent, tc.setAt); got != tc.want {
				t.Errorf("SentBefore = %v, want %v", got, tc.want)
			}
		})
	}
}
