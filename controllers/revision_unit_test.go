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

	v1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// status.revision names the revision the Deployment as observed runs: it changes only once the
// cached Deployment carries the new one.
func TestSetRevision(t *testing.T) {
	for _, tc := range []struct {
		name            string
		prior, revision string
		observed        bool
		want            string
	}{
		{"observed: recorded", "plan-a", "plan-b", true, "plan-b"},
		{"not observed yet: the one before stays", "plan-a", "plan-b", false, "plan-a"},
		{"first revision, not observed", "", "plan-a", false, ""},
		{"no revision (rollouts off), observed", "plan-a", "", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := v1.TenantInstanceStatus{Revision: tc.prior}
			setRevision(&st, tc.revision, tc.observed)
			if st.Revision != tc.want {
				t.Fatalf("revision %q, want %q", st.Revision, tc.want)
			}
		})
	}
}

// A plan's new tenants start on its newest revision that has not halted.
func TestNewTenantRevision(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   v1.TenantPlanStatus
		want string
	}{
		{"nothing recorded", v1.TenantPlanStatus{}, ""},
		{"rolling", v1.TenantPlanStatus{UpdateRevision: "p-2", StableRevision: "p-1"}, "p-2"},
		{"halted", v1.TenantPlanStatus{UpdateRevision: "p-2", StableRevision: "p-1", HaltedRevision: "p-2"}, "p-1"},
		{"an older halt", v1.TenantPlanStatus{UpdateRevision: "p-3", StableRevision: "p-1", HaltedRevision: "p-2"}, "p-3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.st.NewTenantRevision(); got != tc.want {
				t.Fatalf("NewTenantRevision() = %q, want %q", got, tc.want)
			}
		})
	}
}
