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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/childcache"
	"github.com/tenantry/tenantry/internal/outcome"
)

// statusNow and statusGen are the clock and generation of every reconcile in the status tables.
var statusNow = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

const statusGen = 4

// cond is a condition as a reconcile at statusNow of generation statusGen sets it.
func cond(t string, status metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: t, Status: status, Reason: reason, Message: msg, ObservedGeneration: statusGen, LastTransitionTime: metav1.NewTime(statusNow)}
}

// observedDeploy is an app Deployment as the Deployment controller reports it.
func observedDeploy(spec int32, observed int64, replicas, updated, available, ready int32, terminating *int32) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	d.Generation = 7
	d.Spec.Replicas = ptr.To(spec)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: replicas, UpdatedReplicas: updated,
		AvailableReplicas: available, ReadyReplicas: ready, TerminatingReplicas: terminating}
	return d
}

// observeDeployment is what the status sees of d once the child cache has recorded it; nil for nil.
func observeDeployment(d *appsv1.Deployment) *childcache.DeploymentCounts {
	if d == nil {
		return nil
	}
	counts := childcache.DeploymentCountsOf(d)
	return &counts
}

// statusIn is what a reconcile observed and how it ended, in the terms the status is derived from.
type statusIn struct {
	prior          v1.TenantInstanceStatus
	expiresAt      *metav1.Time
	releasing      bool
	retainUntil    *metav1.Time
	retainedUntil  *time.Time
	stalled        [2]string // reason, message
	waiting        string
	err            error
	frozen         bool
	planned        bool // the plan was resolved: Desired is known
	frozenByExpiry bool
	deployment     *appsv1.Deployment
	listener       listenerState
}

// composeStatus derives the status of instance t1 from in, as finalizeStatus does.
func composeStatus(in statusIn) v1.TenantInstanceStatus {
	ti := instance(v1.TenantDomain{})
	ti.Generation = statusGen
	ti.Spec.ExpiresAt = in.expiresAt
	ti.Status = *in.prior.DeepCopy()
	s := &scope{instance: ti, before: ti.DeepCopy(), now: statusNow,
		releasing: in.releasing, retainUntil: in.retainUntil, retainedUntil: in.retainedUntil,
		frozenByExpiry: in.frozenByExpiry, listener: in.listener}
	if in.planned {
		s.desired = &Desired{Instance: ti, Plan: plan(), Frozen: in.frozen}
	}
	if in.stalled[0] != "" {
		s.stalled = &outcome.Stalling{Reason: in.stalled[0], Message: in.stalled[1]}
	}
	if in.waiting != "" {
		s.waiting = &outcome.Waiting{Reason: v1.ReasonProgressing, Message: in.waiting, Proceed: true}
	}
	s.deployment = observeDeployment(in.deployment)
	computeStatus(s, in.err)
	return ti.Status
}

