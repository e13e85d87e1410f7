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

// Command demo is `make demo`: on a fresh machine it builds what it needs, starts a local
// cluster (hack/cluster.sh), installs the Helm chart, runs the operator and the bridge as local
// processes under the chart's ServiceAccounts, and walks one tenant from purchase to release with
// signed marketplace calls, showing every command and what the cluster does in answer.
//
// Usage: go run ./hack/demo [--keep]   (make demo [KEEP=1])
//
//	go run ./hack/demo down          (make demo-down)
//
// With --keep the cluster and the processes stay up for exploring; bin/demo/env.sh then sets up a
// shell for kubectl and the marketplace simulator.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/test/e2e/framework"
)

const (
	defaultCluster = "tenantry-demo"
	skuStandard    = "tenantry.standard"
	skuPremium     = "tenantry.premium"
	waitTimeout    = "--timeout=3m"
)

func main() { os.Exit(run()) }

func run() int {
	keep := flag.Bool("keep", false, "leave the cluster and the processes running for exploring (make demo-down stops them)")
	name := flag.String("cluster", defaultCluster, "name of the local cluster")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./hack/demo [--keep] [--cluster NAME] [up|down]")
		flag.PrintDefaults()
	}
	flag.Parse()
	d := &demo{root: framework.Root(), cluster: *name, keep: *keep}
	d.state = filepath.Join(d.root, "bin", "demo")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch flag.Arg(0) {
	case "", "up":
		err = d.up(ctx)
	case "down":
		err = d.down()
	default:
		flag.Usage()
		return 2
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo: %v\n", err)
		return 1
	}
	return 0
}

type demo struct {
	root, state, cluster string
	keep                 bool
	steps, step          int
	start                time.Time

	kc         *framework.Cluster
	kubectlBin string
	simEnv     []string
	bridgeURL  string
	ordersURL  string
	procs      []*framework.Process
}

// Terminal styles, empty when the output is not a terminal.
var bold, cyan, reset = "\033[1m", "\033[36m", "\033[0m"

func init() {
	if fi, err := os.Stdout.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		bold, cyan, reset = "", "", ""
	}
}

func (d *demo) heading(format string, args ...any) {
	d.step++
	fmt.Printf("\n%s==> [%d/%d] %s%s   (%s)\n", bold, d.step, d.steps, fmt.Sprintf(format, args...), reset,
		time.Since(d.start).Round(time.Second))
}

