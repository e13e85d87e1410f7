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
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
	"github.com/tenantry/tenantry/internal/logcap"
	"github.com/tenantry/tenantry/internal/merchantkey"
	"github.com/tenantry/tenantry/internal/ratelimit"
)

func main() {
	var (
		metricsAddr, probeAddr, merchantKeyFile, suspendedHost string
		leaderElectNamespace, pprofAddr, sharedTLSNamespaces   string
		suspendedPort, concurrency, qps, burst                 int
		leaderElect                                            bool
		leaseDuration, renewDeadline, retryPeriod, drain       time.Duration
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
	flag.StringVar(&sharedTLSNamespaces, "shared-tls-namespaces", "", "Comma-separated namespaces the operator may read Secrets in: the only ones a plan's shared TLS source may be in (its RBAC must grant get, list and watch on Secrets there, and nowhere else). Empty means none: plans naming a shared TLS source wait. Keep the bridge's namespace, which holds its keys, out of the list.")
	flag.DurationVar(&drain, "release-drain-timeout", controllers.DefaultReleaseDrainTimeout, "How long a release waits for the app's pods to stop before it deletes the tenant namespace regardless.")
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
		concurrency: concurrency, qps: float32(qps), burst: burst, drainTimeout: drain,
		sharedTLSNamespaces: sharedTLSNamespaces,
	}); err != nil {
		log.Error(err, "Operator failed")
		os.Exit(1)
	}
}

type config struct {
	metricsAddr, probeAddr, suspendedHost, merchantKeyFile  string
	leaderElectNamespace, pprofAddr, sharedTLSNamespaces    string
	leaderElect                                             bool
	leaseDuration, renewDeadline, retryPeriod, drainTimeout time.Duration
	suspendedPort                                           int32
	concurrency, burst                                      int
	qps                                                     float32
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

	restConfig := ctrl.GetConfigOrDie()
	ratelimit.Share(restConfig, c.qps, c.burst)
	restConfig.UserAgent = "tenantry-operator"
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                        scheme,
		Cache:                         controllers.CacheOptions(tlsNamespaces...),
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
	}).SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("setting up the TenantInstance controller: %w", err)
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
