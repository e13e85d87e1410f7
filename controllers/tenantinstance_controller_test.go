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
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
)

func TestSharedTenantIsProvisionedAndBecomesReady(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	plan := newPlan("shared-basic", "SKU-SHARED-1")
	plan.Spec.Quota = corev1.ResourceList{corev1.ResourceLimitsCPU: resource.MustParse("4")}
	plan.Spec.LimitRange = &tenantryv1alpha1.LimitRangeSpec{DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}
	plan.Spec.Domain.SharedTLSSecret = &tenantryv1alpha1.SecretReference{Namespace: "default", Name: "wildcard-tls"}
	tls := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "wildcard-tls", Namespace: "default",
			Labels: map[string]string{tenantryv1alpha1.LabelSecretRole: tenantryv1alpha1.SecretRoleSharedTLS}},
		Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: []byte("cert-1"), corev1.TLSPrivateKeyKey: []byte("key-1")},
	}
	create(t, tls, plan, newInstance("shared1", "SKU-SHARED-1"))
	ns := tenantryv1alpha1.NamespaceName("shared1")

	g.Eventually(func(g Gomega) {
		ti := expectCondition(g, "shared1", tenantryv1alpha1.ConditionReady, metav1.ConditionFalse, tenantryv1alpha1.ReasonProgressing)
		g.Expect(ti.Status.State).To(Equal(tenantryv1alpha1.StateProvisioning))
		g.Expect(ti.Status.URL).To(Equal("https://shared1.apps.example.com"))
		g.Expect(ti.Status.AdminURL).To(Equal("https://shared1.apps.example.com/admin"))
		g.Expect(ti.Status.Namespace).To(Equal(ns))
		g.Expect(ti.Status.Plan).To(Equal("shared-basic"))
		g.Expect(ti.Status.AdminAccountSecretRef).To(Equal(&tenantryv1alpha1.SecretReference{Namespace: ns, Name: tenantryv1alpha1.AdminSecretName}))
		g.Expect(ti.Finalizers).To(ContainElement(tenantryv1alpha1.Finalizer))
		expectCondition(g, "shared1", tenantryv1alpha1.ConditionReconciling, metav1.ConditionTrue, "")
	}).Should(Succeed())

	// Every child object exists, labelled and owned by the instance.
	namespace := &corev1.Namespace{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: ns}, namespace)).To(Succeed())
	g.Expect(namespace.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
	g.Expect(namespace.Labels).To(HaveKeyWithValue(tenantryv1alpha1.LabelInstance, "shared1"))
	g.Expect(namespace.Labels).To(HaveKeyWithValue(tenantryv1alpha1.LabelSKU, "SKU-SHARED-1"))
	// The namespace is marked as the instance's, with no owner reference the garbage collector
	// could delete it through: only the release deletes it.
	g.Expect(namespace.OwnerReferences).To(BeEmpty())
	g.Expect(namespace.Annotations).To(HaveKeyWithValue(tenantryv1alpha1.AnnotationInstanceUID, string(getInstance(g, "shared1").UID)))
	// It was made by one apply conditional on its absence, not a create and then an apply: the
	// operator's only entry in its managed fields is an apply's.
	var mine []metav1.ManagedFieldsEntry
	for _, e := range namespace.ManagedFields {
		if e.Manager == controllers.FieldOwner {
			mine = append(mine, e)
		}
	}
	g.Expect(mine).To(ConsistOf(HaveField("Operation", metav1.ManagedFieldsOperationApply)))

	quota := &corev1.ResourceQuota{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: tenantryv1alpha1.QuotaName}, quota)).To(Succeed())
	g.Expect(quota.Spec.Hard.Cpu()).NotTo(BeNil())
	g.Expect(quota.Spec.Hard[corev1.ResourceLimitsCPU]).To(Equal(resource.MustParse("4")))
	lr := &corev1.LimitRange{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: controllers.LimitRangeName}, lr)).To(Succeed())
	g.Expect(lr.Spec.Limits[0].DefaultRequest[corev1.ResourceCPU]).To(Equal(resource.MustParse("100m")))
	np := &networkingv1.NetworkPolicy{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: controllers.NetworkPolicyName}, np)).To(Succeed())
	g.Expect(np.Spec.Ingress).To(HaveLen(2))
	g.Expect(np.Spec.Ingress[1].From[0].NamespaceSelector.MatchLabels).To(HaveKeyWithValue("kubernetes.io/metadata.name", "ingress-nginx"))

	admin := secret(g, ns, tenantryv1alpha1.AdminSecretName)
	g.Expect(admin.Data).To(HaveKeyWithValue("username", []byte("admin")))
	g.Expect(admin.Data["password"]).To(HaveLen(20))
	g.Expect(secret(g, ns, controllers.SharedTLSSecretName).Data).To(HaveKeyWithValue("tls.crt", []byte("cert-1")))

	d := deployment(g, "shared1")
	g.Expect(*d.Spec.Replicas).To(Equal(int32(2)))
	c := d.Spec.Template.Spec.Containers[0]
	g.Expect(c.Image).To(Equal("registry.example.com/app:1.0"))
	g.Expect(*c.SecurityContext.RunAsNonRoot).To(BeTrue())
	g.Expect(*c.SecurityContext.AllowPrivilegeEscalation).To(BeFalse())
	g.Expect(c.SecurityContext.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")))

	svc := &corev1.Service{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: controllers.AppName}, svc)).To(Succeed())
	ing := &networkingv1.Ingress{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: controllers.AppName}, ing)).To(Succeed())
	g.Expect(ing.Spec.Rules[0].Host).To(Equal("shared1.apps.example.com"))
	g.Expect(*ing.Spec.IngressClassName).To(Equal("nginx"))
	g.Expect(ing.Spec.TLS[0].SecretName).To(Equal(controllers.SharedTLSSecretName))
	g.Expect(ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name).To(Equal(controllers.AppName))

	// The Deployment becomes available: the tenant is Ready and Running.
	rollOut(g, "shared1")
	g.Eventually(func(g Gomega) {
		ti := expectCondition(g, "shared1", tenantryv1alpha1.ConditionReady, metav1.ConditionTrue, tenantryv1alpha1.ReasonAvailable)
		g.Expect(ti.Status.State).To(Equal(tenantryv1alpha1.StateRunning))
		g.Expect(ti.Status.ReadyReplicas).To(Equal(int32(2)))
		g.Expect(condition(ti, tenantryv1alpha1.ConditionReconciling)).To(BeNil())
		expectCondition(g, "shared1", tenantryv1alpha1.ConditionFrozen, metav1.ConditionFalse, tenantryv1alpha1.ReasonActive)
		expectCondition(g, "shared1", tenantryv1alpha1.ConditionExpired, metav1.ConditionFalse, tenantryv1alpha1.ReasonNoExpiry)
		g.Expect(eventReasons(g, "shared1")).To(ContainElement("Ready"))
	}).Should(Succeed())

	// The certificate is renewed at its source: the tenant's copy follows.
	tls.Data[corev1.TLSCertKey] = []byte("cert-2")
	g.Expect(k8s.Update(ctx, tls)).To(Succeed())
	g.Eventually(func(g Gomega) []byte {
		return secret(g, ns, controllers.SharedTLSSecretName).Data[corev1.TLSCertKey]
	}).Should(Equal([]byte("cert-2")))

	// A repeated reconcile changes nothing: the status and the Deployment are not rewritten.
	before := getInstance(g, "shared1").ResourceVersion
	depBefore := deployment(g, "shared1").ResourceVersion
	g.Consistently(func(g Gomega) {
		g.Expect(getInstance(g, "shared1").ResourceVersion).To(Equal(before))
		g.Expect(deployment(g, "shared1").ResourceVersion).To(Equal(depBefore))
	}, 2*time.Second).Should(Succeed())
}

