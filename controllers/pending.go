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
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// conflictRetryAfter is how soon a reconcile whose write of the spec met a newer version comes
// back, should the watch event of that version not bring it back sooner.
const conflictRetryAfter = time.Second

// pendingChangeWait is how long until spec.pendingChange takes effect: zero when there is none
// or its time has come (it is due), else the time left plus a second of slack, so that the
// requeue lands after effectiveAt rather than just before it.
func pendingChangeWait(spec *tenantryv1alpha1.TenantInstanceSpec, now time.Time) (due bool, wait time.Duration) {
	pc := spec.PendingChange
	if pc == nil {
		return false, 0
	}
	if !now.Before(pc.EffectiveAt.Time) {
		return true, 0
	}
	return false, pc.EffectiveAt.Sub(now) + time.Second
}

// takePendingChange moves spec.pendingChange into the spec — SKU, quantity, and productId when
// it names one — and clears it. A SKU no plan lists is taken all the same: the renewed period
// was sold with it, the tenant's objects stay as they are, and the tenant stalls with
// PlanNotFound until a plan lists it, exactly as after an upgrade to an unknown SKU.
func takePendingChange(spec *tenantryv1alpha1.TenantInstanceSpec) {
	pc := spec.PendingChange
	if pc == nil {
		return
	}
	spec.SKU = pc.SKU
	spec.Quantity = max(pc.Quantity, 1)
	if pc.ProductID != "" {
		spec.ProductID = pc.ProductID
	}
	spec.PendingChange = nil
}

// earliestRequeue is the sooner of two RequeueAfter durations, zero meaning none.
func earliestRequeue(a, b time.Duration) time.Duration {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// reconcilePendingChange applies a renewal's change of SKU or quantity once the renewed period
// has started (docs/protocol.md §6.9); until then the tenant keeps running what it runs, and the
// returned duration says when to come back. The spec is written with an optimistic lock: the
// change is taken from the version read, and a newer version (the bridge recording another
// call) is left for the next reconcile, which it triggers.
func (r *TenantInstanceReconciler) reconcilePendingChange(ctx context.Context, s *scope) (wait time.Duration, err error) {
	due, wait := pendingChangeWait(&s.instance.Spec, s.now)
	if !due {
		return wait, nil
	}
	before := s.instance.Spec.DeepCopy()
	pc := before.PendingChange
	patch := client.MergeFromWithOptions(s.instance.DeepCopy(), client.MergeFromWithOptimisticLock{})
	takePendingChange(&s.instance.Spec)
	if err := r.Patch(ctx, s.instance, patch, client.FieldOwner(FieldOwner)); err != nil {
		// Reconcile what the stored version says; the newer version brings us back.
		s.instance.Spec = *before
		if apierrors.IsConflict(err) {
			return conflictRetryAfter, nil
		}
		return 0, fmt.Errorf("applying the pending change of order %q: %w", pc.OrderID, err)
	}
	noteChange(ctx, "spec.pendingChange taken")
	s.rebase()
	r.event(s.instance, corev1.EventTypeNormal, "PendingChangeApplied", "Update",
		"Renewal order %s took effect at %s: SKU %s to %s, quantity %d to %d",
		pc.OrderID, pc.EffectiveAt.UTC().Format(time.RFC3339), before.SKU, s.instance.Spec.SKU,
		max(before.Quantity, 1), s.instance.Spec.Quantity)
	return 0, nil
}
