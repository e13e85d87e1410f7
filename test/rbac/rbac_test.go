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

// Package rbac_test audits the generated RBAC of config/rbac in a real API server: no wildcards,
// nothing that escalates, and for each ServiceAccount — impersonated — exactly the access its
// binary needs, checked both with SubjectAccessReviews and with real requests.
package rbac_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/testenv"
)

const (
	systemNS  = "tenantry-system"
	bridgeSA  = "tenantry-webhookbridge"
	managerSA = "tenantry-manager"
	tenantNS  = "tenant-ti-0000000000000000rbac"
	grp       = "tenantry.io"
)

// access is one request attribute set, as a SubjectAccessReview asks it.
type access struct {
	verb, group, resource, subresource, namespace, name string
}

func (a access) String() string {
	s := a.verb + " " + a.resource
	if a.subresource != "" {
		s += "/" + a.subresource
	}
	if a.group != "" {
		s += "." + a.group
	}
	if a.name != "" {
		s += " " + a.name
	}
	if a.namespace != "" {
		s += " in " + a.namespace
	}
	return s
}

// rbacObjects reads every manifest of config/rbac that kustomization.yaml installs.
func rbacObjects(g Gomega) []client.Object {
	dir := filepath.Join(testenv.Root(), "config", "rbac")
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var kustomization struct {
		Resources []string `json:"resources"`
	}
	g.Expect(yaml.Unmarshal(raw, &kustomization)).To(Succeed())
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var listed []string
	for _, f := range files {
		if filepath.Base(f) != "kustomization.yaml" {
			listed = append(listed, filepath.Base(f))
		}
	}
	g.Expect(kustomization.Resources).To(ConsistOf(listed), "every manifest in config/rbac is installed, so the audit covers what is deployed")

	decode := serializer.NewCodecFactory(testenv.Scheme()).UniversalDeserializer()
	var objs []client.Object
	for _, name := range kustomization.Resources {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		g.Expect(err).NotTo(HaveOccurred())
		for _, doc := range bytes.Split(raw, []byte("\n---")) {
			if len(bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(doc), []byte("---")))) == 0 {
				continue
			}
			obj, _, err := decode.Decode(doc, nil, nil)
			g.Expect(err).NotTo(HaveOccurred(), "decoding %s", name)
			objs = append(objs, obj.(client.Object))
		}
	}
	return objs
}

// scheme knows the built-in kinds, tenantry.io and CRDs.
func scheme() *runtime.Scheme {
	s := testenv.Scheme()
	utilruntime.Must(apiextensionsv1.AddToScheme(s))
	return s
}

func saUser(name string) string { return "system:serviceaccount:" + systemNS + ":" + name }

// impersonate is cfg acting as a ServiceAccount, with the groups its token would carry.
func impersonate(cfg *rest.Config, sa string) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.Impersonate = rest.ImpersonationConfig{
		UserName: saUser(sa),
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + systemNS, "system:authenticated"},
	}
	return c
}

func allowed(g Gomega, cs kubernetes.Interface, sa string, a access) bool {
	review, err := cs.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   saUser(sa),
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + systemNS, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: a.namespace, Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource, Name: a.name,
			},
		},
	}, metav1.CreateOptions{})
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return review.Status.Allowed
}

func forbidden(g Gomega, err error, what string) {
	g.ExpectWithOffset(1, apierrors.IsForbidden(err)).To(BeTrue(), "%s: want Forbidden, got %v", what, err)
}

