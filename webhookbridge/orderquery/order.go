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

package orderquery

import "time"

// Order is what the marketplace knows about a purchase. Only the fields the
// operator acts on are typed; everything is passed through as received.
type Order struct {
	OrderID string
	// OrderType is NEW, TRIAL, TRIAL_TO_FORMAL, UNSUBSCRIBE, RENEW or CHANGE.
	OrderType string
	// CreateTime is the marketplace's UTC yyyyMMddHHmmss string, kept as received.
	CreateTime string
	Buyer      Buyer
	Lines      []OrderLine
}

// Buyer identifies the customer; several fields are personal data and must
// not be logged.
type Buyer struct {
	CustomerID   string `json:"customerId"`
	CustomerName string `json:"customerName"`
	UserID       string `json:"userId"`
	UserName     string `json:"userName"`
	MobilePhone  string `json:"mobilePhone"`
	Email        string `json:"email"`
}

// OrderLine is one purchased item of an order; newInstance names exactly one.
type OrderLine struct {
	OrderLineID string
	// ChargingMode is PERIOD, ON_DEMAND, ONE_TIME or ON_DEMAND_PKG.
	ChargingMode string
	PeriodType   string
	PeriodNumber int
	// ExpireTime is kept as received; ExpireAt is its parsed UTC value, nil
	// when the line has no expiry.
	ExpireTime   string
	ExpireAt     *time.Time
	Products     []Product
	ExtendParams []Param
}

// Product names what a line buys; the SKU code selects the tenant's plan.
type Product struct {
	ProductID string
	SkuCode   string
	// LinearValue is the purchased quantity for linear SKUs, as received
	// (the marketplace sends it as a number or a string); empty when absent.
	LinearValue string
}

// Param is a merchant-defined extension parameter chosen at purchase time.
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Line returns the order line with the given id, because newInstance and
// upgradeInstance name a single line of a possibly multi-line order.
func (o *Order) Line(orderLineID string) (*OrderLine, bool) {
	if o == nil {
		return nil, false
	}
	for i := range o.Lines {
		if o.Lines[i].OrderLineID == orderLineID {
			return &o.Lines[i], true
		}
	}
	return nil, false
}
