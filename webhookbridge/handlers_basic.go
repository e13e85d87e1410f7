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
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/webhookbridge/orderquery"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// processBasic verifies a V2 basic call over its query string and the exact body bytes, and
// only then decodes the body and acts on it.
func (s *Server) processBasic(ctx context.Context, r *http.Request, body []byte, c *call) (protocol.Response, error) {
	q := r.URL.Query()
	idx, err := s.verifier.VerifyBasicKey(q, body)
	if err := verified(familyBasic, idx, err); err != nil {
		return protocol.Response{}, err
	}
	sent, err := protocol.BasicSentAt(q)
	if err != nil {
		return protocol.Response{}, fail(protocol.CodeInvalidParam, protocol.ReasonBadTimestamp, "reading send time: %w", err)
	}
	req, err := protocol.DecodeBasic(body)
	if err != nil {
		return protocol.Response{}, err
	}
	c.activity, c.testFlag, c.sentAt = req.Activity, req.TestFlag, sent
	return s.dispatch(ctx, req, c)
}

// dispatch runs the handler of a decoded basic or V1 call.
func (s *Server) dispatch(ctx context.Context, req protocol.Request, c *call) (protocol.Response, error) {
	switch req.Activity {
	case protocol.ActivityNewInstance:
		return s.handleNewInstance(ctx, c, req.NewInstance)
	case protocol.ActivityQueryInstance:
		return s.handleQuery(ctx, c, req.QueryInstance)
	case protocol.ActivityRefreshInstance:
		return s.handleRefresh(ctx, c, req.RefreshInstance)
	case protocol.ActivityUpdateInstanceStatus:
		return s.handleStatus(ctx, c, req.UpdateInstanceStatus)
	case protocol.ActivityUpgradeInstance:
		return s.handleUpgrade(ctx, c, req.UpgradeInstance)
	case protocol.ActivityChangeInstanceCheck:
		return s.handleChangeCheck(ctx, c, req.ChangeInstanceCheck)
	case protocol.ActivityReleaseInstance:
		return s.handleRelease(ctx, c, req.ReleaseInstance)
	}
	return protocol.Response{}, fail(protocol.CodeInvalidParam, protocol.ReasonUnknownActivity, "unknown activity %q", req.Activity)
}

func success() protocol.Response { return protocol.NewResponse(protocol.CodeSuccess) }

// ---- newInstance ----------------------------------------------------------

// entitlement is what an order line entitles the buyer to, as far as the tenant needs it.
// Contact details of the buyer are deliberately absent.
type entitlement struct {
	sku, productID             string
	expiresAt                  *time.Time
	chargingMode, periodType   string
	periodNumber               int
	trial                      bool
	customerID, customerName   string
	orderType, sourceOfDetails string
	// dedicatedHost is the buyer's own domain, from the order line's extendParams; empty for a
	// tenant on the plan's shared domain.
	dedicatedHost string
}

