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

package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/testenv"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/orderquery"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// TestRunServesAndDrains runs the binary's run function against a real API server: it answers
// signed calls, serves the suspended page, metrics and probes, and on shutdown finishes a call
// that is still waiting for Order Query.
func TestRunServesAndDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs an API server")
	}
	g := NewWithT(t)
	env, cfg, err := testenv.Start()
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	user, err := env.AddUser(envtest.User{Name: "tenantry-webhookbridge", Groups: []string{"system:masters"}}, cfg)
	g.Expect(err).NotTo(HaveOccurred())
	kubeconfig, err := user.KubeConfig()
	g.Expect(err).NotTo(HaveOccurred())

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		g.Expect(os.WriteFile(p, []byte(content), 0o600)).To(Succeed())
		return p
	}
	t.Setenv("KUBECONFIG", write("kubeconfig", string(kubeconfig)))
	const current, previous = "current-access-key", "previous-access-key"

	k8s, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(k8s.Create(context.Background(), &tenantryv1alpha1.TenantPlan{
		ObjectMeta: metav1.ObjectMeta{Name: "plan"},
		Spec: tenantryv1alpha1.TenantPlanSpec{SKUs: []string{"sku.main"},
			App: tenantryv1alpha1.AppSpec{Image: "registry.example.com/app:1"}},
	})).To(Succeed())

	orders := simulator.NewOrderServer(simulator.OrderServerConfig{AK: "ak", SK: "sk", DefaultSKU: "sku.main"})
	arrived := make(chan struct{}, 16)
	orderSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		orders.ServeHTTP(w, r)
	}))
	t.Cleanup(orderSrv.Close)

	c := config{
		bindAddr: freeAddr(t), suspendedAddr: freeAddr(t), metricsAddr: freeAddr(t), pprofAddr: freeAddr(t), path: "/saasproduce",
		accessKeyFile: write("access", current+"\n"+previous+"\n"), orderAPIURL: orderSrv.URL,
		akFile: write("ak", "ak\n"), skFile: write("sk", " sk "),
		window: time.Minute, callBudget: 3 * time.Second, orderQueryTimeout: 2 * time.Second,
		freezeHorizon: time.Hour, drain: 10 * time.Second, qps: 20, burst: 40, maxBody: 1 << 20, maxBasicBody: 64 << 10, maxReads: 64,
		replayNamespace: "default", replaySweep: time.Minute,
		readHeaderTimeout: 5 * time.Second, readTimeout: 10 * time.Second, writeTimeout: 15 * time.Second,
		idleTimeout: time.Minute, maxHeaderBytes: 64 << 10,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, zap.New(zap.WriteTo(io.Discard)), c)
	}()

	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, err.Error()
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	g.Eventually(func() int { code, _ := get("http://" + c.metricsAddr + "/readyz"); return code }).WithTimeout(30 * time.Second).Should(Equal(http.StatusOK))

	market := func(key string) *simulator.Client {
		m, err := simulator.NewClient(simulator.Options{BaseURL: "http://" + c.bindAddr + "/saasproduce", AccessKey: key})
		g.Expect(err).NotTo(HaveOccurred())
		return m
	}
	o := orders.CreateOrder(simulator.OrderSpec{})
	// A slow Order Query: the call's own time leaves it out.
	const orderLatency = 400 * time.Millisecond
	orders.SetLatency(orderLatency)
	a, err := market(current).Buy(context.Background(), o.OrderID, o.OrderLine[0].OrderLineID, false)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a.ResultCode).To(Equal(protocol.CodeSuccess))
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: a.InstanceID}, &tenantryv1alpha1.TenantInstance{})).To(Succeed())
	<-arrived
	orders.SetLatency(0)

	// The previous key still verifies, and its answers are signed with it (docs/protocol.md
	// §6.12): the simulator checks Body-Sign with the key it signed with.
	a, err = market(previous).Release(context.Background(), "ti-00000000000000000000")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a.ResultCode).To(Equal(protocol.CodeSuccess))

	// The profiler answers on its own address only.
	code, body := get("http://" + c.pprofAddr + "/debug/pprof/cmdline")
	g.Expect(code).To(Equal(http.StatusOK), body)
	code, _ = get("http://" + c.bindAddr + "/debug/pprof/cmdline")
	g.Expect(code).NotTo(Equal(http.StatusOK))
	code, _ = get("http://" + c.metricsAddr + "/debug/pprof/cmdline")
	g.Expect(code).To(Equal(http.StatusNotFound))

	code, body = get("http://" + c.suspendedAddr + "/whatever")
	g.Expect(code).To(Equal(http.StatusServiceUnavailable))
	g.Expect(body).To(ContainSubstring("订阅已暂停"))
	code, body = get("http://" + c.metricsAddr + "/metrics")
	g.Expect(code).To(Equal(http.StatusOK))
	g.Expect(body).To(ContainSubstring(`tenantry_bridge_calls_total{activity="newInstance",code="000000"} 1`))
	g.Expect(body).To(ContainSubstring(`tenantry_bridge_key_rotation_previous_key_total{family="basic"} 1`))
	g.Expect(body).To(ContainSubstring(`tenantry_bridge_order_query_duration_seconds_count{result="success"} 1`))
	g.Expect(body).To(ContainSubstring(`tenantry_bridge_call_own_duration_seconds_count{activity="newInstance"} 1`))
	g.Expect(body).To(ContainSubstring(`tenantry_bridge_call_queued_duration_seconds_count{activity="newInstance"} 1`))
	g.Expect(body).To(ContainSubstring(`rest_client_rate_limiter_duration_seconds_count{`))
	whole := sampleValue(t, body, `tenantry_bridge_call_duration_seconds_sum{activity="newInstance"}`)
	own := sampleValue(t, body, `tenantry_bridge_call_own_duration_seconds_sum{activity="newInstance"}`)
	g.Expect(whole-own).To(BeNumerically(">=", orderLatency.Seconds()), "call %.3fs, own %.3fs", whole, own)

	// A call in flight when SIGTERM arrives is finished and answered.
	orders.SetLatency(time.Second)
	slow := orders.CreateOrder(simulator.OrderSpec{})
	answered := make(chan *simulator.Answer, 1)
	go func() {
		a, _ := market(current).Buy(context.Background(), slow.OrderID, slow.OrderLine[0].OrderLineID, false)
		answered <- a
	}()
	<-arrived
	cancel()
	g.Eventually(done).WithTimeout(15 * time.Second).Should(Receive(BeNil()))
	var last *simulator.Answer
	g.Eventually(answered).WithTimeout(15 * time.Second).Should(Receive(&last))
	g.Expect(last).NotTo(BeNil())
	g.Expect(last.ResultCode).To(Equal(protocol.CodeSuccess))
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: webhookbridge.InstanceName(slow.OrderID, slow.OrderLine[0].OrderLineID)}, &tenantryv1alpha1.TenantInstance{})).To(Succeed())

	// The listeners are closed.
	_, err = http.Get("http://" + c.bindAddr + "/saasproduce")
	g.Expect(err).To(HaveOccurred())
	_, err = http.Get("http://" + c.pprofAddr + "/debug/pprof/cmdline")
	g.Expect(err).To(HaveOccurred())
}