// TestComposedStatus is the whole status for every branch of its derivation: conditions (their
// order included), state and every other field, from a fresh status and from a prior one.
func TestComposedStatus(t *testing.T) {
	ns := v1.NamespaceName("t1")
	at := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: statusNow.Add(d)} }
	earlier := metav1.NewTime(statusNow.Add(-time.Hour))
	old := func(c metav1.Condition) metav1.Condition {
		c.LastTransitionTime, c.ObservedGeneration = earlier, statusGen-1
		return c
	}
	noExpiry := cond(v1.ConditionExpired, metav1.ConditionFalse, v1.ReasonNoExpiry, "The order has no paid period end")
	active := cond(v1.ConditionFrozen, metav1.ConditionFalse, v1.ReasonActive, "Serving")
	const url = "http://t1.apps.example.com"
	planned := func(st v1.TenantInstanceStatus, replicas int32) v1.TenantInstanceStatus {
		st.ObservedGeneration, st.Namespace = statusGen, ns
		st.Plan, st.URL, st.AdminURL, st.Replicas = "p", url, url+"/admin", replicas
		st.AdminAccountSecretRef = &v1.SecretReference{Namespace: ns, Name: v1.AdminSecretName}
		return st
	}
	base := func(st v1.TenantInstanceStatus) v1.TenantInstanceStatus {
		st.ObservedGeneration, st.Namespace = statusGen, ns
		return st
	}
	serving := observedDeploy(3, 7, 3, 3, 3, 3, nil)
	rolling := observedDeploy(3, 7, 3, 2, 1, 1, nil)
	atZero := observedDeploy(0, 7, 0, 0, 0, 0, ptr.To[int32](0))
	assignment := &v1.ListenerAssignment{Pool: "pool", ELBID: "elb-1", Port: 443}
	decided := listenerState{decided: true, assignment: assignment}
	const stallMsg = "host t1.apps.example.com is held by TenantInstance \"other\""
	const retainMsg = "Released; kept frozen until 2026-05-03T10:00:00Z by the plan's retention period"
	const releaseMsg = "Stopping the app and deleting the tenant namespace"
	const tlsWait = "shared TLS Secret certs/wild not found"
	frozenMsg := "Frozen by the marketplace; scaled to zero, all data kept"
	frozenReady := cond(v1.ConditionReady, metav1.ConditionTrue, v1.ConditionFrozen, "Scaled to zero on purpose; all data kept")
	retained := statusNow.Add(48 * time.Hour)

	for _, tc := range []struct {
		name string
		in   statusIn
		want v1.TenantInstanceStatus
	}{
		{"releasing", statusIn{releasing: true},
			base(v1.TenantInstanceStatus{State: v1.StateReleasing, Conditions: []metav1.Condition{noExpiry,
				cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonReleasing, releaseMsg),
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonReleasing, releaseMsg)}})},
		{"releasing, retention over: retainUntil recorded", statusIn{releasing: true, retainUntil: at(-time.Minute)},
			base(v1.TenantInstanceStatus{State: v1.StateReleasing, RetainUntil: at(-time.Minute), Conditions: []metav1.Condition{noExpiry,
				cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonReleasing, releaseMsg),
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonReleasing, releaseMsg)}})},
		{"retained, a former Stalled removed", statusIn{releasing: true, retainUntil: at(48 * time.Hour), retainedUntil: &retained,
			prior: v1.TenantInstanceStatus{Conditions: []metav1.Condition{
				old(cond(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonRetentionUnknown, "unknown"))}}},
			base(v1.TenantInstanceStatus{State: v1.StateReleasing, RetainUntil: at(48 * time.Hour), Conditions: []metav1.Condition{noExpiry,
				cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonRetained, retainMsg),
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonRetained, retainMsg)}})},
		{"stalled while releasing", statusIn{releasing: true, retainUntil: at(48 * time.Hour), retainedUntil: &retained,
			stalled: [2]string{v1.ReasonRetentionUnknown, "retention unknown"},
			prior: v1.TenantInstanceStatus{State: v1.StateRunning, Plan: "p", Conditions: []metav1.Condition{
				old(cond(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonAvailable, "Serving")),
				old(cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonReleasing, releaseMsg))}}},
			base(v1.TenantInstanceStatus{State: v1.StateReleasing, Plan: "p", RetainUntil: at(48 * time.Hour), Conditions: []metav1.Condition{
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonRetentionUnknown, "retention unknown"), noExpiry,
				cond(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonRetentionUnknown, "retention unknown")}})},
		{"stalled: plan fields and load balancer left as they were", statusIn{planned: true, deployment: serving, listener: decided,
			stalled: [2]string{v1.ReasonHostConflict, stallMsg}, waiting: tlsWait, err: errors.New("applying ingress: boom"),
			prior: v1.TenantInstanceStatus{Plan: "old", ReadyReplicas: 1, LoadBalancer: &v1.ListenerAssignment{Pool: "pool", ELBID: "elb-0", Port: 80},
				Conditions: []metav1.Condition{old(active), old(cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, "x"))}}},
			base(v1.TenantInstanceStatus{State: v1.StateStalled, Plan: "old", ReadyReplicas: 1,
				LoadBalancer: &v1.ListenerAssignment{Pool: "pool", ELBID: "elb-0", Port: 80},
				Conditions: []metav1.Condition{old(active), noExpiry,
					cond(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonHostConflict, stallMsg),
					cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonHostConflict, stallMsg)}})},
		{"stalled before the plan is known", statusIn{stalled: [2]string{v1.ReasonPlanNotFound, "no TenantPlan lists SKU \"S\""}},
			base(v1.TenantInstanceStatus{State: v1.StateStalled, Conditions: []metav1.Condition{noExpiry,
				cond(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonPlanNotFound, "no TenantPlan lists SKU \"S\""),
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonPlanNotFound, "no TenantPlan lists SKU \"S\"")}})},
		{"no plan, an error", statusIn{err: errors.New("listing plans for SKU \"S\": boom"),
			prior: v1.TenantInstanceStatus{Conditions: []metav1.Condition{old(cond(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonPlanNotFound, "none"))}}},
			base(v1.TenantInstanceStatus{State: v1.StateProvisioning, Conditions: []metav1.Condition{noExpiry,
				cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, "listing plans for SKU \"S\": boom"),
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonProgressing, "listing plans for SKU \"S\": boom")}})},
		{"no plan, no error", statusIn{},
			base(v1.TenantInstanceStatus{State: v1.StateProvisioning, Conditions: []metav1.Condition{noExpiry,
				cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, "Reconcile failed"),
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonProgressing, "Reconcile failed")}})},
		{"Deployment not observed yet: frozenSince cleared, readyReplicas kept", statusIn{planned: true,
			prior: v1.TenantInstanceStatus{ReadyReplicas: 2, FrozenSince: &earlier}},
			planned(v1.TenantInstanceStatus{State: v1.StateProvisioning, ReadyReplicas: 2, Conditions: []metav1.Condition{noExpiry, active,
				cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, "Waiting for the app Deployment to run 3 available replicas of the current spec"),
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonProgressing, "Waiting for the app Deployment to run 3 available replicas of the current spec")}}, 3)},
		{"ready, on a listener", statusIn{planned: true, deployment: serving, listener: decided,
			prior: v1.TenantInstanceStatus{Conditions: []metav1.Condition{old(cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, "x"))}}},
			planned(v1.TenantInstanceStatus{State: v1.StateRunning, ReadyReplicas: 3, LoadBalancer: assignment, Conditions: []metav1.Condition{noExpiry, active,
				cond(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonAvailable, "Serving "+url+" with 3 ready replicas")}}, 3)},
		{"ready, on no listener any more", statusIn{planned: true, deployment: serving, listener: listenerState{decided: true},
			prior: v1.TenantInstanceStatus{LoadBalancer: assignment}},
			planned(v1.TenantInstanceStatus{State: v1.StateRunning, ReadyReplicas: 3, Conditions: []metav1.Condition{noExpiry, active,
				cond(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonAvailable, "Serving "+url+" with 3 ready replicas")}}, 3)},
		{"rolling out", statusIn{planned: true, deployment: rolling},
			planned(v1.TenantInstanceStatus{State: v1.StateProvisioning, ReadyReplicas: 1, Conditions: []metav1.Condition{noExpiry, active,
				cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, "Waiting for the app Deployment to run 3 available replicas of the current spec"),
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonProgressing, "Waiting for the app Deployment to run 3 available replicas of the current spec")}}, 3)},
		{"new spec not observed by the Deployment controller", statusIn{planned: true, deployment: observedDeploy(3, 6, 3, 3, 3, 3, nil)},
			planned(v1.TenantInstanceStatus{State: v1.StateProvisioning, ReadyReplicas: 3, Conditions: []metav1.Condition{noExpiry, active,
				cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, "Waiting for the app Deployment to run 3 available replicas of the current spec"),
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonProgressing, "Waiting for the app Deployment to run 3 available replicas of the current spec")}}, 3)},
		{"frozen at zero", statusIn{planned: true, frozen: true, deployment: atZero},
			planned(v1.TenantInstanceStatus{State: v1.StateFrozen, FrozenSince: &metav1.Time{Time: statusNow}, Conditions: []metav1.Condition{noExpiry,
				cond(v1.ConditionFrozen, metav1.ConditionTrue, v1.ReasonFrozenByMarketplace, frozenMsg), frozenReady}}, 0)},
		{"still frozen: frozenSince and transition times kept", statusIn{planned: true, frozen: true, deployment: atZero,
			prior: v1.TenantInstanceStatus{FrozenSince: &earlier, Conditions: []metav1.Condition{
				old(noExpiry), old(cond(v1.ConditionFrozen, metav1.ConditionTrue, v1.ReasonFrozenByMarketplace, frozenMsg)), old(frozenReady)}}},
			planned(v1.TenantInstanceStatus{State: v1.StateFrozen, FrozenSince: &earlier, Conditions: []metav1.Condition{
				func() metav1.Condition { c := noExpiry; c.LastTransitionTime = earlier; return c }(),
				func() metav1.Condition {
					c := cond(v1.ConditionFrozen, metav1.ConditionTrue, v1.ReasonFrozenByMarketplace, frozenMsg)
					c.LastTransitionTime = earlier
					return c
				}(),
				func() metav1.Condition { c := frozenReady; c.LastTransitionTime = earlier; return c }()}}, 0)},
		{"freezing: replicas still running", statusIn{planned: true, frozen: true, deployment: observedDeploy(0, 7, 2, 0, 2, 2, nil),
			prior: v1.TenantInstanceStatus{FrozenSince: &earlier}},
			planned(v1.TenantInstanceStatus{State: v1.StateProvisioning, FrozenSince: &earlier, ReadyReplicas: 2, Conditions: []metav1.Condition{noExpiry,
				cond(v1.ConditionFrozen, metav1.ConditionFalse, v1.ReasonFreezing, "Freezing: Waiting for the app Deployment to scale to zero"),
				cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, "Waiting for the app Deployment to scale to zero"),
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonProgressing, "Waiting for the app Deployment to scale to zero")}}, 0)},
		{"freezing: a replica still terminating", statusIn{planned: true, frozen: true, deployment: observedDeploy(0, 7, 0, 0, 0, 0, ptr.To[int32](1))},
			planned(v1.TenantInstanceStatus{State: v1.StateProvisioning, Conditions: []metav1.Condition{noExpiry,
				cond(v1.ConditionFrozen, metav1.ConditionFalse, v1.ReasonFreezing, "Freezing: "), frozenReady}}, 0)},
		{"freezing: the Deployment still asked for replicas", statusIn{planned: true, frozen: true, deployment: observedDeploy(3, 7, 0, 0, 0, 0, nil)},
			planned(v1.TenantInstanceStatus{State: v1.StateProvisioning, Conditions: []metav1.Condition{noExpiry,
				cond(v1.ConditionFrozen, metav1.ConditionFalse, v1.ReasonFreezing, "Freezing: "), frozenReady}}, 0)},
		{"frozen by expiry", statusIn{planned: true, frozen: true, frozenByExpiry: true, deployment: atZero, expiresAt: at(-96 * time.Hour)},
			planned(v1.TenantInstanceStatus{State: v1.StateFrozen, FrozenSince: &metav1.Time{Time: statusNow}, Conditions: []metav1.Condition{
				cond(v1.ConditionExpired, metav1.ConditionTrue, v1.ReasonPeriodEnded, "The paid period ended at 2026-04-27T10:00:00Z"),
				cond(v1.ConditionFrozen, metav1.ConditionTrue, v1.ReasonFrozenByExpiry, "The paid period and the plan's grace period have passed; scaled to zero, all data kept"),
				frozenReady}}, 0)},
		{"unfrozen: serving again", statusIn{planned: true, deployment: serving,
			prior: v1.TenantInstanceStatus{State: v1.StateFrozen, FrozenSince: &earlier, Conditions: []metav1.Condition{
				old(cond(v1.ConditionFrozen, metav1.ConditionTrue, v1.ReasonFrozenByMarketplace, frozenMsg)), old(frozenReady)}}},
			planned(v1.TenantInstanceStatus{State: v1.StateRunning, ReadyReplicas: 3, Conditions: []metav1.Condition{active,
				func() metav1.Condition {
					c := cond(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonAvailable, "Serving "+url+" with 3 ready replicas")
					c.LastTransitionTime = earlier // the status did not change, only the reason
					return c
				}(), noExpiry}}, 3)},
		{"an optional step failed", statusIn{planned: true, deployment: serving, err: &optionalStepError{err: errors.New("applying tenant info config map: boom")}},
			planned(v1.TenantInstanceStatus{State: v1.StateProvisioning, ReadyReplicas: 3, Conditions: []metav1.Condition{noExpiry, active,
				cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonOptionalStepFailed, "applying tenant info config map: boom"),
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonOptionalStepFailed, "applying tenant info config map: boom")}}, 3)},
		{"waiting", statusIn{planned: true, deployment: serving, waiting: tlsWait},
			planned(v1.TenantInstanceStatus{State: v1.StateProvisioning, ReadyReplicas: 3, Conditions: []metav1.Condition{noExpiry, active,
				cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, tlsWait),
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonProgressing, tlsWait)}}, 3)},
		{"an apply failed, while waiting too", statusIn{planned: true, deployment: serving, waiting: tlsWait, err: errors.New("applying app service: boom")},
			planned(v1.TenantInstanceStatus{State: v1.StateProvisioning, ReadyReplicas: 3, Conditions: []metav1.Condition{noExpiry, active,
				cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonApplyFailed, "applying app service: boom"),
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonApplyFailed, "applying app service: boom")}}, 3)},
		{"frozen at zero, an apply failed", statusIn{planned: true, frozen: true, deployment: atZero, err: errors.New("applying ingress: boom")},
			planned(v1.TenantInstanceStatus{State: v1.StateFrozen, FrozenSince: &metav1.Time{Time: statusNow}, Conditions: []metav1.Condition{noExpiry,
				cond(v1.ConditionFrozen, metav1.ConditionTrue, v1.ReasonFrozenByMarketplace, frozenMsg),
				cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonApplyFailed, "applying ingress: boom"),
				cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonApplyFailed, "applying ingress: boom")}}, 0)},
		{"not expired", statusIn{planned: true, deployment: serving, expiresAt: at(24 * time.Hour)},
			planned(v1.TenantInstanceStatus{State: v1.StateRunning, ReadyReplicas: 3, Conditions: []metav1.Condition{
				cond(v1.ConditionExpired, metav1.ConditionFalse, v1.ReasonNotExpired, "Paid until 2026-05-02T10:00:00Z"), active,
				cond(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonAvailable, "Serving "+url+" with 3 ready replicas")}}, 3)},
		{"expired at this very moment, not frozen", statusIn{planned: true, deployment: serving, expiresAt: at(0)},
			planned(v1.TenantInstanceStatus{State: v1.StateRunning, ReadyReplicas: 3, Conditions: []metav1.Condition{
				cond(v1.ConditionExpired, metav1.ConditionTrue, v1.ReasonPeriodEnded, "The paid period ended at 2026-05-01T10:00:00Z"), active,
				cond(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonAvailable, "Serving "+url+" with 3 ready replicas")}}, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, composeStatus(tc.in)); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}
