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

package chaos

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
)

// existence is what the ledger says about whether an instance exists at the end.
type existence int

const (
	mustExist existence = iota
	mustBeGone
	// mayExist: the call that would decide it (the purchase, or the release) was never
	// acknowledged, so either outcome is right.
	mayExist
)

// expectation is the final state the ledger allows for one tenant. Each aspect may have several
// allowed values when the records leave it open which of the calls won: a call never
// acknowledged may or may not have been persisted, and a renewal or upgrade may have been
// applied by any of its attempts that may have persisted.
type expectation struct {
	exists                  existence
	lifecycle, sku, expiry  []string
	acknowledged, uncertain int
}

// aspect groups the calls that set one part of the spec. The calls of an order-keyed aspect
// carry an order that the instance remembers once applied (docs/protocol.md §6.6).
var aspects = []struct {
	name       string
	kinds      []kind
	orderKeyed bool
}{
	{"lifecycle", []kind{kindFreeze, kindUnfreeze}, false},
	{"expiry", []kind{kindRenew}, true},
	{"sku", []kind{kindUpgrade}, true},
}

// expect computes what t must end as. The purchase sets every aspect first; then, per aspect,
// the call with the newest send time among those applied wins (docs/protocol.md §6.3: a call sent
// before the one that last set the aspect is ignored).
//
// Lifecycle: freezes and unfreezes carry no order, so every attempt is judged by its own send
// time: the newest acknowledged one wins, and a call never acknowledged with an attempt sent
// after it that may have persisted (mayHavePersisted) may have won instead. The
// stale-FREEZE rules of docs/protocol.md §6.10 (a FREEZE sent less than the freeze-retry horizon
// after a renewal is ignored; a renewal processed after such a FREEZE lifts it) play no part: the
// suite runs the bridge with a horizon of 1 ms, and send times about one instance are unique to
// the millisecond (tenant.stamp), so no FREEZE is ever within the horizon of a renewal.
//
// Expiry and SKU: see orderedOutcomes.
func expect(t *tenant) expectation {
	calls := t.snapshot()
	e := expectation{}
	bought := false
	released, releaseTried := false, false
	for _, c := range calls {
		c.mu.Lock()
		switch {
		case c.acked != nil:
			e.acknowledged++
		case len(c.attempts) > 0:
			e.uncertain++
		}
		switch c.kind {
		case kindBuy:
			bought = bought || c.acked != nil
		case kindRelease:
			released = released || c.acked != nil
			releaseTried = releaseTried || len(c.attempts) > 0
		}
		c.mu.Unlock()
	}
	switch {
	case released:
		e.exists = mustBeGone
	case !bought || releaseTried:
		e.exists = mayExist
	default:
		e.exists = mustExist
	}
	base := map[string]string{
		"lifecycle": string(tenantryv1alpha1.LifecycleActive),
		"expiry":    t.expire.Format(time.RFC3339),
		"sku":       t.sku,
	}
	for _, a := range aspects {
		var records []callRecord
		for _, c := range calls {
			if slices.Contains(a.kinds, c.kind) {
				records = append(records, c.recorded())
			}
		}
		var allowed []string
		if a.orderKeyed {
			allowed = orderedOutcomes(base[a.name], records)
		} else {
			allowed = newestAcknowledged(base[a.name], records)
		}
		switch a.name {
		case "lifecycle":
			e.lifecycle = allowed
		case "expiry":
			e.expiry = allowed
		case "sku":
			e.sku = allowed
		}
	}
	return e
}

// callRecord is what the ledger knows of one call: its value, its attempts in the order sent,
// and the acknowledged one.
type callRecord struct {
	value    string
	acked    *attempt
	attempts []attempt
}

func (c *call) recorded() callRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return callRecord{value: c.value, acked: c.acked, attempts: slices.Clone(c.attempts)}
}

// newestAcknowledged is what an aspect set by calls that every attempt applies may end as: the
// value of the acknowledged call with the newest send time (base when there is none), or that of
// a call never acknowledged with an attempt sent after it that may have persisted.
func newestAcknowledged(base string, records []callRecord) []string {
	latest, latestAt := base, time.Time{}
	for _, r := range records {
		if r.acked != nil && r.acked.sent.After(latestAt) {
			latest, latestAt = r.value, r.acked.sent
		}
	}
	allowed := []string{latest}
	for _, r := range records {
		if r.acked != nil || slices.Contains(allowed, r.value) {
			continue
		}
		if slices.ContainsFunc(r.attempts, func(a attempt) bool { return a.sent.After(latestAt) && mayHavePersisted(a) }) {
			allowed = append(allowed, r.value)
		}
	}
	return allowed
}

