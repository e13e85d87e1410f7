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
	"cmp"
	"slices"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// FleetStatus is what `kubectl tenantry status` reports: the fleet at a glance.
type FleetStatus struct {
	// Instances is how many TenantInstances exist.
	Instances int `json:"instances"`
	// ByState counts instances by status.state; an instance the operator has not yet seen
	// counts as "Unknown".
	ByState map[string]int `json:"byState"`
	// ByLifecycle counts instances by spec.lifecycle.
	ByLifecycle map[string]int `json:"byLifecycle"`
	// SKUs counts instances per SKU and state, with the plan serving the SKU.
	SKUs []SKUStatus `json:"skus"`
	// ExpiringWithin is the horizon of Expiring.
	ExpiringWithin string `json:"expiringWithin"`
	// Expiring are the instances whose paid period ends within ExpiringWithin (or has ended),
	// soonest first.
	Expiring []ExpiringInstance `json:"expiring"`
	// Stalled are the instances the operator cannot progress, with why.
	Stalled []StalledInstance `json:"stalled"`
	// Releasing are the released instances still held, with until when.
	Releasing []ReleasingInstance `json:"releasing"`
	// Listeners are the ELB listeners of every LoadBalancerPool, with their room left.
	Listeners []ListenerHeadroom `json:"listeners"`
}

// ListenerHeadroom is what one ELB listener holds and has room for, as the operator counted it
// in its pool's status.
type ListenerHeadroom struct {
	Pool                string `json:"pool"`
	Listener            string `json:"listener"`
	Tenants             int32  `json:"tenants"`
	TenantCapacity      int32  `json:"tenantCapacity"`
	Certificates        int32  `json:"certificates"`
	CertificateCapacity int32  `json:"certificateCapacity"`
	// Headroom is how many more tenants the listener takes.
	Headroom int32 `json:"headroom"`
}

// SKUStatus counts the instances of one SKU.
type SKUStatus struct {
	SKU string `json:"sku"`
	// Plans are the TenantPlans listing the SKU: one normally, none or several is a fault.
	Plans   []string       `json:"plans"`
	Total   int            `json:"total"`
	ByState map[string]int `json:"byState"`
}

// ExpiringInstance is an instance whose paid period ends soon.
type ExpiringInstance struct {
	Name      string    `json:"name"`
	SKU       string    `json:"sku"`
	Lifecycle string    `json:"lifecycle"`
	ExpiresAt time.Time `json:"expiresAt"`
	// In is the time left, negative once expired.
	In string `json:"in"`
}

// StalledInstance is an instance the operator cannot progress.
type StalledInstance struct {
	Name    string    `json:"name"`
	SKU     string    `json:"sku"`
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Since   time.Time `json:"since"`
}

// ReleasingInstance is a released instance whose tenant is still kept.
type ReleasingInstance struct {
	Name        string     `json:"name"`
	RetainUntil *time.Time `json:"retainUntil,omitempty"`
	Reason      string     `json:"reason,omitempty"`
}

// stateUnknown is the state of an instance the operator has not reported on yet.
const stateUnknown = "Unknown"