// TestFallbackEndpoint: the Order Query fallback host applies by default only to the marketplace's
// own host; a bridge pointed elsewhere (a simulator, a proxy) falls back only when told to.
func TestFallbackEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name, primary, fallback string
		set                     bool
		want                    string
	}{
		{"default primary, default fallback", orderquery.DefaultEndpoint, orderquery.DefaultFallbackEndpoint, false, orderquery.DefaultFallbackEndpoint},
		{"default primary with a slash", orderquery.DefaultEndpoint + "/", orderquery.DefaultFallbackEndpoint, false, orderquery.DefaultFallbackEndpoint},
		{"default primary, fallback disabled", orderquery.DefaultEndpoint, "", true, ""},
		{"simulator, default fallback", "http://127.0.0.1:9999", orderquery.DefaultFallbackEndpoint, false, ""},
		{"simulator, explicit fallback", "http://127.0.0.1:9999", "http://127.0.0.1:9998", true, "http://127.0.0.1:9998"},
		{"proxy, explicit production fallback", "https://proxy.example.com", orderquery.DefaultFallbackEndpoint, true, orderquery.DefaultFallbackEndpoint},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fallbackEndpoint(tc.primary, tc.fallback, tc.set); got != tc.want {
				t.Errorf("fallbackEndpoint(%q, %q, %v) = %q, want %q", tc.primary, tc.fallback, tc.set, got, tc.want)
			}
		})
	}
}

