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

package rbac_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/testenv"
	"github.com/tenantry/tenantry/webhookbridge"
)

// sharedTLSNS is where the rendered chart lets the operator read shared TLS sources.
const sharedTLSNS = "tenantry-certs"

// renderChart renders the chart as release "tenantry" in systemNS, with the ci values and the
// shared TLS namespace, and returns the objects of the kinds that confine the two
// ServiceAccounts: RBAC and admission policies.
func renderChart(g Gomega) []client.Object {
	root := testenv.Root()
	helm := filepath.Join(root, "bin", "helm")
	if _, err := os.Stat(helm); err != nil {
		out, err := exec.Command("bash", "-c", "set -o pipefail; cd "+root+" && hack/tools.sh helm | tail -1").Output()
		g.Expect(err).NotTo(HaveOccurred(), "providing helm")
		helm = strings.TrimSpace(string(out))
	}
	cmd := exec.Command(helm, "template", "tenantry", filepath.Join(root, "charts", "tenantry"), "--namespace", systemNS,
		"-f", filepath.Join(root, "charts", "tenantry", "ci", "test-values.yaml"),
		"--set", "sharedTLS.namespaces={"+sharedTLSNS+"}")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	g.Expect(cmd.Run()).To(Succeed(), "helm template: %s", stderr.String())

	decode := serializer.NewCodecFactory(scheme()).UniversalDeserializer()
	var objs []client.Object
	for _, doc := range strings.Split(stdout.String(), "\n---") {
		if strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(doc), "---")) == "" {
			continue
		}
		obj, _, err := decode.Decode([]byte(doc), nil, nil)
		if err != nil {
			continue // a kind this scheme does not know (ServiceMonitor, say): not what is audited here
		}
		switch obj.(type) {
		case *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding, *rbacv1.Role, *rbacv1.RoleBinding,
			*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding:
			objs = append(objs, obj.(client.Object))
		}
	}
	return objs
}

