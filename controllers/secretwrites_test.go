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

package controllers_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
)

// secretGuard is the operator's client as its RBAC now has it: reading a Secret outside the
// namespaces it is given is refused and recorded. It also keeps the last status it was asked to
// write.
type secretGuard struct {
	client.Client
	readable string

	mu       sync.Mutex
	refused  []string
	lastStat *tenantryv1alpha1.TenantInstance
}

func (c *secretGuard) check(o any, namespace string) error {
	switch o.(type) {
	case *corev1.Secret, *corev1.SecretList:
		if namespace != c.readable {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.refused = append(c.refused, fmt.Sprintf("%T in %q", o, namespace))
			return fmt.Errorf("reading %T in %q: forbidden", o, namespace)
		}
	}
	return nil
}

func (c *secretGuard) Get(ctx context.Context, key client.ObjectKey, o client.Object, opts ...client.GetOption) error {
	if err := c.check(o, key.Namespace); err != nil {
		return err
	}
	return c.Client.Get(ctx, key, o, opts...)
}

func (c *secretGuard) List(ctx context.Context, l client.ObjectList, opts ...client.ListOption) error {
	lo := &client.ListOptions{}
	lo.ApplyOptions(opts)
	if err := c.check(l, lo.Namespace); err != nil {
		return err
	}
	return c.Client.List(ctx, l, opts...)
}

func (c *secretGuard) Status() client.SubResourceWriter {
	return statusKeeper{SubResourceWriter: c.Client.Status(), guard: c}
}

type statusKeeper struct {
	client.SubResourceWriter
	guard *secretGuard
}

func (s statusKeeper) Patch(ctx context.Context, o client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
	if ti, ok := o.(*tenantryv1alpha1.TenantInstance); ok {
		s.guard.mu.Lock()
		s.guard.lastStat = ti.DeepCopy()
		s.guard.mu.Unlock()
	}
	return s.SubResourceWriter.Patch(ctx, o, p, opts...)
}

// An operator allowed to read Secrets in one namespace only reconciles a tenant whose plan
// names a shared TLS source elsewhere without reading it, and says why it waits; every other
// step of the tenant (the admin account, the app, its Ingress) is done without reading a Secret.
func TestSharedTLSSourceOutsideReadableNamespaces(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	plan := newPlan("tls-elsewhere-plan", "SKU-TLS-ELSEWHERE")
	plan.Spec.Domain.SharedTLSSecret = &tenantryv1alpha1.SecretReference{Namespace: "default", Name: "elsewhere-tls"}
	source := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "elsewhere-tls", Namespace: "default",
			Labels: map[string]string{tenantryv1alpha1.LabelSecretRole: tenantryv1alpha1.SecretRoleSharedTLS}},
		Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: []byte("c"), corev1.TLSPrivateKeyKey: []byte("k")},
	}
	create(t, source, plan, newInstance("tlsns1", "SKU-TLS-ELSEWHERE"))
	g.Eventually(func(g Gomega) { deployment(g, "tlsns1") }).Should(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(controllers.ChildVersion(children, client.ObjectKey{Name: tenantryv1alpha1.NamespaceName("tlsns1")}, &corev1.Namespace{})).NotTo(BeEmpty())
	}).Should(Succeed())

	guard := &secretGuard{Client: cached, readable: "tls-sources"}
	restricted := &controllers.TenantInstanceReconciler{
		Client: guard, Scheme: cached.Scheme(), Children: children, SharedTLSNamespaces: []string{"tls-sources"},
		Clock: fakeClock, SuspendedHost: suspendedHost, SuspendedPort: suspendedPort, MerchantKey: merchantKey,
		RolloutNamespace: rolloutNamespace,
	}
	g.Eventually(func(g Gomega) {
		_, err := restricted.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: "tlsns1"}})
		g.Expect(err).NotTo(HaveOccurred())
		guard.mu.Lock()
		defer guard.mu.Unlock()
		g.Expect(guard.lastStat).NotTo(BeNil(), "no status written")
		ready := meta.FindStatusCondition(guard.lastStat.Status.Conditions, tenantryv1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Message).To(ContainSubstring("shared TLS Secret default/elsewhere-tls"))
		g.Expect(ready.Message).To(ContainSubstring("not one the operator may read Secrets in"))
	}).Should(Succeed())
	guard.mu.Lock()
	defer guard.mu.Unlock()
	g.Expect(guard.refused).To(BeEmpty(), "the operator read Secrets it may not")
}
