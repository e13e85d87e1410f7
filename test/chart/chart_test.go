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

// Package chart tests the Helm chart charts/tenantry by rendering it with the pinned helm binary
// (hack/tools.sh helm): lint, names other tooling relies on, RBAC equal to what the kubebuilder
// markers generate, restricted Pod security, the values schema, NOTES, and monitoring that only
// queries metrics the binaries export. No cluster is needed.
package chart

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

const (
	release   = "tenantry"
	namespace = "tenantry-system"
)

var (
	// root is the repository root; every path below is relative to it.
	root = func() string {
		wd, err := os.Getwd()
		if err != nil {
			panic(err)
		}
		return filepath.Clean(filepath.Join(wd, "..", ".."))
	}()
	chartDir = filepath.Join(root, "charts", "tenantry")
	// requiredKeys are the least values an installation gives: throwaway keys.
	requiredKeys = filepath.Join(chartDir, "ci", "test-values.yaml")
	// everything switches every optional part on.
	everything = filepath.Join(chartDir, "ci", "full-values.yaml")

	// helmHome keeps helm's cache and configuration out of the user's home.
	helmHome string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tenantry-chart-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	helmHome = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// helmBinary provides the pinned helm once per test binary (built into bin/ the first time).
var helmBinary = sync.OnceValues(func() (string, error) {
	cmd := exec.Command("bash", "-c", "set -o pipefail; hack/tools.sh helm | tail -1")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/tools.sh helm: %w\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
})

// helm runs the pinned helm from the repository root and returns its standard output; the error
// carries standard error, where helm explains what it refused.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := helmBinary()
	if err != nil {
		t.Fatalf("providing helm: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(helmHome, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(helmHome, "config"),
		"HELM_DATA_HOME="+filepath.Join(helmHome, "data"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s%s", strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	return stdout.String(), nil
}

// template renders chart as release "tenantry" in tenantry-system with the given extra arguments.
func template(t *testing.T, chart string, args ...string) (string, error) {
	t.Helper()
	return helm(t, append([]string{"template", release, chart, "--namespace", namespace}, args...)...)
}

// render renders the repository's chart and fails the test if helm refuses.
func render(t *testing.T, args ...string) manifest {
	t.Helper()
	out, err := template(t, chartDir, args...)
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	return parse(t, out)
}

// values writes v as a values file in the test's temporary directory and returns "-f <file>".
func values(t *testing.T, v map[string]any) []string {
	t.Helper()
	data, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	// Not under t.TempDir(): helm splits -f on commas, which test names contain.
	f, err := os.CreateTemp(helmHome, "values-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(f.Name()) })
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return []string{"-f", f.Name()}
}

// object is one rendered Kubernetes object, kept as JSON.
type object struct {
	Kind, Name, Namespace string
	Labels                map[string]string
	JSON                  []byte
}

type manifest []object

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

func parse(t *testing.T, out string) manifest {
	t.Helper()
	var m manifest
	for _, doc := range docSeparator.Split(out, -1) {
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, doc)
		}
		if s := strings.TrimSpace(string(j)); s == "null" || s == "" {
			continue
		}
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string            `json:"name"`
				Namespace string            `json:"namespace"`
				Labels    map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(j, &head); err != nil {
			t.Fatalf("rendered object: %v\n%s", err, doc)
		}
		m = append(m, object{Kind: head.Kind, Name: head.Metadata.Name, Namespace: head.Metadata.Namespace,
			Labels: head.Metadata.Labels, JSON: j})
	}
	return m
}

func (m manifest) ofKind(kind string) manifest {
	var out manifest
	for _, o := range m {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

func (m manifest) find(kind, name string) (object, bool) {
	for _, o := range m {
		if o.Kind == kind && o.Name == name {
			return o, true
		}
	}
	return object{}, false
}

func (m manifest) get(t *testing.T, kind, name string) object {
	t.Helper()
	o, ok := m.find(kind, name)
	if !ok {
		t.Fatalf("no %s %q rendered; have %v", kind, name, m.names())
	}
	return o
}

func (m manifest) names() []string {
	var out []string
	for _, o := range m {
		out = append(out, o.Kind+"/"+o.Name)
	}
	sort.Strings(out)
	return out
}

// decode decodes o strictly into T: a field the Kubernetes type does not have is a template bug.
func decode[T any](t *testing.T, o object) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(o.JSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s %q does not decode strictly into %T: %v", o.Kind, o.Name, v, err)
	}
	return v
}

func asMap(t *testing.T, o object) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(o.JSON, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// readFile reads a repository file.
func readFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sourceString finds the first submatch of re in a repository source file.
func sourceString(t *testing.T, rel string, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindSubmatch(readFile(t, rel))
	if m == nil {
		t.Fatalf("%s: no match for %s", rel, re)
	}
	return string(m[1])
}

func container(t *testing.T, d appsv1.Deployment, name string) corev1.Container {
	t.Helper()
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("Deployment %q has no container %q", d.Name, name)
	return corev1.Container{}
}

// flagValue returns the value of --name=value in args.
func flagValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

func TestLint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"required keys only", []string{"-f", requiredKeys}},
		{"every optional part", []string{"-f", everything}},
		{"existing keys Secret", []string{"--set", "bridge.keys.existingSecret=tenantry-keys"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := helm(t, append([]string{"lint", "--strict", chartDir}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "0 chart(s) failed") {
				t.Errorf("helm lint did not pass:\n%s", out)
			}
		})
	}
}

// TestDefaults checks the objects a default installation creates and the names the local
// end-to-end tests and `make demo` rely on.
func TestDefaults(t *testing.T) {
	t.Parallel()
	m := render(t, "-f", requiredKeys)

	want := []string{
		"ClusterRole/tenantry-manager", "ClusterRole/tenantry-webhookbridge",
		"ClusterRoleBinding/tenantry-manager", "ClusterRoleBinding/tenantry-webhookbridge",
		"Deployment/tenantry-manager", "Deployment/tenantry-webhookbridge",
		"NetworkPolicy/tenantry-manager", "NetworkPolicy/tenantry-webhookbridge",
		"PodDisruptionBudget/tenantry-webhookbridge",
		"Role/tenantry-leader-election", "Role/tenantry-webhookbridge",
		"RoleBinding/tenantry-leader-election", "RoleBinding/tenantry-webhookbridge",
		"Secret/tenantry-webhookbridge-keys",
		"Service/tenantry-manager-metrics", "Service/tenantry-webhookbridge",
		"Service/tenantry-webhookbridge-metrics", "Service/tenantry-webhookbridge-pages",
		"ServiceAccount/tenantry-manager", "ServiceAccount/tenantry-webhookbridge",
		"ValidatingAdmissionPolicy/tenantry-manager-tenant-namespaces", "ValidatingAdmissionPolicy/tenantry-webhookbridge-instance-names",
		"ValidatingAdmissionPolicyBinding/tenantry-manager-tenant-namespaces", "ValidatingAdmissionPolicyBinding/tenantry-webhookbridge-instance-names",
	}
	if diff := cmp.Diff(want, m.names()); diff != "" {
		t.Errorf("rendered objects (-want +got):\n%s", diff)
	}
	for _, o := range m {
		clusterScoped := o.Kind == "ClusterRole" || o.Kind == "ClusterRoleBinding" || o.Kind == "TenantPlan" ||
			o.Kind == "ValidatingAdmissionPolicy" || o.Kind == "ValidatingAdmissionPolicyBinding"
		if !clusterScoped && o.Namespace != namespace {
			t.Errorf("%s %q is in namespace %q, want %q", o.Kind, o.Name, o.Namespace, namespace)
		}
		if o.Labels["app.kubernetes.io/instance"] != release || o.Labels["app.kubernetes.io/managed-by"] != "Helm" {
			t.Errorf("%s %q lacks the standard labels: %v", o.Kind, o.Name, o.Labels)
		}
	}

	appVersion := sourceString(t, "charts/tenantry/Chart.yaml", `(?m)^appVersion:\s*"?([^"\s]+)"?`)
	manager := decode[appsv1.Deployment](t, m.get(t, "Deployment", "tenantry-manager"))
	bridge := decode[appsv1.Deployment](t, m.get(t, "Deployment", "tenantry-webhookbridge"))
	for _, tc := range []struct {
		d         appsv1.Deployment
		container string
		command   string
		sa        string
		replicas  int32
		extraEnv  []corev1.EnvVar
	}{
		// The operator's heap is mostly caches: it is collected after growing a quarter.
		{manager, "manager", "/manager", "tenantry-manager", 1, []corev1.EnvVar{{Name: "GOGC", Value: "25"}}},
		{bridge, "webhookbridge", "/webhookbridge", "tenantry-webhookbridge", 2, nil},
	} {
		c := container(t, tc.d, tc.container)
		if diff := cmp.Diff([]string{tc.command}, c.Command); diff != "" {
			t.Errorf("%s command (-want +got):\n%s", tc.d.Name, diff)
		}
		if want := "tenantry:" + appVersion; c.Image != want {
			t.Errorf("%s image = %q, want %q (tag defaults to the appVersion)", tc.d.Name, c.Image, want)
		}
		if got := tc.d.Spec.Template.Spec.ServiceAccountName; got != tc.sa {
			t.Errorf("%s serviceAccountName = %q, want %q", tc.d.Name, got, tc.sa)
		}
		if tc.d.Spec.Replicas == nil || *tc.d.Spec.Replicas != tc.replicas {
			t.Errorf("%s replicas = %v, want %d", tc.d.Name, tc.d.Spec.Replicas, tc.replicas)
		}
		// The Go runtime's soft memory limit is the container's memory limit.
		wantEnv := append([]corev1.EnvVar{{Name: "GOMEMLIMIT", ValueFrom: &corev1.EnvVarSource{
			ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: tc.container, Resource: "limits.memory"},
		}}}, tc.extraEnv...)
		if diff := cmp.Diff(wantEnv, c.Env); diff != "" {
			t.Errorf("%s env (-want +got):\n%s", tc.d.Name, diff)
		}
		if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
			t.Errorf("%s has no memory limit for GOMEMLIMIT to follow", tc.d.Name)
		}
		for k, v := range tc.d.Spec.Selector.MatchLabels {
			if tc.d.Spec.Template.Labels[k] != v {
				t.Errorf("%s selector %s=%s does not match its Pod template", tc.d.Name, k, v)
			}
		}
	}

	managerArgs := container(t, manager, "manager").Args
	for _, want := range []string{
		"--leader-elect=true",
		"--leader-election-namespace=" + namespace,
		"--suspended-page-host=tenantry-webhookbridge-pages." + namespace + ".svc.cluster.local",
		"--suspended-page-port=8082",
	} {
		if !slices.Contains(managerArgs, want) {
			t.Errorf("operator args %q lack %q", managerArgs, want)
		}
	}
	bridgeArgs := container(t, bridge, "webhookbridge").Args
	for _, want := range []string{
		"--path=" + sourceString(t, "webhookbridge/server.go", `DefaultPath\s*=\s*"([^"]+)"`),
		"--order-api-url=" + sourceString(t, "webhookbridge/orderquery/client.go", `DefaultEndpoint\s*=\s*"([^"]+)"`),
		"--max-basic-body-bytes=65536", // DefaultMaxBasicBodyBytes, 64 << 10
		"--max-body-bytes=1048576",     // DefaultMaxBodyBytes, 1 << 20
		"--max-concurrent-reads=64",    // DefaultMaxConcurrentReads
	} {
		if !slices.Contains(bridgeArgs, want) {
			t.Errorf("bridge args %q lack %q (the binary's default)", bridgeArgs, want)
		}
	}
	// Replicas share replay claims in the release namespace, where the bridge's Role lets it
	// keep Leases (docs/protocol.md §2.1).
	if want := "--replay-claims-namespace=" + namespace; !slices.Contains(bridgeArgs, want) {
		t.Errorf("bridge args %q lack %q", bridgeArgs, want)
	}

	// Services: name, port, and the container port their named targetPort resolves to.
	for _, tc := range []struct {
		service       string
		deployment    appsv1.Deployment
		port          int32
		containerPort int32
	}{
		{"tenantry-webhookbridge", bridge, 80, 8080},
		{"tenantry-webhookbridge-pages", bridge, 8082, 8082},
		{"tenantry-webhookbridge-metrics", bridge, 8081, 8081},
		{"tenantry-manager-metrics", manager, 8080, 8080},
	} {
		svc := decode[corev1.Service](t, m.get(t, "Service", tc.service))
		if len(svc.Spec.Ports) != 1 {
			t.Fatalf("Service %q has ports %v, want one", tc.service, svc.Spec.Ports)
		}
		p := svc.Spec.Ports[0]
		if p.Port != tc.port {
			t.Errorf("Service %q port = %d, want %d", tc.service, p.Port, tc.port)
		}
		if got := resolvePort(t, tc.deployment, p.TargetPort); got != tc.containerPort {
			t.Errorf("Service %q targets container port %d, want %d", tc.service, got, tc.containerPort)
		}
		for k, v := range svc.Spec.Selector {
			if tc.deployment.Spec.Template.Labels[k] != v {
				t.Errorf("Service %q selector %s=%s does not select Deployment %q", tc.service, k, v, tc.deployment.Name)
			}
		}
	}

	for _, kind := range []string{"ServiceMonitor", "PrometheusRule", "Ingress", "TenantPlan", "ConfigMap"} {
		if got := m.ofKind(kind); len(got) != 0 {
			t.Errorf("%s rendered by default: %v", kind, got.names())
		}
	}
}