func TestDedicatedTenantGetsItsOwnHostAndCertificate(t *testing.T) {
	g := NewWithT(t)
	plan := newPlan("dedicated-plan", "SKU-DEDICATED")
	plan.Spec.Domain.ClusterIssuer = "letsencrypt"
	plan.Spec.Domain.Annotations = map[string]string{"nginx.ingress.kubernetes.io/proxy-body-size": "8m"}
	ti := newInstance("dedicated1", "SKU-DEDICATED")
	ti.Spec.Domain = tenantryv1alpha1.TenantDomain{Type: tenantryv1alpha1.DomainDedicated, Host: "erp.customer.example.org"}
	create(t, plan, ti)

	g.Eventually(func(g Gomega) {
		ing := &networkingv1.Ingress{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName("dedicated1"), Name: controllers.AppName}, ing)).To(Succeed())
		g.Expect(ing.Spec.Rules[0].Host).To(Equal("erp.customer.example.org"))
		g.Expect(ing.Spec.TLS[0].SecretName).To(Equal(controllers.DedicatedTLSName))
		g.Expect(ing.Annotations).To(HaveKeyWithValue("cert-manager.io/cluster-issuer", "letsencrypt"))
		g.Expect(ing.Annotations).To(HaveKeyWithValue("nginx.ingress.kubernetes.io/proxy-body-size", "8m"))
		g.Expect(getInstance(g, "dedicated1").Status.URL).To(Equal("https://erp.customer.example.org"))
	}).Should(Succeed())
}

func TestFreezeKeepsEverythingButPodsAndUnfreezeRestores(t *testing.T) {
	g := NewWithT(t)
	create(t, newPlan("freeze-plan", "SKU-FREEZE"), newInstance("freeze1", "SKU-FREEZE"))
	ns := tenantryv1alpha1.NamespaceName("freeze1")
	g.Eventually(func(g Gomega) { rollOut(g, "freeze1") }).Should(Succeed())
	g.Eventually(func(g Gomega) {
		expectCondition(g, "freeze1", tenantryv1alpha1.ConditionReady, metav1.ConditionTrue, tenantryv1alpha1.ReasonAvailable)
	}).Should(Succeed())
	admin := secret(g, ns, tenantryv1alpha1.AdminSecretName)

	updateInstance(t, "freeze1", func(ti *tenantryv1alpha1.TenantInstance) { ti.Spec.Lifecycle = tenantryv1alpha1.LifecycleFrozen })
	g.Eventually(func(g Gomega) {
		g.Expect(*deployment(g, "freeze1").Spec.Replicas).To(BeZero())
		ing := &networkingv1.Ingress{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: controllers.AppName}, ing)).To(Succeed())
		g.Expect(ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name).To(Equal(controllers.SuspendedName))
		// Asked for zero, still running two: not Frozen yet.
		ti := expectCondition(g, "freeze1", tenantryv1alpha1.ConditionFrozen, metav1.ConditionFalse, tenantryv1alpha1.ReasonFreezing)
		g.Expect(ti.Status.State).NotTo(Equal(tenantryv1alpha1.StateFrozen))
	}).Should(Succeed())
	suspended := &corev1.Service{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: controllers.SuspendedName}, suspended)).To(Succeed())
	g.Expect(suspended.Spec.ExternalName).To(Equal(suspendedHost))

	// Pods go away; the tenant is Ready (intentionally at zero) and Frozen; data and account are kept.
	rollOut(g, "freeze1")
	g.Eventually(func(g Gomega) {
		expectCondition(g, "freeze1", tenantryv1alpha1.ConditionFrozen, metav1.ConditionTrue, tenantryv1alpha1.ReasonFrozenByMarketplace)
		ti := expectCondition(g, "freeze1", tenantryv1alpha1.ConditionReady, metav1.ConditionTrue, tenantryv1alpha1.ConditionFrozen)
		g.Expect(ti.Status.State).To(Equal(tenantryv1alpha1.StateFrozen))
		g.Expect(ti.Status.FrozenSince).NotTo(BeNil())
		g.Expect(eventReasons(g, "freeze1")).To(ContainElement("Frozen"))
	}).Should(Succeed())
	kept := secret(g, ns, tenantryv1alpha1.AdminSecretName)
	g.Expect(kept.UID).To(Equal(admin.UID))
	g.Expect(kept.Data).To(Equal(admin.Data))

	updateInstance(t, "freeze1", func(ti *tenantryv1alpha1.TenantInstance) { ti.Spec.Lifecycle = tenantryv1alpha1.LifecycleActive })
	g.Eventually(func(g Gomega) {
		g.Expect(*deployment(g, "freeze1").Spec.Replicas).To(Equal(int32(2)))
		expectCondition(g, "freeze1", tenantryv1alpha1.ConditionFrozen, metav1.ConditionFalse, tenantryv1alpha1.ReasonActive)
		expectCondition(g, "freeze1", tenantryv1alpha1.ConditionReady, metav1.ConditionFalse, tenantryv1alpha1.ReasonProgressing)
	}).Should(Succeed())
	rollOut(g, "freeze1")
	g.Eventually(func(g Gomega) {
		ti := expectCondition(g, "freeze1", tenantryv1alpha1.ConditionReady, metav1.ConditionTrue, tenantryv1alpha1.ReasonAvailable)
		g.Expect(ti.Status.FrozenSince).To(BeNil())
		g.Expect(eventReasons(g, "freeze1")).To(ContainElement("Unfrozen"))
	}).Should(Succeed())
	g.Expect(secret(g, ns, tenantryv1alpha1.AdminSecretName).Data).To(Equal(admin.Data))
}

