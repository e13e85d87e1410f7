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

// Command webhookbridge serves the KooGallery production interface (the marketplace's calls),
// the "subscription suspended" page frozen tenants' Ingresses point at, and metrics and probes.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/kubeclient"
	"github.com/tenantry/tenantry/internal/logcap"
	"github.com/tenantry/tenantry/internal/merchantkey"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/calltime"
	"github.com/tenantry/tenantry/webhookbridge/orderquery"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

type config struct {
	bindAddr, suspendedAddr, metricsAddr, pprofAddr, path       string
	accessKeyFile, kitKeyFile, orderAPIURL, akFile, skFile      string
	orderAPIFallbackURL                                         string
	merchantKeyFile, tlsCertFile, tlsKeyFile                    string
	window, callBudget, orderQueryTimeout, freezeHorizon, drain time.Duration
	qps                                                         float64
	burst                                                       int
	maxInFlight, maxReads, maxLargeBodies                       int
	domainParam                                                 string
	denyHostSuffixes                                            webhookbridge.HostSuffixes
	v1, compression                                             bool
	queueWait                                                   time.Duration
	maxBody, maxBasicBody                                       int64
	replayNamespace                                             string
	replaySweep                                                 time.Duration
	readHeaderTimeout, readTimeout, writeTimeout, idleTimeout   time.Duration
	maxHeaderBytes                                              int
}