// resolvePort returns the container port a Service or NetworkPolicy port refers to.
func resolvePort(t *testing.T, d appsv1.Deployment, p intstr.IntOrString) int32 {
	t.Helper()
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == p.StrVal {
				return cp.ContainerPort
			}
		}
	}
	t.Errorf("Deployment %q has no container port named %q", d.Name, p.StrVal)
	return 0
}

func TestNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		release  string
		args     []string
		fullname string
	}{
		{"release named after the chart", "tenantry", nil, "tenantry"},
		{"release containing the chart name", "tenantry-prod", nil, "tenantry-prod"},
		{"other release", "acme", nil, "acme-tenantry"},
		{"fullnameOverride", "acme", []string{"--set", "fullnameOverride=saas"}, "saas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"template", tc.release, chartDir, "--namespace", namespace, "-f", requiredKeys}, tc.args...)
			out, err := helm(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			m := parse(t, out)
			for _, want := range []struct{ kind, name string }{
				{"ServiceAccount", tc.fullname + "-manager"},
				{"ServiceAccount", tc.fullname + "-webhookbridge"},
				{"Secret", tc.fullname + "-webhookbridge-keys"},
				{"Service", tc.fullname + "-webhookbridge"},
				{"Service", tc.fullname + "-webhookbridge-pages"},
				{"Deployment", tc.fullname + "-manager"},
				{"Deployment", tc.fullname + "-webhookbridge"},
				{"Role", tc.fullname + "-leader-election"},
			} {
				if _, ok := m.find(want.kind, want.name); !ok {
					t.Errorf("no %s %q; have %v", want.kind, want.name, m.names())
				}
			}
			d := decode[appsv1.Deployment](t, m.get(t, "Deployment", tc.fullname+"-manager"))
			host, _ := flagValue(container(t, d, "manager").Args, "suspended-page-host")
			if want := tc.fullname + "-webhookbridge-pages." + namespace + ".svc.cluster.local"; host != want {
				t.Errorf("--suspended-page-host = %q, want %q", host, want)
			}
		})
	}
}