func TestSKUChangeAppliesTheNewPlanInPlace(t *testing.T) {
	g := NewWithT(t)
	small := newPlan("sku-small", "SKU-SMALL")
	large := newPlan("sku-large", "SKU-LARGE")
	large.Spec.App.Image = "registry.example.com/app:1.0-large"
	large.Spec.Replicas = ptr.To[int32](5)
	create(t, small, large, newInstance("upgrade1", "SKU-SMALL"))
	ns := tenantryv1alpha1.NamespaceName("upgrade1")
	g.Eventually(func(g Gomega) { g.Expect(*deployment(g, "upgrade1").Spec.Replicas).To(Equal(int32(2))) }).Should(Succeed())
	g.Eventually(func(g Gomega) { secret(g, ns, tenantryv1alpha1.AdminSecretName) }).Should(Succeed())
	nsBefore := &corev1.Namespace{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: ns}, nsBefore)).To(Succeed())
	admin := secret(g, ns, tenantryv1alpha1.AdminSecretName)

	updateInstance(t, "upgrade1", func(ti *tenantryv1alpha1.TenantInstance) { ti.Spec.SKU = "SKU-LARGE" })
	g.Eventually(func(g Gomega) {
		d := deployment(g, "upgrade1")
		g.Expect(*d.Spec.Replicas).To(Equal(int32(5)))
		g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal("registry.example.com/app:1.0-large"))
		g.Expect(d.Labels).To(HaveKeyWithValue(tenantryv1alpha1.LabelSKU, "SKU-LARGE"))
		g.Expect(getInstance(g, "upgrade1").Status.Plan).To(Equal("sku-large"))
		g.Expect(eventReasons(g, "upgrade1")).To(ContainElement("PlanChanged"))
	}).Should(Succeed(), describe("upgrade1"))
	nsAfter := &corev1.Namespace{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: ns}, nsAfter)).To(Succeed())
	g.Expect(nsAfter.UID).To(Equal(nsBefore.UID), "the namespace must be the same one")
	g.Expect(secret(g, ns, tenantryv1alpha1.AdminSecretName).Data).To(Equal(admin.Data))

	// Editing the plan itself rolls out to its tenants.
	g.Eventually(func(g Gomega) {
		p := &tenantryv1alpha1.TenantPlan{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: "sku-large"}, p)).To(Succeed())
		p.Spec.Replicas = ptr.To[int32](3)
		g.Expect(k8s.Update(context.Background(), p)).To(Succeed())
	}).Should(Succeed())
	g.Eventually(func(g Gomega) { g.Expect(*deployment(g, "upgrade1").Spec.Replicas).To(Equal(int32(3))) }).Should(Succeed())
}

func TestExpiryMarksExpiredAndFreezesOnlyWhenThePlanSaysSo(t *testing.T) {
	g := NewWithT(t)
	keep := newPlan("expiry-keep", "SKU-EXP-KEEP")
	freeze := newPlan("expiry-freeze", "SKU-EXP-FREEZE")
	freeze.Spec.Expiry = tenantryv1alpha1.ExpiryPolicy{GracePeriod: &metav1.Duration{Duration: time.Hour}, FreezeAfterGrace: true}
	now := fakeClock.Now()
	a := newInstance("expiry-a", "SKU-EXP-KEEP")
	a.Spec.ExpiresAt = &metav1.Time{Time: now.Add(30 * time.Minute)}
	b := newInstance("expiry-b", "SKU-EXP-FREEZE")
	b.Spec.ExpiresAt = &metav1.Time{Time: now.Add(30 * time.Minute)}
	create(t, keep, freeze, a, b)
	for _, n := range []string{"expiry-a", "expiry-b"} {
		g.Eventually(func(g Gomega) {
			expectCondition(g, n, tenantryv1alpha1.ConditionExpired, metav1.ConditionFalse, tenantryv1alpha1.ReasonNotExpired)
		}).Should(Succeed())
	}

	// 45 minutes on: both expired, neither frozen (b is within its grace period).
	fakeClock.Step(45 * time.Minute)
	for _, n := range []string{"expiry-a", "expiry-b"} {
		poke(g, n)
		g.Eventually(func(g Gomega) {
			expectCondition(g, n, tenantryv1alpha1.ConditionExpired, metav1.ConditionTrue, tenantryv1alpha1.ReasonPeriodEnded)
			expectCondition(g, n, tenantryv1alpha1.ConditionFrozen, metav1.ConditionFalse, tenantryv1alpha1.ReasonActive)
			g.Expect(*deployment(g, n).Spec.Replicas).To(Equal(int32(2)))
		}).Should(Succeed())
	}

	// Past the grace period: b's plan freezes it, a's does not.
	fakeClock.Step(time.Hour)
	for _, n := range []string{"expiry-a", "expiry-b"} {
		poke(g, n)
	}
	g.Eventually(func(g Gomega) {
		g.Expect(*deployment(g, "expiry-b").Spec.Replicas).To(BeZero())
		rollOut(g, "expiry-b")
		expectCondition(g, "expiry-b", tenantryv1alpha1.ConditionFrozen, metav1.ConditionTrue, tenantryv1alpha1.ReasonFrozenByExpiry)
		g.Expect(getInstance(g, "expiry-b").Spec.Lifecycle).To(Equal(tenantryv1alpha1.LifecycleActive), "the operator never rewrites the spec")
	}).Should(Succeed())
	g.Consistently(func(g Gomega) {
		expectCondition(g, "expiry-a", tenantryv1alpha1.ConditionFrozen, metav1.ConditionFalse, tenantryv1alpha1.ReasonActive)
		g.Expect(*deployment(g, "expiry-a").Spec.Replicas).To(Equal(int32(2)))
	}, time.Second).Should(Succeed())

	// A renewal moves the expiry into the future: b thaws.
	updateInstance(t, "expiry-b", func(ti *tenantryv1alpha1.TenantInstance) {
		ti.Spec.ExpiresAt = &metav1.Time{Time: fakeClock.Now().Add(30 * 24 * time.Hour)}
	})
	g.Eventually(func(g Gomega) {
		expectCondition(g, "expiry-b", tenantryv1alpha1.ConditionExpired, metav1.ConditionFalse, tenantryv1alpha1.ReasonNotExpired)
		expectCondition(g, "expiry-b", tenantryv1alpha1.ConditionFrozen, metav1.ConditionFalse, tenantryv1alpha1.ReasonActive)
		g.Expect(*deployment(g, "expiry-b").Spec.Replicas).To(Equal(int32(2)))
	}).Should(Succeed())
}

