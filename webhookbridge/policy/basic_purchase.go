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

package policy

import (
	"fmt"
	"strconv"
	"strings"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// MaxQuantity is spec.quantity's schema maximum.
const MaxQuantity = 1_000_000_000

// Quantity reads a linearValue as spec.quantity (§6.8): absent is 1; otherwise a whole number
// from 1 to MaxQuantity, written as decimal digits with, at most, a fraction of zeros ("10.0" —
// senders serialise numbers either way). Anything else is an error whose message says what is
// wrong; the handler answers 000002 and writes nothing.
func Quantity(linearValue string) (int32, error) {
	v := strings.TrimSpace(linearValue)
	if v == "" {
		return 1, nil
	}
	whole, frac, hasFrac := strings.Cut(v, ".")
	if hasFrac && (frac == "" || strings.Trim(frac, "0") != "") {
		return 0, fmt.Errorf("linearValue %q is not a whole number", truncate(v))
	}
	if whole == "" || strings.Trim(whole, "0123456789") != "" {
		return 0, fmt.Errorf("linearValue %q is not a whole number", truncate(v))
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		return 0, fmt.Errorf("linearValue 0 is out of range: at least 1 is required")
	}
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || n > MaxQuantity {
		return 0, fmt.Errorf("linearValue %q is out of range: at most %d is allowed", truncate(v), MaxQuantity)
	}
	return int32(n), nil
}

func truncate(s string) string {
	if len(s) <= 32 {
		return s
	}
	return s[:32] + "…"
}

// KeyedOnProduct reports whether a purchase is keyed on (orderId, productId) rather than
// (orderId, orderLineId): pay-per-use orders (ON_DEMAND, ON_DEMAND_PKG), whose several
// newInstance calls for one product must yield one instance (§6.7). A line without a product id
// stays keyed on the line.
func KeyedOnProduct(chargingMode, productID string) bool {
	return payPerUse(tenantryv1alpha1.ChargingMode(chargingMode)) && productID != ""
}

func payPerUse(m tenantryv1alpha1.ChargingMode) bool {
	return m == tenantryv1alpha1.ChargingOnDemand || m == tenantryv1alpha1.ChargingOnDemandPkg
}

// PurchaseOutcome is what newInstance does about the instance its key names.
type PurchaseOutcome int

// Purchase outcomes.
const (
	// PurchaseCreate: no instance of that name exists yet.
	PurchaseCreate PurchaseOutcome = iota
	// PurchaseResend: the instance exists for this purchase; answer its instanceId.
	PurchaseResend
	// PurchaseCollision: an instance of that name belongs to another purchase (the names are
	// hashes); answering for it would answer for the wrong tenant.
	PurchaseCollision
)

// DecidePurchase says whether existing (nil when there is none) is the instance of the purchase
// of orderID. byProduct purchases (KeyedOnProduct) match any line of the order that bought a
// pay-per-use instance; the others match exactly the order line.
func DecidePurchase(existing *tenantryv1alpha1.TenantInstance, orderID, orderLineID string, byProduct bool) PurchaseOutcome {
	switch {
	case existing == nil:
		return PurchaseCreate
	case existing.Spec.Order.OrderID != orderID:
		return PurchaseCollision
	case byProduct:
		if payPerUse(existing.Spec.Order.ChargingMode) {
			return PurchaseResend
		}
		return PurchaseCollision
	case existing.Spec.Order.OrderLineID != orderLineID:
		return PurchaseCollision
	}
	return PurchaseResend
}
