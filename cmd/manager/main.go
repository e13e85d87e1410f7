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

// Command manager runs the Tenantry operator: the TenantInstance reconciler.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
	"github.com/tenantry/tenantry/internal/kubeclient"
	"github.com/tenantry/tenantry/internal/logcap"
	"github.com/tenantry/tenantry/internal/merchantkey"
	"github.com/tenantry/tenantry/internal/metering"
)

func main() {
	var (
		metricsAddr, probeAddr, merchantKeyFile, suspendedHost string
		leaderElectNamespace, pprofAddr, sharedTLSNamespaces   string
		rolloutNamespace                                       string
		suspendedPort, concurrency, qps, burst                 int
		leaderElect, compression                               bool
		leaseDuration, renewDeadline, retryPeriod, drain       time.Duration
		mt                                                     meteringFlags
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "Address the Prometheus metrics endpoint binds to; 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0", "Address net/http/pprof binds to, for profiling; 0 disables it.")
	flag.BoolVar(&leaderElect, "leader-elect", true, "Elect a leader so that only one replica reconciles at a time.")
	flag.StringVar(&leaderElectNamespace, "leader-election-namespace", "", "Namespace of the leader-election Lease; empty means the Pod's own namespace (required outside a cluster).")
	flag.DurationVar(&leaseDuration, "leader-elect-lease-duration", 15*time.Second, "How long a non-leader waits before taking over an unrenewed lease.")
	flag.DurationVar(&renewDeadline, "leader-elect-renew-deadline", 10*time.Second, "How long the leader retries renewing before it gives up and exits.")
	flag.DurationVar(&retryPeriod, "leader-elect-retry-period", 2*time.Second, "How often leader election is retried.")
	flag.StringVar(&suspendedHost, "suspended-page-host", "", "DNS name of the bridge's suspended-page Service; frozen tenants' Ingresses point there. Empty keeps them on the scaled-down app.")
	flag.IntVar(&suspendedPort, "suspended-page-port", 8082, "Port of the suspended-page Service.")
	flag.StringVar(&merchantKeyFile, "merchant-private-key-file", "", "PEM RSA private key that decrypts the 联营 application client secrets.")
	flag.IntVar(&concurrency, "max-concurrent-reconciles", 8, "TenantInstances reconciled in parallel.")
	flag.IntVar(&qps, "kube-api-qps", 200, "Sustained requests per second to the API server, all kinds and Events together; 0 turns client-side limiting off.")
	flag.IntVar(&burst, "kube-api-burst", 400, "Burst of requests to the API server.")
	flag.BoolVar(&compression, "kube-api-compression", false, kubeclient.CompressionUsage)
	flag.StringVar(&sharedTLSNamespaces, "shared-tls-namespaces", "", "Comma-separated namespaces the operator may read Secrets in: the only ones a plan's shared TLS source may be in (its RBAC must grant get, list and watch on Secrets there, and nowhere else). Empty means none: plans naming a shared TLS source wait. Keep the bridge's namespace, which holds its keys, out of the list.")
	flag.DurationVar(&drain, "release-drain-timeout", controllers.DefaultReleaseDrainTimeout, "How long a release waits for the app's pods to stop before it deletes the tenant namespace regardless.")
	flag.StringVar(&mt.url, "metering-url", "", "Base URL of the marketplace's usage push API (https://mkt.myhuaweicloud.com in production; the simulator's serve-orders in tests). Empty: usage is accounted on the instances' status but not pushed.")
	flag.StringVar(&mt.accessKeyFile, "metering-access-key-file", "", "File holding the access key that signs usage pushes (their signature header); required with --metering-url.")
	flag.StringVar(&mt.akFile, "metering-ak-file", "", "File holding the seller AK; with --metering-sk-file, usage pushes are also API-Gateway signed.")
	flag.StringVar(&mt.skFile, "metering-sk-file", "", "File holding the seller SK.")
	flag.StringVar(&mt.prometheusURL, "metering-prometheus-url", "", "Base URL of the Prometheus HTTP API that plans with the Prometheus metering source query.")
	flag.DurationVar(&mt.period, "metering-period", 0, "Replaces every plan's metering period (whole seconds; for tests and demos). 0 keeps the plans' periods.")
	flag.DurationVar(&mt.syncInterval, "metering-sync-interval", controllers.DefaultMeteringSyncInterval, "How often every metered instance is looked at and unreported usage is pushed.")
	flag.DurationVar(&mt.flushTimeout, "metering-flush-timeout", controllers.DefaultMeteringFlushTimeout, "How long a release waits for a pay-per-use instance's last usage to be taken before it lets go with a Warning Event.")
	flag.StringVar(&rolloutNamespace, "rollout-namespace", "", "Namespace of the plans' revisions (ControllerRevisions), which plan rollouts move tenants between; empty means the Pod's own namespace. Outside a cluster with none given, rollouts are off: every tenant follows its plan's spec.app at once.")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	// Capped: above V(7) client-go would log whole request bodies, Secrets included.
	ctrl.SetLogger(logcap.Cap(zap.New(zap.UseFlagOptions(&opts))))
	log := ctrl.Log.WithName("setup")

	if err := run(log, config{
		metricsAddr: metricsAddr, probeAddr: probeAddr, leaderElect: leaderElect, leaderElectNamespace: leaderElectNamespace, pprofAddr: pprofAddr,
		leaseDuration: leaseDuration, renewDeadline: renewDeadline, retryPeriod: retryPeriod,
		suspendedHost: suspendedHost, suspendedPort: int32(suspendedPort), merchantKeyFile: merchantKeyFile,
		concurrency: concurrency, qps: float32(qps), burst: burst, compression: compression, drainTimeout: drain,
		sharedTLSNamespaces: sharedTLSNamespaces, metering: mt, rolloutNamespace: rolloutNamespace,
	}); err != nil {
		log.Error(err, "Operator failed")
		os.Exit(1)
	}
}

