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

package hostclaim

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func TestDecide(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	claim := func(instance, owner string) *tenantryv1alpha1.TenantHost {
		c := &tenantryv1alpha1.TenantHost{
			ObjectMeta: metav1.ObjectMeta{Name: "shop.example.com"},
			Spec:       tenantryv1alpha1.TenantHostSpec{InstanceName: instance},
		}
		if owner != "" {
			c.OwnerReferences = []metav1.OwnerReference{{APIVersion: "tenantry.io/v1alpha1", Kind: "TenantInstance", Name: instance, UID: types.UID("uid-" + owner)}}
		}
		return c
	}
	instance := func(uid string, deleting bool) *tenantryv1alpha1.TenantInstance {
		ti := &tenantryv1alpha1.TenantInstance{ObjectMeta: metav1.ObjectMeta{Name: "ti-other", UID: types.UID("uid-" + uid)}}
		if deleting {
			ti.DeletionTimestamp = &now
		}
		return ti
	}
	deletingClaim := claim("ti-other", "other")
	deletingClaim.DeletionTimestamp = &now
	foreignOwner := claim("ti-other", "other")
	foreignOwner.OwnerReferences[0].APIVersion = "example.com/v1"
	otherKindOwner := claim("ti-other", "other")
	otherKindOwner.OwnerReferences[0].Kind = "ConfigMap"

	for _, tc := range []struct {
		name   string
		claim  *tenantryv1alpha1.TenantHost
		holder *tenantryv1alpha1.TenantInstance
		want   Verdict
	}{
		{"no claim", nil, nil, Free},
		{"our claim, owned", claim("ti-mine", "mine"), nil, Ours},
		{"our claim left without owner by a crash", claim("ti-mine", ""), nil, Ours},
		{"another live instance's claim", claim("ti-other", "other"), instance("other", false), Taken},
		{"another live instance's claim without owner", claim("ti-other", ""), instance("other", false), Taken},
		{"claim of an instance being released", claim("ti-other", "other"), instance("other", true), Stale},
		{"claim whose owner is gone", claim("ti-other", "other"), nil, Stale},
		{"claim whose owner was an earlier instance of that name", claim("ti-other", "old"), instance("other", false), Stale},
		{"an owner of another API group counts as none", foreignOwner, nil, Unborn},
		{"an owner of another kind counts as none", otherKindOwner, instance("other", false), Taken},
		{"ownerless claim of an instance not created (yet)", claim("ti-other", ""), nil, Unborn},
		{"claim being deleted", deletingClaim, instance("other", false), Stale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want.String(), Decide(tc.claim, tc.holder, "ti-mine").String()); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}
