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
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/test/e2e/framework/suite"
	"github.com/tenantry/tenantry/webhookbridge/policy"
)

// The ledger's judgement is what makes every scenario able to fail; these specs pin it down
// without a cluster (label "unit": they run in -short mode too).

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func ack(ms int) attempt {
	return attempt{sent: at(ms), answered: at(ms + 5), code: simulator.ResultSuccess}
}
func retry(ms int) attempt {
	return attempt{sent: at(ms), answered: at(ms + 5), code: simulator.ResultInternal}
}
func reset(ms int) attempt {
	return attempt{sent: at(ms), answered: at(ms + 5), err: errors.New("connection reset")}
}
func expiry(days int) *call {
	return &call{kind: kindRenew, value: expiresIn(days)}
}
func expiresIn(days int) string { return t0.AddDate(0, 0, days).Format(time.RFC3339) }
func upgrade(sku string) *call {
	return &call{kind: kindUpgrade, value: sku}
}

func ledgerTenant(calls ...*call) *tenant {
	tn := &tenant{id: "ti-0123456789abcdef0123", sku: skuSmall, expire: t0.AddDate(0, 1, 0),
		order: simulator.RegisteredOrder{OrderID: "CS1", OrderLineID: "CS1-000001"}}
	buy := &call{kind: kindBuy}
	buy.record(ack(0))
	tn.add(buy)
	for _, c := range calls {
		tn.add(c)
	}
	return tn
}

func with(c *call, attempts ...attempt) *call {
	for _, a := range attempts {
		c.record(a)
	}
	return c
}

var _ = Describe("The ledger", Label(suite.Unit), func() {
	DescribeTable("expects of a tenant what its calls allow",
		func(tn *tenant, want func(e expectation) expectation) {
			base := expectation{exists: mustExist, lifecycle: []string{"Active"}, sku: []string{skuSmall},
				expiry: []string{ledgerTenant().expire.Format(time.RFC3339)}, acknowledged: 1}
			got := expect(tn)
			Expect(cmp.Diff(want(base), got, cmp.AllowUnexported(expectation{}))).To(BeEmpty(), "expect() (-want +got)")
		},
		ledgerCases(),
	)

	It("lets a tenant whose purchase was never acknowledged exist or not", func() {
		notBought := &tenant{id: "ti-1", sku: skuSmall, expire: t0}
		notBought.add(with(buyCall(notBought), retry(0), reset(10)))
		Expect(expect(notBought).exists).To(Equal(mayExist), "a purchase never acknowledged")
	})

	DescribeTable("checks the cluster against what it expects",
		func(tn *tenant, change func(w *world), want []string) {
			w := converged(ledgerTenant())
			change(w)
			got := w.check(tn, expect(tn))
			Expect(got).To(HaveLen(len(want)), "check() = %q, want problems like %q", got, want)
			for i := range got {
				Expect(got[i]).To(ContainSubstring(want[i]), "problem %d", i)
			}
		},
		worldCases(),
	)

	DescribeTable("allows exactly the outcomes the bridge's own decisions can reach", orderedOutcomesAgainstTheBridge,
		Entry("renewals", ledgerAspects[0]),
		Entry("upgrades", ledgerAspects[1]),
	)
})

