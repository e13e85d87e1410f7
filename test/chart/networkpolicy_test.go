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
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fromNamespace is a peer selecting every Pod of the named namespace.
func fromNamespace(name string) []networkingv1.NetworkPolicyPeer {
	return []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{
		MatchLabels: map[string]string{"kubernetes.io/metadata.name": name}}}}
}

// scrapers is the metrics peer: Pods of the namespaces ns selects (nil: every namespace).
func scrapers(ns *metav1.LabelSelector) []networkingv1.NetworkPolicyPeer {
	if ns == nil {
		ns = &metav1.LabelSelector{}
	}
	return []networkingv1.NetworkPolicyPeer{{NamespaceSelector: ns, PodSelector: &metav1.LabelSelector{}}}
}

// ingressFrom maps each ingress port of the NetworkPolicy to the peers allowed to reach it
// (nil: any source).
func ingressFrom(t *testing.T, m manifest, name string) map[string][]networkingv1.NetworkPolicyPeer {
	t.Helper()
	np := decode[networkingv1.NetworkPolicy](t, m.get(t, "NetworkPolicy", name))
	out := map[string][]networkingv1.NetworkPolicyPeer{}
	for _, r := range np.Spec.Ingress {
		for _, p := range r.Ports {
			out[p.Port.String()] = r.From
		}
	}
	return out
}

// TestNetworkPolicySources: by default the marketplace and pages ports are open only to the ingress
// controller's namespace and metrics only to the monitoring namespace; each is configurable, and
// the explicit peer lists of earlier releases still override.
func TestNetworkPolicySources(t *testing.T) {
	t.Parallel()
	monitoring := &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "monitoring"}}
	elb := []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "192.168.0.0/24"}}}
	anyPod := []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}
	teamLabel := &metav1.LabelSelector{MatchLabels: map[string]string{"team": "sre"}}
	for _, tc := range []struct {
		name                        string
		values                      map[string]any
		marketplace, pages, metrics []networkingv1.NetworkPolicyPeer
	}{
		{"defaults", nil, fromNamespace("ingress-nginx"), fromNamespace("ingress-nginx"), scrapers(monitoring)},
		{"other namespaces", map[string]any{"ingressControllerNamespace": "kong", "monitoringNamespace": "observability"},
			fromNamespace("kong"), fromNamespace("kong"),
			scrapers(&metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "observability"}})},
		{"empty namespaces open the ports to any source", map[string]any{"ingressControllerNamespace": "", "monitoringNamespace": ""},
			nil, nil, scrapers(nil)},
		{"explicit peers override", map[string]any{
			"marketplaceFrom":          elb,
			"pagesFrom":                anyPod,
			"metricsNamespaceSelector": teamLabel,
			"metricsPodSelector":       map[string]any{"matchLabels": map[string]string{"app": "prometheus"}},
		}, elb, anyPod, []networkingv1.NetworkPolicyPeer{{NamespaceSelector: teamLabel,
			PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "prometheus"}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"-f", requiredKeys}
			if tc.values != nil {
				args = append(args, values(t, map[string]any{"networkPolicy": tc.values})...)
			}
			m := render(t, args...)
			bridge := ingressFrom(t, m, "tenantry-webhookbridge")
			for port, want := range map[string][]networkingv1.NetworkPolicyPeer{
				"marketplace": tc.marketplace, "pages": tc.pages, "metrics": tc.metrics,
			} {
				if diff := cmp.Diff(want, bridge[port]); diff != "" {
					t.Errorf("bridge %s port sources (-want +got):\n%s", port, diff)
				}
			}
			if diff := cmp.Diff(tc.metrics, ingressFrom(t, m, "tenantry-manager")["metrics"]); diff != "" {
				t.Errorf("operator metrics sources (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNetworkPolicyNamespaceValuesSchema: a namespace value that is not a DNS label is refused
// when the chart is rendered, not by the API server on install.
func TestNetworkPolicyNamespaceValuesSchema(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"ingressControllerNamespace", "monitoringNamespace"} {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			_, err := template(t, chartDir, "-f", requiredKeys, "--set", "networkPolicy."+key+"=Not_A_Namespace")
			if err == nil {
				t.Fatalf("networkPolicy.%s=Not_A_Namespace rendered", key)
			}
			for _, want := range []string{"/networkPolicy/" + key, "does not match pattern"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not mention %q:\n%v", want, err)
				}
			}
		})
	}
}