// roleFile reads a Role or ClusterRole generated (or kept) in config/rbac.
func roleFile(t *testing.T, rel, kind string) []rbacv1.PolicyRule {
	t.Helper()
	// controller-gen writes a ClusterRole and, for namespaced markers, Roles after it.
	for _, doc := range strings.Split(string(readFile(t, rel)), "\n---\n") {
		var r rbacv1.ClusterRole // a Role has the same rules field
		if err := yaml.UnmarshalStrict([]byte(doc), &r); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if r.Kind != kind {
			continue
		}
		if len(r.Rules) == 0 {
			t.Fatalf("%s: its %s has no rules", rel, kind)
		}
		return r.Rules
	}
	t.Fatalf("%s has no %s", rel, kind)
	return nil
}

// TestRBACFromMarkers proves the chart grants exactly what the kubebuilder markers generate into
// config/rbac (and the hand-kept leader-election Role), bound to the chart's ServiceAccounts.
func TestRBACFromMarkers(t *testing.T) {
	t.Parallel()
	m := render(t, "-f", requiredKeys)
	for _, tc := range []struct {
		kind, name, config string
		binding, sa        string
	}{
		{"ClusterRole", "tenantry-manager", "config/rbac/role.yaml", "ClusterRoleBinding", "tenantry-manager"},
		{"ClusterRole", "tenantry-webhookbridge", "config/rbac/bridge_role.yaml", "ClusterRoleBinding", "tenantry-webhookbridge"},
		{"Role", "tenantry-leader-election", "config/rbac/leader_election_role.yaml", "RoleBinding", "tenantry-manager"},
		{"Role", "tenantry-webhookbridge", "config/rbac/bridge_role.yaml", "RoleBinding", "tenantry-webhookbridge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []rbacv1.PolicyRule
			if tc.kind == "Role" {
				r := decode[rbacv1.Role](t, m.get(t, tc.kind, tc.name))
				if r.Namespace != namespace {
					t.Errorf("Role %q in namespace %q, want the release namespace", r.Name, r.Namespace)
				}
				got = r.Rules
			} else {
				got = decode[rbacv1.ClusterRole](t, m.get(t, tc.kind, tc.name)).Rules
			}
			if diff := cmp.Diff(roleFile(t, tc.config, tc.kind), got); diff != "" {
				t.Errorf("%s %q rules differ from %s (-config +chart); run `make manifests`:\n%s", tc.kind, tc.name, tc.config, diff)
			}
			o := m.get(t, tc.binding, tc.name)
			var ref rbacv1.RoleRef
			var subjects []rbacv1.Subject
			if tc.binding == "RoleBinding" {
				b := decode[rbacv1.RoleBinding](t, o)
				ref, subjects = b.RoleRef, b.Subjects
			} else {
				b := decode[rbacv1.ClusterRoleBinding](t, o)
				ref, subjects = b.RoleRef, b.Subjects
			}
			if ref.Kind != tc.kind || ref.Name != tc.name {
				t.Errorf("%s %q refers to %s %q", tc.binding, tc.name, ref.Kind, ref.Name)
			}
			want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: tc.sa, Namespace: namespace}}
			if diff := cmp.Diff(want, subjects); diff != "" {
				t.Errorf("%s %q subjects (-want +got):\n%s", tc.binding, tc.name, diff)
			}
		})
	}
}

// TestRBACLeastPrivilege checks every rendered rule for wildcards, and that the bridge reaches
// only tenantry.io objects, events, and by name the tenant-admin Secret and tenant-quota quota.
func TestRBACLeastPrivilege(t *testing.T) {
	t.Parallel()
	m := render(t, "-f", everything)
	roles := append(m.ofKind("ClusterRole"), m.ofKind("Role")...)
	if len(roles) != 4 {
		t.Fatalf("want 4 roles, got %v", roles.names())
	}
	for _, o := range roles {
		for i, r := range decode[rbacv1.ClusterRole](t, o).Rules {
			for field, vals := range map[string][]string{"apiGroups": r.APIGroups, "resources": r.Resources,
				"verbs": r.Verbs, "resourceNames": r.ResourceNames, "nonResourceURLs": r.NonResourceURLs} {
				for _, v := range vals {
					if strings.Contains(v, "*") {
						t.Errorf("%s %q rule %d: wildcard %q in %s", o.Kind, o.Name, i, v, field)
					}
				}
			}
		}
	}

	// In its own namespace the bridge reaches Leases only: its replay claims (docs/protocol.md §2.1).
	want := []rbacv1.PolicyRule{{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"},
		Verbs: []string{"create", "delete", "get", "list"}}}
	if diff := cmp.Diff(want, decode[rbacv1.Role](t, m.get(t, "Role", "tenantry-webhookbridge")).Rules); diff != "" {
		t.Errorf("bridge Role rules (-want +got):\n%s", diff)
	}

	named := map[string][]string{"secrets": {"tenant-admin"}, "resourcequotas": {"tenant-quota"}}
	for i, r := range decode[rbacv1.ClusterRole](t, m.get(t, "ClusterRole", "tenantry-webhookbridge")).Rules {
		for _, g := range r.APIGroups {
			switch g {
			case "tenantry.io":
				for _, res := range r.Resources {
					if strings.Contains(res, "/") {
						t.Errorf("bridge rule %d grants subresource %q: the bridge writes specs only", i, res)
					}
				}
			case "events.k8s.io":
			case "":
				if diff := cmp.Diff([]string{"get"}, r.Verbs); diff != "" {
					t.Errorf("bridge rule %d on core resources %v: verbs (-want +got):\n%s", i, r.Resources, diff)
				}
				for _, res := range r.Resources {
					want, ok := named[res]
					if !ok {
						t.Errorf("bridge rule %d grants core resource %q", i, res)
						continue
					}
					if diff := cmp.Diff(want, r.ResourceNames); diff != "" {
						t.Errorf("bridge rule %d on %q must be by name (-want +got):\n%s", i, res, diff)
					}
				}
			default:
				t.Errorf("bridge rule %d grants API group %q", i, g)
			}
		}
	}
}

// restrictedViolations lists how a Pod falls short of the restricted Pod Security Standard plus
// the chart's own bar: read-only root filesystem, requests, a memory limit, probes and a command.
func restrictedViolations(spec corev1.PodSpec) []string {
	var v []string
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		v = append(v, "uses a host namespace")
	}
	for _, vol := range spec.Volumes {
		if vol.HostPath != nil {
			v = append(v, fmt.Sprintf("volume %q is a hostPath", vol.Name))
		}
	}
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		sc := c.SecurityContext
		if sc == nil {
			v = append(v, c.Name+": no securityContext")
			continue
		}
		nonRoot := psc.RunAsNonRoot
		if sc.RunAsNonRoot != nil {
			nonRoot = sc.RunAsNonRoot
		}
		if nonRoot == nil || !*nonRoot {
			v = append(v, c.Name+": runAsNonRoot is not true")
		}
		user := psc.RunAsUser
		if sc.RunAsUser != nil {
			user = sc.RunAsUser
		}
		if user == nil || *user != 65532 {
			v = append(v, c.Name+": runAsUser is not 65532")
		}
		seccomp := psc.SeccompProfile
		if sc.SeccompProfile != nil {
			seccomp = sc.SeccompProfile
		}
		if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
			v = append(v, c.Name+": seccompProfile is not RuntimeDefault")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			v = append(v, c.Name+": allowPrivilegeEscalation is not false")
		}
		if sc.Privileged != nil && *sc.Privileged {
			v = append(v, c.Name+": privileged")
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			v = append(v, c.Name+": capabilities do not drop ALL")
		} else if len(sc.Capabilities.Add) > 0 {
			v = append(v, fmt.Sprintf("%s: adds capabilities %v", c.Name, sc.Capabilities.Add))
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			v = append(v, c.Name+": root filesystem is writable")
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
			v = append(v, c.Name+": no cpu and memory requests")
		}
		if c.Resources.Limits.Memory().IsZero() {
			v = append(v, c.Name+": no memory limit")
		}
		if c.LivenessProbe == nil || c.ReadinessProbe == nil {
			v = append(v, c.Name+": no liveness or readiness probe")
		}
		if len(c.Command) == 0 {
			v = append(v, c.Name+": no command")
		}
	}
	return v
}

