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

// Package chaos is Tenantry's fault-injection suite: on the same local control plane as the
// end-to-end tests (test/e2e/framework), it SIGKILLs the operator and the bridge during a burst of
// marketplace calls, hands leadership between two operator replicas, stops the API server and
// restarts etcd, runs a conflict storm, upgrades the operator from an older build, and replays
// captured calls from one bridge replica to another. A ledger of every acknowledged call is
// compared with the cluster at the end of each scenario: any loss, duplicate or orphan fails it.
// See README.md in this directory.
package chaos

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
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
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
	// clusterPrefix names this package's clusters; the test binary's pid makes the name unique
	// and lets a later run delete the cluster of a run that died before it could.
	clusterPrefix = "chaos-"

	skuSmall   = "chaos.small" // plan chaos-small: 1 replica
	skuLarge   = "chaos.large" // plan chaos-large: 2 replicas
	skuPayg    = "chaos.payg"  // plan chaos-payg: 1 replica, pay-per-use metered by active hours
	baseDomain = "apps.chaos.example.com"
)

// plans says what each SKU runs: the plan's name and its replicas while Active.
var plans = map[string]struct {
	name     string
	replicas int32
}{
	skuSmall: {"chaos-small", 1},
	skuLarge: {"chaos-large", 2},
	skuPayg:  {"chaos-payg", 1},
}

// Shared by the scenarios: the sizes, the cluster and its administrator's clients, the binaries,
// the identities they run as, and the simulated Order Query API. Each scenario starts its own
// operator and bridge processes.
var (
	cfg       config
	cluster   *framework.Cluster
	watchdog  *framework.Watchdog
	admin     client.Client
	clientset kubernetes.Interface
	keys      framework.Keys
	orders    *simulator.OrderServer
	// components is how every operator and bridge of the suite is run (binaries, identities,
	// keys, Order Query); LogDir is replaced per scenario.
	components framework.ComponentOptions
	// workDir holds the binaries, keys, kubeconfigs and (unless TENANTRY_ARTIFACTS is set) logs.
	workDir, logDir string
)

// TestChaos runs the fault-injection specs. Without a label filter on the command line it runs
// the ledger's own specs and the shortened scenarios (label filter "!full"), or with -full or
// CHAOS_FULL=1 the full ones ("full"); in -short mode only the ledger's ("unit").
func TestChaos(t *testing.T) {
	labels := "!" + labelFull
	if *fullFlag || truthy(os.Getenv("CHAOS_FULL")) {
		labels = labelFull
	}
	suite.Run(t, "Tenantry fault injection", Label("chaos"), labels)
}

// The labels of the two sizes of the scenarios (config_test.go).
const (
	labelShort = "short"
	labelFull  = "full"
)

// The scenarios, once per size. Each size shares one cluster (chaos-<pid>) among its scenarios,
// which run one after another in this order, each with its own operator and bridge processes; a
// failing scenario does not keep the next ones from running. Tenants left by one scenario stay,
// so the upgrade, last, counts them among those present.
var (
	_ = Describe("Faults, shortened", Label(labelShort), Ordered, ContinueOnFailure, func() { scenarios(false) })
	_ = Describe("Faults, full", Label(labelFull), Ordered, ContinueOnFailure, func() { scenarios(true) })
)

func scenarios(full bool) {
	BeforeAll(func(ctx SpecContext) { setUpSuite(ctx, full) })
	It("kills during a burst", scenario(killsDuringBurst))
	It("leader election", scenario(leaderElection))
	It("API server outage", scenario(apiServerOutage))
	It("etcd restart", scenario(etcdRestart))
	It("replay across bridge replicas", scenario(replayAcrossBridgeReplicas))
	It("conflict storm", scenario(conflictStorm))
	It("operator upgrade", scenario(operatorUpgrade))
	It("metering under kills", scenario(meteringUnderKills))
}

// failed is set once a spec, or the setup, has failed: the logs (and with CHAOS_KEEP=1 the
// cluster) are then kept.
var failed atomic.Bool

var _ = ReportAfterEach(func(r SpecReport) {
	if r.Failed() {
		failed.Store(true)
	}
})

var _ = ReportAfterSuite("reports", func(r Report) {
	Expect(suite.WriteReports(r, "chaos")).To(Succeed())
})