func TestReleaseDeletesTheNamespaceThenLetsGo(t *testing.T) {
	g := NewWithT(t)
	create(t, newPlan("release-plan", "SKU-RELEASE"), newInstance("release1", "SKU-RELEASE"))
	ns := tenantryv1alpha1.NamespaceName("release1")
	g.Eventually(func(g Gomega) { deployment(g, "release1") }).Should(Succeed())

	rollOut(g, "release1")

	g.Expect(k8s.Delete(context.Background(), newInstance("release1", ""))).To(Succeed())
	// First the app is scaled to zero, and the namespace stays while its pods stop: running,
	// then terminating.
	g.Eventually(func(g Gomega) { g.Expect(*deployment(g, "release1").Spec.Replicas).To(BeZero()) }).Should(Succeed())
	for _, left := range []struct{ running, terminating int32 }{{2, 0}, {0, 1}} {
		podsLeft(g, "release1", left.running, left.terminating)
		g.Consistently(func(g Gomega) { g.Expect(namespaceDeleting(g, ns)).To(BeFalse()) }, time.Second).Should(Succeed())
	}
	// The finalizer holds the instance while the namespace still exists.
	releasing := func(g Gomega) {
		ti := getInstance(g, "release1")
		g.Expect(ti.Finalizers).To(ContainElement(tenantryv1alpha1.Finalizer))
		g.Expect(ti.Status.State).To(Equal(tenantryv1alpha1.StateReleasing))
	}
	g.Eventually(releasing).Should(Succeed())

	// No pod left: the namespace goes.
	podsLeft(g, "release1", 0, 0)
	g.Eventually(func(g Gomega) { g.Expect(namespaceDeleting(g, ns)).To(BeTrue()) }).Should(Succeed())
	g.Consistently(releasing, time.Second).Should(Succeed())

	g.Eventually(func(g Gomega) { finalizeNamespace(g, ns) }).Should(Succeed())
	g.Eventually(func() bool {
		err := k8s.Get(context.Background(), client.ObjectKey{Name: "release1"}, &tenantryv1alpha1.TenantInstance{})
		return apierrors.IsNotFound(err)
	}).Should(BeTrue())
}

func TestReleaseDeletesTheNamespaceAfterTheDrainTimeout(t *testing.T) {
	g := NewWithT(t)
	fakeClock.SetTime(time.Now())
	create(t, newPlan("stuck-plan", "SKU-STUCK"), newInstance("stuck1", "SKU-STUCK"))
	ns := tenantryv1alpha1.NamespaceName("stuck1")
	g.Eventually(func(g Gomega) { deployment(g, "stuck1") }).Should(Succeed())

	g.Expect(k8s.Delete(context.Background(), newInstance("stuck1", ""))).To(Succeed())
	g.Eventually(func(g Gomega) { g.Expect(*deployment(g, "stuck1").Spec.Replicas).To(BeZero()) }).Should(Succeed())
	// A pod that never stops (its node is gone, say).
	podsLeft(g, "stuck1", 0, 1)
	g.Consistently(func(g Gomega) { g.Expect(namespaceDeleting(g, ns)).To(BeFalse()) }, time.Second).Should(Succeed())

	deleted := getInstance(g, "stuck1").DeletionTimestamp.Time
	fakeClock.SetTime(deleted.Add(controllers.DefaultReleaseDrainTimeout + time.Second))
	poke(g, "stuck1")
	g.Eventually(func(g Gomega) { g.Expect(namespaceDeleting(g, ns)).To(BeTrue()) }).Should(Succeed())
	g.Eventually(func(g Gomega) { finalizeNamespace(g, ns) }).Should(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(context.Background(), client.ObjectKey{Name: "stuck1"}, &tenantryv1alpha1.TenantInstance{}))
	}).Should(BeTrue())
}

func TestRetentionKeepsAReleasedTenantFrozenUntilItEnds(t *testing.T) {
	g := NewWithT(t)
	plan := newPlan("retain-plan", "SKU-RETAIN")
	plan.Spec.RetentionPeriod = &metav1.Duration{Duration: 7 * 24 * time.Hour}
	create(t, plan, newInstance("retain1", "SKU-RETAIN"))
	ns := tenantryv1alpha1.NamespaceName("retain1")
	g.Eventually(func(g Gomega) { g.Expect(*deployment(g, "retain1").Spec.Replicas).To(Equal(int32(2))) }).Should(Succeed())

	g.Expect(k8s.Delete(context.Background(), newInstance("retain1", ""))).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(*deployment(g, "retain1").Spec.Replicas).To(BeZero())
		expectCondition(g, "retain1", tenantryv1alpha1.ConditionReady, metav1.ConditionFalse, tenantryv1alpha1.ReasonRetained)
	}).Should(Succeed())
	g.Consistently(func(g Gomega) {
		n := &corev1.Namespace{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: ns}, n)).To(Succeed())
		g.Expect(n.DeletionTimestamp).To(BeNil())
	}, time.Second).Should(Succeed())

	// The deletion time comes from the API server's clock; step well past the retention.
	fakeClock.SetTime(time.Now().Add(8 * 24 * time.Hour))
	poke(g, "retain1")
	g.Eventually(func(g Gomega) { finalizeNamespace(g, ns) }).Should(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8s.Get(context.Background(), client.ObjectKey{Name: "retain1"}, &tenantryv1alpha1.TenantInstance{}))
	}).Should(BeTrue())
}

func TestDriftIsRepaired(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	create(t, newPlan("drift-plan", "SKU-DRIFT"), newInstance("drift1", "SKU-DRIFT"))
	ns := tenantryv1alpha1.NamespaceName("drift1")
	g.Eventually(func(g Gomega) { deployment(g, "drift1") }).Should(Succeed())
	g.Eventually(func(g Gomega) { secret(g, ns, tenantryv1alpha1.AdminSecretName) }).Should(Succeed())

	// Someone scales the app by hand and swaps its image: the operator puts both back.
	d := deployment(g, "drift1")
	d.Spec.Replicas = ptr.To[int32](7)
	d.Spec.Template.Spec.Containers[0].Image = "evil.example.com/app:latest"
	g.Expect(k8s.Update(ctx, d)).To(Succeed())
	g.Eventually(func(g Gomega) {
		d := deployment(g, "drift1")
		g.Expect(*d.Spec.Replicas).To(Equal(int32(2)))
		g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal("registry.example.com/app:1.0"))
	}).Should(Succeed())

	// Deleted children come back.
	for _, o := range []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.AppName}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.NetworkPolicyName}},
		&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.AppName}},
		&corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tenantryv1alpha1.QuotaName}},
		&corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.LimitRangeName}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.SuspendedName}},
	} {
		old := o.DeepCopyObject().(client.Object)
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(o), old)).To(Succeed())
		g.Expect(k8s.Delete(ctx, o)).To(Succeed())
		g.Eventually(func(g Gomega) {
			now := o.DeepCopyObject().(client.Object)
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(o), now)).To(Succeed())
			g.Expect(now.GetUID()).NotTo(Equal(old.GetUID()))
		}).Should(Succeed(), "%T was not recreated", o)
	}

	// A deleted admin account cannot be put back (its password is kept nowhere else): a new one
	// is made, and a warning says so. The first one made no Event; the status names it. The
	// operator cannot watch Secrets: it finds the account gone at the next change of the instance.
	g.Eventually(func(g Gomega) {
		g.Expect(getInstance(g, "drift1").Status.AdminAccountSecretRef).NotTo(BeNil())
	}).Should(Succeed())
	g.Expect(eventReasons(g, "drift1")).NotTo(ContainElement("AdminAccountRecreated"))
	admin := secret(g, ns, tenantryv1alpha1.AdminSecretName)
	g.Expect(k8s.Delete(ctx, admin)).To(Succeed())
	poke(g, "drift1")
	g.Eventually(func(g Gomega) {
		g.Expect(secret(g, ns, tenantryv1alpha1.AdminSecretName).UID).NotTo(Equal(admin.UID))
		g.Expect(eventReasons(g, "drift1")).To(ContainElement("AdminAccountRecreated"))
	}).Should(Succeed())

	// A label the operator owns is restored; a label someone else adds is left alone.
	n := &corev1.Namespace{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Name: ns}, n)).To(Succeed())
	n.Labels["pod-security.kubernetes.io/enforce"] = "privileged"
	n.Labels["team"] = "sre"
	g.Expect(k8s.Update(ctx, n)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: ns}, n)).To(Succeed())
		g.Expect(n.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))
		g.Expect(n.Labels).To(HaveKeyWithValue("team", "sre"))
	}).Should(Succeed())
}