func main() {
	var c config
	flag.StringVar(&c.bindAddr, "bind-address", ":8080", "Address the marketplace production interface binds to.")
	flag.StringVar(&c.suspendedAddr, "suspended-page-bind-address", ":8082", "Address the subscription-suspended page binds to.")
	flag.StringVar(&c.metricsAddr, "metrics-bind-address", ":8081", "Address /metrics, /healthz and /readyz bind to.")
	flag.StringVar(&c.pprofAddr, "pprof-bind-address", "0", "Address net/http/pprof binds to, for profiling; 0 disables it.")
	flag.StringVar(&c.path, "path", webhookbridge.DefaultPath, "Path of the production URL registered with the marketplace.")
	flag.StringVar(&c.accessKeyFile, "access-key-file", "", "File with the access key (first line) and, during a rotation, the previous key (second line). Default: $TENANTRY_ACCESS_KEY.")
	flag.StringVar(&c.kitKeyFile, "kit-access-key-file", "", "File with the 联营 kit key(s), same format. Default: $TENANTRY_KIT_ACCESS_KEY, else the access key.")
	flag.StringVar(&c.orderAPIURL, "order-api-url", orderquery.DefaultEndpoint, "Base URL of the marketplace Order Query API.")
	flag.StringVar(&c.orderAPIFallbackURL, "order-api-fallback-url", orderquery.DefaultFallbackEndpoint, "Base URL an Order Query is retried at, once, when --order-api-url cannot be reached (connection failure, timeout, HTTP 5xx). Empty disables it. Unless set explicitly, it is used only with the default --order-api-url.")
	flag.StringVar(&c.akFile, "marketplace-ak-file", "", "File with the seller account's AK for Order Query. Default: $TENANTRY_MARKETPLACE_AK.")
	flag.StringVar(&c.skFile, "marketplace-sk-file", "", "File with the seller account's SK for Order Query. Default: $TENANTRY_MARKETPLACE_SK.")
	flag.StringVar(&c.merchantKeyFile, "merchant-private-key-file", "", "PEM RSA private key; when set, applicationSync client secrets that do not decrypt are refused.")
	flag.StringVar(&c.tlsCertFile, "tls-cert-file", "", "Serve the production interface over TLS (>= 1.2) with this certificate; empty when TLS ends at the Ingress.")
	flag.StringVar(&c.tlsKeyFile, "tls-key-file", "", "Private key of --tls-cert-file.")
	flag.DurationVar(&c.window, "timestamp-window", protocol.DefaultWindow, "Accepted distance between a call's timestamp and now.")
	flag.DurationVar(&c.callBudget, "call-budget", webhookbridge.DefaultCallBudget, "Time within which every call is answered (the marketplace waits 5s).")
	flag.DurationVar(&c.orderQueryTimeout, "order-query-timeout", webhookbridge.DefaultOrderQueryTimeout, "Deadline of an Order Query within the call budget.")
	flag.DurationVar(&c.freezeHorizon, "freeze-retry-horizon", webhookbridge.DefaultFreezeRetryHorizon, "A FREEZE sent within this long after a renewal that moved the paid period into the future is ignored as a late resend of a freeze sent before it (docs/protocol.md §6.10).")
	flag.DurationVar(&c.drain, "shutdown-timeout", 20*time.Second, "How long in-flight calls may take to finish on SIGTERM.")
	flag.IntVar(&c.maxInFlight, "max-in-flight", webhookbridge.DefaultMaxInFlight, "Calls worked on at once; beyond it a call waits for a slot with what its wait for a read permit left of --queue-wait, then is answered 000005 (resend later). Negative: unlimited.")
	flag.IntVar(&c.maxLargeBodies, "max-concurrent-large-bodies", 1, "Bodies over 64 KiB verified at once (HMACs and canonical payload, the costly part of refusing a large forged body): a flood of them holds at most this many cores. Beyond it such a call is answered 000005 at once (waiting would hold a call slot), which the marketplace retries; smaller bodies are never held back. 0: unlimited.")
	flag.IntVar(&c.maxReads, "max-concurrent-reads", webhookbridge.DefaultMaxConcurrentReads, "Calls holding a request body at once, from before it is read until the call is answered: bodies in memory are at most this times --max-body-bytes. Beyond it a call waits up to --queue-wait, then is answered 000005 unread. Negative: unlimited.")
	flag.DurationVar(&c.queueWait, "queue-wait", webhookbridge.DefaultQueueWait, "How long a call waits in all for a read permit and then a free slot (--max-concurrent-reads, --max-in-flight) before it is shed.")
	flag.StringVar(&c.domainParam, "domain-param", webhookbridge.DefaultDomainParam, "Order extendParam carrying the buyer's own domain (a Dedicated tenant); \"-\" disables it.")
	flag.BoolVar(&c.v1, "v1", true, "Serve the legacy V1 interface (GET calls on --path). V1 puts the buyer's details and its token in URLs, which proxies and access logs keep: turn it off when every product is on V2; its calls are then answered 404.")
	flag.Var(&c.denyHostSuffixes, "deny-host-suffix", "DNS suffix under which no order may claim a Dedicated host, e.g. the cluster's service names; repeatable or comma-separated, the first use replaces the default; an empty value denies nothing. Hosts under any TenantPlan's base domain are always refused.")
	flag.Int64Var(&c.maxBody, "max-body-bytes", webhookbridge.DefaultMaxBodyBytes, "Largest body of a kit call (an authSync of 500 users is about 1 MiB), and the upper bound of every family's cap.")
	flag.Int64Var(&c.maxBasicBody, "max-basic-body-bytes", webhookbridge.DefaultMaxBasicBodyBytes, "Largest body of a basic lifecycle call (a few KiB in practice); at most --max-body-bytes.")
	flag.StringVar(&c.replayNamespace, "replay-claims-namespace", "", "Namespace (the bridge's own) of the Leases claiming the signatures of calls whose answers disclose a secret, shared by all replicas (docs/protocol.md §2.1). Default: $POD_NAMESPACE, else the Pod's own namespace; outside a cluster without either, off. \"-\" turns the shared claims off, which is safe with one replica only.")
	flag.DurationVar(&c.replaySweep, "replay-sweep-interval", webhookbridge.DefaultReplaySweepInterval, "How often a replica deletes expired replay claims.")
	flag.DurationVar(&c.readHeaderTimeout, "read-header-timeout", webhookbridge.DefaultReadHeaderTimeout, "HTTP server ReadHeaderTimeout.")
	flag.DurationVar(&c.readTimeout, "read-timeout", webhookbridge.DefaultReadTimeout, "HTTP server ReadTimeout.")
	flag.DurationVar(&c.writeTimeout, "write-timeout", webhookbridge.DefaultWriteTimeout, "HTTP server WriteTimeout.")
	flag.DurationVar(&c.idleTimeout, "idle-timeout", webhookbridge.DefaultIdleTimeout, "HTTP server IdleTimeout.")
	flag.IntVar(&c.maxHeaderBytes, "max-header-bytes", webhookbridge.DefaultMaxHeaderBytes, "HTTP server MaxHeaderBytes.")
	flag.Float64Var(&c.qps, "kube-api-qps", 225, "Sustained requests per second to the API server, all kinds and Events together; a purchase, renewal, freeze, upgrade or release costs at most three requests (a new purchase two: create, Event), a user/org sync four, a query two per instance, so allow 3x the peak call rate. 0 turns client-side limiting off.")
	flag.IntVar(&c.burst, "kube-api-burst", 450, "Burst of requests to the API server.")
	flag.BoolVar(&c.compression, "kube-api-compression", false, kubeclient.CompressionUsage)
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	fallbackSet := false
	flag.Visit(func(f *flag.Flag) { fallbackSet = fallbackSet || f.Name == fallbackFlag })
	c.orderAPIFallbackURL = fallbackEndpoint(c.orderAPIURL, c.orderAPIFallbackURL, fallbackSet)
	// Capped: above V(7) client-go would log whole request bodies, Secrets included.
	ctrl.SetLogger(logcap.Cap(zap.New(zap.UseFlagOptions(&opts))))
	log := ctrl.Log.WithName("webhookbridge")

	if err := run(ctrl.SetupSignalHandler(), log, c); err != nil {
		log.Error(err, "Webhook bridge failed")
		os.Exit(1)
	}
}

