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
	"slices"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/webhookbridge/orderquery"
	"github.com/tenantry/tenantry/webhookbridge/policy"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// Conflict retries back off from conflictBackoffMin to conflictBackoffMax; they continue for as
// long as the call budget lasts.
const (
	conflictBackoffMin = 10 * time.Millisecond
	conflictBackoffMax = 200 * time.Millisecond
)

// getInstance reads a live TenantInstance; an id that cannot be a name, no such object, or one
// being deleted is errInstanceNotFound. A released instance is gone for the marketplace from the
// release on, though its object stays while the operator tears the tenant down: refresh, status,
// upgrade, check, query and the kit syncs answer 000003 for it, as they will once it is gone.
func (s *Server) getInstance(ctx context.Context, id string) (*tenantryv1alpha1.TenantInstance, error) {
	ti, err := s.readInstance(ctx, id)
	if err == nil && ti.DeletionTimestamp != nil {
		return nil, errInstanceNotFound
	}
	return ti, err
}

// readInstance reads a TenantInstance, being deleted or not; an id that cannot be a name, or no
// such object, is errInstanceNotFound.
func (s *Server) readInstance(ctx context.Context, id string) (*tenantryv1alpha1.TenantInstance, error) {
	if !validInstanceName(id) {
		return nil, errInstanceNotFound
	}
	ti := &tenantryv1alpha1.TenantInstance{}
	if err := s.client.Get(ctx, client.ObjectKey{Name: id}, ti); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, errInstanceNotFound
		}
		return nil, fmt.Errorf("reading TenantInstance %q: %w", id, err)
	}
	return ti, nil
}

// mutateInstance applies mutate to the named TenantInstance and writes it with the
// resourceVersion it read (optimistic concurrency). On a conflict it re-reads and re-applies
// mutate, whose ordering checks then see the competing write, for as long as the call budget
// lasts. Nothing is written when mutate leaves spec and labels as they were; with dryRun the
// write is a server-side dry run, which validates it and persists nothing (testFlag calls).
// It returns the object as last read or written and whether a write persisted.
func (s *Server) mutateInstance(ctx context.Context, id string, dryRun bool, mutate func(*tenantryv1alpha1.TenantInstance) error) (*tenantryv1alpha1.TenantInstance, bool, error) {
	return s.mutateReadInstance(ctx, id, nil, dryRun, mutate)
}

// mutateReadInstance is mutateInstance for a call that has already read the instance: read, when
// not nil, is used for the first attempt instead of a fresh read, and is changed by mutate. The
// write carries read's resourceVersion, so a change made since read was taken is a conflict, and
// the retry reads again.
func (s *Server) mutateReadInstance(ctx context.Context, id string, read *tenantryv1alpha1.TenantInstance, dryRun bool, mutate func(*tenantryv1alpha1.TenantInstance) error) (*tenantryv1alpha1.TenantInstance, bool, error) {
	var opts []client.UpdateOption
	if dryRun {
		opts = append(opts, client.DryRunAll)
	}
	var (
		out   *tenantryv1alpha1.TenantInstance
		wrote bool
	)
	err := retryConflicts(ctx, fmt.Sprintf("TenantInstance %q", id), func() error {
		out, wrote = nil, false
		ti := read
		read = nil
		if ti == nil {
			var err error
			if ti, err = s.getInstance(ctx, id); err != nil {
				return err
			}
		}
		out = ti
		before := ti.DeepCopy()
		if err := mutate(ti); err != nil {
			return err
		}
		if equality.Semantic.DeepEqual(before.Spec, ti.Spec) && equality.Semantic.DeepEqual(before.Labels, ti.Labels) {
			return nil
		}
		err := s.client.Update(ctx, ti, opts...)
		switch {
		case err == nil:
			wrote = !dryRun
			return nil
		case apierrors.IsNotFound(err):
			out = nil
			return errInstanceNotFound
		case apierrors.IsConflict(err):
			return err
		}
		out = nil
		return fmt.Errorf("updating TenantInstance %q: %w", id, err)
	})
	if err != nil {
		return out, false, err
	}
	return out, wrote, nil
}