// TestRunRefusesBadOrderEndpoints: a malformed Order Query URL stops the bridge at start-up,
// not at its first purchase.
func TestRunRefusesBadOrderEndpoints(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := config{accessKeyFile: write("access", "key\n"), akFile: write("ak", "ak"), skFile: write("sk", "sk"), orderAPIURL: orderquery.DefaultEndpoint, replayNamespace: "tenantry-system"}
	for name, mutate := range map[string]func(*config){
		"relative primary":  func(c *config) { c.orderAPIURL = "mkt.myhuaweicloud.com" },
		"relative fallback": func(c *config) { c.orderAPIFallbackURL = "mkt.myhuaweicloud.cn" },
		"fallback scheme":   func(c *config) { c.orderAPIFallbackURL = "ftp://mkt.myhuaweicloud.cn" },
	} {
		t.Run(name, func(t *testing.T) {
			c := base
			mutate(&c)
			err := run(context.Background(), zap.New(zap.WriteTo(io.Discard)), c)
			if err == nil || !strings.Contains(err.Error(), "order-api") {
				t.Errorf("run() error = %v, want one naming the Order Query flag", err)
			}
		})
	}
}

// Replicas share their replay claims through Leases in the bridge's namespace (docs/protocol.md
// §2.1): the flag wins, then $POD_NAMESPACE, then the Pod's own namespace; outside a cluster
// with none of them the claims are off.
func TestReplayNamespace(t *testing.T) {
	dir := t.TempDir()
	podNS := filepath.Join(dir, "namespace")
	if err := os.WriteFile(podNS, []byte("tenantry-system\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "absent")
	for _, tc := range []struct {
		name, flag, env, file, want string
	}{
		{"flag", "bridge-ns", "env-ns", podNS, "bridge-ns"},
		{"flag turns claims off", "-", "env-ns", podNS, "-"},
		{"POD_NAMESPACE", "", "env-ns", podNS, "env-ns"},
		{"the Pod's namespace", "", "", podNS, "tenantry-system"},
		{"outside a cluster", "", "", missing, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := replayNamespace(tc.flag, tc.env, tc.file); got != tc.want {
				t.Errorf("replayNamespace(%q, %q, %q) = %q, want %q", tc.flag, tc.env, tc.file, got, tc.want)
			}
		})
	}
}

// sampleValue is the value of the sample named (with its labels) series in a Prometheus text page.
func sampleValue(t *testing.T, page, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(page, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return v
		}
	}
	t.Fatalf("no sample %s", series)
	return 0
}

func TestClientsAskForCompressionOnlyWhenTold(t *testing.T) {
	g := NewWithT(t)
	base := &rest.Config{Host: "https://api.invalid"}
	for compression, want := range map[bool]string{false: "", true: "gzip"} {
		cfg := config{qps: 225, burst: 450, compression: compression}.clientConfig(base)
		g.Expect(testenv.AcceptedEncoding(cfg)).To(Equal(want), "compression %v", compression)
		g.Expect(cfg.UserAgent).To(Equal("tenantry-webhookbridge"))
		g.Expect(cfg.RateLimiter).NotTo(BeNil())
	}
	g.Expect(base.DisableCompression).To(BeFalse())
	g.Expect(base.UserAgent).To(BeEmpty())
}
