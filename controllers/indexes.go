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

package controllers

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"

	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Field indexes the reconciler looks objects up by, instead of listing everything.
const (
	planSKUIndex      = "spec.skus"
	planTLSIndex      = "spec.domain.sharedTLSSecret"
	instanceSKUIndex  = "spec.sku"
	instancePlanIndex = "status.plan"
)

// indexFields registers the indexes the reconciler reads; tests use the same ones.
func indexFields(ctx context.Context, idx client.FieldIndexer) error {
	for _, f := range []struct {
		obj   client.Object
		field string
		fn    client.IndexerFunc
	}{
		{&tenantryv1alpha1.TenantPlan{}, planSKUIndex, func(o client.Object) []string {
			return o.(*tenantryv1alpha1.TenantPlan).Spec.SKUs
		}},
		{&tenantryv1alpha1.TenantPlan{}, planTLSIndex, func(o client.Object) []string {
			if ref := o.(*tenantryv1alpha1.TenantPlan).Spec.Domain.SharedTLSSecret; ref != nil {
				return []string{ref.Namespace + "/" + ref.Name}
			}
			return nil
		}},
		{&tenantryv1alpha1.TenantInstance{}, instanceSKUIndex, func(o client.Object) []string {
			return []string{o.(*tenantryv1alpha1.TenantInstance).Spec.SKU}
		}},
		{&tenantryv1alpha1.TenantInstance{}, instancePlanIndex, func(o client.Object) []string {
			if p := o.(*tenantryv1alpha1.TenantInstance).Status.Plan; p != "" {
				return []string{p}
			}
			return nil
		}},
	} {
		if err := idx.IndexField(ctx, f.obj, f.field, f.fn); err != nil {
			return fmt.Errorf("indexing %s: %w", f.field, err)
		}
	}
	return indexListeners(ctx, idx)
}

const passwordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

// generatePassword makes a 20-character password from crypto/rand; with an upper case letter, a lower case
// letter and a digit guaranteed, it passes the usual complexity rules.
func generatePassword() (string, error) {
	for {
		b := make([]byte, 20)
		for i := range b {
			n, err := rand.Int(rand.Reader, big.NewInt(int64(len(passwordAlphabet))))
			if err != nil {
				return "", fmt.Errorf("%w: %w", errNoPassword, err)
			}
			b[i] = passwordAlphabet[n.Int64()]
		}
		var upper, lower, digit bool
		for _, c := range b {
			switch {
			case c >= 'A' && c <= 'Z':
				upper = true
			case c >= 'a' && c <= 'z':
				lower = true
			default:
				digit = true
			}
		}
		if upper && lower && digit {
			return string(b), nil
		}
	}
}