// command shows a command line the way a user would type it.
func command(name string, args []string, comment string) {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = a
		if strings.ContainsAny(a, "{}[]$*?'\" \\") {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	fmt.Printf("%s$ %s %s%s%s\n", cyan, name, strings.Join(quoted, " "), reset, comment)
}

func note(format string, args ...any) { fmt.Printf("    "+format+"\n", args...) }

// show runs a command, shows its output and returns it.
func show(cmd *exec.Cmd) (string, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	fmt.Print(out.String())
	if err != nil {
		return out.String(), fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
	}
	return out.String(), nil
}

// kubectl runs kubectl as the cluster administrator.
func (d *demo) kubectl(ctx context.Context, args ...string) (string, error) {
	command("kubectl", args, "")
	return show(d.kc.Kubectl(ctx, args...))
}

// simulator runs the marketplace simulator CLI, which signs every call as the marketplace does.
func (d *demo) simulator(ctx context.Context, args ...string) (string, error) {
	command("marketplace-simulator", args, "")
	cmd := exec.CommandContext(ctx, filepath.Join(d.root, "bin", "marketplace-simulator"), args...)
	cmd.Env = append(os.Environ(), d.simEnv...)
	return show(cmd)
}

// query sends queryInstance and shows the bridge's whole answer, which --json carries as "body".
func (d *demo) query(ctx context.Context, id string) error {
	args := []string{"query", "--json", id}
	command("marketplace-simulator", args, "   (showing the bridge's answer: the \"body\" of the JSON line)")
	cmd := exec.CommandContext(ctx, filepath.Join(d.root, "bin", "marketplace-simulator"), args...)
	cmd.Env = append(os.Environ(), d.simEnv...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		fmt.Print(string(out))
		return fmt.Errorf("marketplace-simulator query: %w", err)
	}
	var line struct {
		Body json.RawMessage `json:"body"`
	}
	var body bytes.Buffer
	if json.Unmarshal(out, &line) != nil || json.Indent(&body, line.Body, "", "  ") != nil {
		fmt.Print(string(out))
		return nil
	}
	fmt.Println(body.String())
	return nil
}

func (d *demo) up(ctx context.Context) (err error) {
	d.start = time.Now()
	d.steps = 10
	defer func() {
		if err != nil {
			d.printLogs()
			if d.keep {
				fmt.Fprintf(os.Stderr, "\ndemo: failed; everything is left running (KEEP): make demo-down stops it\n")
				return
			}
			fmt.Fprintf(os.Stderr, "\ndemo: failed; tearing down\n")
			if downErr := d.down(); downErr != nil {
				fmt.Fprintln(os.Stderr, "demo:", downErr)
			}
		}
	}()

	d.heading("Providing the cluster binaries and helm (built from source the first time, then cached in bin/)")
	binDir, err := framework.Tool(ctx, "cluster", os.Stderr)
	if err != nil {
		return err
	}
	d.kubectlBin = filepath.Join(binDir, "kubectl")
	helm, err := framework.Tool(ctx, "helm", os.Stderr)
	if err != nil {
		return err
	}
	note("%s", binDir)
	note("%s", helm)

	d.heading("Building the operator, the bridge and the marketplace simulator into bin/")
	d.stopProcesses() // of an earlier `make demo KEEP=1`, before their binaries are replaced
	if err := framework.Build(ctx, filepath.Join(d.root, "bin"), os.Stderr, "manager", "webhookbridge", "marketplace-simulator"); err != nil {
		return err
	}
	note("bin/manager  bin/webhookbridge  bin/marketplace-simulator")

	d.heading("Starting the local cluster %q: real control plane, 3 kwok nodes that run Pods without containers", d.cluster)
	if d.kc, err = framework.UpCluster(ctx, d.cluster, 3, os.Stderr); err != nil {
		return err
	}
	if err := os.MkdirAll(d.state, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(d.state, "cluster"), []byte(d.cluster+"\n"), 0o600); err != nil {
		return err
	}
	if _, err := d.kubectl(ctx, "get", "nodes"); err != nil {
		return err
	}

	if err := d.install(ctx, helm); err != nil {
		return err
	}
	if err := d.startProcesses(ctx); err != nil {
		return err
	}
	if err := d.lifecycle(ctx); err != nil {
		return err
	}

	if d.keep {
		d.printExplore()
		fmt.Printf("\nDemo finished in %s; everything is still running (make demo-down stops it).\n", time.Since(d.start).Round(time.Second))
		return nil
	}
	fmt.Printf("\nTearing down (make demo KEEP=1 leaves everything running for exploring)\n")
	if err := d.down(); err != nil {
		return err
	}
	fmt.Printf("\nDemo finished in %s.\n", time.Since(d.start).Round(time.Second))
	return nil
}

// plans are what the demo sells: two SKUs, the premium one with more replicas and resources.
func plans() []framework.Plan {
	plan := func(display string, replicas int32, cpu, memory string, sku string) tenantryv1alpha1.TenantPlanSpec {
		return tenantryv1alpha1.TenantPlanSpec{
			SKUs: []string{sku}, DisplayName: display,
			App: tenantryv1alpha1.AppSpec{
				Image: "registry.example.com/vendor/crm:2.3.1", Port: 8080, ReadinessPath: "/healthz", AdminPath: "/admin",
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)},
				},
			},
			Replicas: ptr.To(replicas),
			Quota: corev1.ResourceList{
				corev1.ResourceRequestsCPU: resource.MustParse("4"), corev1.ResourceRequestsMemory: resource.MustParse("8Gi"),
				corev1.ResourcePods: resource.MustParse("10"),
			},
			Domain:          tenantryv1alpha1.DomainSettings{BaseDomain: "apps.example.com", IngressClassName: "nginx"},
			RetentionPeriod: &metav1.Duration{}, // released tenants are deleted at once in the demo
		}
	}
	return []framework.Plan{
		{Name: "standard", Spec: plan("Standard", 2, "500m", "256Mi", skuStandard)},
		{Name: "premium", Spec: plan("Premium", 3, "1", "512Mi", skuPremium)},
	}
}