type config struct {
	metricsAddr, probeAddr, suspendedHost, merchantKeyFile  string
	leaderElectNamespace, pprofAddr, sharedTLSNamespaces    string
	rolloutNamespace                                        string
	leaderElect, compression                                bool
	leaseDuration, renewDeadline, retryPeriod, drainTimeout time.Duration
	suspendedPort                                           int32
	concurrency, burst                                      int
	qps                                                     float32
	metering                                                meteringFlags
}

// clientConfig is base as the operator's clients use it: one client-side rate limit, its user
// agent, and compression only when asked for (--kube-api-compression).
func (c config) clientConfig(base *rest.Config) *rest.Config {
	return kubeclient.Config(base, "tenantry-operator", c.qps, c.burst, c.compression)
}

type meteringFlags struct {
	url, accessKeyFile, akFile, skFile, prometheusURL string
	period, syncInterval, flushTimeout                time.Duration
}

// newMetering builds the usage metering from its flags, refusing a combination it cannot run.
func (f meteringFlags) newMetering() (*controllers.Metering, error) {
	m := &controllers.Metering{PeriodOverride: f.period, SyncInterval: f.syncInterval, FlushTimeout: f.flushTimeout}
	if f.period < 0 || f.period%time.Second != 0 {
		return nil, fmt.Errorf("--metering-period %s is not a whole number of seconds", f.period)
	}
	if f.syncInterval <= 0 || f.flushTimeout <= 0 {
		return nil, fmt.Errorf("--metering-sync-interval and --metering-flush-timeout must be positive")
	}
	if f.prometheusURL != "" {
		if err := metering.CheckEndpoint(f.prometheusURL); err != nil {
			return nil, fmt.Errorf("--metering-prometheus-url: %w", err)
		}
		m.Prometheus = &metering.Prometheus{URL: f.prometheusURL}
	}
	if f.url == "" {
		return m, nil
	}
	if err := metering.CheckEndpoint(f.url); err != nil {
		return nil, fmt.Errorf("--metering-url: %w", err)
	}
	key, err := readKey(f.accessKeyFile)
	if err != nil {
		return nil, fmt.Errorf("--metering-access-key-file: %w", err)
	}
	if key == "" {
		return nil, fmt.Errorf("--metering-url needs --metering-access-key-file naming a non-empty key")
	}
	ak, err := readKey(f.akFile)
	if err != nil {
		return nil, fmt.Errorf("--metering-ak-file: %w", err)
	}
	sk, err := readKey(f.skFile)
	if err != nil {
		return nil, fmt.Errorf("--metering-sk-file: %w", err)
	}
	if (ak == "") != (sk == "") {
		return nil, fmt.Errorf("--metering-ak-file and --metering-sk-file go together")
	}
	m.Push = &metering.Client{Endpoint: f.url, AccessKey: key, AK: ak, SK: sk}
	return m, nil
}