func TestMissingPlanStallsWithoutLoopingAndResumesWhenItAppears(t *testing.T) {
	g := NewWithT(t)
	create(t, newInstance("late1", "SKU-LATE"))
	g.Eventually(func(g Gomega) {
		ti := expectCondition(g, "late1", tenantryv1alpha1.ConditionStalled, metav1.ConditionTrue, tenantryv1alpha1.ReasonPlanNotFound)
		g.Expect(condition(ti, tenantryv1alpha1.ConditionStalled).Message).To(ContainSubstring(`"SKU-LATE"`))
		g.Expect(ti.Status.State).To(Equal(tenantryv1alpha1.StateStalled))
		expectCondition(g, "late1", tenantryv1alpha1.ConditionReady, metav1.ConditionFalse, tenantryv1alpha1.ReasonPlanNotFound)
		g.Expect(eventReasons(g, "late1")).To(ContainElement(tenantryv1alpha1.ReasonPlanNotFound))
	}).Should(Succeed())
	// No hot loop: nothing is rewritten while nothing changes.
	rv := getInstance(g, "late1").ResourceVersion
	g.Consistently(func(g Gomega) { g.Expect(getInstance(g, "late1").ResourceVersion).To(Equal(rv)) }, 2*time.Second).Should(Succeed())
	g.Expect(apierrors.IsNotFound(k8s.Get(context.Background(), client.ObjectKey{Name: tenantryv1alpha1.NamespaceName("late1")}, &corev1.Namespace{}))).To(BeTrue())

	create(t, newPlan("late-plan", "SKU-LATE"))
	g.Eventually(func(g Gomega) {
		ti := getInstance(g, "late1")
		g.Expect(condition(ti, tenantryv1alpha1.ConditionStalled)).To(BeNil())
		g.Expect(ti.Status.Plan).To(Equal("late-plan"))
		deployment(g, "late1")
	}).Should(Succeed())

	// A second plan claiming the same SKU is ambiguous: the tenant stalls and says which plans.
	create(t, newPlan("late-plan-2", "SKU-LATE"))
	g.Eventually(func(g Gomega) {
		expectCondition(g, "late1", tenantryv1alpha1.ConditionStalled, metav1.ConditionTrue, tenantryv1alpha1.ReasonPlanAmbiguous)
	}).Should(Succeed())
	g.Expect(k8s.Delete(context.Background(), &tenantryv1alpha1.TenantPlan{ObjectMeta: metav1.ObjectMeta{Name: "late-plan-2"}})).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(condition(getInstance(g, "late1"), tenantryv1alpha1.ConditionStalled)).To(BeNil())
	}).Should(Succeed())
}

func TestApplicationCredentialsAreDecryptedIntoTheTenantNamespace(t *testing.T) {
	g := NewWithT(t)
	ciphertext, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &merchantKey.PublicKey, []byte("s3cr3t-client"), nil)
	g.Expect(err).NotTo(HaveOccurred())
	ti := newInstance("kit1", "SKU-KIT")
	ti.Spec.Tenant = &tenantryv1alpha1.Tenant{
		TenantID: "68cbc86abc2018ab880d92f36422fa0e", TenantCode: "huawei", Name: "Example",
		Applications: []tenantryv1alpha1.TenantApplication{{
			AppID: "app1", ClientID: "client-1", EncryptedClientSecret: base64.StdEncoding.EncodeToString(ciphertext),
		}},
	}
	create(t, newPlan("kit-plan", "SKU-KIT"), ti)
	g.Eventually(func(g Gomega) {
		s := secret(g, tenantryv1alpha1.NamespaceName("kit1"), controllers.AppCredentialsName)
		g.Expect(s.Data).To(HaveKeyWithValue("app1.clientId", []byte("client-1")))
		g.Expect(s.Data).To(HaveKeyWithValue("app1.clientSecret", []byte("s3cr3t-client")))
	}).Should(Succeed())
}

