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
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/metering"
)

// Defaults of Metering.
const (
	DefaultMeteringSyncInterval = time.Minute
	DefaultMeteringFlushTimeout = 10 * time.Minute
	meteringMaxBackoff          = 5 * time.Minute
	// meteringNearLimit is when an unreported period raises a Warning: a day before the
	// marketplace's 21-day limit on begin_time.
	meteringNearLimit = metering.MaxAge - 24*time.Hour
)

// Metering reports the usage of pay-per-use instances (docs/metering.md). Its controller keeps
// each metered instance's accounting in status.metering: it closes every period that ended into
// a pending record, from what is durable (the lifecycle and the send time of the call that set
// it, the ready replicas on the status, the directory, Prometheus at the period's end), never
// from process memory. Its pusher, run by the leader only, sends the pending records in batches,
// each with the metering_sn of its (instance, period start), and removes them from the status
// once the marketplace took them. A crash between the two resends the same sn, which the
// marketplace drops.
type Metering struct {
	// Client reads from the manager's cache and writes.
	Client client.Client
	// APIReader reads from the API server, for the read-modify-writes of the status.
	APIReader client.Reader
	Recorder  events.EventRecorder
	// Clock is injected so tests can let hours pass.
	Clock clock.PassiveClock
	// Push sends records; nil keeps accounting but sends nothing.
	Push *metering.Client
	// Prometheus evaluates the queries of the Prometheus source.
	Prometheus *metering.Prometheus
	// PeriodOverride, when positive, replaces every plan's period (tests and demos).
	PeriodOverride time.Duration
	// SyncInterval is how often every metered instance is looked at and pending records are
	// pushed; DefaultMeteringSyncInterval when zero.
	SyncInterval time.Duration
	// FlushTimeout bounds how long a release waits for its last records to be taken;
	// DefaultMeteringFlushTimeout when zero.
	FlushTimeout time.Duration
	// MaxBackoff bounds the wait between failed pushes; 5 minutes when zero.
	MaxBackoff time.Duration
	// MaxConcurrentReconciles bounds how many instances' accounting is brought up to date at
	// once (closing a period is a status write each); 4 when zero. The operator gives it its
	// --max-concurrent-reconciles.
	MaxConcurrentReconciles int

	once   sync.Once
	resync chan event.GenericEvent
	kick   chan struct{}
}

// +kubebuilder:rbac:groups=tenantry.io,resources=tenantinstances/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tenantry.io,resources=tenantplans;tenantdirectories,verbs=get;list;watch

// instanceOnDemandIndex indexes the pay-per-use instances, under "true"; others are not in it.
const instanceOnDemandIndex = "onDemand"

// onDemandOnly lists the pay-per-use instances of the cache, by instanceOnDemandIndex.
var onDemandOnly = client.MatchingFields{instanceOnDemandIndex: "true"}

// OnDemand reports whether an instance is billed by usage.
func OnDemand(ti *tenantryv1alpha1.TenantInstance) bool {
	m := ti.Spec.Order.ChargingMode
	return m == tenantryv1alpha1.ChargingOnDemand || m == tenantryv1alpha1.ChargingOnDemandPkg
}

func (m *Metering) init() {
	m.once.Do(m.defaults)
}

func (m *Metering) defaults() {
	if m.Clock == nil {
		m.Clock = clock.RealClock{}
	}
	if m.SyncInterval <= 0 {
		m.SyncInterval = DefaultMeteringSyncInterval
	}
	if m.MaxBackoff <= 0 {
		m.MaxBackoff = meteringMaxBackoff
	}
	if m.FlushTimeout <= 0 {
		m.FlushTimeout = DefaultMeteringFlushTimeout
	}
	m.resync = make(chan event.GenericEvent, 1024)
	m.kick = make(chan struct{}, 1)
}

// SetupWithManager registers the metering controller and the pusher; both run on the leader only.
func (m *Metering) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	m.init()
	// Only pay-per-use instances are indexed: where nothing is metered the index holds nothing,
	// and the pusher's rounds copy nothing out of the cache.
	if err := mgr.GetFieldIndexer().IndexField(ctx, &tenantryv1alpha1.TenantInstance{}, instanceOnDemandIndex, func(o client.Object) []string {
		if OnDemand(o.(*tenantryv1alpha1.TenantInstance)) {
			return []string{"true"}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("indexing %s: %w", instanceOnDemandIndex, err)
	}
	if m.APIReader == nil {
		m.APIReader = mgr.GetAPIReader()
	}
	if err := mgr.Add(m); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&tenantryv1alpha1.TenantInstance{}, builder.WithPredicates(meteringRelevant())).
		Watches(&tenantryv1alpha1.TenantPlan{}, handler.EnqueueRequestsFromMapFunc(m.instancesOfPlan)).
		WatchesRawSource(source.Channel(m.resync, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: cmp.Or(m.MaxConcurrentReconciles, 4)}).
		Named("metering").
		Complete(m)
}

