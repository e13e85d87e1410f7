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
	"errors"
	"fmt"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/childcache"
	"github.com/tenantry/tenantry/internal/outcome"
)

// The status is derived from the scope alone: nothing an earlier loop wrote is trusted, except
// lastTransitionTime, which meta.SetStatusCondition keeps while a condition's status does not
// change, and frozenSince. computeStatus composes it from small functions, one per condition or
// field, each a function of what it is given (and table-tested on its own); the order of the
// calls is the order in which new conditions are appended.

// computeStatus derives the whole status from the scope and the failure the reconcile ends with.
func computeStatus(s *scope, reconcileErr error) {
	ti := s.instance
	st := &ti.Status
	p := stamp{generation: ti.Generation, now: s.now}
	st.ObservedGeneration = ti.Generation
	st.Namespace = tenantryv1alpha1.NamespaceName(ti.Name)
	setLoadBalancer(st, s.listener, s.stalled)
	setExpiredCondition(st, p, ti.Spec.ExpiresAt)

	ph := phaseOf(s)
	var frozen, atZero bool
	switch ph {
	case phaseReleasing:
		setRetainUntil(st, s.retainUntil)
	case phaseServing:
		frozen, atZero = s.desired.Frozen, deploymentAtZero(s.deployment)
		setPlanFields(st, s.desired)
		setRevision(st, s.revision, s.revisionObserved)
		setFrozenCondition(st, p, frozen, s.frozenByExpiry, s.deployment)
		setFrozenSince(st, s.now, frozen, s.deployment)
		setReadyReplicas(st, s.deployment)
	}
	r := tenantReadiness(s, ph, reconcileErr)
	setStalledCondition(st, p, s.stalled)
	setReconcilingCondition(st, p, r, s.stalled != nil)
	setReadyCondition(st, p, r)
	setState(st, ph, frozen, atZero, r.ready)
}

// phase is which part of the status a reconcile can speak for.
type phase int

const (
	// phaseReleasing: the instance is being deleted; the release reports its progress.
	phaseReleasing phase = iota
	// phaseStalled: a step stalled; the status says why and keeps what it said of the workload.
	phaseStalled
	// phaseUnplanned: the reconcile ended before it knew the plan; nothing else is invented.
	phaseUnplanned
	// phaseServing: the plan is known; the workload as observed is reported.
	phaseServing
)

func phaseOf(s *scope) phase {
	switch {
	case s.releasing:
		return phaseReleasing
	case s.stalled != nil:
		return phaseStalled
	case s.desired == nil:
		return phaseUnplanned
	}
	return phaseServing
}

// stamp is what every condition one reconcile sets carries: the generation it observed and the
// time it ran.
type stamp struct {
	generation int64
	now        time.Time
}

func (p stamp) set(st *tenantryv1alpha1.TenantInstanceStatus, t string, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: t, Status: status, Reason: reason, Message: msg,
		ObservedGeneration: p.generation, LastTransitionTime: metav1.NewTime(p.now),
	})
}

// statusTime is how the status writes a time in a message.
func statusTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// setLoadBalancer records the listener the reconcile put the tenant on (nil: none), once the
// listener step decided, unless the tenant stalled: then what was recorded stays.
func setLoadBalancer(st *tenantryv1alpha1.TenantInstanceStatus, l listenerState, stalled *outcome.Stalling) {
	if l.decided && stalled == nil {
		st.LoadBalancer = l.assignment
	}
}

// setExpiredCondition depends on the spec's paid period end and the clock only.
func setExpiredCondition(st *tenantryv1alpha1.TenantInstanceStatus, p stamp, expiresAt *metav1.Time) {
	switch {
	case expiresAt == nil:
		p.set(st, tenantryv1alpha1.ConditionExpired, metav1.ConditionFalse, tenantryv1alpha1.ReasonNoExpiry, "The order has no paid period end")
	case !p.now.Before(expiresAt.Time):
		p.set(st, tenantryv1alpha1.ConditionExpired, metav1.ConditionTrue, tenantryv1alpha1.ReasonPeriodEnded,
			"The paid period ended at "+statusTime(expiresAt.Time))
	default:
		p.set(st, tenantryv1alpha1.ConditionExpired, metav1.ConditionFalse, tenantryv1alpha1.ReasonNotExpired,
			"Paid until "+statusTime(expiresAt.Time))
	}
}

// setRetainUntil records the end of a released tenant's retention once it is known.
func setRetainUntil(st *tenantryv1alpha1.TenantInstanceStatus, retainUntil *metav1.Time) {
	if retainUntil != nil {
		st.RetainUntil = retainUntil
	}
}

// setPlanFields reports what the plan makes of the tenant: the plan, its addresses, the
// replicas its Deployment is asked for and where its admin account is.
func setPlanFields(st *tenantryv1alpha1.TenantInstanceStatus, d *Desired) {
	st.Plan = d.Plan.Name
	st.URL = d.URL()
	st.AdminURL = d.AdminURL()
	st.Replicas = d.Replicas()
	st.AdminAccountSecretRef = &tenantryv1alpha1.SecretReference{Namespace: d.namespace(), Name: tenantryv1alpha1.AdminSecretName}
}