// retryConflicts runs attempt — read, decide, write with the resourceVersion read — again for as
// long as it fails with a conflict, backing off from conflictBackoffMin to conflictBackoffMax, until
// the call budget (ctx) runs out. Every write of a TenantInstance or of a directory goes through
// it, so a competing write is always re-read and re-decided, never overwritten.
func retryConflicts(ctx context.Context, what string, attempt func() error) error {
	for backoff := conflictBackoffMin; ; backoff = min(2*backoff, conflictBackoffMax) {
		err := attempt()
		if err == nil || !apierrors.IsConflict(err) {
			return err
		}
		logr.FromContextOrDiscard(ctx).V(1).Info("Conflict writing, retrying", "object", what)
		if err := wait(ctx, backoff); err != nil {
			return fmt.Errorf("writing %s: conflicts until the call budget ran out: %w", what, err)
		}
	}
}

// wait pauses for d or until ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// microTime converts a send time to the recorded form; see policy.MicroTime.
func microTime(t time.Time) *metav1.MicroTime { return policy.MicroTime(t) }

// planFor returns the one TenantPlan listing sku. It lists all plans from the plan reader
// (Options.Plans: the binary's watch cache, else the API server) and filters in memory; there is
// no field index, and plans are few. No plan, or several, is an error carrying the result code
// reason: errUnknownSKU or errAmbiguousSKU.
func (s *Server) planFor(ctx context.Context, sku string) (*tenantryv1alpha1.TenantPlan, error) {
	var plans tenantryv1alpha1.TenantPlanList
	if err := s.plans.List(ctx, &plans); err != nil {
		return nil, fmt.Errorf("listing TenantPlans: %w", err)
	}
	var found []*tenantryv1alpha1.TenantPlan
	for i := range plans.Items {
		if slices.Contains(plans.Items[i].Spec.SKUs, sku) {
			found = append(found, &plans.Items[i])
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, &codeError{code: protocol.CodeInternalError, reason: reasonUnknownSKU, err: fmt.Errorf("%w: no TenantPlan lists SKU %q", errNoPlan, sku)}
	default:
		names := make([]string, 0, len(found))
		for _, p := range found {
			names = append(names, p.Name)
		}
		return nil, &codeError{code: protocol.CodeInternalError, reason: reasonAmbiguousSKU, err: fmt.Errorf("%w: TenantPlans %q all list SKU %q", errNoPlan, names, sku)}
	}
}

// errNoPlan marks planFor's "no single plan" failures.
var errNoPlan = errors.New("no single TenantPlan serves the SKU")

// requirePlan is planFor for purchases and upgrades. No plan is answered 000005 on purpose:
// nothing is persisted, the marketplace resends newInstance and upgradeInstance for about three
// hours, and the vendor can add or fix the TenantPlan within that window — whereas a tenant
// created for a SKU nobody serves would sit stalled, and 000002 would fail the customer's order
// at once. The failure is logged (the audit line has the reason) and counted.
func (s *Server) requirePlan(ctx context.Context, sku string) (*tenantryv1alpha1.TenantPlan, error) {
	plan, err := s.planFor(ctx, sku)
	if err != nil && errors.Is(err, errNoPlan) {
		planLookupFailuresTotal.WithLabelValues(reasonFor(err)).Inc()
		logr.FromContextOrDiscard(ctx).Info("No single TenantPlan serves the SKU; answering 000005 so the marketplace resends while the plan is added",
			"sku", sku, "reason", reasonFor(err))
	}
	return plan, err
}

// queryOrder runs Order Query under its own deadline within the call budget. An order line
// the marketplace does not know is a bad parameter (000002: resending will not make it appear);
// every other failure is transient (000005: the marketplace resends, nothing was persisted).
func (s *Server) queryOrder(ctx context.Context, orderID, orderLineID string) (*orderquery.Order, *orderquery.OrderLine, error) {
	qctx, cancel := context.WithTimeout(ctx, s.orderQueryTimeout)
	defer cancel()
	order, err := s.orders.Query(qctx, orderID, orderLineID)
	switch {
	case err != nil && errors.Is(err, orderquery.ErrNotFound):
		return nil, nil, &codeError{code: protocol.CodeInvalidParam, reason: "order-not-found", err: err}
	case err != nil:
		return nil, nil, &codeError{code: protocol.CodeInternalError, reason: "order-query-failed", err: err}
	case order == nil:
		return nil, nil, fail(protocol.CodeInternalError, "order-query-failed", "order query returned no order for %q", orderID)
	}
	var line *orderquery.OrderLine
	if orderLineID != "" {
		l, ok := order.Line(orderLineID)
		if !ok {
			return nil, nil, fail(protocol.CodeInvalidParam, "order-not-found", "order %q has no line %q", orderID, orderLineID)
		}
		line = l
	} else if len(order.Lines) > 0 {
		// Legacy V1 orders have a single line and name none.
		line = &order.Lines[0]
	}
	if line == nil || len(line.Products) == 0 || line.Products[0].SkuCode == "" {
		return nil, nil, fail(protocol.CodeInvalidParam, "order-without-product", "order %q line %q names no product", orderID, orderLineID)
	}
	return order, line, nil
}

// orderTarget looks an upgrade or renewal order up and returns what it buys: the SKU, the
// quantity (its linearValue, docs/protocol.md §6.8; a *quantityError when it is none) and the
// product — the one productID names when the line has several, else the first.
func (s *Server) orderTarget(ctx context.Context, orderID, orderLineID, productID string) (policy.Target, error) {
	_, line, err := s.queryOrder(ctx, orderID, orderLineID)
	if err != nil {
		return policy.Target{}, err
	}
	product := pickProduct(line, productID)
	quantity, err := policy.Quantity(product.LinearValue)
	if err != nil {
		return policy.Target{}, &quantityError{err: err}
	}
	return policy.Target{SKU: product.SkuCode, Quantity: quantity, ProductID: product.ProductID}, nil
}

// event records an Event on a TenantInstance. Notes never carry personal data.
func (s *Server) event(ti *tenantryv1alpha1.TenantInstance, eventType, reason, action, note string, args ...any) {
	if s.recorder == nil || ti == nil {
		return
	}
	s.recorder.Eventf(ti, nil, eventType, reason, action, note, args...)
}

// Event reasons.
const (
	ReasonMarketplaceNewInstance = "MarketplaceNewInstance"
	ReasonMarketplaceRenewal     = "MarketplaceRenewal"
	ReasonMarketplaceFreeze      = "MarketplaceFreeze"
	ReasonMarketplaceUnfreeze    = "MarketplaceUnfreeze"
	ReasonMarketplaceUpgrade     = "MarketplaceUpgrade"
	// ReasonMarketplaceChangePending: a renewal with a change recorded spec.pendingChange, which
	// the operator applies when the renewed period starts (docs/protocol.md §6.9).
	ReasonMarketplaceChangePending = "MarketplaceChangePending"
	ReasonMarketplaceRelease       = "MarketplaceRelease"
	ReasonStaleFreezeIgnored       = "StaleFreezeIgnored"
	ReasonTenantSynced             = "TenantSynced"
	ReasonApplicationSynced        = "ApplicationSynced"
	ReasonUsersSynced              = "UsersSynced"
	ReasonOrgsSynced               = "OrgsSynced"
)

// eventTypes re-exported for brevity.
const (
	normal  = corev1.EventTypeNormal
	warning = corev1.EventTypeWarning
)
