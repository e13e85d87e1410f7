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
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/rollout"
)

// instanceRevisionIndex indexes TenantInstances by the plan revision they are assigned.
const instanceRevisionIndex = "metadata.annotations.plan-revision"

var (
	rolloutTenants = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenantry_rollout_tenants",
		Help: "Tenants of a plan by where they are in its rollout: total, updated (on the plan's revision), ready (and Ready), failed (not Ready within the progress deadline), held.",
	}, []string{"plan", "state"})
	rolloutHalted = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenantry_rollout_halted",
		Help: "1 while the plan's rollout is halted (phase Halted or RolledBack), else 0.",
	}, []string{"plan"})
	rolloutPhase = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenantry_rollout_phase",
		Help: "1 for the phase the plan's rollout is in.",
	}, []string{"plan", "phase"})
	rolloutMoves = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantry_rollout_moves_total",
		Help: "Tenants assigned a revision by the rollout: forward (to the plan's revision), rollback (back to the previous one) or new (a tenant new to the plan).",
	}, []string{"plan", "direction"})
)

func init() {
	metrics.Registry.MustRegister(rolloutTenants, rolloutHalted, rolloutPhase, rolloutMoves)
}

// TenantPlanRolloutReconciler keeps a ControllerRevision of each version of a plan's app and moves
// the plan's tenants from one to the next in a canary and waves (internal/rollout decides which),
// recording each tenant's revision in its tenantry.io/plan-revision annotation, which the
// TenantInstance reconciler builds the Deployment from.
type TenantPlanRolloutReconciler struct {
	client.Client
	Scheme   *runtime.Scheme
	Recorder events.EventRecorder
	Clock    clock.PassiveClock
	// Namespace holds the plans' ControllerRevisions (the operator's own).
	Namespace string
}

// RolloutCacheOptions adds to the manager's cache options the ControllerRevisions of plans, in
// namespace only.
func RolloutCacheOptions(opts cache.Options, namespace string) cache.Options {
	req, _ := labels.NewRequirement(tenantryv1alpha1.LabelPlan, selection.Exists, nil)
	if opts.ByObject == nil {
		opts.ByObject = map[client.Object]cache.ByObject{}
	}
	opts.ByObject[&appsv1.ControllerRevision{}] = cache.ByObject{
		Label:      labels.NewSelector().Add(*req),
		Namespaces: map[string]cache.Config{namespace: {}},
	}
	return opts
}

// +kubebuilder:rbac:groups=tenantry.io,resources=tenantplans,verbs=get;list;watch
// +kubebuilder:rbac:groups=tenantry.io,resources=tenantplans/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tenantry.io,resources=tenantinstances,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=apps,resources=controllerrevisions,verbs=get;list;watch;create;update;patch;delete

