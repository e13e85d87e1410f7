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

// Package e2e tests Tenantry as it is installed: a local cluster with a real control plane
// (kube-apiserver, etcd, kube-controller-manager, kube-scheduler) and kwok nodes, the Helm chart
// installed into a namespace enforcing the restricted Pod Security Standard, the operator and the
// bridge running as the chart's ServiceAccounts, and every tenant driven by signed marketplace
// calls from the simulator.
package e2e

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/testenv"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/test/e2e/framework"
	"github.com/tenantry/tenantry/test/e2e/framework/suite"
)

const (
	// clusterPrefix names this package's clusters; the test binary's pid makes the name unique, so
	// concurrent runs on one machine never share a cluster, and lets a later run delete the
	// cluster of a run that died before it could.
	clusterPrefix = "tenantry-e2e-"
	nodes         = 3

	skuSmall   = "e2e.small" // plan e2e-small: 1 replica
	skuLarge   = "e2e.large" // plan e2e-large: 2 replicas
	skuPayg    = "e2e.payg"  // plan e2e-payg: 1 replica, metered by its active hours
	planSmall  = "e2e-small"
	planLarge  = "e2e-large"
	planPayg   = "e2e-payg"
	baseDomain = "apps.e2e.example.com"

	// meteringPeriod replaces every plan's metering period (the chart's manager.metering.period),
	// so that a pay-per-use tenant's usage is pushed within seconds; meteringSync is how often
	// the operator looks at every metered instance and pushes.
	meteringPeriod = 10 * time.Second
	meteringSync   = 2 * time.Second
)

// Shared by the tests: the cluster, its administrator's clients, the identities of the two
// binaries, the simulated marketplace, and the running components.
var (
	cluster    *framework.Cluster
	admin      client.Client
	clientset  kubernetes.Interface
	managerCfg *rest.Config
	bridgeCfg  *rest.Config
	orders     *simulator.OrderServer
	market     *simulator.Client
	components *framework.Components
	// workDir holds the binaries, keys, kubeconfigs and (unless TENANTRY_ARTIFACTS is set) logs.
	workDir string
	logDir  string
)

// TestE2E runs the end-to-end specs: `make test-e2e`, or `go test ./test/e2e/` with any of
// Ginkgo's flags (-ginkgo.focus, -ginkgo.label-filter, -ginkgo.v). In -short mode no spec runs:
// they all need the cluster.
func TestE2E(t *testing.T) {
	SetDefaultEventuallyTimeout(3 * time.Minute)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	suite.Run(t, "Tenantry end-to-end", Label("e2e"), "")
}

// failed is set once any spec, or the setup, has failed: the components' logs are then shown
// and kept.
var failed atomic.Bool

var _ = ReportAfterEach(func(r SpecReport) {
	if r.Failed() {
		failed.Store(true)
	}
})

var _ = ReportAfterSuite("reports", func(r Report) {
	Expect(suite.WriteReports(r, "e2e")).To(Succeed())
})

// The cluster, the chart and the components are shared by every spec; they are deleted after the
// last one, or when the run is interrupted (Ginkgo runs the cleanup on SIGINT and SIGTERM).
var _ = BeforeSuite(func(ctx SpecContext) {
	// The tests' own clients log errors only; the binaries log into their files.
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.Level(zapcore.ErrorLevel)))
	start := time.Now()
	name := clusterPrefix + strconv.Itoa(os.Getpid())
	DeferCleanup(func() {
		if failed.Load() {
			printLogs()
		}
		if components != nil {
			if err := components.Stop(); err != nil {
				fmt.Fprintln(GinkgoWriter, "e2e:", err)
			}
		}
		if err := framework.DownCluster(context.Background(), name, GinkgoWriter); err != nil {
			fmt.Fprintln(GinkgoWriter, "e2e:", err)
		}
		framework.CleanWorkDir(workDir, logDir, "e2e", !failed.Load())
	})
	if err := setUp(ctx, name); err != nil {
		failed.Store(true)
		Fail(fmt.Sprintf("setting up: %v", err))
	}
	fmt.Fprintf(GinkgoWriter, "e2e: cluster %s, chart and components ready in %s\n", name, time.Since(start).Round(time.Second))
}, NodeTimeout(15*time.Minute))

func printLogs() {
	if components == nil {
		return
	}
	for _, p := range []*framework.Process{components.Manager, components.Bridge} {
		fmt.Fprintf(os.Stderr, "---- the end of %s (%s)\n%s\n", p.Name, p.LogPath, framework.LogTail(p.LogPath, 40))
	}
}