// TestAdmissionPolicies installs the chart's RBAC and ValidatingAdmissionPolicies in a real API
// server and, impersonating each ServiceAccount, shows what they refuse: the operator writes only
// in tenant namespaces and creates only tenant namespaces, reads no Secret outside the shared TLS
// namespaces, and the bridge creates TenantInstances only under the names it generates.
func TestAdmissionPolicies(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs an API server")
	}
	g := NewWithT(t)
	g.SetDefaultEventuallyTimeout(30 * time.Second)
	g.SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	ctx := context.Background()
	env, cfg, err := testenv.Start()
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	admin, err := client.New(cfg, client.Options{Scheme: scheme()})
	g.Expect(err).NotTo(HaveOccurred())

	// A tenant namespace as the operator makes it, one of the same form without its labels, and
	// one with its labels but not its name.
	tenant := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-ti-000000000000000admit", Labels: map[string]string{
		tenantryv1alpha1.LabelManagedBy: tenantryv1alpha1.ManagedByValue, tenantryv1alpha1.LabelInstance: "ti-000000000000000admit",
	}}}
	for _, ns := range []string{systemNS, sharedTLSNS, "payments"} {
		g.Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	}
	g.Expect(admin.Create(ctx, tenant)).To(Succeed())
	objs := renderChart(g)
	policies := 0
	for _, o := range objs {
		if _, ok := o.(*admissionregistrationv1.ValidatingAdmissionPolicy); ok {
			policies++
		}
		g.Expect(admin.Create(ctx, o)).To(Succeed(), "installing %T %s", o, o.GetName())
	}
	g.Expect(policies).To(Equal(2), "the operator's and the bridge's policy")
	keys := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: systemNS, Name: "tenantry-webhookbridge-keys"}, StringData: map[string]string{"access-key": "k"}}
	source := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: sharedTLSNS, Name: "wildcard", Labels: map[string]string{
		tenantryv1alpha1.LabelSecretRole: tenantryv1alpha1.SecretRoleSharedTLS}}, StringData: map[string]string{"tls.crt": "c"}}
	for _, o := range []client.Object{
		keys, source,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "cluster-settings"}, Data: map[string]string{"k": "v"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "payments", Name: "db"}, StringData: map[string]string{"password": "p"}},
	} {
		g.Expect(admin.Create(ctx, o)).To(Succeed())
	}

	operator, err := client.New(impersonate(cfg, managerSA), client.Options{Scheme: scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	bridge, err := client.New(impersonate(cfg, bridgeSA), client.Options{Scheme: scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	refusedBy := func(g Gomega, err error, what, policy string) {
		g.ExpectWithOffset(1, err).To(HaveOccurred(), "%s was allowed", what)
		g.ExpectWithOffset(1, err.Error()).To(ContainSubstring(policy), "%s: refused, but not by the admission policy: %v", what, err)
	}
	const operatorRefusal, bridgeRefusal = "the tenantry operator may not", "the tenantry webhook bridge may not"

	// A policy takes effect a moment after it is created: wait until a write it refuses is refused.
	g.Eventually(func(g Gomega) {
		probe := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "probe"}}
		refusedBy(g, operator.Create(ctx, probe, client.DryRunAll), "a ConfigMap in default", operatorRefusal)
		refusedBy(g, bridge.Create(ctx, &tenantryv1alpha1.TenantInstance{ObjectMeta: metav1.ObjectMeta{Name: "probe"},
			Spec: tenantryv1alpha1.TenantInstanceSpec{SKU: "s", Order: tenantryv1alpha1.Order{OrderID: "CS1", OrderLineID: "CS1-1"}}},
			client.DryRunAll), "a TenantInstance named probe", bridgeRefusal)
	}).Should(Succeed())

	t.Run("the operator writes only in tenant namespaces", func(t *testing.T) {
		g := NewWithT(t)
		privileged := func(ns string) *appsv1.Deployment {
			labels := map[string]string{"app": "x"}
			return &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "x"},
				Spec: appsv1.DeploymentSpec{
					Selector: &metav1.LabelSelector{MatchLabels: labels},
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: labels},
						Spec: corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "x", Image: "example.com/x:1",
							SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}}},
					},
				},
			}
		}
		refusedBy(g, operator.Create(ctx, privileged("kube-system")), "a privileged Deployment in kube-system", operatorRefusal)
		refusedBy(g, operator.Create(ctx, privileged("payments")), "a Deployment in an unlabelled namespace", operatorRefusal)
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "cluster-settings"}, Data: map[string]string{"k": "evil"}}
		refusedBy(g, operator.Update(ctx, cm), "an update of a ConfigMap in default", operatorRefusal)
		refusedBy(g, operator.Patch(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "payments", Name: "db"}},
			client.RawPatch("application/merge-patch+json", []byte(`{"stringData":{"password":"evil"}}`))),
			"a patch of a Secret in another namespace", operatorRefusal)
		refusedBy(g, operator.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "payments", Name: "db"}}),
			"a deletion of a Secret in another namespace", operatorRefusal)
		refusedBy(g, operator.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: systemNS, Name: "x"}}),
			"a Secret in its own namespace", operatorRefusal)

		// The same writes in a tenant namespace are the operator's work.
		d := privileged(tenant.Name)
		g.Expect(operator.Create(ctx, d)).To(Succeed())
		tcm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: tenant.Name, Name: "tenant-info"}, Data: map[string]string{"k": "v"}}
		g.Expect(operator.Create(ctx, tcm)).To(Succeed())
		tcm.Data["k"] = "w"
		g.Expect(operator.Update(ctx, tcm)).To(Succeed())
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: tenant.Name, Name: "tenant-admin"}, StringData: map[string]string{"password": "p"}}
		g.Expect(operator.Create(ctx, secret)).To(Succeed())
		g.Expect(operator.Patch(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: tenant.Name, Name: "tenant-admin"}},
			client.RawPatch("application/merge-patch+json", []byte(`{"stringData":{"password":"q"}}`)))).To(Succeed())
		g.Expect(operator.Delete(ctx, d)).To(Succeed())

		// What RBAC alone confines still works: its Lease and its Events.
		g.Expect(operator.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: systemNS, Name: "tenantry-operator.tenantry.io"}})).To(Succeed())
		ti := &tenantryv1alpha1.TenantInstance{ObjectMeta: metav1.ObjectMeta{Name: "ti-000000000000000admit"},
			Spec: tenantryv1alpha1.TenantInstanceSpec{SKU: "s", Order: tenantryv1alpha1.Order{OrderID: "CS1", OrderLineID: "CS1-1"}}}
		g.Expect(admin.Create(ctx, ti)).To(Succeed())
		g.Expect(operator.Create(ctx, event("admission-event", ti))).To(Succeed())
	})

	t.Run("the operator creates and deletes only tenant namespaces", func(t *testing.T) {
		g := NewWithT(t)
		refusedBy(g, operator.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-payments"}}),
			"a namespace without the operator's labels", operatorRefusal)
		refusedBy(g, operator.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "payments-2", Labels: map[string]string{
			tenantryv1alpha1.LabelManagedBy: tenantryv1alpha1.ManagedByValue, tenantryv1alpha1.LabelInstance: "payments-2",
		}}}), "a labelled namespace without the tenant prefix", operatorRefusal)
		refusedBy(g, operator.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-payments", Labels: map[string]string{
			tenantryv1alpha1.LabelManagedBy: tenantryv1alpha1.ManagedByValue, tenantryv1alpha1.LabelInstance: "other",
		}}}), "a namespace labelled for another instance", operatorRefusal)
		refusedBy(g, operator.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "payments"}}), "deleting namespace payments", operatorRefusal)
		refusedBy(g, operator.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "payments"}},
			client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"labels":{"app.kubernetes.io/managed-by":"tenantry","tenantry.io/instance":"payments"}}}`))),
			"labelling namespace payments as a tenant's", operatorRefusal)

		made := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-ti-00000000000000000made", Labels: map[string]string{
			tenantryv1alpha1.LabelManagedBy: tenantryv1alpha1.ManagedByValue, tenantryv1alpha1.LabelInstance: "ti-00000000000000000made",
		}}}
		g.Expect(operator.Create(ctx, made)).To(Succeed())
		made.Labels["pod-security.kubernetes.io/enforce"] = "restricted"
		g.Expect(operator.Update(ctx, made)).To(Succeed())
		g.Expect(operator.Delete(ctx, made)).To(Succeed())
	})

	t.Run("the operator reads Secrets only in the shared TLS namespaces", func(t *testing.T) {
		g := NewWithT(t)
		forbidden(g, operator.Get(ctx, client.ObjectKeyFromObject(keys), &corev1.Secret{}), "get the bridge's keys")
		forbidden(g, operator.List(ctx, &corev1.SecretList{}, client.InNamespace(systemNS)), "list Secrets in the release namespace")
		forbidden(g, operator.List(ctx, &corev1.SecretList{}), "list Secrets everywhere")
		forbidden(g, operator.Get(ctx, client.ObjectKey{Namespace: tenant.Name, Name: "tenant-admin"}, &corev1.Secret{}), "get a tenant's admin account")
		forbidden(g, operator.Get(ctx, client.ObjectKey{Namespace: "payments", Name: "db"}, &corev1.Secret{}), "get another Secret")
		g.Expect(operator.Get(ctx, client.ObjectKeyFromObject(source), &corev1.Secret{})).To(Succeed())
		g.Expect(operator.List(ctx, &corev1.SecretList{}, client.InNamespace(sharedTLSNS),
			client.MatchingLabels{tenantryv1alpha1.LabelSecretRole: tenantryv1alpha1.SecretRoleSharedTLS})).To(Succeed())
	})

	t.Run("the bridge creates TenantInstances only under generated names", func(t *testing.T) {
		g := NewWithT(t)
		instance := func(name string) *tenantryv1alpha1.TenantInstance {
			return &tenantryv1alpha1.TenantInstance{ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: tenantryv1alpha1.TenantInstanceSpec{SKU: "s", Order: tenantryv1alpha1.Order{OrderID: "CS2", OrderLineID: "CS2-1"}}}
		}
		for _, name := range []string{"payments", "ti-payments", "ti-0123456789abcdef012", "ti-0123456789abcdef01234", "ti-0123456789abcdef012x"} {
			refusedBy(g, bridge.Create(ctx, instance(name)), "a TenantInstance named "+name, bridgeRefusal)
		}
		g.Expect(bridge.Create(ctx, instance(webhookbridge.InstanceName("CS2", "CS2-1")))).To(Succeed())
		g.Expect(bridge.Create(ctx, instance(webhookbridge.PayPerUseInstanceName("CS3", "product")))).To(Succeed())
		// Others are not held to it.
		g.Expect(admin.Create(ctx, instance("payments"))).To(Succeed())
	})
}
