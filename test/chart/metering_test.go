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

package chart

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// TestMeteringValues: the operator gets the metering flags, and mounts the key that signs usage
// pushes (and the seller AK/SK with gatewaySigning) only when it pushes.
func TestMeteringValues(t *testing.T) {
	t.Parallel()
	operator := func(args ...string) ([]string, []string) {
		m := render(t, append([]string{"-f", requiredKeys}, args...)...)
		d := decode[appsv1.Deployment](t, m.get(t, "Deployment", "tenantry-manager"))
		var mounted []string
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Secret != nil {
				for _, item := range v.Secret.Items {
					mounted = append(mounted, item.Key)
				}
			}
		}
		return container(t, d, "manager").Args, mounted
	}
	args, mounted := operator()
	if _, ok := flagValue(args, "metering-url"); ok || slices.Contains(mounted, "access-key") {
		t.Errorf("by default the operator pushes usage or mounts the access key: %v %v", args, mounted)
	}
	if v, _ := flagValue(args, "metering-sync-interval"); v != "1m" {
		t.Errorf("--metering-sync-interval=%q, want 1m", v)
	}

	args, mounted = operator("--set", "manager.metering.url=http://orders:8090", "--set", "manager.metering.period=1m",
		"--set", "manager.metering.prometheusURL=http://prometheus:9090")
	for flag, want := range map[string]string{
		"metering-url": "http://orders:8090", "metering-period": "1m", "metering-prometheus-url": "http://prometheus:9090",
		"metering-access-key-file": "/etc/tenantry/keys/access-key",
	} {
		if v, _ := flagValue(args, flag); v != want {
			t.Errorf("--%s=%q, want %q", flag, v, want)
		}
	}
	if !slices.Contains(mounted, "access-key") || slices.Contains(mounted, "marketplace-sk") {
		t.Errorf("mounted %v; want the access key only", mounted)
	}
	if _, ok := flagValue(args, "metering-ak-file"); ok {
		t.Error("API-Gateway signing without gatewaySigning")
	}

	args, mounted = operator("--set", "manager.metering.url=https://mkt.myhuaweicloud.com", "--set", "manager.metering.gatewaySigning=true")
	if v, _ := flagValue(args, "metering-sk-file"); v != "/etc/tenantry/keys/marketplace-sk" || !slices.Contains(mounted, "marketplace-ak") {
		t.Errorf("gatewaySigning: %v %v", args, mounted)
	}

	for _, bad := range [][]string{
		{"--set", "manager.metering.url=mkt.myhuaweicloud.com"},
		{"--set", "manager.metering.period=soon"},
	} {
		if _, err := template(t, chartDir, append([]string{"-f", requiredKeys}, bad...)...); err == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
}
