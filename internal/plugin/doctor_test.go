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
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// healthy is an installation every check passes.
func healthy() Installation {
	var crds []apiextensionsv1.CustomResourceDefinition
	for _, name := range crdNames {
		crds = append(crds, apiextensionsv1.CustomResourceDefinition{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       apiextensionsv1.CustomResourceDefinitionSpec{Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1alpha1", Served: true, Storage: true}}},
			Status: apiextensionsv1.CustomResourceDefinitionStatus{Conditions: []apiextensionsv1.CustomResourceDefinitionCondition{
				{Type: apiextensionsv1.Established, Status: apiextensionsv1.ConditionTrue}}},
		})
	}
	deploy := func(component string) appsv1.Deployment {
		return appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: "tenantry-system", Name: "tenantry-" + component, Labels: map[string]string{"app.kubernetes.io/component": component}},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
			Status:     appsv1.DeploymentStatus{ReadyReplicas: 2},
		}
	}
	p := plan("basic", "small")
	p.Spec.Domain.IngressClassName = "nginx"
	p.Spec.Domain.SharedTLSSecret = &tenantryv1alpha1.SecretReference{Namespace: "tenantry-system", Name: "wildcard"}
	p.Spec.Domain.ClusterIssuer = "letsencrypt"
	return Installation{
		Now:         now,
		CRDs:        crds,
		Namespace:   "tenantry-system",
		Deployments: []appsv1.Deployment{deploy("manager"), deploy("webhookbridge")},
		Lease: &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{
			HolderIdentity: ptr.To("tenantry-manager-abc"), RenewTime: &metav1.MicroTime{Time: now.Add(-5 * time.Second)}}},
		Plans:                []tenantryv1alpha1.TenantPlan{p},
		Instances:            []tenantryv1alpha1.TenantInstance{instance("a", "small", tenantryv1alpha1.StateRunning)},
		IngressClasses:       []IngressClass{{Name: "nginx"}},
		SharedTLS:            map[string]SecretFinding{"tenantry-system/wildcard": {Found: true, Labelled: true, NotAfter: now.Add(90 * 24 * time.Hour)}},
		CertManagerInstalled: true,
		ClusterIssuers:       map[string]bool{"letsencrypt": true},
		KubeSystemDaemonSets: []string{"kube-proxy", "calico-node"},
	}
}

// withPool gives the healthy installation's plan a pool with room and a pull secret every tenant
// namespace holds.
func withPool(in *Installation) {
	in.Plans[0].Spec.Domain.LoadBalancerPool = "elb"
	in.Plans[0].Spec.App.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "default-secret"}}
	in.Instances[0].Status.Namespace = "tenant-a"
	in.Pools = []tenantryv1alpha1.LoadBalancerPool{{ObjectMeta: metav1.ObjectMeta{Name: "elb"},
		Status: tenantryv1alpha1.LoadBalancerPoolStatus{Tenants: 10, TenantCapacity: 50}}}
	in.PullSecrets = map[string]map[string]bool{"default-secret": {"tenant-a": true}}
}

