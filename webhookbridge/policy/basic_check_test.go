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
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

func TestExceeded(t *testing.T) {
	list := func(cpu, memory string) corev1.ResourceList {
		l := corev1.ResourceList{}
		if cpu != "" {
			l[corev1.ResourceRequestsCPU] = resource.MustParse(cpu)
		}
		if memory != "" {
			l[corev1.ResourceRequestsMemory] = resource.MustParse(memory)
		}
		return l
	}
	// 2 CPUs and 4Gi, plus 1 CPU and 1Gi for every unit beyond the first.
	linear := &tenantryv1alpha1.TenantPlanSpec{Quota: list("2", "4Gi"),
		PerUnit: &tenantryv1alpha1.PerUnitScaling{Quota: list("1", "1Gi")}}
	flat := &tenantryv1alpha1.TenantPlanSpec{Quota: list("2", "4Gi")}

	for _, tc := range []struct {
		name     string
		plan     *tenantryv1alpha1.TenantPlanSpec
		quantity int32
		used     corev1.ResourceList
		want     []string
	}{
		{"fits", flat, 1, list("1", "1Gi"), nil},
		{"exactly the quota fits", flat, 1, list("2", "4Gi"), nil},
		{"cpu over", flat, 1, list("3", "1Gi"), []string{"requests.cpu"}},
		{"both over, sorted", flat, 1, list("3", "5Gi"), []string{"requests.cpu", "requests.memory"}},
		{"nothing used yet", flat, 1, nil, nil},
		{"a resource the plan does not limit", &tenantryv1alpha1.TenantPlanSpec{Quota: list("2", "")}, 1, list("1", "100Gi"), nil},
		{"a larger quantity makes it fit", linear, 3, list("4", "6Gi"), nil},
		{"a smaller quantity does not", linear, 2, list("4", "6Gi"), []string{"requests.cpu", "requests.memory"}},
		{"quantity 0 is read as 1", linear, 0, list("3", "1Gi"), []string{"requests.cpu"}},
		{"quantity ignored by a flat plan", flat, 100, list("3", "1Gi"), []string{"requests.cpu"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Exceeded(tc.plan, tc.quantity, tc.used)); diff != "" {
				t.Errorf("exceeded (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDebugAppInfo(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want *protocol.AppInfo
	}{
		{"ti-24ff0a548f782d73c50f", &protocol.AppInfo{
			FrontEndURL: "https://debug.invalid/ti-24ff0a548f782d73c50f", AdminURL: "https://debug.invalid/ti-24ff0a548f782d73c50f/admin", Memo: DebugMemo}},
		{"a b", &protocol.AppInfo{FrontEndURL: "https://debug.invalid/a%20b", AdminURL: "https://debug.invalid/a%20b/admin", Memo: DebugMemo}},
	} {
		if diff := cmp.Diff(tc.want, DebugAppInfo(tc.id)); diff != "" {
			t.Errorf("DebugAppInfo(%q) (-want +got):\n%s", tc.id, diff)
		}
	}
}
