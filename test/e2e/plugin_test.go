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

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/plugin"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/test/e2e/framework"
)

// kubectlTenantry runs the built plugin as kubectl runs it, with the cluster's kubeconfig, and
// returns its exit code and standard output.
func kubectlTenantry(g Gomega, bin string, args ...string) (int, []byte) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), out.Bytes()
	}
	g.Expect(err).NotTo(HaveOccurred(), "stderr: %s", errOut.String())
	return 0, out.Bytes()
}

// The plugin's `status`, `describe` and `doctor` run against the installation with tenants
// Running, Frozen, Stalled and Releasing; their JSON output is checked.
var _ = Describe("The kubectl plugin", Label("plugin"), func() {
	It("reports the fleet, a tenant's story and the installation's health", func(ctx SpecContext) {
		kubectlPlugin(ctx, Default)
	})
})

func kubectlPlugin(ctx context.Context, g Gomega) {
	binDir := filepath.Join(workDir, "plugin")
	g.Expect(framework.Build(ctx, binDir, os.Stderr, "kubectl-tenantry")).To(Succeed())
	bin := filepath.Join(binDir, "kubectl-tenantry")

	_, running := buy(g, skuSmall)
	releaseOnCleanup(running)
	_, frozen := buy(g, skuSmall)
	releaseOnCleanup(frozen)
	expectRunning(running, 1)
	expectRunning(frozen, 1)
	send(g, func() (*simulator.Answer, error) { return market.Freeze(ctx, frozen) })
	expectFrozen(frozen)

	// A tenant of a SKU no plan lists stalls; one held by a finalizer of the test stays
	// Releasing after the operator let go of it.
	stalled := &tenantryv1alpha1.TenantInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "plugin-stalled"},
		Spec: tenantryv1alpha1.TenantInstanceSpec{SKU: "e2e.unlisted",
			Order: tenantryv1alpha1.Order{OrderID: "CSPLUGIN1", OrderLineID: "CSPLUGIN1-1", ChargingMode: tenantryv1alpha1.ChargingPeriod}},
	}
	g.Expect(admin.Create(ctx, stalled)).To(Succeed())
	releasing := &tenantryv1alpha1.TenantInstance{
		ObjectMeta: metav1.ObjectMeta{Name: "plugin-releasing", Finalizers: []string{"e2e.tenantry.io/hold"}},
		Spec: tenantryv1alpha1.TenantInstanceSpec{SKU: skuSmall,
			Order: tenantryv1alpha1.Order{OrderID: "CSPLUGIN2", OrderLineID: "CSPLUGIN2-1", ChargingMode: tenantryv1alpha1.ChargingPeriod}},
	}
	g.Expect(admin.Create(ctx, releasing)).To(Succeed())
	// The cleanup has a context of its own: the spec's is done by then.
	DeferCleanup(func(ctx SpecContext) {
		for _, name := range []string{stalled.Name, releasing.Name} {
			ti := &tenantryv1alpha1.TenantInstance{}
			if admin.Get(ctx, client.ObjectKey{Name: name}, ti) == nil {
				controllerutil.RemoveFinalizer(ti, "e2e.tenantry.io/hold")
				_ = admin.Update(ctx, ti)
				_ = admin.Delete(ctx, ti)
			}
		}
	})
	expectRunning(releasing.Name, 1)
	g.Expect(admin.Delete(ctx, releasing)).To(Succeed())
	g.Eventually(func(g Gomega) {
		ti := instance(g, releasing.Name)
		g.Expect(ti.Finalizers).To(Equal([]string{"e2e.tenantry.io/hold"}), "the operator has let go")
	}).Should(Succeed())

	g.Eventually(func(g Gomega) {
		code, out := kubectlTenantry(g, bin, "status", "-o", "json", "--expiring-within", "3650d")
		g.Expect(code).To(Equal(0))
		var st plugin.FleetStatus
		g.Expect(json.Unmarshal(out, &st)).To(Succeed())
		g.Expect(st.ByState[string(tenantryv1alpha1.StateRunning)]).To(BeNumerically(">=", 1))
		g.Expect(st.ByState[string(tenantryv1alpha1.StateFrozen)]).To(BeNumerically(">=", 1))
		g.Expect(st.ByLifecycle[string(tenantryv1alpha1.LifecycleFrozen)]).To(BeNumerically(">=", 1))
		g.Expect(st.Stalled).To(ContainElement(SatisfyAll(HaveField("Name", stalled.Name), HaveField("Reason", tenantryv1alpha1.ReasonPlanNotFound))))
		g.Expect(st.Releasing).To(ContainElement(HaveField("Name", releasing.Name)))
		g.Expect(st.Expiring).To(ContainElement(HaveField("Name", running)))
		g.Expect(st.SKUs).To(ContainElement(SatisfyAll(HaveField("SKU", "e2e.unlisted"), HaveField("Plans", BeEmpty()))))
	}).Should(Succeed())

	code, out := kubectlTenantry(g, bin, "describe", frozen, "-o", "json")
	g.Expect(code).To(Equal(0))
	var story plugin.InstanceStory
	g.Expect(json.Unmarshal(out, &story)).To(Succeed())
	g.Expect(story.Status.State).To(Equal(tenantryv1alpha1.StateFrozen))
	g.Expect(story.Calls).To(ContainElements(HaveField("What", "MarketplaceNewInstance"), HaveField("What", "MarketplaceFreeze")))
	g.Expect(story.Children).To(ContainElements(
		SatisfyAll(HaveField("Kind", "Deployment"), HaveField("Name", "app"), HaveField("Detail", HavePrefix("0/0 ready"))),
		SatisfyAll(HaveField("Kind", "Secret"), HaveField("Name", "tenant-admin")),
		HaveField("Kind", "NetworkPolicy"),
	))
	g.Expect(story.Spec.Customer).To(BeNil(), "describe shows no buyer's details")

	// doctor on the local installation: the components run and lead; the unlisted SKU is an
	// error, so it exits 1; kwok has no network plugin, which is a warning.
	code, out = kubectlTenantry(g, bin, "doctor", "-n", framework.Namespace, "-o", "json")
	g.Expect(code).To(Equal(1))
	var d plugin.Diagnosis
	g.Expect(json.Unmarshal(out, &d)).To(Succeed())
	checks := map[string]plugin.Check{}
	for _, c := range d.Checks {
		checks[c.Name] = c
	}
	for _, name := range []string{"CustomResourceDefinitions", "Operator", "Operator leader", "Webhook bridge"} {
		g.Expect(checks[name].Result).To(Equal(plugin.ResultOK), "%s: %s", name, checks[name].Message)
	}
	g.Expect(checks["Plans"].Result).To(Equal(plugin.ResultError))
	g.Expect(checks["Plans"].Message).To(ContainSubstring("SKU e2e.unlisted, which no plan lists"))
	g.Expect(checks["NetworkPolicy enforcement"].Result).To(Equal(plugin.ResultWarning))
}
