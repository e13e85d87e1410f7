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
	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// usageTimeFormat is the usage push's time format, used for statisticalTime too.
const usageTimeFormat = "20060102T150405Z"

// UsageInfo is the usageInfo of a queryInstance answer (docs/protocol.md §7): for a pay-per-use
// instance the operator meters (status.metering), its cumulative usage the marketplace has
// acknowledged and the end of the last period acknowledged (statisticalTime); before any, zero
// as of the start of metering. Nil for every other instance: usageInfo, once present, must
// carry both values, and an instance that is not metered has none to give.
func UsageInfo(ti *tenantryv1alpha1.TenantInstance) []protocol.UsageInfo {
	st := ti.Status.Metering
	mode := ti.Spec.Order.ChargingMode
	if st == nil || (mode != tenantryv1alpha1.ChargingOnDemand && mode != tenantryv1alpha1.ChargingOnDemandPkg) {
		return nil
	}
	value, at := st.Cumulative, st.ReportedThrough
	if value == "" {
		value = "0"
	}
	if at == nil {
		at = st.PeriodStart
	}
	if at == nil {
		return nil
	}
	return []protocol.UsageInfo{{RelatedInstanceID: ti.Name, UsageValue: value, StatisticalTime: at.UTC().Format(usageTimeFormat)}}
}
