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
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/test/e2e/framework"
)

// Names the installation uses: what config/ (and the chart) create, and the identities the
// harness adds for its own load so that the API server's priority and fairness sees every writer
// as an ordinary ServiceAccount, never as an exempt administrator.
const (
	systemNamespace = "tenantry-system"
	managerSA       = "tenantry-manager"
	bridgeSA        = "tenantry-webhookbridge"
	// ceilingSA is bound to the operator's own ClusterRole: the ceiling program may do exactly
	// what the operator may.
	ceilingSA = "tenantry-bench-ceiling"
	// helmSA has the operator's rights plus reading ReplicaSets and Pods, which `helm --wait` needs,
	// and Secrets, where Helm keeps its releases.
	helmSA        = "tenantry-bench-helm"
	helmNamespace = "tenantry-bench-helm"

	planName = "bench"
	planSKU  = "bench.standard"
	// suspendedHost is what the chart passes as --suspended-page-host.
	suspendedHost = "tenantry-webhookbridge-pages.tenantry-system.svc.cluster.local"
	suspendedPort = 8082
	bridgePath    = "/saasproduce"
	leaderLease   = "tenantry-operator.tenantry.io"
)

func saUser(sa string) string { return "system:serviceaccount:" + systemNamespace + ":" + sa }

func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(tenantryv1alpha1.AddToScheme(s))
	return s
}

// env is one local cluster with Tenantry installed from config/, and the processes the harness
// runs against it.
type env struct {
	h    *harness
	name string
	// dir holds this cluster's kubeconfigs, keys and process logs.
	dir             string
	clusterDir      string
	adminKubeconfig string
	// cluster is the cluster as the test framework knows it: its kubectl and control-plane pids.
	cluster     *framework.Cluster
	admin       *rest.Config
	adminClient client.Client
	cs          kubernetes.Interface
	kubeconfigs map[string]string // by ServiceAccount
	auditPath   string

	orders    *simulator.OrderServer
	ordersURL string
	ordersSrv *http.Server
	keys      struct{ access, ak, sk string }

	manager, bridge                         *process
	managerMetrics, managerProbes, pprofURL string
	// bridgePprofURL is the bridge's /debug/pprof, empty when its binary cannot profile.
	bridgePprofURL           string
	bridgeURL, bridgeMetrics string
	managerArgs              []string
	// managerFlags are a scenario's own operator flags, before the harness' -manager-arg ones.
	managerFlags []string
	// newInstance builds the TenantInstances the harness creates (benchInstance when nil).
	newInstance func(name string) *tenantryv1alpha1.TenantInstance

	watch *watcher
}

// kwokctl runs kwokctl with the harness' KWOK_WORKDIR; its chatty JSON log goes to a file.
func (h *harness) kwokctl(ctx context.Context, args ...string) error {
	return framework.Kwokctl(ctx, h.k8sBin, h.kwokWorkdir, filepath.Join(h.work, "kwokctl.log"), args...)
}

