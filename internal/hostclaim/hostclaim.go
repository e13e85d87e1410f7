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

// Package hostclaim decides whether the TenantHost of a host keeps a TenantInstance from it. The
// webhook bridge, which reserves hosts when it accepts purchases, and the operator, which serves
// them, must judge a claim the same way, so both call Decide.
package hostclaim

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Verdict is what a claim means for the instance that asks for its host.
type Verdict int

const (
	// Free: no claim exists.
	Free Verdict = iota
	// Ours: the claim names the asking instance itself.
	Ours
	// Stale: the claim holds for no live instance any more: it is being deleted, the instance it
	// names is being deleted, or its owner reference names an instance that is gone or an earlier
	// instance of that name.
	Stale
	// Unborn: the claim has no owner and names an instance that does not exist. Either an order is
	// between creating the claim and creating its instance, or it crashed there; only the claim's
	// age tells which, and how long to wait is the bridge's policy.
	Unborn
	// Taken: another live instance holds the host.
	Taken
)

func (v Verdict) String() string {
	return [...]string{"free", "ours", "stale", "unborn", "taken"}[v]
}

// Decide judges claim (nil: none) for instance. holder is the TenantInstance the claim names, nil
// when it does not exist. A claim holds while the instance it names lives and is not being
// deleted (a released tenant gives its host back at once, whatever its retention) and, when the
// claim has an owner reference to a TenantInstance, while that owner is this very instance (same
// UID). Pure, so that each case is table-tested.
func Decide(claim *tenantryv1alpha1.TenantHost, holder *tenantryv1alpha1.TenantInstance, instance string) Verdict {
	switch {
	case claim == nil:
		return Free
	case !claim.DeletionTimestamp.IsZero():
		return Stale
	case claim.Spec.InstanceName == instance:
		return Ours
	}
	owner := InstanceOwner(claim)
	switch {
	case holder == nil && owner != nil:
		return Stale
	case holder == nil:
		return Unborn
	case !holder.DeletionTimestamp.IsZero() || (owner != nil && owner.UID != holder.UID):
		return Stale
	}
	return Taken
}

// InstanceOwner is the claim's owner reference to a TenantInstance, or nil. The bridge sets at
// most one, once the instance exists; a claim without one may still be dropped by the order that
// made it.
func InstanceOwner(claim *tenantryv1alpha1.TenantHost) *metav1.OwnerReference {
	for i, ref := range claim.OwnerReferences {
		if ref.Kind == "TenantInstance" && strings.HasPrefix(ref.APIVersion, tenantryv1alpha1.GroupVersion.Group+"/") {
			return &claim.OwnerReferences[i]
		}
	}
	return nil
}