func (d *demo) install(ctx context.Context, helm string) error {
	d.heading("Installing the Helm chart charts/tenantry into %s", framework.Namespace)
	cs, err := kubernetes.NewForConfig(d.kc.Config)
	if err != nil {
		return err
	}
	keysDir := filepath.Join(d.state, "keys")
	keys, err := framework.ReadKeys(keysDir) // the same keys as an earlier KEEP run: its chart keeps working
	if err != nil {
		if keys, err = framework.NewKeys(); err != nil {
			return err
		}
		if err := keys.WriteFiles(keysDir); err != nil {
			return err
		}
	}
	note("random marketplace keys in bin/demo/keys/, given to the chart as Secret %s (bridge.keys.existingSecret)", framework.KeysSecret)
	if err := framework.Prepare(ctx, cs, map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}, keys); err != nil {
		return err
	}
	values := framework.Values{ManagerReplicas: 0, BridgeReplicas: 0, Plans: plans()}
	note("values: two TenantPlans; manager.replicas=0 and bridge.replicas=0 because both run as local processes here")
	command("helm", []string{"upgrade", "--install", framework.Release, "charts/tenantry", "-n", framework.Namespace,
		"--create-namespace", "-f", "bin/demo/helm/values.yaml"}, "")
	var out bytes.Buffer
	if err := framework.InstallChart(ctx, helm, d.kc, values, filepath.Join(d.state, "helm"), &out); err != nil {
		fmt.Print(out.String())
		return err
	}
	// The chart's NOTES are for a real cluster; the first lines say what was installed.
	lines := strings.SplitN(out.String(), "\n", 8)
	fmt.Println(strings.Join(lines[:min(len(lines), 7)], "\n"))
	if _, err := d.kubectl(ctx, "get", "tenantplans"); err != nil {
		return err
	}
	_, err = d.kubectl(ctx, "get", "serviceaccounts,clusterroles,roles", "-n", framework.Namespace, "-l", "app.kubernetes.io/instance="+framework.Release)
	return err
}

func (d *demo) startProcesses(ctx context.Context) error {
	d.heading("Running the operator and the bridge as local processes, as the chart's ServiceAccounts")
	kubeconfigs := map[string]string{}
	for _, sa := range []string{framework.ManagerServiceAccount, framework.BridgeServiceAccount} {
		command("kubectl", []string{"create", "token", sa, "-n", framework.Namespace, "--duration=24h"},
			"   (written into bin/demo/"+sa+".kubeconfig, not shown)")
		token, err := d.kc.Kubectl(ctx, "create", "token", sa, "-n", framework.Namespace, "--duration=24h").Output()
		if err != nil {
			return fmt.Errorf("creating a token for %s: %w", sa, err)
		}
		kubeconfigs[sa] = filepath.Join(d.state, sa+".kubeconfig")
		if err := framework.WriteKubeconfig(framework.TokenConfig(d.kc.Config, strings.TrimSpace(string(token))), sa, kubeconfigs[sa]); err != nil {
			return err
		}
		command("kubectl", []string{"auth", "whoami", "--kubeconfig", "bin/demo/" + sa + ".kubeconfig"}, "")
		if _, err := show(exec.CommandContext(ctx, d.kubectlBin, "auth", "whoami", "--kubeconfig", kubeconfigs[sa])); err != nil {
			return err
		}
	}

	keysDir := filepath.Join(d.state, "keys")
	ordersAddr, err := framework.FreeAddr()
	if err != nil {
		return err
	}
	d.ordersURL = "http://" + ordersAddr
	orders, err := framework.StartProcess(framework.ProcessOptions{
		Name: "the Order Query simulator", Path: filepath.Join(d.root, "bin", "marketplace-simulator"),
		Args: []string{"serve-orders", "--listen", ordersAddr, "--ak-file", filepath.Join(keysDir, "marketplace-ak"),
			"--sk-file", filepath.Join(keysDir, "marketplace-sk"), "--default-sku", skuStandard},
		Env: os.Environ(), LogPath: filepath.Join(d.state, "orders.log"), Detach: true,
	})
	if err != nil {
		return err
	}
	d.procs = append(d.procs, orders)
	if err := framework.WritePid(filepath.Join(d.state, "orders.pid"), orders); err != nil {
		return err
	}
	if err := framework.WaitHTTP(ctx, d.ordersURL+"/simulator/faults", orders, 30*time.Second); err != nil {
		return err
	}
	note("marketplace Order Query simulator  %s  (log bin/demo/orders.log)", d.ordersURL)

	c, err := framework.StartComponents(ctx, framework.ComponentOptions{
		BinDir: filepath.Join(d.root, "bin"), KeysDir: keysDir, OrderAPIURL: d.ordersURL, LogDir: d.state, Detach: true,
		ManagerKubeconfig: kubeconfigs[framework.ManagerServiceAccount], BridgeKubeconfig: kubeconfigs[framework.BridgeServiceAccount],
	})
	if err != nil {
		return err
	}
	d.procs = append(d.procs, c.Manager, c.Bridge)
	for name, p := range map[string]*framework.Process{"manager": c.Manager, "webhookbridge": c.Bridge} {
		if err := framework.WritePid(filepath.Join(d.state, name+".pid"), p); err != nil {
			return err
		}
	}
	d.bridgeURL = c.BridgeURL
	note("operator (bin/manager)              pid %d, leader election in %s (log bin/demo/manager.log)", c.Manager.Pid(), framework.Namespace)
	note("webhook bridge (bin/webhookbridge)  %s  (log bin/demo/webhookbridge.log)", c.BridgeURL)

	keys, err := framework.ReadKeys(keysDir)
	if err != nil {
		return err
	}
	d.simEnv = []string{"TENANTRY_BRIDGE_URL=" + d.bridgeURL, "TENANTRY_ORDERS_URL=" + d.ordersURL, "TENANTRY_ACCESS_KEY=" + keys.AccessKey}
	return d.writeEnv()
}

