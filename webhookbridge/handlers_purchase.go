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

package webhookbridge

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/webhookbridge/orderquery"
	"github.com/tenantry/tenantry/webhookbridge/policy"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// entitlement is what an order line entitles the buyer to, as far as the tenant needs it.
// Contact details of the buyer are deliberately absent.
type entitlement struct {
	sku, productID             string
	quantity                   int32
	expiresAt                  *time.Time
	chargingMode, periodType   string
	periodNumber               int
	trial                      bool
	customerID, customerName   string
	orderType, sourceOfDetails string
	// dedicatedHost is the buyer's own domain, from the order line's extendParams (V1: the
	// call's saasExtendParams); empty for a tenant on the plan's shared domain.
	dedicatedHost string
}

// handleNewInstance creates the TenantInstance of a purchase, idempotently.
//
// Period and one-time purchases are keyed on (orderId, orderLineId): the instance name is
// InstanceName(orderId, orderLineId), so an existing instance answers 000000 with the same
// instanceId whatever businessId a resend carries, at the cost of one read (none for a new
// purchase when the instance cache says the name is absent). Pay-per-use purchases are keyed on
// (orderId, productId) (docs/protocol.md §6.7, PayPerUseInstanceName), which only Order Query
// (or a V1 call) tells, so their resends look the order up again. Otherwise Order Query says
// what was bought; if it fails the call is answered 000005 and nothing is persisted — no
// half-specified tenant ever exists, and the marketplace resends for about three hours. The SKU
// must be served by exactly one TenantPlan (see requirePlan). Concurrent resends race on the
// API server's unique names: the losers get AlreadyExists and answer success too.
//
// A Dedicated tenant's host is reserved (reserveHost) before the instance is created, and a
// host that may not be claimed, or that another instance holds, is refused with 000002.
//
// A debug purchase (testFlag=1) creates nothing: it answers the instanceId the real purchase
// would get, and reports what the real one would have refused as a pre-flight finding.
func (s *Server) handleNewInstance(ctx context.Context, c *call, p *protocol.NewInstance) (protocol.Response, error) {
	lineID := p.OrderLineID
	if lineID == "" {
		// Legacy V1 orders have a single line and name none; the order id stands in for it,
		// because spec.order.orderLineId is required.
		lineID = p.OrderID
	}
	name := InstanceName(p.OrderID, lineID)
	c.instanceID = name
	answer := success()
	answer.InstanceID = name

	if !s.certainlyAbsent(ctx, name) {
		switch done, err := s.purchased(ctx, name, p.OrderID, lineID, false); {
		case err != nil:
			return s.debugOr(ctx, c, nil, answer, err)
		case done:
			return answer, nil // a resend
		}
	}

	ent, err := s.entitlement(ctx, p)
	if err != nil {
		return s.debugOr(ctx, c, nil, answer, err)
	}
	byProduct := policy.KeyedOnProduct(ent.chargingMode, ent.productID)
	if byProduct {
		name = PayPerUseInstanceName(p.OrderID, ent.productID)
		c.instanceID, answer.InstanceID = name, name
		if !s.certainlyAbsent(ctx, name) {
			switch done, err := s.purchased(ctx, name, p.OrderID, lineID, true); {
			case err != nil:
				return s.debugOr(ctx, c, nil, answer, err)
			case done:
				return answer, nil // another line, or a resend, of the same pay-per-use product
			}
		}
	}
	if c.testFlag {
		_, err := s.planFor(ctx, ent.sku)
		if err == nil && ent.dedicatedHost != "" {
			err = s.reserveHost(ctx, ent.dedicatedHost, name, true)
		}
		return s.debugOr(ctx, c, nil, answer, err)
	}
	plan, err := s.requirePlan(ctx, ent.sku)
	if err != nil {
		return protocol.Response{}, err
	}
	if ent.dedicatedHost != "" {
		// Reserved before the instance exists, so that no instance ever names a host it does
		// not hold (hosts.go).
		if err := s.reserveHost(ctx, ent.dedicatedHost, name, false); err != nil {
			return protocol.Response{}, err
		}
	}
	if !plan.Spec.RecordCustomerName {
		ent.customerName = "" // personal data, kept only when the plan asks for it
	}
	ti := buildInstance(name, p.OrderID, lineID, ent, c.sentAt)
	err = s.client.Create(ctx, ti)
	switch {
	case apierrors.IsAlreadyExists(err):
		// A concurrent resend created it first, or the instance cache had not seen it yet. If it
		// is gone again already, it existed under this name: answered as before.
		if _, err := s.purchased(ctx, name, p.OrderID, lineID, byProduct); err != nil {
			return protocol.Response{}, err
		}
		return answer, nil
	case err != nil:
		if ent.dedicatedHost != "" {
			s.dropHostClaim(ctx, ent.dedicatedHost, name)
		}
		return protocol.Response{}, fmt.Errorf("creating TenantInstance %q: %w", name, err)
	}
	if ent.dedicatedHost != "" {
		s.ownHost(ctx, ent.dedicatedHost, ti)
	}
	logr.FromContextOrDiscard(ctx).Info("Created TenantInstance", "instanceId", name, "sku", ent.sku, "quantity", ent.quantity,
		"plan", plan.Name, "orderId", p.OrderID)
	s.event(ti, normal, ReasonMarketplaceNewInstance, "Create", "Created for order %q line %q: SKU %q, quantity %d, served by plan %q",
		p.OrderID, lineID, ent.sku, ent.quantity, plan.Name)
	return answer, nil
}