// mayHavePersisted reports whether the bridge may have applied attempt a. 000002 and 000003
// refuse the call before anything is written. 000005 promises nothing was persisted
// (docs/protocol.md §6.1), and the bridge keeps that promise for every failure it sees, but not
// for one it cannot see: the API server committing a write and dying (or being killed, as this
// suite does) before it confirms it. The ledger therefore counts 000005 as "may have persisted",
// as it counts an attempt lost in transport or an answer the suite could not read (a wrong
// Body-Sign), so that an outage never fails the suite for a state the bridge could reach.
func mayHavePersisted(a attempt) bool {
	if a.err != nil || a.code == simulator.ResultSuccess || a.code == simulator.ResultInternal {
		return true
	}
	return len(a.code) != 6 || strings.Trim(a.code, "0123456789") != ""
}

// orderedOutcomes is what an aspect set by order-keyed calls (renewals, upgrades) may end as.
//
// Such a call keeps its order on every resend, and the bridge applies an order once: a resend of
// an order already applied is answered 000000 and changes nothing, even with a newer send time
// (docs/protocol.md §6.6). So the send time the call sets the aspect with is that of the first of
// its attempts the bridge applied — any attempt that may have persisted, up to and including the
// acknowledged one — and not necessarily that of the acknowledged attempt. (An attempt ignored as
// sent too early applies nothing and records no order, so a later attempt may still apply; and
// an order forgotten after 32 newer ones may apply again, at a later send time of the same call,
// which changes nothing below.)
//
// The aspect ends as the value of the applied call with the newest such send time, or base when
// none applied. A value is allowed when some assignment consistent with the records makes it win:
// every acknowledged call applied at one of its candidate times, every other call at one of its
// candidate times or not at all. A call c can win at its latest candidate time when every other
// acknowledged call has a candidate before it (each of those applied at its earliest, and the
// unacknowledged ones not at all); an acknowledged call applied later than that, or not at all
// because a newer send had set the aspect first, could only have made another call win. base can
// win only when no call was acknowledged.
func orderedOutcomes(base string, records []callRecord) []string {
	type candidates struct {
		value            string
		acked            bool
		earliest, latest time.Time
	}
	var cs []candidates
	for _, r := range records {
		var times []time.Time
		for _, a := range r.attempts {
			if mayHavePersisted(a) {
				times = append(times, a.sent)
			}
			if a.err == nil && a.code == simulator.ResultSuccess {
				break
			}
		}
		if len(times) > 0 {
			cs = append(cs, candidates{value: r.value, acked: r.acked != nil, earliest: slices.MinFunc(times, time.Time.Compare),
				latest: slices.MaxFunc(times, time.Time.Compare)})
		}
	}
	var allowed []string
	if !slices.ContainsFunc(cs, func(c candidates) bool { return c.acked }) {
		allowed = append(allowed, base)
	}
	for i, c := range cs {
		wins := true
		for j, other := range cs {
			if j != i && other.acked && !other.earliest.Before(c.latest) {
				wins = false
				break
			}
		}
		if wins && !slices.Contains(allowed, c.value) {
			allowed = append(allowed, c.value)
		}
	}
	return allowed
}

// world is one observation of everything the suite's tenants could have left in the cluster.
type world struct {
	instances  map[string]*tenantryv1alpha1.TenantInstance
	byOrder    map[string]int
	namespaces map[string]*corev1.Namespace
	// byInstance counts objects labelled with each instance, by kind.
	nsByInstance map[string]int
	deployments  map[string][]appsv1.Deployment // by namespace
	replicaSets  map[string][]appsv1.ReplicaSet // by namespace
	pods         map[string][]corev1.Pod        // live Pods, by instance label
	terminating  map[string][]corev1.Pod        // Pods being deleted, by instance label
}

