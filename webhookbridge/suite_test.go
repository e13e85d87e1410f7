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

package webhookbridge_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"flag"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/testenv"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/orderquery"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// Shared by the integration tests: one API server, one fake marketplace Order Query API and one
// bridge, each test using its own orders and instances.
var (
	k8s         client.Client
	k8sConfig   *rest.Config
	orders      *simulator.OrderServer
	orderURL    string
	bridgeURL   string
	events      = &eventRecorder{}
	merchantKey *rsa.PrivateKey
)

const (
	accessKey = "test-access-key-for-the-bridge-0001"
	kitKey    = "test-kit-key-for-the-bridge-0002"
	sellerAK  = "test-seller-ak"
	sellerSK  = "test-seller-sk"

	skuSmall = "tenantry.small" // plan-small: 2 CPUs, 4Gi
	skuLarge = "tenantry.large" // plan-large: 8 CPUs, 16Gi
	skuNone  = "tenantry.unserved"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// Unit tests only; every integration test skips itself.
		os.Exit(m.Run())
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
	k8sConfig = cfg
	if k8s, err = client.New(cfg, client.Options{Scheme: testenv.Scheme()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if merchantKey, err = rsa.GenerateKey(rand.Reader, 3072); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	for _, p := range []*tenantryv1alpha1.TenantPlan{
		plan("plan-small", "2", "4Gi", skuSmall),
		plan("plan-large", "8", "16Gi", skuLarge),
	} {
		if err := k8s.Create(ctx, p); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}

	orders = simulator.NewOrderServer(simulator.OrderServerConfig{AK: sellerAK, SK: sellerSK, DefaultSKU: skuSmall})
	orderSrv := httptest.NewServer(orders)
	defer orderSrv.Close()
	orderURL = orderSrv.URL

	server, err := webhookbridge.New(bridgeOptions(k8s))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	bridge := httptest.NewServer(server.Handler())
	defer bridge.Close()
	bridgeURL = bridge.URL + webhookbridge.DefaultPath

	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
	return m.Run()
}

func zapLevel() zapcore.Level {
	if os.Getenv("TEST_VERBOSE") != "" {
		return -2
	}
	return 2 // errors only: keep the output readable
}

// bridgeOptions are the shared bridge's options; tests that need another bridge start from them.
func bridgeOptions(c client.Client) webhookbridge.Options {
	return webhookbridge.Options{
		Client: c,
		Verifier: &protocol.Verifier{
			Keys: []string{accessKey}, KitKeys: []string{kitKey},
			Nonces: protocol.NewNonceCache(0, 0, nil),
		},
		AccessKey: accessKey,
		Orders: &orderquery.Client{
			Endpoint: orderURL, AK: sellerAK, SK: sellerSK, Observe: webhookbridge.ObserveOrderQuery,
		},
		MerchantKey: merchantKey,
		Recorder:    events,
		Logger:      ctrl.Log.WithName("bridge"),
	}
}

// newBridge starts another bridge with modified options, for tests that need their own keys,
// clock or API server.
func newBridge(t *testing.T, modify func(*webhookbridge.Options)) string {
	t.Helper()
	o := bridgeOptions(k8s)
	modify(&o)
	s, err := webhookbridge.New(o)
	if err != nil {
		t.Fatalf("building bridge: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv.URL + webhookbridge.DefaultPath
}

func integration(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs an API server")
	}
}

func plan(name, cpu, memory string, skus ...string) *tenantryv1alpha1.TenantPlan {
	return &tenantryv1alpha1.TenantPlan{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: tenantryv1alpha1.TenantPlanSpec{
			SKUs: skus,
			App:  tenantryv1alpha1.AppSpec{Image: "registry.example.com/app:1.0", Port: 8080},
			Quota: corev1.ResourceList{
				corev1.ResourceRequestsCPU:    resource.MustParse(cpu),
				corev1.ResourceRequestsMemory: resource.MustParse(memory),
			},
			Domain: tenantryv1alpha1.DomainSettings{BaseDomain: "apps.example.com"},
		},
	}
}

// ---- marketplace side ----

type clientOption func(*simulator.Options)

// at makes every call of the client carry send time t.
func at(t time.Time) clientOption {
	return func(o *simulator.Options) { o.Now = func() time.Time { return t } }
}

// testFlag makes every call a debug call (testFlag=1).
func testFlag(o *simulator.Options) { o.Test = true }

func withKey(key string) clientOption {
	return func(o *simulator.Options) { o.AccessKey = key }
}

// market returns a marketplace client for the shared bridge (or base, when given by baseAt).
func market(t *testing.T, opts ...clientOption) *simulator.Client {
	return marketFor(t, bridgeURL, opts...)
}

func marketFor(t *testing.T, base string, opts ...clientOption) *simulator.Client {
	t.Helper()
	o := simulator.Options{
		BaseURL: base, AccessKey: accessKey, KitKey: kitKey, MerchantPublicKey: &merchantKey.PublicKey,
	}
	for _, f := range opts {
		f(&o)
	}
	c, err := simulator.NewClient(o)
	if err != nil {
		t.Fatalf("building marketplace client: %v", err)
	}
	return c
}

// expectCode asserts the call went through transport-wise, Body-Sign included, and got code.
func expectCode(g Gomega, a *simulator.Answer, err error, code string) *simulator.Answer {
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
	g.ExpectWithOffset(1, a.HTTPStatus).To(Equal(200))
	g.ExpectWithOffset(1, a.ResultCode).To(Equal(code), "answer: %s", a.Raw)
	return a
}

// newOrder registers an order for sku, expiring at a fixed, second-aligned time.
func newOrder(sku string, mutate ...func(*simulator.OrderSpec)) simulator.Order {
	spec := simulator.OrderSpec{SKU: sku, ProductID: "00301-111111-0--0", CustomerName: "Example Co",
		ExpireTime: time.Now().UTC().Add(30 * 24 * time.Hour).Truncate(time.Second)}
	for _, m := range mutate {
		m(&spec)
	}
	return orders.CreateOrder(spec)
}

// buy registers an order and sends newInstance for it, returning the instance name.
func buy(t *testing.T, sku string, mutate ...func(*simulator.OrderSpec)) (string, simulator.Order) {
	t.Helper()
	g := NewWithT(t)
	o := newOrder(sku, mutate...)
	a, err := market(t).Buy(context.Background(), o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.InstanceID).To(Equal(webhookbridge.InstanceName(o.OrderID, o.OrderLine[0].OrderLineID)))
	return a.InstanceID, o
}

// ---- cluster side ----

func getInstance(g Gomega, name string) *tenantryv1alpha1.TenantInstance {
	ti := &tenantryv1alpha1.TenantInstance{}
	g.ExpectWithOffset(1, k8s.Get(context.Background(), client.ObjectKey{Name: name}, ti)).To(Succeed())
	return ti
}

func getDirectory(g Gomega, name string) *tenantryv1alpha1.TenantDirectory {
	d := &tenantryv1alpha1.TenantDirectory{}
	g.ExpectWithOffset(1, k8s.Get(context.Background(), client.ObjectKey{Name: name}, d)).To(Succeed())
	return d
}

// snapshot is every TenantInstance and TenantDirectory with its resourceVersion, to prove that a
// call changed nothing.
func snapshot(g Gomega) map[string]string {
	ctx := context.Background()
	out := map[string]string{}
	var tis tenantryv1alpha1.TenantInstanceList
	g.ExpectWithOffset(1, k8s.List(ctx, &tis)).To(Succeed())
	for _, ti := range tis.Items {
		out["ti/"+ti.Name] = ti.ResourceVersion
	}
	var tds tenantryv1alpha1.TenantDirectoryList
	g.ExpectWithOffset(1, k8s.List(ctx, &tds)).To(Succeed())
	for _, td := range tds.Items {
		out["td/"+td.Name] = td.ResourceVersion
	}
	return out
}

// makeReady writes what the operator would: status with URLs and namespace, the tenant
// namespace and its admin account Secret.
func makeReady(g Gomega, name string, withSecret bool) {
	ctx := context.Background()
	ti := getInstance(g, name)
	ns := tenantryv1alpha1.NamespaceName(name)
	ti.Status.URL = "https://" + name + ".apps.example.com"
	ti.Status.AdminURL = ti.Status.URL + "/admin"
	ti.Status.Namespace = ns
	ti.Status.State = tenantryv1alpha1.StateRunning
	g.ExpectWithOffset(1, k8s.Status().Update(ctx, ti)).To(Succeed())
	if !withSecret {
		return
	}
	g.ExpectWithOffset(1, client.IgnoreAlreadyExists(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))).To(Succeed())
	g.ExpectWithOffset(1, k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tenantryv1alpha1.AdminSecretName},
		Type:       corev1.SecretTypeBasicAuth,
		StringData: map[string]string{"username": "admin", "password": "S3cret-Passw0rd"},
	})).To(Succeed())
}

// ---- events ----

type recordedEvent struct {
	object, eventType, reason, note string
}

// eventRecorder keeps the events the bridge emits, synchronously, so tests can assert on them.
type eventRecorder struct {
	mu     sync.Mutex
	events []recordedEvent
}

func (r *eventRecorder) Eventf(regarding, _ runtime.Object, eventType, reason, _, note string, args ...any) {
	name := ""
	if o, ok := regarding.(metav1.Object); ok {
		name = o.GetName()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, recordedEvent{object: name, eventType: eventType, reason: reason, note: fmt.Sprintf(note, args...)})
}

func (r *eventRecorder) reasons(object string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.object == object {
			out = append(out, e.reason)
		}
	}
	return out
}

func (r *eventRecorder) count(object, reason string) int {
	return len(slices.DeleteFunc(r.reasons(object), func(s string) bool { return s != reason }))
}

// v1Params builds V1 query parameters.
func v1Params(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}
