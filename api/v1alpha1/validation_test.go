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
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/testenv"
)

var k8s client.Client

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("skipping API validation tests against a real API server in -short mode")
		os.Exit(0)
	}
	env, cfg, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	k8s, err = client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

func validInstance(name string) *v1.TenantInstance {
	return &v1.TenantInstance{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1.TenantInstanceSpec{
			SKU:      "SKU-1",
			Order:    v1.Order{OrderID: "CS2211181819B4LVS", OrderLineID: "CS2211181819B4LVS-000001"},
			Customer: &v1.Customer{CustomerID: "c1"},
		},
	}
}

func meteredPlan(m v1.Metering) client.Object {
	p := validPlan("x")
	p.Spec.Metering = &m
	return p
}

func validPlan(name string) *v1.TenantPlan {
	return &v1.TenantPlan{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1.TenantPlanSpec{
			SKUs:   []string{"SKU-1"},
			App:    v1.AppSpec{Image: "app:1"},
			Domain: v1.DomainSettings{BaseDomain: "apps.example.com"},
		},
	}
}

// TestCreateValidation proves that a real API server rejects each invalid object, with a message
// naming the field, and accepts the valid baseline.
func TestCreateValidation(t *testing.T) {
	for i, tc := range []struct {
		name   string
		obj    client.Object
		errHas string // "" = must be accepted
	}{
		{"valid shared instance", validInstance("valid-shared"), ""},
		{"valid dedicated instance", func() client.Object {
			ti := validInstance("valid-dedicated")
			ti.Spec.Domain = v1.TenantDomain{Type: v1.DomainDedicated, Host: "erp.example.org"}
			return ti
		}(), ""},
		{"dedicated without host", func() client.Object {
			ti := validInstance("x")
			ti.Spec.Domain = v1.TenantDomain{Type: v1.DomainDedicated}
			return ti
		}(), "spec.domain.host is required when spec.domain.type is Dedicated"},
		{"shared with host", func() client.Object {
			ti := validInstance("x")
			ti.Spec.Domain = v1.TenantDomain{Type: v1.DomainShared, Host: "erp.example.org"}
			return ti
		}(), "spec.domain.host is required when spec.domain.type is Dedicated and forbidden when it is Shared"},
		{"host not a DNS name", func() client.Object {
			ti := validInstance("x")
			ti.Spec.Domain = v1.TenantDomain{Type: v1.DomainDedicated, Host: "Bad_Host!"}
			return ti
		}(), "spec.domain.host"},
		{"unknown domain type", func() client.Object {
			ti := validInstance("x")
			ti.Spec.Domain = v1.TenantDomain{Type: "Private"}
			return ti
		}(), "spec.domain.type"},
		{"name longer than 56", validInstance(strings.Repeat("a", 57)), "metadata.name must be a DNS label of at most 56 characters"},
		{"name with a dot", validInstance("a.b"), "metadata.name must be a DNS label"},
		{"missing sku", func() client.Object { ti := validInstance("x"); ti.Spec.SKU = ""; return ti }(), "spec.sku"},
		{"sku with spaces", func() client.Object { ti := validInstance("x"); ti.Spec.SKU = "a b"; return ti }(), "spec.sku"},
		{"sku too long", func() client.Object { ti := validInstance("x"); ti.Spec.SKU = strings.Repeat("s", 65); return ti }(), "spec.sku"},
		{"unknown lifecycle", func() client.Object { ti := validInstance("x"); ti.Spec.Lifecycle = "Paused"; return ti }(), "spec.lifecycle"},
		{"missing order id", func() client.Object { ti := validInstance("x"); ti.Spec.Order.OrderID = ""; return ti }(), "spec.order.orderId"},
		{"missing order line id", func() client.Object { ti := validInstance("x"); ti.Spec.Order.OrderLineID = ""; return ti }(), "spec.order.orderLineId"},
		{"unknown charging mode", func() client.Object { ti := validInstance("x"); ti.Spec.Order.ChargingMode = "FREE"; return ti }(), "spec.order.chargingMode"},
		{"negative period number", func() client.Object { ti := validInstance("x"); ti.Spec.Order.PeriodNumber = -1; return ti }(), "spec.order.periodNumber"},
		{"customer without id", func() client.Object { ti := validInstance("x"); ti.Spec.Customer.CustomerID = ""; return ti }(), "spec.customer.customerId"},
		{"tenant without id", func() client.Object {
			ti := validInstance("x")
			ti.Spec.Tenant = &v1.Tenant{Name: "no id"}
			return ti
		}(), "spec.tenant.tenantId"},
		{"duplicate application", func() client.Object {
			ti := validInstance("x")
			app := v1.TenantApplication{AppID: "a", ClientID: "c", EncryptedClientSecret: "e"}
			ti.Spec.Tenant = &v1.Tenant{TenantID: "t", Applications: []v1.TenantApplication{app, app}}
			return ti
		}(), "spec.tenant.applications"},
		{"application id that is not a valid Secret key", func() client.Object {
			ti := validInstance("x")
			ti.Spec.Tenant = &v1.Tenant{TenantID: "t", Applications: []v1.TenantApplication{{AppID: "a/b", ClientID: "c", EncryptedClientSecret: "e"}}}
			return ti
		}(), "spec.tenant.applications[0].appId"},
		{"valid application id of every allowed character", func() client.Object {
			ti := validInstance("valid-app-id")
			ti.Spec.Tenant = &v1.Tenant{TenantID: "t", Applications: []v1.TenantApplication{{AppID: "App_1.x-Y", ClientID: "c", EncryptedClientSecret: "e"}}}
			return ti
		}(), ""},
		{"valid instance with a quantity, a pending change and applied orders", func() client.Object {
			ti := validInstance("valid-golive")
			ti.Spec.Quantity = 50
			ti.Spec.Customer.CustomerID = strings.Repeat("c", 100)
			ti.Spec.PendingChange = &v1.PendingChange{SKU: "SKU-2", Quantity: 60, OrderID: "CS-RENEW", EffectiveAt: metav1.Now()}
			ti.Spec.Marketplace = &v1.MarketplaceRecord{AppliedOrders: []v1.AppliedOrder{
				{OrderID: "CS-RENEW", Scene: v1.SceneRenewalChange}, {OrderID: "CS-RENEW", Scene: v1.SceneRefund},
			}}
			return ti
		}(), ""},
		{"quantity below one", func() client.Object { ti := validInstance("x"); ti.Spec.Quantity = -1; return ti }(), "spec.quantity"},
		{"quantity too large", func() client.Object { ti := validInstance("x"); ti.Spec.Quantity = 1000000001; return ti }(), "spec.quantity"},
		{"customer id over 100", func() client.Object {
			ti := validInstance("x")
			ti.Spec.Customer.CustomerID = strings.Repeat("c", 101)
			return ti
		}(), "spec.customer.customerId"},
		{"pending change without order", func() client.Object {
			ti := validInstance("x")
			ti.Spec.PendingChange = &v1.PendingChange{SKU: "SKU-2", EffectiveAt: metav1.Now()}
			return ti
		}(), "spec.pendingChange.orderId"},
		{"pending change with a bad sku", func() client.Object {
			ti := validInstance("x")
			ti.Spec.PendingChange = &v1.PendingChange{SKU: "a b", OrderID: "o", EffectiveAt: metav1.Now()}
			return ti
		}(), "spec.pendingChange.sku"},
		{"pending change without effective time", func() client.Object {
			ti := validInstance("x")
			ti.Spec.PendingChange = &v1.PendingChange{SKU: "SKU-2", OrderID: "o"}
			return ti
		}(), "spec.pendingChange.effectiveAt"},
		{"pending change quantity below one", func() client.Object {
			ti := validInstance("x")
			ti.Spec.PendingChange = &v1.PendingChange{SKU: "SKU-2", Quantity: -3, OrderID: "o", EffectiveAt: metav1.Now()}
			return ti
		}(), "spec.pendingChange.quantity"},
		{"applied order with an unknown scene", func() client.Object {
			ti := validInstance("x")
			ti.Spec.Marketplace = &v1.MarketplaceRecord{AppliedOrders: []v1.AppliedOrder{{OrderID: "o", Scene: "REFILL"}}}
			return ti
		}(), "spec.marketplace.appliedOrders"},
		{"applied order twice", func() client.Object {
			ti := validInstance("x")
			o := v1.AppliedOrder{OrderID: "o", Scene: v1.SceneRenewal}
			ti.Spec.Marketplace = &v1.MarketplaceRecord{AppliedOrders: []v1.AppliedOrder{o, o}}
			return ti
		}(), "spec.marketplace.appliedOrders"},
		{"more applied orders than kept", func() client.Object {
			ti := validInstance("x")
			m := &v1.MarketplaceRecord{}
			for i := range v1.MaxAppliedOrders + 1 {
				m.AppliedOrders = append(m.AppliedOrders, v1.AppliedOrder{OrderID: fmt.Sprintf("o-%d", i), Scene: v1.SceneRenewal})
			}
			ti.Spec.Marketplace = m
			return ti
		}(), "spec.marketplace.appliedOrders"},
		{"valid plan", validPlan("valid-plan"), ""},
		{"valid plan scaling per unit", func() client.Object {
			p := validPlan("valid-per-unit")
			p.Spec.SKUs = []string{"SKU-PER-UNIT"}
			p.Spec.PerUnit = &v1.PerUnitScaling{UnitsPerReplica: 10, MaxReplicas: 5,
				Quota: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}
			return p
		}(), ""},
		{"plan per-unit max replicas too large", func() client.Object {
			p := validPlan("x")
			p.Spec.PerUnit = &v1.PerUnitScaling{MaxReplicas: 101}
			return p
		}(), "spec.perUnit.maxReplicas"},
		{"plan negative units per replica", func() client.Object {
			p := validPlan("x")
			p.Spec.PerUnit = &v1.PerUnitScaling{UnitsPerReplica: -1}
			return p
		}(), "spec.perUnit.unitsPerReplica"},
		{"valid plan with every meter field", func() client.Object {
			p := validPlan("valid-meter")
			p.Spec.Metering = &v1.Metering{Source: v1.MeteringPrometheus, Period: &metav1.Duration{Duration: 15 * time.Minute},
				UnitScale: "0.001", Decimals: ptr.To[int32](2), Rounding: v1.RoundNearest, Query: `sum(up{namespace="{{.Namespace}}"})`}
			return p
		}(), ""},
		{"meter with an unknown source", meteredPlan(v1.Metering{Source: "Bytes"}), "spec.metering.source"},
		{"Prometheus meter without a query", meteredPlan(v1.Metering{Source: v1.MeteringPrometheus}), "spec.metering.query is required"},
		{"query on another source", meteredPlan(v1.Metering{Source: v1.MeteringActiveHours, Query: "up"}), "spec.metering.query is required"},
		{"meter period below a minute", meteredPlan(v1.Metering{Source: v1.MeteringActiveHours, Period: &metav1.Duration{Duration: 30 * time.Second}}), "spec.metering.period must be between 1m and 24h"},
		{"meter period over a day", meteredPlan(v1.Metering{Source: v1.MeteringActiveHours, Period: &metav1.Duration{Duration: 25 * time.Hour}}), "spec.metering.period must be between 1m and 24h"},
		{"meter scale not a decimal", meteredPlan(v1.Metering{Source: v1.MeteringActiveHours, UnitScale: "1e3"}), "spec.metering.unitScale"},
		{"meter with 5 decimals", meteredPlan(v1.Metering{Source: v1.MeteringActiveHours, Decimals: ptr.To[int32](5)}), "spec.metering.decimals"},
		{"meter with an unknown rounding", meteredPlan(v1.Metering{Source: v1.MeteringActiveHours, Rounding: "Banker"}), "spec.metering.rounding"},
		{"plan without skus", func() client.Object { p := validPlan("x"); p.Spec.SKUs = nil; return p }(), "spec.skus"},
		{"plan with duplicate skus", func() client.Object { p := validPlan("x"); p.Spec.SKUs = []string{"a", "a"}; return p }(), "spec.skus"},
		{"plan with empty sku", func() client.Object { p := validPlan("x"); p.Spec.SKUs = []string{""}; return p }(), "spec.skus"},
		{"plan without image", func() client.Object { p := validPlan("x"); p.Spec.App.Image = ""; return p }(), "spec.app.image"},
		{"plan port out of range", func() client.Object { p := validPlan("x"); p.Spec.App.Port = 70000; return p }(), "spec.app.port"},
		{"plan with too many replicas", func() client.Object { p := validPlan("x"); p.Spec.Replicas = ptr.To[int32](101); return p }(), "spec.replicas"},
		{"plan with negative replicas", func() client.Object { p := validPlan("x"); p.Spec.Replicas = ptr.To[int32](-1); return p }(), "spec.replicas"},
		{"plan admin path without slash", func() client.Object { p := validPlan("x"); p.Spec.App.AdminPath = "admin"; return p }(), "spec.app.adminPath"},
		{"plan readiness path without slash", func() client.Object { p := validPlan("x"); p.Spec.App.ReadinessPath = "healthz"; return p }(), "spec.app.readinessPath"},
		{"plan base domain not DNS", func() client.Object { p := validPlan("x"); p.Spec.Domain.BaseDomain = "Apps_Example"; return p }(), "spec.domain.baseDomain"},
		{"plan shared TLS without base domain", func() client.Object {
			p := validPlan("x")
			p.Spec.Domain.BaseDomain = ""
			p.Spec.Domain.SharedTLSSecret = &v1.SecretReference{Namespace: "ns", Name: "tls"}
			return p
		}(), "spec.domain.sharedTLSSecret needs spec.domain.baseDomain"},
		{"plan with a rollout strategy", func() client.Object {
			p := validPlan("valid-rollout")
			p.Spec.Rollout = &v1.RolloutStrategy{Canary: new(intstr.FromString("5%")), WaveSize: new(intstr.FromInt32(3)),
				MaxUnavailable: new(intstr.FromString("100%")), FailureThreshold: new(int32(2))}
			return p
		}(), ""},
		{"rollout canary not a percentage", func() client.Object {
			p := validPlan("x")
			p.Spec.Rollout = &v1.RolloutStrategy{Canary: new(intstr.FromString("five"))}
			return p
		}(), "spec.rollout.canary"},
		{"rollout wave of zero", func() client.Object {
			p := validPlan("x")
			p.Spec.Rollout = &v1.RolloutStrategy{WaveSize: new(intstr.FromInt32(0))}
			return p
		}(), "spec.rollout.waveSize"},
		{"rollout percentage over 100", func() client.Object {
			p := validPlan("x")
			p.Spec.Rollout = &v1.RolloutStrategy{MaxUnavailable: new(intstr.FromString("150%"))}
			return p
		}(), "spec.rollout.maxUnavailable"},
		{"rollout failure threshold of zero", func() client.Object {
			p := validPlan("x")
			p.Spec.Rollout = &v1.RolloutStrategy{FailureThreshold: new(int32(0))}
			return p
		}(), "spec.rollout.failureThreshold"},
		{"plan with duplicate env names", func() client.Object {
			p := validPlan("x")
			p.Spec.App.Env = []corev1.EnvVar{{Name: "A"}, {Name: "A"}}
			return p
		}(), "spec.app.env"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := tc.obj
			if obj.GetName() == "x" {
				obj.SetName(fmt.Sprintf("reject-%d", i))
			}
			err := k8s.Create(context.Background(), obj)
			if tc.errHas == "" {
				if err != nil {
					t.Fatalf("valid object rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("invalid object accepted; want an error mentioning %q", tc.errHas)
			}
			if !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("error %q does not mention %q", err, tc.errHas)
			}
		})
	}
}

