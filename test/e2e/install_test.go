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
	"context"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/testenv"
	"github.com/tenantry/tenantry/test/e2e/framework"
)

var _ = Describe("The installed chart", Label("install"), func() {
	// The spec installs nothing itself: the suite's setup labelled the release namespace to
	// enforce the restricted Pod Security Standard before installing the chart, so the chart's
	// Pods exist only if admission accepted them. kwok then reports them Running.
	It("runs Pods admitted under the restricted Pod Security Standard", func(ctx SpecContext) {
		chartPodsAdmittedUnderRestricted(ctx, Default)
	})
})

func chartPodsAdmittedUnderRestricted(ctx context.Context, g Gomega) {

	ns := &corev1.Namespace{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Name: framework.Namespace}, ns)).To(Succeed())
	g.Expect(ns.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))

	// The namespace really enforces: a Pod that is not restricted is refused.
	bad := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "not-restricted", Namespace: framework.Namespace},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.example.com/x:1"}}},
	}
	err := admin.Create(ctx, bad, client.DryRunAll)
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), "a Pod without a restricted security context was admitted: %v", err)
	g.Expect(err.Error()).To(ContainSubstring("restricted"))

	deployments := &appsv1.DeploymentList{}
	g.Expect(admin.List(ctx, deployments, client.InNamespace(framework.Namespace))).To(Succeed())
	names := []string{}
	for _, d := range deployments.Items {
		names = append(names, d.Name)
	}
	g.Expect(names).To(ContainElements(framework.Release+"-manager", framework.Release+"-webhookbridge"))

	for _, d := range deployments.Items {
		g.Expect(d.Spec.Replicas).To(HaveValue(BeNumerically(">", 0)), "the test installs every Deployment with replicas")
		selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		g.Expect(err).NotTo(HaveOccurred())
		g.Eventually(func(g Gomega) {
			pods := &corev1.PodList{}
			g.Expect(admin.List(ctx, pods, client.InNamespace(framework.Namespace), client.MatchingLabelsSelector{Selector: selector})).To(Succeed())
			g.Expect(pods.Items).To(HaveLen(int(*d.Spec.Replicas)), "Deployment %s: %s", d.Name, replicaFailure(g, d.Name, selector))
			for _, p := range pods.Items {
				g.Expect(p.Status.Phase).To(Equal(corev1.PodRunning), "pod %s", p.Name)
				g.Expect(p.Spec.ServiceAccountName).To(HavePrefix(framework.Release + "-"))
			}
		}).Should(Succeed())
	}
}

// replicaFailure is the ReplicaFailure message of a Deployment's ReplicaSets, which is where a
// Pod refused by admission shows.
func replicaFailure(g Gomega, deployment string, selector labels.Selector) string {
	sets := &appsv1.ReplicaSetList{}
	g.Expect(admin.List(context.Background(), sets, client.InNamespace(framework.Namespace), client.MatchingLabelsSelector{Selector: selector})).To(Succeed())
	for _, rs := range sets.Items {
		for _, c := range rs.Status.Conditions {
			if c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue {
				return c.Message
			}
		}
	}
	return "no ReplicaFailure condition"
}

// access is one question to the authorizer.
type access struct {
	verb, group, resource, subresource, namespace, name string
}

func (a access) String() string {
	r := a.resource
	if a.group != "" {
		r += "." + a.group
	}
	if a.subresource != "" {
		r += "/" + a.subresource
	}
	s := a.verb + " " + r
	if a.name != "" {
		s += " " + a.name
	}
	if a.namespace != "" {
		s += " in " + a.namespace
	}
	return s
}

// allowed asks the API server whether cfg's identity may do a.
func allowed(g Gomega, cfg *rest.Config, a access) bool {
	cs, err := kubernetes.NewForConfig(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	review, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(context.Background(), &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource, Namespace: a.namespace, Name: a.name,
		}},
	}, metav1.CreateOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	return review.Status.Allowed
}

const tenantNS = "tenant-ti-0123456789abcdef0123" // any tenant namespace: the roles are cluster-wide

// identity is what one binary's ServiceAccount may and may not do.
type identity struct {
	name    string
	cfg     func() *rest.Config
	user    string
	allow   []access
	refused []access
}

const ti, tp = "tenantinstances", "tenantplans"

var grp = tenantryv1alpha1.GroupVersion.Group