func TestRestrictedPods(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"required keys", []string{"-f", requiredKeys}},
		{"every optional part", []string{"-f", everything}},
		{"existing Secret with optional keys", []string{"--set", "bridge.keys.existingSecret=k",
			"--set", "bridge.keys.existingSecretHasKitAccessKey=true", "--set", "bridge.keys.existingSecretHasMerchantPrivateKey=true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			deployments := render(t, tc.args...).ofKind("Deployment")
			if len(deployments) != 2 {
				t.Fatalf("want 2 Deployments, got %v", deployments.names())
			}
			for _, o := range deployments {
				d := decode[appsv1.Deployment](t, o)
				for _, v := range restrictedViolations(d.Spec.Template.Spec) {
					t.Errorf("Deployment %q: %s", d.Name, v)
				}
			}
		})
	}
}

// TestRestrictedViolations proves the check above can fail.
func TestRestrictedViolations(t *testing.T) {
	t.Parallel()
	d := decode[appsv1.Deployment](t, render(t, "-f", requiredKeys).get(t, "Deployment", "tenantry-webhookbridge"))
	good := func() corev1.PodSpec { return *d.Spec.Template.Spec.DeepCopy() }
	if v := restrictedViolations(good()); len(v) != 0 {
		t.Fatalf("the chart's own Pod is refused: %v", v)
	}
	yes := true
	uid0 := int64(0)
	for _, tc := range []struct {
		name   string
		mutate func(*corev1.PodSpec)
		want   string
	}{
		{"root user", func(p *corev1.PodSpec) { p.Containers[0].SecurityContext.RunAsUser = &uid0 }, "runAsUser"},
		{"escalation", func(p *corev1.PodSpec) { p.Containers[0].SecurityContext.AllowPrivilegeEscalation = &yes }, "allowPrivilegeEscalation"},
		{"writable root", func(p *corev1.PodSpec) { p.Containers[0].SecurityContext.ReadOnlyRootFilesystem = nil }, "writable"},
		{"no seccomp", func(p *corev1.PodSpec) {
			p.SecurityContext.SeccompProfile = nil
			p.Containers[0].SecurityContext.SeccompProfile = nil
		}, "seccompProfile"},
		{"capabilities kept", func(p *corev1.PodSpec) { p.Containers[0].SecurityContext.Capabilities = nil }, "drop ALL"},
		{"no requests", func(p *corev1.PodSpec) { p.Containers[0].Resources.Requests = nil }, "requests"},
		{"no memory limit", func(p *corev1.PodSpec) { p.Containers[0].Resources.Limits = nil }, "memory limit"},
		{"host network", func(p *corev1.PodSpec) { p.HostNetwork = true }, "host namespace"},
		{"no probes", func(p *corev1.PodSpec) { p.Containers[0].ReadinessProbe = nil }, "probe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good()
			tc.mutate(&p)
			v := restrictedViolations(p)
			if !slices.ContainsFunc(v, func(s string) bool { return strings.Contains(s, tc.want) }) {
				t.Errorf("violations %q lack %q", v, tc.want)
			}
		})
	}
}

