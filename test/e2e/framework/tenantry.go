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

package framework

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// What the chart is installed as; its object names follow from the release name.
const (
	Release   = "tenantry"
	Namespace = "tenantry-system"
	// ManagerServiceAccount and BridgeServiceAccount are the identities the chart creates.
	ManagerServiceAccount = Release + "-manager"
	BridgeServiceAccount  = Release + "-webhookbridge"
	// KeysSecret is the Secret given to the chart as bridge.keys.existingSecret.
	KeysSecret = Release + "-keys"
	// SuspendedPageHost is the chart's suspended-page Service, where frozen tenants' Ingresses point.
	SuspendedPageHost = Release + "-webhookbridge-pages." + Namespace + ".svc.cluster.local"
	// BridgePath is the production URL path the chart configures by default.
	BridgePath = "/saasproduce"
)

// ChartDir is the Helm chart in the repository.
func ChartDir() string { return filepath.Join(Root(), "charts", "tenantry") }

// Keys are the bridge's secrets: the marketplace access key that signs calls, and the seller
// AK/SK for the Order Query API.
type Keys struct {
	AccessKey, MarketplaceAK, MarketplaceSK string
}

// NewKeys makes random keys for a local installation.
func NewKeys() (Keys, error) {
	k := Keys{}
	for _, v := range []*string{&k.AccessKey, &k.MarketplaceAK, &k.MarketplaceSK} {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return Keys{}, err
		}
		*v = hex.EncodeToString(b)
	}
	return k, nil
}

// files maps the chart's Secret keys (also the local file names) to values.
func (k Keys) files() map[string]string {
	return map[string]string{"access-key": k.AccessKey, "marketplace-ak": k.MarketplaceAK, "marketplace-sk": k.MarketplaceSK}
}

// WriteFiles writes each key to dir/<access-key|marketplace-ak|marketplace-sk>, readable by the
// owner only, for the local bridge's --*-file flags.
func (k Keys) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for name, v := range k.files() {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// ReadKeys reads the files WriteFiles wrote.
func ReadKeys(dir string) (Keys, error) {
	read := func(name string) (string, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		return strings.TrimSpace(string(b)), err
	}
	var k Keys
	var errs [3]error
	k.AccessKey, errs[0] = read("access-key")
	k.MarketplaceAK, errs[1] = read("marketplace-ak")
	k.MarketplaceSK, errs[2] = read("marketplace-sk")
	return k, errors.Join(errs[:]...)
}

// Plan is one item of the chart's plans value.
type Plan struct {
	Name string                          `json:"name"`
	Spec tenantryv1alpha1.TenantPlanSpec `json:"spec"`
}

// Values are the chart values a local installation sets.
type Values struct {
	// ManagerReplicas and BridgeReplicas are the chart's Deployments. Locally the operator and
	// the bridge run as processes, so Pods of the chart only matter to prove they are admitted.
	ManagerReplicas, BridgeReplicas int
	Plans                           []Plan
	// Metering is the chart's manager.metering (url, period, syncInterval...); nil leaves the
	// chart's defaults (usage accounted, not pushed).
	Metering map[string]any
}

// JSON renders the values file (YAML is a superset of JSON).
func (v Values) JSON() ([]byte, error) {
	manager := map[string]any{"replicas": v.ManagerReplicas}
	if v.Metering != nil {
		manager["metering"] = v.Metering
	}
	return json.MarshalIndent(map[string]any{
		"manager": manager,
		"bridge": map[string]any{
			"replicas": v.BridgeReplicas,
			"keys":     map[string]any{"existingSecret": KeysSecret},
		},
		"plans": v.Plans,
	}, "", "  ")
}

// Prepare creates the release namespace with labels (for example a Pod Security level) and the
// keys Secret the chart is given, before the chart is installed.
func Prepare(ctx context.Context, cs kubernetes.Interface, labels map[string]string, keys Keys) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace, Labels: labels}}
	switch _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); {
	case apierrors.IsAlreadyExists(err):
		existing, err := cs.CoreV1().Namespaces().Get(ctx, Namespace, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("reading namespace %q: %w", Namespace, err)
		}
		if existing.Labels == nil {
			existing.Labels = map[string]string{}
		}
		for k, v := range labels {
			existing.Labels[k] = v
		}
		if _, err := cs.CoreV1().Namespaces().Update(ctx, existing, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("labelling namespace %q: %w", Namespace, err)
		}
	case err != nil:
		return fmt.Errorf("creating namespace %q: %w", Namespace, err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: KeysSecret, Namespace: Namespace},
		StringData: keys.files(),
	}
	_, err := cs.CoreV1().Secrets(Namespace).Create(ctx, secret, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = cs.CoreV1().Secrets(Namespace).Update(ctx, secret, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("writing Secret %q: %w", KeysSecret, err)
	}
	return nil
}

