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
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

var kitT0 = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

func kitAt(s int) time.Time { return kitT0.Add(time.Duration(s) * time.Second) }

func tenantSpec(tenant *tenantryv1alpha1.Tenant, setAt int) *tenantryv1alpha1.TenantInstanceSpec {
	spec := &tenantryv1alpha1.TenantInstanceSpec{SKU: "s", Tenant: tenant}
	if setAt >= 0 {
		spec.Marketplace = &tenantryv1alpha1.MarketplaceRecord{TenantSetAt: MicroTime(kitAt(setAt))}
	}
	return spec
}

var app1 = tenantryv1alpha1.TenantApplication{AppID: "app-1", ClientID: "c1", EncryptedClientSecret: "x1"}

func TestDecideTenant(t *testing.T) {
	tests := []struct {
		name        string
		spec        *tenantryv1alpha1.TenantInstanceSpec
		apps        AppRecords
		change      TenantChange
		wantIgnored string
		wantTenant  *tenantryv1alpha1.Tenant
		wantApps    AppRecords
		wantUnbound string
	}{
		{
			name:       "first binding",
			spec:       tenantSpec(nil, -1),
			change:     TenantChange{TenantID: "t1", TenantCode: "c", Name: "N", DomainName: "d", At: kitAt(1)},
			wantTenant: &tenantryv1alpha1.Tenant{TenantID: "t1", TenantCode: "c", Name: "N", DomainName: "d"},
			wantApps:   AppRecords{},
		},
		{
			name:        "older than the last tenantSync: ignored",
			spec:        tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t1"}, 5),
			change:      TenantChange{TenantID: "t1", Name: "Old", At: kitAt(4)},
			wantIgnored: ReasonOutOfOrder,
		},
		{
			name:       "after an applicationSync that bound the tenant by id: fields filled in, applications kept",
			spec:       tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t1", Applications: []tenantryv1alpha1.TenantApplication{app1}}, -1),
			apps:       AppRecords{"app-1": {At: kitAt(9)}},
			change:     TenantChange{TenantID: "t1", TenantCode: "c", Name: "N", DomainName: "d", At: kitAt(1)},
			wantTenant: &tenantryv1alpha1.Tenant{TenantID: "t1", TenantCode: "c", Name: "N", DomainName: "d", Applications: []tenantryv1alpha1.TenantApplication{app1}},
			wantApps:   AppRecords{"app-1": {At: kitAt(9)}},
		},
		{
			name:        "another tenant replaces the bound one and its applications",
			spec:        tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t1", Applications: []tenantryv1alpha1.TenantApplication{app1}}, 1),
			apps:        AppRecords{"app-1": {At: kitAt(1)}},
			change:      TenantChange{TenantID: "t2", Name: "Two", At: kitAt(2)},
			wantTenant:  &tenantryv1alpha1.Tenant{TenantID: "t2", Name: "Two"},
			wantApps:    AppRecords{},
			wantUnbound: "t1",
		},
		{
			name:        "removing the bound tenant unbinds it",
			spec:        tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t1", Applications: []tenantryv1alpha1.TenantApplication{app1}}, 1),
			apps:        AppRecords{"app-1": {At: kitAt(1)}},
			change:      TenantChange{TenantID: "t1", Remove: true, At: kitAt(2)},
			wantApps:    AppRecords{},
			wantUnbound: "t1",
		},
		{
			name:     "removing with nothing bound records the removal",
			spec:     tenantSpec(nil, -1),
			change:   TenantChange{TenantID: "t1", Remove: true, At: kitAt(2)},
			wantApps: AppRecords{},
		},
		{
			name:        "removing another tenant changes nothing",
			spec:        tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t1"}, 1),
			change:      TenantChange{TenantID: "t2", Remove: true, At: kitAt(2)},
			wantIgnored: ReasonOtherTenant,
		},
		{
			name:        "a late add sent before the removal is not resurrected",
			spec:        tenantSpec(nil, 5),
			change:      TenantChange{TenantID: "t1", At: kitAt(3)},
			wantIgnored: ReasonOutOfOrder,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.spec.DeepCopy()
			d := DecideTenant(tt.spec, tt.apps, tt.change)
			if diff := cmp.Diff(before, tt.spec); diff != "" {
				t.Fatalf("DecideTenant changed its input (-before +after):\n%s", diff)
			}
			if d.Ignored != tt.wantIgnored {
				t.Fatalf("Ignored = %q, want %q", d.Ignored, tt.wantIgnored)
			}
			if tt.wantIgnored != "" {
				return
			}
			if diff := cmp.Diff(tt.wantTenant, d.Spec.Tenant); diff != "" {
				t.Errorf("tenant (-want +got):\n%s", diff)
			}
			if got := d.Spec.Marketplace.TenantSetAt.Time; !got.Equal(tt.change.At) {
				t.Errorf("tenantSetAt = %v, want %v", got, tt.change.At)
			}
			if diff := cmp.Diff(tt.wantApps, d.Apps); diff != "" {
				t.Errorf("apps (-want +got):\n%s", diff)
			}
			if d.Unbound != tt.wantUnbound {
				t.Errorf("Unbound = %q, want %q", d.Unbound, tt.wantUnbound)
			}
		})
	}
}

