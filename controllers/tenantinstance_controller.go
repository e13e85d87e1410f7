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

// Package controllers makes TenantInstances real: one namespace per tenant with its app, quota,
// isolation and exposure, all applied server-side from the instance's spec and its TenantPlan.
package controllers

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/childcache"
	"github.com/tenantry/tenantry/internal/outcome"
	"github.com/tenantry/tenantry/internal/ssa"
	"github.com/tenantry/tenantry/internal/statusmemory"
)

// FieldOwner is the server-side apply field manager of everything the operator writes.
const FieldOwner = "tenantry-operator"

// TenantInstanceReconciler reconciles TenantInstances.
type TenantInstanceReconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Recorder events.EventRecorder
	// Clock is injected so tests can move time past an expiry.
	Clock clock.PassiveClock
	// SuspendedHost and SuspendedPort locate the bridge's "subscription suspended" page.
	SuspendedHost string
	SuspendedPort int32
	// MerchantKey decrypts the OAuth client secrets of spec.tenant.applications; nil skips them.
	MerchantKey *rsa.PrivateKey
	// MaxConcurrentReconciles bounds parallel reconciles.
	MaxConcurrentReconciles int
	// ReleaseDrainTimeout bounds how long a release waits for the app's pods to stop before it
	// deletes the namespace; zero means DefaultReleaseDrainTimeout.
	ReleaseDrainTimeout time.Duration
	// SharedTLSNamespaces are the namespaces the operator may read Secrets in, and so the only
	// ones a plan's shared TLS source may be in. Nil means any namespace (tests, and an operator
	// given cluster-wide reads); empty means none, and then no Secret is watched at all.
	SharedTLSNamespaces []string
	// Children is the cache the operator reads what it made for tenants from. SetupWithManager
	// builds one when it is nil and adds it to the manager.
	Children *childcache.Cache
	// Metering reports a released pay-per-use instance's last usage before the finalizer lets
	// go (Metering.Flush); nil reports nothing.
	Metering *Metering
	// RolloutNamespace holds the plans' revisions (rollout.go); empty builds every tenant from its
	// plan's spec.app as it is.
	RolloutNamespace string

	applied  ssa.Cache
	statuses statusmemory.Memory
}

// scope is everything one reconcile of one TenantInstance learns; status is derived from it alone.
type scope struct {
	instance *tenantryv1alpha1.TenantInstance
	before   *tenantryv1alpha1.TenantInstance
	now      time.Time
	desired  *Desired

	// stalled is the last Stalling a step returned (progress needs a human), and waiting the
	// last Waiting: what the status reports. Only settle records them; steps return them.
	stalled *outcome.Stalling
	waiting *outcome.Waiting
	// deployment is what the status needs of the app Deployment as last observed; nil when not
	// observed.
	deployment *childcache.DeploymentCounts
	// frozenByExpiry is true when the plan froze the tenant after its grace period.
	frozenByExpiry bool
	// releasing is true while the finalizer is removing the tenant.
	releasing bool
	// retainUntil is the end of a released tenant's retention, as recorded or to be recorded in
	// status.retainUntil; retainedUntil is set while that end is still ahead.
	retainUntil       *metav1.Time
	retainedUntil     *time.Time
	namespaceObserved bool
	// statusRetry is set when the status could not be written because the instance was read
	// before the cache held the operator's own previous status write: how soon the reconcile
	// comes back, shortly (statusRetryAfter) or, when the cache has caught up since, at once
	// (statusRetryCaughtUp). Zero when the status is settled.
	statusRetry time.Duration
	// behind says whether before, as read, predates the operator's last status write
	// (statusmemory.Memory.Behind). It is taken when before is read, not when the status is
	// written: the cache may catch up meanwhile, and the memory then forgets the write, but
	// before stays what was read.
	behind bool
	// listener is the ELB listener the tenant is put on (listeners.go).
	listener listenerState
	// revision is the plan revision the Deployment is built from, and revisionObserved says the
	// Deployment as observed carries it (revision.go).
	revision         string
	revisionObserved bool
}

