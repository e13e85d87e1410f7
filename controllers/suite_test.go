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

package controllers_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
	"github.com/tenantry/tenantry/internal/childcache"
	"github.com/tenantry/tenantry/internal/metering"
	"github.com/tenantry/tenantry/internal/testenv"
	"github.com/tenantry/tenantry/simulator"
)

// Shared by every test of the package: one API server, one manager, one fake clock.
var (
	k8s client.Client
	// cached is the operator manager's own client, reading from its cache.
	cached client.Client
	// children is the operator's child cache.
	children    *childcache.Cache
	clientset   *kubernetes.Clientset
	fakeClock   *clocktesting.FakeClock
	merchantKey *rsa.PrivateKey
	// restConfig reaches the API server, for tests that start operators of their own.
	restConfig *rest.Config
	// releaseLedger is the marketplace usage endpoint the operator's release flushes to.
	releaseLedger *simulator.OrderServer
	// operator is the reconciler the manager runs.
	operator *controllers.TenantInstanceReconciler
)

const (
	// rolloutNamespace holds the plans' revisions, as the operator's namespace does.
	rolloutNamespace = "tenantry-system"
	suspendedHost    = "tenantry-webhookbridge.tenantry-system.svc.cluster.local"
	suspendedPort    = 8082
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("skipping envtest integration tests in -short mode")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(zapLevel())))
	env, cfg, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	if merchantKey, err = rsa.GenerateKey(rand.Reader, 3072); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:     testenv.Scheme(),
		Cache:      controllers.RolloutCacheOptions(controllers.CacheOptions(), rolloutNamespace),
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fakeClock = clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	restConfig = cfg
	releaseLedger = simulator.NewOrderServer(simulator.OrderServerConfig{UsageKey: ledgerKey})
	ledgerServer := httptest.NewServer(releaseLedger)
	defer ledgerServer.Close()
	if children, err = childcache.New(cfg, nil, controllers.FieldOwner); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	operator = &controllers.TenantInstanceReconciler{
		Children:                children,
		Client:                  mgr.GetClient(),
		Scheme:                  mgr.GetScheme(),
		Recorder:                mgr.GetEventRecorder("tenantry-operator"),
		Clock:                   fakeClock,
		SuspendedHost:           suspendedHost,
		SuspendedPort:           suspendedPort,
		MerchantKey:             merchantKey,
		MaxConcurrentReconciles: 4,
		Metering: &controllers.Metering{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clock: fakeClock,
			Recorder: mgr.GetEventRecorder("tenantry-operator"), FlushTimeout: time.Hour,
			Push: &metering.Client{Endpoint: ledgerServer.URL, AccessKey: ledgerKey}},
		RolloutNamespace: rolloutNamespace,
	}
	if err := operator.SetupWithManager(ctx, mgr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := (&controllers.TenantPlanRolloutReconciler{
		Client:    mgr.GetClient(),
		Scheme:    mgr.GetScheme(),
		Recorder:  mgr.GetEventRecorder("tenantry-operator"),
		Clock:     fakeClock,
		Namespace: rolloutNamespace,
	}).SetupWithManager(ctx, mgr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := (&controllers.LoadBalancerPoolReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cached = mgr.GetClient()
	if err := createNamespace(ctx, cfg, rolloutNamespace); err != nil {
		fmt.Fprintln(os.Stderr, "creating the rollout namespace:", err)
		return 1
	}
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager:", err)
		}
	}()
	// Tests read and write through a direct client, never the operator's cache.
	if k8s, err = client.New(cfg, client.Options{Scheme: testenv.Scheme()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	clientset = kubernetes.NewForConfigOrDie(cfg)
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
	return m.Run()
}

func createNamespace(ctx context.Context, cfg *rest.Config, name string) error {
	direct, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		return err
	}
	return direct.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
}

func zapLevel() zapcore.Level {
	if os.Getenv("TEST_VERBOSE") != "" {
		return -2
	}
	return 2 // errors only: keep CI output readable
}

// ---- helpers ----

func newPlan(name string, skus ...string) *tenantryv1alpha1.TenantPlan {
	return &tenantryv1alpha1.TenantPlan{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: tenantryv1alpha1.TenantPlanSpec{
			SKUs:     skus,
			App:      tenantryv1alpha1.AppSpec{Image: "registry.example.com/app:1.0", Port: 8080},
			Replicas: ptr.To[int32](2),
			Domain: tenantryv1alpha1.DomainSettings{
				BaseDomain:       "apps.example.com",
				IngressClassName: "nginx",
			},
		},
	}
}

func newInstance(name, sku string) *tenantryv1alpha1.TenantInstance {
	return &tenantryv1alpha1.TenantInstance{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: tenantryv1alpha1.TenantInstanceSpec{
			SKU: sku,
			Order: tenantryv1alpha1.Order{
				OrderID: "CS" + name, OrderLineID: "CS" + name + "-000001",
				ChargingMode: tenantryv1alpha1.ChargingPeriod,
			},
			Customer: &tenantryv1alpha1.Customer{CustomerID: "c-" + name, CustomerName: "Example Co"},
		},
	}
}

func create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := k8s.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %T %q: %v", o, o.GetName(), err)
		}
	}
}

func getInstance(g Gomega, name string) *tenantryv1alpha1.TenantInstance {
	ti := &tenantryv1alpha1.TenantInstance{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: name}, ti)).To(Succeed())
	return ti
}

func condition(ti *tenantryv1alpha1.TenantInstance, t string) *metav1.Condition {
	return meta.FindStatusCondition(ti.Status.Conditions, t)
}