// meteringRelevant lets through the events of pay-per-use instances that may change what they
// are billed: their creation and deletion, a change of spec (the lifecycle and the send time of
// the call that set it, the SKU, the charging mode), the release (the deletion timestamp) and a
// change of ready replicas. Every other write to an instance (the main reconciler's status and
// conditions, annotations, finalizers, the metering's own status.metering) changes nothing
// billable: reconciling on it would only cost reads, and before accounting stopped moving its
// checkpoint with the clock, a status write each. Periods that end with nothing else happening
// are closed by the reconcile's RequeueAfter and the pusher's periodic resync.
func meteringRelevant() predicate.Predicate {
	onDemand := func(o client.Object) bool {
		ti, ok := o.(*tenantryv1alpha1.TenantInstance)
		return ok && OnDemand(ti)
	}
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return onDemand(e.Object) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return onDemand(e.Object) },
		GenericFunc: func(e event.GenericEvent) bool { return onDemand(e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool {
			old, okOld := e.ObjectOld.(*tenantryv1alpha1.TenantInstance)
			cur, okNew := e.ObjectNew.(*tenantryv1alpha1.TenantInstance)
			if !okOld || !okNew || (!OnDemand(old) && !OnDemand(cur)) {
				return false
			}
			return old.Generation != cur.Generation ||
				!old.DeletionTimestamp.Equal(cur.DeletionTimestamp) ||
				old.Status.ReadyReplicas != cur.Status.ReadyReplicas
		},
	}
}

func (m *Metering) instancesOfPlan(ctx context.Context, o client.Object) []reconcile.Request {
	plan, ok := o.(*tenantryv1alpha1.TenantPlan)
	if !ok || plan.Spec.Metering == nil {
		return nil
	}
	list := &tenantryv1alpha1.TenantInstanceList{}
	if err := m.Client.List(ctx, list, onDemandOnly, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	var out []reconcile.Request
	for i := range list.Items {
		ti := &list.Items[i]
		for _, sku := range plan.Spec.SKUs {
			if ti.Spec.SKU == sku {
				out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(ti)})
			}
		}
	}
	return out
}

// meterOf resolves the meter of an instance's plan; ok is false when the instance is not
// metered (not pay-per-use, no single plan, or a plan without a meter).
func (m *Metering) meterOf(ctx context.Context, ti *tenantryv1alpha1.TenantInstance) (metering.Meter, bool, error) {
	if !OnDemand(ti) {
		return metering.Meter{}, false, nil
	}
	meters, err := m.meters(ctx)
	if err != nil {
		return metering.Meter{}, false, err
	}
	meter, ok := meters[ti.Spec.SKU]
	return meter, ok, nil
}

// meters maps each SKU listed by exactly one plan with a valid meter to that meter.
func (m *Metering) meters(ctx context.Context) (map[string]metering.Meter, error) {
	plans := &tenantryv1alpha1.TenantPlanList{}
	if err := m.Client.List(ctx, plans); err != nil {
		return nil, fmt.Errorf("listing plans: %w", err)
	}
	count := map[string]int{}
	out := map[string]metering.Meter{}
	for i := range plans.Items {
		p := &plans.Items[i]
		var meter metering.Meter
		var err error
		if p.Spec.Metering != nil {
			meter, err = metering.FromPlan(p.Spec.Metering, m.PeriodOverride)
		}
		for _, sku := range p.Spec.SKUs {
			count[sku]++
			if p.Spec.Metering != nil && err == nil {
				out[sku] = meter
			}
		}
	}
	for sku, n := range count {
		if n > 1 {
			delete(out, sku)
		}
	}
	return out, nil
}

// observeUsage is what accrues now, and since when.
func observeUsage(ti *tenantryv1alpha1.TenantInstance, meter metering.Meter) metering.Observation {
	obs := metering.Observation{}
	switch meter.Source {
	case tenantryv1alpha1.MeteringActiveHours:
		if ti.Spec.Lifecycle != tenantryv1alpha1.LifecycleFrozen {
			obs.Rate = 1
		}
		// The send time of the call that set the lifecycle is when it changed, even when the
		// operator sees the change later (it was down, or busy).
		if mr := ti.Spec.Marketplace; mr != nil && mr.LifecycleSetAt != nil {
			obs.RateSince = mr.LifecycleSetAt.Time
		}
	case tenantryv1alpha1.MeteringReadyReplicaHours:
		obs.Rate = max(ti.Status.ReadyReplicas, 0)
	}
	if ti.DeletionTimestamp != nil {
		obs.Until = ti.DeletionTimestamp.Time
	}
	return obs
}

