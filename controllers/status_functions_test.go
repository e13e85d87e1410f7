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

// One table per function computeStatus is made of: what it is given, what it sets.

var testStamp = stamp{generation: statusGen, now: statusNow}

// conditionsAfter runs set on a status holding prior and returns the conditions it leaves.
func conditionsAfter(prior []metav1.Condition, set func(st *v1.TenantInstanceStatus)) []metav1.Condition {
	st := &v1.TenantInstanceStatus{}
	for _, c := range prior {
		st.Conditions = append(st.Conditions, *c.DeepCopy())
	}
	set(st)
	return st.Conditions
}

func TestSetExpiredCondition(t *testing.T) {
	at := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: statusNow.Add(d)} }
	for _, tc := range []struct {
		name      string
		expiresAt *metav1.Time
		want      metav1.Condition
	}{
		{"no expiry", nil, cond(v1.ConditionExpired, metav1.ConditionFalse, v1.ReasonNoExpiry, "The order has no paid period end")},
		{"paid until later", at(90 * time.Minute), cond(v1.ConditionExpired, metav1.ConditionFalse, v1.ReasonNotExpired, "Paid until 2026-05-01T11:30:00Z")},
		{"ends now", at(0), cond(v1.ConditionExpired, metav1.ConditionTrue, v1.ReasonPeriodEnded, "The paid period ended at 2026-05-01T10:00:00Z")},
		{"ended", at(-time.Hour), cond(v1.ConditionExpired, metav1.ConditionTrue, v1.ReasonPeriodEnded, "The paid period ended at 2026-05-01T09:00:00Z")},
		{"in another zone, written in UTC", &metav1.Time{Time: statusNow.Add(time.Hour).In(time.FixedZone("CST", 8*3600))},
			cond(v1.ConditionExpired, metav1.ConditionFalse, v1.ReasonNotExpired, "Paid until 2026-05-01T11:00:00Z")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := conditionsAfter(nil, func(st *v1.TenantInstanceStatus) { setExpiredCondition(st, testStamp, tc.expiresAt) })
			if diff := cmp.Diff([]metav1.Condition{tc.want}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetLoadBalancer(t *testing.T) {
	recorded := &v1.ListenerAssignment{Pool: "pool", ELBID: "elb-0", Port: 80}
	chosen := &v1.ListenerAssignment{Pool: "pool", ELBID: "elb-1", Port: 443}
	stall := &outcome.Stalling{Reason: v1.ReasonHostConflict}
	for _, tc := range []struct {
		name     string
		listener listenerState
		stalled  *outcome.Stalling
		want     *v1.ListenerAssignment
	}{
		{"not decided: kept", listenerState{}, nil, recorded},
		{"decided: the choice", listenerState{decided: true, assignment: chosen}, nil, chosen},
		{"decided on none: cleared", listenerState{decided: true}, nil, nil},
		{"stalled: kept", listenerState{decided: true, assignment: chosen}, stall, recorded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &v1.TenantInstanceStatus{LoadBalancer: recorded}
			setLoadBalancer(st, tc.listener, tc.stalled)
			if diff := cmp.Diff(tc.want, st.LoadBalancer); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetRetainUntil(t *testing.T) {
	recorded := &metav1.Time{Time: statusNow.Add(time.Hour)}
	for _, tc := range []struct {
		name        string
		prior, give *metav1.Time
		want        *metav1.Time
	}{
		{"unknown yet", nil, nil, nil},
		{"known", nil, recorded, recorded},
		{"unknown keeps the record", recorded, nil, recorded},
	} {
		st := &v1.TenantInstanceStatus{RetainUntil: tc.prior}
		setRetainUntil(st, tc.give)
		if !cmp.Equal(tc.want, st.RetainUntil) {
			t.Errorf("%s: retainUntil = %v, want %v", tc.name, st.RetainUntil, tc.want)
		}
	}
}

func TestSetPlanFields(t *testing.T) {
	dedicated := v1.TenantDomain{Type: v1.DomainDedicated, Host: "erp.example.org"}
	adminPath := plan()
	adminPath.Spec.App.AdminPath = "/console"
	ref := &v1.SecretReference{Namespace: v1.NamespaceName("t1"), Name: v1.AdminSecretName}
	for _, tc := range []struct {
		name string
		d    Desired
		want v1.TenantInstanceStatus
	}{
		{"shared", Desired{Instance: instance(v1.TenantDomain{}), Plan: plan()},
			v1.TenantInstanceStatus{Plan: "p", URL: "http://t1.apps.example.com", AdminURL: "http://t1.apps.example.com/admin", Replicas: 3, AdminAccountSecretRef: ref}},
		{"dedicated, own admin path", Desired{Instance: instance(dedicated), Plan: adminPath},
			v1.TenantInstanceStatus{Plan: "p", URL: "https://erp.example.org", AdminURL: "https://erp.example.org/console", Replicas: 3, AdminAccountSecretRef: ref}},
		{"frozen: no replicas asked", Desired{Instance: instance(v1.TenantDomain{}), Plan: plan(), Frozen: true},
			v1.TenantInstanceStatus{Plan: "p", URL: "http://t1.apps.example.com", AdminURL: "http://t1.apps.example.com/admin", Replicas: 0, AdminAccountSecretRef: ref}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &v1.TenantInstanceStatus{}
			setPlanFields(st, &tc.d)
			if diff := cmp.Diff(tc.want, *st); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// Deployments as observed, for the tables below.
var (
	depServing     = observeDeployment(observedDeploy(3, 7, 3, 3, 3, 3, nil))
	depRolling     = observeDeployment(observedDeploy(3, 7, 3, 2, 1, 1, nil))
	depUnobserved  = observeDeployment(observedDeploy(3, 6, 3, 3, 3, 3, nil))
	depAtZero      = observeDeployment(observedDeploy(0, 7, 0, 0, 0, 0, nil))
	depScalingDown = observeDeployment(observedDeploy(0, 7, 2, 0, 2, 2, nil))
	depTerminating = observeDeployment(observedDeploy(0, 7, 0, 0, 0, 0, ptr.To[int32](1)))
	depAskedForSix = observeDeployment(observedDeploy(6, 7, 0, 0, 0, 0, nil))
)

func TestDeploymentAtZero(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    *childcache.DeploymentCounts
		want bool
	}{
		{"not observed", nil, false},
		{"replicas unset", observeDeployment(&appsv1.Deployment{}), false},
		{"at zero", depAtZero, true},
		{"asked for replicas", depAskedForSix, false},
		{"scaling down", depScalingDown, false},
		{"a replica terminating", depTerminating, false},
		{"new spec not observed", observeDeployment(observedDeploy(0, 6, 0, 0, 0, 0, nil)), false},
	} {
		if got := deploymentAtZero(tc.d); got != tc.want {
			t.Errorf("%s: deploymentAtZero = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSetFrozenCondition(t *testing.T) {
	byMarketplace := cond(v1.ConditionFrozen, metav1.ConditionTrue, v1.ReasonFrozenByMarketplace, "Frozen by the marketplace; scaled to zero, all data kept")
	for _, tc := range []struct {
		name             string
		frozen, byExpiry bool
		dep              *childcache.DeploymentCounts
		want             metav1.Condition
	}{
		{"frozen at zero", true, false, depAtZero, byMarketplace},
		{"frozen by expiry at zero", true, true, depAtZero,
			cond(v1.ConditionFrozen, metav1.ConditionTrue, v1.ReasonFrozenByExpiry, "The paid period and the plan's grace period have passed; scaled to zero, all data kept")},
		{"freezing, scaling down", true, false, depScalingDown,
			cond(v1.ConditionFrozen, metav1.ConditionFalse, v1.ReasonFreezing, "Freezing: Waiting for the app Deployment to scale to zero")},
		{"freezing, Deployment not observed", true, true, nil,
			cond(v1.ConditionFrozen, metav1.ConditionFalse, v1.ReasonFreezing, "Freezing: Waiting for the app Deployment to scale to zero")},
		{"freezing, a replica terminating", true, false, depTerminating, cond(v1.ConditionFrozen, metav1.ConditionFalse, v1.ReasonFreezing, "Freezing: ")},
		{"active", false, false, depServing, cond(v1.ConditionFrozen, metav1.ConditionFalse, v1.ReasonActive, "Serving")},
		{"active, even at zero", false, true, depAtZero, cond(v1.ConditionFrozen, metav1.ConditionFalse, v1.ReasonActive, "Serving")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := conditionsAfter(nil, func(st *v1.TenantInstanceStatus) { setFrozenCondition(st, testStamp, tc.frozen, tc.byExpiry, tc.dep) })
			if diff := cmp.Diff([]metav1.Condition{tc.want}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// Still frozen: the condition keeps its transition time.
	old := byMarketplace
	old.LastTransitionTime = metav1.NewTime(statusNow.Add(-time.Hour))
	got := conditionsAfter([]metav1.Condition{old}, func(st *v1.TenantInstanceStatus) { setFrozenCondition(st, testStamp, true, false, depAtZero) })
	if !got[0].LastTransitionTime.Equal(&old.LastTransitionTime) {
		t.Errorf("lastTransitionTime = %v, want the earlier %v", got[0].LastTransitionTime, old.LastTransitionTime)
	}
}

func TestSetFrozenSince(t *testing.T) {
	earlier := &metav1.Time{Time: statusNow.Add(-time.Hour)}
	now := &metav1.Time{Time: statusNow}
	for _, tc := range []struct {
		name   string
		prior  *metav1.Time
		frozen bool
		dep    *childcache.DeploymentCounts
		want   *metav1.Time
	}{
		{"first seen at zero", nil, true, depAtZero, now},
		{"still at zero: kept", earlier, true, depAtZero, earlier},
		{"freezing: not yet", nil, true, depScalingDown, nil},
		{"frozen, a replica back: kept", earlier, true, depScalingDown, earlier},
		{"unfrozen: cleared", earlier, false, depServing, nil},
		{"unfrozen, still at zero: cleared", earlier, false, depAtZero, nil},
	} {
		st := &v1.TenantInstanceStatus{FrozenSince: tc.prior}
		setFrozenSince(st, statusNow, tc.frozen, tc.dep)
		if !cmp.Equal(tc.want, st.FrozenSince) {
			t.Errorf("%s: frozenSince = %v, want %v", tc.name, st.FrozenSince, tc.want)
		}
	}
}

func TestSetReadyReplicas(t *testing.T) {
	for _, tc := range []struct {
		name  string
		dep   *childcache.DeploymentCounts
		prior int32
		want  int32
	}{
		{"not observed: kept", nil, 2, 2},
		{"observed", depRolling, 2, 1},
		{"observed at zero", depAtZero, 2, 0},
	} {
		st := &v1.TenantInstanceStatus{ReadyReplicas: tc.prior}
		setReadyReplicas(st, tc.dep)
		if st.ReadyReplicas != tc.want {
			t.Errorf("%s: readyReplicas = %d, want %d", tc.name, st.ReadyReplicas, tc.want)
		}
	}
}

func TestSetStalledCondition(t *testing.T) {
	prior := []metav1.Condition{cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonProgressing, "x"),
		cond(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonPlanNotFound, "no plan")}
	for _, tc := range []struct {
		name    string
		prior   []metav1.Condition
		stalled *outcome.Stalling
		want    []metav1.Condition
	}{
		{"not stalled: none", nil, nil, nil},
		{"no longer stalled: removed", prior, nil, prior[:1]},
		{"stalled", nil, &outcome.Stalling{Reason: v1.ReasonHostConflict, Message: "held"},
			[]metav1.Condition{cond(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonHostConflict, "held")}},
		{"stalled otherwise", prior, &outcome.Stalling{Reason: v1.ReasonHostConflict, Message: "held"},
			[]metav1.Condition{prior[0], cond(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonHostConflict, "held")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := conditionsAfter(tc.prior, func(st *v1.TenantInstanceStatus) { setStalledCondition(st, testStamp, tc.stalled) })
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestReleasingReadiness(t *testing.T) {
	until := statusNow.Add(48 * time.Hour)
	stall := &outcome.Stalling{Reason: v1.ReasonRetentionUnknown, Message: "retention unknown"}
	for _, tc := range []struct {
		name    string
		until   *time.Time
		stalled *outcome.Stalling
		want    readiness
	}{
		{"deleting", nil, nil, readiness{reason: v1.ReasonReleasing, message: "Stopping the app and deleting the tenant namespace"}},
		{"retained", &until, nil, readiness{reason: v1.ReasonRetained, message: "Released; kept frozen until 2026-05-03T10:00:00Z by the plan's retention period"}},
		{"stalled, retained", &until, stall, readiness{reason: v1.ReasonRetentionUnknown, message: "retention unknown"}},
		{"stalled", nil, stall, readiness{reason: v1.ReasonRetentionUnknown, message: "retention unknown"}},
	} {
		if got := releasingReadiness(tc.until, tc.stalled); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestUnplannedReadiness(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want readiness
	}{
		{nil, readiness{reason: v1.ReasonProgressing, message: "Reconcile failed"}},
		{errors.New("listing plans: boom"), readiness{reason: v1.ReasonProgressing, message: "listing plans: boom"}},
	} {
		if got := unplannedReadiness(tc.err); got != tc.want {
			t.Errorf("unplannedReadiness(%v) = %+v, want %+v", tc.err, got, tc.want)
		}
	}
}

func TestWorkloadReadiness(t *testing.T) {
	running := &Desired{Instance: instance(v1.TenantDomain{}), Plan: plan()}
	frozen := &Desired{Instance: instance(v1.TenantDomain{}), Plan: plan(), Frozen: true}
	boom := errors.New("applying app service: boom")
	optional := &optionalStepError{err: errors.New("applying tenant info config map: boom")}
	tls := &outcome.Waiting{Reason: v1.ReasonProgressing, Message: "shared TLS Secret certs/wild not found", Proceed: true}
	progressing := func(msg string) readiness { return readiness{reason: v1.ReasonProgressing, message: msg} }
	for _, tc := range []struct {
		name    string
		d       *Desired
		dep     *childcache.DeploymentCounts
		err     error
		waiting *outcome.Waiting
		want    readiness
	}{
		{"serving", running, depServing, nil, nil, readiness{ready: true, reason: v1.ReasonAvailable, message: "Serving http://t1.apps.example.com with 3 ready replicas"}},
		{"not observed", running, nil, nil, nil, progressing("Waiting for the app Deployment to run 3 available replicas of the current spec")},
		{"new spec not observed", running, depUnobserved, nil, nil, progressing("Waiting for the app Deployment to run 3 available replicas of the current spec")},
		{"rolling", running, depRolling, nil, nil, progressing("Waiting for the app Deployment to run 3 available replicas of the current spec")},
		{"too many replicas", running, observeDeployment(observedDeploy(3, 7, 4, 3, 3, 3, nil)), nil, nil, progressing("Waiting for the app Deployment to run 3 available replicas of the current spec")},
		{"frozen at zero", frozen, depAtZero, nil, nil, readiness{ready: true, reason: v1.ConditionFrozen, message: "Scaled to zero on purpose; all data kept"}},
		{"frozen, scaling down", frozen, depScalingDown, nil, nil, progressing("Waiting for the app Deployment to scale to zero")},
		{"an apply failed", running, depServing, boom, nil, readiness{reason: v1.ReasonApplyFailed, message: "applying app service: boom"}},
		{"an optional step failed", running, depServing, optional, nil, readiness{reason: v1.ReasonOptionalStepFailed, message: "applying tenant info config map: boom"}},
		{"a failure wins over a wait", running, depServing, boom, tls, readiness{reason: v1.ReasonApplyFailed, message: "applying app service: boom"}},
		{"waiting", running, depServing, nil, tls, progressing("shared TLS Secret certs/wild not found")},
		{"waiting, frozen at zero", frozen, depAtZero, nil, tls, progressing("shared TLS Secret certs/wild not found")},
		{"waiting, with a reason of its own", running, nil, nil, &outcome.Waiting{Reason: "Other", Message: "m"}, readiness{reason: "Other", message: "m"}},
		{"waiting, without a reason", running, depServing, nil, &outcome.Waiting{Message: "m"}, progressing("m")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := workloadReadiness(tc.d, tc.dep, tc.err, tc.waiting); got != tc.want {
				t.Errorf("%+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSetReconcilingCondition(t *testing.T) {
	prior := []metav1.Condition{cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonProgressing, "old")}
	notReady := readiness{reason: v1.ReasonApplyFailed, message: "boom"}
	for _, tc := range []struct {
		name    string
		prior   []metav1.Condition
		r       readiness
		stalled bool
		want    []metav1.Condition
	}{
		{"not ready", nil, notReady, false, []metav1.Condition{cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonApplyFailed, "boom")}},
		{"not ready, replacing", prior, notReady, false, []metav1.Condition{cond(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonApplyFailed, "boom")}},
		{"ready: removed", prior, readiness{ready: true, reason: v1.ReasonAvailable}, false, []metav1.Condition{}},
		{"stalled: removed", prior, notReady, true, []metav1.Condition{}},
		{"stalled, none before", nil, notReady, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := conditionsAfter(tc.prior, func(st *v1.TenantInstanceStatus) { setReconcilingCondition(st, testStamp, tc.r, tc.stalled) })
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetReadyCondition(t *testing.T) {
	for _, tc := range []struct {
		r    readiness
		want metav1.Condition
	}{
		{readiness{ready: true, reason: v1.ReasonAvailable, message: "Serving"}, cond(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonAvailable, "Serving")},
		{readiness{reason: v1.ReasonHostConflict, message: "held"}, cond(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonHostConflict, "held")},
	} {
		got := conditionsAfter(nil, func(st *v1.TenantInstanceStatus) { setReadyCondition(st, testStamp, tc.r) })
		if diff := cmp.Diff([]metav1.Condition{tc.want}, got); diff != "" {
			t.Errorf("%+v (-want +got):\n%s", tc.r, diff)
		}
	}
}

func TestSetState(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		ph                    phase
		frozen, atZero, ready bool
		want                  v1.InstanceState
	}{
		{"releasing", phaseReleasing, false, false, false, v1.StateReleasing},
		{"releasing, at zero", phaseReleasing, true, true, true, v1.StateReleasing},
		{"stalled", phaseStalled, false, false, true, v1.StateStalled},
		{"unplanned", phaseUnplanned, false, false, false, v1.StateProvisioning},
		{"serving, ready", phaseServing, false, false, true, v1.StateRunning},
		{"serving, not ready", phaseServing, false, false, false, v1.StateProvisioning},
		{"frozen at zero", phaseServing, true, true, true, v1.StateFrozen},
		{"frozen at zero, a failure", phaseServing, true, true, false, v1.StateFrozen},
		{"freezing", phaseServing, true, false, false, v1.StateProvisioning},
		{"freezing, a replica terminating", phaseServing, true, false, true, v1.StateProvisioning},
		{"unfrozen, still at zero", phaseServing, false, true, false, v1.StateProvisioning},
	} {
		st := &v1.TenantInstanceStatus{State: v1.InstanceState("previous")}
		setState(st, tc.ph, tc.frozen, tc.atZero, tc.ready)
		if st.State != tc.want {
			t.Errorf("%s: state = %q, want %q", tc.name, st.State, tc.want)
		}
	}
}

func TestPhaseOf(t *testing.T) {
	d := &Desired{Instance: instance(v1.TenantDomain{}), Plan: plan()}
	stall := &outcome.Stalling{Reason: v1.ReasonHostConflict}
	for _, tc := range []struct {
		name string
		s    scope
		want phase
	}{
		{"releasing", scope{releasing: true, stalled: stall}, phaseReleasing},
		{"stalled", scope{stalled: stall, desired: d}, phaseStalled},
		{"stalled before the plan", scope{stalled: stall}, phaseStalled},
		{"no plan", scope{}, phaseUnplanned},
		{"serving", scope{desired: d}, phaseServing},
	} {
		if got := phaseOf(&tc.s); got != tc.want {
			t.Errorf("%s: phase = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// settle is where the reconcile tells a step's outcome from its failure.
func TestSettle(t *testing.T) {
	stall := &outcome.Stalling{Reason: v1.ReasonNamespaceConflict, Message: "not ours", RequeueAfter: time.Minute}
	hold := &outcome.Waiting{Reason: v1.ReasonProgressing, Message: "being deleted", RequeueAfter: 30 * time.Second}
	proceed := &outcome.Waiting{Reason: v1.ReasonProgressing, Message: "secret not found", Proceed: true}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name             string
		err              error
		stop             bool
		requeue          time.Duration
		failure          error
		stalled          *outcome.Stalling
		waiting          *outcome.Waiting
		previousOutcomes bool
	}{
		{name: "success", err: nil},
		{name: "success keeps earlier outcomes", err: nil, previousOutcomes: true, stalled: stall, waiting: proceed},
		{name: "a failure", err: boom, failure: boom},
		{name: "a Stalling stops", err: stall, stop: true, requeue: time.Minute, stalled: stall},
		{name: "a Waiting stops", err: hold, stop: true, requeue: 30 * time.Second, waiting: hold},
		{name: "a proceeding Waiting goes on", err: proceed, waiting: proceed},
		{name: "a Stalling and a failure", err: errors.Join(stall, boom), stop: true, requeue: time.Minute, failure: boom, stalled: stall},
		{name: "both outcomes: the sooner requeue", err: errors.Join(stall, hold), stop: true, requeue: 30 * time.Second, stalled: stall, waiting: hold},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &scope{}
			if tc.previousOutcomes {
				s.stalled, s.waiting = stall, proceed
			}
			stop, requeue, err := s.settle(tc.err)
			if stop != tc.stop || requeue != tc.requeue || err != tc.failure { //nolint:errorlint // the very failure
				t.Errorf("settle = %v, %v, %v; want %v, %v, %v", stop, requeue, err, tc.stop, tc.requeue, tc.failure)
			}
			if s.stalled != tc.stalled || s.waiting != tc.waiting {
				t.Errorf("recorded %v, %v; want %v, %v", s.stalled, s.waiting, tc.stalled, tc.waiting)
			}
		})
	}
}

func TestWorkloadReady(t *testing.T) {
	dep := func(gen, observed int64, replicas, updated, available int32) *childcache.DeploymentCounts {
		return &childcache.DeploymentCounts{Generation: gen, ObservedGeneration: observed, StatusReplicas: replicas, UpdatedReplicas: updated, AvailableReplicas: available}
	}
	for _, tc := range []struct {
		name string
		d    *childcache.DeploymentCounts
		want int32
		ok   bool
	}{
		{"missing", nil, 1, false},
		{"not observed", dep(2, 1, 1, 1, 1), 1, false},
		{"available", dep(2, 2, 2, 2, 2), 2, true},
		{"rolling", dep(2, 2, 3, 1, 2), 2, false},
		{"scaled to zero", dep(3, 3, 0, 0, 0), 0, true},
		{"still scaling down", dep(3, 3, 1, 0, 1), 0, false},
	} {
		if ok, _ := workloadReady(tc.d, tc.want); ok != tc.ok {
			t.Errorf("%s: ready = %v, want %v", tc.name, ok, tc.ok)
		}
	}
}

// TestWorkloadReadyMessageNamesTheGoal: the steps of one rollout (and of one scale-down) are
// waited for in the same words, so that the tenant's status is written when what it waits for
// changes, not at each replica the Deployment reports.
func TestWorkloadReadyMessageNamesTheGoal(t *testing.T) {
	dep := func(gen, observed int64, replicas, updated, available int32) *childcache.DeploymentCounts {
		return &childcache.DeploymentCounts{Generation: gen, ObservedGeneration: observed, StatusReplicas: replicas, UpdatedReplicas: updated, AvailableReplicas: available}
	}
	for _, tc := range []struct {
		name  string
		want  int32
		steps []*childcache.DeploymentCounts
	}{
		{"provisioning", 2, []*childcache.DeploymentCounts{nil, dep(1, 0, 0, 0, 0), dep(1, 1, 2, 2, 0), dep(1, 1, 2, 2, 1)}},
		{"rolling out a new spec", 2, []*childcache.DeploymentCounts{dep(2, 1, 2, 2, 2), dep(2, 2, 3, 1, 2), dep(2, 2, 3, 2, 2), dep(2, 2, 2, 2, 1)}},
		{"scaling down", 0, []*childcache.DeploymentCounts{dep(3, 2, 2, 2, 2), dep(3, 3, 2, 0, 2), dep(3, 3, 1, 0, 1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first string
			for i, d := range tc.steps {
				ok, msg := workloadReady(d, tc.want)
				if ok || msg == "" {
					t.Fatalf("step %d: ready = %v, message %q; want not ready, with a message", i, ok, msg)
				}
				if i == 0 {
					first = msg
				} else if msg != first {
					t.Errorf("step %d says %q, step 0 said %q: the status would be written at each step", i, msg, first)
				}
			}
		})
	}
}