// ledgerCases are the histories whose expectation the ledger spec checks.
func ledgerCases() []TableEntry {
	bought := ledgerTenant()
	type ledgerCase struct {
		name   string
		tenant *tenant
		want   func(e expectation) expectation
	}
	cases := []ledgerCase{
		{name: "only bought", tenant: bought, want: func(e expectation) expectation { return e }},
		{
			name: "the newest acknowledged send time wins, not the order of acknowledgement",
			tenant: ledgerTenant(
				with(freezeCall(), retry(20), ack(40)),
				with(unfreezeCall(), ack(30)), // acknowledged after the freeze was first sent, but sent before its resend
			),
			want: func(e expectation) expectation {
				e.lifecycle, e.acknowledged = []string{"Frozen"}, 3
				return e
			},
		},
		{
			name: "a call never acknowledged but sent after the newest acknowledged one may have been persisted",
			tenant: ledgerTenant(
				with(&call{kind: kindUpgrade, value: skuLarge}, reset(50), retry(60)),
				with(expiry(90), ack(70)),
				with(expiry(400), reset(65)), // sent before the acknowledged renewal: must have lost
			),
			want: func(e expectation) expectation {
				e.sku = []string{skuSmall, skuLarge}
				e.expiry = []string{t0.AddDate(0, 0, 90).Format(time.RFC3339)}
				e.acknowledged, e.uncertain = 2, 2
				return e
			},
		},
		// Renewals and upgrades keep their order on every resend, and the bridge applies an order
		// once (docs/protocol.md §6.6): the first attempt applied decides the send time the call
		// sets the aspect with, not the acknowledged one.
		{
			name: "a renewal whose first attempt may have been applied loses to a renewal sent before its acknowledged resend",
			tenant: ledgerTenant(
				with(expiry(90), reset(10), ack(30)), // applied at 10 (then 30 is already applied) or at 30
				with(expiry(200), ack(20)),
			),
			want: func(e expectation) expectation {
				e.expiry, e.acknowledged = []string{expiresIn(90), expiresIn(200)}, 3
				return e
			},
		},
		{
			// 000005 promises nothing was persisted, but an API server killed between its commit
			// and its answer breaks that promise; the ledger allows it (mayHavePersisted).
			name: "a renewal whose first attempt was answered 000005 may have applied then or at its acknowledged resend",
			tenant: ledgerTenant(
				with(expiry(90), retry(10), ack(30)),
				with(expiry(200), ack(20)),
			),
			want: func(e expectation) expectation {
				e.expiry, e.acknowledged = []string{expiresIn(90), expiresIn(200)}, 3
				return e
			},
		},
		// The suite sends one upgrade order of an instance at a time, but an attempt lost in
		// transport may still be processed after the next order's; the ledger does not rely on it.
		{
			name: "an upgrade whose first attempt may have been applied loses to an upgrade sent before its acknowledged resend",
			tenant: ledgerTenant(
				with(upgrade(skuLarge), reset(10), ack(30)),
				with(upgrade(skuSmall), ack(20)),
			),
			want: func(e expectation) expectation {
				e.sku, e.acknowledged = []string{skuLarge, skuSmall}, 3
				return e
			},
		},
		{
			name: "an upgrade whose first attempt was answered 000005 may have applied then or at its acknowledged resend",
			tenant: ledgerTenant(
				with(upgrade(skuLarge), retry(10), ack(30)),
				with(upgrade(skuSmall), ack(20)),
			),
			want: func(e expectation) expectation {
				e.sku, e.acknowledged = []string{skuLarge, skuSmall}, 3
				return e
			},
		},
		{
			name: "a renewal wins only when every other acknowledged renewal may have applied before it",
			tenant: ledgerTenant(
				with(expiry(90), reset(10), ack(40)),
				with(expiry(200), ack(20)), // loses whatever happened: the renewal acknowledged at 30 was sent after it
				with(expiry(300), ack(30)),
			),
			want: func(e expectation) expectation {
				e.expiry, e.acknowledged = []string{expiresIn(90), expiresIn(300)}, 4
				return e
			},
		},
		{
			name: "both of two renewals that were each resent may have won",
			tenant: ledgerTenant(
				with(expiry(90), reset(10), ack(30)),
				with(expiry(200), reset(15), ack(20)),
			),
			want: func(e expectation) expectation {
				e.expiry, e.acknowledged = []string{expiresIn(90), expiresIn(200)}, 3
				return e
			},
		},
		{
			name: "a renewal never acknowledged may have been applied only by an attempt sent after the acknowledged one",
			tenant: ledgerTenant(
				with(expiry(90), ack(10)),
				with(expiry(200), retry(20), retry(40)),
				with(expiry(300), retry(25), reset(35)),
				with(expiry(400), reset(5)), // sent before the acknowledged renewal: lost either way
			),
			want: func(e expectation) expectation {
				e.expiry, e.acknowledged, e.uncertain = []string{expiresIn(90), expiresIn(200), expiresIn(300)}, 2, 3
				return e
			},
		},
		{
			name: "the purchase's SKU stands while no upgrade is acknowledged, unless one may have persisted",
			tenant: ledgerTenant(
				with(upgrade(skuLarge), retry(10)),
			),
			want: func(e expectation) expectation {
				e.sku, e.uncertain = []string{skuSmall, skuLarge}, 1
				return e
			},
		},
		{
			name: "a freeze never acknowledged, answered 000005 each time, may have persisted",
			tenant: ledgerTenant(
				with(unfreezeCall(), ack(10)),
				with(freezeCall(), retry(20), retry(30)),
			),
			want: func(e expectation) expectation {
				e.lifecycle, e.acknowledged, e.uncertain = []string{"Active", "Frozen"}, 2, 1
				return e
			},
		},
		{
			// With the suite's freeze-retry horizon of 1 ms, a FREEZE sent right after a renewal is
			// not stale (docs/protocol.md §6.10), whichever is processed first.
			name: "a freeze sent after a renewal freezes",
			tenant: ledgerTenant(
				with(freezeCall(), ack(11)),
				with(expiry(90), reset(10), ack(12)),
			),
			want: func(e expectation) expectation {
				e.lifecycle, e.expiry, e.acknowledged = []string{"Frozen"}, []string{expiresIn(90)}, 3
				return e
			},
		},
		{
			name:   "an acknowledged release",
			tenant: ledgerTenant(with(freezeCall(), ack(10)), with(releaseCall(), reset(20), ack(30))),
			want: func(e expectation) expectation {
				e.exists, e.lifecycle, e.acknowledged = mustBeGone, []string{"Frozen"}, 3
				return e
			},
		},
		{
			name:   "a release never acknowledged",
			tenant: ledgerTenant(with(releaseCall(), reset(20))),
			want: func(e expectation) expectation {
				e.exists, e.uncertain = mayExist, 1
				return e
			},
		},
	}
	entries := make([]TableEntry, len(cases))
	for i, c := range cases {
		entries[i] = Entry(c.name, c.tenant, c.want)
	}
	return entries
}