// sampler samples the sampled sources for an instance.
func (m *Metering) sampler(ti *tenantryv1alpha1.TenantInstance, meter metering.Meter) metering.Sampler {
	switch meter.Source {
	case tenantryv1alpha1.MeteringDirectoryUsers:
		return func(ctx context.Context, _, _ time.Time) (*big.Rat, error) {
			n, err := m.directoryUsers(ctx, ti)
			if err != nil {
				return nil, err
			}
			return big.NewRat(int64(n), 1), nil
		}
	case tenantryv1alpha1.MeteringPrometheus:
		return func(ctx context.Context, start, end time.Time) (*big.Rat, error) {
			q, err := metering.RenderQuery(meter.Query, metering.QueryData{
				InstanceID: ti.Name, Namespace: tenantryv1alpha1.NamespaceName(ti.Name),
				Period: strconv.FormatInt(int64(end.Sub(start)/time.Second), 10) + "s"})
			if err != nil {
				return nil, err
			}
			return m.Prometheus.Query(ctx, q, end)
		}
	}
	return nil
}

// directoryUsers counts the enabled users (distinct user names) of the instance's bound 联营
// tenant, as the directory shards hold them now, with the rules the operator projects them by.
func (m *Metering) directoryUsers(ctx context.Context, ti *tenantryv1alpha1.TenantInstance) (int, error) {
	if ti.Spec.Tenant == nil {
		return 0, nil
	}
	var dirs []*tenantryv1alpha1.TenantDirectory
	for _, sh := range directoryShards() {
		if sh.part != tenantryv1alpha1.DirectoryUsers {
			continue
		}
		dir := &tenantryv1alpha1.TenantDirectory{}
		err := m.Client.Get(ctx, client.ObjectKey{Name: tenantryv1alpha1.DirectoryShardName(ti.Name, sh.part, sh.index)}, dir)
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return 0, fmt.Errorf("reading tenant directory shard: %w", err)
		}
		if dir.Spec.TenantID == ti.Spec.Tenant.TenantID && dir.Spec.InstanceName == ti.Name && dir.Spec.Part == sh.part {
			dirs = append(dirs, dir)
		}
	}
	resolveDirectory(dirs)
	users := map[string]bool{}
	for _, d := range dirs {
		for _, u := range d.Spec.Users {
			if u.Enabled {
				users[u.UserName] = true
			}
		}
	}
	return len(users), nil
}

// Reconcile brings one instance's accounting up to now and comes back when its period ends. It
// writes only when the accounting changed: a period closed, or the rate changed (see
// metering.Meter.Advance); looking at an instance within a period at the same rate costs no write.
func (m *Metering) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	m.init()
	ti := &tenantryv1alpha1.TenantInstance{}
	if err := m.Client.Get(ctx, req.NamespacedName, ti); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	meter, ok, err := m.meterOf(ctx, ti)
	if err != nil || !ok {
		return reconcile.Result{}, err
	}
	if ti.Status.Metering != nil && ti.Status.Metering.Closed {
		return reconcile.Result{}, nil
	}
	now := m.Clock.Now()
	sample := memoSampler(m.sampler(ti, meter))
	st, changed, late, accErr := m.account(ctx, ti, meter, now, sample)
	if changed && m.APIReader != nil {
		// The cache may not hold a write of ours yet (the period closed by the previous
		// reconcile, an acknowledgement): a write computed from it would be refused with a
		// conflict, or worse, redo what was done. The write is computed from the API server's
		// copy; this costs a read, only when there is something to write.
		fresh := &tenantryv1alpha1.TenantInstance{}
		if err := m.APIReader.Get(ctx, req.NamespacedName, fresh); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
		if fresh.ResourceVersion != ti.ResourceVersion {
			ti = fresh
			if ti.Status.Metering != nil && ti.Status.Metering.Closed {
				return reconcile.Result{}, nil
			}
			st, changed, late, accErr = m.account(ctx, ti, meter, now, sample)
		}
	}
	if changed {
		before := 0
		if ti.Status.Metering != nil {
			before = len(ti.Status.Metering.Pending)
		}
		if err := m.writeAccounting(ctx, ti, st); err != nil {
			return reconcile.Result{}, err
		}
		if late {
			m.lateStart(ti, st)
		}
		if len(st.Pending) > before {
			m.poke()
		}
	}
	if accErr != nil {
		if !errors.Is(accErr, metering.ErrBacklogFull) {
			m.warn(ti, "MeteringFailed", "Meter", "Usage of the period from %s cannot be measured yet: %v",
				st.PeriodStart.UTC().Format(time.RFC3339), accErr)
		}
		return reconcile.Result{}, accErr
	}
	if st.Closed || st.PeriodStart == nil {
		return reconcile.Result{}, nil
	}
	next := metering.PeriodEnd(st.PeriodStart.Time, meter.Period).Sub(now) + time.Second
	return reconcile.Result{RequeueAfter: max(next, time.Second)}, nil
}