// readKey reads the first line of a key file, trimmed: the bridge's key files hold the current
// key there and, during a rotation, the previous one on the second line. No file is no key.
func readKey(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(first), nil
}

func run(log interface{ Info(string, ...any) }, c config) error {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(tenantryv1alpha1.AddToScheme(scheme))

	merchantKey, err := merchantkey.ReadPrivateKeyFile(c.merchantKeyFile)
	if err != nil {
		return err
	}

	tlsNamespaces, err := parseNamespaces(c.sharedTLSNamespaces)
	if err != nil {
		return err
	}
	meter, err := c.metering.newMetering()
	if err != nil {
		return err
	}

	rolloutNamespace := c.rolloutNamespace
	if rolloutNamespace == "" {
		rolloutNamespace = podNamespace()
	}
	cacheOptions := controllers.CacheOptions(tlsNamespaces...)
	if rolloutNamespace != "" {
		cacheOptions = controllers.RolloutCacheOptions(cacheOptions, rolloutNamespace)
	} else {
		log.Info("No namespace for plan revisions (--rollout-namespace): plan rollouts are off, tenants follow spec.app at once")
	}

	restConfig := c.clientConfig(ctrl.GetConfigOrDie())
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                        scheme,
		Cache:                         cacheOptions,
		Metrics:                       metricsserver.Options{BindAddress: c.metricsAddr},
		HealthProbeBindAddress:        c.probeAddr,
		PprofBindAddress:              c.pprofAddr,
		LeaderElection:                c.leaderElect,
		LeaderElectionID:              "tenantry-operator.tenantry.io",
		LeaderElectionNamespace:       c.leaderElectNamespace,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &c.leaseDuration,
		RenewDeadline:                 &c.renewDeadline,
		RetryPeriod:                   &c.retryPeriod,
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}
	ctx := ctrl.SetupSignalHandler()
	if err := (&controllers.TenantInstanceReconciler{
		Client:                  mgr.GetClient(),
		Scheme:                  mgr.GetScheme(),
		Recorder:                mgr.GetEventRecorder("tenantry-operator"),
		Clock:                   clock.RealClock{},
		SuspendedHost:           c.suspendedHost,
		SuspendedPort:           c.suspendedPort,
		MerchantKey:             merchantKey,
		MaxConcurrentReconciles: c.concurrency,
		ReleaseDrainTimeout:     c.drainTimeout,
		SharedTLSNamespaces:     tlsNamespaces,
		Metering:                meter,
		RolloutNamespace:        rolloutNamespace,
	}).SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("setting up the TenantInstance controller: %w", err)
	}
	if rolloutNamespace != "" {
		if err := (&controllers.TenantPlanRolloutReconciler{
			Client:    mgr.GetClient(),
			Scheme:    mgr.GetScheme(),
			Recorder:  mgr.GetEventRecorder("tenantry-operator"),
			Namespace: rolloutNamespace,
		}).SetupWithManager(ctx, mgr); err != nil {
			return fmt.Errorf("setting up the plan rollout controller: %w", err)
		}
	}
	meter.Client, meter.Recorder, meter.Clock = mgr.GetClient(), mgr.GetEventRecorder("tenantry-operator"), clock.RealClock{}
	meter.MaxConcurrentReconciles = c.concurrency
	if err := meter.SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("setting up usage metering: %w", err)
	}
	if err := (&controllers.LoadBalancerPoolReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the LoadBalancerPool controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("adding ready check: %w", err)
	}
	log.Info("Starting operator", "leaderElection", c.leaderElect)
	return mgr.Start(ctx)
}

// parseNamespaces reads --shared-tls-namespaces: a comma-separated list of namespace names. None
// is an empty, not nil, list: the operator then reads no Secret at all.
func parseNamespaces(list string) ([]string, error) {
	out := []string{}
	if strings.TrimSpace(list) == "" {
		return out, nil
	}
	for _, ns := range strings.Split(list, ",") {
		ns = strings.TrimSpace(ns)
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return nil, fmt.Errorf("--shared-tls-namespaces: %q is not a namespace name: %s", ns, strings.Join(errs, "; "))
		}
		if !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	return out, nil
}

// podNamespace is the namespace the operator's Pod runs in, from its service account; empty
// outside a cluster.
func podNamespace() string {
	data, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}