// InstallChart installs (or upgrades) the chart into the cluster with values, keeping Helm's
// own state in stateDir rather than in the user's home. It prints the helm command to progress.
func InstallChart(ctx context.Context, helm string, c *Cluster, v Values, stateDir string, progress io.Writer) error {
	data, err := v.JSON()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return err
	}
	valuesFile := filepath.Join(stateDir, "values.yaml")
	if err := os.WriteFile(valuesFile, data, 0o600); err != nil {
		return err
	}
	args := []string{"upgrade", "--install", Release, ChartDir(), "--namespace", Namespace, "--create-namespace",
		"--values", valuesFile, "--kubeconfig", c.Kubeconfig, "--timeout", "2m"}
	cmd := exec.CommandContext(ctx, helm, args...)
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+c.Kubeconfig,
		"HELM_CACHE_HOME="+filepath.Join(stateDir, "helm", "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(stateDir, "helm", "config"),
		"HELM_DATA_HOME="+filepath.Join(stateDir, "helm", "data"),
	)
	cmd.Stdout, cmd.Stderr = progress, progress
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("installing the chart %q: %w", ChartDir(), err)
	}
	return nil
}

// ChartManagerArgs reads the arguments the installed chart gives the operator's container and
// returns those starting with prefix (e.g. "--metering-"), so that a local operator process runs
// with what the chart's values configured. A "--*-file=" argument naming a file of the mounted
// keys Secret is pointed at the file of the same name in keysDir (Keys.WriteFiles).
func ChartManagerArgs(ctx context.Context, cs kubernetes.Interface, prefix, keysDir string) ([]string, error) {
	d, err := cs.AppsV1().Deployments(Namespace).Get(ctx, Release+"-manager", metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading the chart's operator Deployment: %w", err)
	}
	var out []string
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name != "manager" {
			continue
		}
		for _, a := range c.Args {
			if !strings.HasPrefix(a, prefix) {
				continue
			}
			if name, value, ok := strings.Cut(a, "="); ok && strings.HasSuffix(name, "-file") {
				a = name + "=" + filepath.Join(keysDir, filepath.Base(value))
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// ServiceAccountToken asks the API server for a token of a ServiceAccount (what
// `kubectl create token` does).
func ServiceAccountToken(ctx context.Context, cs kubernetes.Interface, namespace, name string, ttl time.Duration) (string, error) {
	secs := int64(ttl.Seconds())
	tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs}}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("requesting a token for ServiceAccount %s/%s: %w", namespace, name, err)
	}
	return tr.Status.Token, nil
}

// TokenConfig is the client configuration of the cluster with a bearer token instead of the
// administrator's certificate.
func TokenConfig(admin *rest.Config, token string) *rest.Config {
	cfg := rest.AnonymousClientConfig(admin)
	cfg.BearerToken = token
	return cfg
}

// WriteKubeconfig writes a kubeconfig file for cfg (server, CA, bearer token) as user.
func WriteKubeconfig(cfg *rest.Config, user, path string) error {
	ca := cfg.CAData
	if len(ca) == 0 && cfg.CAFile != "" {
		var err error
		if ca, err = os.ReadFile(cfg.CAFile); err != nil {
			return fmt.Errorf("reading the cluster CA: %w", err)
		}
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: ca}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts[user] = &clientcmdapi.Context{Cluster: "local", AuthInfo: user}
	kc.CurrentContext = user
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("writing kubeconfig %q: %w", path, err)
	}
	return os.Chmod(path, 0o600)
}

// ServiceAccountKubeconfig authenticates as a ServiceAccount as a Pod running under it would: it
// requests a token valid for ttl, writes a kubeconfig with it to path (user sa) and returns the
// client configuration (admin's server and CA, the token).
func ServiceAccountKubeconfig(ctx context.Context, cs kubernetes.Interface, admin *rest.Config, namespace, sa string, ttl time.Duration, path string) (*rest.Config, error) {
	token, err := ServiceAccountToken(ctx, cs, namespace, sa, ttl)
	if err != nil {
		return nil, err
	}
	cfg := TokenConfig(admin, token)
	if err := WriteKubeconfig(cfg, sa, path); err != nil {
		return nil, err
	}
	return cfg, nil
}

// ComponentOptions says how to run the operator and the bridge locally.
type ComponentOptions struct {
	// BinDir holds the manager and webhookbridge binaries.
	BinDir string
	// ManagerKubeconfig and BridgeKubeconfig authenticate as the chart's ServiceAccounts.
	ManagerKubeconfig, BridgeKubeconfig string
	// KeysDir holds the files Keys.WriteFiles writes.
	KeysDir string
	// OrderAPIURL is the (simulated) marketplace Order Query API.
	OrderAPIURL string
	// LogDir receives manager.log and webhookbridge.log.
	LogDir string
	// Detach lets the processes outlive this program.
	Detach bool
	// ManagerArgs and BridgeArgs are added to each command line.
	ManagerArgs, BridgeArgs []string
}