// TestSchemaRejects feeds bad values; helm must refuse them, naming what is wrong.
func TestSchemaRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"negative replicas", []string{"--set", "manager.replicas=-1"}, []string{"/manager/replicas", "-1"}},
		{"replicas as a word", []string{"--set-string", "bridge.replicas=two"}, []string{"/bridge/replicas", "want integer"}},
		{"unknown top-level key", []string{"--set", "replicaCount=3"}, []string{"replicaCount", "not allowed"}},
		{"unknown key in manager", []string{"--set", "manager.replica=3"}, []string{"/manager", "'replica'"}},
		{"unknown key in keys", []string{"--set", "bridge.keys.accesKey=x"}, []string{"/bridge/keys", "accesKey"}},
		{"ingress class not a string", []string{"--set", "bridge.ingress.className=5"}, []string{"/bridge/ingress/className", "want string"}},
		{"bad pull policy", []string{"--set", "image.pullPolicy=Sometimes"}, []string{"/image/pullPolicy", "IfNotPresent"}},
		{"bad path type", []string{"--set", "bridge.ingress.pathType=Regex"}, []string{"/bridge/ingress/pathType"}},
		{"duration without unit", []string{"--set", "manager.leaderElection.leaseDuration=15"}, []string{"/manager/leaderElection/leaseDuration"}},
		{"bad log level", []string{"--set", "bridge.logLevel=verbose"}, []string{"/bridge/logLevel", "verbose"}},
		{"enabled as a word", []string{"--set-string", "networkPolicy.enabled=yes"}, []string{"/networkPolicy/enabled", "want boolean"}},
		{"keys as a number", []string{"--set", "bridge.keys.accessKey=123"}, []string{"/bridge/keys/accessKey", "want string"}},
		{"merchant key not PEM", []string{"--set", "bridge.keys.merchantPrivateKey=secret"}, []string{"/bridge/keys/merchantPrivateKey"}},
		{"bad PDB minAvailable", []string{"--set", "bridge.podDisruptionBudget.minAvailable=half"}, []string{"/bridge/podDisruptionBudget/minAvailable", "half"}},
		{"bad port", []string{"--set", "bridge.service.port=70000"}, []string{"/bridge/service/port", "70000"}},
		{"plan without spec", []string{"--set", "plans[0].name=standard"}, []string{"/plans/0", "spec"}},
		{"plan without SKUs", []string{"--set", "plans[0].name=standard", "--set", "plans[0].spec.app.image=app:1"}, []string{"/plans/0/spec", "skus"}},
		{"ingress host with a scheme", []string{"--set", "bridge.ingress.enabled=true", "--set", "bridge.ingress.host=https://t.example.com"},
			[]string{"/bridge/ingress/host", "https://t.example.com"}},
		{"ingress without host", []string{"--set", "bridge.ingress.enabled=true"}, []string{"bridge.ingress.host is required"}},
		{"service account not created and unnamed", []string{"--set", "bridge.serviceAccount.create=false"}, []string{"bridge.serviceAccount.name is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := template(t, chartDir, append([]string{"-f", requiredKeys}, tc.args...)...)
			if err == nil {
				t.Fatalf("helm accepted %v:\n%s", tc.args, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestKeysRequired: without keys nothing renders, and the message says what to set.
func TestKeysRequired(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no keys at all", nil},
		{"access key without AK/SK", []string{"--set", "bridge.keys.accessKey=k"}},
		{"AK/SK without access key", []string{"--set", "bridge.keys.marketplaceAK=a", "--set", "bridge.keys.marketplaceSK=s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := template(t, chartDir, tc.args...)
			if err == nil {
				t.Fatal("helm rendered the chart without the bridge's keys")
			}
			for _, w := range []string{"bridge.keys.existingSecret", "bridge.keys.accessKey", "bridge.keys.marketplaceAK", "bridge.keys.marketplaceSK"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestSchemaAccepts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		args    []string
		pdb     bool
		pdbSpec policyv1.PodDisruptionBudgetSpec
	}{
		{"both stopped", []string{"--set", "manager.replicas=0", "--set", "bridge.replicas=0"}, false, policyv1.PodDisruptionBudgetSpec{}},
		{"one bridge", []string{"--set", "bridge.replicas=1"}, false, policyv1.PodDisruptionBudgetSpec{}},
		{"PDB off", []string{"--set", "bridge.podDisruptionBudget.enabled=false"}, false, policyv1.PodDisruptionBudgetSpec{}},
		{"three bridges", []string{"--set", "bridge.replicas=3"}, true, policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr(intstr.FromInt32(1))}},
		{"maxUnavailable percentage", []string{"--set", "bridge.podDisruptionBudget.maxUnavailable=50%"}, true,
			policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr(intstr.FromString("50%"))}},
		{"integer log level", []string{"--set", "manager.logLevel=2"}, true, policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr(intstr.FromInt32(1))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := render(t, append([]string{"-f", requiredKeys}, tc.args...)...)
			o, ok := m.find("PodDisruptionBudget", "tenantry-webhookbridge")
			if ok != tc.pdb {
				t.Fatalf("PodDisruptionBudget rendered = %v, want %v", ok, tc.pdb)
			}
			if !ok {
				return
			}
			got := decode[policyv1.PodDisruptionBudget](t, o).Spec
			got.Selector = nil
			if diff := cmp.Diff(tc.pdbSpec, got); diff != "" {
				t.Errorf("PodDisruptionBudget spec (-want +got):\n%s", diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestKeys maps the keys to files and the files to the binaries' --*-file flags.
func TestKeys(t *testing.T) {
	t.Parallel()
	const pem = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
	for _, tc := range []struct {
		name   string
		values map[string]any
		// secret is the created Secret's data; nil when none is created.
		secret map[string]string
		// secretName is what the Pods mount.
		secretName string
		// bridgeFiles and managerFiles map flags to the key files they must name.
		bridgeFiles, managerFiles map[string]string
	}{
		{
			name:       "created, required keys only",
			values:     map[string]any{"accessKey": "ak1", "marketplaceAK": "mak", "marketplaceSK": "msk"},
			secret:     map[string]string{"access-key": "ak1\n", "marketplace-ak": "mak", "marketplace-sk": "msk"},
			secretName: "tenantry-webhookbridge-keys",
			bridgeFiles: map[string]string{"access-key-file": "access-key", "marketplace-ak-file": "marketplace-ak",
				"marketplace-sk-file": "marketplace-sk"},
		},
		{
			name: "created, rotation, kit key and merchant key",
			values: map[string]any{"accessKey": "ak2", "previousAccessKey": "ak1", "kitAccessKey": "kit2",
				"previousKitAccessKey": "kit1", "marketplaceAK": "mak", "marketplaceSK": "msk", "merchantPrivateKey": pem},
			secret: map[string]string{"access-key": "ak2\nak1\n", "kit-access-key": "kit2\nkit1\n", "marketplace-ak": "mak",
				"marketplace-sk": "msk", "merchant-private-key.pem": pem},
			secretName: "tenantry-webhookbridge-keys",
			bridgeFiles: map[string]string{"access-key-file": "access-key", "kit-access-key-file": "kit-access-key",
				"marketplace-ak-file": "marketplace-ak", "marketplace-sk-file": "marketplace-sk",
				"merchant-private-key-file": "merchant-private-key.pem"},
			managerFiles: map[string]string{"merchant-private-key-file": "merchant-private-key.pem"},
		},
		{
			name:       "existing Secret",
			values:     map[string]any{"existingSecret": "tenantry-keys", "accessKey": "ignored"},
			secretName: "tenantry-keys",
			bridgeFiles: map[string]string{"access-key-file": "access-key", "marketplace-ak-file": "marketplace-ak",
				"marketplace-sk-file": "marketplace-sk"},
		},
		{
			name: "existing Secret with the optional keys",
			values: map[string]any{"existingSecret": "tenantry-keys", "existingSecretHasKitAccessKey": true,
				"existingSecretHasMerchantPrivateKey": true},
			secretName: "tenantry-keys",
			bridgeFiles: map[string]string{"access-key-file": "access-key", "kit-access-key-file": "kit-access-key",
				"marketplace-ak-file": "marketplace-ak", "marketplace-sk-file": "marketplace-sk",
				"merchant-private-key-file": "merchant-private-key.pem"},
			managerFiles: map[string]string{"merchant-private-key-file": "merchant-private-key.pem"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := render(t, values(t, map[string]any{"bridge": map[string]any{"keys": tc.values}})...)
			secrets := m.ofKind("Secret")
			if tc.secret == nil {
				if len(secrets) != 0 {
					t.Errorf("a Secret is created although one exists: %v", secrets.names())
				}
			} else {
				s := decode[corev1.Secret](t, m.get(t, "Secret", "tenantry-webhookbridge-keys"))
				got := map[string]string{}
				for k, v := range s.Data {
					got[k] = string(v)
				}
				if diff := cmp.Diff(tc.secret, got); diff != "" {
					t.Errorf("Secret data (-want +got):\n%s", diff)
				}
			}
			for _, d := range []struct {
				deployment, container string
				files                 map[string]string
			}{
				{"tenantry-webhookbridge", "webhookbridge", tc.bridgeFiles},
				{"tenantry-manager", "manager", tc.managerFiles},
			} {
				dep := decode[appsv1.Deployment](t, m.get(t, "Deployment", d.deployment))
				got := mountedKeyFlags(t, dep, d.container, tc.secretName)
				if diff := cmp.Diff(d.files, got, cmpEmptyMap); diff != "" {
					t.Errorf("%s: key file flags (-want +got):\n%s", d.deployment, diff)
				}
			}
		})
	}
}

var cmpEmptyMap = cmp.FilterValues(func(a, b map[string]string) bool { return len(a) == 0 && len(b) == 0 },
	cmp.Comparer(func(_, _ map[string]string) bool { return true }))

// mountedKeyFlags maps each --*-file flag of the container to the Secret key it reads, failing
// when a flag names a file that no mounted item of the keys Secret provides.
func mountedKeyFlags(t *testing.T, d appsv1.Deployment, name, secretName string) map[string]string {
	t.Helper()
	c := container(t, d, name)
	files := map[string]string{} // path in the container -> Secret key
	for _, vm := range c.VolumeMounts {
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Name != vm.Name || v.Secret == nil {
				continue
			}
			if v.Secret.SecretName != secretName {
				t.Errorf("%s mounts Secret %q, want %q", d.Name, v.Secret.SecretName, secretName)
			}
			if !vm.ReadOnly {
				t.Errorf("%s mounts the keys read-write", d.Name)
			}
			for _, it := range v.Secret.Items {
				files[filepath.Join(vm.MountPath, it.Path)] = it.Key
			}
		}
	}
	got := map[string]string{}
	for _, a := range c.Args {
		flag, path, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok || !strings.HasSuffix(flag, "-file") {
			continue
		}
		key, mounted := files[path]
		if !mounted {
			t.Errorf("%s: --%s=%s names a file no mounted key provides (have %v)", d.Name, flag, path, files)
		}
		got[flag] = key
		delete(files, path)
	}
	if len(files) != 0 {
		t.Errorf("%s mounts keys no flag reads: %v", d.Name, files)
	}
	return got
}

// TestKeysChecksum: changing a created key changes the Pod template, so the Pods restart and read it.
func TestKeysChecksum(t *testing.T) {
	t.Parallel()
	checksum := func(accessKey string) string {
		m := render(t, "-f", requiredKeys, "--set", "bridge.keys.accessKey="+accessKey)
		d := decode[appsv1.Deployment](t, m.get(t, "Deployment", "tenantry-webhookbridge"))
		return d.Spec.Template.Annotations["checksum/keys"]
	}
	a, b := checksum("one"), checksum("two")
	if a == "" || a == b {
		t.Errorf("checksum/keys = %q and %q, want two different values", a, b)
	}
}

func TestIngress(t *testing.T) {
	t.Parallel()
	pathType := func(p networkingv1.PathType) *networkingv1.PathType { return &p }
	backend := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: "tenantry-webhookbridge", Port: networkingv1.ServiceBackendPort{Name: "marketplace"}}}
	rule := func(host, path string) []networkingv1.IngressRule {
		return []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
				{Path: path, PathType: pathType(networkingv1.PathTypePrefix), Backend: backend}}}}}}
	}
	for _, tc := range []struct {
		name        string
		ingress     map[string]any
		want        *networkingv1.IngressSpec
		annotations map[string]string
	}{
		{name: "off by default", ingress: map[string]any{}},
		{
			name: "CCE ELB",
			ingress: map[string]any{"enabled": true, "className": "cce", "host": "tenantry.example.com",
				"annotations": map[string]any{"kubernetes.io/elb.class": "performance", "kubernetes.io/elb.id": "elb-1",
					"kubernetes.io/elb.port": "443"},
				"tls": map[string]any{"secretName": "marketplace-tls"}},
			want: &networkingv1.IngressSpec{IngressClassName: ptr("cce"),
				TLS:   []networkingv1.IngressTLS{{Hosts: []string{"tenantry.example.com"}, SecretName: "marketplace-tls"}},
				Rules: rule("tenantry.example.com", "/saasproduce")},
			annotations: map[string]string{"kubernetes.io/elb.class": "performance", "kubernetes.io/elb.id": "elb-1",
				"kubernetes.io/elb.port": "443"},
		},
		{
			name:    "CCE ELB certificate, no Secret",
			ingress: map[string]any{"enabled": true, "className": "cce", "host": "t.example.com"},
			want: &networkingv1.IngressSpec{IngressClassName: ptr("cce"),
				TLS: []networkingv1.IngressTLS{{Hosts: []string{"t.example.com"}}}, Rules: rule("t.example.com", "/saasproduce")},
		},
		{
			name: "nginx with its own path",
			ingress: map[string]any{"enabled": true, "className": "nginx", "host": "mkt.example.org", "path": "/kg",
				"tls": map[string]any{"secretName": "mkt-tls"}},
			want: &networkingv1.IngressSpec{IngressClassName: ptr("nginx"),
				TLS:   []networkingv1.IngressTLS{{Hosts: []string{"mkt.example.org"}, SecretName: "mkt-tls"}},
				Rules: rule("mkt.example.org", "/kg")},
		},
		{
			name:    "default class, TLS in front",
			ingress: map[string]any{"enabled": true, "host": "t.example.com", "tls": map[string]any{"enabled": false}},
			want:    &networkingv1.IngressSpec{Rules: rule("t.example.com", "/saasproduce")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"-f", requiredKeys}, values(t, map[string]any{"bridge": map[string]any{"ingress": tc.ingress}})...)
			m := render(t, args...)
			o, ok := m.find("Ingress", "tenantry-webhookbridge")
			if (tc.want != nil) != ok {
				t.Fatalf("Ingress rendered = %v, want %v", ok, tc.want != nil)
			}
			if !ok {
				return
			}
			ing := decode[networkingv1.Ingress](t, o)
			if diff := cmp.Diff(*tc.want, ing.Spec); diff != "" {
				t.Errorf("Ingress spec (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.annotations, ing.Annotations, cmpEmptyMap); diff != "" {
				t.Errorf("Ingress annotations (-want +got):\n%s", diff)
			}
		})
	}
}