// Reconcile records the plan's app as a revision, runs the planner over the plan's tenants, makes
// its moves and writes the plan's status.
func (r *TenantPlanRolloutReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
	plan := &tenantryv1alpha1.TenantPlan{}
	if err := r.Get(ctx, req.NamespacedName, plan); err != nil {
		if apierrors.IsNotFound(err) {
			forgetRolloutMetrics(req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	revisions, err := r.revisionsOf(ctx, plan.Name)
	if err != nil {
		return ctrl.Result{}, err
	}
	target, err := r.ensureRevision(ctx, plan, revisions)
	if err != nil {
		return ctrl.Result{}, err
	}
	known := map[string]bool{target.Name: true}
	for _, rev := range revisions {
		known[rev.Name] = true
	}

	tenants, err := r.tenantsOf(ctx, plan)
	if err != nil {
		return ctrl.Result{}, err
	}
	now := r.Clock.Now()
	before := plan.Status.DeepCopy()
	st := &plan.Status
	in := rollout.Input{Target: target.Name, Previous: st.StableRevision, Halted: st.HaltedRevision == target.Name, Now: now}
	if plan.Spec.Rollout != nil {
		in.Strategy = *plan.Spec.Rollout
	}
	for i := range tenants {
		in.Tenants = append(in.Tenants, plannerTenant(&tenants[i], known))
	}
	res := rollout.Plan(in)

	st.ObservedGeneration = plan.Generation
	st.UpdateRevision = target.Name
	if res.Phase == tenantryv1alpha1.RolloutComplete && !res.Halted {
		st.StableRevision = target.Name
	}
	newlyHalted := res.Halted && st.HaltedRevision != target.Name
	if res.Halted {
		st.HaltedRevision = target.Name
	}
	rs := &tenantryv1alpha1.RolloutStatus{
		Phase: res.Phase, Wave: res.Wave, Tenants: res.Tenants, Updated: res.Updated, Ready: res.Ready,
		Failed: res.Failed, Held: res.Held, FailedTenants: res.FailedTenants, HeldTenants: res.HeldTenants,
		Message: res.Message,
	}
	if res.Halted && res.Failed == 0 && before.Rollout != nil && !newlyHalted {
		// Rolled back: the failed tenants are on the previous revision now; keep naming them.
		rs.Failed, rs.FailedTenants = before.Rollout.Failed, before.Rollout.FailedTenants
		if rs.Message = before.Rollout.Message; rs.Message == "" {
			rs.Message = res.Message
		}
	}
	st.Rollout = rs
	setRolloutConditions(st, plan.Generation, now)

	if newlyHalted {
		r.event(plan, corev1.EventTypeWarning, tenantryv1alpha1.ReasonRolloutHalted, "Rollout",
			"Rollout of %s halted: %d tenants not Ready within the progress deadline: %s", target.Name, res.Failed, strings.Join(res.FailedTenants, ", "))
	}
	if before.Rollout != nil && before.Rollout.Phase != tenantryv1alpha1.RolloutComplete && rs.Phase == tenantryv1alpha1.RolloutComplete && before.UpdateRevision == target.Name {
		r.event(plan, corev1.EventTypeNormal, tenantryv1alpha1.ReasonRolloutComplete, "Rollout", "Every tenant not held runs %s", target.Name)
	}
	recordRolloutMetrics(plan.Name, rs)

	// The status goes first: a halt must be on record before a rollback moves its failures away.
	if !apiequality.Semantic.DeepEqual(before, st) {
		if err := r.Status().Update(ctx, plan); err != nil {
			if apierrors.IsConflict(err) {
				return ctrl.Result{RequeueAfter: time.Second}, nil
			}
			return ctrl.Result{}, fmt.Errorf("writing plan status: %w", err)
		}
	}
	byName := make(map[string]*tenantryv1alpha1.TenantInstance, len(tenants))
	for i := range tenants {
		byName[tenants[i].Name] = &tenants[i]
	}
	for _, m := range res.Moves {
		ti := byName[m.Tenant]
		direction := "forward"
		switch {
		case ti.Annotations[tenantryv1alpha1.AnnotationPlanRevision] == "" || !known[ti.Annotations[tenantryv1alpha1.AnnotationPlanRevision]]:
			direction = "new"
		case m.Revision != target.Name:
			direction = "rollback"
		}
		if err := r.assign(ctx, ti, m.Revision, now); err != nil {
			return ctrl.Result{}, err
		}
		rolloutMoves.WithLabelValues(plan.Name, direction).Inc()
	}
	if len(res.Moves) > 0 {
		log.Info("Rollout moved tenants", "plan", plan.Name, "revision", target.Name, "phase", res.Phase, "moves", len(res.Moves))
	}

	if err := r.prune(ctx, plan, revisions, target.Name); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: res.RequeueAfter}, nil
}

// plannerTenant is what the planner needs of a tenant; an assigned revision the plan does not
// know (another plan's, after a change of SKU) counts as none.
func plannerTenant(ti *tenantryv1alpha1.TenantInstance, known map[string]bool) rollout.Tenant {
	t := rollout.Tenant{
		Name:   ti.Name,
		Held:   ti.Annotations[tenantryv1alpha1.AnnotationHoldRevision] == "true",
		Canary: ti.Labels[tenantryv1alpha1.LabelRolloutRing] == tenantryv1alpha1.RolloutRingCanary,
		Frozen: ti.Spec.Lifecycle == tenantryv1alpha1.LifecycleFrozen,
	}
	if rev := ti.Annotations[tenantryv1alpha1.AnnotationPlanRevision]; known[rev] {
		t.Revision = rev
	}
	if at, err := time.Parse(time.RFC3339, ti.Annotations[tenantryv1alpha1.AnnotationPlanRevisionAt]); err == nil {
		t.MovedAt = at
	}
	if c := meta.FindStatusCondition(ti.Status.Conditions, tenantryv1alpha1.ConditionReady); c != nil &&
		c.Status == metav1.ConditionTrue && t.Revision != "" && ti.Status.Revision == t.Revision {
		t.Ready = true
		t.ReadySince = c.LastTransitionTime.Time
		if t.MovedAt.After(t.ReadySince) {
			t.ReadySince = t.MovedAt
		}
	}
	return t
}

// assign records a tenant's revision, and when it was assigned, in its annotations.
func (r *TenantPlanRolloutReconciler) assign(ctx context.Context, cached *tenantryv1alpha1.TenantInstance, revision string, now time.Time) error {
	ti := cached.DeepCopy() // cached is the cache's own object (tenantsOf)
	patch := client.MergeFrom(cached)
	if ti.Annotations == nil {
		ti.Annotations = map[string]string{}
	}
	ti.Annotations[tenantryv1alpha1.AnnotationPlanRevision] = revision
	ti.Annotations[tenantryv1alpha1.AnnotationPlanRevisionAt] = now.UTC().Format(time.RFC3339)
	if err := r.Patch(ctx, ti, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("assigning tenant %s revision %s: %w", ti.Name, revision, err)
	}
	return nil
}

// tenantsOf lists, from the cache, the plan's tenants: those whose SKU it lists, not being deleted.
// They are the cache's own objects, not copies (a plan of thousands of tenants is looked at on
// every change of one): they are read, never changed.
func (r *TenantPlanRolloutReconciler) tenantsOf(ctx context.Context, plan *tenantryv1alpha1.TenantPlan) ([]tenantryv1alpha1.TenantInstance, error) {
	var out []tenantryv1alpha1.TenantInstance
	for _, sku := range plan.Spec.SKUs {
		list := &tenantryv1alpha1.TenantInstanceList{}
		if err := r.List(ctx, list, client.MatchingFields{instanceSKUIndex: sku}, client.UnsafeDisableDeepCopy); err != nil {
			return nil, fmt.Errorf("listing tenants of SKU %q: %w", sku, err)
		}
		for _, ti := range list.Items {
			if ti.DeletionTimestamp.IsZero() {
				out = append(out, ti)
			}
		}
	}
	return out, nil
}

// revisionsOf lists the plan's ControllerRevisions, oldest first.
func (r *TenantPlanRolloutReconciler) revisionsOf(ctx context.Context, plan string) ([]appsv1.ControllerRevision, error) {
	list := &appsv1.ControllerRevisionList{}
	if err := r.List(ctx, list, client.InNamespace(r.Namespace), client.MatchingLabels{tenantryv1alpha1.LabelPlan: plan}); err != nil {
		return nil, fmt.Errorf("listing revisions of plan %s: %w", plan, err)
	}
	slices.SortFunc(list.Items, func(a, b appsv1.ControllerRevision) int { return cmp.Compare(a.Revision, b.Revision) })
	return list.Items, nil
}

// RevisionName is the name of the ControllerRevision of a plan's app: the plan's name and a hash
// of the app.
func RevisionName(plan string, app tenantryv1alpha1.AppSpec) (string, []byte, error) {
	data, err := json.Marshal(app)
	if err != nil {
		return "", nil, fmt.Errorf("encoding app: %w", err)
	}
	sum := sha256.Sum256(data)
	return plan + "-" + hex.EncodeToString(sum[:5]), data, nil
}

// ensureRevision returns the revision of the plan's app, creating it, or making it the newest
// when an older app came back.
func (r *TenantPlanRolloutReconciler) ensureRevision(ctx context.Context, plan *tenantryv1alpha1.TenantPlan, revisions []appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	name, data, err := RevisionName(plan.Name, plan.Spec.App)
	if err != nil {
		return nil, err
	}
	var newest int64
	for _, rev := range revisions {
		newest = max(newest, rev.Revision)
	}
	for i := range revisions {
		rev := &revisions[i]
		if rev.Name != name {
			continue
		}
		if rev.Revision != newest {
			rev.Revision = newest + 1
			if err := r.Update(ctx, rev); err != nil {
				return nil, fmt.Errorf("renumbering revision %s: %w", name, err)
			}
		}
		return rev, nil
	}
	rev := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Namespace: r.Namespace, Name: name, Labels: map[string]string{
			tenantryv1alpha1.LabelPlan:      plan.Name,
			tenantryv1alpha1.LabelManagedBy: tenantryv1alpha1.ManagedByValue,
		}},
		Data:     runtime.RawExtension{Raw: data},
		Revision: newest + 1,
	}
	if err := controllerutil.SetControllerReference(plan, rev, r.Scheme); err != nil {
		return nil, fmt.Errorf("owning revision %s: %w", name, err)
	}
	if err := r.Create(ctx, rev); err != nil {
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating revision %s: %w", name, err)
		}
		// Made by an earlier reconcile the cache has not seen yet: the same app, the same data.
		return rev, nil
	}
	logf.FromContext(ctx).Info("New plan revision", "plan", plan.Name, "revision", name, "number", rev.Revision)
	return rev, nil
}