// certainlyAbsent reports whether the instance cache (Options.Instances) holds no TenantInstance
// of this name. Anything else — no cache, the name cached, the cache failing — is "maybe", and
// the caller reads the API server.
func (s *Server) certainlyAbsent(ctx context.Context, name string) bool {
	if s.instances == nil || !validInstanceName(name) {
		return false
	}
	return apierrors.IsNotFound(s.instances.Get(ctx, client.ObjectKey{Name: name}, instanceNames()))
}

// purchased reads the TenantInstance of a purchase and reports whether it exists. It fails when
// the instance of that name belongs to another purchase (policy.DecidePurchase): the names are
// hashes, and a collision must not answer for the wrong tenant.
func (s *Server) purchased(ctx context.Context, name, orderID, lineID string, byProduct bool) (bool, error) {
	existing, err := s.readInstance(ctx, name)
	switch {
	case errors.Is(err, errInstanceNotFound):
		existing = nil
	case err != nil:
		return false, err
	}
	switch policy.DecidePurchase(existing, orderID, lineID, byProduct) {
	case policy.PurchaseResend:
		return true, nil
	case policy.PurchaseCollision:
		return false, fail(protocol.CodeInternalError, "instance-name-collision",
			"TenantInstance %q belongs to another purchase", name)
	}
	return false, nil
}

// entitlement learns what was bought: from Order Query for V2 calls, or from the call itself
// for a V1 call that carries its product (V1 sends SKU, expiry and customer in the signed query).
// A V1 call's productId picks the product of the order line (docs/protocol.md §6.7).
func (s *Server) entitlement(ctx context.Context, p *protocol.NewInstance) (entitlement, error) {
	if p.OrderLineID == "" && p.SkuCode != "" {
		e := entitlement{
			sku: p.SkuCode, productID: p.ProductID, quantity: 1, periodType: p.PeriodType, trial: p.TrialFlag,
			customerID: p.CustomerID, customerName: p.CustomerName, sourceOfDetails: "v1-call",
		}
		if !p.ExpireTime.IsZero() {
			t := p.ExpireTime
			e.expiresAt = &t
		}
		if n, err := strconv.Atoi(p.PeriodNumber); err == nil {
			e.periodNumber = n
		}
		params, err := protocol.DecodeSaasExtendParams(p.SaasExtendParams)
		if err != nil {
			return entitlement{}, err
		}
		if e.dedicatedHost, err = s.dedicatedHost(params, protocol.FieldSaasExtendParams); err != nil {
			return entitlement{}, err
		}
		return e, nil
	}
	order, line, err := s.queryOrder(ctx, p.OrderID, p.OrderLineID)
	if err != nil {
		return entitlement{}, err
	}
	product := pickProduct(line, p.ProductID)
	quantity, err := policy.Quantity(product.LinearValue)
	if err != nil {
		return entitlement{}, &quantityError{err: err}
	}
	params := make([]protocol.Param, 0, len(line.ExtendParams))
	for _, x := range line.ExtendParams {
		params = append(params, protocol.Param{Name: x.Name, Value: x.Value})
	}
	host, err := s.dedicatedHost(params, "extendParams")
	if err != nil {
		return entitlement{}, err
	}
	productID := product.ProductID
	if p.ProductID != "" {
		productID = p.ProductID
	}
	return entitlement{
		sku: product.SkuCode, productID: productID, quantity: quantity, expiresAt: line.ExpireAt,
		chargingMode: line.ChargingMode, periodType: line.PeriodType, periodNumber: line.PeriodNumber,
		trial:      order.OrderType == "TRIAL",
		customerID: order.Buyer.CustomerID, customerName: order.Buyer.CustomerName,
		orderType: order.OrderType, sourceOfDetails: "order-query", dedicatedHost: host,
	}, nil
}

