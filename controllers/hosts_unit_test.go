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
	"k8s.io/apimachinery/pkg/types"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func TestHostHolder(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	claim := func(instance, ownerUID string, deleting bool) *tenantryv1alpha1.TenantHost {
		c := &tenantryv1alpha1.TenantHost{
			ObjectMeta: metav1.ObjectMeta{Name: "shop.example.com"},
			Spec:       tenantryv1alpha1.TenantHostSpec{InstanceName: instance},
		}
		if ownerUID != "" {
			c.OwnerReferences = []metav1.OwnerReference{{APIVersion: "tenantry.io/v1alpha1", Kind: "TenantInstance", Name: instance, UID: types.UID(ownerUID)}}
		}
		if deleting {
			c.DeletionTimestamp = &now
		}
		return c
	}
	instance := func(uid string, deleting bool) *tenantryv1alpha1.TenantInstance {
		ti := &tenantryv1alpha1.TenantInstance{ObjectMeta: metav1.ObjectMeta{Name: "ti-other", UID: types.UID(uid)}}
		if deleting {
			ti.DeletionTimestamp = &now
		}
		return ti
	}
	for _, tc := range []struct {
		name   string
		claim  *tenantryv1alpha1.TenantHost
		holder *tenantryv1alpha1.TenantInstance
		want   string
	}{
		{"no claim", nil, nil, ""},
		{"our own claim", claim("ti-mine", "u-mine", false), nil, ""},
		{"another live instance's claim", claim("ti-other", "u-other", false), instance("u-other", false), "ti-other"},
		{"another live instance's claim without owner", claim("ti-other", "", false), instance("u-other", false), "ti-other"},
		{"its instance is gone", claim("ti-other", "u-other", false), nil, ""},
		{"its instance is being released", claim("ti-other", "u-other", false), instance("u-other", true), ""},
		{"its owner was an earlier instance of that name", claim("ti-other", "u-old", false), instance("u-other", false), ""},
		{"the claim is being deleted", claim("ti-other", "u-other", true), instance("u-other", false), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, hostHolder(tc.claim, tc.holder, "ti-mine")); diff != "" {
				t.Errorf("hostHolder (-want +got):\n%s", diff)
			}
		})
	}
}