// prune deletes the oldest revisions beyond spec.rollout.revisionHistoryLimit, never the plan's
// current, stable or halted one, nor one any tenant is assigned.
func (r *TenantPlanRolloutReconciler) prune(ctx context.Context, plan *tenantryv1alpha1.TenantPlan, revisions []appsv1.ControllerRevision, target string) error {
	limit := tenantryv1alpha1.DefaultRolloutRevisionHistoryLimit
	if plan.Spec.Rollout != nil && plan.Spec.Rollout.RevisionHistoryLimit != nil {
		limit = *plan.Spec.Rollout.RevisionHistoryLimit
	}
	total := len(revisions)
	if !slices.ContainsFunc(revisions, func(rev appsv1.ControllerRevision) bool { return rev.Name == target }) {
		total++ // just created: not in the list read before
	}
	excess := total - int(limit)
	for _, rev := range revisions {
		if excess <= 0 {
			return nil
		}
		if rev.Name == target || rev.Name == plan.Status.StableRevision || rev.Name == plan.Status.HaltedRevision {
			continue
		}
		users := &tenantryv1alpha1.TenantInstanceList{}
		if err := r.List(ctx, users, client.MatchingFields{instanceRevisionIndex: rev.Name}); err != nil {
			return fmt.Errorf("listing tenants of revision %s: %w", rev.Name, err)
		}
		if len(users.Items) > 0 {
			continue
		}
		if err := r.Delete(ctx, &rev, client.Preconditions{UID: &rev.UID}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting revision %s: %w", rev.Name, err)
		}
		excess--
	}
	return nil
}

