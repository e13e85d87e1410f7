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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
)

// TestNamespaceNotMadeForTheInstanceIsNeverAdopted: an instance whose namespace already exists,
// made by someone else, stalls with NamespaceConflict; nothing is written into the namespace and
// the instance's release leaves it, and what is in it, in place. A namespace carrying the
// operator's label but not the instance's UID is no more the instance's.
func TestNamespaceNotMadeForTheInstanceIsNeverAdopted(t *testing.T) {
	for _, tc := range []struct {
		instance string
		labels   map[string]string
	}{
		{"payments", nil},
		{"payments-forged", map[string]string{tenantryv1alpha1.LabelManagedBy: tenantryv1alpha1.ManagedByValue, tenantryv1alpha1.LabelInstance: "payments-forged"}},
	} {
		t.Run(tc.instance, func(t *testing.T) {
			g := NewWithT(t)
			ctx := context.Background()
			ns := tenantryv1alpha1.NamespaceName(tc.instance)
			web := &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
				Spec: appsv1.DeploymentSpec{
					Replicas: ptr.To[int32](3),
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
						Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "registry.example.com/web:1"}}},
					},
				},
			}
			create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: tc.labels}}, web)
			create(t, newPlan("plan-"+tc.instance, "SKU-"+tc.instance), newInstance(tc.instance, "SKU-"+tc.instance))

			g.Eventually(func(g Gomega) {
				ti := expectCondition(g, tc.instance, tenantryv1alpha1.ConditionStalled, metav1.ConditionTrue, tenantryv1alpha1.ReasonNamespaceConflict)
				g.Expect(condition(ti, tenantryv1alpha1.ConditionStalled).Message).To(ContainSubstring(ns))
				g.Expect(ti.Status.State).To(Equal(tenantryv1alpha1.StateStalled))
			}).Should(Succeed())
			g.Consistently(func(g Gomega) {
				err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: controllers.AppName}, &appsv1.Deployment{})
				g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "no app Deployment in a namespace not the operator's")
				secrets := &corev1.SecretList{}
				g.Expect(k8s.List(ctx, secrets, client.InNamespace(ns))).To(Succeed())
				g.Expect(secrets.Items).To(BeEmpty())
				n := &corev1.Namespace{}
				g.Expect(k8s.Get(ctx, client.ObjectKey{Name: ns}, n)).To(Succeed())
				g.Expect(n.Annotations).NotTo(HaveKey(tenantryv1alpha1.AnnotationInstanceUID))
				g.Expect(n.Labels).NotTo(HaveKey("pod-security.kubernetes.io/enforce"))
			}, time.Second).Should(Succeed())
			kept := &appsv1.Deployment{}
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, kept)).To(Succeed())
			g.Expect(kept.ResourceVersion).To(Equal(web.ResourceVersion))

			g.Expect(k8s.Delete(ctx, newInstance(tc.instance, ""))).To(Succeed())
			g.Eventually(func() bool {
				return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKey{Name: tc.instance}, &tenantryv1alpha1.TenantInstance{}))
			}).Should(BeTrue())
			g.Expect(namespaceDeleting(g, ns)).To(BeFalse())
			g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, kept)).To(Succeed())
			g.Expect(kept.ResourceVersion).To(Equal(web.ResourceVersion))
		})
	}
}