// kubectl runs kubectl as the cluster's administrator; its error says what kubectl said.
func (e *env) kubectl(ctx context.Context, args ...string) error {
	cmd := e.cluster.Kubectl(ctx, args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return nil
}

// auditPolicy records, at Metadata level, every write of the identities under test, so writes
// are attributed to who sent them (the metrics of the API server do not say).
func auditPolicy() string {
	users := []string{saUser(managerSA), saUser(bridgeSA), saUser(ceilingSA), saUser(helmSA)}
	return fmt.Sprintf(`apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  users: ["%s"]
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`, strings.Join(users, `", "`))
}

// orderExtraArgs puts the first extra argument of every component before all the others:
// kwokctl v0.8.0 indexes its per-component patches by the position of a component's first
// argument, which is only right (and does not panic) in that order.
func orderExtraArgs(args []string) []string {
	var first, rest []string
	seen := map[string]bool{}
	for _, a := range args {
		component, _, _ := strings.Cut(a, "=")
		if seen[component] {
			rest = append(rest, a)
			continue
		}
		seen[component] = true
		first = append(first, a)
	}
	return append(first, rest...)
}

// upCluster creates a cluster and installs Tenantry's CRDs and RBAC, the bench identities and
// the TenantPlan every tenant uses.
func (h *harness) upCluster(ctx context.Context, name string) (*env, error) {
	start := time.Now()
	e := &env{h: h, name: name, dir: filepath.Join(h.work, name), kubeconfigs: map[string]string{}}
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		return nil, err
	}
	e.adminKubeconfig = filepath.Join(e.dir, "admin.kubeconfig")
	e.cluster = &framework.Cluster{Name: name, Kubeconfig: e.adminKubeconfig, BinDir: h.k8sBin, KwokWorkdir: h.kwokWorkdir}
	e.clusterDir = e.cluster.Workdir()
	e.auditPath = filepath.Join(e.clusterDir, "logs", "audit.log")
	policy := filepath.Join(e.dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy()), 0o600); err != nil {
		return nil, err
	}
	h.logf("creating cluster %s (kube-apiserver, etcd, kube-controller-manager, kube-scheduler, kwok)", name)
	// hack/kwokctl.yaml makes every component listen on 127.0.0.1 only.
	args := []string{"--config", filepath.Join(h.root, "hack", "kwokctl.yaml"), "create", "cluster", "--name", name, "--runtime", "binary",
		"--kube-apiserver-binary", filepath.Join(h.k8sBin, "kube-apiserver"),
		"--etcd-binary", filepath.Join(h.k8sBin, "etcd"),
		"--kube-controller-manager-binary", filepath.Join(h.k8sBin, "kube-controller-manager"),
		"--kube-scheduler-binary", filepath.Join(h.k8sBin, "kube-scheduler"),
		"--kwok-controller-binary", filepath.Join(h.k8sBin, "kwok"),
		"--kubeconfig", e.adminKubeconfig, "--kube-audit-policy", policy, "--wait", "3m"}
	for _, a := range orderExtraArgs(h.cfg.ClusterArgs) {
		args = append(args, "--extra-args", a)
	}
	// Writes are counted from byte offsets of one audit log file. The API server rotates it at
	// --audit-log-maxsize megabytes, 100 when unset (0 means the same): a scenario with 10,000
	// tenants writes more than that, and a rotation would lose the counts of its window.
	args = append(args, "--extra-args", "kube-apiserver=audit-log-maxsize=1000000")
	h.clusters[name] = true
	if err := h.kwokctl(ctx, args...); err != nil {
		return e, err
	}
	if err := h.kwokctl(ctx, "scale", "node", "--name", name, "--replicas", strconv.Itoa(h.cfg.Nodes),
		"--param", ".allocatable.pods="+strconv.Itoa(h.cfg.PodsPerNode),
		"--param", `.allocatable.cpu="4000"`, "--param", `.allocatable.memory="16Ti"`); err != nil {
		return e, err
	}
	var err error
	if e.admin, err = clientcmd.BuildConfigFromFlags("", e.adminKubeconfig); err != nil {
		return e, fmt.Errorf("loading kubeconfig %q: %w", e.adminKubeconfig, err)
	}
	e.admin.QPS, e.admin.Burst = -1, 0 // the observer must never be what is slow
	// Nor cost the API server gzip: the harness runs next to it, as the operator does (whose
	// --kube-api-compression is off) and kube-controller-manager.
	e.admin.DisableCompression = true
	if e.adminClient, err = client.New(e.admin, client.Options{Scheme: scheme()}); err != nil {
		return e, err
	}
	if e.cs, err = kubernetes.NewForConfig(e.admin); err != nil {
		return e, err
	}
	if err := e.kubectl(ctx, "wait", "--for=condition=Ready", "node", "--all", "--timeout=3m"); err != nil {
		return e, err
	}
	if err := e.install(ctx); err != nil {
		return e, err
	}
	if e.watch, err = startWatcher(ctx, e.admin); err != nil {
		return e, err
	}
	h.logf("cluster %s is ready with %d kwok nodes (%s)", name, h.cfg.Nodes, time.Since(start).Round(time.Second))
	return e, nil
}