// setUp starts the cluster, installs the chart, and runs the operator and the bridge under the
// chart's ServiceAccounts, talking to an in-process Order Query API.
func setUp(ctx context.Context, name string) error {
	framework.ReapClusters(ctx, clusterPrefix, "e2e.test", "e2e")

	work, logs, err := framework.NewWorkDir("e2e")
	if err != nil {
		return err
	}
	workDir, logDir = work, logs
	binDir := filepath.Join(work, "bin")

	var helm string
	if cluster, helm, err = framework.UpClusterAndBuild(ctx, name, nodes, binDir, GinkgoWriter); err != nil {
		return err
	}

	if admin, err = client.New(cluster.Config, client.Options{Scheme: testenv.Scheme()}); err != nil {
		return err
	}
	if clientset, err = kubernetes.NewForConfig(cluster.Config); err != nil {
		return err
	}

	keys, err := framework.NewKeys()
	if err != nil {
		return err
	}
	keysDir := filepath.Join(work, "keys")
	if err := keys.WriteFiles(keysDir); err != nil {
		return err
	}
	// The release namespace enforces the restricted Pod Security Standard before anything of the
	// chart exists, so the chart's Pods are admitted only if they comply.
	if err := framework.Prepare(ctx, clientset, map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
	}, keys); err != nil {
		return err
	}
	// The simulated marketplace serves Order Query to the bridge and takes the operator's usage
	// pushes, signed with the bridge's access key (the key the chart mounts for them).
	orders = simulator.NewOrderServer(simulator.OrderServerConfig{AK: keys.MarketplaceAK, SK: keys.MarketplaceSK,
		DefaultSKU: skuSmall, UsageKey: keys.AccessKey})
	orderSrv := httptest.NewServer(orders) // closed when the test binary exits

	payg := planSpec(1, "1", "1Gi", skuPayg)
	payg.Metering = &tenantryv1alpha1.Metering{Source: tenantryv1alpha1.MeteringActiveHours}
	values := framework.Values{ManagerReplicas: 1, BridgeReplicas: 1, Plans: []framework.Plan{
		{Name: planSmall, Spec: planSpec(1, "1", "1Gi", skuSmall)},
		{Name: planLarge, Spec: planSpec(2, "4", "4Gi", skuLarge)},
		{Name: planPayg, Spec: payg},
	}, Metering: map[string]any{
		"url": orderSrv.URL, "period": meteringPeriod.String(), "syncInterval": meteringSync.String(),
	}}
	if err := framework.InstallChart(ctx, helm, cluster, values, filepath.Join(work, "helm"), GinkgoWriter); err != nil {
		return err
	}
	// The operator runs as a local process with the metering flags the chart gave its container.
	meteringArgs, err := framework.ChartManagerArgs(ctx, clientset, "--metering-", keysDir)
	if err != nil {
		return err
	}

	// The binaries authenticate exactly as the chart's Pods would: with tokens of its ServiceAccounts.
	kubeconfigs := map[string]string{}
	for sa, cfg := range map[string]**rest.Config{framework.ManagerServiceAccount: &managerCfg, framework.BridgeServiceAccount: &bridgeCfg} {
		kubeconfigs[sa] = filepath.Join(work, sa+".kubeconfig")
		if *cfg, err = framework.ServiceAccountKubeconfig(ctx, clientset, cluster.Config, framework.Namespace, sa, 2*time.Hour, kubeconfigs[sa]); err != nil {
			return err
		}
	}

	components, err = framework.StartComponents(ctx, framework.ComponentOptions{
		BinDir: binDir, ManagerKubeconfig: kubeconfigs[framework.ManagerServiceAccount],
		BridgeKubeconfig: kubeconfigs[framework.BridgeServiceAccount], KeysDir: keysDir,
		OrderAPIURL: orderSrv.URL, LogDir: logDir,
		// As the chart does: plan rollouts keep the plans' revisions in the release namespace.
		ManagerArgs: append(meteringArgs, "--rollout-namespace="+framework.Namespace),
	})
	if err != nil {
		return err
	}
	market, err = simulator.NewClient(simulator.Options{BaseURL: components.BridgeURL, AccessKey: keys.AccessKey})
	return err
}

// planSpec is a plan whose tenants fit in a small quota and are released at once.
func planSpec(replicas int32, cpu, memory string, skus ...string) tenantryv1alpha1.TenantPlanSpec {
	return tenantryv1alpha1.TenantPlanSpec{
		SKUs:        skus,
		DisplayName: "End-to-end " + skus[0],
		App: tenantryv1alpha1.AppSpec{
			Image:         "registry.example.com/tenantry/e2e-app:1.0",
			Port:          8080,
			ReadinessPath: "/healthz",
			AdminPath:     "/admin",
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			},
		},
		Replicas: ptr.To(replicas),
		Quota: corev1.ResourceList{
			corev1.ResourceRequestsCPU:    resource.MustParse(cpu),
			corev1.ResourceRequestsMemory: resource.MustParse(memory),
			corev1.ResourcePods:           resource.MustParse("10"),
		},
		Domain:          tenantryv1alpha1.DomainSettings{BaseDomain: baseDomain, IngressClassName: "nginx", ClusterIssuer: "e2e-issuer"},
		RetentionPeriod: &metav1.Duration{},
	}
}