var instanceIDPattern = regexp.MustCompile(`instanceId=(\S+)`)

func (d *demo) lifecycle(ctx context.Context) error {
	d.heading("Buying: the marketplace sends newInstance for an order of SKU %s", skuStandard)
	out, err := d.simulator(ctx, "buy", "--sku", skuStandard)
	if err != nil {
		return err
	}
	m := instanceIDPattern.FindStringSubmatch(out)
	if m == nil {
		return errors.New("the buy answer names no instanceId")
	}
	id := m[1]
	ti, ns, pods := "tenantinstance/"+id, "tenant-"+id, "tenantry.io/instance="+id
	note("the bridge wrote TenantInstance %s; the operator provisions namespace %s", id, ns)
	if err := d.waitAll(ctx,
		[]string{"wait", "--for=condition=Ready", ti, waitTimeout},
		[]string{"wait", "--for=jsonpath={.status.state}=Running", ti, waitTimeout},
		[]string{"wait", "--for=jsonpath={.status.phase}=Running", "pods", "-l", pods, "-n", ns, waitTimeout},
		[]string{"get", "tenantinstances"},
		[]string{"get", "deployments,pods,services,ingresses,resourcequotas", "-n", ns, "-o", "wide"},
	); err != nil {
		return err
	}
	if err := d.query(ctx, id); err != nil {
		return err
	}

	d.heading("Freezing: updateInstanceStatus FREEZE (the customer stopped paying); data is kept")
	if _, err := d.simulator(ctx, "freeze", "--instance-id", id); err != nil {
		return err
	}
	if err := d.waitAll(ctx,
		[]string{"wait", "--for=jsonpath={.status.state}=Frozen", ti, waitTimeout},
		[]string{"wait", "--for=delete", "pods", "-l", pods, "-n", ns, waitTimeout},
		[]string{"get", "tenantinstances"},
		[]string{"get", "deployments,pods", "-n", ns},
	); err != nil {
		return err
	}

	d.heading("Unfreezing: updateInstanceStatus UNFREEZE (renewed); the same tenant runs again")
	if _, err := d.simulator(ctx, "unfreeze", "--instance-id", id); err != nil {
		return err
	}
	if err := d.waitAll(ctx,
		[]string{"wait", "--for=jsonpath={.status.state}=Running", ti, waitTimeout},
		[]string{"wait", "--for=condition=Ready", ti, waitTimeout},
		[]string{"wait", "--for=jsonpath={.status.phase}=Running", "pods", "-l", pods, "-n", ns, waitTimeout},
		[]string{"get", "tenantinstances"},
		[]string{"get", "pods", "-n", ns, "-o", "wide"},
	); err != nil {
		return err
	}

	d.heading("Upgrading: upgradeInstance to SKU %s (plan premium: 3 replicas, more CPU and memory), in place", skuPremium)
	if _, err := d.simulator(ctx, "upgrade", "--instance-id", id, "--sku", skuPremium); err != nil {
		return err
	}
	if err := d.waitAll(ctx,
		[]string{"wait", "--for=jsonpath={.status.plan}=premium", ti, waitTimeout},
		[]string{"wait", "--for=condition=Ready", ti, waitTimeout},
		[]string{"wait", "--for=jsonpath={.status.readyReplicas}=3", ti, waitTimeout},
		[]string{"wait", "--for=jsonpath={.status.phase}=Running", "pods", "-l", pods, "-n", ns, waitTimeout},
		[]string{"get", "tenantinstances"},
		[]string{"get", "pods", "-n", ns, "-o", "wide"},
	); err != nil {
		return err
	}
	if _, err := d.simulator(ctx, "query", id); err != nil {
		return err
	}

	d.heading("Releasing: releaseInstance (the order ended); the tenant and its namespace are deleted")
	if _, err := d.simulator(ctx, "release", "--instance-id", id); err != nil {
		return err
	}
	return d.waitAll(ctx,
		[]string{"wait", "--for=delete", ti, waitTimeout},
		[]string{"wait", "--for=delete", "namespace/" + ns, waitTimeout},
		[]string{"get", "tenantinstances"},
	)
}