// clientConfig is base as the bridge's clients use it: one client-side rate limit, its user
// agent, compression only when asked for (--kube-api-compression), and every request charged to
// the call that made it (tenantry_bridge_call_own_duration_seconds).
func (c config) clientConfig(base *rest.Config) *rest.Config {
	cfg := kubeclient.Config(base, "tenantry-webhookbridge", float32(c.qps), c.burst, c.compression)
	cfg.Wrap(calltime.Wrapper(calltime.API))
	return cfg
}

// fallbackFlag names the flag of the Order Query fallback host.
const fallbackFlag = "order-api-fallback-url"

// fallbackEndpoint is the Order Query fallback in effect: the flag's value when it was set
// explicitly, its default (the marketplace's second host) only when the primary is the
// marketplace's own host. A bridge pointed at a simulator or a proxy must not turn to the real
// marketplace, signing with the seller's AK, because its test endpoint failed.
func fallbackEndpoint(primary, fallback string, fallbackSet bool) string {
	if fallbackSet || strings.TrimRight(primary, "/") == orderquery.DefaultEndpoint {
		return fallback
	}
	return ""
}

func run(ctx context.Context, log logr.Logger, c config) error {
	keys, err := webhookbridge.LoadKeys(c.accessKeyFile, "TENANTRY_ACCESS_KEY")
	if err != nil {
		return fmt.Errorf("loading access keys: %w", err)
	}
	if len(keys) == 0 {
		return errors.New("no access key: set --access-key-file or TENANTRY_ACCESS_KEY")
	}
	kitKeys, err := webhookbridge.LoadKeys(c.kitKeyFile, "TENANTRY_KIT_ACCESS_KEY")
	if err != nil {
		return fmt.Errorf("loading kit keys: %w", err)
	}
	ak, err := loadSingle(c.akFile, "TENANTRY_MARKETPLACE_AK")
	if err != nil {
		return fmt.Errorf("loading the marketplace AK: %w", err)
	}
	sk, err := loadSingle(c.skFile, "TENANTRY_MARKETPLACE_SK")
	if err != nil {
		return fmt.Errorf("loading the marketplace SK: %w", err)
	}
	if ak == "" || sk == "" {
		return errors.New("no marketplace AK/SK: set --marketplace-ak-file and --marketplace-sk-file")
	}
	for name, u := range map[string]string{"--order-api-url": c.orderAPIURL, "--" + fallbackFlag: c.orderAPIFallbackURL} {
		if err := orderquery.CheckEndpoint(u); u != "" && err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	c.replayNamespace = replayNamespace(c.replayNamespace, os.Getenv("POD_NAMESPACE"), inClusterNamespaceFile)
	if c.orderAPIFallbackURL != "" {
		log.Info("Order Query falls back to a second host when the first cannot be reached", "fallback", c.orderAPIFallbackURL)
	}
	merchantKey, err := merchantkey.ReadPrivateKeyFile(c.merchantKeyFile)
	if err != nil {
		return err
	}

	restConfig, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	restConfig = c.clientConfig(restConfig)
	// The waits for the client-side rate limit, which a call's own time includes
	// (rest_client_rate_limiter_duration_seconds, by verb).
	ctrlmetrics.RegisterRESTClientMetricsWithOptions(ctrlmetrics.RESTClientMetricsOptions{
		DurationBuckets: []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 3},
	}, ctrlmetrics.MetricRateLimiterLatency)
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(tenantryv1alpha1.AddToScheme(scheme))
	k8s, err := client.New(restConfig, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("creating Kubernetes client: %w", err)
	}
	clientset, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return fmt.Errorf("creating events client: %w", err)
	}
	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: clientset.EventsV1()})
	broadcaster.StartRecordingToSink(ctx.Done())
	defer broadcaster.Shutdown()

	// TenantPlans are read from a watch cache, saving a LIST per purchase. Of TenantInstances the
	// cache holds names only, so that a new purchase skips the read before its Create; every
	// other read of an instance goes to the API server (k8s), since idempotency and ordering
	// depend on what is persisted. The cache runs until in-flight calls have drained, and
	// readiness waits for its first sync.
	watch, err := webhookbridge.NewCache(ctx, restConfig, scheme, k8s.RESTMapper())
	if err != nil {
		return err
	}
	cacheCtx, stopCache := context.WithCancel(context.WithoutCancel(ctx))
	cacheDone := make(chan struct{})
	var cacheErr error
	go func() {
		defer close(cacheDone)
		cacheErr = watch.Start(cacheCtx)
	}()
	defer func() {
		stopCache()
		<-cacheDone
	}()
	var cacheSynced atomic.Bool
	go func() {
		if watch.WaitForCacheSync(cacheCtx) {
			cacheSynced.Store(true)
			log.Info("TenantPlan and TenantInstance name cache synced")
		}
	}()

	var replays webhookbridge.ReplayStore
	switch c.replayNamespace {
	case "", "-":
		log.Info("Replay claims shared by replicas are off: a replay to another replica within the timestamp window is not recognised; run a single replica, or set --replay-claims-namespace")
	default:
		store := &webhookbridge.LeaseReplayStore{Client: k8s, Namespace: c.replayNamespace}
		replays = store
		sweepCtx, stopSweeps := context.WithCancel(logr.NewContext(ctx, log.WithName("replay-claims")))
		defer stopSweeps()
		go store.RunSweeps(sweepCtx, c.replaySweep)
	}

	verifier := &protocol.Verifier{
		Keys: keys, KitKeys: kitKeys, Window: c.window, MaxBodyBytes: c.maxBody,
		Nonces:      protocol.NewNonceCache(2*c.window, 0, nil),
		LargeBodies: protocol.NewLargeBodySlots(c.maxLargeBodies),
	}
	server, err := webhookbridge.New(webhookbridge.Options{
		Client: k8s, Plans: watch, Instances: watch, Verifier: verifier, AccessKey: keys[0], MerchantKey: merchantKey,
		Orders: &orderquery.Client{
			Endpoint: c.orderAPIURL, FallbackEndpoint: c.orderAPIFallbackURL, AK: ak, SK: sk, Observe: webhookbridge.ObserveOrderQuery,
			HTTP: &http.Client{Timeout: c.orderQueryTimeout, Transport: calltime.Transport(calltime.OrderQuery, &http.Transport{
				Proxy: http.ProxyFromEnvironment, TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12},
				ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 8, IdleConnTimeout: 90 * time.Second,
			})},
		},
		Recorder: broadcaster.NewRecorder(scheme, "tenantry-webhookbridge"), Clock: clock.RealClock{},
		Path: c.path, MaxBodyBytes: c.maxBody, MaxBasicBodyBytes: c.maxBasicBody, Replays: replays, CallBudget: c.callBudget,
		OrderQueryTimeout: c.orderQueryTimeout, FreezeRetryHorizon: c.freezeHorizon, Logger: log,
		MaxInFlight: c.maxInFlight, MaxConcurrentReads: c.maxReads, QueueWait: c.queueWait, DomainParam: c.domainParam,
		DenyHostSuffixes: c.denyHostSuffixes,
		DisableV1:        !c.v1,
	})
	if err != nil {
		return err
	}

	var ready atomic.Bool
	ready.Store(true)
	probes := http.NewServeMux()
	probes.Handle("GET /metrics", promhttp.HandlerFor(ctrlmetrics.Registry, promhttp.HandlerOpts{}))
	probes.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	probes.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		if !cacheSynced.Load() {
			http.Error(w, "TenantPlan and TenantInstance name cache not synced yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})

	servers := []*namedServer{
		{name: "production interface", tls: c.tlsCertFile != "", srv: c.httpServer(c.bindAddr, server.Handler())},
		{name: "suspended page", srv: c.httpServer(c.suspendedAddr, webhookbridge.SuspendedPage())},
		{name: "metrics and probes", srv: c.httpServer(c.metricsAddr, probes)},
	}
	if c.pprofAddr != "" && c.pprofAddr != "0" {
		servers = append(servers, &namedServer{name: "profiler", srv: c.pprofServer()})
	}
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() {
			log.Info("Serving", "server", s.name, "address", s.srv.Addr, "tls", s.tls)
			var err error
			if s.tls {
				err = s.srv.ListenAndServeTLS(c.tlsCertFile, c.tlsKeyFile)
			} else {
				err = s.srv.ListenAndServe()
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serving the %s on %q: %w", s.name, s.srv.Addr, err)
			}
		}()
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("Shutting down, finishing in-flight calls", "timeout", c.drain)
	case runErr = <-errc:
	case <-cacheDone: // Start returns early only on an error
		runErr = fmt.Errorf("running the TenantPlan cache: %w", cacheErr)
	}
	// Fail readiness first so no new calls are routed here, then let in-flight calls finish.
	ready.Store(false)
	drainCtx, cancel := context.WithTimeout(context.Background(), c.drain)
	defer cancel()
	for _, s := range servers {
		if err := s.srv.Shutdown(drainCtx); err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("shutting down the %s: %w", s.name, err))
		}
	}
	return runErr
}