// converged is the world of one Running tenant exactly as the ledger of ledgerTenant() wants it.
func converged(tn *tenant) *world {
	ns := tenantryv1alpha1.NamespaceName(tn.id)
	labels := map[string]string{tenantryv1alpha1.LabelInstance: tn.id}
	exp := metav1.NewTime(tn.expire)
	ti := &tenantryv1alpha1.TenantInstance{
		ObjectMeta: metav1.ObjectMeta{Name: tn.id, Generation: 3},
		Spec: tenantryv1alpha1.TenantInstanceSpec{SKU: skuSmall, Lifecycle: tenantryv1alpha1.LifecycleActive, ExpiresAt: &exp,
			Order: tenantryv1alpha1.Order{OrderID: tn.order.OrderID, OrderLineID: tn.order.OrderLineID}},
		Status: tenantryv1alpha1.TenantInstanceStatus{ObservedGeneration: 3, State: tenantryv1alpha1.StateRunning, Plan: plans[skuSmall].name,
			Conditions: []metav1.Condition{{Type: tenantryv1alpha1.ConditionReady, Status: metav1.ConditionTrue, ObservedGeneration: 3}}},
	}
	return &world{
		instances:    map[string]*tenantryv1alpha1.TenantInstance{tn.id: ti},
		byOrder:      map[string]int{tn.order.OrderID + "/" + tn.order.OrderLineID: 1},
		namespaces:   map[string]*corev1.Namespace{ns: {ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}},
		nsByInstance: map[string]int{tn.id: 1},
		deployments: map[string][]appsv1.Deployment{ns: {{
			ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns, Generation: 1},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)},
			Status:     appsv1.DeploymentStatus{ObservedGeneration: 1, ReadyReplicas: 1},
		}}},
		replicaSets: map[string][]appsv1.ReplicaSet{ns: {{Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](1)}}}},
		pods:        map[string][]corev1.Pod{tn.id: {{Status: corev1.PodStatus{Phase: corev1.PodRunning}}}},
		terminating: map[string][]corev1.Pod{},
	}
}