// Components are the running operator and bridge.
type Components struct {
	Manager, Bridge *Process
	// BridgeURL is the production URL to send marketplace calls to.
	BridgeURL string
	// ManagerProbes and BridgeProbes serve /healthz and /readyz (and the bridge's /metrics).
	ManagerProbes, BridgeProbes string
	// ManagerMetrics serves the operator's /metrics.
	ManagerMetrics string
}

// Env is this program's environment for a process it starts: KUBECONFIG replaced by kubeconfig
// (removed when kubeconfig is empty), then the extra variables.
func Env(kubeconfig string, extra ...string) []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "KUBECONFIG=") {
			env = append(env, e)
		}
	}
	if kubeconfig != "" {
		env = append(env, "KUBECONFIG="+kubeconfig)
	}
	return append(env, extra...)
}

// StartComponents runs the operator (with leader election in the release namespace, as in the
// chart) and the bridge on free loopback ports, and waits until both are ready.
func StartComponents(ctx context.Context, o ComponentOptions) (*Components, error) {
	addrs, err := FreeAddrs(5)
	if err != nil {
		return nil, err
	}
	c := &Components{ManagerProbes: "http://" + addrs[1], BridgeURL: "http://" + addrs[2] + BridgePath, BridgeProbes: "http://" + addrs[4],
		ManagerMetrics: "http://" + addrs[0]}
	c.Manager, err = StartProcess(ManagerProcessOptions(o, addrs[0], addrs[1]))
	if err != nil {
		return nil, err
	}
	c.Bridge, err = StartProcess(BridgeProcessOptions(o, addrs[2], addrs[3], addrs[4]))
	if err != nil {
		_ = c.Manager.Stop(5 * time.Second)
		return nil, err
	}
	if err := errors.Join(
		WaitHTTP(ctx, c.ManagerProbes+"/readyz", c.Manager, time.Minute),
		WaitHTTP(ctx, c.BridgeProbes+"/readyz", c.Bridge, time.Minute),
	); err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

// ManagerProcessOptions is how StartComponents runs the operator: under o.ManagerKubeconfig, with
// leader election in the release namespace (as in the chart), metrics and probes on the given
// addresses, and o.ManagerArgs last.
func ManagerProcessOptions(o ComponentOptions, metricsAddr, probeAddr string) ProcessOptions {
	return ProcessOptions{
		Name: "the operator (manager)", Path: filepath.Join(o.BinDir, "manager"), LogPath: filepath.Join(o.LogDir, "manager.log"),
		Env: Env(o.ManagerKubeconfig), Detach: o.Detach,
		Args: append([]string{
			"--leader-elect", "--leader-election-namespace=" + Namespace,
			"--metrics-bind-address=" + metricsAddr, "--health-probe-bind-address=" + probeAddr,
			"--suspended-page-host=" + SuspendedPageHost,
		}, o.ManagerArgs...),
	}
}

// BridgeProcessOptions is how StartComponents runs the bridge: under o.BridgeKubeconfig, serving
// the production interface at BridgePath on bindAddr, the suspended page on pagesAddr and metrics
// and probes on metricsAddr, with replay claims in the release namespace, the keys of o.KeysDir
// and o.BridgeArgs last.
func BridgeProcessOptions(o ComponentOptions, bindAddr, pagesAddr, metricsAddr string) ProcessOptions {
	return ProcessOptions{
		Name: "the webhook bridge", Path: filepath.Join(o.BinDir, "webhookbridge"), LogPath: filepath.Join(o.LogDir, "webhookbridge.log"),
		Env: Env(o.BridgeKubeconfig), Detach: o.Detach,
		Args: append([]string{
			"--bind-address=" + bindAddr, "--suspended-page-bind-address=" + pagesAddr, "--metrics-bind-address=" + metricsAddr,
			"--path=" + BridgePath, "--order-api-url=" + o.OrderAPIURL,
			// As the chart does: replicas share their claims on secret-disclosing calls here.
			"--replay-claims-namespace=" + Namespace,
			"--access-key-file=" + filepath.Join(o.KeysDir, "access-key"),
			"--marketplace-ak-file=" + filepath.Join(o.KeysDir, "marketplace-ak"),
			"--marketplace-sk-file=" + filepath.Join(o.KeysDir, "marketplace-sk"),
		}, o.BridgeArgs...),
	}
}

// Stop shuts both down; the operator releases its leader-election Lease on the way.
func (c *Components) Stop() error {
	return errors.Join(c.Bridge.Stop(25*time.Second), c.Manager.Stop(15*time.Second))
}