// pprofServer serves net/http/pprof on --pprof-bind-address, apart from every other listener
// (the profiles show what the bridge is doing; only who may profile it should reach it).
func (c config) pprofServer() *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := c.httpServer(c.pprofAddr, mux)
	// A CPU profile or trace streams for as long as it was asked to run.
	srv.WriteTimeout = 0
	return srv
}

type namedServer struct {
	name string
	tls  bool
	srv  *http.Server
}

// httpServer applies the timeouts and header cap every listener needs: a slow or hostile client
// must not hold connections or memory.
func (c config) httpServer(addr string, h http.Handler) *http.Server {
	return webhookbridge.NewHTTPServer(addr, h, webhookbridge.HTTPLimits{
		ReadHeaderTimeout: c.readHeaderTimeout, ReadTimeout: c.readTimeout,
		WriteTimeout: c.writeTimeout, IdleTimeout: c.idleTimeout, MaxHeaderBytes: c.maxHeaderBytes,
	})
}

// inClusterNamespaceFile holds the namespace of a Pod's service account.
const inClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// replayNamespace is the namespace of the replay claims: the flag's value when given ("-" keeps
// them off), else env ($POD_NAMESPACE), else the Pod's own namespace read from file; empty —
// claims off — only outside a cluster with none of these.
func replayNamespace(flagValue, env, file string) string {
	if flagValue != "" {
		return flagValue
	}
	if env != "" {
		return env
	}
	if b, err := os.ReadFile(file); err == nil {
		return strings.TrimSpace(string(b))
	}
	return ""
}

// loadSingle reads a one-key file (or environment variable); a rotation pair is refused.
func loadSingle(file, env string) (string, error) {
	keys, err := webhookbridge.LoadKeys(file, env)
	if err != nil || len(keys) == 0 {
		return "", err
	}
	if len(keys) > 1 {
		return "", errors.New("expected a single value")
	}
	return keys[0], nil
}