// TestImmutableIdentity proves that the order and customer identity cannot change after creation,
// while the fields the marketplace does change (SKU, lifecycle, expiry, trial) can.
func TestImmutableIdentity(t *testing.T) {
	ctx := context.Background()
	ti := validInstance("immutable")
	if err := k8s.Create(ctx, ti); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*v1.TenantInstance)
		errHas string
	}{
		{"order id", func(ti *v1.TenantInstance) { ti.Spec.Order.OrderID = "OTHER" }, "spec.order.orderId is immutable"},
		{"order line id", func(ti *v1.TenantInstance) { ti.Spec.Order.OrderLineID = "OTHER-1" }, "spec.order.orderLineId is immutable"},
		{"customer id", func(ti *v1.TenantInstance) { ti.Spec.Customer.CustomerID = "c2" }, "spec.customer.customerId is immutable"},
		{"sku, lifecycle, expiry and trial may change", func(ti *v1.TenantInstance) {
			ti.Spec.SKU = "SKU-2"
			ti.Spec.Lifecycle = v1.LifecycleFrozen
			ti.Spec.ExpiresAt = &metav1.Time{}
			ti.Spec.Order.Trial = true
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := &v1.TenantInstance{}
			if err := k8s.Get(ctx, client.ObjectKey{Name: "immutable"}, cur); err != nil {
				t.Fatal(err)
			}
			tc.mutate(cur)
			err := k8s.Update(ctx, cur)
			switch {
			case tc.errHas == "" && err != nil:
				t.Fatalf("allowed change rejected: %v", err)
			case tc.errHas != "" && err == nil:
				t.Fatalf("change accepted; want %q", tc.errHas)
			case tc.errHas != "" && !strings.Contains(err.Error(), tc.errHas):
				t.Fatalf("error %q does not mention %q", err, tc.errHas)
			}
		})
	}
}