// setFrozenCondition reports what the Deployment shows, not what was asked of it: True only
// once it runs no replica, so that a freeze that could not be applied is never reported as done.
func setFrozenCondition(st *tenantryv1alpha1.TenantInstanceStatus, p stamp, frozen, byExpiry bool, dep *childcache.DeploymentCounts) {
	switch {
	case frozen && deploymentAtZero(dep):
		reason, msg := tenantryv1alpha1.ReasonFrozenByMarketplace, "Frozen by the marketplace; scaled to zero, all data kept"
		if byExpiry {
			reason, msg = tenantryv1alpha1.ReasonFrozenByExpiry,
				"The paid period and the plan's grace period have passed; scaled to zero, all data kept"
		}
		p.set(st, tenantryv1alpha1.ConditionFrozen, metav1.ConditionTrue, reason, msg)
	case frozen:
		_, scaling := workloadReady(dep, 0)
		p.set(st, tenantryv1alpha1.ConditionFrozen, metav1.ConditionFalse, tenantryv1alpha1.ReasonFreezing, "Freezing: "+scaling)
	default:
		p.set(st, tenantryv1alpha1.ConditionFrozen, metav1.ConditionFalse, tenantryv1alpha1.ReasonActive, "Serving")
	}
}

// setFrozenSince records when the tenant was first seen at zero while frozen, keeps it while
// it is frozen, and clears it once it is not.
func setFrozenSince(st *tenantryv1alpha1.TenantInstanceStatus, now time.Time, frozen bool, dep *childcache.DeploymentCounts) {
	switch {
	case frozen && deploymentAtZero(dep):
		if st.FrozenSince == nil {
			t := metav1.NewTime(now)
			st.FrozenSince = &t
		}
	case !frozen:
		st.FrozenSince = nil
	}
}

// setReadyReplicas reports the Deployment's ready replicas; unobserved, what was reported stays.
func setReadyReplicas(st *tenantryv1alpha1.TenantInstanceStatus, dep *childcache.DeploymentCounts) {
	if dep != nil {
		st.ReadyReplicas = dep.ReadyReplicas
	}
}

// setStalledCondition is True with the Stalling's reason and message, and absent otherwise.
func setStalledCondition(st *tenantryv1alpha1.TenantInstanceStatus, p stamp, stalled *outcome.Stalling) {
	if stalled == nil {
		meta.RemoveStatusCondition(&st.Conditions, tenantryv1alpha1.ConditionStalled)
		return
	}
	p.set(st, tenantryv1alpha1.ConditionStalled, metav1.ConditionTrue, stalled.Reason, stalled.Message)
}

// readiness is what the Ready condition says, and the Reconciling one while not Ready.
type readiness struct {
	ready           bool
	reason, message string
}

// tenantReadiness is the readiness of the phase the reconcile ended in.
func tenantReadiness(s *scope, ph phase, reconcileErr error) readiness {
	switch ph {
	case phaseReleasing:
		return releasingReadiness(s.retainedUntil, s.stalled)
	case phaseStalled:
		return readiness{reason: s.stalled.Reason, message: s.stalled.Message}
	case phaseUnplanned:
		return unplannedReadiness(reconcileErr)
	}
	return workloadReadiness(s.desired, s.deployment, reconcileErr, s.waiting)
}

// releasingReadiness says how far the release is: kept until the retention ends, or being
// removed; a Stalling says why it cannot go on.
func releasingReadiness(retainedUntil *time.Time, stalled *outcome.Stalling) readiness {
	switch {
	case stalled != nil:
		return readiness{reason: stalled.Reason, message: stalled.Message}
	case retainedUntil != nil:
		return readiness{reason: tenantryv1alpha1.ReasonRetained,
			message: fmt.Sprintf("Released; kept frozen until %s by the plan's retention period", statusTime(*retainedUntil))}
	}
	return readiness{reason: tenantryv1alpha1.ReasonReleasing, message: "Stopping the app and deleting the tenant namespace"}
}

// unplannedReadiness is the readiness of a reconcile that failed before it knew the plan.
func unplannedReadiness(reconcileErr error) readiness {
	msg := "Reconcile failed"
	if reconcileErr != nil {
		msg = reconcileErr.Error()
	}
	return readiness{reason: tenantryv1alpha1.ReasonProgressing, message: msg}
}

