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

package plugin

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func instance(name, sku string, state tenantryv1alpha1.InstanceState, mutate ...func(*tenantryv1alpha1.TenantInstance)) tenantryv1alpha1.TenantInstance {
	ti := tenantryv1alpha1.TenantInstance{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       tenantryv1alpha1.TenantInstanceSpec{SKU: sku, Lifecycle: tenantryv1alpha1.LifecycleActive},
		Status:     tenantryv1alpha1.TenantInstanceStatus{State: state},
	}
	for _, m := range mutate {
		m(&ti)
	}
	return ti
}

func expiresIn(d time.Duration) func(*tenantryv1alpha1.TenantInstance) {
	return func(ti *tenantryv1alpha1.TenantInstance) { ti.Spec.ExpiresAt = &metav1.Time{Time: now.Add(d)} }
}

func stalled(reason, msg string) func(*tenantryv1alpha1.TenantInstance) {
	return func(ti *tenantryv1alpha1.TenantInstance) {
		ti.Status.Conditions = append(ti.Status.Conditions, metav1.Condition{
			Type: tenantryv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: reason, Message: msg,
			LastTransitionTime: metav1.Time{Time: now.Add(-time.Hour)},
		})
	}
}

func plan(name string, skus ...string) tenantryv1alpha1.TenantPlan {
	return tenantryv1alpha1.TenantPlan{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: tenantryv1alpha1.TenantPlanSpec{SKUs: skus}}
}

func TestSummarize(t *testing.T) {
	frozen := func(ti *tenantryv1alpha1.TenantInstance) { ti.Spec.Lifecycle = tenantryv1alpha1.LifecycleFrozen }
	releasing := func(ti *tenantryv1alpha1.TenantInstance) {
		ti.DeletionTimestamp = &metav1.Time{Time: now}
		ti.Status.RetainUntil = &metav1.Time{Time: now.Add(time.Hour)}
	}
	instances := []tenantryv1alpha1.TenantInstance{
		instance("a", "small", tenantryv1alpha1.StateRunning, expiresIn(3*24*time.Hour)),
		instance("b", "small", tenantryv1alpha1.StateFrozen, frozen, expiresIn(-2*time.Hour)),
		instance("c", "large", tenantryv1alpha1.StateStalled, stalled(tenantryv1alpha1.ReasonPlanAmbiguous, "two plans")),
		instance("d", "large", tenantryv1alpha1.StateRunning, expiresIn(30*24*time.Hour)),
		instance("e", "orphan", ""),
		instance("f", "small", tenantryv1alpha1.StateReleasing, releasing, expiresIn(time.Hour)),
	}
	plans := []tenantryv1alpha1.TenantPlan{plan("basic", "small"), plan("pro", "large"), plan("pro2", "large"), plan("unused", "idle")}
	retain := now.Add(time.Hour)
	want := FleetStatus{
		Instances:      6,
		ByState:        map[string]int{"Running": 2, "Frozen": 1, "Stalled": 1, "Unknown": 1, "Releasing": 1},
		ByLifecycle:    map[string]int{"Active": 5, "Frozen": 1},
		ExpiringWithin: "168h0m0s",
		SKUs: []SKUStatus{
			{SKU: "idle", Plans: []string{"unused"}, ByState: map[string]int{}},
			{SKU: "large", Plans: []string{"pro", "pro2"}, Total: 2, ByState: map[string]int{"Running": 1, "Stalled": 1}},
			{SKU: "orphan", Plans: []string{}, Total: 1, ByState: map[string]int{"Unknown": 1}},
			{SKU: "small", Plans: []string{"basic"}, Total: 3, ByState: map[string]int{"Running": 1, "Frozen": 1, "Releasing": 1}},
		},
		Expiring: []ExpiringInstance{
			{Name: "b", SKU: "small", Lifecycle: "Frozen", ExpiresAt: now.Add(-2 * time.Hour), In: "-2h"},
			{Name: "a", SKU: "small", Lifecycle: "Active", ExpiresAt: now.Add(72 * time.Hour), In: "3d"},
		},
		Stalled:   []StalledInstance{{Name: "c", SKU: "large", Reason: "PlanAmbiguous", Message: "two plans", Since: now.Add(-time.Hour)}},
		Releasing: []ReleasingInstance{{Name: "f", RetainUntil: &retain}},
		Listeners: []ListenerHeadroom{{Pool: "elb", Listener: "elb-1-443", Tenants: 48, TenantCapacity: 50, Certificates: 3, CertificateCapacity: 30, Headroom: 2}},
	}
	pools := []tenantryv1alpha1.LoadBalancerPool{{ObjectMeta: metav1.ObjectMeta{Name: "elb"}, Status: tenantryv1alpha1.LoadBalancerPoolStatus{
		Listeners: []tenantryv1alpha1.ListenerUsage{{ELBID: "elb-1", Port: 443, Tenants: 48, TenantCapacity: 50, Certificates: 3, CertificateCapacity: 30}},
	}}}
	got := Summarize(instances, plans, pools, now, 7*24*time.Hour)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Summarize (-want +got):\n%s", diff)
	}
}

func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{59 * time.Second, "59s"},
		{90 * time.Second, "1m30s"},
		{time.Hour, "1h"},
		{time.Hour + 5*time.Minute + 9*time.Second, "1h5m"},
		{49 * time.Hour, "2d1h"},
		{30 * 24 * time.Hour, "30d"},
		{-26 * time.Hour, "-1d2h"},
	} {
		if got := HumanDuration(tc.d); got != tc.want {
			t.Errorf("HumanDuration(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestParseDays(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"7d", 7 * 24 * time.Hour, false},
		{"0d", 0, false},
		{"36h", 36 * time.Hour, false},
		{"1h30m", 90 * time.Minute, false},
		{"d", 0, true},
		{"-1d", 0, true},
		{"-3h", 0, true},
		{"seven", 0, true},
	} {
		got, err := ParseDays(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseDays(%q) = %s, %v; want %s, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