func (d *demo) waitAll(ctx context.Context, commands ...[]string) error {
	for _, c := range commands {
		if _, err := d.kubectl(ctx, c...); err != nil {
			return err
		}
	}
	return nil
}

// writeEnv writes bin/demo/env.sh, which sets up a shell to explore the running demo.
func (d *demo) writeEnv() error {
	binDir := filepath.Dir(d.kubectlBin)
	env := fmt.Sprintf(`# source bin/demo/env.sh: kubectl and marketplace-simulator against the demo (make demo KEEP=1)
export KUBECONFIG=%q
export PATH=%q:%q:"$PATH"
export TENANTRY_BRIDGE_URL=%q
export TENANTRY_ORDERS_URL=%q
TENANTRY_ACCESS_KEY=$(cat %q)
export TENANTRY_ACCESS_KEY
`, d.kc.Kubeconfig, binDir, filepath.Join(d.root, "bin"), d.bridgeURL, d.ordersURL, filepath.Join(d.state, "keys", "access-key"))
	return os.WriteFile(filepath.Join(d.state, "env.sh"), []byte(env), 0o600)
}

func (d *demo) printExplore() {
	fmt.Printf(`
The cluster, the operator, the bridge and the Order Query simulator are still running.

  source bin/demo/env.sh                          # KUBECONFIG, PATH and the simulator's bridge URL and key
  kubectl get tenantinstances,tenantplans         # (ti, tp)
  marketplace-simulator buy --sku %s  # buy a tenant; prints its instanceId
  kubectl wait --for=condition=Ready ti/<instanceId> && kubectl get ti
  marketplace-simulator freeze --instance-id <instanceId>    # also: unfreeze, renew, upgrade, query, release
  marketplace-simulator lifecycle --sku %s --upgrade-sku %s   # a whole lifecycle in one go
  marketplace-simulator -h                        # every marketplace call, including the kit syncs

  Logs: bin/demo/manager.log, bin/demo/webhookbridge.log, bin/demo/orders.log
  The operator runs as %s, the bridge as %s (kubeconfigs in bin/demo/).
  make demo-down                                  # stop everything and delete the cluster
`, skuStandard, skuStandard, skuPremium, framework.ManagerServiceAccount, framework.BridgeServiceAccount)
}

func (d *demo) printLogs() {
	for _, name := range []string{"manager", "webhookbridge", "orders"} {
		path := filepath.Join(d.state, name+".log")
		if _, err := os.Stat(path); err == nil {
			fmt.Fprintf(os.Stderr, "\n---- the end of bin/demo/%s.log\n%s\n", name, framework.LogTail(path, 25))
		}
	}
}

// stopProcesses stops the processes this or an earlier run started, found by their pid files.
func (d *demo) stopProcesses() {
	for _, p := range d.procs {
		_ = p.Stop(20 * time.Second)
	}
	d.procs = nil
	for name, binary := range map[string]string{"manager": "manager", "webhookbridge": "webhookbridge", "orders": "marketplace-simulator"} {
		pidFile := filepath.Join(d.state, name+".pid")
		pid, err := framework.ReadPid(pidFile)
		if err != nil {
			continue
		}
		if stopped, err := framework.StopPid(pid, filepath.Join(d.root, "bin", binary), 20*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
		} else if stopped {
			note("stopped %s (pid %d)", name, pid)
		}
		_ = os.Remove(pidFile)
	}
}

// down stops the processes and deletes the cluster and everything in bin/demo.
func (d *demo) down() error {
	d.stopProcesses()
	name := d.cluster
	if b, err := os.ReadFile(filepath.Join(d.state, "cluster")); err == nil {
		name = strings.TrimSpace(string(b))
	}
	if err := framework.DownCluster(context.Background(), name, os.Stderr); err != nil {
		return err
	}
	return os.RemoveAll(d.state)
}