// setUpSuite starts the cluster the scenarios share and registers its deletion after the last of
// them (Ginkgo runs it on SIGINT and SIGTERM too), after printing the table of their figures.
func setUpSuite(ctx context.Context, full bool) {
	ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.Level(zapcore.ErrorLevel)))
	cfg = loadConfig(full)
	start := time.Now()
	name := clusterPrefix + strconv.Itoa(os.Getpid())
	DeferCleanup(func() {
		if watchdog != nil {
			restarts := watchdog.Restarts()
			figuresMu.Lock()
			figures = append(figures, figure{scenario: "(control plane)", name: "restarted after exiting",
				value: fmt.Sprintf("kube-controller-manager %d, kube-scheduler %d, kwok-controller %d",
					restarts[framework.KubeControllerManager], restarts[framework.KubeScheduler], restarts[framework.KwokController])})
			figuresMu.Unlock()
			if err := watchdog.Stop(); err != nil {
				fmt.Fprintln(GinkgoWriter, "chaos: control-plane watchdog:", err)
			}
		}
		printFigures(os.Stdout, time.Since(start))
		if truthy(os.Getenv("CHAOS_KEEP")) && failed.Load() {
			fmt.Fprintf(os.Stderr, "chaos: CHAOS_KEEP is set: cluster %s is kept for inspection (hack/cluster.sh down --name %s deletes it)\n", name, name)
			framework.CleanWorkDir(workDir, logDir, "chaos", false)
			return
		}
		if err := framework.DownCluster(context.Background(), name, GinkgoWriter); err != nil {
			fmt.Fprintln(GinkgoWriter, "chaos:", err)
		}
		framework.CleanWorkDir(workDir, logDir, "chaos", !failed.Load())
	})
	fmt.Fprintf(os.Stderr, "chaos: %s\n", cfg)
	if err := setUp(ctx, name); err != nil {
		failed.Store(true)
		Fail(fmt.Sprintf("setting up: %v", err))
	}
	fmt.Fprintf(GinkgoWriter, "chaos: cluster %s and chart ready in %s\n", name, time.Since(start).Round(time.Second))
}

// setUp starts the cluster, installs the chart and prepares everything the scenarios need to run
// the operator and the bridge under the chart's ServiceAccounts.
func setUp(ctx context.Context, name string) error {
	framework.ReapClusters(ctx, clusterPrefix, "chaos.test", "chaos")

	work, logs, err := framework.NewWorkDir("chaos")
	if err != nil {
		return err
	}
	workDir, logDir = work, logs
	binDir := filepath.Join(work, "bin")

	var helm string
	if cluster, helm, err = framework.UpClusterAndBuild(ctx, name, cfg.clusterNodes, binDir, GinkgoWriter); err != nil {
		return err
	}
	// The controllers of the control plane exit when they lose their Lease (under load, or while
	// a scenario stops the API server); they are restarted as a kubelet would restart them.
	if watchdog, err = cluster.Watch(time.Second, framework.KubeControllerManager, framework.KubeScheduler, framework.KwokController); err != nil {
		return err
	}
	// The suite's own clients list thousands of objects while the control plane is busy.
	cluster.Config.QPS, cluster.Config.Burst = 200, 400
	if admin, err = client.New(cluster.Config, client.Options{Scheme: testenv.Scheme()}); err != nil {
		return err
	}
	if clientset, err = kubernetes.NewForConfig(cluster.Config); err != nil {
		return err
	}

	if err := widenServiceRange(ctx); err != nil {
		return err
	}
	if keys, err = framework.NewKeys(); err != nil {
		return err
	}
	keysDir := filepath.Join(work, "keys")
	if err := keys.WriteFiles(keysDir); err != nil {
		return err
	}
	if err := framework.Prepare(ctx, clientset, nil, keys); err != nil {
		return err
	}
	// No replicas of the chart's own Deployments: the operator and the bridge run as local
	// processes, which is what lets the suite kill them.
	values := framework.Values{Plans: []framework.Plan{
		{Name: plans[skuSmall].name, Spec: planSpec(plans[skuSmall].replicas, skuSmall)},
		{Name: plans[skuLarge].name, Spec: planSpec(plans[skuLarge].replicas, skuLarge)},
		{Name: plans[skuPayg].name, Spec: meteredPlanSpec(plans[skuPayg].replicas, skuPayg)},
	}}
	if err := framework.InstallChart(ctx, helm, cluster, values, filepath.Join(work, "helm"), GinkgoWriter); err != nil {
		return err
	}

	kubeconfigs := map[string]string{}
	for _, sa := range []string{framework.ManagerServiceAccount, framework.BridgeServiceAccount} {
		kubeconfigs[sa] = filepath.Join(work, sa+".kubeconfig")
		if _, err := framework.ServiceAccountKubeconfig(ctx, clientset, cluster.Config, framework.Namespace, sa, 6*time.Hour, kubeconfigs[sa]); err != nil {
			return err
		}
	}

	// The simulated marketplace also takes usage pushes, signed with the bridge's access key.
	orders = simulator.NewOrderServer(simulator.OrderServerConfig{AK: keys.MarketplaceAK, SK: keys.MarketplaceSK,
		DefaultSKU: skuSmall, UsageKey: keys.AccessKey})
	orderSrv := httptest.NewServer(orders) // closed when the test binary exits
	components = framework.ComponentOptions{
		BinDir: binDir, ManagerKubeconfig: kubeconfigs[framework.ManagerServiceAccount],
		BridgeKubeconfig: kubeconfigs[framework.BridgeServiceAccount], KeysDir: keysDir,
		OrderAPIURL: orderSrv.URL, LogDir: logDir,
		ManagerArgs: cfg.managerArgs(), BridgeArgs: cfg.bridgeArgs(),
	}
	return nil
}