// worldCases are the clusters the world spec checks against the ledger: converged(ledgerTenant())
// changed by change, judged for tenant.
func worldCases() []TableEntry {
	tn := ledgerTenant()
	ns := tenantryv1alpha1.NamespaceName(tn.id)
	type worldCase struct {
		name   string
		tenant *tenant
		change func(w *world)
		want   []string // substrings of the problems, in order; none for a converged tenant
	}
	cases := []worldCase{
		{name: "converged", tenant: tn, change: func(*world) {}},
		{name: "lost", tenant: tn, change: func(w *world) { delete(w.instances, tn.id) }, want: []string{"lost"}},
		{
			name: "an acknowledged freeze not reflected", tenant: ledgerTenant(with(freezeCall(), ack(10))),
			change: func(*world) {}, want: []string{"spec.lifecycle is Active, the ledger allows [Frozen]"},
		},
		{name: "duplicate instance", tenant: tn, change: func(w *world) { w.byOrder[tn.order.OrderID+"/"+tn.order.OrderLineID] = 2 },
			want: []string{"duplicate: 2 TenantInstances"}},
		{name: "duplicate Deployment", tenant: tn, change: func(w *world) { w.deployments[ns] = append(w.deployments[ns], w.deployments[ns][0]) },
			want: []string{"duplicate or missing Deployment"}},
		{
			name: "frozen in the spec, still running", tenant: ledgerTenant(with(freezeCall(), ack(10))),
			change: func(w *world) { w.instances[tn.id].Spec.Lifecycle = tenantryv1alpha1.LifecycleFrozen },
			want:   []string{"status.state is Running, want Frozen", "Deployment asks for 1 replicas, want 0", "1 Pods (1 Running), want 0"},
		},
		{name: "status of an older spec", tenant: tn, change: func(w *world) { w.instances[tn.id].Generation = 4 },
			want: []string{"status is for generation 3"}},
		{name: "stale Ready", tenant: tn, change: func(w *world) {
			w.instances[tn.id].Status.Conditions[0].Status = metav1.ConditionFalse
		}, want: []string{"not Ready: Ready=False (); its Deployment has settled: generation 1 observed"}},
		{
			name: "orphan namespace after an acknowledged release", tenant: ledgerTenant(with(releaseCall(), ack(10))),
			change: func(w *world) { delete(w.instances, tn.id); w.pods = map[string][]corev1.Pod{} },
			want:   []string{"orphan: namespace " + ns},
		},
		{
			name: "released", tenant: ledgerTenant(with(releaseCall(), ack(10))),
			change: func(w *world) {
				delete(w.instances, tn.id)
				delete(w.namespaces, ns)
				w.nsByInstance, w.pods = map[string]int{}, map[string][]corev1.Pod{}
			},
		},
		{
			name: "still there after an acknowledged release", tenant: ledgerTenant(with(releaseCall(), ack(10))),
			change: func(*world) {}, want: []string{"released (acknowledged) but the TenantInstance still exists"},
		},
	}
	entries := make([]TableEntry, len(cases))
	for i, c := range cases {
		entries[i] = Entry(c.name, c.tenant, c.change, c.want)
	}
	return entries
}

// ledgerAspect is one aspect of an instance that calls keep their order for: how a call sets it
// in the bridge's own decisions, and how to read it.
type ledgerAspect struct {
	base  string
	value func(call int) string
	// apply processes one attempt of call, sent at sent, and returns the spec it leaves.
	apply func(spec *tenantryv1alpha1.TenantInstanceSpec, call int, value string, sent time.Time) (*tenantryv1alpha1.TenantInstanceSpec, error)
	read  func(spec *tenantryv1alpha1.TenantInstanceSpec) string
}

var ledgerBought = t0.AddDate(0, 1, 0)

