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
	"crypto/sha256"
	"encoding/hex"

	"k8s.io/apimachinery/pkg/api/validate/content"
)

// LabelOrderID carries the marketplace order id on each TenantInstance, so an SRE can find the
// instance of an order with a label selector. Order ids that are not valid label values are
// replaced by a digest (see orderLabelValue).
const LabelOrderID = "tenantry.io/order-id"

// instanceNamePrefix starts every instance name with a letter, so the name is also a valid
// DNS-1035 label and reads as a TenantInstance in logs.
const instanceNamePrefix = "ti-"

// maxInstanceNameLength is the TenantInstance CEL rule's bound: tenant-<name> must stay a DNS label.
const maxInstanceNameLength = 56

// InstanceName is the TenantInstance name, and the marketplace instanceId, of an order line.
//
// It is a pure function of (orderID, orderLineID) so that every resend of newInstance, whatever
// its businessId, whichever bridge replica serves it and however many run concurrently, names
// the same object; the API server's uniqueness of names then makes creation idempotent without
// any state in the bridge. 80 bits of SHA-256 make an accidental collision between two order
// lines negligible, and newInstance still checks that an existing instance belongs to the order.
func InstanceName(orderID, orderLineID string) string {
	sum := sha256.Sum256([]byte(orderID + "\n" + orderLineID))
	return instanceNamePrefix + hex.EncodeToString(sum[:])[:20]
}

// payPerUseKey starts the second half of a pay-per-use purchase's key. Order line ids cannot
// contain a NUL (the protocol decoder refuses control characters), so a product key never
// equals a line key, and the two kinds of names are distinct.
const payPerUseKey = "\x00product:"

// PayPerUseInstanceName is the TenantInstance name, and the marketplace instanceId, of a
// pay-per-use (ON_DEMAND, ON_DEMAND_PKG) purchase: one instance per (orderID, productID), so
// that several newInstance calls of one order for the same product — even with different
// orderLineIds — yield one instance and the same instanceId (docs/protocol.md §6.7).
func PayPerUseInstanceName(orderID, productID string) string {
	return InstanceName(orderID, payPerUseKey+productID)
}

// validInstanceName reports whether id can name a TenantInstance at all. An id that cannot is
// unknown by definition; checking it first also keeps hostile ids ("../x") out of API paths.
func validInstanceName(id string) bool {
	return len(id) <= maxInstanceNameLength && len(content.IsDNS1123Label(id)) == 0
}

// orderLabelValue returns orderID when it is a valid label value and otherwise a stable digest
// of it ("sha256-" and 40 hex digits), so that an unusual order id never blocks a purchase.
func orderLabelValue(orderID string) string {
	if len(content.IsLabelValue(orderID)) == 0 {
		return orderID
	}
	sum := sha256.Sum256([]byte(orderID))
	return "sha256-" + hex.EncodeToString(sum[:])[:40]
}