// install applies config/crd and config/rbac (what the chart installs, generated from the same
// markers), the harness' own identities, the plan, and kubeconfigs with ServiceAccount tokens.
func (e *env) install(ctx context.Context) error {
	h := e.h
	if err := e.kubectl(ctx, "apply", "--server-side", "-k", filepath.Join(h.root, "config", "crd")); err != nil {
		return err
	}
	if err := e.kubectl(ctx, "wait", "--for=condition=Established", "crd", "--all", "--timeout=2m"); err != nil {
		return err
	}
	for _, ns := range []string{systemNamespace, helmNamespace} {
		if _, err := e.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating namespace %q: %w", ns, err)
		}
	}
	if err := e.kubectl(ctx, "apply", "--server-side", "-k", filepath.Join(h.root, "config", "rbac")); err != nil {
		return err
	}
	if err := e.benchIdentities(ctx); err != nil {
		return err
	}
	if err := e.adminClient.Create(ctx, benchPlan(h.cfg.Replicas)); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating TenantPlan: %w", err)
	}
	for _, sa := range []string{managerSA, bridgeSA, ceilingSA, helmSA} {
		path, err := e.tokenKubeconfig(ctx, sa)
		if err != nil {
			return err
		}
		e.kubeconfigs[sa] = path
	}
	return nil
}

// benchIdentities creates the ceiling's and Helm's ServiceAccounts. The ceiling is bound to the
// operator's ClusterRole; Helm's role copies the operator's rules and adds the reads --wait does.
func (e *env) benchIdentities(ctx context.Context) error {
	managerRole, err := e.cs.RbacV1().ClusterRoles().Get(ctx, managerSA, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading ClusterRole %q: %w", managerSA, err)
	}
	helmRules := append([]rbacv1.PolicyRule(nil), managerRole.Rules...)
	helmRules = append(helmRules,
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"replicasets"}, Verbs: []string{"get", "list", "watch"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}},
		// Helm keeps its release records in Secrets and reads them back; the operator never
		// reads a Secret, so its role does not grant this.
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}},
	)
	objs := []client.Object{
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: ceilingSA, Namespace: systemNamespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: helmSA, Namespace: systemNamespace}},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: ceilingSA},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: managerSA},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: ceilingSA, Namespace: systemNamespace}},
		},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: helmSA}, Rules: helmRules},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: helmSA},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: helmSA},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: helmSA, Namespace: systemNamespace}},
		},
	}
	for _, o := range objs {
		if err := e.adminClient.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %T %q: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// benchPlan is the one plan every tenant uses: a quota, container defaults (so the quota admits
// the pods), a shared domain (so every tenant gets an Ingress).
func benchPlan(replicas int) *tenantryv1alpha1.TenantPlan {
	q := resource.MustParse
	return &tenantryv1alpha1.TenantPlan{
		ObjectMeta: metav1.ObjectMeta{Name: planName},
		Spec: tenantryv1alpha1.TenantPlanSpec{
			SKUs:     []string{planSKU},
			Replicas: ptr.To(int32(replicas)),
			App: tenantryv1alpha1.AppSpec{
				Image: "registry.example.com/bench/app:1.0", Port: 8080, ReadinessPath: "/healthz",
			},
			Quota: corev1.ResourceList{
				corev1.ResourceRequestsCPU: q("2"), corev1.ResourceRequestsMemory: q("4Gi"),
				corev1.ResourceLimitsCPU: q("4"), corev1.ResourceLimitsMemory: q("8Gi"),
				corev1.ResourcePods: q("10"),
			},
			LimitRange: &tenantryv1alpha1.LimitRangeSpec{
				Default:        corev1.ResourceList{corev1.ResourceCPU: q("500m"), corev1.ResourceMemory: q("512Mi")},
				DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: q("50m"), corev1.ResourceMemory: q("64Mi")},
			},
			Domain: tenantryv1alpha1.DomainSettings{BaseDomain: "apps.bench.example", IngressClassName: "nginx"},
		},
	}
}