// TestSamplesAreAccepted proves that config/samples is valid against the real schema.
func TestSamplesAreAccepted(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.Root(), "config", "samples", "tenantry_*.yaml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("want at least 3 samples, got %d (%v)", len(files), err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(data, &u.Object); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := k8s.Create(context.Background(), u); err != nil {
			t.Errorf("%s rejected: %v", filepath.Base(f), err)
		}
	}
}

// TestInstancesSelectableBySKUAndLifecycle proves the API server answers field selectors on
// spec.sku and spec.lifecycle (kubectl get ti --field-selector spec.sku=...), which SREs use to
// find the tenants of a plan or every frozen tenant without any label being kept in step.
func TestInstancesSelectableBySKUAndLifecycle(t *testing.T) {
	ctx := context.Background()
	a, b, c := validInstance("sel-a"), validInstance("sel-b"), validInstance("sel-c")
	a.Spec.SKU, b.Spec.SKU, c.Spec.SKU = "SKU-SEL-1", "SKU-SEL-1", "SKU-SEL-2"
	b.Spec.Lifecycle = v1.LifecycleFrozen
	for _, o := range []client.Object{a, b, c} {
		if err := k8s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = k8s.Delete(context.Background(), o) })
	}
	names := func(fields client.MatchingFields) []string {
		t.Helper()
		list := &v1.TenantInstanceList{}
		if err := k8s.List(ctx, list, fields); err != nil {
			t.Fatalf("listing with %v: %v", fields, err)
		}
		var out []string
		for _, ti := range list.Items {
			if strings.HasPrefix(ti.Name, "sel-") {
				out = append(out, ti.Name)
			}
		}
		return out
	}
	if got := names(client.MatchingFields{"spec.sku": "SKU-SEL-1"}); !slices.Equal(got, []string{"sel-a", "sel-b"}) {
		t.Errorf("spec.sku=SKU-SEL-1 selected %v", got)
	}
	if got := names(client.MatchingFields{"spec.sku": "SKU-SEL-1", "spec.lifecycle": string(v1.LifecycleFrozen)}); !slices.Equal(got, []string{"sel-b"}) {
		t.Errorf("spec.sku=SKU-SEL-1,spec.lifecycle=Frozen selected %v", got)
	}
}