// +kubebuilder:rbac:groups=tenantry.io,resources=tenantinstances,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=tenantry.io,resources=tenantinstances/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tenantry.io,resources=tenantinstances/finalizers,verbs=update
// +kubebuilder:rbac:groups=tenantry.io,resources=tenantplans;tenantdirectories,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services;configmaps;resourcequotas;limitranges,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses;networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile moves one TenantInstance towards its spec and records what it observed.
func (r *TenantInstanceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	instance := &tenantryv1alpha1.TenantInstance{}
	if err := r.Get(ctx, req.NamespacedName, instance); err != nil {
		if apierrors.IsNotFound(err) {
			// Gone, whether released or not (its finalizer removed by hand, or deleted while no
			// operator ran): nothing this process remembers of it is needed any more.
			r.applied.Forget(tenantryv1alpha1.NamespaceName(req.Name))
			r.statuses.Forget(req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	s := r.newScope(instance)
	ctx, changed := withChanges(ctx)

	defer func() {
		retErr = kerrors.NewAggregate([]error{retErr, r.finalizeStatus(ctx, s, retErr)})
		// One line per reconcile that changed something (changes.go).
		if what := changed.list(); len(what) > 0 {
			logf.FromContext(ctx).Info("Reconciled", "changed", what, "state", s.instance.Status.State, "generation", s.instance.Generation)
		}
		if retry := s.statusRetry; retry > 0 && retErr == nil && (result.RequeueAfter == 0 || result.RequeueAfter > retry) {
			result.RequeueAfter = retry
		}
		if onlyConflicts(retErr) {
			// Someone else wrote the object meanwhile: the watch brings the new version. The
			// aggregate does not unwrap, so apierrors.IsConflict would not see a conflict in it.
			result, retErr = ctrl.Result{RequeueAfter: time.Second}, nil
		}
	}()

	if !instance.DeletionTimestamp.IsZero() {
		res, err := r.release(ctx, s)
		_, requeue, err := s.settle(err)
		return ctrl.Result{RequeueAfter: earliestRequeue(res.RequeueAfter, requeue)}, err
	}
	if !controllerutil.ContainsFinalizer(instance, tenantryv1alpha1.Finalizer) {
		patch := client.MergeFromWithOptions(instance.DeepCopy(), client.MergeFromWithOptimisticLock{})
		controllerutil.AddFinalizer(instance, tenantryv1alpha1.Finalizer)
		if err := r.Patch(ctx, instance, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer: %w", err)
		}
		noteChange(ctx, "finalizer added")
		s.rebase()
	}

	// A pending change is taken before the plan is resolved: it may name another SKU, and a
	// tenant stalled on its current SKU must still come back for it.
	pendingWait, err := r.reconcilePendingChange(ctx, s)
	if err != nil {
		return ctrl.Result{}, err
	}
	plan, err := r.resolvePlan(ctx, s)
	if stop, requeue, err := s.settle(err); err != nil {
		return ctrl.Result{}, err
	} else if stop {
		return ctrl.Result{RequeueAfter: earliestRequeue(requeue, pendingWait)}, nil
	}
	s.desired = &Desired{Instance: instance, Plan: plan, SuspendedHost: r.SuspendedHost, SuspendedPort: r.SuspendedPort}
	s.desired.Frozen, s.frozenByExpiry = r.effectiveFrozen(s)

	// The namespace, its guardrails and the admin account come first; nothing else may be
	// applied without them. A step that stalls, or waits for something that holds the rest
	// back, stops the reconcile there; one whose wait holds nothing back (outcome.Waiting's
	// Proceed) lets it go on. later is the soonest such a wait asked to come back.
	var later time.Duration
	for _, step := range []func(context.Context, *scope) error{
		r.reconcileNamespace,
		r.reconcileGuardrails,
		r.reconcileSecrets,
	} {
		stop, requeue, err := s.settle(step(ctx, s))
		if err != nil {
			return ctrl.Result{}, err
		}
		if stop {
			return ctrl.Result{RequeueAfter: earliestRequeue(requeue, pendingWait)}, nil
		}
		later = earliestRequeue(later, requeue)
	}
	// Optional parts never hold back the workload: a freeze, an unfreeze or a new plan reaches
	// the Deployment and the Ingress whatever they do, even when one of them stalls or waits.
	// Their failures are reported, and returned for a retry with backoff, once the workload has
	// been applied.
	var optional []error
	for _, step := range []func(context.Context, *scope) error{
		r.reconcileAppCredentials,
		r.reconcileDirectory,
		r.reconcileTenantInfo,
	} {
		_, requeue, err := s.settle(step(ctx, s))
		if err != nil {
			optional = append(optional, err)
		}
		later = earliestRequeue(later, requeue)
	}
	for _, step := range []func(context.Context, *scope) error{
		r.reconcileWorkload,
		r.reconcileExposure,
	} {
		stop, requeue, err := s.settle(step(ctx, s))
		if err != nil {
			if len(optional) == 0 {
				return ctrl.Result{}, err
			}
			return ctrl.Result{}, kerrors.NewAggregate(append([]error{err}, optional...))
		}
		if stop {
			return ctrl.Result{RequeueAfter: earliestRequeue(requeue, pendingWait)}, nil
		}
		later = earliestRequeue(later, requeue)
	}
	if len(optional) > 0 {
		return ctrl.Result{}, &optionalStepError{err: kerrors.NewAggregate(optional)}
	}
	return ctrl.Result{RequeueAfter: earliestRequeue(earliestRequeue(r.nextExpiryCheck(s), pendingWait), later)}, nil
}

// newScope is the scope of a reconcile of instance, as read from the cache.
func (r *TenantInstanceReconciler) newScope(instance *tenantryv1alpha1.TenantInstance) *scope {
	s := &scope{instance: instance, before: instance.DeepCopy(), now: r.Clock.Now()}
	_, s.behind = r.statuses.Behind(instance.Name, instance.ResourceVersion)
	return s
}

// rebase makes the instance, as the API server just answered a write of it, what the status is
// compared with and patched from: that answer holds every status written before it.
func (s *scope) rebase() {
	s.before = s.instance.DeepCopy()
	s.behind = false
}

// settle sorts what a step returned (outcome.Split): a Stalling or a Waiting is recorded in the
// scope for the status, the last of each kind winning, and err is the failure left, if any. stop
// says the reconcile stops here (a Stalling, or a Waiting that does not proceed) and requeue
// how soon the outcome asked to come back (zero: on a watch event).
func (s *scope) settle(returned error) (stop bool, requeue time.Duration, err error) {
	stalling, waiting, err := outcome.Split(returned)
	if stalling != nil {
		s.stalled = stalling
		stop, requeue = true, stalling.RequeueAfter
	}
	if waiting != nil {
		s.waiting = waiting
		stop = stop || !waiting.Proceed
		requeue = earliestRequeue(requeue, waiting.RequeueAfter)
	}
	return stop, requeue, err
}

// optionalStepError is the failure of optional steps only: the workload and its exposure were
// applied regardless.
type optionalStepError struct{ err error }

func (e *optionalStepError) Error() string { return e.err.Error() }
func (e *optionalStepError) Unwrap() error { return e.err }

// onlyConflicts reports whether err is an optimistic-lock conflict, or is made of nothing but
// conflicts: kerrors.NewAggregate and errors.Join hide their parts from apierrors.IsConflict
// (errors.As does not look inside an aggregate). A conflict is retried shortly and silently; an
// error mixing a conflict with anything else is an error.
func onlyConflicts(err error) bool {
	var parts []error
	switch e := err.(type) { //nolint:errorlint // walks the error tree itself, one level at a time
	case nil:
		return false
	case kerrors.Aggregate:
		parts = e.Errors()
	case interface{ Unwrap() []error }:
		parts = e.Unwrap()
	case apierrors.APIStatus:
		return apierrors.IsConflict(err)
	case interface{ Unwrap() error }:
		return onlyConflicts(e.Unwrap())
	default:
		return false
	}
	for _, part := range parts {
		if !onlyConflicts(part) {
			return false
		}
	}
	return len(parts) > 0
}

// resolvePlan finds the one TenantPlan listing spec.sku; none or several stall the tenant (an
// outcome.Stalling). The plan returned carries the app of the tenant's revision (revision.go).
func (r *TenantInstanceReconciler) resolvePlan(ctx context.Context, s *scope) (*tenantryv1alpha1.TenantPlan, error) {
	plans := &tenantryv1alpha1.TenantPlanList{}
	if err := r.List(ctx, plans, client.MatchingFields{planSKUIndex: s.instance.Spec.SKU}); err != nil {
		return nil, fmt.Errorf("listing plans for SKU %q: %w", s.instance.Spec.SKU, err)
	}
	switch len(plans.Items) {
	case 0:
		return nil, outcome.Stallf(tenantryv1alpha1.ReasonPlanNotFound, "no TenantPlan lists SKU %q; create one and the tenant continues", s.instance.Spec.SKU)
	case 1:
	default:
		names := make([]string, 0, len(plans.Items))
		for _, p := range plans.Items {
			names = append(names, p.Name)
		}
		return nil, outcome.Stallf(tenantryv1alpha1.ReasonPlanAmbiguous, "SKU %q is listed by several TenantPlans %q; keep it in one", s.instance.Spec.SKU, names)
	}
	plan := &plans.Items[0]
	if s.instance.Spec.Domain.Type != tenantryv1alpha1.DomainDedicated && plan.Spec.Domain.BaseDomain == "" {
		return nil, outcome.Stallf(tenantryv1alpha1.ReasonInvalidPlan, "TenantPlan %q has no spec.domain.baseDomain, which a Shared tenant needs", plan.Name)
	}
	return r.planAtRevision(ctx, s, plan)
}

// effectiveFrozen is the spec's lifecycle, or Frozen when the plan freezes tenants whose paid
// period and grace have both passed.
func (r *TenantInstanceReconciler) effectiveFrozen(s *scope) (frozen, byExpiry bool) {
	if s.instance.Spec.Lifecycle == tenantryv1alpha1.LifecycleFrozen {
		return true, false
	}
	exp := s.desired.Plan.Spec.Expiry
	if s.instance.Spec.ExpiresAt == nil || !exp.FreezeAfterGrace {
		return false, false
	}
	if !s.now.Before(s.instance.Spec.ExpiresAt.Add(gracePeriod(s.desired.Plan))) {
		return true, true
	}
	return false, false
}

func gracePeriod(plan *tenantryv1alpha1.TenantPlan) time.Duration {
	if g := plan.Spec.Expiry.GracePeriod; g != nil {
		return g.Duration
	}
	return 72 * time.Hour
}

// nextExpiryCheck is how long until the next moment the expiry changes what the tenant should be.
func (r *TenantInstanceReconciler) nextExpiryCheck(s *scope) time.Duration {
	if s.instance.Spec.ExpiresAt == nil {
		return 0
	}
	at := s.instance.Spec.ExpiresAt.Time
	if !s.now.Before(at) {
		if !s.desired.Plan.Spec.Expiry.FreezeAfterGrace {
			return 0
		}
		at = at.Add(gracePeriod(s.desired.Plan))
		if !s.now.Before(at) {
			return 0
		}
	}
	// A second of slack so the requeue lands after the boundary, not just before it.
	return at.Sub(s.now) + time.Second
}

func (r *TenantInstanceReconciler) reconcileGuardrails(ctx context.Context, s *scope) error {
	if err := r.apply(ctx, s.desired.ResourceQuota()); err != nil {
		return fmt.Errorf("applying resource quota: %w", err)
	}
	if err := r.apply(ctx, s.desired.LimitRange()); err != nil {
		return fmt.Errorf("applying limit range: %w", err)
	}
	if err := r.apply(ctx, s.desired.NetworkPolicy()); err != nil {
		return fmt.Errorf("applying network policy: %w", err)
	}
	return nil
}

// reconcileSecrets creates the admin account once and keeps the shared TLS copy current, without
// reading either (see secretwrites.go). A shared TLS source it may not read, or that does not
// exist, is waited for without holding back the rest: the tenant is served, without TLS, until
// it appears.
func (r *TenantInstanceReconciler) reconcileSecrets(ctx context.Context, s *scope) error {
	created, err := r.ensureAdminSecret(ctx, s)
	if err != nil {
		return err
	}
	if created && s.before.Status.AdminAccountSecretRef != nil {
		// The first admin account is in the status; a new one means the old one was lost.
		r.event(s.instance, corev1.EventTypeWarning, "AdminAccountRecreated", "Create",
			"The admin account Secret %s/%s was deleted; created a new admin account with a new password", s.desired.namespace(), tenantryv1alpha1.AdminSecretName)
	}

	if ref := s.desired.Plan.Spec.Domain.SharedTLSSecret; ref != nil && s.instance.Spec.Domain.Type != tenantryv1alpha1.DomainDedicated {
		if !r.mayReadSharedTLS(ref.Namespace) {
			readable := "none is"
			if len(r.SharedTLSNamespaces) > 0 {
				readable = fmt.Sprintf("only %s are", strings.Join(r.SharedTLSNamespaces, ", "))
			}
			return &outcome.Waiting{Reason: tenantryv1alpha1.ReasonProgressing, Proceed: true, Message: fmt.Sprintf(
				"shared TLS Secret %s/%s: namespace %s is not one the operator may read Secrets in (%s); "+
					"add it to the operator's --shared-tls-namespaces (chart value sharedTLS.namespaces) or move the Secret",
				ref.Namespace, ref.Name, ref.Namespace, readable)}
		}
		source := &corev1.Secret{}
		if err := r.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, source); err != nil {
			if !apierrors.IsNotFound(err) {
				return fmt.Errorf("reading shared TLS secret %s/%s: %w", ref.Namespace, ref.Name, err)
			}
			return &outcome.Waiting{Reason: tenantryv1alpha1.ReasonProgressing, Proceed: true, Message: fmt.Sprintf(
				"shared TLS Secret %s/%s not found (it must carry the label %s=%s)",
				ref.Namespace, ref.Name, tenantryv1alpha1.LabelSecretRole, tenantryv1alpha1.SecretRoleSharedTLS)}
		} else if err := r.applySecret(ctx, s.desired.SharedTLSSecret(source)); err != nil {
			return fmt.Errorf("applying shared TLS secret copy: %w", err)
		}
	}

	return nil
}

// reconcileTenantInfo applies the tenant-info ConfigMap, before the Deployment that mounts it.
func (r *TenantInstanceReconciler) reconcileTenantInfo(ctx context.Context, s *scope) error {
	if err := r.apply(ctx, s.desired.TenantInfoConfigMap()); err != nil {
		return fmt.Errorf("applying tenant info config map: %w", err)
	}
	return nil
}

func (r *TenantInstanceReconciler) reconcileWorkload(ctx context.Context, s *scope) error {
	changesBefore := changeCount(ctx)
	if err := r.apply(ctx, s.desired.Deployment()); err != nil {
		return fmt.Errorf("applying app deployment: %w", err)
	}
	unchanged := changeCount(ctx) == changesBefore
	if err := r.apply(ctx, s.desired.Service()); err != nil {
		return fmt.Errorf("applying app service: %w", err)
	}
	rec, ok := r.Children.Lookup(deploymentKind, client.ObjectKey{Namespace: s.desired.namespace(), Name: AppName})
	if !ok {
		// The cache has not seen the Deployment we just applied yet; its event will requeue us.
		return nil
	}
	if counts, ok := rec.Deployment(); ok {
		s.deployment = &counts
		s.revisionObserved = unchanged
	}
	return nil
}

func (r *TenantInstanceReconciler) reconcileExposure(ctx context.Context, s *scope) error {
	if svc := s.desired.SuspendedService(); svc != nil {
		if err := r.apply(ctx, svc); err != nil {
			return fmt.Errorf("applying suspended-page service: %w", err)
		}
	}
	if s.desired.Ingress() != nil {
		if err := r.checkHost(ctx, s); err != nil {
			return err
		}
		if err := r.reconcileListener(ctx, s); err != nil {
			return err
		}
		s.desired.Listener = s.listener.listener
		if err := r.apply(ctx, s.desired.Ingress()); err != nil {
			return fmt.Errorf("applying ingress: %w", err)
		}
	}
	// Slots are released once the Ingress is off them.
	return r.releaseStaleSlots(ctx, s)
}

// finalizeStatus derives the status from what this reconcile observed and patches it once.
func (r *TenantInstanceReconciler) finalizeStatus(ctx context.Context, s *scope, reconcileErr error) error {
	if s.releasing && !controllerutil.ContainsFinalizer(s.instance, tenantryv1alpha1.Finalizer) {
		return nil
	}
	computeStatus(s, reconcileErr)
	sum := statusmemory.Hash(s.instance.Status)
	if s.behind {
		// The cache had not caught up with this operator's last status write when the instance
		// was read. Comparing with the status read would be comparing with the past: a status
		// equal to it would not be written, and the newer one, written from a staler view, would
		// stay; a merge patch from it would miss fields. Patching from the status the cache holds
		// now instead would undo what others wrote there since the read (the metering's records).
		// So nothing is written: while the cache is still behind, nothing is to be done when the
		// last write said the same, else the reconcile comes back once the cache has it; if the
		// cache has caught up since, it comes back at once.
		last, still := r.statuses.Behind(s.instance.Name, s.before.ResourceVersion)
		switch {
		case !still:
			s.statusRetry = statusRetryCaughtUp
		case sum != last:
			s.statusRetry = statusRetryAfter
		}
		return nil
	}
	r.emitTransitions(s, reconcileErr)
	if equalStatus(s.before.Status, s.instance.Status) {
		return nil
	}
	patch := client.MergeFrom(s.before)
	if err := r.Status().Patch(ctx, s.instance, patch); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("patching status: %w", err)
	}
	noteChange(ctx, "status")
	r.statuses.Remember(s.instance.Name, s.instance.ResourceVersion, sum)
	// The write's watch event can reach the cache before the patch's answer reaches here; then
	// statusSeen saw it before there was anything to drop. The cache is updated before the event
	// is handed on, so a read now tells.
	cached := &tenantryv1alpha1.TenantInstance{}
	if err := r.Get(ctx, client.ObjectKeyFromObject(s.instance), cached, client.UnsafeDisableDeepCopy); err == nil {
		r.statuses.Seen(s.instance.Name, cached.ResourceVersion)
	}
	return nil
}

func (r *TenantInstanceReconciler) event(obj runtime.Object, eventType, reason, action, note string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, eventType, reason, action, note, args...)
	}
}