// Summarize computes the fleet status from the instances and plans at now.
func Summarize(instances []tenantryv1alpha1.TenantInstance, plans []tenantryv1alpha1.TenantPlan, pools []tenantryv1alpha1.LoadBalancerPool,
	now time.Time, expiringWithin time.Duration) FleetStatus {
	st := FleetStatus{
		Instances:      len(instances),
		ByState:        map[string]int{},
		ByLifecycle:    map[string]int{},
		ExpiringWithin: expiringWithin.String(),
		Expiring:       []ExpiringInstance{},
		Stalled:        []StalledInstance{},
		Releasing:      []ReleasingInstance{},
		Listeners:      []ListenerHeadroom{},
	}
	for _, pool := range pools {
		for _, u := range pool.Status.Listeners {
			st.Listeners = append(st.Listeners, ListenerHeadroom{
				Pool: pool.Name, Listener: tenantryv1alpha1.Listener{ELBID: u.ELBID, Port: u.Port}.Key(),
				Tenants: u.Tenants, TenantCapacity: u.TenantCapacity,
				Certificates: u.Certificates, CertificateCapacity: u.CertificateCapacity,
				Headroom: u.TenantCapacity - u.Tenants,
			})
		}
	}
	plansBySKU := map[string][]string{}
	for _, p := range plans {
		for _, sku := range p.Spec.SKUs {
			plansBySKU[sku] = append(plansBySKU[sku], p.Name)
		}
	}
	skus := map[string]*SKUStatus{}
	for sku, names := range plansBySKU {
		slices.Sort(names)
		skus[sku] = &SKUStatus{SKU: sku, Plans: names, ByState: map[string]int{}}
	}
	for i := range instances {
		ti := &instances[i]
		state := string(ti.Status.State)
		if state == "" {
			state = stateUnknown
		}
		lifecycle := string(ti.Spec.Lifecycle)
		if lifecycle == "" {
			lifecycle = string(tenantryv1alpha1.LifecycleActive)
		}
		st.ByState[state]++
		st.ByLifecycle[lifecycle]++
		s := skus[ti.Spec.SKU]
		if s == nil {
			s = &SKUStatus{SKU: ti.Spec.SKU, Plans: []string{}, ByState: map[string]int{}}
			skus[ti.Spec.SKU] = s
		}
		s.Total++
		s.ByState[state]++

		if ti.DeletionTimestamp != nil {
			r := ReleasingInstance{Name: ti.Name}
			if ti.Status.RetainUntil != nil {
				t := ti.Status.RetainUntil.UTC()
				r.RetainUntil = &t
			}
			if c := meta.FindStatusCondition(ti.Status.Conditions, tenantryv1alpha1.ConditionReady); c != nil {
				r.Reason = c.Reason
			}
			st.Releasing = append(st.Releasing, r)
		} else if ti.Spec.ExpiresAt != nil && ti.Spec.ExpiresAt.Sub(now) <= expiringWithin {
			left := ti.Spec.ExpiresAt.Sub(now)
			st.Expiring = append(st.Expiring, ExpiringInstance{
				Name: ti.Name, SKU: ti.Spec.SKU, Lifecycle: lifecycle,
				ExpiresAt: ti.Spec.ExpiresAt.UTC(), In: HumanDuration(left),
			})
		}
		if c := meta.FindStatusCondition(ti.Status.Conditions, tenantryv1alpha1.ConditionStalled); c != nil && c.Status == "True" {
			st.Stalled = append(st.Stalled, StalledInstance{
				Name: ti.Name, SKU: ti.Spec.SKU, Reason: c.Reason, Message: c.Message, Since: c.LastTransitionTime.UTC(),
			})
		}
	}
	for _, s := range skus {
		st.SKUs = append(st.SKUs, *s)
	}
	slices.SortFunc(st.SKUs, func(a, b SKUStatus) int { return cmp.Compare(a.SKU, b.SKU) })
	slices.SortFunc(st.Expiring, func(a, b ExpiringInstance) int {
		return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), cmp.Compare(a.Name, b.Name))
	})
	slices.SortFunc(st.Stalled, func(a, b StalledInstance) int {
		return cmp.Or(cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.Name, b.Name))
	})
	slices.SortFunc(st.Releasing, func(a, b ReleasingInstance) int { return cmp.Compare(a.Name, b.Name) })
	return st
}

// HumanDuration words a duration the way kubectl's AGE column does: its two largest units.
func HumanDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	d = d.Truncate(time.Second)
	days := d / (24 * time.Hour)
	hours := (d % (24 * time.Hour)) / time.Hour
	minutes := (d % time.Hour) / time.Minute
	seconds := (d % time.Minute) / time.Second
	var s string
	switch {
	case days > 0 && hours > 0:
		s = itoa(int64(days)) + "d" + itoa(int64(hours)) + "h"
	case days > 0:
		s = itoa(int64(days)) + "d"
	case hours > 0 && minutes > 0:
		s = itoa(int64(hours)) + "h" + itoa(int64(minutes)) + "m"
	case hours > 0:
		s = itoa(int64(hours)) + "h"
	case minutes > 0 && seconds > 0:
		s = itoa(int64(minutes)) + "m" + itoa(int64(seconds)) + "s"
	case minutes > 0:
		s = itoa(int64(minutes)) + "m"
	default:
		s = itoa(int64(seconds)) + "s"
	}
	return sign + s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
