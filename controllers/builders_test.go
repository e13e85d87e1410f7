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

package controllers

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func plan() *v1.TenantPlan {
	return &v1.TenantPlan{
		ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: v1.TenantPlanSpec{
			SKUs: []string{"S"}, App: v1.AppSpec{Image: "app:1"}, Replicas: ptr.To[int32](3),
			Domain: v1.DomainSettings{BaseDomain: "apps.example.com"},
		},
	}
}

func instance(domain v1.TenantDomain) *v1.TenantInstance {
	return &v1.TenantInstance{ObjectMeta: metav1.ObjectMeta{Name: "t1", UID: "uid-1"}, Spec: v1.TenantInstanceSpec{SKU: "S", Domain: domain}}
}

func TestExposure(t *testing.T) {
	withTLS := plan()
	withTLS.Spec.Domain.SharedTLSSecret = &v1.SecretReference{Namespace: "certs", Name: "wild"}
	noBase := plan()
	noBase.Spec.Domain.BaseDomain = ""
	dedicated := v1.TenantDomain{Type: v1.DomainDedicated, Host: "erp.example.org"}
	type out struct{ Host, TLS, URL, Admin, Backend string }
	for _, tc := range []struct {
		name string
		d    Desired
		want out
	}{
		{"shared without TLS", Desired{Instance: instance(v1.TenantDomain{}), Plan: plan()},
			out{"t1.apps.example.com", "", "http://t1.apps.example.com", "http://t1.apps.example.com/admin", AppName}},
		{"shared with TLS", Desired{Instance: instance(v1.TenantDomain{}), Plan: withTLS},
			out{"t1.apps.example.com", SharedTLSSecretName, "https://t1.apps.example.com", "https://t1.apps.example.com/admin", AppName}},
		{"dedicated", Desired{Instance: instance(dedicated), Plan: plan()},
			out{"erp.example.org", DedicatedTLSName, "https://erp.example.org", "https://erp.example.org/admin", AppName}},
		{"dedicated ignores the base domain", Desired{Instance: instance(dedicated), Plan: noBase},
			out{"erp.example.org", DedicatedTLSName, "https://erp.example.org", "https://erp.example.org/admin", AppName}},
		{"shared without base domain has no ingress", Desired{Instance: instance(v1.TenantDomain{}), Plan: noBase}, out{}},
		{"frozen with a suspended page", Desired{Instance: instance(v1.TenantDomain{}), Plan: plan(), Frozen: true, SuspendedHost: "bridge", SuspendedPort: 8082},
			out{"t1.apps.example.com", "", "http://t1.apps.example.com", "http://t1.apps.example.com/admin", SuspendedName}},
		{"frozen without a suspended page stays on the app", Desired{Instance: instance(v1.TenantDomain{}), Plan: plan(), Frozen: true},
			out{"t1.apps.example.com", "", "http://t1.apps.example.com", "http://t1.apps.example.com/admin", AppName}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := out{Host: tc.d.Host(), TLS: tc.d.TLSSecretName(), URL: tc.d.URL(), Admin: tc.d.AdminURL()}
			if ing := tc.d.Ingress(); ing != nil {
				got.Backend = *ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name
			} else {
				got.TLS = ""
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeploymentIsRestrictedAndScalesWithTheLifecycle(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frozen bool
		want   int32
	}{{"active", false, 3}, {"frozen", true, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			d := Desired{Instance: instance(v1.TenantDomain{}), Plan: plan(), Frozen: tc.frozen}.Deployment()
			if got := *d.Spec.Replicas; got != tc.want {
				t.Errorf("replicas = %d, want %d", got, tc.want)
			}
			c := d.Spec.Template.Spec.Containers[0]
			sc := c.SecurityContext
			if !*sc.RunAsNonRoot || *sc.AllowPrivilegeEscalation || !*sc.ReadOnlyRootFilesystem || sc.Capabilities.Drop[0] != "ALL" {
				t.Errorf("container security context is not restricted: %+v", sc)
			}
			if *d.Spec.Template.Spec.AutomountServiceAccountToken {
				t.Error("the app must not get a service account token")
			}
			if diff := cmp.Diff(map[string]string{"app.kubernetes.io/name": AppName, v1.LabelInstance: "t1"}, d.Spec.Selector.MatchLabels); diff != "" {
				t.Errorf("selector must not depend on the SKU (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPodTemplateIsStable guards against rollouts caused by nothing but an operator restart: the
// same spec must build the same pod template.
func TestPodTemplateIsStable(t *testing.T) {
	a := Desired{Instance: instance(v1.TenantDomain{}), Plan: plan()}.Deployment()
	b := Desired{Instance: instance(v1.TenantDomain{}), Plan: plan()}.Deployment()
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two builds differ:\n%s", diff)
	}
}

func TestWorkloadReady(t *testing.T) {
	dep := func(gen, observed int64, replicas, updated, available int32) *appsv1.Deployment {
		d := &appsv1.Deployment{}
		d.Generation = gen
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: replicas, UpdatedReplicas: updated, AvailableReplicas: available}
		return d
	}
	for _, tc := range []struct {
		name string
		d    *appsv1.Deployment
		want int32
		ok   bool
	}{
		{"missing", nil, 1, false},
		{"not observed", dep(2, 1, 1, 1, 1), 1, false},
		{"available", dep(2, 2, 2, 2, 2), 2, true},
		{"rolling", dep(2, 2, 3, 1, 2), 2, false},
		{"scaled to zero", dep(3, 3, 0, 0, 0), 0, true},
		{"still scaling down", dep(3, 3, 1, 0, 1), 0, false},
	} {
		if ok, _ := workloadReady(tc.d, tc.want); ok != tc.ok {
			t.Errorf("%s: ready = %v, want %v", tc.name, ok, tc.ok)
		}
	}
}

func TestNextExpiryCheck(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	freezing := plan()
	freezing.Spec.Expiry = v1.ExpiryPolicy{GracePeriod: &metav1.Duration{Duration: time.Hour}, FreezeAfterGrace: true}
	at := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: now.Add(d)} }
	for _, tc := range []struct {
		name    string
		expires *metav1.Time
		plan    *v1.TenantPlan
		want    time.Duration
	}{
		{"no expiry", nil, plan(), 0},
		{"before expiry", at(time.Hour), plan(), time.Hour + time.Second},
		{"expired, plan does not freeze", at(-time.Minute), plan(), 0},
		{"expired, within grace", at(-time.Minute), freezing, 59*time.Minute + time.Second},
		{"past grace", at(-2 * time.Hour), freezing, 0},
	} {
		ti := instance(v1.TenantDomain{})
		ti.Spec.ExpiresAt = tc.expires
		s := &scope{instance: ti, now: now, desired: &Desired{Instance: ti, Plan: tc.plan}}
		if got := (&TenantInstanceReconciler{}).nextExpiryCheck(s); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		p, err := generatePassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 20 || seen[p] {
			t.Fatalf("bad or repeated password %q", p)
		}
		seen[p] = true
	}
}