// handleNewInstance creates the TenantInstance of an order line, idempotently.
//
// The instance name is InstanceName(orderId, orderLineId), so an existing instance answers
// 000000 with the same instanceId whatever businessId a resend carries. Otherwise Order Query
// says what was bought; if it fails the call is answered 000005 and nothing is persisted — no
// half-specified tenant ever exists, and the marketplace resends for about three hours. The SKU
// must be served by exactly one TenantPlan (see requirePlan). Concurrent resends race on the
// API server's unique names: the losers get AlreadyExists and answer success too. With an
// instance cache (Options.Instances), a name it does not hold skips the first read.
func (s *Server) handleNewInstance(ctx context.Context, c *call, p *protocol.NewInstance) (protocol.Response, error) {
	lineID := p.OrderLineID
	if lineID == "" {
		// Legacy V1 orders have a single line and name none; the order id stands in for it,
		// because spec.order.orderLineId is required.
		lineID = p.OrderID
	}
	name := InstanceName(p.OrderID, lineID)
	c.instanceID = name
	answer := protocol.NewResponse(protocol.CodeSuccess)
	answer.InstanceID = name

	if !s.certainlyAbsent(ctx, name) {
		switch exists, err := s.existsForOrderLine(ctx, name, p.OrderID, lineID); {
		case err != nil:
			return protocol.Response{}, err
		case exists:
			return answer, nil // a resend
		}
	}

	ent, err := s.entitlement(ctx, p)
	if err != nil {
		return protocol.Response{}, err
	}
	plan, err := s.requirePlan(ctx, ent.sku)
	if err != nil {
		return protocol.Response{}, err
	}
	ti := buildInstance(name, p.OrderID, lineID, ent, c.sentAt)
	var opts []client.CreateOption
	if c.testFlag {
		opts = append(opts, client.DryRunAll)
	}
	err = s.client.Create(ctx, ti, opts...)
	switch {
	case apierrors.IsAlreadyExists(err):
		// A concurrent resend created it first, or the instance cache had not seen it yet. If it
		// is gone again already, it existed under this name: answered as before.
		if _, err := s.existsForOrderLine(ctx, name, p.OrderID, lineID); err != nil {
			return protocol.Response{}, err
		}
		return answer, nil
	case err != nil:
		return protocol.Response{}, fmt.Errorf("creating TenantInstance %q: %w", name, err)
	}
	if !c.testFlag {
		logr.FromContextOrDiscard(ctx).Info("Created TenantInstance", "instanceId", name, "sku", ent.sku, "plan", plan.Name, "orderId", p.OrderID)
		s.event(ti, normal, ReasonMarketplaceNewInstance, "Create", "Created for order %q line %q: SKU %q served by plan %q",
			p.OrderID, lineID, ent.sku, plan.Name)
	}
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

// existsForOrderLine reads the TenantInstance named for an order line and reports whether it
// exists. It fails when it belongs to another order line: the names are hashes, and a collision
// must not answer for the wrong tenant.
func (s *Server) existsForOrderLine(ctx context.Context, name, orderID, lineID string) (bool, error) {
	existing, err := s.readInstance(ctx, name)
	switch {
	case errors.Is(err, errInstanceNotFound):
		return false, nil
	case err != nil:
		return false, err
	case existing.Spec.Order.OrderID != orderID || existing.Spec.Order.OrderLineID != lineID:
		return false, fail(protocol.CodeInternalError, "instance-name-collision",
			"TenantInstance %q belongs to another order line", name)
	}
	return true, nil
}

// entitlement learns what was bought: from Order Query for V2 calls, or from the call itself
// for a V1 call that carries its product (V1 sends SKU, expiry and customer in the signed query).
func (s *Server) entitlement(ctx context.Context, p *protocol.NewInstance) (entitlement, error) {
	if p.OrderLineID == "" && p.SkuCode != "" {
		e := entitlement{
			sku: p.SkuCode, productID: p.ProductID, periodType: p.PeriodType, trial: p.TrialFlag,
			customerID: p.CustomerID, customerName: p.CustomerName, sourceOfDetails: "v1-call",
		}
		if !p.ExpireTime.IsZero() {
			t := p.ExpireTime
			e.expiresAt = &t
		}
		if n, err := strconv.Atoi(p.PeriodNumber); err == nil {
			e.periodNumber = n
		}
		return e, nil
	}
	order, line, err := s.queryOrder(ctx, p.OrderID, p.OrderLineID)
	if err != nil {
		return entitlement{}, err
	}
	product := line.Products[0]
	host, err := s.dedicatedHost(line)
	if err != nil {
		return entitlement{}, err
	}
	return entitlement{
		sku: product.SkuCode, productID: product.ProductID, expiresAt: line.ExpireAt,
		chargingMode: line.ChargingMode, periodType: line.PeriodType, periodNumber: line.PeriodNumber,
		trial:      order.OrderType == "TRIAL",
		customerID: order.Buyer.CustomerID, customerName: order.Buyer.CustomerName,
		orderType: order.OrderType, sourceOfDetails: "order-query", dedicatedHost: host,
	}, nil
}

// dedicatedHost reads the buyer's own domain from the order line's extendParams (the custom
// purchase parameter the product listing asks for, named by Options.DomainParam). Absent or
// empty means the plan's shared domain. A value that is not a lowercase DNS name with at least
// two labels — no wildcard, no scheme, no port — is refused with 000002 before anything is
// persisted, so the buyer's typo never becomes a tenant that cannot get a certificate.
func (s *Server) dedicatedHost(line *orderquery.OrderLine) (string, error) {
	if s.domainParam == "" {
		return "", nil
	}
	for _, p := range line.ExtendParams {
		if p.Name != s.domainParam {
			continue
		}
		host := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(p.Value)), ".")
		if host == "" {
			return "", nil
		}
		if len(host) > 253 || !dnsName.MatchString(host) {
			return "", &protocol.Error{Code: protocol.CodeInvalidParam, Reason: "invalid-domain", Field: "extendParams." + s.domainParam,
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
			Lifecycle: tenantryv1alpha1.LifecycleActive,
			Order: tenantryv1alpha1.Order{
				OrderID:     orderID,
				OrderLineID: lineID,
				Trial:       e.trial,
			},
			// expiryOrderId stays empty: it names renewal orders only, which the stale-FREEZE
			// guard relies on to tell a renewal from the purchase.
			Marketplace: &tenantryv1alpha1.MarketplaceRecord{LifecycleSetAt: at, ExpirySetAt: at, SKUSetAt: at},
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

// ---- queryInstance --------------------------------------------------------

// handleQuery reports the instances the marketplace asks about. Unknown ids are left out; if
// none is known the answer is 000003. Instances without a URL yet are still being provisioned
// and are left out too, so every entry has its mandatory frontEndUrl; if no known instance has
// a URL the answer is 000004, and the marketplace asks again.
func (s *Server) handleQuery(ctx context.Context, c *call, p *protocol.QueryInstance) (protocol.Response, error) {
	c.instanceID = strings.Join(p.InstanceIDs, ",")
	answer := success()
	known := 0
	for _, id := range p.InstanceIDs {
		ti, err := s.getInstance(ctx, id)
		if errors.Is(err, errInstanceNotFound) {
			continue
		}
		if err != nil {
			return protocol.Response{}, err
		}
		known++
		if ti.Status.URL == "" {
			continue
		}
		info, err := s.appInfo(ctx, ti)
		if err != nil {
			return protocol.Response{}, err
		}
		answer.Info = append(answer.Info, protocol.InstanceInfo{InstanceID: ti.Name, AppInfo: info})
	}
	switch {
	case known == 0:
		return protocol.Response{}, errInstanceNotFound
	case len(answer.Info) == 0:
		return protocol.NewResponse(protocol.CodeInProgress), nil
	}
	return answer, nil
}

// Memos shown to the customer next to the instance (the encoder escapes the Chinese as \uXXXX).
const (
	memoAdminAccount = "Sign in with this administrator account and change its password. 请使用此管理员账号登录并修改密码。"
	memoSuspended    = "This subscription is suspended; renewing it in KooGallery restores it. 订阅已暂停，在云商店续费即可恢复。"
)

// appInfo is what the customer needs to reach an instance: the operator's URLs and, once the
// operator has created it, the initial admin account from the tenant-admin Secret.
func (s *Server) appInfo(ctx context.Context, ti *tenantryv1alpha1.TenantInstance) (*protocol.AppInfo, error) {
	info := &protocol.AppInfo{FrontEndURL: ti.Status.URL, AdminURL: ti.Status.AdminURL}
	ns := ti.Status.Namespace
	if ref := ti.Status.AdminAccountSecretRef; ref != nil && ref.Name == adminSecretName && ref.Namespace != "" {
		ns = ref.Namespace
	}
	if ns != "" {
		secret := &corev1.Secret{}
		err := s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: adminSecretName}, secret)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return nil, fmt.Errorf("reading the admin account of %q: %w", ti.Name, err)
		default:
			info.UserName = string(secret.Data[corev1.BasicAuthUsernameKey])
			info.Password = string(secret.Data[corev1.BasicAuthPasswordKey])
		}
	}
	switch {
	case ti.Spec.Lifecycle == tenantryv1alpha1.LifecycleFrozen:
		info.Memo = memoSuspended
	case info.UserName != "" && info.Password != "":
		info.Memo = memoAdminAccount
	}
	return info, nil
}