func TestDecideApp(t *testing.T) {
	now := kitAt(100)
	add := func(at int) AppChange {
		return AppChange{TenantID: "t1", AppID: "app-1", ClientID: "c1", EncryptedClientSecret: "x1", At: kitAt(at)}
	}
	remove := func(at int) AppChange { return AppChange{TenantID: "t1", AppID: "app-1", Remove: true, At: kitAt(at)} }
	many := make([]tenantryv1alpha1.TenantApplication, MaxApplications)
	for i := range many {
		many[i] = tenantryv1alpha1.TenantApplication{AppID: string(rune('a'+i)) + "-app", ClientID: "c", EncryptedClientSecret: "x"}
	}
	tests := []struct {
		name        string
		spec        *tenantryv1alpha1.TenantInstanceSpec
		apps        AppRecords
		change      AppChange
		wantIgnored string
		wantReason  string // refusal reason
		wantApps    []tenantryv1alpha1.TenantApplication
		wantRecords AppRecords
		wantTenant  string
	}{
		{
			name:        "before tenantSync: binds the tenant by id",
			spec:        tenantSpec(nil, -1),
			change:      add(1),
			wantApps:    []tenantryv1alpha1.TenantApplication{app1},
			wantRecords: AppRecords{"app-1": {At: kitAt(1)}},
			wantTenant:  "t1",
		},
		{
			name:        "not ordered by the tenant's time: an app sent before the last tenantSync applies",
			spec:        tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t1", Name: "N"}, 10),
			change:      add(5),
			wantApps:    []tenantryv1alpha1.TenantApplication{app1},
			wantRecords: AppRecords{"app-1": {At: kitAt(5)}},
			wantTenant:  "t1",
		},
		{
			name:        "older than the application's last change: ignored",
			spec:        tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t1", Applications: []tenantryv1alpha1.TenantApplication{app1}}, 1),
			apps:        AppRecords{"app-1": {At: kitAt(5)}},
			change:      remove(4),
			wantIgnored: ReasonOutOfOrder,
		},
		{
			name:        "a late add sent before the removal is not resurrected",
			spec:        tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t1"}, 1),
			apps:        AppRecords{"app-1": {At: kitAt(5), Removed: true}},
			change:      add(4),
			wantIgnored: ReasonOutOfOrder,
		},
		{
			name:        "removal of an absent application is remembered",
			spec:        tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t1"}, 1),
			change:      remove(3),
			wantRecords: AppRecords{"app-1": {At: kitAt(3), Removed: true}},
			wantTenant:  "t1",
		},
		{
			name:        "removal of the last application",
			spec:        tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t1", Applications: []tenantryv1alpha1.TenantApplication{app1}}, 1),
			apps:        AppRecords{"app-1": {At: kitAt(2)}},
			change:      remove(3),
			wantRecords: AppRecords{"app-1": {At: kitAt(3), Removed: true}},
			wantTenant:  "t1",
		},
		{
			name:        "removal records older than a day are forgotten",
			spec:        tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t1"}, 1),
			apps:        AppRecords{"old": {At: now.Add(-25 * time.Hour), Removed: true}},
			change:      add(3),
			wantApps:    []tenantryv1alpha1.TenantApplication{app1},
			wantRecords: AppRecords{"app-1": {At: kitAt(3)}},
			wantTenant:  "t1",
		},
		{
			name:       "another tenant is bound: refused",
			spec:       tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t2"}, 1),
			change:     add(3),
			wantReason: ReasonTenantMismatch,
		},
		{
			name:        "another tenant was bound after the change was sent: ignored",
			spec:        tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t2"}, 5),
			change:      add(3),
			wantIgnored: ReasonOutOfOrder,
		},
		{
			name:        "removal for another tenant: nothing to do",
			spec:        tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t2"}, 1),
			change:      remove(3),
			wantIgnored: ReasonOtherTenant,
		},
		{
			name:       "a seventeenth application: refused",
			spec:       tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t1", Applications: many}, 1),
			change:     add(3),
			wantReason: ReasonTooManyApps,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := DecideApp(tt.spec, tt.apps, tt.change, now)
			if tt.wantReason != "" {
				var r *Refusal
				if !errors.As(err, &r) || r.Reason != tt.wantReason {
					t.Fatalf("err = %v, want a refusal %q", err, tt.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecideApp: %v", err)
			}
			if d.Ignored != tt.wantIgnored {
				t.Fatalf("Ignored = %q, want %q", d.Ignored, tt.wantIgnored)
			}
			if tt.wantIgnored != "" {
				return
			}
			if d.Spec.Tenant == nil || d.Spec.Tenant.TenantID != tt.wantTenant {
				t.Fatalf("tenant = %+v, want %q", d.Spec.Tenant, tt.wantTenant)
			}
			if diff := cmp.Diff(tt.wantApps, d.Spec.Tenant.Applications); diff != "" {
				t.Errorf("applications (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRecords, d.Apps); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppRecordsRoundTrip(t *testing.T) {
	recs := AppRecords{"b": {At: kitAt(2), Removed: true}, "a": {At: kitAt(1)}}
	if diff := cmp.Diff(recs, ParseAppRecords(recs.Encode())); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got := (AppRecords{}).Encode(); got != "" {
		t.Errorf("empty records encode as %q", got)
	}
	if got := ParseAppRecords("{not json"); len(got) != 0 {
		t.Errorf("unreadable annotation parsed as %v", got)
	}
}

func TestTenantOf(t *testing.T) {
	tests := []struct {
		name        string
		spec        *tenantryv1alpha1.TenantInstanceSpec
		tenant      string
		at          int
		remove      bool
		wantIgnored string
		wantRefused bool
	}{
		{name: "bound tenant", spec: tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t1"}, 9), tenant: "t1", at: 1},
		{name: "nothing bound", spec: tenantSpec(nil, -1), tenant: "t1", at: 1},
		{name: "nothing bound, tenant removed later", spec: tenantSpec(nil, 5), tenant: "t1", at: 1, wantIgnored: ReasonOutOfOrder},
		{name: "nothing bound, tenant removed earlier", spec: tenantSpec(nil, 5), tenant: "t1", at: 6},
		{name: "other tenant, removal", spec: tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t2"}, 5), tenant: "t1", at: 6, remove: true, wantIgnored: ReasonOtherTenant},
		{name: "other tenant bound later", spec: tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t2"}, 5), tenant: "t1", at: 4, wantIgnored: ReasonOutOfOrder},
		{name: "other tenant bound earlier", spec: tenantSpec(&tenantryv1alpha1.Tenant{TenantID: "t2"}, 5), tenant: "t1", at: 6, wantRefused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ignored, err := TenantOf(tt.spec, tt.tenant, kitAt(tt.at), tt.remove)
			if (err != nil) != tt.wantRefused {
				t.Fatalf("err = %v, want refused %v", err, tt.wantRefused)
			}
			if ignored != tt.wantIgnored {
				t.Errorf("ignored = %q, want %q", ignored, tt.wantIgnored)
			}
		})
	}
}