// notesChart copies the chart and turns NOTES.txt into a ConfigMap, because `helm template` does
// not render NOTES and `helm install --dry-run` needs a cluster.
func notesChart(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tenantry")
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	notes, err := os.ReadFile(filepath.Join(dir, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"templates/NOTES.txt":       "",
		"templates/_notes-test.tpl": `{{- define "tenantry.test.notes" -}}` + "\n" + string(notes) + "{{- end }}\n",
		"templates/notes-test.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n" +
			`  notes: {{ include "tenantry.test.notes" . | toJson }}` + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestNotes(t *testing.T) {
	t.Parallel()
	chart := notesChart(t)
	always := []string{"kubectl get tenantinstances", "kubectl wait --for=condition=Ready ti/<name>", "kubectl get tenantplans"}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"ingress", []string{"--set", "bridge.ingress.enabled=true", "--set", "bridge.ingress.host=tenantry.example.com"},
			[]string{"https://tenantry.example.com/saasproduce\n"}},
		{"ingress with its own path", []string{"--set", "bridge.ingress.enabled=true", "--set", "bridge.ingress.host=t.example.org",
			"--set", "bridge.ingress.path=/kg"}, []string{"https://t.example.org/kg\n"}},
		{"bridge path", []string{"--set", "bridge.ingress.enabled=true", "--set", "bridge.ingress.host=t.example.org",
			"--set", "bridge.path=/produce"}, []string{"https://t.example.org/produce\n", "service/tenantry-webhookbridge"}},
		{"no ingress", nil, []string{"https://<public host>/saasproduce", "port-forward service/tenantry-webhookbridge"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := template(t, chart, append([]string{"-f", requiredKeys, "--show-only", "templates/notes-test.yaml"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			var cm corev1.ConfigMap
			if err := yaml.Unmarshal([]byte(out), &cm); err != nil {
				t.Fatal(err)
			}
			notes := cm.Data["notes"]
			for _, w := range append(tc.want, always...) {
				if !strings.Contains(notes, w) {
					t.Errorf("NOTES lack %q:\n%s", w, notes)
				}
			}
		})
	}
}

func TestMonitoringOptional(t *testing.T) {
	t.Parallel()
	isDashboard := func(o object) bool { return o.Kind == "ConfigMap" && o.Labels["grafana_dashboard"] == "1" }
	for _, tc := range []struct {
		name                string
		args                []string
		sm, rule, dashboard bool
	}{
		{"off by default", nil, false, false, false},
		{"ServiceMonitor", []string{"--set", "serviceMonitor.enabled=true"}, true, false, false},
		{"PrometheusRule", []string{"--set", "prometheusRule.enabled=true"}, false, true, false},
		{"dashboard", []string{"--set", "grafanaDashboard.enabled=true"}, false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := render(t, append([]string{"-f", requiredKeys}, tc.args...)...)
			if got := len(m.ofKind("ServiceMonitor")) == 1; got != tc.sm {
				t.Errorf("ServiceMonitor rendered = %v, want %v", got, tc.sm)
			}
			if got := len(m.ofKind("PrometheusRule")) == 1; got != tc.rule {
				t.Errorf("PrometheusRule rendered = %v, want %v", got, tc.rule)
			}
			if got := slices.ContainsFunc(m, isDashboard); got != tc.dashboard {
				t.Errorf("dashboard ConfigMap rendered = %v, want %v", got, tc.dashboard)
			}
		})
	}
}

// TestServiceMonitorSelects: the ServiceMonitor selects both metrics Services by a port they have.
func TestServiceMonitorSelects(t *testing.T) {
	t.Parallel()
	m := render(t, "-f", everything)
	sm := asMap(t, m.ofKind("ServiceMonitor")[0])
	spec := sm["spec"].(map[string]any)
	selector := spec["selector"].(map[string]any)["matchLabels"].(map[string]any)
	port := spec["endpoints"].([]any)[0].(map[string]any)["port"]
	var selected []string
	for _, o := range m.ofKind("Service") {
		match := true
		for k, v := range selector {
			if o.Labels[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		selected = append(selected, o.Name)
		svc := decode[corev1.Service](t, o)
		if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == port }) {
			t.Errorf("Service %q has no port %q", o.Name, port)
		}
	}
	if diff := cmp.Diff([]string{"tenantry-webhookbridge-metrics", "tenantry-manager-metrics"}, selected); diff != "" {
		t.Errorf("Services the ServiceMonitor selects (-want +got):\n%s", diff)
	}
}

// knownMetrics are the metric names the two binaries export, read from the source: every
// `Name: "..."` in this module's files that construct Prometheus collectors, and controller-runtime's
// reconciler, work queue and leader-election metrics.
func knownMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	nameRe := regexp.MustCompile(`Name:\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"`)
	collect := func(path string, data []byte) {
		for _, m := range nameRe.FindAllSubmatch(data, -1) {
			names[string(m[1])] = true
		}
	}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "bin", ".git", "testdata", "charts":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte("prometheus.New")) {
			collect(path, data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !names["tenantry_bridge_calls_total"] {
		t.Fatalf("tenantry_bridge_calls_total not found in the source; found %v", names)
	}

	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/controller-runtime")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("locating controller-runtime: %v", err)
	}
	cr := strings.TrimSpace(string(out))
	for _, f := range []string{"pkg/internal/controller/metrics/metrics.go", "pkg/metrics/leaderelection.go"} {
		data, err := os.ReadFile(filepath.Join(cr, f))
		if err != nil {
			t.Fatal(err)
		}
		collect(f, data)
	}
	// The work queue's names are a subsystem and a key.
	wq, err := os.ReadFile(filepath.Join(cr, "pkg/metrics/workqueue.go"))
	if err != nil {
		t.Fatal(err)
	}
	subsystem := regexp.MustCompile(`WorkQueueSubsystem\s*=\s*"(\w+)"`).FindSubmatch(wq)
	if subsystem == nil {
		t.Fatal("controller-runtime's work queue subsystem not found")
	}
	for _, m := range regexp.MustCompile(`\w+Key\s*=\s*"(\w+)"`).FindAllSubmatch(wq, -1) {
		names[string(subsystem[1])+"_"+string(m[1])] = true
	}
	for _, want := range []string{"controller_runtime_reconcile_errors_total", "workqueue_depth", "leader_election_master_status"} {
		if !names[want] {
			t.Fatalf("%s not found in controller-runtime; found %v", want, names)
		}
	}
	return names
}

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"inf": true, "nan": true, "Inf": true, "NaN": true}
	labelValues = regexp.MustCompile(`^\s*label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)`)
)