// emitTransitions records an Event for every change the reconcile made visible, and for failures.
func (r *TenantInstanceReconciler) emitTransitions(s *scope, reconcileErr error) {
	if reconcileErr != nil && !onlyConflicts(reconcileErr) {
		r.event(s.instance, corev1.EventTypeWarning, "ReconcileFailed", "Reconcile", "%s", reconcileErr.Error())
	}
	changed := func(t string) (*metav1.Condition, bool) {
		now := meta.FindStatusCondition(s.instance.Status.Conditions, t)
		old := meta.FindStatusCondition(s.before.Status.Conditions, t)
		if now == nil {
			return nil, false
		}
		return now, old == nil || old.Status != now.Status || old.Reason != now.Reason
	}
	if c, ok := changed(tenantryv1alpha1.ConditionStalled); ok && c.Status == metav1.ConditionTrue {
		r.event(s.instance, corev1.EventTypeWarning, c.Reason, "Reconcile", "%s", c.Message)
	}
	if c, ok := changed(tenantryv1alpha1.ConditionFrozen); ok && (s.before.Status.Conditions != nil || c.Status != metav1.ConditionFalse) {
		if c.Status == metav1.ConditionTrue {
			r.event(s.instance, corev1.EventTypeNormal, "Frozen", "Scale", "%s", c.Message)
		} else {
			r.event(s.instance, corev1.EventTypeNormal, "Unfrozen", "Scale", "%s", c.Message)
		}
	}
	if c, ok := changed(tenantryv1alpha1.ConditionExpired); ok && c.Status == metav1.ConditionTrue {
		r.event(s.instance, corev1.EventTypeWarning, "Expired", "Expire", "%s", c.Message)
	}
	if s.before.Status.Plan != "" && s.instance.Status.Plan != s.before.Status.Plan {
		r.event(s.instance, corev1.EventTypeNormal, "PlanChanged", "Update", "Moved from plan %q to %q in place", s.before.Status.Plan, s.instance.Status.Plan)
	}
	if c, ok := changed(tenantryv1alpha1.ConditionReady); ok && c.Status == metav1.ConditionTrue {
		r.event(s.instance, corev1.EventTypeNormal, "Ready", "Reconcile", "%s", c.Message)
	}
}