// pickProduct is the product of an order line that productID names, or its first.
func pickProduct(line *orderquery.OrderLine, productID string) orderquery.Product {
	for _, p := range line.Products {
		if productID != "" && p.ProductID == productID && p.SkuCode != "" {
			return p
		}
	}
	return line.Products[0]
}

// dedicatedHost reads the buyer's own domain from the purchase parameters (the custom purchase
// parameter the product listing asks for, named by Options.DomainParam): an Order Query line's
// extendParams, or a V1 call's saasExtendParams; field names them in errors. Absent or empty
// means the plan's shared domain. A value that is not a lowercase DNS name with at least two
// labels — no wildcard, no scheme, no port — is refused with 000002 before anything is
// persisted, so the buyer's typo never becomes a tenant that cannot get a certificate.
// Whether the host may be claimed at all is reserveHost's decision, once the plan is known.
func (s *Server) dedicatedHost(params []protocol.Param, field string) (string, error) {
	if s.domainParam == "" {
		return "", nil
	}
	for _, p := range params {
		if p.Name != s.domainParam {
			continue
		}
		host := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(p.Value)), ".")
		if host == "" {
			return "", nil
		}
		if len(host) > 253 || !dnsName.MatchString(host) {
			return "", &protocol.Error{Code: protocol.CodeInvalidParam, Reason: "invalid-domain", Field: field + "." + s.domainParam,
				Err: fmt.Errorf("the order's %s is not a DNS name such as shop.example.com", s.domainParam)}
		}
		return host, nil
	}
	return "", nil
}

// dnsName is spec.domain.host's pattern: DNS labels, at least two, the last starting with a letter.
var dnsName = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

// buildInstance is the TenantInstance of a purchase. Free-text values are trimmed to the API's
// bounds rather than failing a paid order over a long display name; identifiers are kept
// exactly, and the API server's validation has the last word on them.
func buildInstance(name, orderID, lineID string, e entitlement, sent time.Time) *tenantryv1alpha1.TenantInstance {
	at := microTime(sent)
	ti := &tenantryv1alpha1.TenantInstance{
		ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{LabelOrderID: orderLabelValue(orderID)},
			// The operator's finalizer, so that it need not add it with a write of its own.
			Finalizers: []string{tenantryv1alpha1.Finalizer},
		},
		Spec: tenantryv1alpha1.TenantInstanceSpec{
			SKU:       e.sku,
			ProductID: e.productID,
			Quantity:  max(e.quantity, 1),
			Lifecycle: tenantryv1alpha1.LifecycleActive,
			Order: tenantryv1alpha1.Order{
				OrderID:     orderID,
				OrderLineID: lineID,
				Trial:       e.trial,
			},
			// expiryOrderId stays empty: it names renewal orders only.
			Marketplace: &tenantryv1alpha1.MarketplaceRecord{LifecycleSetAt: at, ExpirySetAt: at, SKUSetAt: at, QuantitySetAt: at},
		},
	}
	if e.expiresAt != nil {
		t := metav1.NewTime(e.expiresAt.UTC().Truncate(time.Second))
		ti.Spec.ExpiresAt = &t
	}
	switch m := tenantryv1alpha1.ChargingMode(e.chargingMode); m {
	case tenantryv1alpha1.ChargingPeriod, tenantryv1alpha1.ChargingOnDemand, tenantryv1alpha1.ChargingOneTime, tenantryv1alpha1.ChargingOnDemandPkg:
		ti.Spec.Order.ChargingMode = m
	}
	if len(e.periodType) <= 16 {
		ti.Spec.Order.PeriodType = e.periodType
	}
	if e.periodNumber >= 0 && e.periodNumber <= 1000 {
		ti.Spec.Order.PeriodNumber = int32(e.periodNumber)
	}
	if e.customerID != "" {
		ti.Spec.Customer = &tenantryv1alpha1.Customer{CustomerID: e.customerID, CustomerName: truncateRunes(e.customerName, 256)}
	}
	if e.dedicatedHost != "" {
		ti.Spec.Domain = tenantryv1alpha1.TenantDomain{Type: tenantryv1alpha1.DomainDedicated, Host: e.dedicatedHost}
	}
	return ti
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