// metricNames returns the metric names a PromQL expression (or a Grafana label_values query)
// selects: identifiers outside strings, label matchers, ranges and grouping clauses that are not
// functions or keywords.
func metricNames(expr string) []string {
	if m := labelValues.FindStringSubmatch(expr); m != nil {
		return []string{m[1]}
	}
	s := promString.ReplaceAllString(expr, `""`)
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRange.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	var names []string
	for _, loc := range promIdent.FindAllStringIndex(s, -1) {
		id := s[loc[0]:loc[1]]
		if loc[0] > 0 && (s[loc[0]-1] >= '0' && s[loc[0]-1] <= '9' || s[loc[0]-1] == '.' || s[loc[0]-1] == '$') {
			continue // the exponent or unit of a number, or a variable
		}
		if rest := strings.TrimLeft(s[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue // a function or aggregation
		}
		if promKeywords[id] {
			continue
		}
		names = append(names, id)
	}
	return names
}

func TestMetricNamesExtractor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`sum by (code) (rate(tenantry_bridge_calls_total{code!="000000", x=~"a|b"}[5m]))`, []string{"tenantry_bridge_calls_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(a_seconds_bucket{namespace="$namespace"}[$__rate_interval]))) > 3`, []string{"a_seconds_bucket"}},
		{`(max(up_total{name="x"}) or vector(0)) < 1`, []string{"up_total"}},
		{`a / on (pod) group_left (node) invented_metric > 1e3`, []string{"a", "invented_metric"}},
		{`label_values(leader_election_master_status{name="x"}, namespace)`, []string{"leader_election_master_status"}},
	} {
		if diff := cmp.Diff(tc.want, metricNames(tc.expr)); diff != "" {
			t.Errorf("metricNames(%q) (-want +got):\n%s", tc.expr, diff)
		}
	}
}

// dashboardQueries returns every expression of a Grafana dashboard: panel targets (rows
// included) and query variables.
func dashboardQueries(t *testing.T, raw string) []string {
	t.Helper()
	type panel struct {
		Title   string                  `json:"title"`
		Targets []struct{ Expr string } `json:"targets"`
		Panels  []json.RawMessage       `json:"panels"`
	}
	var d struct {
		Panels     []json.RawMessage `json:"panels"`
		Templating struct {
			List []struct {
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	var exprs []string
	var walk func([]json.RawMessage)
	walk = func(ps []json.RawMessage) {
		for _, r := range ps {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatal(err)
			}
			for _, tg := range p.Targets {
				if tg.Expr == "" {
					t.Errorf("panel %q has a target without an expression", p.Title)
				}
				exprs = append(exprs, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct{ Query string }
		if err := json.Unmarshal(v.Query, &q); err != nil {
			var s string
			if err := json.Unmarshal(v.Query, &s); err != nil {
				t.Fatalf("variable query %s: %v", v.Query, err)
			}
			q.Query = s
		}
		exprs = append(exprs, q.Query)
	}
	return exprs
}

// TestMonitoringUsesExportedMetrics: alerts and dashboard query only metrics the binaries export.
func TestMonitoringUsesExportedMetrics(t *testing.T) {
	t.Parallel()
	known := knownMetrics(t)
	m := render(t, "-f", everything)

	var exprs []string
	rule := asMap(t, m.ofKind("PrometheusRule")[0])
	var alerts []string
	for _, g := range rule["spec"].(map[string]any)["groups"].([]any) {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			r := r.(map[string]any)
			alerts = append(alerts, fmt.Sprint(r["alert"]))
			exprs = append(exprs, fmt.Sprint(r["expr"]))
		}
	}
	var dashboard string
	for _, o := range m.ofKind("ConfigMap") {
		if o.Labels["grafana_dashboard"] == "1" {
			dashboard = decode[corev1.ConfigMap](t, o).Data["tenantry.json"]
		}
	}
	if dashboard == "" {
		t.Fatal("no dashboard ConfigMap with data tenantry.json")
	}
	panels := dashboardQueries(t, dashboard)
	if len(panels) < 10 {
		t.Errorf("the dashboard has %d queries, want a panel per bridge and reconciler concern", len(panels))
	}
	exprs = append(exprs, panels...)

	used := map[string]bool{}
	for _, e := range exprs {
		names := metricNames(e)
		if len(names) == 0 {
			t.Errorf("expression selects no metric: %s", e)
		}
		for _, n := range names {
			used[n] = true
			base := n
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				if b, ok := strings.CutSuffix(n, suffix); ok && known[b] {
					base = b
				}
			}
			if !known[base] {
				t.Errorf("metric %q is not exported by the operator or the bridge (in %s)", n, strings.TrimSpace(e))
			}
		}
	}
	// Label values that name the reconciler and the leader-election Lease must be the binary's.
	controller := sourceString(t, "controllers/tenantinstance_controller.go", `Named\("([^"]+)"\)`)
	lease := sourceString(t, "cmd/manager/main.go", `LeaderElectionID:\s*"([^"]+)"`)
	labelRe := regexp.MustCompile(`\b(controller|name)\s*=~?\s*"([^"]*)"`)
	for _, e := range exprs {
		for _, l := range labelRe.FindAllStringSubmatch(e, -1) {
			if l[2] != controller && (l[1] != "name" || l[2] != lease) {
				t.Errorf("%s=%q is neither the controller %q nor the Lease %q (in %s)", l[1], l[2], controller, lease, strings.TrimSpace(e))
			}
		}
	}
	for _, want := range []string{"tenantry_bridge_calls_total", "tenantry_bridge_verification_failures_total",
		"controller_runtime_reconcile_errors_total"} {
		if !used[want] {
			t.Errorf("no alert or panel uses %s", want)
		}
	}
	for _, want := range []string{"TenantryMarketplaceCallsFailing", "TenantryMarketplaceSignatureFailures", "TenantryTenantReconcileErrors"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("PrometheusRule lacks alert %s; has %v", want, alerts)
		}
	}
}

// TestPlans renders the sample TenantPlan through the plans value and gets it back unchanged.
func TestPlans(t *testing.T) {
	t.Parallel()
	var sample tenantryv1alpha1.TenantPlan
	if err := yaml.UnmarshalStrict(readFile(t, "config/samples/tenantry_v1alpha1_tenantplan.yaml"), &sample); err != nil {
		t.Fatal(err)
	}
	second := sample.Spec.DeepCopy()
	second.SKUs = []string{"PREMIUM-MONTHLY"}
	plans := []map[string]any{
		{"name": sample.Name, "spec": sample.Spec},
		{"name": "premium", "spec": second, "labels": map[string]any{"tier": "premium"}},
	}
	m := render(t, append([]string{"-f", requiredKeys}, values(t, map[string]any{"plans": plans})...)...)
	got := m.ofKind("TenantPlan")
	if len(got) != 2 {
		t.Fatalf("want 2 TenantPlans, got %v", got.names())
	}
	for i, want := range []tenantryv1alpha1.TenantPlanSpec{sample.Spec, *second} {
		p := decode[tenantryv1alpha1.TenantPlan](t, got[i])
		if p.APIVersion != tenantryv1alpha1.GroupVersion.String() || p.Name != plans[i]["name"] {
			t.Errorf("plan %d is %s %q", i, p.APIVersion, p.Name)
		}
		if p.Namespace != "" {
			t.Errorf("TenantPlan %q has a namespace; it is cluster-scoped", p.Name)
		}
		if diff := cmp.Diff(jsonMap(t, want), jsonMap(t, p.Spec)); diff != "" {
			t.Errorf("TenantPlan %q spec (-values +rendered):\n%s", p.Name, diff)
		}
	}
	if got[1].Labels["tier"] != "premium" {
		t.Errorf("plan labels not rendered: %v", got[1].Labels)
	}
}

func jsonMap(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNetworkPolicies(t *testing.T) {
	t.Parallel()
	t.Run("disabled", func(t *testing.T) {
		t.Parallel()
		if got := render(t, "-f", requiredKeys, "--set", "networkPolicy.enabled=false").ofKind("NetworkPolicy"); len(got) != 0 {
			t.Errorf("NetworkPolicies rendered although disabled: %v", got.names())
		}
	})
	for _, tc := range []struct {
		name    string
		args    []string
		apiPort int32
	}{
		{"defaults", []string{"-f", requiredKeys}, 443},
		{"every optional part", []string{"-f", everything}, 5443},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := render(t, tc.args...)
			for _, c := range []struct {
				name         string
				ingressPorts []string
				egressPorts  []int32
			}{
				// The bridge also calls the Order Query API on 443.
				{"tenantry-webhookbridge", []string{"marketplace", "pages", "metrics"}, []int32{53, tc.apiPort, 443}},
				{"tenantry-manager", []string{"metrics"}, []int32{53, tc.apiPort}},
			} {
				np := decode[networkingv1.NetworkPolicy](t, m.get(t, "NetworkPolicy", c.name))
				d := decode[appsv1.Deployment](t, m.get(t, "Deployment", c.name))
				if diff := cmp.Diff(d.Spec.Selector.MatchLabels, np.Spec.PodSelector.MatchLabels); diff != "" {
					t.Errorf("NetworkPolicy %q selects other Pods than its Deployment (-deployment +policy):\n%s", c.name, diff)
				}
				if diff := cmp.Diff([]networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, np.Spec.PolicyTypes); diff != "" {
					t.Errorf("NetworkPolicy %q policy types (-want +got):\n%s", c.name, diff)
				}
				var ingress []string
				for _, r := range np.Spec.Ingress {
					for _, p := range r.Ports {
						ingress = append(ingress, p.Port.String())
						resolvePort(t, d, *p.Port)
					}
				}
				if diff := cmp.Diff(c.ingressPorts, ingress); diff != "" {
					t.Errorf("NetworkPolicy %q ingress ports (-want +got):\n%s", c.name, diff)
				}
				var egress []int32
				for _, r := range np.Spec.Egress {
					for _, p := range r.Ports {
						egress = append(egress, p.Port.IntVal)
					}
				}
				for _, want := range c.egressPorts {
					if !slices.Contains(egress, want) {
						t.Errorf("NetworkPolicy %q egress ports %v lack %d", c.name, egress, want)
					}
				}
			}
		})
	}
}

// TestFlagsExist: every flag the chart passes is one the binary defines, so a renamed flag fails
// here and not in a crash-looping Pod.
func TestFlagsExist(t *testing.T) {
	t.Parallel()
	flagRe := regexp.MustCompile(`flag\.\w*Var\(\s*&?[\w.]+,\s*"([a-z0-9-]+)"`)
	defined := func(rel string) map[string]bool {
		flags := map[string]bool{}
		for _, m := range flagRe.FindAllSubmatch(readFile(t, rel), -1) {
			flags[string(m[1])] = true
		}
		if len(flags) < 5 {
			t.Fatalf("%s: found only flags %v", rel, flags)
		}
		return flags
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/controller-runtime")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("locating controller-runtime: %v", err)
	}
	zapSrc, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "pkg/log/zap/zap.go"))
	if err != nil {
		t.Fatal(err)
	}
	zapFlags := regexp.MustCompile(`fs\.\w*Var\([^,]+,\s*"(zap-[a-z-]+)"`).FindAllSubmatch(zapSrc, -1)
	if len(zapFlags) == 0 {
		t.Fatal("no zap flags found in controller-runtime")
	}

	m := render(t, "-f", everything)
	for _, c := range []struct{ deployment, container, main string }{
		{"tenantry-manager", "manager", "cmd/manager/main.go"},
		{"tenantry-webhookbridge", "webhookbridge", "cmd/webhookbridge/main.go"},
	} {
		flags := defined(c.main)
		for _, z := range zapFlags {
			flags[string(z[1])] = true
		}
		d := decode[appsv1.Deployment](t, m.get(t, "Deployment", c.deployment))
		for _, a := range container(t, d, c.container).Args {
			name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			if !strings.HasPrefix(a, "--") || !flags[name] {
				t.Errorf("%s passes %q, which %s does not define", c.deployment, a, c.main)
			}
		}
	}
}

