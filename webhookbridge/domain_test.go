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

package webhookbridge_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

func withDomain(value string) func(*simulator.OrderSpec) {
	return func(o *simulator.OrderSpec) {
		o.ExtendParams = append(o.ExtendParams, simulator.Param{Name: webhookbridge.DefaultDomainParam, Value: value})
	}
}

func TestOrderWithADomainBuysADedicatedTenant(t *testing.T) {
	integration(t)
	g := NewWithT(t)

	id, _ := buy(t, skuSmall, withDomain(" Shop.Example.COM. "))
	ti := getInstance(g, id)
	g.Expect(ti.Spec.Domain).To(Equal(tenantryv1alpha1.TenantDomain{Type: tenantryv1alpha1.DomainDedicated, Host: "shop.example.com"}))

	id, _ = buy(t, skuSmall, withDomain(""))
	g.Expect(getInstance(g, id).Spec.Domain.Type).NotTo(Equal(tenantryv1alpha1.DomainDedicated))
}

func TestOrderWithAnInvalidDomainIsRefusedAndChangesNothing(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	for _, bad := range []string{
		"*.example.com", "https://shop.example.com", "shop.example.com:8443", "localhost",
		"shop_1.example.com", "shop..example.com", "-shop.example.com", "例子.example.com",
		"shop.example.com/admin", "shop.example.com\nx-injected: 1",
	} {
		o := newOrder(skuSmall, withDomain(bad))
		before := snapshot(g)
		a, err := market(t).Buy(context.Background(), o.OrderID, o.OrderLine[0].OrderLineID, false)
		expectCode(g, a, err, protocol.CodeInvalidParam)
		g.Expect(snapshot(g)).To(Equal(before), "domain %q", bad)
	}
}

func TestDomainParamCanBeRenamedOrDisabled(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()

	renamed := marketFor(t, newBridge(t, func(o *webhookbridge.Options) { o.DomainParam = "customHost" }))
	o := newOrder(skuSmall, func(s *simulator.OrderSpec) {
		s.ExtendParams = []simulator.Param{{Name: "customHost", Value: "crm.example.org"}, {Name: "domain", Value: "ignored.example.org"}}
	})
	a, err := renamed.Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, a.InstanceID).Spec.Domain.Host).To(Equal("crm.example.org"))

	disabled := marketFor(t, newBridge(t, func(o *webhookbridge.Options) { o.DomainParam = "-" }))
	o = newOrder(skuSmall, withDomain("not a domain"))
	a, err = disabled.Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, a.InstanceID).Spec.Domain.Type).NotTo(Equal(tenantryv1alpha1.DomainDedicated))
}