// TestDirectoryIsProjectedIntoTheTenantNamespace: directory shards the bridge writes once the
// tenant is running reach the tenant namespace, users sorted and the JSON as the app reads it, and
// a shard's change reaches its ConfigMap. TestDirectoryShardsOfTheBoundTenantAreProjected covers
// which shards are projected, the mounts, rebinding and removal.
func TestDirectoryIsProjectedIntoTheTenantNamespace(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ti := newInstance("dir1", "SKU-DIR")
	ti.Spec.Tenant = &tenantryv1alpha1.Tenant{TenantID: "t-1"}
	create(t, newPlan("dir-plan", "SKU-DIR"), ti)
	g.Eventually(func(g Gomega) { deployment(g, "dir1") }).Should(Succeed())

	// The shards appear after the tenant is provisioned, as the bridge writes them.
	shardOf := func(part tenantryv1alpha1.DirectoryPart) *tenantryv1alpha1.TenantDirectory {
		return &tenantryv1alpha1.TenantDirectory{
			ObjectMeta: metav1.ObjectMeta{Name: tenantryv1alpha1.DirectoryShardName("dir1", part, 0),
				Labels: map[string]string{tenantryv1alpha1.LabelInstance: "dir1"}},
			Spec: tenantryv1alpha1.TenantDirectorySpec{InstanceName: "dir1", Part: part, TenantID: "t-1"},
		}
	}
	users, orgs := shardOf(tenantryv1alpha1.DirectoryUsers), shardOf(tenantryv1alpha1.DirectoryOrgs)
	users.Spec.Users = []tenantryv1alpha1.DirectoryUser{
		{AppID: "app1", UserName: "zoe", Role: "admin", Enabled: true},
		{AppID: "app1", UserName: "adam", Role: "user"},
	}
	users.Spec.UserCount = 2
	orgs.Spec.Orgs = []tenantryv1alpha1.DirectoryOrg{{OrgCode: "rd", OrgName: "R&D"}}
	orgs.Spec.OrgCount = 1
	create(t, users, orgs)
	projected := func(g Gomega, part tenantryv1alpha1.DirectoryPart) string {
		cm := &corev1.ConfigMap{}
		g.ExpectWithOffset(1, k8s.Get(ctx, client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName("dir1"), Name: controllers.DirectoryShardConfigMapName(part, 0)}, cm)).To(Succeed())
		return cm.Data[controllers.DirectoryShardFile(part, 0)]
	}
	index := func(g Gomega) controllers.DirectoryIndex {
		cm := &corev1.ConfigMap{}
		g.ExpectWithOffset(1, k8s.Get(ctx, client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName("dir1"), Name: controllers.DirectoryName}, cm)).To(Succeed())
		var idx controllers.DirectoryIndex
		g.ExpectWithOffset(1, json.Unmarshal([]byte(cm.Data["index.json"]), &idx)).To(Succeed())
		return idx
	}
	g.Eventually(func(g Gomega) {
		g.Expect(projected(g, tenantryv1alpha1.DirectoryUsers)).To(Equal(`[{"appId":"app1","userName":"adam","role":"user"},{"appId":"app1","userName":"zoe","role":"admin","enabled":true}]`))
		g.Expect(projected(g, tenantryv1alpha1.DirectoryOrgs)).To(Equal(`[{"orgCode":"rd","orgName":"R\u0026D"}]`))
		idx := index(g)
		g.Expect(idx.TenantID).To(Equal("t-1"))
		g.Expect(idx.UserCount).To(Equal(2))
		g.Expect(idx.OrgCount).To(Equal(1))
	}).Should(Succeed())

	// A change to a shard reaches its ConfigMap.
	for _, change := range []struct {
		obj    *tenantryv1alpha1.TenantDirectory
		mutate func(*tenantryv1alpha1.TenantDirectory)
	}{
		{users, func(d *tenantryv1alpha1.TenantDirectory) {
			d.Spec.Users = []tenantryv1alpha1.DirectoryUser{
				{AppID: "app1", UserName: "zoe", Role: "user"},
				{AppID: "app1", UserName: "bob", Role: "admin", Enabled: true},
				{AppID: "app1", UserName: "adam", Role: "user"},
			}
			d.Spec.UserCount = 3
		}},
		{orgs, func(d *tenantryv1alpha1.TenantDirectory) {
			d.Spec.Orgs = []tenantryv1alpha1.DirectoryOrg{{OrgCode: "rd", OrgName: "Research"}, {OrgCode: "ops", OrgName: "Ops", ParentCode: "rd"}}
			d.Spec.OrgCount = 2
		}},
	} {
		g.Eventually(func(g Gomega) {
			d := &tenantryv1alpha1.TenantDirectory{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(change.obj), d)).To(Succeed())
			change.mutate(d)
			g.Expect(k8s.Update(ctx, d)).To(Succeed())
		}).Should(Succeed())
	}
	g.Eventually(func(g Gomega) {
		g.Expect(projected(g, tenantryv1alpha1.DirectoryUsers)).To(Equal(`[{"appId":"app1","userName":"adam","role":"user"},` +
			`{"appId":"app1","userName":"bob","role":"admin","enabled":true},{"appId":"app1","userName":"zoe","role":"user"}]`))
		g.Expect(projected(g, tenantryv1alpha1.DirectoryOrgs)).To(Equal(`[{"orgCode":"ops","orgName":"Ops","parentCode":"rd"},{"orgCode":"rd","orgName":"Research"}]`))
		idx := index(g)
		g.Expect(idx.UserCount).To(Equal(3))
		g.Expect(idx.OrgCount).To(Equal(2))
	}).Should(Succeed())
}

// perUnitPlan grows by half a CPU per unit beyond the first and by a replica per ten units.
func perUnitPlan(name, sku string) *tenantryv1alpha1.TenantPlan {
	p := newPlan(name, sku)
	p.Spec.Replicas = ptr.To[int32](1)
	p.Spec.Quota = corev1.ResourceList{corev1.ResourceLimitsCPU: resource.MustParse("2")}
	p.Spec.PerUnit = &tenantryv1alpha1.PerUnitScaling{
		Quota:           corev1.ResourceList{corev1.ResourceLimitsCPU: resource.MustParse("500m")},
		UnitsPerReplica: 10, MaxReplicas: 4,
	}
	return p
}

func quotaCPU(g Gomega, instance string) resource.Quantity {
	q := &corev1.ResourceQuota{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName(instance), Name: tenantryv1alpha1.QuotaName}, q)).To(Succeed())
	return q.Spec.Hard[corev1.ResourceLimitsCPU]
}

func tenantInfo(g Gomega, instance string) map[string]string {
	cm := &corev1.ConfigMap{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName(instance), Name: controllers.TenantInfoName}, cm)).To(Succeed())
	return cm.Data
}

func appEnv(g Gomega, instance, name string) string {
	for _, e := range deployment(g, instance).Spec.Template.Spec.Containers[0].Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// reconcileQuietly runs a freshly started reconciler over a tenant in sync, three times: it must
// send no write. It returns what the reconciler asked for.
func reconcileQuietly(t *testing.T, name string) ctrl.Result {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	ns := tenantryv1alpha1.NamespaceName(name)
	g.Eventually(func(g Gomega) {
		for key, o := range map[client.ObjectKey]client.Object{
			{Name: name}: &tenantryv1alpha1.TenantInstance{},
			{Namespace: ns, Name: controllers.AppName}:        &appsv1.Deployment{},
			{Namespace: ns, Name: tenantryv1alpha1.QuotaName}: &corev1.ResourceQuota{},
			{Namespace: ns, Name: controllers.TenantInfoName}: &corev1.ConfigMap{},
		} {
			fresh, seen := o.DeepCopyObject().(client.Object), o.DeepCopyObject().(client.Object)
			g.Expect(k8s.Get(ctx, key, fresh)).To(Succeed())
			if _, ok := o.(*tenantryv1alpha1.TenantInstance); ok {
				g.Expect(cached.Get(ctx, key, seen)).To(Succeed())
				g.Expect(seen.GetResourceVersion()).To(Equal(fresh.GetResourceVersion()), "%T %s", o, key)
			} else {
				g.Expect(controllers.ChildVersion(children, key, o)).To(Equal(fresh.GetResourceVersion()), "%T %s", o, key)
			}
		}
	}).Should(Succeed())
	var writes atomic.Int64
	restarted := &controllers.TenantInstanceReconciler{
		Client: controllers.WriteCounter{Client: cached, Writes: &writes}, Scheme: cached.Scheme(), Children: children,
		Clock: fakeClock, SuspendedHost: suspendedHost, SuspendedPort: suspendedPort, MerchantKey: merchantKey,
		RolloutNamespace: rolloutNamespace,
	}
	var res ctrl.Result
	for range 3 {
		var err error
		res, err = restarted.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: name}})
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(writes.Load()).To(BeZero(), "reconciles of a tenant in sync must not write")
	return res
}

