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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
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

// perUnitPlan grows by half a CPU, two pods and a replica per ten units, up to four replicas.
func perUnitPlan() *v1.TenantPlan {
	p := plan()
	p.Spec.Replicas = ptr.To[int32](1)
	p.Spec.Quota = corev1.ResourceList{corev1.ResourceLimitsCPU: resource.MustParse("2"), corev1.ResourcePods: resource.MustParse("10")}
	p.Spec.PerUnit = &v1.PerUnitScaling{
		Quota:           corev1.ResourceList{corev1.ResourceLimitsCPU: resource.MustParse("500m"), corev1.ResourcePods: resource.MustParse("2")},
		UnitsPerReplica: 10,
		MaxReplicas:     4,
	}
	return p
}

var quantityEqual = cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })

func TestQuotaAndReplicasFollowTheQuantity(t *testing.T) {
	flat := plan()
	flat.Spec.Quota = corev1.ResourceList{corev1.ResourceLimitsCPU: resource.MustParse("2")}
	type out struct {
		Quota             corev1.ResourceList
		Replicas, Applied int32
	}
	rl := func(cpu, pods string) corev1.ResourceList {
		l := corev1.ResourceList{corev1.ResourceLimitsCPU: resource.MustParse(cpu)}
		if pods != "" {
			l[corev1.ResourcePods] = resource.MustParse(pods)
		}
		return l
	}
	for _, tc := range []struct {
		name     string
		plan     *v1.TenantPlan
		quantity int32
		frozen   bool
		want     out
	}{
		{"no perUnit, quantity 1", flat, 1, false, out{rl("2", ""), 3, 3}},
		{"no perUnit, quantity 2", flat, 2, false, out{rl("2", ""), 3, 3}},
		{"no perUnit, quantity 50", flat, 50, false, out{rl("2", ""), 3, 3}},
		{"perUnit, quantity unset", perUnitPlan(), 0, false, out{rl("2", "10"), 1, 1}},
		{"perUnit, quantity 1", perUnitPlan(), 1, false, out{rl("2", "10"), 1, 1}},
		{"perUnit, quantity 2", perUnitPlan(), 2, false, out{rl("2500m", "12"), 1, 1}},
		{"perUnit, quantity 50: replicas capped", perUnitPlan(), 50, false, out{rl("26500m", "108"), 4, 4}},
		{"perUnit, quantity 50, frozen", perUnitPlan(), 50, true, out{rl("26500m", "108"), 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ti := instance(v1.TenantDomain{})
			ti.Spec.Quantity = tc.quantity
			d := Desired{Instance: ti, Plan: tc.plan, Frozen: tc.frozen}
			got := out{Quota: *d.ResourceQuota().Spec.Hard, Replicas: d.Replicas(), Applied: *d.Deployment().Spec.Replicas}
			if diff := cmp.Diff(tc.want, got, quantityEqual); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// The status reports what the Deployment is asked for.
			s := &scope{instance: ti, now: time.Now(), desired: &d}
			computeStatus(s, nil)
			if ti.Status.Replicas != tc.want.Applied {
				t.Errorf("status.replicas = %d, want %d", ti.Status.Replicas, tc.want.Applied)
			}
		})
	}
}

func TestTheAppIsToldItsQuantityAndTenant(t *testing.T) {
	ti := instance(v1.TenantDomain{})
	ti.Spec.Quantity = 25
	d := Desired{Instance: ti, Plan: plan()}.Deployment()
	c := d.Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[*e.Name] = ptr.Deref(e.Value, "")
	}
	for name, want := range map[string]string{"TENANTRY_QUANTITY": "25", "TENANTRY_TENANT_DIR": "/var/run/tenantry/tenant", "TENANTRY_SKU": "S",
		"TENANTRY_DIRECTORY_DIR": "/var/run/tenantry/directory", "TENANTRY_CREDENTIALS_DIR": "/var/run/tenantry/credentials"} {
		if env[name] != want {
			t.Errorf("env %s = %q, want %q", name, env[name], want)
		}
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		if ptr.Deref(m.ReadOnly, false) {
			mounts[*m.Name] = *m.MountPath
		}
	}
	if got := mounts["tenant-info"]; got != "/var/run/tenantry/tenant" {
		t.Errorf("tenant-info is mounted read-only at %q, want /var/run/tenantry/tenant", got)
	}
	// The variables name where the directory and the credentials are mounted.
	for volume, variable := range map[string]string{"directory": "TENANTRY_DIRECTORY_DIR", "app-credentials": "TENANTRY_CREDENTIALS_DIR"} {
		if got := mounts[volume]; got != env[variable] {
			t.Errorf("%s is mounted read-only at %q, but %s says %q", volume, got, variable, env[variable])
		}
	}
	var source string
	for _, v := range d.Spec.Template.Spec.Volumes {
		if *v.Name == "tenant-info" && v.ConfigMap != nil {
			source = *v.ConfigMap.Name
		}
	}
	if source != TenantInfoName {
		t.Errorf("tenant-info volume comes from ConfigMap %q, want %q", source, TenantInfoName)
	}
}

func TestTenantInfoConfigMap(t *testing.T) {
	bound := &v1.Tenant{TenantID: "68cbc86abc2018ab880d92f36422fa0e", TenantCode: "huawei", Name: "华为示例", DomainName: "https://example.tenantaccount.com",
		Applications: []v1.TenantApplication{{AppID: "a", ClientID: "c", EncryptedClientSecret: "e"}}}
	for _, tc := range []struct {
		name     string
		mutate   func(*v1.TenantInstance)
		domain   v1.TenantDomain
		wantData map[string]string
	}{
		{"no tenant bound, quantity defaulted", func(*v1.TenantInstance) {}, v1.TenantDomain{}, map[string]string{
			"instanceId": "t1", "sku": "S", "productId": "", "quantity": "1", "url": "http://t1.apps.example.com",
		}},
		{"tenant bound", func(ti *v1.TenantInstance) {
			ti.Spec.ProductID, ti.Spec.Quantity, ti.Spec.Tenant = "00301-666666-0--0", 7, bound
		}, v1.TenantDomain{Type: v1.DomainDedicated, Host: "erp.example.org"}, map[string]string{
			"instanceId": "t1", "sku": "S", "productId": "00301-666666-0--0", "quantity": "7", "url": "https://erp.example.org",
			"tenantId": "68cbc86abc2018ab880d92f36422fa0e", "tenantCode": "huawei", "name": "华为示例", "domainName": "https://example.tenantaccount.com",
		}},
		{"tenant bound with only its id", func(ti *v1.TenantInstance) { ti.Spec.Tenant = &v1.Tenant{TenantID: "t-9"} }, v1.TenantDomain{}, map[string]string{
			"instanceId": "t1", "sku": "S", "productId": "", "quantity": "1", "url": "http://t1.apps.example.com",
			"tenantId": "t-9", "tenantCode": "", "name": "", "domainName": "",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ti := instance(tc.domain)
			tc.mutate(ti)
			cm := Desired{Instance: ti, Plan: plan()}.TenantInfoConfigMap()
			if diff := cmp.Diff(tc.wantData, cm.Data); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
			if *cm.Name != TenantInfoName || *cm.Namespace != "tenant-t1" || cm.Labels[v1.LabelInstance] != "t1" || len(cm.OwnerReferences) != 1 {
				t.Errorf("config map is not the tenant's: %s/%s labels %v owners %d", *cm.Namespace, *cm.Name, cm.Labels, len(cm.OwnerReferences))
			}
		})
	}
}
