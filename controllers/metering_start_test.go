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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// An instance is billed from its creation when its accounting starts within a day of it (the
// operator was down when it was bought); one that existed long before metering began is billed
// from then on only.
func TestAccountingStart(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m := &Metering{}
	for _, tc := range []struct {
		name    string
		created time.Time
		started bool
		want    time.Time
	}{
		{"new", now.Add(-time.Minute), false, now.Add(-time.Minute)},
		{"bought during a 5-hour outage", now.Add(-5 * time.Hour), false, now.Add(-5 * time.Hour)},
		{"older than metering", now.Add(-40 * 24 * time.Hour), false, now},
		{"started long ago", now.Add(-40 * 24 * time.Hour), true, now.Add(-40 * 24 * time.Hour)},
	} {
		ti := &tenantryv1alpha1.TenantInstance{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(tc.created)}}
		st := &tenantryv1alpha1.MeteringStatus{}
		if tc.started {
			st.PeriodStart = &metav1.Time{Time: tc.created}
		}
		got, late := m.accountingStart(ti, st, now)
		if !got.Equal(tc.want) {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
		if wantLate := !tc.want.Equal(tc.created); late != wantLate {
			t.Errorf("%s: late %v, want %v", tc.name, late, wantLate)
		}
	}
}