// ---- refreshInstance ------------------------------------------------------

// handleRefresh sets the expiry a renewal (or a refund: it may move earlier) says. The call is
// ignored, and answered 000000, when it was sent before the call that last set the expiry
// (PROTOCOL.md §6.3); as the expiry is set, not extended, a resend never extends twice.
func (s *Server) handleRefresh(ctx context.Context, c *call, p *protocol.RefreshInstance) (protocol.Response, error) {
	c.instanceID = p.InstanceID
	expires := metav1.NewTime(p.ExpireTime.UTC().Truncate(time.Second))
	var moved, toFormal bool
	ti, wrote, err := s.mutateInstance(ctx, p.InstanceID, c.testFlag, func(ti *tenantryv1alpha1.TenantInstance) error {
		c.ignored, moved, toFormal = "", false, false
		if m := ti.Spec.Marketplace; m != nil && sentBefore(c.sentAt, m.ExpirySetAt) {
			c.ignored = reasonOutOfOrder
			return nil
		}
		moved = ti.Spec.ExpiresAt == nil || !ti.Spec.ExpiresAt.Equal(&expires)
		ti.Spec.ExpiresAt = &expires
		if p.Scene == protocol.SceneTrialToFormal && ti.Spec.Order.Trial {
			ti.Spec.Order.Trial, toFormal = false, true
		}
		m := marketplaceRecord(ti)
		m.ExpiryOrderID = p.OrderID
		m.ExpirySetAt = microTime(c.sentAt)
		return nil
	})
	if err != nil {
		return protocol.Response{}, err
	}
	if wrote && (moved || toFormal) {
		note := "Expiry set to %s by order %q (%s)"
		if toFormal {
			note = "Trial converted; expiry set to %s by order %q (%s)"
		}
		s.event(ti, normal, ReasonMarketplaceRenewal, "Renew", note, expires.UTC().Format(time.RFC3339), p.OrderID, p.Scene)
	}
	return success(), nil
}

