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

package v1alpha1_test

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func tenantHost(host, instance string) *v1.TenantHost {
	return &v1.TenantHost{ObjectMeta: metav1.ObjectMeta{Name: host}, Spec: v1.TenantHostSpec{InstanceName: instance}}
}

// TestTenantHostValidation proves that a real API server refuses each invalid TenantHost with a
// message naming the field, and accepts the valid ones.
func TestTenantHostValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		obj    *v1.TenantHost
		errHas string // "" = must be accepted
	}{
		{"valid", tenantHost("shop.valid-host.example.com", "ti-0123456789abcdef"), ""},
		{"longest host", tenantHost(strings.Repeat("a", 63)+"."+strings.Repeat("b", 63)+"."+strings.Repeat("c", 63)+"."+strings.Repeat("d", 57)+".org", "ti-1"), ""},
		{"single label", tenantHost("localhost", "ti-1"), "metadata.name must be the host"},
		{"label ending in a dash", tenantHost("shop-.example.com", "ti-1"), "metadata.name must be the host"},
		{"numeric top-level label", tenantHost("10.0.0.1", "ti-1"), "metadata.name must be the host"},
		{"label longer than 63", tenantHost(strings.Repeat("a", 64)+".example.com", "ti-1"), "metadata.name must be the host"},
		{"no instance", tenantHost("no-instance.example.com", ""), "spec.instanceName"},
		{"instance not a DNS label", tenantHost("bad-instance.example.com", "Ti_1"), "spec.instanceName"},
		{"instance longer than 56", tenantHost("long-instance.example.com", strings.Repeat("a", 57)), "spec.instanceName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := k8s.Create(context.Background(), tc.obj)
			if tc.errHas == "" {
				g.Expect(err).NotTo(HaveOccurred())
				t.Cleanup(func() { _ = k8s.Delete(context.Background(), tc.obj) })
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.errHas)))
		})
	}
}

// TestTenantHostHolderIsImmutable proves that a host changes hands only by deleting its claim:
// an update of spec.instanceName is refused.
func TestTenantHostHolderIsImmutable(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	th := tenantHost("immutable.example.com", "ti-first")
	g.Expect(k8s.Create(ctx, th)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(ctx, th) })

	th.Spec.InstanceName = "ti-second"
	g.Expect(k8s.Update(ctx, th)).To(MatchError(ContainSubstring("spec.instanceName is immutable")))
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(th), th)).To(Succeed())
	g.Expect(th.Spec.InstanceName).To(Equal("ti-first"))

	// A second claim of the same host fails: creation is the reservation.
	g.Expect(k8s.Create(ctx, tenantHost("immutable.example.com", "ti-second"))).To(MatchError(ContainSubstring("already exists")))
}