// setRolloutConditions sets the plan's kstatus conditions from its rollout: Reconciling while
// tenants move, Stalled when the rollout halted.
func setRolloutConditions(st *tenantryv1alpha1.TenantPlanStatus, generation int64, now time.Time) {
	rs := st.Rollout
	set := func(t string, status metav1.ConditionStatus, reason, message string) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: t, Status: status, Reason: reason, Message: message,
			ObservedGeneration: generation, LastTransitionTime: metav1.NewTime(now)})
	}
	switch rs.Phase {
	case tenantryv1alpha1.RolloutCanary, tenantryv1alpha1.RolloutBaking, tenantryv1alpha1.RolloutWaves:
		set(tenantryv1alpha1.ConditionReconciling, metav1.ConditionTrue, tenantryv1alpha1.ReasonRolling, rs.Message)
		set(tenantryv1alpha1.ConditionStalled, metav1.ConditionFalse, tenantryv1alpha1.ReasonRolling, "")
	case tenantryv1alpha1.RolloutHalted:
		set(tenantryv1alpha1.ConditionReconciling, metav1.ConditionFalse, tenantryv1alpha1.ReasonRolloutHalted, "")
		set(tenantryv1alpha1.ConditionStalled, metav1.ConditionTrue, tenantryv1alpha1.ReasonRolloutHalted, rs.Message)
	case tenantryv1alpha1.RolloutRolledBack:
		set(tenantryv1alpha1.ConditionReconciling, metav1.ConditionFalse, tenantryv1alpha1.ReasonRolledBack, "")
		set(tenantryv1alpha1.ConditionStalled, metav1.ConditionTrue, tenantryv1alpha1.ReasonRolledBack, rs.Message)
	case tenantryv1alpha1.RolloutPaused:
		set(tenantryv1alpha1.ConditionReconciling, metav1.ConditionFalse, tenantryv1alpha1.ReasonRolloutPaused, rs.Message)
		set(tenantryv1alpha1.ConditionStalled, metav1.ConditionFalse, tenantryv1alpha1.ReasonRolloutPaused, "")
	default:
		set(tenantryv1alpha1.ConditionReconciling, metav1.ConditionFalse, tenantryv1alpha1.ReasonRolloutComplete, "")
		set(tenantryv1alpha1.ConditionStalled, metav1.ConditionFalse, tenantryv1alpha1.ReasonRolloutComplete, "")
	}
}