func TestQuantityScalesTheQuotaAndReplicasAndTenantFieldsReachTheApp(t *testing.T) {
	g := NewWithT(t)
	create(t, perUnitPlan("qty-plan", "SKU-QTY"), newInstance("qty1", "SKU-QTY"))
	g.Eventually(func(g Gomega) {
		g.Expect(*deployment(g, "qty1").Spec.Replicas).To(Equal(int32(1)))
		g.Expect(quotaCPU(g, "qty1")).To(Equal(resource.MustParse("2")))
		g.Expect(appEnv(g, "qty1", "TENANTRY_QUANTITY")).To(Equal("1"))
		g.Expect(tenantInfo(g, "qty1")).To(Equal(map[string]string{
			"instanceId": "qty1", "sku": "SKU-QTY", "productId": "", "quantity": "1", "url": "http://qty1.apps.example.com",
		}))
	}).Should(Succeed())

	// A scale-out to 25 units: 2 + 24 × 0.5 CPU, one replica per ten units.
	updateInstance(t, "qty1", func(ti *tenantryv1alpha1.TenantInstance) { ti.Spec.Quantity = 25 })
	g.Eventually(func(g Gomega) {
		g.Expect(*deployment(g, "qty1").Spec.Replicas).To(Equal(int32(3)))
		g.Expect(quotaCPU(g, "qty1")).To(Equal(resource.MustParse("14")))
		g.Expect(appEnv(g, "qty1", "TENANTRY_QUANTITY")).To(Equal("25"))
		g.Expect(tenantInfo(g, "qty1")).To(HaveKeyWithValue("quantity", "25"))
		g.Expect(getInstance(g, "qty1").Status.Replicas).To(Equal(int32(3)))
	}).Should(Succeed())
	rollOut(g, "qty1")
	g.Eventually(func(g Gomega) {
		expectCondition(g, "qty1", tenantryv1alpha1.ConditionReady, metav1.ConditionTrue, tenantryv1alpha1.ReasonAvailable)
	}).Should(Succeed())
	reconcileQuietly(t, "qty1")

	// A 联营 enterprise is bound, then renamed: the files change, the pod template does not.
	template := deployment(g, "qty1").Spec.Template
	updateInstance(t, "qty1", func(ti *tenantryv1alpha1.TenantInstance) {
		ti.Spec.Tenant = &tenantryv1alpha1.Tenant{TenantID: "t-qty", TenantCode: "acme", Name: "Acme", DomainName: "https://acme.example.com"}
	})
	g.Eventually(func(g Gomega) {
		g.Expect(tenantInfo(g, "qty1")).To(Equal(map[string]string{
			"instanceId": "qty1", "sku": "SKU-QTY", "productId": "", "quantity": "25", "url": "http://qty1.apps.example.com",
			"tenantId": "t-qty", "tenantCode": "acme", "name": "Acme", "domainName": "https://acme.example.com",
		}))
	}).Should(Succeed())
	updateInstance(t, "qty1", func(ti *tenantryv1alpha1.TenantInstance) { ti.Spec.Tenant.Name = "Acme Group" })
	g.Eventually(func(g Gomega) { g.Expect(tenantInfo(g, "qty1")).To(HaveKeyWithValue("name", "Acme Group")) }).Should(Succeed())
	g.Expect(deployment(g, "qty1").Spec.Template).To(Equal(template), "a change of the tenant's names must not restart the app")
}

