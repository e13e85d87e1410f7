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

// Package capacity shows that ELB listener capacity is never oversubscribed while many tenants
// are bought at once and the operator's leadership changes hands mid-way, against a real API
// server with two operator managers electing a leader as the chart runs them.
package capacity

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
	"github.com/tenantry/tenantry/internal/testenv"
)

// startOperator runs one operator replica with leader election, as the chart does, until ctx
// ends; it returns a channel closed once the replica leads.
func startOperator(t *testing.T, ctx context.Context, cfg *rest.Config, name string) <-chan struct{} {
	t.Helper()
	lease, renew, retry := 2*time.Second, 1500*time.Millisecond, 200*time.Millisecond
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  testenv.Scheme(),
		Cache:                   controllers.CacheOptions(),
		Metrics:                 metricsserver.Options{BindAddress: "0"},
		LeaderElection:          true,
		LeaderElectionID:        "tenantry-operator.tenantry.io",
		LeaderElectionNamespace: "default",
		LeaseDuration:           &lease,
		RenewDeadline:           &renew,
		RetryPeriod:             &retry,
		Controller:              config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := (&controllers.TenantInstanceReconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Recorder: mgr.GetEventRecorder("tenantry-operator"),
		MaxConcurrentReconciles: 8,
	}).SetupWithManager(ctx, mgr); err != nil {
		t.Fatal(err)
	}
	if err := (&controllers.LoadBalancerPoolReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "operator %s: %v\n", name, err)
		}
	}()
	t.Cleanup(func() { <-done })
	return mgr.Elected()
}

// TestListenerCapacityHoldsAcrossConcurrentPurchasesAndALeaderChange buys 24 tenants at once
// for a pool of three listeners holding 4 tenants each, kills the leading operator (no lease
// release, as a crash) while it assigns them, and watches every Ingress throughout: no listener
// ever carries more tenants than it holds. Exactly 12 tenants are placed and the rest stall;
// a listener added later takes the rest at once.
func TestListenerCapacityHoldsAcrossConcurrentPurchasesAndALeaderChange(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs an API server")
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	SetDefaultEventuallyTimeout(2 * time.Minute)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	g := NewWithT(t)
	env, cfg, err := testenv.Start()
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	k8s, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	ctx := context.Background()

	capacity := map[string]int{"elb-a-443": 4, "elb-b-443": 4, "elb-c-443": 4}
	listener := func(elb string, n int32) tenantryv1alpha1.Listener {
		return tenantryv1alpha1.Listener{ELBID: elb, Port: 443, Tenants: ptr.To(n)}
	}
	g.Expect(k8s.Create(ctx, &tenantryv1alpha1.LoadBalancerPool{
		ObjectMeta: metav1.ObjectMeta{Name: "pool"},
		Spec:       tenantryv1alpha1.LoadBalancerPoolSpec{Listeners: []tenantryv1alpha1.Listener{listener("elb-a", 4), listener("elb-b", 4), listener("elb-c", 4)}},
	})).To(Succeed())
	g.Expect(k8s.Create(ctx, &tenantryv1alpha1.TenantPlan{
		ObjectMeta: metav1.ObjectMeta{Name: "plan"},
		Spec: tenantryv1alpha1.TenantPlanSpec{
			SKUs:   []string{"SKU-CAP"},
			App:    tenantryv1alpha1.AppSpec{Image: "registry.example.com/app:1", Port: 8080},
			Domain: tenantryv1alpha1.DomainSettings{BaseDomain: "apps.example.com", IngressClassName: "cce", LoadBalancerPool: "pool"},
		},
	})).To(Succeed())

	// The watcher: every Ingress, as often as the API server answers, for the whole test.
	var mu sync.Mutex
	peak := map[string]int{}
	watchCtx, stopWatching := context.WithCancel(ctx)
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		for watchCtx.Err() == nil {
			var list networkingv1.IngressList
			if err := k8s.List(watchCtx, &list); err != nil {
				continue
			}
			counts := map[string]int{}
			for _, ing := range list.Items {
				if id := ing.Annotations[controllers.AnnotationELBID]; id != "" {
					counts[id+"-"+ing.Annotations[controllers.AnnotationELBPort]]++
				}
			}
			mu.Lock()
			for l, n := range counts {
				peak[l] = max(peak[l], n)
			}
			mu.Unlock()
		}
	}()

	firstCtx, crash := context.WithCancel(ctx)
	defer crash()
	g.Eventually(startOperator(t, firstCtx, cfg, "first")).Should(BeClosed())
	secondCtx, stopSecond := context.WithCancel(ctx)
	defer stopSecond()
	secondLeads := startOperator(t, secondCtx, cfg, "second")

	const tenants = 24
	var wg sync.WaitGroup
	errs := make(chan error, tenants)
	for i := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("cap-%02d", i)
			errs <- k8s.Create(ctx, &tenantryv1alpha1.TenantInstance{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: tenantryv1alpha1.TenantInstanceSpec{SKU: "SKU-CAP",
					Order: tenantryv1alpha1.Order{OrderID: "CS" + name, OrderLineID: "CS" + name + "-1", ChargingMode: tenantryv1alpha1.ChargingPeriod}},
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		g.Expect(err).NotTo(HaveOccurred())
	}
	// The leader crashes once it has placed a few tenants; the other takes over.
	g.Eventually(func(g Gomega) {
		var slots tenantryv1alpha1.ListenerSlotList
		g.Expect(k8s.List(ctx, &slots)).To(Succeed())
		g.Expect(len(slots.Items)).To(BeNumerically(">=", 3))
	}).Should(Succeed())
	crash()
	g.Eventually(secondLeads).Should(BeClosed())

	placed := func(g Gomega, want, stalled int) {
		var list tenantryv1alpha1.TenantInstanceList
		g.Expect(k8s.List(ctx, &list)).To(Succeed())
		on, waiting := 0, 0
		for _, ti := range list.Items {
			if c := meta.FindStatusCondition(ti.Status.Conditions, tenantryv1alpha1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
				g.Expect(c.Reason).To(Equal(tenantryv1alpha1.ReasonNoLoadBalancerCapacity))
				waiting++
			} else if ti.Status.LoadBalancer != nil {
				on++
			}
		}
		g.Expect(on).To(Equal(want))
		g.Expect(waiting).To(Equal(stalled))
		// Each tenant holds the one slot it is on: duplicates left by the crash are gone.
		var slots tenantryv1alpha1.ListenerSlotList
		g.Expect(k8s.List(ctx, &slots)).To(Succeed())
		g.Expect(slots.Items).To(HaveLen(want))
	}
	g.Eventually(func(g Gomega) { placed(g, 12, 12) }).Should(Succeed())

	// A fourth listener takes the twelve waiting tenants.
	pool := &tenantryv1alpha1.LoadBalancerPool{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: "pool"}, pool)).To(Succeed())
	pool.Spec.Listeners = append(pool.Spec.Listeners, listener("elb-d", 12))
	capacity["elb-d-443"] = 12
	g.Expect(k8s.Update(ctx, pool)).To(Succeed())
	g.Eventually(func(g Gomega) { placed(g, 24, 0) }).Should(Succeed())

	stopWatching()
	<-watching
	mu.Lock()
	defer mu.Unlock()
	for l, n := range peak {
		g.Expect(n).To(BeNumerically("<=", capacity[l]), "listener %s carried %d tenants at once, more than its %d", l, n, capacity[l])
	}
	g.Expect(peak).To(HaveLen(4), "every listener was used")
}