// account computes ti's accounting at now: the new status.metering, whether it differs from
// ti's, and whether its first period starts late (at now rather than at the creation).
func (m *Metering) account(ctx context.Context, ti *tenantryv1alpha1.TenantInstance, meter metering.Meter, now time.Time, sample metering.Sampler) (*tenantryv1alpha1.MeteringStatus, bool, bool, error) {
	st := ti.Status.Metering.DeepCopy()
	if st == nil {
		st = &tenantryv1alpha1.MeteringStatus{}
	}
	start, late := m.accountingStart(ti, st, now)
	obs := observeUsage(ti, meter)
	if ti.DeletionTimestamp != nil {
		// Released: the last, partial period closes at the deletion, and nothing opens after it.
		before := st.DeepCopy()
		err := meter.Close(ctx, st, start, ti.DeletionTimestamp.Time, obs, sample)
		return st, !equality.Semantic.DeepEqual(before, st), late, err
	}
	changed, err := meter.Advance(ctx, st, start, now, obs, sample)
	return st, changed, late, err
}

// memoSampler remembers the samples of sample by period, so accounting computed twice in one
// reconcile (from the cache, then from the API server) samples each period once.
func memoSampler(sample metering.Sampler) metering.Sampler {
	if sample == nil {
		return nil
	}
	type span struct{ start, end int64 }
	seen := map[span]*big.Rat{}
	return func(ctx context.Context, start, end time.Time) (*big.Rat, error) {
		k := span{start.UnixNano(), end.UnixNano()}
		if v, ok := seen[k]; ok {
			return new(big.Rat).Set(v), nil
		}
		v, err := sample(ctx, start, end)
		if err != nil {
			return nil, err
		}
		seen[k] = new(big.Rat).Set(v)
		return v, nil
	}
}

// meteringBackfill is how long after an instance's creation its accounting may still start at the
// creation: an instance created while the operator was down is billed from its creation, but one
// that existed long before its plan got a meter (or before the operator metered at all) is billed
// from when metering starts, never for the time before.
const meteringBackfill = 24 * time.Hour

// accountingStart is when an instance's first period starts: its creation, unless that was more
// than meteringBackfill before now; then now, and late is true (lateStart says so once written).
// It matters only while st has not started.
func (m *Metering) accountingStart(ti *tenantryv1alpha1.TenantInstance, st *tenantryv1alpha1.MeteringStatus, now time.Time) (start time.Time, late bool) {
	created := ti.CreationTimestamp.Time
	if st.PeriodStart != nil || now.Sub(created) <= meteringBackfill {
		return created, false
	}
	return now, true
}

// lateStart says in an Event that an instance's accounting, written as st, started late.
func (m *Metering) lateStart(ti *tenantryv1alpha1.TenantInstance, st *tenantryv1alpha1.MeteringStatus) {
	if m.Recorder == nil || st.PeriodStart == nil {
		return
	}
	created := ti.CreationTimestamp.Time
	m.Recorder.Eventf(ti, nil, corev1.EventTypeNormal, "MeteringStarted", "Meter",
		"Usage is metered from %s: the instance was created on %s, more than %s earlier, and is not billed for the time before",
		st.PeriodStart.UTC().Format(time.RFC3339), created.UTC().Format(time.RFC3339), meteringBackfill)
}

// writeAccounting writes st as the instance's status.metering, with the resourceVersion it was
// computed from: a conflict means something newer was seen, and the reconcile starts again
// from it.
func (m *Metering) writeAccounting(ctx context.Context, ti *tenantryv1alpha1.TenantInstance, st *tenantryv1alpha1.MeteringStatus) error {
	patch := client.MergeFromWithOptions(ti.DeepCopy(), client.MergeFromWithOptimisticLock{})
	ti.Status.Metering = st
	if err := m.Client.Status().Patch(ctx, ti, patch); err != nil {
		return fmt.Errorf("recording usage accounting: %w", err)
	}
	return nil
}