// ---- updateInstanceStatus -------------------------------------------------

// handleStatus freezes or unfreezes, ordered by spec.marketplace.lifecycleSetAt.
//
// The ordering rule alone honours the marketplace's order of sends, but a marketplace retry is
// a new send: a FREEZE sent before a renewal, failed, and resent after the renewal and the
// UNFREEZE that followed it would freeze a paid tenant. Hence the stale-FREEZE guard: see
// staleFreeze. Such a FREEZE is answered 000000, recorded nowhere, and reported with a Warning
// Event (StaleFreezeIgnored) so an operator can see it.
func (s *Server) handleStatus(ctx context.Context, c *call, p *protocol.UpdateInstanceStatus) (protocol.Response, error) {
	c.instanceID = p.InstanceID
	want := tenantryv1alpha1.LifecycleActive
	if p.Status == protocol.StatusFreeze {
		want = tenantryv1alpha1.LifecycleFrozen
	}
	var switched bool
	ti, wrote, err := s.mutateInstance(ctx, p.InstanceID, c.testFlag, func(ti *tenantryv1alpha1.TenantInstance) error {
		c.ignored, switched = "", false
		if m := ti.Spec.Marketplace; m != nil && sentBefore(c.sentAt, m.LifecycleSetAt) {
			c.ignored = reasonOutOfOrder
			return nil
		}
		if want == tenantryv1alpha1.LifecycleFrozen && s.staleFreeze(ti, c.sentAt) {
			c.ignored = reasonStaleFreeze
			return nil
		}
		switched = lifecycleOf(ti) != want
		ti.Spec.Lifecycle = want
		marketplaceRecord(ti).LifecycleSetAt = microTime(c.sentAt)
		return nil
	})
	if err != nil {
		return protocol.Response{}, err
	}
	switch {
	case c.ignored == reasonStaleFreeze && !c.testFlag:
		logr.FromContextOrDiscard(ctx).Info("Ignoring a FREEZE presumed to be a late resend from before the last renewal",
			"instanceId", ti.Name, "unfrozenAt", ti.Spec.Marketplace.LifecycleSetAt.UTC(), "renewedAt", ti.Spec.Marketplace.ExpirySetAt.UTC())
		s.event(ti, warning, ReasonStaleFreezeIgnored, "Freeze",
			"Ignored a FREEZE sent %s after the UNFREEZE that followed renewal order %q; it is presumed to be a resend of a freeze sent before the renewal",
			c.sentAt.Sub(ti.Spec.Marketplace.LifecycleSetAt.Time).Round(time.Second), ti.Spec.Marketplace.ExpiryOrderID)
	case wrote && switched && want == tenantryv1alpha1.LifecycleFrozen:
		s.event(ti, normal, ReasonMarketplaceFreeze, "Freeze", "Frozen by the marketplace; data is kept")
	case wrote && switched:
		s.event(ti, normal, ReasonMarketplaceUnfreeze, "Unfreeze", "Unfrozen by the marketplace")
	}
	return success(), nil
}