// tokenKubeconfig writes a kubeconfig that authenticates as a ServiceAccount with a 24-hour
// token (what `kubectl create token --duration=24h` makes).
func (e *env) tokenKubeconfig(ctx context.Context, sa string) (string, error) {
	path := filepath.Join(e.dir, sa+".kubeconfig")
	_, err := framework.ServiceAccountKubeconfig(ctx, e.cs, e.admin, systemNamespace, sa, 24*time.Hour, path)
	return path, err
}

// saConfig is a client configuration for a ServiceAccount with client-side limits off: the
// load the harness generates must be limited by the API server, not by the harness. Like the
// operator's, it does not ask for compression, so that the minimal path is the least a controller
// next to its API server does.
func (e *env) saConfig(sa string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfigs[sa])
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = -1, 0
	cfg.DisableCompression = true
	cfg.UserAgent = "tenantry-bench"
	return cfg, nil
}

// down deletes the cluster, keeping its control plane's logs in the run's work directory; safe
// to call more than once.
func (h *harness) downCluster(name string) {
	if !h.clusters[name] {
		return
	}
	logs := filepath.Join(h.kwokWorkdir, "clusters", name, "logs")
	keep := filepath.Join(h.work, name, "cluster-logs")
	if entries, err := os.ReadDir(logs); err == nil && os.MkdirAll(keep, 0o755) == nil {
		for _, en := range entries {
			if en.Name() == "audit.log" {
				continue
			}
			if b, err := os.ReadFile(filepath.Join(logs, en.Name())); err == nil {
				_ = os.WriteFile(filepath.Join(keep, en.Name()), b, 0o644)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := h.kwokctl(ctx, "delete", "cluster", "--name", name, "--kubeconfig", filepath.Join(h.work, name, "admin.kubeconfig")); err != nil {
		h.logf("deleting cluster %s: %v", name, err)
		return
	}
	delete(h.clusters, name)
	h.logf("deleted cluster %s", name)
}

func (e *env) close() {
	if e == nil {
		return
	}
	e.stopComponents()
	if e.watch != nil {
		e.watch.stop()
	}
	if e.ordersSrv != nil {
		_ = e.ordersSrv.Close()
	}
}

// deadControlPlane names the control-plane processes that are no longer running, so that a
// stalled phase says why.
func (e *env) deadControlPlane() []string {
	var dead []string
	for _, c := range framework.ControlPlaneComponents {
		if _, err := e.cluster.ComponentPid(c); err != nil {
			dead = append(dead, c)
		}
	}
	return dead
}

// clusterPids are the control plane's running processes, from kwokctl's pid files.
func (e *env) clusterPids() map[string]int {
	out := map[string]int{}
	for _, c := range framework.ControlPlaneComponents {
		if pid, err := e.cluster.ComponentPid(c); err == nil {
			out[c] = pid
		}
	}
	return out
}

func randomKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startOrders serves the simulated Order Query API in-process.
func (e *env) startOrders() error {
	if e.orders != nil {
		return nil
	}
	e.keys.access, e.keys.ak, e.keys.sk = randomKey(), randomKey(), randomKey()
	// The usage push is signed with the same access key as the bridge's calls (what the chart mounts).
	e.orders = simulator.NewOrderServer(simulator.OrderServerConfig{AK: e.keys.ak, SK: e.keys.sk, DefaultSKU: planSKU, UsageKey: e.keys.access})
	addr, err := framework.FreeAddr()
	if err != nil {
		return err
	}
	e.ordersSrv = &http.Server{Addr: addr, Handler: e.orders, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = e.ordersSrv.ListenAndServe() }()
	e.ordersURL = "http://" + addr
	return nil
}

// ensureManager starts the operator unless it runs.
func (e *env) ensureManager(ctx context.Context) error {
	if e.manager != nil {
		return nil
	}
	return e.startManager(ctx)
}

// ensureStack starts the operator and the bridge (with bridgeArgs, see startBridge) unless they
// run; a bridge that runs already keeps its flags.
func (e *env) ensureStack(ctx context.Context, bridgeArgs ...string) error {
	if err := e.ensureManager(ctx); err != nil {
		return err
	}
	if e.bridge != nil {
		return nil
	}
	return e.startBridge(ctx, bridgeArgs...)
}

// startManager runs the operator under its ServiceAccount, with leader election in
// tenantry-system as the chart configures it, and waits until it leads.
func (e *env) startManager(ctx context.Context) error {
	h := e.h
	addrs, err := framework.FreeAddrs(3)
	if err != nil {
		return err
	}
	args := []string{
		"--leader-elect", "--leader-election-namespace=" + systemNamespace,
		"--metrics-bind-address=" + addrs[0], "--health-probe-bind-address=" + addrs[1],
		"--suspended-page-host=" + suspendedHost,
		"--kube-api-qps=" + strconv.Itoa(h.cfg.ManagerQPS), "--kube-api-burst=" + strconv.Itoa(h.cfg.ManagerBurst),
		"--max-concurrent-reconciles=" + strconv.Itoa(h.cfg.ManagerConcurrency),
	}
	e.pprofURL = ""
	if h.managerHasPprof {
		args = append(args, "--pprof-bind-address="+addrs[2])
		e.pprofURL = "http://" + addrs[2] + "/debug/pprof"
	}
	args = append(append(args, e.managerFlags...), h.cfg.ManagerArgs...)
	e.managerArgs = args
	var env []string
	if h.cfg.ManagerMemLimit != "" {
		env = append(env, "GOMEMLIMIT="+h.cfg.ManagerMemLimit)
	}
	if h.cfg.ManagerGOGC != "" {
		env = append(env, "GOGC="+h.cfg.ManagerGOGC)
	}
	p, err := startProcess("the operator", h.managerBin, args, envWith(e.kubeconfigs[managerSA], env...), filepath.Join(e.dir, "manager.log"))
	if err != nil {
		return err
	}
	e.manager = p
	e.managerMetrics = "http://" + addrs[0] + "/metrics"
	e.managerProbes = "http://" + addrs[1]
	if err := waitHTTP(ctx, e.managerProbes+"/readyz", p, time.Minute); err != nil {
		return fmt.Errorf("waiting for the operator: %w", err)
	}
	return e.waitLeader(ctx, 2*time.Minute)
}

// waitLeader polls the operator's metrics until it holds the lease.
func (e *env) waitLeader(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return poll(ctx, 50*time.Millisecond, func() (bool, error) {
		if e.manager.exited() {
			exit := e.manager.Err()
			if exit == nil {
				exit = errors.New("exit status 0")
			}
			return false, fmt.Errorf("the operator exited: %w\n%s", exit, framework.LogTail(e.manager.logPath, 20))
		}
		m, err := framework.Scrape(ctx, e.h.hc, e.managerMetrics)
		if err != nil {
			return false, nil
		}
		return m.Sum("leader_election_master_status", map[string]string{"name": leaderLease}) >= 1, nil
	})
}

// startBridge runs the webhook bridge under its ServiceAccount against the in-process Order
// Query API, with extra (a scenario's own flags) before the harness' -bridge-arg flags.
func (e *env) startBridge(ctx context.Context, extra ...string) error {
	h := e.h
	if err := e.startOrders(); err != nil {
		return err
	}
	keysDir := filepath.Join(e.dir, "keys")
	if err := os.MkdirAll(keysDir, 0o700); err != nil {
		return err
	}
	for name, v := range map[string]string{"access-key": e.keys.access, "marketplace-ak": e.keys.ak, "marketplace-sk": e.keys.sk} {
		if err := os.WriteFile(filepath.Join(keysDir, name), []byte(v+"\n"), 0o600); err != nil {
			return err
		}
	}
	addrs, err := framework.FreeAddrs(4)
	if err != nil {
		return err
	}
	args := []string{
		"--bind-address=" + addrs[0], "--suspended-page-bind-address=" + addrs[1], "--metrics-bind-address=" + addrs[2],
		"--path=" + bridgePath, "--order-api-url=" + e.ordersURL,
		"--access-key-file=" + filepath.Join(keysDir, "access-key"),
		"--marketplace-ak-file=" + filepath.Join(keysDir, "marketplace-ak"),
		"--marketplace-sk-file=" + filepath.Join(keysDir, "marketplace-sk"),
	}
	e.bridgePprofURL = ""
	if h.bridgeHasPprof {
		args = append(args, "--pprof-bind-address="+addrs[3])
		e.bridgePprofURL = "http://" + addrs[3] + "/debug/pprof"
	}
	args = append(append(args, extra...), h.cfg.BridgeArgs...)
	p, err := startProcess("the webhook bridge", h.bridgeBin, args, envWith(e.kubeconfigs[bridgeSA]), filepath.Join(e.dir, "webhookbridge.log"))
	if err != nil {
		return err
	}
	e.bridge = p
	e.bridgeURL = "http://" + addrs[0] + bridgePath
	e.bridgeMetrics = "http://" + addrs[2] + "/metrics"
	return waitHTTP(ctx, "http://"+addrs[2]+"/readyz", p, time.Minute)
}

func (e *env) stopComponents() {
	if e.bridge != nil {
		if err := e.bridge.stop(30 * time.Second); err != nil {
			e.h.logf("%v", err)
		}
		e.bridge = nil
	}
	if e.manager != nil {
		if err := e.manager.stop(20 * time.Second); err != nil {
			e.h.logf("%v", err)
		}
		e.manager = nil
	}
}

// reset empties a reused cluster between phases: no operator or bridge running, no tenant
// left (TenantInstances, their namespaces, Helm releases), so the next phase starts as on a
// fresh cluster apart from etcd's history.
func (e *env) reset(ctx context.Context) error {
	start := time.Now()
	e.stopComponents()
	list := &tenantryv1alpha1.TenantInstanceList{}
	if err := e.adminClient.List(ctx, list); err != nil {
		return err
	}
	for i := range list.Items {
		ti := &list.Items[i]
		if len(ti.Finalizers) > 0 {
			patch := client.MergeFrom(ti.DeepCopy())
			ti.Finalizers = nil
			if err := e.adminClient.Patch(ctx, ti, patch); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("removing finalizers: %w", err)
			}
		}
	}
	if err := e.adminClient.DeleteAllOf(ctx, &tenantryv1alpha1.TenantInstance{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	sel := metav1.ListOptions{LabelSelector: tenantryv1alpha1.LabelManagedBy + "=" + tenantryv1alpha1.ManagedByValue}
	nss, err := e.cs.CoreV1().Namespaces().List(ctx, sel)
	if err != nil {
		return err
	}
	for _, ns := range nss.Items {
		if err := e.cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	if err := e.cs.CoreV1().Secrets(helmNamespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	err = poll(ctx, time.Second, func() (bool, error) {
		left, err := e.cs.CoreV1().Namespaces().List(ctx, sel)
		if err != nil {
			return false, nil
		}
		tis := &tenantryv1alpha1.TenantInstanceList{}
		if err := e.adminClient.List(ctx, tis); err != nil {
			return false, nil
		}
		return len(left.Items) == 0 && len(tis.Items) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the previous phase's tenants to be gone: %w", err)
	}
	e.h.logf("cluster %s emptied for the next phase (%s)", e.name, time.Since(start).Round(time.Second))
	return nil
}

var errNoPprof = errors.New("the operator has no --pprof-bind-address flag")