func (m *Metering) poke() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// warn records a Warning Event on an instance.
func (m *Metering) warn(obj *tenantryv1alpha1.TenantInstance, reason, action, note string, args ...any) {
	if m.Recorder != nil {
		m.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, reason, action, note, args...)
	}
}

// Flush is the release's hook: it closes a released pay-per-use instance's last, partial period
// and pushes what it has not reported yet. It returns an error (the release comes back) while
// records are unreported, until FlushTimeout after the release reached it (the end of the
// retention, or the deletion); then it says in a Warning Event what was not reported and lets
// the release go on. A nil Metering, an instance that is not metered, or one fully reported,
// returns nil at once. On success, instance carries the resourceVersion written.
func (m *Metering) Flush(ctx context.Context, instance *tenantryv1alpha1.TenantInstance) error {
	if m == nil || !OnDemand(instance) {
		return nil
	}
	m.init()
	meter, ok, err := m.meterOf(ctx, instance)
	if err != nil || !ok {
		return err
	}
	ti := &tenantryv1alpha1.TenantInstance{}
	if err := m.APIReader.Get(ctx, client.ObjectKeyFromObject(instance), ti); err != nil {
		return client.IgnoreNotFound(err)
	}
	if ti.DeletionTimestamp == nil {
		return nil
	}
	st := ti.Status.Metering.DeepCopy()
	if st == nil {
		st = &tenantryv1alpha1.MeteringStatus{}
	}
	if !st.Closed {
		start, late := m.accountingStart(ti, st, m.Clock.Now())
		if err := meter.Close(ctx, st, start, ti.DeletionTimestamp.Time, observeUsage(ti, meter), m.sampler(ti, meter)); err != nil {
			return m.flushFailed(ti, fmt.Errorf("closing the last period: %w", err))
		}
		if err := m.writeAccounting(ctx, ti, st); err != nil {
			return err
		}
		if late {
			m.lateStart(ti, st)
		}
	}
	if len(st.Pending) > 0 && m.Push != nil {
		if err := m.pushInstance(ctx, ti); err != nil {
			return m.flushFailed(ti, err)
		}
	}
	if ti.Status.Metering != nil && len(ti.Status.Metering.Pending) > 0 {
		return m.flushFailed(ti, errors.New("records are unreported"))
	}
	instance.ResourceVersion = ti.ResourceVersion
	instance.Status.Metering = ti.Status.Metering
	return nil
}

// flushFailed returns err while the flush may still wait, and nil with a Warning Event once it
// may not.
func (m *Metering) flushFailed(ti *tenantryv1alpha1.TenantInstance, err error) error {
	from := ti.DeletionTimestamp.Time
	if ti.Status.RetainUntil != nil && ti.Status.RetainUntil.After(from) {
		from = ti.Status.RetainUntil.Time
	}
	if m.Clock.Since(from) < m.FlushTimeout {
		return fmt.Errorf("reporting the released instance's last usage: %w", err)
	}
	var what []string
	if st := ti.Status.Metering; st != nil {
		for _, r := range st.Pending {
			what = append(what, fmt.Sprintf("%s..%s=%s (metering_sn %s)", r.Start.UTC().Format(metering.TimeFormat),
				r.End.UTC().Format(metering.TimeFormat), r.Value, metering.SN(ti.Name, r.Start.Time)))
		}
		if !st.Closed && st.PeriodStart != nil {
			what = append(what, "the period from "+st.PeriodStart.UTC().Format(metering.TimeFormat)+" (not measured)")
		}
	}
	m.warn(ti, "UsageNotReported", "Release",
		"Released after %s without reporting usage to the marketplace (%v); report it by hand: %s",
		m.FlushTimeout, err, strings.Join(what, ", "))
	meteringUnreportedAtRelease.Add(float64(max(len(what), 1)))
	return nil
}

// acknowledge removes the records starting at starts from the instance's pending records, with
// a conflict-retried read-modify-write from the API server.
func (m *Metering) acknowledge(ctx context.Context, name string, starts []time.Time) (*tenantryv1alpha1.TenantInstance, error) {
	var out *tenantryv1alpha1.TenantInstance
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		ti := &tenantryv1alpha1.TenantInstance{}
		if err := m.APIReader.Get(ctx, client.ObjectKey{Name: name}, ti); err != nil {
			return err
		}
		out = ti
		if ti.Status.Metering == nil {
			return nil
		}
		st := ti.Status.Metering.DeepCopy()
		changed, err := metering.Acknowledge(st, starts)
		if err != nil || !changed {
			return err
		}
		return m.writeAccounting(ctx, ti, st)
	})
	if apierrors.IsNotFound(err) {
		return out, nil
	}
	return out, err
}