func TestPendingChangeTakesEffectAtItsTime(t *testing.T) {
	g := NewWithT(t)
	now := fakeClock.Now()
	effective := now.Add(time.Hour)
	ti := newInstance("pending1", "SKU-PC-SMALL")
	ti.Spec.ProductID = "P-1"
	ti.Spec.ExpiresAt = &metav1.Time{Time: now.Add(2 * time.Hour)}
	ti.Spec.PendingChange = &tenantryv1alpha1.PendingChange{
		SKU: "SKU-PC-LARGE", Quantity: 30, ProductID: "P-2", OrderID: "CSRENEWCHANGE1", EffectiveAt: metav1.NewTime(effective),
	}
	create(t, newPlan("pc-small", "SKU-PC-SMALL"), perUnitPlan("pc-large", "SKU-PC-LARGE"), ti)

	// Until the renewed period starts, the tenant runs what it runs and the change waits.
	g.Eventually(func(g Gomega) { rollOut(g, "pending1") }).Should(Succeed())
	g.Eventually(func(g Gomega) {
		ti := expectCondition(g, "pending1", tenantryv1alpha1.ConditionReady, metav1.ConditionTrue, tenantryv1alpha1.ReasonAvailable)
		g.Expect(ti.Status.Plan).To(Equal("pc-small"))
	}).Should(Succeed())
	ti = getInstance(g, "pending1")
	g.Expect(ti.Spec.SKU).To(Equal("SKU-PC-SMALL"))
	g.Expect(ti.Spec.PendingChange).NotTo(BeNil())
	g.Expect(*deployment(g, "pending1").Spec.Replicas).To(Equal(int32(2)))
	// The operator comes back at effectiveAt (not at the later expiry), and meanwhile writes nothing.
	res := reconcileQuietly(t, "pending1")
	// (The API server keeps times to the second: compare with what it stored.)
	g.Expect(res.RequeueAfter).To(Equal(ti.Spec.PendingChange.EffectiveAt.Sub(fakeClock.Now()) + time.Second))
	g.Expect(eventReasons(g, "pending1")).NotTo(ContainElement("PendingChangeApplied"))

	fakeClock.SetTime(effective.Add(time.Minute))
	poke(g, "pending1")
	g.Eventually(func(g Gomega) {
		ti := getInstance(g, "pending1")
		g.Expect(ti.Spec.PendingChange).To(BeNil())
		g.Expect(ti.Spec.SKU).To(Equal("SKU-PC-LARGE"))
		g.Expect(ti.Spec.Quantity).To(Equal(int32(30)))
		g.Expect(ti.Spec.ProductID).To(Equal("P-2"))
		g.Expect(ti.Status.Plan).To(Equal("pc-large"))
		g.Expect(*deployment(g, "pending1").Spec.Replicas).To(Equal(int32(3)))
		g.Expect(quotaCPU(g, "pending1")).To(Equal(resource.MustParse("16500m")))
		g.Expect(tenantInfo(g, "pending1")).To(HaveKeyWithValue("sku", "SKU-PC-LARGE"))
		g.Expect(eventReasons(g, "pending1")).To(ContainElements("PendingChangeApplied", "PlanChanged"))
	}).Should(Succeed())
	list, err := clientset.EventsV1().Events("default").List(context.Background(), metav1.ListOptions{
		FieldSelector: "regarding.name=pending1,reason=PendingChangeApplied",
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(list.Items).To(HaveLen(1))
	g.Expect(list.Items[0].Type).To(Equal(corev1.EventTypeNormal))
	g.Expect(list.Items[0].Note).To(ContainSubstring("CSRENEWCHANGE1"))

	// Settled: the next reconciles write nothing, and come back for the expiry.
	rollOut(g, "pending1")
	g.Eventually(func(g Gomega) {
		expectCondition(g, "pending1", tenantryv1alpha1.ConditionReady, metav1.ConditionTrue, tenantryv1alpha1.ReasonAvailable)
	}).Should(Succeed())
	res = reconcileQuietly(t, "pending1")
	g.Expect(res.RequeueAfter).To(Equal(ti.Spec.ExpiresAt.Sub(fakeClock.Now()) + time.Second))
}

func TestPendingChangeWhoseTimeHasPassedAppliesAtOnce(t *testing.T) {
	g := NewWithT(t)
	ti := newInstance("pending2", "SKU-PC2-A")
	ti.Spec.PendingChange = &tenantryv1alpha1.PendingChange{
		SKU: "SKU-PC2-B", Quantity: 3, OrderID: "CSRENEWCHANGE2", EffectiveAt: metav1.NewTime(fakeClock.Now().Add(-time.Minute)),
	}
	create(t, newPlan("pc2-a", "SKU-PC2-A"), newPlan("pc2-b", "SKU-PC2-B"), ti)
	g.Eventually(func(g Gomega) {
		ti := getInstance(g, "pending2")
		g.Expect(ti.Spec.PendingChange).To(BeNil())
		g.Expect(ti.Spec.SKU).To(Equal("SKU-PC2-B"))
		g.Expect(ti.Spec.Quantity).To(Equal(int32(3)))
		g.Expect(ti.Spec.ProductID).To(BeEmpty(), "a change naming no product keeps the product")
		g.Expect(ti.Status.Plan).To(Equal("pc2-b"))
		g.Expect(appEnv(g, "pending2", "TENANTRY_QUANTITY")).To(Equal("3"))
		g.Expect(eventReasons(g, "pending2")).To(ContainElement("PendingChangeApplied"))
	}).Should(Succeed())
}

func TestPendingChangeToASKUWithoutAPlanStalls(t *testing.T) {
	g := NewWithT(t)
	ti := newInstance("pending3", "SKU-PC3")
	ti.Spec.PendingChange = &tenantryv1alpha1.PendingChange{
		SKU: "SKU-PC3-NOPLAN", Quantity: 1, OrderID: "CSRENEWCHANGE3", EffectiveAt: metav1.NewTime(fakeClock.Now().Add(-time.Minute)),
	}
	create(t, newPlan("pc3", "SKU-PC3"), ti)
	g.Eventually(func(g Gomega) {
		ti := expectCondition(g, "pending3", tenantryv1alpha1.ConditionStalled, metav1.ConditionTrue, tenantryv1alpha1.ReasonPlanNotFound)
		g.Expect(ti.Spec.SKU).To(Equal("SKU-PC3-NOPLAN"))
		g.Expect(ti.Spec.PendingChange).To(BeNil())
	}).Should(Succeed())
}

// TestFreezeReachesTheAppWhenAnOptionalStepFails: an optional part of the tenant that cannot be
// applied on any attempt (here the tenant-info ConfigMap, made immutable with other data, as an
// invalid application id or an oversized directory would) neither holds back a freeze nor lets
// the status claim one: the Deployment goes to zero, and the tenant is Frozen only once it is.
func TestFreezeReachesTheAppWhenAnOptionalStepFails(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	create(t, newPlan("optional-plan", "SKU-OPTIONAL"), newInstance("optional1", "SKU-OPTIONAL"))
	ns := tenantryv1alpha1.NamespaceName("optional1")
	g.Eventually(func(g Gomega) { rollOut(g, "optional1") }).Should(Succeed())
	g.Eventually(func(g Gomega) {
		expectCondition(g, "optional1", tenantryv1alpha1.ConditionReady, metav1.ConditionTrue, tenantryv1alpha1.ReasonAvailable)
	}).Should(Succeed())

	g.Eventually(func(g Gomega) {
		cm := &corev1.ConfigMap{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: controllers.TenantInfoName}, cm)).To(Succeed())
		cm.Data = map[string]string{"tampered": "yes"}
		cm.Immutable = ptr.To(true)
		g.Expect(k8s.Update(ctx, cm)).To(Succeed())
	}).Should(Succeed())
	// The operator has seen the failure.
	g.Eventually(func(g Gomega) {
		expectCondition(g, "optional1", tenantryv1alpha1.ConditionReady, metav1.ConditionFalse, "")
	}).Should(Succeed())

	updateInstance(t, "optional1", func(ti *tenantryv1alpha1.TenantInstance) { ti.Spec.Lifecycle = tenantryv1alpha1.LifecycleFrozen })
	g.Eventually(func(g Gomega) {
		g.Expect(*deployment(g, "optional1").Spec.Replicas).To(BeZero())
		ing := &networkingv1.Ingress{}
		g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: controllers.AppName}, ing)).To(Succeed())
		g.Expect(ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name).To(Equal(controllers.SuspendedName))
	}).Should(Succeed())
	// Asked for zero, two still running: not Frozen.
	g.Consistently(func(g Gomega) {
		ti := getInstance(g, "optional1")
		g.Expect(ti.Status.State).NotTo(Equal(tenantryv1alpha1.StateFrozen))
		g.Expect(meta.IsStatusConditionTrue(ti.Status.Conditions, tenantryv1alpha1.ConditionFrozen)).To(BeFalse())
	}, time.Second).Should(Succeed())

	rollOut(g, "optional1")
	g.Eventually(func(g Gomega) {
		ti := expectCondition(g, "optional1", tenantryv1alpha1.ConditionFrozen, metav1.ConditionTrue, tenantryv1alpha1.ReasonFrozenByMarketplace)
		g.Expect(ti.Status.State).To(Equal(tenantryv1alpha1.StateFrozen))
		// The optional part still fails, and says so.
		expectCondition(g, "optional1", tenantryv1alpha1.ConditionReady, metav1.ConditionFalse, tenantryv1alpha1.ReasonOptionalStepFailed)
	}).Should(Succeed())

	// Once the object can be written again, the tenant is whole.
	g.Expect(k8s.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: controllers.TenantInfoName}})).To(Succeed())
	g.Eventually(func(g Gomega) {
		expectCondition(g, "optional1", tenantryv1alpha1.ConditionReady, metav1.ConditionTrue, tenantryv1alpha1.ConditionFrozen)
	}).Should(Succeed())
}

// TestStatusWritesTheCacheHoldsAreForgotten: once the operator's cache holds its last status
// write to a tenant, the operator keeps nothing of it (an idle tenant's next reconcile may be
// hours away, and at 10,000 tenants the memory shows).
func TestStatusWritesTheCacheHoldsAreForgotten(t *testing.T) {
	g := NewWithT(t)
	create(t, newPlan("seen-plan", "SKU-SEEN-1"), newInstance("seen1", "SKU-SEEN-1"))
	g.Eventually(func(g Gomega) {
		rollOut(g, "seen1")
		expectCondition(g, "seen1", tenantryv1alpha1.ConditionReady, metav1.ConditionTrue, tenantryv1alpha1.ReasonAvailable)
	}).Should(Succeed())
	g.Eventually(func() bool { return controllers.StatusWriteRemembered(operator, "seen1") }).Should(BeFalse(),
		"the operator still remembers a status write its cache holds")
}
