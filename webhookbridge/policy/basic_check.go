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
	"slices"

	corev1 "k8s.io/api/core/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Exceeded judges a changeInstanceCheck (§6.8): the resources whose current usage (the tenant
// namespace's ResourceQuota status.used) exceeds what the target plan gives a tenant of the
// target quantity (TenantPlanSpec.QuotaFor), sorted. None means the change fits. A resource the
// target plan does not limit, or that nothing uses yet, always fits.
func Exceeded(target *tenantryv1alpha1.TenantPlanSpec, quantity int32, used corev1.ResourceList) []string {
	var over []string
	for res, hard := range target.QuotaFor(max(quantity, 1)) {
		if u, ok := used[res]; ok && u.Cmp(hard) > 0 {
			over = append(over, string(res))
		}
	}
	slices.Sort(over)
	return over
}
