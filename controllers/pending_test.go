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

package controllers

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func TestPendingChangeWait(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	pending := func(d time.Duration) *v1.PendingChange {
		return &v1.PendingChange{SKU: "L", Quantity: 2, OrderID: "CS-RENEW", EffectiveAt: metav1.NewTime(now.Add(d))}
	}
	type out struct {
		Due  bool
		Wait time.Duration
	}
	for _, tc := range []struct {
		name    string
		pending *v1.PendingChange
		want    out
	}{
		{"none", nil, out{false, 0}},
		{"in the future", pending(time.Hour), out{false, time.Hour + time.Second}},
		{"a nanosecond ahead", pending(time.Nanosecond), out{false, time.Second + time.Nanosecond}},
		{"exactly now", pending(0), out{true, 0}},
		{"passed", pending(-24 * time.Hour), out{true, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			due, wait := pendingChangeWait(&v1.TenantInstanceSpec{SKU: "S", PendingChange: tc.pending}, now)
			if diff := cmp.Diff(tc.want, out{due, wait}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestTakePendingChange(t *testing.T) {
	at := metav1.NewTime(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	current := func(pc *v1.PendingChange) v1.TenantInstanceSpec {
		return v1.TenantInstanceSpec{SKU: "S", ProductID: "P1", Quantity: 3, PendingChange: pc, Lifecycle: v1.LifecycleActive,
			Order: v1.Order{OrderID: "CS1", OrderLineID: "CS1-1"}}
	}
	for _, tc := range []struct {
		name    string
		pending *v1.PendingChange
		want    v1.TenantInstanceSpec
	}{
		{"none changes nothing", nil, current(nil)},
		{"SKU and quantity", &v1.PendingChange{SKU: "L", Quantity: 10, OrderID: "CS2", EffectiveAt: at},
			v1.TenantInstanceSpec{SKU: "L", ProductID: "P1", Quantity: 10, Lifecycle: v1.LifecycleActive, Order: v1.Order{OrderID: "CS1", OrderLineID: "CS1-1"}}},
		{"a new product", &v1.PendingChange{SKU: "S", Quantity: 3, ProductID: "P2", OrderID: "CS2", EffectiveAt: at},
			v1.TenantInstanceSpec{SKU: "S", ProductID: "P2", Quantity: 3, Lifecycle: v1.LifecycleActive, Order: v1.Order{OrderID: "CS1", OrderLineID: "CS1-1"}}},
		{"a quantity left unset is one", &v1.PendingChange{SKU: "L", OrderID: "CS2", EffectiveAt: at},
			v1.TenantInstanceSpec{SKU: "L", ProductID: "P1", Quantity: 1, Lifecycle: v1.LifecycleActive, Order: v1.Order{OrderID: "CS1", OrderLineID: "CS1-1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := current(tc.pending)
			takePendingChange(&got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEarliestRequeue(t *testing.T) {
	for _, tc := range []struct{ a, b, want time.Duration }{
		{0, 0, 0},
		{time.Hour, 0, time.Hour},
		{0, time.Minute, time.Minute},
		{time.Hour, time.Minute, time.Minute},
		{time.Minute, time.Hour, time.Minute},
	} {
		if got := earliestRequeue(tc.a, tc.b); got != tc.want {
			t.Errorf("earliestRequeue(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