func observe(ctx context.Context) (*world, error) {
	w := &world{
		instances: map[string]*tenantryv1alpha1.TenantInstance{}, byOrder: map[string]int{},
		namespaces: map[string]*corev1.Namespace{}, nsByInstance: map[string]int{},
		deployments: map[string][]appsv1.Deployment{}, replicaSets: map[string][]appsv1.ReplicaSet{},
		pods: map[string][]corev1.Pod{}, terminating: map[string][]corev1.Pod{},
	}
	tis := &tenantryv1alpha1.TenantInstanceList{}
	if err := admin.List(ctx, tis); err != nil {
		return nil, fmt.Errorf("listing TenantInstances: %w", err)
	}
	for i := range tis.Items {
		ti := &tis.Items[i]
		w.instances[ti.Name] = ti
		w.byOrder[ti.Spec.Order.OrderID+"/"+ti.Spec.Order.OrderLineID]++
	}
	nss := &corev1.NamespaceList{}
	if err := admin.List(ctx, nss); err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	for i := range nss.Items {
		ns := &nss.Items[i]
		w.namespaces[ns.Name] = ns
		if id := ns.Labels[tenantryv1alpha1.LabelInstance]; id != "" {
			w.nsByInstance[id]++
		}
	}
	labelled := client.HasLabels{tenantryv1alpha1.LabelInstance}
	deps := &appsv1.DeploymentList{}
	if err := admin.List(ctx, deps, labelled); err != nil {
		return nil, fmt.Errorf("listing Deployments: %w", err)
	}
	for _, d := range deps.Items {
		w.deployments[d.Namespace] = append(w.deployments[d.Namespace], d)
	}
	rss := &appsv1.ReplicaSetList{}
	if err := admin.List(ctx, rss, labelled); err != nil {
		return nil, fmt.Errorf("listing ReplicaSets: %w", err)
	}
	for _, rs := range rss.Items {
		w.replicaSets[rs.Namespace] = append(w.replicaSets[rs.Namespace], rs)
	}
	pods := &corev1.PodList{}
	if err := admin.List(ctx, pods, labelled); err != nil {
		return nil, fmt.Errorf("listing Pods: %w", err)
	}
	for _, p := range pods.Items {
		id := p.Labels[tenantryv1alpha1.LabelInstance]
		if p.DeletionTimestamp != nil {
			w.terminating[id] = append(w.terminating[id], p)
			continue
		}
		w.pods[id] = append(w.pods[id], p)
	}
	return w, nil
}

// check lists how t differs from what e allows; nothing means t has converged.
func (w *world) check(t *tenant, e expectation) []string {
	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, t.id+": "+fmt.Sprintf(format, args...))
	}
	ns := tenantryv1alpha1.NamespaceName(t.id)
	ti := w.instances[t.id]
	if n := w.byOrder[t.order.OrderID+"/"+t.order.OrderLineID]; n > 1 {
		add("duplicate: %d TenantInstances for order line %s", n, t.order.OrderLineID)
	}
	if e.exists == mustBeGone || (e.exists == mayExist && ti == nil) {
		if e.exists == mustBeGone && ti != nil {
			add("released (acknowledged) but the TenantInstance still exists (deleting: %t)", ti.DeletionTimestamp != nil)
			return problems
		}
		if _, ok := w.namespaces[ns]; ok {
			add("orphan: namespace %s still exists without its TenantInstance", ns)
		}
		if n := w.nsByInstance[t.id]; n > 0 && w.namespaces[ns] == nil {
			add("orphan: %d namespaces labelled with the released instance", n)
		}
		if n := len(w.pods[t.id]); n > 0 {
			add("orphan: %d Pods of the released instance", n)
		}
		return problems
	}
	if ti == nil {
		add("lost: the TenantInstance does not exist")
		return problems
	}
	if ti.DeletionTimestamp != nil {
		add("still being deleted")
		return problems
	}
	lifecycle := string(ti.Spec.Lifecycle)
	if lifecycle == "" {
		lifecycle = string(tenantryv1alpha1.LifecycleActive)
	}
	if !slices.Contains(e.lifecycle, lifecycle) {
		add("spec.lifecycle is %s, the ledger allows %v", lifecycle, e.lifecycle)
	}
	if !slices.Contains(e.sku, ti.Spec.SKU) {
		add("spec.sku is %s, the ledger allows %v", ti.Spec.SKU, e.sku)
	}
	expiry := ""
	if ti.Spec.ExpiresAt != nil {
		expiry = ti.Spec.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if !slices.Contains(e.expiry, expiry) {
		add("spec.expiresAt is %q, the ledger allows %v", expiry, e.expiry)
	}
	ready := meta.FindStatusCondition(ti.Status.Conditions, tenantryv1alpha1.ConditionReady)
	switch {
	case ti.Status.ObservedGeneration != ti.Generation:
		add("status is for generation %d, the spec is at %d", ti.Status.ObservedGeneration, ti.Generation)
	case ready == nil || ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != ti.Generation:
		msg := "no Ready condition"
		if ready != nil {
			msg = fmt.Sprintf("Ready=%s (%s)", ready.Status, ready.Message)
		}
		if d := w.deployments[tenantryv1alpha1.NamespaceName(t.id)]; len(d) == 1 && d[0].Status.ObservedGeneration == d[0].Generation &&
			d[0].Status.ReadyReplicas == ptrValue(d[0].Spec.Replicas) {
			msg += fmt.Sprintf("; its Deployment has settled: generation %d observed, %d ready replicas", d[0].Generation, d[0].Status.ReadyReplicas)
		}
		add("not Ready: %s", msg)
	}
	frozen := lifecycle == string(tenantryv1alpha1.LifecycleFrozen)
	wantState, want := tenantryv1alpha1.StateRunning, plans[ti.Spec.SKU].replicas
	if frozen {
		wantState, want = tenantryv1alpha1.StateFrozen, 0
	}
	if ti.Status.State != wantState {
		add("status.state is %s, want %s (%s)", ti.Status.State, wantState, w.workload(ns, t.id))
	}
	if plan := plans[ti.Spec.SKU].name; ti.Status.Plan != plan {
		add("status.plan is %q, want %q", ti.Status.Plan, plan)
	}
	if n := w.nsByInstance[t.id]; n != 1 || w.namespaces[ns] == nil {
		add("%d namespaces labelled with the instance (namespace %s exists: %t)", n, ns, w.namespaces[ns] != nil)
	}
	deps := w.deployments[ns]
	switch {
	case len(deps) != 1:
		add("duplicate or missing Deployment: %d in %s", len(deps), ns)
	case deps[0].Spec.Replicas == nil || ptrValue(deps[0].Spec.Replicas) != want:
		add("Deployment asks for %d replicas, want %d", ptrValue(deps[0].Spec.Replicas), want)
	}
	active := 0
	for _, rs := range w.replicaSets[ns] {
		if rs.Spec.Replicas != nil && *rs.Spec.Replicas > 0 {
			active++
		}
	}
	if active > 1 {
		add("duplicate: %d ReplicaSets with replicas", active)
	}
	running := 0
	for _, p := range w.pods[t.id] {
		if p.Status.Phase == corev1.PodRunning {
			running++
		}
	}
	if len(w.pods[t.id]) != int(want) || running != int(want) {
		add("%d Pods (%d Running), want %d", len(w.pods[t.id]), running, want)
	}
	return problems
}