// lifecycleOf reads spec.lifecycle with its schema default.
func lifecycleOf(ti *tenantryv1alpha1.TenantInstance) tenantryv1alpha1.Lifecycle {
	if ti.Spec.Lifecycle == "" {
		return tenantryv1alpha1.LifecycleActive
	}
	return ti.Spec.Lifecycle
}

// staleFreeze reports whether a FREEZE sent at sent is almost surely a resend of a freeze sent
// before the latest renewal, and must be ignored. All of these must hold:
//   - the instance is Active, set so by an UNFREEZE recorded at u = lifecycleSetAt (u is an
//     UNFREEZE and not the purchase because a renewal was recorded at or before u, and renewals
//     come after purchases);
//   - a renewal — expiryOrderId is set only by refreshInstance — recorded at expirySetAt <= u
//     moved spec.expiresAt into the future (expiresAt > now): the tenant has paid;
//   - the FREEZE was sent less than the retry horizon (1 h by default, the marketplace's resend
//     horizon for status calls) after u.
//
// A genuine FREEZE within that hour of an UNFREEZE of a paid-up tenant is thereby lost; the
// marketplace freezes on expiry or refund, and a refund is a refreshInstance recorded after u,
// which disarms the guard. Later FREEZEs, and FREEZEs after any later expiry change, apply.
func (s *Server) staleFreeze(ti *tenantryv1alpha1.TenantInstance, sent time.Time) bool {
	m := ti.Spec.Marketplace
	if lifecycleOf(ti) != tenantryv1alpha1.LifecycleActive || m == nil || m.LifecycleSetAt == nil ||
		m.ExpirySetAt == nil || m.ExpiryOrderID == "" || ti.Spec.ExpiresAt == nil {
		return false
	}
	u := m.LifecycleSetAt.Time
	return !m.ExpirySetAt.After(u) &&
		ti.Spec.ExpiresAt.After(s.clock.Now()) &&
		sent.Sub(u) < s.freezeHorizon
}

// ---- upgradeInstance ------------------------------------------------------

// handleUpgrade moves an instance to the SKU of an upgrade order, in place. An upgrade order
// already applied (spec.marketplace.skuOrderId) or sent before the last SKU change is answered
// 000000 without a change. Order Query failures and a SKU without a plan are answered as for
// newInstance (000005: the marketplace resends upgrades for about three hours).
func (s *Server) handleUpgrade(ctx context.Context, c *call, p *protocol.UpgradeInstance) (protocol.Response, error) {
	c.instanceID = p.InstanceID
	ti, err := s.getInstance(ctx, p.InstanceID)
	if err != nil {
		return protocol.Response{}, err
	}
	if ignored := upgradeIgnored(ti, p.OrderID, c.sentAt); ignored != "" {
		c.ignored = ignored
		return success(), nil
	}
	sku, productID := p.SkuCode, p.ProductID
	if sku == "" {
		_, line, err := s.queryOrder(ctx, p.OrderID, p.OrderLineID)
		if err != nil {
			return protocol.Response{}, err
		}
		sku, productID = line.Products[0].SkuCode, line.Products[0].ProductID
	}
	plan, err := s.requirePlan(ctx, sku)
	if err != nil {
		return protocol.Response{}, err
	}
	var from string
	ti, wrote, err := s.mutateReadInstance(ctx, p.InstanceID, ti, c.testFlag, func(ti *tenantryv1alpha1.TenantInstance) error {
		if c.ignored = upgradeIgnored(ti, p.OrderID, c.sentAt); c.ignored != "" {
			return nil
		}
		from = ti.Spec.SKU
		ti.Spec.SKU = sku
		if productID != "" {
			ti.Spec.ProductID = productID
		}
		m := marketplaceRecord(ti)
		m.SKUOrderID = p.OrderID
		m.SKUSetAt = microTime(c.sentAt)
		return nil
	})
	if err != nil {
		return protocol.Response{}, err
	}
	if wrote {
		s.event(ti, normal, ReasonMarketplaceUpgrade, "Upgrade", "SKU changed from %q to %q (plan %q) by order %q", from, sku, plan.Name, p.OrderID)
	}
	return success(), nil
}