// workloadReadiness is Ready once the Deployment runs what the plan asks (or, frozen, nothing)
// and the reconcile neither failed nor waits; else why not: the failure (OptionalStepFailed when
// only optional steps failed, else ApplyFailed), what is waited for, or the Deployment's progress.
func workloadReadiness(d *Desired, dep *childcache.DeploymentCounts, reconcileErr error, waiting *outcome.Waiting) readiness {
	ready, why := workloadReady(dep, d.Replicas())
	reason := tenantryv1alpha1.ReasonProgressing
	switch {
	case reconcileErr != nil:
		why, ready, reason = reconcileErr.Error(), false, tenantryv1alpha1.ReasonApplyFailed
		var optErr *optionalStepError
		if errors.As(reconcileErr, &optErr) {
			reason = tenantryv1alpha1.ReasonOptionalStepFailed
		}
	case waiting != nil:
		why, ready = waiting.Message, false
		if waiting.Reason != "" {
			reason = waiting.Reason
		}
	}
	switch {
	case ready && d.Frozen:
		return readiness{ready: true, reason: tenantryv1alpha1.ConditionFrozen, message: "Scaled to zero on purpose; all data kept"}
	case ready:
		return readiness{ready: true, reason: tenantryv1alpha1.ReasonAvailable,
			message: fmt.Sprintf("Serving %s with %d ready replicas", d.URL(), dep.ReadyReplicas)}
	}
	return readiness{reason: reason, message: why}
}

// setReconcilingCondition is True while the tenant is neither Ready nor Stalled (Stalled then
// says why), with the readiness's reason and message, and absent otherwise.
func setReconcilingCondition(st *tenantryv1alpha1.TenantInstanceStatus, p stamp, r readiness, stalled bool) {
	if r.ready || stalled {
		meta.RemoveStatusCondition(&st.Conditions, tenantryv1alpha1.ConditionReconciling)
		return
	}
	p.set(st, tenantryv1alpha1.ConditionReconciling, metav1.ConditionTrue, r.reason, r.message)
}

// setReadyCondition is the readiness.
func setReadyCondition(st *tenantryv1alpha1.TenantInstanceStatus, p stamp, r readiness) {
	status := metav1.ConditionFalse
	if r.ready {
		status = metav1.ConditionTrue
	}
	p.set(st, tenantryv1alpha1.ConditionReady, status, r.reason, r.message)
}

// setState sets status.state. Serving, it follows the Deployment: Frozen once it is at zero,
// Running once it serves, Provisioning until then.
func setState(st *tenantryv1alpha1.TenantInstanceStatus, ph phase, frozen, atZero, ready bool) {
	switch {
	case ph == phaseReleasing:
		st.State = tenantryv1alpha1.StateReleasing
	case ph == phaseStalled:
		st.State = tenantryv1alpha1.StateStalled
	case ph == phaseServing && frozen && atZero:
		st.State = tenantryv1alpha1.StateFrozen
	case ph == phaseServing && ready && !frozen:
		st.State = tenantryv1alpha1.StateRunning
	default:
		st.State = tenantryv1alpha1.StateProvisioning
	}
}

// deploymentAtZero says whether the Deployment as observed is asked for no replica and runs none.
func deploymentAtZero(d *childcache.DeploymentCounts) bool {
	if d == nil || d.Replicas == nil || *d.Replicas != 0 {
		return false
	}
	ok, _ := workloadReady(d, 0)
	return ok && (d.TerminatingReplicas == nil || *d.TerminatingReplicas == 0)
}

// workloadReady says whether the Deployment has caught up with the replicas the tenant should run,
// and if not, what is waited for. The message names the goal, not the progress towards it: the
// Deployment reports its replica counts as they change, and a message that followed them would
// cost a status write at each step of every rollout (measured: 0.6 writes per tenant bought). A
// Deployment that is missing, or whose controller has not seen its spec, is waited for in the
// same words; its own status says which.
func workloadReady(d *childcache.DeploymentCounts, want int32) (bool, string) {
	if want == 0 {
		if d != nil && d.ObservedGeneration >= d.Generation && d.StatusReplicas == 0 {
			return true, ""
		}
		return false, "Waiting for the app Deployment to scale to zero"
	}
	if d == nil || d.ObservedGeneration < d.Generation || d.UpdatedReplicas < want || d.AvailableReplicas < want || d.StatusReplicas > want {
		return false, fmt.Sprintf("Waiting for the app Deployment to run %d available replicas of the current spec", want)
	}
	return true, ""
}

// equalStatus ignores nothing: a status that did not change is not written, so an idle tenant
// costs no API writes.
func equalStatus(a, b tenantryv1alpha1.TenantInstanceStatus) bool {
	return apiequality.Semantic.DeepEqual(a, b)
}

// statusRetryAfter is how soon a reconcile that could not write its status, because the cache had
// not yet seen the previous status write, comes back. Watch events usually arrive within
// milliseconds; the operator's own status writes do not trigger reconciles (see SetupWithManager).
const statusRetryAfter = 200 * time.Millisecond

// statusRetryCaughtUp is how soon a reconcile comes back that read the instance before the cache
// held the previous status write, when the cache has caught up since: at once, to compare with
// what the cache holds now.
const statusRetryCaughtUp = time.Millisecond