func recordRolloutMetrics(plan string, rs *tenantryv1alpha1.RolloutStatus) {
	for state, n := range map[string]int32{"total": rs.Tenants, "updated": rs.Updated, "ready": rs.Ready, "failed": rs.Failed, "held": rs.Held} {
		rolloutTenants.WithLabelValues(plan, state).Set(float64(n))
	}
	halted := 0.0
	if rs.Phase == tenantryv1alpha1.RolloutHalted || rs.Phase == tenantryv1alpha1.RolloutRolledBack {
		halted = 1
	}
	rolloutHalted.WithLabelValues(plan).Set(halted)
	for _, p := range []tenantryv1alpha1.RolloutPhase{tenantryv1alpha1.RolloutCanary, tenantryv1alpha1.RolloutBaking, tenantryv1alpha1.RolloutWaves,
		tenantryv1alpha1.RolloutComplete, tenantryv1alpha1.RolloutHalted, tenantryv1alpha1.RolloutPaused, tenantryv1alpha1.RolloutRolledBack} {
		v := 0.0
		if p == rs.Phase {
			v = 1
		}
		rolloutPhase.WithLabelValues(plan, string(p)).Set(v)
	}
}

func forgetRolloutMetrics(plan string) {
	l := prometheus.Labels{"plan": plan}
	rolloutTenants.DeletePartialMatch(l)
	rolloutHalted.DeletePartialMatch(l)
	rolloutPhase.DeletePartialMatch(l)
	rolloutMoves.DeletePartialMatch(l)
}

func (r *TenantPlanRolloutReconciler) event(obj runtime.Object, eventType, reason, action, note string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, eventType, reason, action, note, args...)
	}
}

// SetupWithManager registers the rollout controller. The TenantInstance controller must be set up
// first: this one reads tenants through its spec.sku index.
func (r *TenantPlanRolloutReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Namespace == "" {
		return fmt.Errorf("the rollout controller needs the namespace of the plans' revisions")
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &tenantryv1alpha1.TenantInstance{}, instanceRevisionIndex, func(o client.Object) []string {
		if rev := o.GetAnnotations()[tenantryv1alpha1.AnnotationPlanRevision]; rev != "" {
			return []string{rev}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("indexing %s: %w", instanceRevisionIndex, err)
	}
	return ctrl.NewControllerManagedBy(mgr).
		// An annotation change of the plan makes it reconcile now (kubectl annotate, to look at
		// the clock again); its own status writes do not.
		For(&tenantryv1alpha1.TenantPlan{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&appsv1.ControllerRevision{}, handler.EnqueueRequestForOwner(mgr.GetScheme(), mgr.GetRESTMapper(),
			&tenantryv1alpha1.TenantPlan{}, handler.OnlyControllerOwner())).
		Watches(&tenantryv1alpha1.TenantInstance{}, handler.EnqueueRequestsFromMapFunc(r.plansOfTenant),
			builder.WithPredicates(predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
				return rolloutView(e.ObjectOld) != rolloutView(e.ObjectNew)
			}})).
		Named("tenantplan-rollout").
		Complete(r)
}

// rolloutView is what the planner reads of a tenant, as one comparable value: a tenant update that
// leaves it alone does not wake the plan.
func rolloutView(o client.Object) string {
	ti, ok := o.(*tenantryv1alpha1.TenantInstance)
	if !ok {
		return ""
	}
	ready := ""
	if c := meta.FindStatusCondition(ti.Status.Conditions, tenantryv1alpha1.ConditionReady); c != nil {
		ready = string(c.Status) + c.LastTransitionTime.String()
	}
	return strings.Join([]string{ti.Spec.SKU, string(ti.Spec.Lifecycle), ti.Status.Revision, ready,
		ti.Annotations[tenantryv1alpha1.AnnotationPlanRevision], ti.Annotations[tenantryv1alpha1.AnnotationHoldRevision],
		ti.Labels[tenantryv1alpha1.LabelRolloutRing], strconv.FormatBool(ti.DeletionTimestamp.IsZero())}, "\x00")
}

// plansOfTenant maps a tenant to the plan listing its SKU.
func (r *TenantPlanRolloutReconciler) plansOfTenant(ctx context.Context, o client.Object) []reconcile.Request {
	ti, ok := o.(*tenantryv1alpha1.TenantInstance)
	if !ok {
		return nil
	}
	plans := &tenantryv1alpha1.TenantPlanList{}
	if err := r.List(ctx, plans, client.MatchingFields{planSKUIndex: ti.Spec.SKU}); err != nil {
		logf.FromContext(ctx).Error(err, "Listing plans of a tenant", "sku", ti.Spec.SKU)
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(plans.Items))
	for _, p := range plans.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: p.Name}})
	}
	return reqs
}