// widenServiceRange gives the cluster room for the full suite's Services: every tenant has a
// ClusterIP Service, and the local cluster's service range (a /24) runs out at about 250 of them.
// A ServiceCIDR adds a /16 to it.
func widenServiceRange(ctx context.Context) error {
	cidr := &networkingv1.ServiceCIDR{
		ObjectMeta: metav1.ObjectMeta{Name: "chaos-tenants"},
		Spec:       networkingv1.ServiceCIDRSpec{CIDRs: []string{"10.1.0.0/16"}},
	}
	if _, err := clientset.NetworkingV1().ServiceCIDRs().Create(ctx, cidr, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("adding a service range: %w", err)
	}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		got, err := clientset.NetworkingV1().ServiceCIDRs().Get(ctx, cidr.Name, metav1.GetOptions{})
		return err == nil && meta.IsStatusConditionTrue(got.Status.Conditions, networkingv1.ServiceCIDRConditionReady), nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the service range %s to be ready: %w", cidr.Spec.CIDRs[0], err)
	}
	return nil
}

// planSpec is a plan whose tenants fit in a small quota and are released at once; both plans
// run the same app, so an upgrade scales it rather than rolling it.
func planSpec(replicas int32, sku string) tenantryv1alpha1.TenantPlanSpec {
	return tenantryv1alpha1.TenantPlanSpec{
		SKUs:        []string{sku},
		DisplayName: "Chaos " + sku,
		App: tenantryv1alpha1.AppSpec{
			Image:         "registry.example.com/tenantry/chaos-app:1.0",
			Port:          8080,
			ReadinessPath: "/healthz",
			AdminPath:     "/admin",
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			},
		},
		Replicas: ptr.To(replicas),
		Quota: corev1.ResourceList{
			corev1.ResourceRequestsCPU:    resource.MustParse("1"),
			corev1.ResourceRequestsMemory: resource.MustParse("1Gi"),
			corev1.ResourcePods:           resource.MustParse("10"),
		},
		Domain:          tenantryv1alpha1.DomainSettings{BaseDomain: baseDomain, IngressClassName: "nginx"},
		RetentionPeriod: &metav1.Duration{},
	}
}

// meteredPlanSpec is planSpec with a meter of the active hours: its pay-per-use (ON_DEMAND)
// instances are billed by usage; only the operators of the metering scenario push it.
func meteredPlanSpec(replicas int32, sku string) tenantryv1alpha1.TenantPlanSpec {
	s := planSpec(replicas, sku)
	s.Metering = &tenantryv1alpha1.Metering{Source: tenantryv1alpha1.MeteringActiveHours}
	return s
}