// TestCRDsInSync: the chart ships exactly the generated CRDs (hack/sync-chart.sh).
func TestCRDsInSync(t *testing.T) {
	t.Parallel()
	list := func(dir string) []string {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	bases := list("config/crd/bases")
	if diff := cmp.Diff(bases, list("charts/tenantry/crds")); diff != "" {
		t.Fatalf("chart CRDs differ from config/crd/bases (-config +chart); run `make manifests`:\n%s", diff)
	}
	for _, name := range bases {
		if !bytes.Equal(readFile(t, "config/crd/bases/"+name), readFile(t, "charts/tenantry/crds/"+name)) {
			t.Errorf("charts/tenantry/crds/%s differs from config/crd/bases; run `make manifests`", name)
		}
	}
}

// TestValuesDocumented: every leaf value of values.yaml has a row in the README's table.
func TestValuesDocumented(t *testing.T) {
	t.Parallel()
	var v map[string]any
	if err := yaml.Unmarshal(readFile(t, "charts/tenantry/values.yaml"), &v); err != nil {
		t.Fatal(err)
	}
	readme := string(readFile(t, "charts/tenantry/README.md"))
	var walk func(prefix string, v map[string]any)
	walk = func(prefix string, v map[string]any) {
		for k, val := range v {
			key := prefix + k
			if sub, ok := val.(map[string]any); ok && len(sub) > 0 && !freeForm[key] {
				walk(key+".", sub)
				continue
			}
			if !strings.Contains(readme, "| `"+key+"` |") {
				t.Errorf("README.md has no row for `%s`", key)
			}
		}
	}
	walk("", v)
}

// freeForm values are maps documented as a whole.
var freeForm = map[string]bool{
	"podSecurityContext": true, "securityContext": true,
	"manager.resources": true, "bridge.resources": true,
	"manager.livenessProbe": true, "manager.readinessProbe": true,
	"bridge.livenessProbe": true, "bridge.readinessProbe": true,
	"grafanaDashboard.labels": true,
}

// TestDashboardFileIsJSON keeps the dashboard loadable even when it is not rendered.
func TestDashboardFileIsJSON(t *testing.T) {
	t.Parallel()
	var d map[string]any
	if err := json.Unmarshal(readFile(t, "charts/tenantry/files/dashboard.json"), &d); err != nil {
		t.Fatalf("files/dashboard.json: %v", err)
	}
	if d["uid"] != "tenantry" {
		t.Errorf("dashboard uid = %v, want tenantry", d["uid"])
	}
}

// TestKeysSecretEncoding guards the base64 of the created Secret against template whitespace.
func TestKeysSecretEncoding(t *testing.T) {
	t.Parallel()
	m := render(t, "-f", requiredKeys)
	raw := asMap(t, m.get(t, "Secret", "tenantry-webhookbridge-keys"))
	for k, v := range raw["data"].(map[string]any) {
		if _, err := base64.StdEncoding.DecodeString(fmt.Sprint(v)); err != nil {
			t.Errorf("Secret key %q is not base64: %v", k, err)
		}
	}
}