// SetupWithManager registers the controller: it watches TenantInstances, everything they own,
// the plans they use and the shared TLS Secrets those plans name.
func (r *TenantInstanceReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := indexFields(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	if err := indexHosts(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&tenantryv1alpha1.TenantInstance{}, builder.WithPredicates(
			// Sees every event first, to drop the memory of status writes the cache now holds.
			statusSeen{statuses: &r.statuses},
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{},
				deletionPredicate{})))
	// What the operator makes for a tenant is watched as Owns would, but from the child cache,
	// and mapped to its tenant by namespace rather than by owner reference (childcache's Source).
	if r.Children == nil {
		children, err := childcache.New(mgr.GetConfig(), mgr.GetHTTPClient(), FieldOwner)
		if err != nil {
			return err
		}
		r.Children = children
	}
	if err := mgr.Add(r.Children); err != nil {
		return err
	}
	b = b.WatchesRawSource(r.Children.Source())
	b = b.
		Watches(&tenantryv1alpha1.TenantPlan{}, handler.EnqueueRequestsFromMapFunc(r.instancesForPlan),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// A directory shard names its instance in spec.instanceName.
		Watches(&tenantryv1alpha1.TenantDirectory{}, handler.EnqueueRequestsFromMapFunc(instanceOfDirectory)).
		Watches(&tenantryv1alpha1.TenantHost{}, handler.EnqueueRequestsFromMapFunc(r.instancesForHost)).
		// A pool's change moves the tenants on a removed listener and resumes those stalled for
		// want of room; so does a slot's release.
		Watches(&tenantryv1alpha1.LoadBalancerPool{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return r.instancesForPool(ctx, o.GetName())
		})).
		Watches(&tenantryv1alpha1.ListenerSlot{}, handler.EnqueueRequestsFromMapFunc(r.instancesForSlot),
			builder.WithPredicates(predicate.Funcs{
				CreateFunc: func(event.CreateEvent) bool { return false },
				UpdateFunc: func(e event.UpdateEvent) bool { return !e.ObjectNew.GetDeletionTimestamp().IsZero() },
			}))
	if r.SharedTLSNamespaces == nil || len(r.SharedTLSNamespaces) > 0 {
		// Shared TLS sources, in the namespaces the manager's cache is given (CacheOptions).
		b = b.Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.instancesForSharedTLS),
			builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
				return o.GetLabels()[tenantryv1alpha1.LabelSecretRole] == tenantryv1alpha1.SecretRoleSharedTLS
			})))
	}
	return b.
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.MaxConcurrentReconciles, 1)}).
		Named("tenantinstance").
		Complete(r)
}

