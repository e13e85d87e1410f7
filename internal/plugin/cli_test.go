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

package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/testenv"
)

var (
	k8s        client.Client
	kubeconfig string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("skipping the plugin's envtest tests in -short mode")
		os.Exit(m.Run())
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	env, cfg, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	if k8s, err = client.New(cfg, client.Options{Scheme: testenv.Scheme()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The plugin connects as a kubectl user would: through a kubeconfig file.
	user, err := env.ControlPlane.AddUser(envtest.User{Name: "sre", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	data, err := user.KubeConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "kubectl-tenantry")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, data, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// kubectlTenantry runs the plugin as kubectl would and returns its exit code and output.
func kubectlTenantry(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Main(append([]string{"--kubeconfig", kubeconfig}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func integration(t *testing.T) {
	if k8s == nil {
		t.Skip("integration test: needs an API server")
	}
}

// seed creates tenants in every state the operator reports, with their children and Events,
// as the operator and the bridge would have left them.
func seed(t *testing.T, g Gomega, ctx context.Context) {
	for _, p := range []tenantryv1alpha1.TenantPlan{plan("cli-basic", "cli-small"), plan("cli-pro", "cli-large"), plan("cli-pro2", "cli-large")} {
		p.Spec.App = tenantryv1alpha1.AppSpec{Image: "registry.example.com/app:1", Port: 8080}
		g.Expect(k8s.Create(ctx, &p)).To(Succeed())
	}
	horizon := time.Now().Add(48 * time.Hour)
	for _, s := range []struct {
		name      string
		sku       string
		state     tenantryv1alpha1.InstanceState
		lifecycle tenantryv1alpha1.Lifecycle
		expires   *time.Time
		stalled   string
	}{
		{name: "cli-running", sku: "cli-small", state: tenantryv1alpha1.StateRunning, lifecycle: tenantryv1alpha1.LifecycleActive, expires: &horizon},
		{name: "cli-frozen", sku: "cli-small", state: tenantryv1alpha1.StateFrozen, lifecycle: tenantryv1alpha1.LifecycleFrozen},
		{name: "cli-provisioning", sku: "cli-small", state: tenantryv1alpha1.StateProvisioning, lifecycle: tenantryv1alpha1.LifecycleActive},
		{name: "cli-stalled", sku: "cli-large", state: tenantryv1alpha1.StateStalled, lifecycle: tenantryv1alpha1.LifecycleActive, stalled: tenantryv1alpha1.ReasonPlanAmbiguous},
	} {
		ti := &tenantryv1alpha1.TenantInstance{
			ObjectMeta: metav1.ObjectMeta{Name: s.name},
			Spec: tenantryv1alpha1.TenantInstanceSpec{
				SKU: s.sku, Lifecycle: s.lifecycle,
				Order:    tenantryv1alpha1.Order{OrderID: "CS-" + s.name, OrderLineID: "line-1", ChargingMode: tenantryv1alpha1.ChargingPeriod},
				Customer: &tenantryv1alpha1.Customer{CustomerID: "cust-1", CustomerName: "Secretive Buyer Ltd"},
				Marketplace: &tenantryv1alpha1.MarketplaceRecord{
					LifecycleSetAt: &metav1.MicroTime{Time: time.Now().Add(-time.Hour)},
					AppliedOrders:  []tenantryv1alpha1.AppliedOrder{{OrderID: "CS-renew-1", Scene: tenantryv1alpha1.SceneRenewal, AppliedAt: &metav1.MicroTime{Time: time.Now().Add(-30 * time.Minute)}}},
				},
			},
		}
		if s.expires != nil {
			ti.Spec.ExpiresAt = &metav1.Time{Time: *s.expires}
		}
		g.Expect(k8s.Create(ctx, ti)).To(Succeed())
		ti.Status = tenantryv1alpha1.TenantInstanceStatus{State: s.state, Namespace: "tenant-" + s.name, Plan: "cli-basic", URL: "https://" + s.name + ".apps.example.com"}
		if s.stalled != "" {
			ti.Status.Conditions = []metav1.Condition{{Type: tenantryv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: s.stalled,
				Message: "SKU cli-large is listed by plans cli-pro, cli-pro2", LastTransitionTime: metav1.Now()}}
		}
		g.Expect(k8s.Status().Update(ctx, ti)).To(Succeed())
	}

	ns := "tenant-cli-running"
	g.Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	labels := map[string]string{"app": "tenant"}
	g.Expect(k8s.Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app:1"}}}}},
	})).To(Succeed())
	g.Expect(k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant-admin", Labels: map[string]string{tenantryv1alpha1.LabelSecretRole: tenantryv1alpha1.SecretRoleAdmin}},
		StringData: map[string]string{"password": "hunter2-never-shown"},
	})).To(Succeed())
	g.Expect(k8s.Create(ctx, &tenantryv1alpha1.TenantHost{ObjectMeta: metav1.ObjectMeta{Name: "cli-running.apps.example.com"},
		Spec: tenantryv1alpha1.TenantHostSpec{InstanceName: "cli-running"}})).To(Succeed())
	for i, reason := range []string{"MarketplaceNewInstance", "StaleFreezeIgnored"} {
		g.Expect(k8s.Create(ctx, &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("cli-running.%d", i)},
			InvolvedObject: corev1.ObjectReference{Kind: "TenantInstance", APIVersion: tenantryv1alpha1.GroupVersion.String(), Name: "cli-running"},
			Reason:         reason, Message: "call " + reason, Type: corev1.EventTypeNormal,
			LastTimestamp: metav1.Time{Time: time.Now().Add(time.Duration(i-10) * time.Minute)}, Count: 1,
			Source: corev1.EventSource{Component: "tenantry-webhookbridge"},
		})).To(Succeed())
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_ = k8s.DeleteAllOf(ctx, &tenantryv1alpha1.TenantInstance{})
		_ = k8s.DeleteAllOf(ctx, &tenantryv1alpha1.TenantPlan{})
		_ = k8s.DeleteAllOf(ctx, &tenantryv1alpha1.TenantHost{})
	})
}