func TestRBAC(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs an API server")
	}
	g := NewWithT(t)
	ctx := context.Background()
	env, cfg, err := testenv.Start()
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	admin, err := client.New(cfg, client.Options{Scheme: scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	cs, err := kubernetes.NewForConfig(cfg)
	g.Expect(err).NotTo(HaveOccurred())

	for _, ns := range []string{systemNS, tenantNS} {
		g.Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	}
	objs := rbacObjects(g)
	for _, o := range objs {
		g.Expect(admin.Create(ctx, o)).To(Succeed(), "installing %T %s", o, o.GetName())
	}
	// What the operator would have made: the tenant's admin account, another Secret, its quota.
	for _, o := range []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: tenantNS, Name: "tenant-admin"}, StringData: map[string]string{"password": "p"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: tenantNS, Name: "tenant-app-credentials"}, StringData: map[string]string{"x": "y"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: systemNS, Name: "tenantry-keys"}, StringData: map[string]string{"access-key": "k"}},
		&corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: tenantNS, Name: "tenant-quota"}},
		&corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: tenantNS, Name: "other"}},
	} {
		g.Expect(admin.Create(ctx, o)).To(Succeed())
	}

	t.Run("no wildcards and nothing that escalates", func(t *testing.T) {
		g := NewWithT(t)
		roles := 0
		for _, o := range objs {
			var rules []rbacv1.PolicyRule
			switch r := o.(type) {
			case *rbacv1.ClusterRole:
				g.Expect(r.AggregationRule).To(BeNil(), "%s aggregates other roles", r.Name)
				rules = r.Rules
			case *rbacv1.Role:
				rules = r.Rules
			default:
				continue
			}
			roles++
			for _, rule := range rules {
				for _, list := range [][]string{rule.Verbs, rule.APIGroups, rule.Resources, rule.ResourceNames, rule.NonResourceURLs} {
					for _, v := range list {
						g.Expect(v).NotTo(ContainSubstring("*"), "%s: wildcard in %+v", o.GetName(), rule)
					}
				}
				g.Expect(rule.NonResourceURLs).To(BeEmpty(), "%s", o.GetName())
				for _, v := range []string{"escalate", "bind", "impersonate", "deletecollection"} {
					g.Expect(rule.Verbs).NotTo(ContainElement(v), "%s: %+v", o.GetName(), rule)
				}
				for _, group := range []string{"rbac.authorization.k8s.io", "apiextensions.k8s.io", "admissionregistration.k8s.io", "certificates.k8s.io", "authentication.k8s.io"} {
					g.Expect(rule.APIGroups).NotTo(ContainElement(group), "%s: %+v", o.GetName(), rule)
				}
				for _, res := range []string{"pods", "pods/exec", "pods/attach", "serviceaccounts", "serviceaccounts/token", "nodes", "persistentvolumes"} {
					g.Expect(rule.Resources).NotTo(ContainElement(res), "%s: %+v", o.GetName(), rule)
				}
			}
		}
		g.Expect(roles).To(Equal(4), "tenantry-manager, tenantry-webhookbridge (cluster and namespace) and tenantry-leader-election")
	})

	t.Run("bindings name only the two ServiceAccounts", func(t *testing.T) {
		g := NewWithT(t)
		subjects := map[string][]string{}
		for _, o := range objs {
			var ref rbacv1.RoleRef
			var subs []rbacv1.Subject
			switch b := o.(type) {
			case *rbacv1.ClusterRoleBinding:
				ref, subs = b.RoleRef, b.Subjects
			case *rbacv1.RoleBinding:
				g.Expect(b.Namespace).To(Equal(systemNS))
				ref, subs = b.RoleRef, b.Subjects
			default:
				continue
			}
			g.Expect(ref.Name).To(HavePrefix("tenantry-"), "%s binds a role of its own", o.GetName())
			for _, s := range subs {
				g.Expect(s.Kind).To(Equal(rbacv1.ServiceAccountKind))
				g.Expect(s.Namespace).To(Equal(systemNS))
				subjects[s.Name] = append(subjects[s.Name], ref.Kind+"/"+ref.Name)
			}
		}
		g.Expect(subjects).To(Equal(map[string][]string{
			bridgeSA:  {"ClusterRole/tenantry-webhookbridge", "Role/tenantry-webhookbridge"},
			managerSA: {"ClusterRole/tenantry-manager", "Role/tenantry-leader-election"},
		}))
	})

	ti, td, tp := "tenantinstances", "tenantdirectories", "tenantplans"
	for _, tc := range []struct {
		sa      string
		allow   []access
		refused []access
	}{{
		// The bridge writes instance and directory specs, reads plans, records Events, and reads
		// by name the tenant's admin account (queryInstance) and quota (changeInstanceCheck).
		sa: bridgeSA,
		allow: []access{
			{verb: "get", group: grp, resource: ti}, {verb: "list", group: grp, resource: ti}, {verb: "create", group: grp, resource: ti},
			{verb: "update", group: grp, resource: ti}, {verb: "patch", group: grp, resource: ti}, {verb: "delete", group: grp, resource: ti},
			{verb: "get", group: grp, resource: td}, {verb: "create", group: grp, resource: td}, {verb: "update", group: grp, resource: td},
			{verb: "get", group: grp, resource: tp}, {verb: "list", group: grp, resource: tp},
			{verb: "create", group: "events.k8s.io", resource: "events", namespace: "default"},
			{verb: "patch", group: "events.k8s.io", resource: "events", namespace: "default"},
			{verb: "get", resource: "secrets", namespace: tenantNS, name: "tenant-admin"},
			{verb: "get", resource: "resourcequotas", namespace: tenantNS, name: "tenant-quota"},
			// Host claims (TenantHost), and replay claims on secret-disclosing calls, as Leases in
			// its own namespace only.
			{verb: "get", group: grp, resource: "tenanthosts"}, {verb: "create", group: grp, resource: "tenanthosts"},
			{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: systemNS},
			{verb: "delete", group: "coordination.k8s.io", resource: "leases", namespace: systemNS},
		},
		refused: []access{
			{verb: "update", group: grp, resource: ti, subresource: "status"}, {verb: "patch", group: grp, resource: ti, subresource: "status"},
			{verb: "update", group: grp, resource: ti, subresource: "finalizers"},
			{verb: "create", group: grp, resource: tp}, {verb: "update", group: grp, resource: tp}, {verb: "delete", group: grp, resource: tp},
			{verb: "deletecollection", group: grp, resource: ti},
			{verb: "get", group: "apps", resource: "deployments", namespace: tenantNS, name: "app"}, {verb: "list", group: "apps", resource: "deployments"},
			{verb: "get", resource: "pods", namespace: tenantNS}, {verb: "list", resource: "pods"}, {verb: "create", resource: "pods", namespace: tenantNS},
			{verb: "create", resource: "pods", subresource: "exec", namespace: tenantNS},
			{verb: "get", resource: "namespaces", name: tenantNS}, {verb: "list", resource: "namespaces"},
			{verb: "create", resource: "namespaces"}, {verb: "delete", resource: "namespaces", name: tenantNS},
			{verb: "get", resource: "secrets", namespace: tenantNS, name: "tenant-app-credentials"},
			{verb: "get", resource: "secrets", namespace: systemNS, name: "tenantry-keys"},
			{verb: "list", resource: "secrets"}, {verb: "list", resource: "secrets", namespace: tenantNS},
			{verb: "watch", resource: "secrets", namespace: tenantNS},
			{verb: "update", resource: "secrets", namespace: tenantNS, name: "tenant-admin"},
			{verb: "delete", resource: "secrets", namespace: tenantNS, name: "tenant-admin"},
			{verb: "create", resource: "secrets", namespace: tenantNS},
			{verb: "get", resource: "resourcequotas", namespace: tenantNS, name: "other"}, {verb: "list", resource: "resourcequotas", namespace: tenantNS},
			{verb: "update", resource: "resourcequotas", namespace: tenantNS, name: "tenant-quota"},
			{verb: "get", resource: "configmaps", namespace: tenantNS},
			{verb: "create", resource: "events", namespace: "default"}, // only the events.k8s.io API
			{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: tenantNS},
			{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "kube-system"},
			{verb: "list", group: grp, resource: "tenanthosts"}, {verb: "watch", group: grp, resource: "tenanthosts"},
			{verb: "get", group: "apiextensions.k8s.io", resource: "customresourcedefinitions"},
			{verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings"},
			{verb: "create", group: "rbac.authorization.k8s.io", resource: "rolebindings", namespace: tenantNS},
			{verb: "escalate", group: "rbac.authorization.k8s.io", resource: "clusterroles"},
			{verb: "bind", group: "rbac.authorization.k8s.io", resource: "clusterroles"},
			{verb: "impersonate", resource: "serviceaccounts"}, {verb: "impersonate", resource: "users"},
			{verb: "create", resource: "serviceaccounts", subresource: "token", namespace: systemNS, name: bridgeSA},
			{verb: "list", resource: "nodes"},
		},
	}, {
		// The operator reconciles instances (spec read, status and finalizer written), reads plans
		// and directories, owns everything in tenant namespaces, and elects a leader.
		sa: managerSA,
		allow: []access{
			{verb: "get", group: grp, resource: ti}, {verb: "watch", group: grp, resource: ti}, {verb: "patch", group: grp, resource: ti},
			{verb: "update", group: grp, resource: ti, subresource: "status"}, {verb: "patch", group: grp, resource: ti, subresource: "status"},
			{verb: "update", group: grp, resource: ti, subresource: "finalizers"},
			{verb: "watch", group: grp, resource: tp}, {verb: "watch", group: grp, resource: td},
			{verb: "watch", group: grp, resource: "tenanthosts"}, {verb: "create", group: grp, resource: "tenanthosts"},
			// ELB listener places: slots made and released, pools read and counted.
			{verb: "watch", group: grp, resource: "listenerslots"}, {verb: "create", group: grp, resource: "listenerslots"},
			{verb: "delete", group: grp, resource: "listenerslots"},
			{verb: "watch", group: grp, resource: "loadbalancerpools"},
			{verb: "update", group: grp, resource: "loadbalancerpools", subresource: "status"},
			// Plan rollouts: the plans' revisions in the operator's namespace, the plans' status.
			{verb: "update", group: grp, resource: tp, subresource: "status"},
			{verb: "create", group: "apps", resource: "controllerrevisions", namespace: systemNS},
			{verb: "watch", group: "apps", resource: "controllerrevisions", namespace: systemNS},
			{verb: "delete", group: "apps", resource: "controllerrevisions", namespace: systemNS},
			{verb: "create", resource: "namespaces"}, {verb: "delete", resource: "namespaces", name: tenantNS},
			{verb: "patch", group: "apps", resource: "deployments", namespace: tenantNS},
			{verb: "patch", resource: "services", namespace: tenantNS}, {verb: "create", resource: "secrets", namespace: tenantNS},
			{verb: "patch", resource: "configmaps", namespace: tenantNS}, {verb: "patch", resource: "resourcequotas", namespace: tenantNS},
			{verb: "patch", resource: "limitranges", namespace: tenantNS},
			{verb: "patch", group: "networking.k8s.io", resource: "networkpolicies", namespace: tenantNS},
			{verb: "patch", group: "networking.k8s.io", resource: "ingresses", namespace: tenantNS},
			{verb: "create", group: "events.k8s.io", resource: "events", namespace: "default"},
			{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: systemNS},
			{verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: systemNS},
		},
		refused: []access{
			{verb: "create", group: grp, resource: ti}, {verb: "delete", group: grp, resource: ti},
			{verb: "create", group: grp, resource: tp}, {verb: "update", group: grp, resource: tp}, {verb: "delete", group: grp, resource: tp},
			{verb: "create", group: grp, resource: td}, {verb: "update", group: grp, resource: td}, {verb: "delete", group: grp, resource: td},
			{verb: "delete", group: grp, resource: "tenanthosts"}, {verb: "update", group: grp, resource: "tenanthosts"},
			{verb: "update", group: grp, resource: "listenerslots"},
			{verb: "create", group: grp, resource: "loadbalancerpools"}, {verb: "update", group: grp, resource: "loadbalancerpools"},
			{verb: "delete", group: grp, resource: "loadbalancerpools"},
			{verb: "get", resource: "pods", namespace: tenantNS}, {verb: "create", resource: "pods", namespace: tenantNS},
			{verb: "create", resource: "pods", subresource: "exec", namespace: tenantNS},
			{verb: "create", resource: "serviceaccounts", namespace: tenantNS},
			{verb: "create", resource: "serviceaccounts", subresource: "token", namespace: systemNS, name: managerSA},
			{verb: "create", group: "apiextensions.k8s.io", resource: "customresourcedefinitions"},
			{verb: "update", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: "tenantinstances.tenantry.io"},
			{verb: "delete", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: "tenantinstances.tenantry.io"},
			{verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings"},
			{verb: "create", group: "rbac.authorization.k8s.io", resource: "rolebindings", namespace: tenantNS},
			{verb: "create", group: "rbac.authorization.k8s.io", resource: "roles", namespace: tenantNS},
			{verb: "escalate", group: "rbac.authorization.k8s.io", resource: "clusterroles"},
			{verb: "bind", group: "rbac.authorization.k8s.io", resource: "clusterroles"},
			{verb: "impersonate", resource: "serviceaccounts"}, {verb: "impersonate", resource: "users"}, {verb: "impersonate", resource: "groups"},
			{verb: "create", group: "admissionregistration.k8s.io", resource: "mutatingwebhookconfigurations"},
			{verb: "list", resource: "nodes"},
			{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "kube-system"},
			{verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: "default"},
			{verb: "create", resource: "events", namespace: tenantNS}, // only the events.k8s.io API
			// It writes Secrets but reads none: not the bridge's keys, not the tenants' Secrets.
			{verb: "get", resource: "secrets", namespace: systemNS, name: "tenantry-keys"},
			{verb: "list", resource: "secrets", namespace: systemNS}, {verb: "watch", resource: "secrets", namespace: systemNS},
			{verb: "get", resource: "secrets", namespace: tenantNS, name: "tenant-admin"},
			{verb: "list", resource: "secrets"}, {verb: "watch", resource: "secrets"},
		},
	}} {
		t.Run("access of "+tc.sa, func(t *testing.T) {
			g := NewWithT(t)
			for _, a := range tc.allow {
				g.Expect(allowed(g, cs, tc.sa, a)).To(BeTrue(), "%s may not %s", tc.sa, a)
			}
			for _, a := range tc.refused {
				g.Expect(allowed(g, cs, tc.sa, a)).To(BeFalse(), "%s may %s", tc.sa, a)
			}
		})
	}

	instance := func(name string) *tenantryv1alpha1.TenantInstance {
		return &tenantryv1alpha1.TenantInstance{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: tenantryv1alpha1.TenantInstanceSpec{SKU: "rbac.small",
				Order: tenantryv1alpha1.Order{OrderID: "CSRBAC", OrderLineID: "CSRBAC-1"}},
		}
	}
	escalation := func(sa string) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "escalate-" + sa},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: systemNS}},
		}
	}

	t.Run("requests of "+bridgeSA, func(t *testing.T) {
		g := NewWithT(t)
		c, err := client.New(impersonate(cfg, bridgeSA), client.Options{Scheme: scheme()})
		g.Expect(err).NotTo(HaveOccurred())
		ti := instance("ti-00000000000000bridge")
		g.Expect(c.Create(ctx, ti)).To(Succeed())
		ti.Spec.Lifecycle = tenantryv1alpha1.LifecycleFrozen
		g.Expect(c.Update(ctx, ti)).To(Succeed())
		g.Expect(c.List(ctx, &tenantryv1alpha1.TenantPlanList{})).To(Succeed())
		g.Expect(c.Get(ctx, client.ObjectKey{Namespace: tenantNS, Name: "tenant-admin"}, &corev1.Secret{})).To(Succeed())
		g.Expect(c.Get(ctx, client.ObjectKey{Namespace: tenantNS, Name: "tenant-quota"}, &corev1.ResourceQuota{})).To(Succeed())
		g.Expect(c.Create(ctx, event("bridge-event", ti))).To(Succeed())

		ti.Status.URL = "https://evil.example.com"
		forbidden(g, c.Status().Update(ctx, ti), "update a TenantInstance status")
		forbidden(g, c.Create(ctx, &tenantryv1alpha1.TenantPlan{ObjectMeta: metav1.ObjectMeta{Name: "rogue"},
			Spec: tenantryv1alpha1.TenantPlanSpec{SKUs: []string{"rogue"}, App: tenantryv1alpha1.AppSpec{Image: "example.com/x:1"}}}), "create a TenantPlan")
		forbidden(g, c.List(ctx, &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DeploymentList"}}), "list Deployments")
		forbidden(g, c.Get(ctx, client.ObjectKey{Namespace: tenantNS, Name: "app"}, &corev1.Pod{}), "get a Pod")
		forbidden(g, c.List(ctx, &corev1.NamespaceList{}), "list Namespaces")
		forbidden(g, c.Get(ctx, client.ObjectKey{Name: tenantNS}, &corev1.Namespace{}), "get a Namespace")
		forbidden(g, c.Get(ctx, client.ObjectKey{Namespace: tenantNS, Name: "tenant-app-credentials"}, &corev1.Secret{}), "read another Secret")
		forbidden(g, c.Get(ctx, client.ObjectKey{Namespace: systemNS, Name: "tenantry-keys"}, &corev1.Secret{}), "read the keys Secret")
		forbidden(g, c.List(ctx, &corev1.SecretList{}, client.InNamespace(tenantNS)), "list Secrets")
		forbidden(g, c.Get(ctx, client.ObjectKey{Name: "tenantinstances.tenantry.io"}, &apiextensionsv1.CustomResourceDefinition{}), "read a CRD")
		forbidden(g, c.Create(ctx, escalation(bridgeSA)), "bind cluster-admin")
		g.Expect(c.Delete(ctx, ti)).To(Succeed())
	})

	t.Run("requests of "+managerSA, func(t *testing.T) {
		g := NewWithT(t)
		c, err := client.New(impersonate(cfg, managerSA), client.Options{Scheme: scheme()})
		g.Expect(err).NotTo(HaveOccurred())
		ti := instance("ti-0000000000000manager")
		g.Expect(admin.Create(ctx, ti)).To(Succeed())
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(ti), ti)).To(Succeed())
		ti.Status.State = tenantryv1alpha1.StateProvisioning
		g.Expect(c.Status().Update(ctx, ti)).To(Succeed())
		ti.Finalizers = []string{tenantryv1alpha1.Finalizer}
		g.Expect(c.Update(ctx, ti)).To(Succeed())
		g.Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-ti-0000000000000manager"}})).To(Succeed())
		g.Expect(c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-ti-0000000000000manager", Name: "tenant-admin"}})).To(Succeed())
		g.Expect(c.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: systemNS, Name: "tenantry-operator.tenantry.io"}})).To(Succeed())
		g.Expect(c.Create(ctx, event("manager-event", ti))).To(Succeed())

		forbidden(g, c.Create(ctx, instance("ti-000000000000000rogue")), "create a TenantInstance")
		forbidden(g, c.Delete(ctx, ti), "delete a TenantInstance")
		forbidden(g, c.Create(ctx, &tenantryv1alpha1.TenantPlan{ObjectMeta: metav1.ObjectMeta{Name: "rogue"},
			Spec: tenantryv1alpha1.TenantPlanSpec{SKUs: []string{"rogue"}, App: tenantryv1alpha1.AppSpec{Image: "example.com/x:1"}}}), "create a TenantPlan")
		crd := &apiextensionsv1.CustomResourceDefinition{}
		forbidden(g, c.Get(ctx, client.ObjectKey{Name: "tenantinstances.tenantry.io"}, crd), "read a CRD")
		g.Expect(admin.Get(ctx, client.ObjectKey{Name: "tenantinstances.tenantry.io"}, crd)).To(Succeed())
		forbidden(g, c.Update(ctx, crd), "modify a CRD")
		forbidden(g, c.Create(ctx, escalation(managerSA)), "bind cluster-admin")
		forbidden(g, c.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: tenantNS, Name: "escalate"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "tenantry-manager"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "default", Namespace: tenantNS}},
		}), "hand its own role to a tenant's ServiceAccount")
		forbidden(g, c.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: tenantNS, Name: "rogue"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "x", Image: "example.com/x:1"}}}}), "create a Pod")
		forbidden(g, c.List(ctx, &corev1.NodeList{}), "list Nodes")
		forbidden(g, c.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "rogue"}}), "take a Lease outside its namespace")
		forbidden(g, c.Get(ctx, client.ObjectKey{Namespace: systemNS, Name: "tenantry-keys"}, &corev1.Secret{}), "read the keys Secret")
		forbidden(g, c.List(ctx, &corev1.SecretList{}, client.InNamespace(systemNS)), "list Secrets in its namespace")
		forbidden(g, c.List(ctx, &corev1.SecretList{}), "list Secrets")
		forbidden(g, c.Get(ctx, client.ObjectKey{Namespace: tenantNS, Name: "tenant-admin"}, &corev1.Secret{}), "read a tenant's admin account")
	})
}

// event is an events.k8s.io Event about ti, in "default" where Events of cluster-scoped objects go.
func event(name string, ti *tenantryv1alpha1.TenantInstance) *eventsv1.Event {
	return &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("%s.%s", ti.Name, strings.ToLower(name))},
		EventTime:           metav1.NowMicro(),
		ReportingController: "tenantry.io/rbac-test", ReportingInstance: "rbac-test",
		Action: "Test", Reason: "Test", Type: corev1.EventTypeNormal,
		Regarding: corev1.ObjectReference{APIVersion: tenantryv1alpha1.GroupVersion.String(), Kind: "TenantInstance", Name: ti.Name, UID: ti.UID},
	}
}
