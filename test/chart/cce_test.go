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

package chart

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// cceValues is the complete CCE installation docs/cce.md points at.
var cceValues = filepath.Join(chartDir, "ci", "cce-values.yaml")

// TestCCEValues lints and renders the CCE values file: a LoadBalancerPool of three listeners,
// a plan spreading its tenants over it with SWR's pull secret and the ELB's CIDR admitted, and
// the pull secret on both components.
func TestCCEValues(t *testing.T) {
	t.Parallel()
	out, err := helm(t, "lint", "--strict", chartDir, "-f", cceValues)
	if err != nil || !strings.Contains(out, "0 chart(s) failed") {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
	m := render(t, "-f", cceValues)

	pools := m.ofKind("LoadBalancerPool")
	if len(pools) != 1 {
		t.Fatalf("want one LoadBalancerPool, got %v", pools.names())
	}
	pool := decode[tenantryv1alpha1.LoadBalancerPool](t, pools[0])
	if pool.Name != "cce-elb" || len(pool.Spec.Listeners) != 3 {
		t.Fatalf("pool %q with %d listeners", pool.Name, len(pool.Spec.Listeners))
	}
	for _, l := range pool.Spec.Listeners {
		if l.Class != tenantryv1alpha1.ELBDedicated || l.TenantCapacity() != tenantryv1alpha1.DefaultDedicatedListenerTenants {
			t.Errorf("listener %s: class %q, capacity %d", l.Key(), l.Class, l.TenantCapacity())
		}
	}

	plan := decode[tenantryv1alpha1.TenantPlan](t, m.get(t, "TenantPlan", "standard"))
	if plan.Spec.Domain.LoadBalancerPool != pool.Name || plan.Spec.Domain.IngressClassName != "cce" {
		t.Errorf("plan domain: %+v", plan.Spec.Domain)
	}
	if diff := cmp.Diff([]corev1.LocalObjectReference{{Name: "default-secret"}}, plan.Spec.App.ImagePullSecrets); diff != "" {
		t.Errorf("plan pull secrets (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"192.168.0.0/16"}, plan.Spec.Network.IngressCIDRs); diff != "" {
		t.Errorf("plan ingress CIDRs (-want +got):\n%s", diff)
	}
	for _, d := range m.ofKind("Deployment") {
		if got := asMap(t, d); !strings.Contains(string(d.JSON), `"imagePullSecrets":[{"name":"default-secret"}]`) {
			t.Errorf("Deployment %s does not pull with default-secret: %v", d.Name, got["spec"])
		}
	}
}

// TestLoadBalancerPoolsSchema: a listener without its ELB id, or of an unknown class, is refused
// when the values are read.
func TestLoadBalancerPoolsSchema(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		pool map[string]any
		want string
	}{
		{"no elbId", map[string]any{"name": "p", "listeners": []any{map[string]any{"port": 443}}}, "elbId"},
		{"unknown class", map[string]any{"name": "p", "listeners": []any{map[string]any{"elbId": "e", "port": 443, "class": "big"}}}, "class"},
		{"no listeners", map[string]any{"name": "p"}, "listeners"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"template", "t", chartDir, "-f", requiredKeys}, values(t, map[string]any{"loadBalancerPools": []any{tc.pool}})...)
			_, err := helm(t, args...)
			if err == nil || !strings.Contains(err.Error(), "/loadBalancerPools/0") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want a schema error naming %s, got %v", tc.want, err)
			}
		})
	}
}