func TestDiagnose(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Installation)
		// check is the check that must report result with a message containing want; every
		// other check stays ok.
		check  string
		result Result
		want   string
	}{
		{name: "healthy", mutate: func(*Installation) {}, result: ResultOK},
		{name: "CRD missing", mutate: func(in *Installation) { in.CRDs = in.CRDs[1:] },
			check: "CustomResourceDefinitions", result: ResultError, want: "tenantinstances.tenantry.io is missing"},
		{name: "CRD not established", mutate: func(in *Installation) { in.CRDs[2].Status.Conditions = nil },
			check: "CustomResourceDefinitions", result: ResultError, want: "tenantdirectories.tenantry.io is not established"},
		{name: "CRD without v1alpha1", mutate: func(in *Installation) { in.CRDs[1].Spec.Versions[0].Name = "v1" },
			check: "CustomResourceDefinitions", result: ResultError, want: "does not serve and store v1alpha1"},
		{name: "operator down", mutate: func(in *Installation) { in.Deployments[0].Status.ReadyReplicas = 0 },
			check: "Operator", result: ResultError, want: "no ready replica (0/2)"},
		{name: "bridge degraded", mutate: func(in *Installation) { in.Deployments[1].Status.ReadyReplicas = 1 },
			check: "Webhook bridge", result: ResultWarning, want: "1/2 ready replicas"},
		{name: "bridge missing", mutate: func(in *Installation) { in.Deployments = in.Deployments[:1] },
			check: "Webhook bridge", result: ResultError, want: "no webhook bridge Deployment"},
		{name: "no leader", mutate: func(in *Installation) { in.Lease = nil },
			check: "Operator leader", result: ResultError, want: "nothing reconciles tenants"},
		{name: "stale leader", mutate: func(in *Installation) { in.Lease.Spec.RenewTime.Time = now.Add(-5 * time.Minute) },
			check: "Operator leader", result: ResultError, want: "has not renewed its Lease"},
		{name: "SKU in two plans", mutate: func(in *Installation) {
			p := plan("basic2", "small")
			p.Spec.Domain.IngressClassName = "nginx"
			in.Plans = append(in.Plans, p)
		},
			check: "Plans", result: ResultError, want: "SKU small is listed by 2 plans (basic, basic2)"},
		{name: "instance of unlisted SKU", mutate: func(in *Installation) {
			in.Instances = append(in.Instances, instance("b", "gone", tenantryv1alpha1.StateStalled))
		}, check: "Plans", result: ResultError, want: "1 instance(s) of SKU gone, which no plan lists"},
		{name: "no plans", mutate: func(in *Installation) { in.Plans = nil; in.Instances = nil },
			check: "Plans", result: ResultWarning, want: "no TenantPlan exists"},
		{name: "ingress class missing", mutate: func(in *Installation) { in.IngressClasses = nil },
			check: "Ingress classes", result: ResultError, want: "names IngressClass nginx, which does not exist"},
		{name: "no default ingress class", mutate: func(in *Installation) { in.Plans[0].Spec.Domain.IngressClassName = "" },
			check: "Ingress classes", result: ResultError, want: "no default IngressClass"},
		{name: "default ingress class", mutate: func(in *Installation) {
			in.Plans[0].Spec.Domain.IngressClassName = ""
			in.IngressClasses[0].Default = true
		}, result: ResultOK},
		{name: "shared TLS missing", mutate: func(in *Installation) { in.SharedTLS["tenantry-system/wildcard"] = SecretFinding{} },
			check: "Shared TLS sources", result: ResultError, want: "tenantry-system/wildcard does not exist"},
		{name: "shared TLS unlabelled", mutate: func(in *Installation) {
			in.SharedTLS["tenantry-system/wildcard"] = SecretFinding{Found: true, NotAfter: now.Add(time.Hour * 24 * 90)}
		}, check: "Shared TLS sources", result: ResultError, want: "lacks the label tenantry.io/secret-role=shared-tls-source"},
		{name: "shared TLS expiring", mutate: func(in *Installation) {
			in.SharedTLS["tenantry-system/wildcard"] = SecretFinding{Found: true, Labelled: true, NotAfter: now.Add(10 * 24 * time.Hour)}
		}, check: "Shared TLS sources", result: ResultWarning, want: "expires in 10d"},
		{name: "shared TLS expired", mutate: func(in *Installation) {
			in.SharedTLS["tenantry-system/wildcard"] = SecretFinding{Found: true, Labelled: true, NotAfter: now.Add(-time.Hour)}
		}, check: "Shared TLS sources", result: ResultError, want: "expired at"},
		{name: "shared TLS unreadable", mutate: func(in *Installation) {
			in.SharedTLS["tenantry-system/wildcard"] = SecretFinding{Err: errors.New("forbidden")}
		}, check: "Shared TLS sources", result: ResultWarning, want: "cannot read tenantry-system/wildcard: forbidden"},
		{name: "cert-manager absent", mutate: func(in *Installation) { in.CertManagerInstalled = false },
			check: "cert-manager ClusterIssuers", result: ResultError, want: "cert-manager is not installed"},
		{name: "issuer missing", mutate: func(in *Installation) { in.ClusterIssuers = map[string]bool{} },
			check: "cert-manager ClusterIssuers", result: ResultError, want: "ClusterIssuer letsencrypt (plans basic) does not exist"},
		{name: "issuer not ready", mutate: func(in *Installation) { in.ClusterIssuers["letsencrypt"] = false },
			check: "cert-manager ClusterIssuers", result: ResultWarning, want: "ClusterIssuer letsencrypt is not Ready"},
		{name: "pool and pull secrets fine", mutate: withPool, result: ResultOK},
		{name: "pool missing", mutate: func(in *Installation) { withPool(in); in.Pools = nil },
			check: "ELB listener capacity", result: ResultError, want: "plan basic names LoadBalancerPool elb, which does not exist"},
		{name: "pool nearly full", mutate: func(in *Installation) { withPool(in); in.Pools[0].Status.Tenants = 46 },
			check: "ELB listener capacity", result: ResultWarning, want: "pool elb has room for 4 more tenant(s) of 50"},
		{name: "pool full with tenants waiting", mutate: func(in *Installation) {
			withPool(in)
			in.Pools[0].Status.Tenants = 50
			in.Instances = append(in.Instances, instance("b", "small", tenantryv1alpha1.StateStalled,
				stalled(tenantryv1alpha1.ReasonNoLoadBalancerCapacity, "full")))
		}, check: "ELB listener capacity", result: ResultError, want: "pool elb is full: 1 tenant(s) wait"},
		{name: "pull secret missing", mutate: func(in *Installation) {
			withPool(in)
			in.PullSecrets["default-secret"] = map[string]bool{}
		}, check: "Image pull secrets", result: ResultError, want: "Secret default-secret is missing in 1 tenant namespace(s) (tenant-a)"},
		{name: "no network plugin", mutate: func(in *Installation) { in.KubeSystemDaemonSets = []string{"kube-proxy"} },
			check: "NetworkPolicy enforcement", result: ResultWarning, want: "DataPlane V2"},
		{name: "network plugin unreadable", mutate: func(in *Installation) { in.DaemonSetErr = errors.New("forbidden") },
			check: "NetworkPolicy enforcement", result: ResultWarning, want: "cannot tell"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := healthy()
			tc.mutate(&in)
			d := Diagnose(in)
			if d.Result != tc.result {
				t.Errorf("overall result %s, want %s: %+v", d.Result, tc.result, d.Checks)
			}
			for _, c := range d.Checks {
				switch {
				case c.Name == tc.check:
					if c.Result != tc.result || !strings.Contains(c.Message, tc.want) {
						t.Errorf("check %q = %s %q, want %s containing %q", c.Name, c.Result, c.Message, tc.result, tc.want)
					}
				case c.Result != ResultOK:
					t.Errorf("check %q = %s %q, want ok", c.Name, c.Result, c.Message)
				}
			}
		})
	}
}