var bridgeIdentity = identity{
	name: "webhookbridge",
	cfg:  func() *rest.Config { return bridgeCfg },
	user: "system:serviceaccount:" + framework.Namespace + ":" + framework.BridgeServiceAccount,
	allow: []access{
		{verb: "create", group: grp, resource: ti}, {verb: "get", group: grp, resource: ti},
		{verb: "update", group: grp, resource: ti}, {verb: "patch", group: grp, resource: ti},
		{verb: "delete", group: grp, resource: ti},
		{verb: "create", group: grp, resource: "tenantdirectories"}, {verb: "update", group: grp, resource: "tenantdirectories"},
		{verb: "list", group: grp, resource: tp}, {verb: "get", group: grp, resource: tp},
		{verb: "create", group: "events.k8s.io", resource: "events", namespace: tenantNS},
		{verb: "get", resource: "secrets", namespace: tenantNS, name: "tenant-admin"},
		{verb: "get", resource: "resourcequotas", namespace: tenantNS, name: "tenant-quota"},
		{verb: "create", group: grp, resource: "tenanthosts"},
		{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: framework.Namespace},
	},
	refused: []access{
		{verb: "update", group: grp, resource: ti, subresource: "status"},
		{verb: "patch", group: grp, resource: ti, subresource: "status"},
		{verb: "create", group: grp, resource: tp}, {verb: "update", group: grp, resource: tp}, {verb: "delete", group: grp, resource: tp},
		{verb: "get", group: "apps", resource: "deployments", namespace: tenantNS, name: "app"},
		{verb: "list", group: "apps", resource: "deployments"},
		{verb: "list", resource: "secrets"}, {verb: "list", resource: "secrets", namespace: tenantNS},
		{verb: "get", resource: "secrets", namespace: framework.Namespace, name: framework.KeysSecret},
		{verb: "get", resource: "secrets", namespace: tenantNS, name: "tenantry-shared-tls"},
		{verb: "get", resource: "resourcequotas", namespace: tenantNS, name: "other"},
		{verb: "create", resource: "namespaces"}, {verb: "delete", resource: "namespaces"},
		{verb: "create", resource: "pods", namespace: tenantNS}, {verb: "create", resource: "pods", subresource: "exec", namespace: tenantNS},
		{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: tenantNS},
		{verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: framework.Namespace},
		{verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings"},
		{verb: "impersonate", resource: "serviceaccounts"},
	},
}

var managerIdentity = identity{
	name: "manager",
	cfg:  func() *rest.Config { return managerCfg },
	user: "system:serviceaccount:" + framework.Namespace + ":" + framework.ManagerServiceAccount,
	allow: []access{
		{verb: "watch", group: grp, resource: ti}, {verb: "patch", group: grp, resource: ti},
		{verb: "patch", group: grp, resource: ti, subresource: "status"},
		{verb: "update", group: grp, resource: ti, subresource: "finalizers"},
		{verb: "watch", group: grp, resource: tp}, {verb: "watch", group: grp, resource: "tenantdirectories"},
		{verb: "create", resource: "namespaces"}, {verb: "delete", resource: "namespaces"},
		{verb: "patch", group: "apps", resource: "deployments", namespace: tenantNS},
		{verb: "patch", resource: "services", namespace: tenantNS}, {verb: "patch", resource: "secrets", namespace: tenantNS},
		{verb: "patch", resource: "configmaps", namespace: tenantNS}, {verb: "patch", resource: "resourcequotas", namespace: tenantNS},
		{verb: "patch", resource: "limitranges", namespace: tenantNS},
		{verb: "patch", group: "networking.k8s.io", resource: "networkpolicies", namespace: tenantNS},
		{verb: "patch", group: "networking.k8s.io", resource: "ingresses", namespace: tenantNS},
		{verb: "create", group: "events.k8s.io", resource: "events", namespace: tenantNS},
		{verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: framework.Namespace},
	},
	refused: []access{
		{verb: "create", group: grp, resource: ti}, {verb: "delete", group: grp, resource: ti},
		{verb: "create", group: grp, resource: tp}, {verb: "update", group: grp, resource: tp}, {verb: "delete", group: grp, resource: tp},
		{verb: "update", group: grp, resource: "tenantdirectories"},
		{verb: "create", resource: "pods", namespace: tenantNS}, {verb: "create", resource: "pods", subresource: "exec", namespace: tenantNS},
		{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "kube-system"},
		{verb: "create", group: "rbac.authorization.k8s.io", resource: "rolebindings", namespace: tenantNS},
		{verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings"},
		{verb: "update", group: "apiextensions.k8s.io", resource: "customresourcedefinitions"},
		{verb: "list", resource: "nodes"},
		{verb: "impersonate", resource: "serviceaccounts"},
		// It writes Secrets but reads none outside sharedTLS.namespaces (empty here).
		{verb: "get", resource: "secrets", namespace: framework.Namespace, name: framework.KeysSecret},
		{verb: "list", resource: "secrets", namespace: framework.Namespace},
		{verb: "get", resource: "secrets", namespace: tenantNS, name: "tenant-admin"},
		{verb: "list", resource: "secrets"}, {verb: "watch", resource: "secrets"},
	},
}

// The ServiceAccounts the chart creates let the binaries do their work and nothing else, judged
// by asking the authorizer and by making real requests with their tokens.
var _ = Describe("The chart's ServiceAccounts", Label("install", "rbac"), func() {
	DescribeTable("allow their binary its work and nothing else, by the authorizer",
		func(ctx SpecContext, tc identity) {
			g := Default
			cs, err := kubernetes.NewForConfig(tc.cfg())
			g.Expect(err).NotTo(HaveOccurred())
			who, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(who.Status.UserInfo.Username).To(Equal(tc.user), "the binary's kubeconfig is not the chart's ServiceAccount")
			for _, a := range tc.allow {
				g.Expect(allowed(g, tc.cfg(), a)).To(BeTrue(), "%s may not %s", tc.name, a)
			}
			for _, a := range tc.refused {
				g.Expect(allowed(g, tc.cfg(), a)).To(BeFalse(), "%s may %s", tc.name, a)
			}
		},
		Entry("webhookbridge", bridgeIdentity),
		Entry("manager", managerIdentity),
	)

	// The same with real requests: authorization comes before the object is looked up, so a
	// refusal is Forbidden whether or not the object exists.
	It("refuse the webhookbridge's requests beyond its work", func(ctx SpecContext) {
		g := Default
		c := as(g, bridgeCfg)
		g.Expect(c.List(ctx, &tenantryv1alpha1.TenantPlanList{})).To(Succeed())
		forbidden(g, c.List(ctx, &appsv1.DeploymentList{}), "list Deployments")
		forbidden(g, c.Get(ctx, client.ObjectKey{Namespace: framework.Namespace, Name: framework.KeysSecret}, &corev1.Secret{}), "read the keys Secret")
		forbidden(g, c.List(ctx, &corev1.SecretList{}, client.InNamespace(framework.Namespace)), "list Secrets")
		status := &tenantryv1alpha1.TenantInstance{ObjectMeta: metav1.ObjectMeta{Name: "ti-00000000000000000000"}}
		forbidden(g, c.Status().Update(ctx, status), "update a TenantInstance status")
		forbidden(g, c.Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "e2e-escalation"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: framework.BridgeServiceAccount, Namespace: framework.Namespace}},
		}), "bind cluster-admin")
	})
	It("refuse the manager's requests beyond its work", func(ctx SpecContext) {
		g := Default
		c := as(g, managerCfg)
		// The running operator holds its leader-election Lease in the release namespace.
		lease := &coordinationv1.Lease{}
		g.Eventually(func(g Gomega) {
			g.Expect(c.Get(ctx, client.ObjectKey{Namespace: framework.Namespace, Name: "tenantry-operator.tenantry.io"}, lease)).To(Succeed())
			g.Expect(lease.Spec.HolderIdentity).To(HaveValue(Not(BeEmpty())))
		}).Should(Succeed())
		forbidden(g, c.Create(ctx, &tenantryv1alpha1.TenantPlan{
			ObjectMeta: metav1.ObjectMeta{Name: "e2e-forbidden"},
			Spec:       tenantryv1alpha1.TenantPlanSpec{SKUs: []string{"e2e.forbidden"}, App: tenantryv1alpha1.AppSpec{Image: "x"}},
		}), "create a TenantPlan")
		forbidden(g, c.Delete(ctx, &tenantryv1alpha1.TenantInstance{ObjectMeta: metav1.ObjectMeta{Name: "ti-00000000000000000000"}}), "delete a TenantInstance")
		forbidden(g, c.Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "e2e-forbidden", Namespace: "default"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "x"}}},
		}), "create a Pod")
		forbidden(g, c.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: "e2e-forbidden", Namespace: "kube-system"},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To("e2e")},
		}), "create a Lease outside the release namespace")
		forbidden(g, c.Get(ctx, client.ObjectKey{Namespace: framework.Namespace, Name: framework.KeysSecret}, &corev1.Secret{}), "read the keys Secret")
		forbidden(g, c.List(ctx, &corev1.SecretList{}), "list Secrets")
	})
})

func as(g Gomega, cfg *rest.Config) client.Client {
	c, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	return c
}

func forbidden(g Gomega, err error, what string) {
	g.Expect(apierrors.IsForbidden(err)).To(BeTrue(), fmt.Sprintf("%s: want Forbidden, got %v", what, err))
}
