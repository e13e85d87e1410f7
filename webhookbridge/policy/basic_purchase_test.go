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
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func TestQuantity(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int32
		wantErr string
	}{
		{in: "", want: 1},
		{in: "  ", want: 1},
		{in: "1", want: 1},
		{in: "20", want: 20},
		{in: "007", want: 7},
		{in: "10.0", want: 10},
		{in: "10.000", want: 10},
		{in: "1000000000", want: MaxQuantity},
		{in: "0", wantErr: `linearValue 0 is out of range: at least 1 is required`},
		{in: "0.0", wantErr: `linearValue 0 is out of range: at least 1 is required`},
		{in: "1000000001", wantErr: `linearValue "1000000001" is out of range: at most 1000000000 is allowed`},
		{in: "99999999999999999999999", wantErr: `linearValue "99999999999999999999999" is out of range: at most 1000000000 is allowed`},
		{in: "2.5", wantErr: `linearValue "2.5" is not a whole number`},
		{in: "3.", wantErr: `linearValue "3." is not a whole number`},
		{in: ".5", wantErr: `linearValue ".5" is not a whole number`},
		{in: "-4", wantErr: `linearValue "-4" is not a whole number`},
		{in: "1e3", wantErr: `linearValue "1e3" is not a whole number`},
		{in: "ten", wantErr: `linearValue "ten" is not a whole number`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Quantity(tc.in)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if got != tc.want {
				t.Errorf("Quantity(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestKeyedOnProduct(t *testing.T) {
	for _, tc := range []struct {
		mode, product string
		want          bool
	}{
		{"ON_DEMAND", "p-1", true},
		{"ON_DEMAND_PKG", "p-1", true},
		{"ON_DEMAND", "", false},
		{"PERIOD", "p-1", false},
		{"ONE_TIME", "p-1", false},
		{"", "p-1", false},
	} {
		if got := KeyedOnProduct(tc.mode, tc.product); got != tc.want {
			t.Errorf("KeyedOnProduct(%q, %q) = %v, want %v", tc.mode, tc.product, got, tc.want)
		}
	}
}

func TestDecidePurchase(t *testing.T) {
	instance := func(orderID, lineID string, mode tenantryv1alpha1.ChargingMode) *tenantryv1alpha1.TenantInstance {
		return &tenantryv1alpha1.TenantInstance{Spec: tenantryv1alpha1.TenantInstanceSpec{
			Order: tenantryv1alpha1.Order{OrderID: orderID, OrderLineID: lineID, ChargingMode: mode}}}
	}
	for _, tc := range []struct {
		name      string
		existing  *tenantryv1alpha1.TenantInstance
		byProduct bool
		want      PurchaseOutcome
	}{
		{"nothing yet", nil, false, PurchaseCreate},
		{"nothing yet, pay-per-use", nil, true, PurchaseCreate},
		{"resend of the order line", instance("O", "O-1", tenantryv1alpha1.ChargingPeriod), false, PurchaseResend},
		{"another line of the order", instance("O", "O-2", tenantryv1alpha1.ChargingPeriod), false, PurchaseCollision},
		{"another order", instance("P", "O-1", tenantryv1alpha1.ChargingPeriod), false, PurchaseCollision},
		{"pay-per-use: another line of the order, same product", instance("O", "O-2", tenantryv1alpha1.ChargingOnDemand), true, PurchaseResend},
		{"pay-per-use package", instance("O", "O-2", tenantryv1alpha1.ChargingOnDemandPkg), true, PurchaseResend},
		{"pay-per-use name held by a period instance", instance("O", "O-1", tenantryv1alpha1.ChargingPeriod), true, PurchaseCollision},
		{"pay-per-use name held by another order", instance("P", "O-1", tenantryv1alpha1.ChargingOnDemand), true, PurchaseCollision},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DecidePurchase(tc.existing, "O", "O-1", tc.byProduct); got != tc.want {
				t.Errorf("DecidePurchase = %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzQuantity: whatever a linearValue holds, Quantity either refuses it or returns a quantity
// in the schema's range that equals the value's whole part.
func FuzzQuantity(f *testing.F) {
	for _, s := range []string{"", "1", "10.0", "0", "2.5", "1000000001", "-1", "1e3", " 7 ", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Quantity(s)
		if err != nil {
			if n != 0 {
				t.Fatalf("Quantity(%q) = %d with error %v", s, n, err)
			}
			return
		}
		if n < 1 || n > MaxQuantity {
			t.Fatalf("Quantity(%q) = %d, out of range", s, n)
		}
		whole, _, _ := strings.Cut(strings.TrimSpace(s), ".")
		if whole == "" && strings.TrimSpace(s) != "" {
			t.Fatalf("Quantity(%q) = %d without a whole part", s, n)
		}
		if whole != "" {
			if v, perr := strconv.ParseInt(whole, 10, 64); perr != nil || v != int64(n) {
				t.Fatalf("Quantity(%q) = %d, whole part %q", s, n, whole)
			}
		}
	})
}
