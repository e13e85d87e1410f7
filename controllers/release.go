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
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/childcache"
	"github.com/tenantry/tenantry/internal/outcome"
)

// release runs while the TenantInstance is being deleted. It is the only thing that deletes a
// tenant namespace, and only one this instance created: first it records in the status until
// when the plan keeps the tenant (status.retainUntil), keeps it frozen until then, drains the
// app and deletes the namespace, then waits for it to be gone before letting the instance go.
func (r *TenantInstanceReconciler) release(ctx context.Context, s *scope) (ctrl.Result, error) {
	s.releasing = true
	if !controllerutil.ContainsFinalizer(s.instance, tenantryv1alpha1.Finalizer) {
		return ctrl.Result{}, nil
	}
	name := tenantryv1alpha1.NamespaceName(s.instance.Name)
	rec, exists := r.Children.Lookup(namespaceKind, client.ObjectKey{Name: name})
	ours := exists && rec.Owner() == s.instance.UID
	if ours {
		s.namespaceObserved = true
		if !rec.Deleting() {
			drainFrom, keep, wait, err := r.retain(ctx, s)
			if err != nil || keep {
				return ctrl.Result{RequeueAfter: wait}, err
			}
			if wait, err := r.drain(ctx, s, drainFrom); err != nil || wait > 0 {
				return ctrl.Result{RequeueAfter: wait}, err
			}
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
			if err := r.Delete(ctx, ns, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
				return ctrl.Result{}, fmt.Errorf("deleting tenant namespace: %w", err)
			}
			noteChange(ctx, "Namespace/"+ns.Name+" deleted")
			r.event(s.instance, corev1.EventTypeNormal, "Releasing", "Delete", "Deleting namespace %s and everything in it", ns.Name)
		}
		// The namespace's deletion event requeues us; the timer only guards against a missed event.
		return ctrl.Result{RequeueAfter: 30 * time.Second}, nil
	}
	if exists {
		r.event(s.instance, corev1.EventTypeNormal, "NamespaceKept", "Delete",
			"Namespace %s was not created for this instance; left in place", name)
	}
	// The tenant's places on ELB listeners go with it, at once rather than when the garbage
	// collector gets to them, so that tenants waiting for room take them.
	if err := r.releaseAllSlots(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	r.applied.Forget(name)
	r.statuses.Forget(s.instance.Name)
	patch := client.MergeFromWithOptions(s.instance.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(s.instance, tenantryv1alpha1.Finalizer)
	if err := r.Patch(ctx, s.instance, patch); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("removing finalizer: %w", err)
	}
	noteChange(ctx, "finalizer removed")
	r.event(s.instance, corev1.EventTypeNormal, "Released", "Delete", "Released; namespace %s is not the operator's to keep", name)
	return ctrl.Result{}, nil
}

// releasePlan resolves the plan of a released tenant, or returns an outcome.Stalling saying why
// it cannot: then how long the tenant must be kept is unknown.
func (r *TenantInstanceReconciler) releasePlan(ctx context.Context, s *scope) (*tenantryv1alpha1.TenantPlan, error) {
	plans := &tenantryv1alpha1.TenantPlanList{}
	if err := r.List(ctx, plans, client.MatchingFields{planSKUIndex: s.instance.Spec.SKU}); err != nil {
		return nil, fmt.Errorf("listing plans for SKU %q: %w", s.instance.Spec.SKU, err)
	}
	if len(plans.Items) == 1 {
		return &plans.Items[0], nil
	}
	names := make([]string, 0, len(plans.Items))
	for _, p := range plans.Items {
		names = append(names, p.Name)
	}
	return nil, outcome.Stallf(tenantryv1alpha1.ReasonRetentionUnknown, "Released, but %d TenantPlans %q list SKU %q, so its retention period is unknown; "+
		"the tenant is kept, scaled to zero, until exactly one plan lists it", len(names), names, s.instance.Spec.SKU)
}

// retain keeps a released tenant frozen for as long as its plan promised, and says when that
// keeping ends (or ended): the drain and the deletion start then. The end is computed once, from
// the deletion time and the retention period of the plan at the first reconcile that can
// resolve it, and recorded in status.retainUntil; later reconciles only read the record. While
// no plan resolves, nothing is recorded and the tenant is kept (keep is true, with no timer: a
// plan's change requeues the instance). While the keeping matters and no plan resolves, err
// carries releasePlan's Stalling, joined with any failure.
func (r *TenantInstanceReconciler) retain(ctx context.Context, s *scope) (from time.Time, keep bool, wait time.Duration, err error) {
	plan, err := r.releasePlan(ctx, s)
	var unknown error // the Stalling of a retention no plan tells
	if outcome.IsStalling(err) {
		unknown, err = err, nil
	}
	if err != nil {
		return time.Time{}, true, 0, err
	}
	until := s.before.Status.RetainUntil
	if until == nil {
		if plan == nil {
			_, err := r.scaleToZero(ctx, s)
			return time.Time{}, true, 0, errors.Join(unknown, err)
		}
		t := s.instance.DeletionTimestamp.Time
		if rp := plan.Spec.RetentionPeriod; rp != nil {
			t = t.Add(rp.Duration)
		}
		until = &metav1.Time{Time: t}
	}
	s.retainUntil = until.DeepCopy()
	// A retention ending at the deletion is none, whatever the clock says.
	if !until.After(s.instance.DeletionTimestamp.Time) || !s.now.Before(until.Time) {
		// The record says the retention is over: the release goes on, without a plan if need be.
		return until.Time, false, 0, nil
	}
	s.retainedUntil = &until.Time
	if err := r.keepFrozen(ctx, s, plan); err != nil {
		return until.Time, true, 0, errors.Join(unknown, err)
	}
	return until.Time, true, until.Sub(s.now) + time.Second, unknown
}

// keepFrozen scales a retained tenant's app to zero and points its Ingress at the suspended
// page. It changes only what exists: after a foreground deletion the garbage collector deletes
// what carries an owner reference to the instance, and recreating it would only feed it again.
func (r *TenantInstanceReconciler) keepFrozen(ctx context.Context, s *scope, plan *tenantryv1alpha1.TenantPlan) error {
	if _, err := r.scaleToZero(ctx, s); err != nil {
		return err
	}
	if plan == nil {
		return nil
	}
	d := Desired{Instance: s.instance, Plan: plan, Frozen: true, SuspendedHost: r.SuspendedHost, SuspendedPort: r.SuspendedPort}
	ing := d.Ingress()
	if ing == nil {
		return nil
	}
	if _, ok := r.Children.Lookup(ingressKind, client.ObjectKey{Namespace: d.namespace(), Name: AppName}); !ok {
		return nil
	}
	if svc := d.SuspendedService(); svc != nil {
		if err := r.apply(ctx, svc); err != nil {
			return fmt.Errorf("applying suspended-page service of retained tenant: %w", err)
		}
	}
	if err := r.apply(ctx, ing); err != nil {
		return fmt.Errorf("pointing retained tenant at the suspended page: %w", err)
	}
	return nil
}

// DefaultReleaseDrainTimeout is how long a release waits for the app's pods to stop before it
// deletes the namespace regardless.
const DefaultReleaseDrainTimeout = 2 * time.Minute

// drain scales the app to zero and reports how long to wait, at most, for its pods to be gone:
// zero once they are, or once the drain timeout (counted from from) has passed.
//
// Deleting a namespace with running pods costs more than the pods' own shutdown: the namespace
// controller deletes them, then comes back only after half their termination grace period plus
// a second (16 s for the default 30 s) however fast they stopped. A namespace emptied of pods
// first goes in one pass. The Deployment's status (replicas and terminatingReplicas, written by
// the Deployment controller) tells when no pod is left; its every change requeues the instance.
func (r *TenantInstanceReconciler) drain(ctx context.Context, s *scope, from time.Time) (time.Duration, error) {
	timeout := r.ReleaseDrainTimeout
	if timeout == 0 {
		timeout = DefaultReleaseDrainTimeout
	}
	left := from.Add(timeout).Sub(s.now)
	if left <= 0 {
		return 0, nil
	}
	d, err := r.scaleToZero(ctx, s)
	if err != nil || d == nil {
		return 0, err
	}
	if d.Replicas == nil || *d.Replicas != 0 {
		return left, nil
	}
	if d.ObservedGeneration < d.Generation || d.StatusReplicas > 0 || (d.TerminatingReplicas != nil && *d.TerminatingReplicas > 0) {
		return left, nil
	}
	return 0, nil
}

// scaleToZero sets the app Deployment's replicas to zero unless they are, and returns the
// Deployment's counts as cached, or as the patch returned them (nil when there is none or it is
// being deleted). It patches the one field with a merge patch: it needs no plan, and the cached
// record holds no template to apply from.
func (r *TenantInstanceReconciler) scaleToZero(ctx context.Context, s *scope) (*childcache.DeploymentCounts, error) {
	key := client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName(s.instance.Name), Name: AppName}
	rec, ok := r.Children.Lookup(deploymentKind, key)
	if !ok || rec.Deleting() {
		return nil, nil
	}
	counts, ok := rec.Deployment()
	if !ok {
		return nil, nil
	}
	if counts.Replicas != nil && *counts.Replicas == 0 {
		return &counts, nil
	}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	if err := r.Patch(ctx, d, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":0}}`)), client.FieldOwner(FieldOwner)); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("scaling the app to zero: %w", err)
	}
	noteChange(ctx, "Deployment/"+d.Name+" scaled to zero")
	counts = childcache.DeploymentCountsOf(d)
	return &counts, nil
}
