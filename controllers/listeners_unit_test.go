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

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func testPool() *tenantryv1alpha1.LoadBalancerPool {
	return &tenantryv1alpha1.LoadBalancerPool{
		ObjectMeta: metav1.ObjectMeta{Name: "pool"},
		Spec: tenantryv1alpha1.LoadBalancerPoolSpec{Listeners: []tenantryv1alpha1.Listener{
			{ELBID: "elb-a", Port: 443},
			{ELBID: "elb-b", Port: 443},
			{ELBID: "elb-c", Port: 80, Protocol: tenantryv1alpha1.ProtocolHTTP},
		}},
	}
}

func slot(l, kind string) *tenantryv1alpha1.ListenerSlot {
	return &tenantryv1alpha1.ListenerSlot{ObjectMeta: metav1.ObjectMeta{Name: l + "/" + kind}}
}

func TestChooseListener(t *testing.T) {
	current := func(elb string, port int32) *tenantryv1alpha1.ListenerAssignment {
		return &tenantryv1alpha1.ListenerAssignment{Pool: "pool", ELBID: elb, Port: port}
	}
	for _, tc := range []struct {
		name     string
		held     slotsHeld
		current  *tenantryv1alpha1.ListenerAssignment
		needCert bool
		want     string // listener key, "" when none
	}{
		{name: "nothing held", held: slotsHeld{}, want: ""},
		{name: "one held", held: slotsHeld{"elb-b-443": {tenant: slot("b", "t")}}, want: "elb-b-443"},
		{name: "status wins over order", held: slotsHeld{"elb-a-443": {tenant: slot("a", "t")}, "elb-b-443": {tenant: slot("b", "t")}},
			current: current("elb-b", 443), want: "elb-b-443"},
		{name: "pool order when status names none held", held: slotsHeld{"elb-a-443": {tenant: slot("a", "t")}, "elb-b-443": {tenant: slot("b", "t")}},
			current: current("elb-z", 443), want: "elb-a-443"},
		{name: "status of another pool ignored", held: slotsHeld{"elb-a-443": {tenant: slot("a", "t")}, "elb-b-443": {tenant: slot("b", "t")}},
			current: &tenantryv1alpha1.ListenerAssignment{Pool: "other", ELBID: "elb-b", Port: 443}, want: "elb-a-443"},
		{name: "removed listener is not chosen", held: slotsHeld{"elb-gone-443": {tenant: slot("gone", "t")}},
			current: current("elb-gone", 443), want: ""},
		{name: "certificate missing on HTTPS", held: slotsHeld{"elb-a-443": {tenant: slot("a", "t")}}, needCert: true, want: ""},
		{name: "certificate held", held: slotsHeld{"elb-a-443": {tenant: slot("a", "t"), cert: slot("a", "c")}}, needCert: true, want: "elb-a-443"},
		{name: "HTTP listener needs no certificate", held: slotsHeld{"elb-c-80": {tenant: slot("c", "t")}}, needCert: true, want: "elb-c-80"},
		{name: "certificate alone is not a place", held: slotsHeld{"elb-a-443": {cert: slot("a", "c")}}, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, ok := chooseListener(testPool(), tc.held, tc.current, tc.needCert)
			got := ""
			if ok {
				got = l.Key()
			}
			if got != tc.want {
				t.Errorf("chooseListener = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFreeSlots(t *testing.T) {
	for _, tc := range []struct {
		capacity int32
		used     map[int32]bool
		want     []int32
	}{
		{3, nil, []int32{0, 1, 2}},
		{3, map[int32]bool{1: true}, []int32{0, 2}},
		{2, map[int32]bool{0: true, 1: true}, nil},
		{2, map[int32]bool{5: true}, []int32{0, 1}}, // a slot above a lowered capacity takes no room below it
	} {
		if diff := cmp.Diff(tc.want, freeSlots(tc.capacity, tc.used)); diff != "" {
			t.Errorf("freeSlots(%d, %v) (-want +got):\n%s", tc.capacity, tc.used, diff)
		}
	}
}

func TestListenerCapacities(t *testing.T) {
	for _, tc := range []struct {
		l            tenantryv1alpha1.Listener
		tenants, sni int32
	}{
		{tenantryv1alpha1.Listener{Class: tenantryv1alpha1.ELBDedicated}, 50, 30},
		{tenantryv1alpha1.Listener{}, 50, 30},
		{tenantryv1alpha1.Listener{Class: tenantryv1alpha1.ELBShared}, 100, 30},
		{tenantryv1alpha1.Listener{Class: tenantryv1alpha1.ELBShared, Protocol: tenantryv1alpha1.ProtocolHTTP}, 100, 0},
		{tenantryv1alpha1.Listener{Tenants: ptr.To[int32](200), Certificates: ptr.To[int32](80)}, 200, 80},
	} {
		if got := tc.l.TenantCapacity(); got != tc.tenants {
			t.Errorf("%+v: tenants %d, want %d", tc.l, got, tc.tenants)
		}
		if got := tc.l.CertificateCapacity(); got != tc.sni {
			t.Errorf("%+v: certificates %d, want %d", tc.l, got, tc.sni)
		}
	}
}

func TestPoolUsage(t *testing.T) {
	pool := testPool()
	pool.Spec.Listeners[0].Tenants = ptr.To[int32](2)
	s := func(elb string, port int32, kind tenantryv1alpha1.ListenerSlotKind, mutate ...func(*tenantryv1alpha1.ListenerSlot)) tenantryv1alpha1.ListenerSlot {
		sl := tenantryv1alpha1.ListenerSlot{Spec: tenantryv1alpha1.ListenerSlotSpec{Pool: "pool", ELBID: elb, Port: port, Kind: kind}}
		for _, m := range mutate {
			m(&sl)
		}
		return sl
	}
	deleting := func(sl *tenantryv1alpha1.ListenerSlot) { sl.DeletionTimestamp = ptr.To(metav1.Now()) }
	otherPool := func(sl *tenantryv1alpha1.ListenerSlot) { sl.Spec.Pool = "other" }
	got := poolUsage(pool, []tenantryv1alpha1.ListenerSlot{
		s("elb-a", 443, tenantryv1alpha1.SlotTenant), s("elb-a", 443, tenantryv1alpha1.SlotTenant), s("elb-a", 443, tenantryv1alpha1.SlotCertificate),
		s("elb-b", 443, tenantryv1alpha1.SlotTenant, deleting),
		s("elb-b", 443, tenantryv1alpha1.SlotTenant, otherPool),
		s("elb-gone", 443, tenantryv1alpha1.SlotTenant),
		s("elb-c", 80, tenantryv1alpha1.SlotTenant),
	})
	want := tenantryv1alpha1.LoadBalancerPoolStatus{
		Listeners: []tenantryv1alpha1.ListenerUsage{
			{ELBID: "elb-a", Port: 443, Tenants: 2, TenantCapacity: 2, Certificates: 1, CertificateCapacity: 30},
			{ELBID: "elb-b", Port: 443, TenantCapacity: 50, CertificateCapacity: 30},
			{ELBID: "elb-c", Port: 80, Tenants: 1, TenantCapacity: 50},
		},
		Tenants:        3,
		TenantCapacity: 102,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("poolUsage (-want +got):\n%s", diff)
	}
}