// ledgerAspects are the renewals' expiry and the upgrades' SKU.
var ledgerAspects = []ledgerAspect{
	{
		base:  ledgerBought.Format(time.RFC3339),
		value: func(call int) string { return expiresIn(100 * (call + 1)) },
		apply: func(spec *tenantryv1alpha1.TenantInstanceSpec, call int, value string, sent time.Time) (*tenantryv1alpha1.TenantInstanceSpec, error) {
			expires, err := time.Parse(time.RFC3339, value)
			if err != nil {
				return nil, err
			}
			return policy.DecideRefresh(spec, policy.Refresh{OrderID: fmt.Sprintf("R%d", call), Scene: tenantryv1alpha1.SceneRenewal,
				ExpiresAt: expires, SentAt: sent}, t0, time.Millisecond).Spec, nil
		},
		read: func(spec *tenantryv1alpha1.TenantInstanceSpec) string {
			return spec.ExpiresAt.UTC().Format(time.RFC3339)
		},
	},
	{
		base:  skuSmall,
		value: func(call int) string { return fmt.Sprintf("chaos.sku%d", call) },
		apply: func(spec *tenantryv1alpha1.TenantInstanceSpec, call int, value string, sent time.Time) (*tenantryv1alpha1.TenantInstanceSpec, error) {
			return policy.DecideUpgrade(spec, policy.Upgrade{OrderID: fmt.Sprintf("U%d", call), Target: policy.Target{SKU: value, Quantity: 1},
				SentAt: sent}).Spec, nil
		},
		read: func(spec *tenantryv1alpha1.TenantInstanceSpec) string { return spec.SKU },
	},
}

// orderedOutcomesAgainstTheBridge checks orderedOutcomes against the bridge's own decisions
// (policy.DecideRefresh, policy.DecideUpgrade) on many small histories of renewals and of
// upgrades: every final value that some processing of the attempts reaches must be allowed, and
// every allowed one must be reachable. An acknowledged attempt was processed; one lost in
// transport may or may not have been, at any moment (the bridge may finish it after the
// marketplace stopped waiting); so may one answered 000005 (see mayHavePersisted). The
// processing order is any order at all.
func orderedOutcomesAgainstTheBridge(aspect ledgerAspect) {
	rnd := rand.New(rand.NewPCG(6, 6))
	open := 0
	for trial := range 400 {
		type delivery struct {
			call int
			a    attempt
		}
		var records []callRecord
		var deliveries []delivery
		nCalls := 1 + rnd.IntN(3)
		// Distinct send times, each call's in increasing order.
		sends := rnd.Perm(6)
		for i := range nCalls {
			n := 1 + rnd.IntN(6/nCalls)
			times := slices.Sorted(slices.Values(sends[:n]))
			sends = sends[n:]
			r := callRecord{value: aspect.value(i)}
			for k, ms := range times {
				a := reset(10 * (ms + 1))
				switch {
				case k == len(times)-1 && rnd.IntN(3) > 0:
					a = ack(10 * (ms + 1))
					r.acked = &a
				case rnd.IntN(2) == 0:
					a = retry(10 * (ms + 1))
				}
				r.attempts = append(r.attempts, a)
				deliveries = append(deliveries, delivery{call: i, a: a})
			}
			records = append(records, r)
		}

		reached := map[string]bool{}
		var try func(processed []delivery, rest []delivery)
		try = func(processed, rest []delivery) {
			if len(rest) == 0 {
				spec := &tenantryv1alpha1.TenantInstanceSpec{SKU: skuSmall, ExpiresAt: ptr.To(metav1.NewTime(ledgerBought))}
				for _, d := range processed {
					next, err := aspect.apply(spec, d.call, records[d.call].value, d.a.sent)
					Expect(err).NotTo(HaveOccurred())
					if next != nil {
						spec = next
					}
				}
				reached[aspect.read(spec)] = true
				return
			}
			for i, d := range rest {
				others := append(slices.Clone(rest[:i]), rest[i+1:]...)
				if d.a.err != nil || d.a.code == simulator.ResultInternal {
					try(processed, others) // lost, or refused, before the bridge applied it
				}
				try(append(slices.Clone(processed), d), others)
			}
		}
		try(nil, deliveries)
		if len(reached) > 1 {
			open++
		}

		got := orderedOutcomes(aspect.base, records)
		slices.Sort(got)
		want := slices.Sorted(maps.Keys(reached))
		Expect(cmp.Diff(want, got)).To(BeEmpty(), "trial %d: orderedOutcomes(%+v) (-reachable +allowed)", trial, records)
	}
	Expect(open).To(BeNumerically(">=", 100), "only %d of 400 histories could end in more than one way; the spec explores too little", open)
}