func TestStatusDescribeDoctor(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	seed(t, g, ctx)

	// status: every state counted, the stalled tenant and its reason, the expiring one.
	code, out, errOut := kubectlTenantry("status", "-o", "json", "--expiring-within", "3d")
	g.Expect(code).To(Equal(0), errOut)
	var st FleetStatus
	g.Expect(json.Unmarshal([]byte(out), &st)).To(Succeed())
	g.Expect(st.Instances).To(Equal(4))
	g.Expect(st.ByState).To(Equal(map[string]int{"Running": 1, "Frozen": 1, "Provisioning": 1, "Stalled": 1}))
	g.Expect(st.ByLifecycle).To(Equal(map[string]int{"Active": 3, "Frozen": 1}))
	g.Expect(st.Stalled).To(HaveLen(1))
	g.Expect(st.Stalled[0].Name).To(Equal("cli-stalled"))
	g.Expect(st.Stalled[0].Reason).To(Equal(tenantryv1alpha1.ReasonPlanAmbiguous))
	g.Expect(st.Expiring).To(HaveLen(1))
	g.Expect(st.Expiring[0].Name).To(Equal("cli-running"))
	g.Expect(st.SKUs).To(ContainElement(SatisfyAll(
		HaveField("SKU", "cli-large"), HaveField("Plans", []string{"cli-pro", "cli-pro2"}), HaveField("Total", 1))))

	// The table says the same, without colour when not on a terminal.
	code, out, errOut = kubectlTenantry("status")
	g.Expect(code).To(Equal(0), errOut)
	g.Expect(out).To(ContainSubstring("Tenants: 4"))
	g.Expect(out).To(ContainSubstring("cli-stalled"))
	g.Expect(out).To(ContainSubstring("cli-pro,cli-pro2 (ambiguous)"))
	g.Expect(out).NotTo(ContainSubstring("\x1b["))

	// describe: the calls that changed it, ignored ones marked; children; no secret data and no
	// buyer's name.
	code, out, errOut = kubectlTenantry("describe", "cli-running", "-o", "json")
	g.Expect(code).To(Equal(0), errOut)
	var story InstanceStory
	g.Expect(json.Unmarshal([]byte(out), &story)).To(Succeed())
	g.Expect(story.Calls).To(ContainElements(
		SatisfyAll(HaveField("What", "order applied: RENEWAL"), HaveField("Order", "CS-renew-1")),
		SatisfyAll(HaveField("What", "MarketplaceNewInstance"), HaveField("Ignored", false)),
		SatisfyAll(HaveField("What", "StaleFreezeIgnored"), HaveField("Ignored", true)),
	))
	g.Expect(story.Children).To(ContainElements(
		SatisfyAll(HaveField("Kind", "Deployment"), HaveField("Name", "app")),
		SatisfyAll(HaveField("Kind", "Secret"), HaveField("Name", "tenant-admin"), HaveField("Detail", tenantryv1alpha1.SecretRoleAdmin)),
	))
	g.Expect(story.Hosts).To(Equal([]string{"cli-running.apps.example.com"}))
	g.Expect(out).NotTo(ContainSubstring("hunter2"))
	g.Expect(out).NotTo(ContainSubstring("Secretive Buyer"))
	code, out, errOut = kubectlTenantry("describe", "cli-running")
	g.Expect(code).To(Equal(0), errOut)
	g.Expect(out).To(ContainSubstring("StaleFreezeIgnored (ignored)"))
	g.Expect(out).NotTo(ContainSubstring("hunter2"))

	// doctor on an API server with the CRDs and nothing running: the CRDs pass, the missing
	// operator and bridge are errors, and the exit code says so.
	code, out, errOut = kubectlTenantry("doctor", "-o", "json")
	g.Expect(code).To(Equal(1), errOut)
	var d Diagnosis
	g.Expect(json.Unmarshal([]byte(out), &d)).To(Succeed())
	results := map[string]Result{}
	for _, c := range d.Checks {
		results[c.Name] = c.Result
	}
	g.Expect(results).To(HaveKeyWithValue("CustomResourceDefinitions", ResultOK))
	g.Expect(results).To(HaveKeyWithValue("Operator", ResultError))
	g.Expect(results).To(HaveKeyWithValue("Operator leader", ResultError))
	g.Expect(results).To(HaveKeyWithValue("Plans", ResultError), "cli-large is listed twice")
	g.Expect(results).To(HaveKeyWithValue("NetworkPolicy enforcement", ResultWarning))
	g.Expect(d.Result).To(Equal(ResultError))
}

func TestBadInvocations(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"status", "-o", "yaml"}, `--output must be table or json, not "yaml"`},
		{[]string{"status", "--expiring-within", "soon"}, `"soon" is not a duration`},
		{[]string{"describe", "no-such-instance"}, `TenantInstance "no-such-instance" not found`},
		{[]string{"describe"}, "accepts 1 arg"},
	} {
		code, out, errOut := kubectlTenantry(tc.args...)
		g.Expect(code).To(Equal(1), strings.Join(tc.args, " "))
		g.Expect(out).To(BeEmpty())
		g.Expect(errOut).To(ContainSubstring(tc.want))
	}
}
