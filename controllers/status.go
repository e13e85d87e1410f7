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
)

// computeStatus derives the whole status from the scope: nothing an earlier loop wrote is trusted,
// except lastTransitionTime, which meta.SetStatusCondition keeps while a status does not change.
func computeStatus(s *scope, reconcileErr error) {
	ti := s.instance
	st := &ti.Status
	gen := ti.Generation
	set := func(t string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{
			Type: t, Status: status, Reason: reason, Message: msg,
			ObservedGeneration: gen, LastTransitionTime: metav1.NewTime(s.now),
		})
	}
	st.ObservedGeneration = gen
	st.Namespace = tenantryv1alpha1.NamespaceName(ti.Name)
	if s.listener.decided && s.stalledReason == "" {
		st.LoadBalancer = s.listener.assignment
	}

	// Expired depends on the spec and the clock only.
	switch exp := ti.Spec.ExpiresAt; {
	case exp == nil:
		set(tenantryv1alpha1.ConditionExpired, metav1.ConditionFalse, tenantryv1alpha1.ReasonNoExpiry, "The order has no paid period end")
	case !s.now.Before(exp.Time):
		set(tenantryv1alpha1.ConditionExpired, metav1.ConditionTrue, tenantryv1alpha1.ReasonPeriodEnded,
			fmt.Sprintf("The paid period ended at %s", exp.UTC().Format("2006-01-02T15:04:05Z")))
	default:
		set(tenantryv1alpha1.ConditionExpired, metav1.ConditionFalse, tenantryv1alpha1.ReasonNotExpired,
			fmt.Sprintf("Paid until %s", exp.UTC().Format("2006-01-02T15:04:05Z")))
	}

	if s.releasing {
		st.State = tenantryv1alpha1.StateReleasing
		if s.retainUntil != nil {
			st.RetainUntil = s.retainUntil
		}
		msg := "Stopping the app and deleting the tenant namespace"
		reason := tenantryv1alpha1.ReasonReleasing
		if s.retainedUntil != nil {
			reason = tenantryv1alpha1.ReasonRetained
			msg = fmt.Sprintf("Released; kept frozen until %s by the plan's retention period", s.retainedUntil.UTC().Format("2006-01-02T15:04:05Z"))
		}
		if s.stalledReason != "" {
			reason, msg = s.stalledReason, s.stalledMessage
			set(tenantryv1alpha1.ConditionStalled, metav1.ConditionTrue, reason, msg)
			meta.RemoveStatusCondition(&st.Conditions, tenantryv1alpha1.ConditionReconciling)
		} else {
			meta.RemoveStatusCondition(&st.Conditions, tenantryv1alpha1.ConditionStalled)
			set(tenantryv1alpha1.ConditionReconciling, metav1.ConditionTrue, reason, msg)
		}
		set(tenantryv1alpha1.ConditionReady, metav1.ConditionFalse, reason, msg)
		return
	}

	if s.stalledReason != "" {
		st.State = tenantryv1alpha1.StateStalled
		set(tenantryv1alpha1.ConditionStalled, metav1.ConditionTrue, s.stalledReason, s.stalledMessage)
		set(tenantryv1alpha1.ConditionReady, metav1.ConditionFalse, s.stalledReason, s.stalledMessage)
		meta.RemoveStatusCondition(&st.Conditions, tenantryv1alpha1.ConditionReconciling)
		return
	}
	meta.RemoveStatusCondition(&st.Conditions, tenantryv1alpha1.ConditionStalled)

	if s.desired == nil {
		// The loop failed before it knew the plan: say so without inventing anything else.
		msg := "Reconcile failed"
		if reconcileErr != nil {
			msg = reconcileErr.Error()
		}
		set(tenantryv1alpha1.ConditionReconciling, metav1.ConditionTrue, tenantryv1alpha1.ReasonProgressing, msg)
		set(tenantryv1alpha1.ConditionReady, metav1.ConditionFalse, tenantryv1alpha1.ReasonProgressing, msg)
		st.State = tenantryv1alpha1.StateProvisioning
		return
	}

	d := s.desired
	st.Plan = d.Plan.Name
	st.URL = d.URL()
	st.AdminURL = d.AdminURL()
	st.Replicas = d.Replicas()
	st.AdminAccountSecretRef = &tenantryv1alpha1.SecretReference{Namespace: d.namespace(), Name: tenantryv1alpha1.AdminSecretName}

	// Frozen is what the Deployment shows, not what was asked of it: True only once it runs no
	// replica, so that a freeze that could not be applied is never reported as done.
	atZero := deploymentAtZero(s.deployment)
	frozenReason, frozenMsg := tenantryv1alpha1.ReasonFrozenByMarketplace, "Frozen by the marketplace; scaled to zero, all data kept"
	if s.frozenByExpiry {
		frozenReason, frozenMsg = tenantryv1alpha1.ReasonFrozenByExpiry,
			"The paid period and the plan's grace period have passed; scaled to zero, all data kept"
	}
	_, scaling := workloadReady(s.deployment, 0)
	switch {
	case d.Frozen && atZero:
		set(tenantryv1alpha1.ConditionFrozen, metav1.ConditionTrue, frozenReason, frozenMsg)
		if st.FrozenSince == nil {
			t := metav1.NewTime(s.now)
			st.FrozenSince = &t
		}
	case d.Frozen:
		set(tenantryv1alpha1.ConditionFrozen, metav1.ConditionFalse, tenantryv1alpha1.ReasonFreezing, "Freezing: "+scaling)
	default:
		set(tenantryv1alpha1.ConditionFrozen, metav1.ConditionFalse, tenantryv1alpha1.ReasonActive, "Serving")
		st.FrozenSince = nil
	}

	ready, why := workloadReady(s.deployment, d.Replicas())
	if s.deployment != nil {
		st.ReadyReplicas = s.deployment.ReadyReplicas
	}
	failureReason := tenantryv1alpha1.ReasonApplyFailed
	var optErr *optionalStepError
	if errors.As(reconcileErr, &optErr) {
		failureReason = tenantryv1alpha1.ReasonOptionalStepFailed
	}
	switch {
	case reconcileErr != nil:
		why, ready = reconcileErr.Error(), false
	case s.waitingFor != "":
		why, ready = s.waitingFor, false
	}
	// state follows the Deployment: Frozen once it is at zero, Running once it serves.
	switch {
	case d.Frozen && atZero:
		st.State = tenantryv1alpha1.StateFrozen
	case ready && !d.Frozen:
		st.State = tenantryv1alpha1.StateRunning
	default:
		st.State = tenantryv1alpha1.StateProvisioning
	}
	if ready {
		reason, msg := tenantryv1alpha1.ReasonAvailable, fmt.Sprintf("Serving %s with %d ready replicas", st.URL, st.ReadyReplicas)
		if d.Frozen {
			reason, msg = tenantryv1alpha1.ConditionFrozen, "Scaled to zero on purpose; all data kept"
		}
		set(tenantryv1alpha1.ConditionReady, metav1.ConditionTrue, reason, msg)
		meta.RemoveStatusCondition(&st.Conditions, tenantryv1alpha1.ConditionReconciling)
		return
	}
	reason := tenantryv1alpha1.ReasonProgressing
	if reconcileErr != nil {
		reason = failureReason
	}
	set(tenantryv1alpha1.ConditionReconciling, metav1.ConditionTrue, reason, why)
	set(tenantryv1alpha1.ConditionReady, metav1.ConditionFalse, reason, why)
}

// deploymentAtZero says whether the Deployment as observed is asked for no replica and runs none.
func deploymentAtZero(d *childcache.DeploymentCounts) bool {
	if d == nil || d.Replicas == nil || *d.Replicas != 0 {
		return false
	}
	ok, _ := workloadReady(d, 0)
	return ok && (d.TerminatingReplicas == nil || *d.TerminatingReplicas == 0)
}

// workloadReady says whether the Deployment has caught up with the replicas the tenant should run.
func workloadReady(d *childcache.DeploymentCounts, want int32) (bool, string) {
	if d == nil {
		return false, "Waiting for the app Deployment to be created"
	}
	if d.ObservedGeneration < d.Generation {
		return false, "Waiting for the Deployment controller to observe the new spec"
	}
	if want == 0 {
		if d.StatusReplicas > 0 {
			return false, fmt.Sprintf("Scaling down: %d replicas still running", d.StatusReplicas)
		}
		return true, ""
	}
	if d.UpdatedReplicas < want || d.AvailableReplicas < want || d.StatusReplicas > want {
		return false, fmt.Sprintf("Waiting for %d available replicas (%d available, %d updated)",
			want, d.AvailableReplicas, d.UpdatedReplicas)
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