// workload describes the Deployment and the Pods of instance id in namespace ns, for a problem
// with its state.
func (w *world) workload(ns, id string) string {
	var d string
	switch deps := w.deployments[ns]; len(deps) {
	case 0:
		d = "no Deployment"
	case 1:
		s := deps[0].Status
		d = fmt.Sprintf("Deployment generation %d (observed %d): spec %d replicas, status %d, %d ready, %d terminating",
			deps[0].Generation, s.ObservedGeneration, ptrValue(deps[0].Spec.Replicas), s.Replicas, s.ReadyReplicas, ptrValue(s.TerminatingReplicas))
	default:
		d = fmt.Sprintf("%d Deployments", len(deps))
	}
	return fmt.Sprintf("%s; %d Pods, %d terminating", d, len(w.pods[id]), len(w.terminating[id]))
}

// converge polls the cluster until every tenant is what the ledger allows, and returns how long
// that took; on timeout it fails the test with what is still wrong.
func converge(ctx context.Context, t *scenarioT, tenants []*tenant, timeout time.Duration) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	expectations := make([]expectation, len(tenants))
	for i, tn := range tenants {
		expectations[i] = expect(tn)
	}
	var problems []string
	var err error
	var kwok resyncer
	for {
		var w *world
		if w, err = observe(ctx); err == nil {
			kwok.resync(ctx, t, w, time.Now())
			problems = problems[:0]
			for i, tn := range tenants {
				problems = append(problems, w.check(tn, expectations[i])...)
			}
			if len(problems) == 0 {
				return time.Since(start), true
			}
		}
		if time.Since(start) > timeout || ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
	}
	if err != nil {
		t.Errorf("observing the cluster: %v", err)
	}
	sort.Strings(problems)
	shown := problems
	if len(shown) > 25 {
		shown = shown[:25]
	}
	t.Errorf("not converged %s after the faults: %d problems, first ones:\n  %s", timeout, len(problems), strings.Join(shown, "\n  "))
	return time.Since(start), false
}

// ledgerFigures reports what the ledger holds about tenants.
func ledgerFigures(tenants []*tenant) (acknowledged, uncertain, released int) {
	for _, tn := range tenants {
		e := expect(tn)
		acknowledged += e.acknowledged
		uncertain += e.uncertain
		if e.exists == mustBeGone {
			released++
		}
	}
	return acknowledged, uncertain, released
}

// unexpectedAnswers lists calls answered with a code the marketplace would not resend.
func unexpectedAnswers(tenants []*tenant) []string {
	var out []string
	for _, tn := range tenants {
		for _, c := range tn.snapshot() {
			c.mu.Lock()
			if c.unexpected != "" {
				out = append(out, fmt.Sprintf("%s %s: answered %s", tn.id, c.kind, c.unexpected))
			}
			c.mu.Unlock()
		}
	}
	return out
}