// statusSeen lets every event through; on the way it tells the memory of status writes which
// version of an instance the cache now holds, and forgets an instance that is gone, so that the
// memory holds only writes the cache has not caught up with.
type statusSeen struct{ statuses *statusmemory.Memory }

func (p statusSeen) Create(event.CreateEvent) bool   { return true }
func (p statusSeen) Generic(event.GenericEvent) bool { return true }

func (p statusSeen) Update(e event.UpdateEvent) bool {
	p.statuses.Seen(e.ObjectNew.GetName(), e.ObjectNew.GetResourceVersion())
	return true
}

func (p statusSeen) Delete(e event.DeleteEvent) bool {
	p.statuses.Forget(e.Object.GetName())
	return true
}

// deletionPredicate lets through updates that start a deletion or change finalizers, which do not
// bump the generation.
type deletionPredicate struct{ predicate.Funcs }

func (deletionPredicate) Update(e event.UpdateEvent) bool {
	return !e.ObjectNew.GetDeletionTimestamp().IsZero() ||
		len(e.ObjectNew.GetFinalizers()) != len(e.ObjectOld.GetFinalizers())
}

// instancesForPlan maps a plan to the instances that use it now or whose SKU it lists.
func (r *TenantInstanceReconciler) instancesForPlan(ctx context.Context, o client.Object) []reconcile.Request {
	plan, ok := o.(*tenantryv1alpha1.TenantPlan)
	if !ok {
		return nil
	}
	seen := map[string]bool{}
	var reqs []reconcile.Request
	add := func(list *tenantryv1alpha1.TenantInstanceList) {
		for _, ti := range list.Items {
			if !seen[ti.Name] {
				seen[ti.Name] = true
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: ti.Name}})
			}
		}
	}
	log := logf.FromContext(ctx)
	for _, sku := range plan.Spec.SKUs {
		list := &tenantryv1alpha1.TenantInstanceList{}
		if err := r.List(ctx, list, client.MatchingFields{instanceSKUIndex: sku}); err != nil {
			log.Error(err, "Listing instances for plan", "plan", plan.Name, "sku", sku)
			continue
		}
		add(list)
	}
	list := &tenantryv1alpha1.TenantInstanceList{}
	if err := r.List(ctx, list, client.MatchingFields{instancePlanIndex: plan.Name}); err != nil {
		log.Error(err, "Listing instances of plan", "plan", plan.Name)
	} else {
		add(list)
	}
	return reqs
}

// instancesForSharedTLS maps a shared TLS source Secret to the instances of the plans naming it.
func (r *TenantInstanceReconciler) instancesForSharedTLS(ctx context.Context, o client.Object) []reconcile.Request {
	plans := &tenantryv1alpha1.TenantPlanList{}
	if err := r.List(ctx, plans, client.MatchingFields{planTLSIndex: o.GetNamespace() + "/" + o.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "Listing plans for shared TLS secret")
		return nil
	}
	var reqs []reconcile.Request
	for i := range plans.Items {
		reqs = append(reqs, r.instancesForPlan(ctx, &plans.Items[i])...)
	}
	return reqs
}

var errNoPassword = errors.New("generating admin password")
