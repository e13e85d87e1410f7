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

// Package intern keeps one shared copy of the strings the operator's caches hold many times over:
// with thousands of tenants, the same kind, SKU, condition reason or finalizer would otherwise be
// allocated once per cached object.
package intern

import (
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// String returns the one shared copy of s.
func String[S ~string](s S) S {
	return S(unique.Make(string(s)).Value())
}

// TenantInstance replaces the strings ti holds in common with thousands of others (its
// finalizer, SKU, product, lifecycle, billing terms, condition types, statuses and reasons,
// state, plan, admin Secret name) by one shared copy each, gives its Secret reference the status'
// copy of the namespace, and trims the conditions to their length: the JSON decoder allocates
// every string of every cached instance separately, and grows slices by doubling. Strings that
// differ between instances (names, ids, URLs, messages) are left alone: a shared copy of those
// would only add the interning table's entry. Strings never change in place, so the copies the
// reconciler gets from the cache share them safely.
func TenantInstance(ti *tenantryv1alpha1.TenantInstance) {
	for i := range ti.Finalizers {
		ti.Finalizers[i] = String(ti.Finalizers[i])
	}
	spec := &ti.Spec
	spec.SKU, spec.ProductID, spec.Lifecycle = String(spec.SKU), String(spec.ProductID), String(spec.Lifecycle)
	spec.Domain.Type = String(spec.Domain.Type)
	spec.Order.ChargingMode, spec.Order.PeriodType = String(spec.Order.ChargingMode), String(spec.Order.PeriodType)
	st := &ti.Status
	st.State, st.Plan = String(st.State), String(st.Plan)
	if ref := st.AdminAccountSecretRef; ref != nil {
		ref.Name = String(ref.Name)
		if ref.Namespace == st.Namespace {
			ref.Namespace = st.Namespace
		}
	}
	if len(st.Conditions) < cap(st.Conditions) {
		st.Conditions = append([]metav1.Condition(nil), st.Conditions...)
	}
	for i := range st.Conditions {
		c := &st.Conditions[i]
		c.Type, c.Status, c.Reason = String(c.Type), String(c.Status), String(c.Reason)
	}
}