// upgradeIgnored says why an upgrade must not be applied: already applied, or out of order.
func upgradeIgnored(ti *tenantryv1alpha1.TenantInstance, orderID string, sent time.Time) string {
	m := ti.Spec.Marketplace
	switch {
	case m == nil:
		return ""
	case m.SKUOrderID == orderID:
		return reasonAlreadyApplied
	case sentBefore(sent, m.SKUSetAt):
		return reasonOutOfOrder
	}
	return ""
}

const reasonAlreadyApplied = "already_applied"

// ---- changeInstanceCheck --------------------------------------------------

// handleChangeCheck answers whether the instance could move to the target SKU at renewal: the
// target must have a plan (000002 otherwise), and the tenant's current usage — the operator's
// ResourceQuota status.used — must fit the target plan's quota (000100, naming the resources,
// otherwise). It changes nothing.
func (s *Server) handleChangeCheck(ctx context.Context, c *call, p *protocol.ChangeInstanceCheck) (protocol.Response, error) {
	c.instanceID = p.InstanceID
	ti, err := s.getInstance(ctx, p.InstanceID)
	if err != nil {
		return protocol.Response{}, err
	}
	plan, err := s.planFor(ctx, p.ProductInfo.SkuCode)
	if err != nil {
		if reasonFor(err) == reasonUnknownSKU {
			return protocol.Response{}, &codeError{code: protocol.CodeInvalidParam, reason: reasonUnknownSKU, err: err}
		}
		return protocol.Response{}, err
	}
	ns := ti.Status.Namespace
	if ns == "" {
		ns = namespaceName(ti.Name)
	}
	quota := &corev1.ResourceQuota{}
	switch err := s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: quotaName}, quota); {
	case apierrors.IsNotFound(err):
		return success(), nil // nothing provisioned yet, so nothing used
	case err != nil:
		return protocol.Response{}, fmt.Errorf("reading the quota of %q: %w", ti.Name, err)
	}
	var over []string
	for res, hard := range plan.Spec.Quota {
		if used, ok := quota.Status.Used[res]; ok && used.Cmp(hard) > 0 {
			over = append(over, string(res))
		}
	}
	if len(over) == 0 {
		return success(), nil
	}
	slices.Sort(over)
	logr.FromContextOrDiscard(ctx).Info("Current usage does not fit the target SKU", "instanceId", ti.Name,
		"targetSku", p.ProductInfo.SkuCode, "plan", plan.Name, "resources", over)
	answer := protocol.NewResponse(protocol.CodeNoResource)
	answer.ResultMsg = fmt.Sprintf("no instance resource available: current usage of %s exceeds the target SKU's quota.", strings.Join(over, ", "))
	return answer, nil
}

// ---- releaseInstance ------------------------------------------------------

// handleRelease deletes the TenantInstance; the operator's finalizer does the rest (retention,
// namespace deletion). An instance already gone, or already being deleted, is success: the goal
// state holds (PROTOCOL.md §6.2 Rule).
func (s *Server) handleRelease(ctx context.Context, c *call, p *protocol.ReleaseInstance) (protocol.Response, error) {
	c.instanceID = p.InstanceID
	ti, err := s.getInstance(ctx, p.InstanceID)
	switch {
	case errors.Is(err, errInstanceNotFound):
		return success(), nil
	case err != nil:
		return protocol.Response{}, err
	case c.testFlag:
		return success(), nil
	}
	if err := s.client.Delete(ctx, ti); err != nil {
		if apierrors.IsNotFound(err) {
			return success(), nil
		}
		return protocol.Response{}, fmt.Errorf("deleting TenantInstance %q: %w", ti.Name, err)
	}
	logr.FromContextOrDiscard(ctx).Info("Released TenantInstance", "instanceId", ti.Name)
	s.event(ti, normal, ReasonMarketplaceRelease, "Release", "Released by the marketplace")
	return success(), nil
}
