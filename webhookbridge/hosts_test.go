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

package webhookbridge

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/hostclaim"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

func TestDecideHostClaim(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	claim := func(instance string, age time.Duration, owner string) *tenantryv1alpha1.TenantHost {
		c := &tenantryv1alpha1.TenantHost{
			ObjectMeta: metav1.ObjectMeta{Name: "shop.example.com", CreationTimestamp: metav1.NewTime(now.Add(-age))},
			Spec:       tenantryv1alpha1.TenantHostSpec{InstanceName: instance},
		}
		if owner != "" {
			c.OwnerReferences = []metav1.OwnerReference{{APIVersion: "tenantry.io/v1alpha1", Kind: "TenantInstance", Name: instance, UID: types.UID("uid-" + owner)}}
		}
		return c
	}
	instance := func(name, uid string, deleting bool) *tenantryv1alpha1.TenantInstance {
		ti := &tenantryv1alpha1.TenantInstance{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + uid)}}
		if deleting {
			ti.DeletionTimestamp = &metav1.Time{Time: now}
		}
		return ti
	}
	foreignOwner := claim("ti-other", time.Minute, "other")
	foreignOwner.OwnerReferences[0].APIVersion = "example.com/v1"

	for _, tc := range []struct {
		name   string
		claim  *tenantryv1alpha1.TenantHost
		holder *tenantryv1alpha1.TenantInstance
		want   hostclaim.Verdict
	}{
		// hostclaim.TestDecide covers every verdict; these rows check the bridge passes them on
		// and resolves Unborn by the claim's age.
		{"no claim", nil, nil, hostclaim.Free},
		{"our claim left without owner by a crash", claim("ti-mine", 48*time.Hour, ""), nil, hostclaim.Ours},
		{"another live instance's claim", claim("ti-other", time.Hour, "other"), instance("ti-other", "other", false), hostclaim.Taken},
		{"claim whose owner is gone", claim("ti-other", time.Minute, "other"), nil, hostclaim.Stale},
		{"an owner of another API group counts as none", foreignOwner, nil, hostclaim.Taken},
		{"ownerless claim of an order in progress", claim("ti-other", hostClaimGrace-time.Second, ""), nil, hostclaim.Taken},
		{"ownerless claim older than the grace", claim("ti-other", hostClaimGrace, ""), nil, hostclaim.Stale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decideHostClaim(tc.claim, tc.holder, "ti-mine", now)
			if diff := cmp.Diff(tc.want.String(), got.String()); diff != "" {
				t.Errorf("decideHostClaim (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHostRefusal(t *testing.T) {
	plans := []tenantryv1alpha1.TenantPlan{
		{ObjectMeta: metav1.ObjectMeta{Name: "small"}, Spec: tenantryv1alpha1.TenantPlanSpec{Domain: tenantryv1alpha1.DomainSettings{BaseDomain: "apps.example.com"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "dedicated-only"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "eu"}, Spec: tenantryv1alpha1.TenantPlanSpec{Domain: tenantryv1alpha1.DomainSettings{BaseDomain: "EU.Example.NET."}}},
	}
	deny := normalizeHostSuffixes(nil)
	for _, tc := range []struct {
		host, reason string // reason "" = allowed
	}{
		{"shop.example.org", ""},
		{"apps.example.com.evil.org", ""},
		{"myapps.example.com", ""}, // a suffix of the base domain's text, not a name under it
		{"ti-0123.apps.example.com", reasonHostUnderPlan},
		{"a.b.apps.example.com", reasonHostUnderPlan},
		{"apps.example.com", reasonHostUnderPlan},
		{"shop.eu.example.net", reasonHostUnderPlan},
		{"tenantry-webhookbridge.tenantry-system.svc", reasonHostDenied},
		{"app.tenant-x.svc.cluster.local", reasonHostDenied},
		{"kubernetes.default.svc", reasonHostDenied},
		{"cluster.local", reasonHostDenied},
		{"svc.example.org", ""},
	} {
		t.Run(tc.host, func(t *testing.T) {
			err := hostRefusal(tc.host, deny, plans)
			got := ""
			var ce *codeError
			if errors.As(err, &ce) {
				got = ce.reason
				if ce.code != protocol.CodeInvalidParam {
					t.Errorf("code %s, want %s", ce.code, protocol.CodeInvalidParam)
				}
			} else if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if diff := cmp.Diff(tc.reason, got); diff != "" {
				t.Errorf("hostRefusal(%q) reason (-want +got):\n%s", tc.host, diff)
			}
		})
	}
}

func TestNormalizeHostSuffixes(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"nil is the default", nil, []string{"svc", "cluster.local"}},
		{"empty denies nothing", []string{}, []string{}},
		{"dots, spaces and case", []string{" .Internal.Example.COM. ", "", ".", "svc"}, []string{"internal.example.com", "svc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, normalizeHostSuffixes(tc.in)); diff != "" {
				t.Errorf("normalizeHostSuffixes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHostSuffixesFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		sets []string
		want []string // as New normalises them
	}{
		{"unset is the default", nil, []string{"svc", "cluster.local"}},
		{"first use replaces the default", []string{"internal.example.org"}, []string{"internal.example.org"}},
		{"repeated and comma-separated", []string{"a.example,b.example", " c.example "}, []string{"a.example", "b.example", "c.example"}},
		{"empty denies nothing", []string{""}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h HostSuffixes
			for _, v := range tc.sets {
				if err := h.Set(v); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tc.want, normalizeHostSuffixes(h)); diff != "" {
				t.Errorf("suffixes (-want +got):\n%s", diff)
			}
		})
	}
}