// haveCondition matches a TenantInstance whose condition t has the status and reason.
func expectCondition(g Gomega, name, t string, status metav1.ConditionStatus, reason string) *tenantryv1alpha1.TenantInstance {
	ti := getInstance(g, name)
	c := condition(ti, t)
	g.Expect(c).NotTo(BeNil(), "condition %s", t)
	g.Expect(c.Status).To(Equal(status), "condition %s: %s", t, c.Message)
	if reason != "" {
		g.Expect(c.Reason).To(Equal(reason), "condition %s: %s", t, c.Message)
	}
	g.Expect(c.ObservedGeneration).To(Equal(ti.Generation))
	return ti
}

func deployment(g Gomega, instance string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName(instance), Name: controllers.AppName}, d)).To(Succeed())
	return d
}

// describe is what a failed wait on an instance shows: the instance's spec, annotations and
// status, its Deployment and the reasons of its Events, as they are when the wait gives up.
func describe(instance string) func() string {
	return func() string {
		ctx := context.Background()
		out := ""
		ti := &tenantryv1alpha1.TenantInstance{}
		if err := k8s.Get(ctx, client.ObjectKey{Name: instance}, ti); err != nil {
			out += fmt.Sprintf("instance: %v\n", err)
		} else {
			out += fmt.Sprintf("instance: generation %d, sku %s, annotations %v\nstatus: %+v\n", ti.Generation, ti.Spec.SKU, ti.Annotations, ti.Status)
		}
		d := &appsv1.Deployment{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName(instance), Name: controllers.AppName}, d); err != nil {
			out += fmt.Sprintf("deployment: %v\n", err)
		} else {
			out += fmt.Sprintf("deployment: generation %d, replicas %d, labels %v, annotations %v, template annotations %v, image %s\n",
				d.Generation, ptr.Deref(d.Spec.Replicas, -1), d.Labels, d.Annotations, d.Spec.Template.Annotations, d.Spec.Template.Spec.Containers[0].Image)
		}
		events, err := clientset.EventsV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "regarding.name=" + instance})
		if err != nil {
			return out + fmt.Sprintf("events: %v", err)
		}
		for _, e := range events.Items {
			out += fmt.Sprintf("event %s %s: %s\n", e.EventTime.Format(time.RFC3339Nano), e.Reason, e.Note)
		}
		return out
	}
}

// rollOut plays the Deployment controller, which envtest does not run: it reports the desired
// replicas as available.
func rollOut(g Gomega, instance string) {
	d := deployment(g, instance)
	want := ptr.Deref(d.Spec.Replicas, 1)
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation, Replicas: want, UpdatedReplicas: want,
		ReadyReplicas: want, AvailableReplicas: want,
	}
	g.Expect(k8s.Status().Update(context.Background(), d)).To(Succeed())
}

// poke changes an annotation so the operator reconciles now; tests use it after moving the fake clock.
// podsLeft plays the Deployment controller during a scale-down: it reports the replicas still
// running and those still terminating.
func podsLeft(g Gomega, instance string, running, terminating int32) {
	d := deployment(g, instance)
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation, Replicas: running, UpdatedReplicas: running,
		TerminatingReplicas: ptr.To(terminating),
	}
	g.Expect(k8s.Status().Update(context.Background(), d)).To(Succeed())
}

func poke(g Gomega, name string) {
	ti := getInstance(g, name)
	patch := client.MergeFrom(ti.DeepCopy())
	if ti.Annotations == nil {
		ti.Annotations = map[string]string{}
	}
	ti.Annotations["test.tenantry.io/poke"] = fmt.Sprint(time.Now().UnixNano())
	g.Expect(k8s.Patch(context.Background(), ti, patch)).To(Succeed())
}

func updateInstance(t *testing.T, name string, mutate func(*tenantryv1alpha1.TenantInstance)) {
	t.Helper()
	g := NewWithT(t)
	g.Eventually(func(g Gomega) {
		ti := getInstance(g, name)
		mutate(ti)
		g.Expect(k8s.Update(context.Background(), ti)).To(Succeed())
	}).Should(Succeed())
}

// finalizeNamespace plays the namespace controller, which envtest does not run: once the
// operator deleted the namespace, it empties the namespace's finalizers so the API server removes it.
// namespaceDeleting reports whether the namespace has been deleted (it stays, terminating, in
// envtest, which runs no namespace controller).
func namespaceDeleting(g Gomega, name string) bool {
	n := &corev1.Namespace{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: name}, n)).To(Succeed())
	return n.DeletionTimestamp != nil
}

func finalizeNamespace(g Gomega, name string) {
	ns, err := clientset.CoreV1().Namespaces().Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return
	}
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ns.DeletionTimestamp).NotTo(BeNil(), "namespace %s should be deleting", name)
	ns.Spec.Finalizers = nil
	_, err = clientset.CoreV1().Namespaces().Finalize(context.Background(), ns, metav1.UpdateOptions{})
	g.Expect(err).NotTo(HaveOccurred())
}

func eventReasons(g Gomega, name string) []string {
	list, err := clientset.EventsV1().Events("default").List(context.Background(), metav1.ListOptions{
		FieldSelector: "regarding.name=" + name,
	})
	g.Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, e := range list.Items {
		out = append(out, e.Reason)
	}
	return out
}

func secret(g Gomega, ns, name string) *corev1.Secret {
	s := &corev1.Secret{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s)).To(Succeed())
	return s
}
