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

package v1alpha1_test

import (
	"context"
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// TestPlanNetworkValidation proves that a real API server refuses a plan whose spec.network a
// tenant's NetworkPolicy could not carry, with a message naming the field, and accepts the valid
// ones: a mistake is refused when the plan is written, not found later on every tenant.
func TestPlanNetworkValidation(t *testing.T) {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	port := func(p intstr.IntOrString) *intstr.IntOrString { return &p }
	cidr := func(c string) v1.EgressPeer {
		return v1.EgressPeer{IPBlock: &v1.IPBlock{CIDR: c}}
	}
	nsPeer := v1.EgressPeer{NamespaceSelector: &metav1.LabelSelector{
		MatchLabels: map[string]string{"kubernetes.io/metadata.name": "databases"}}}
	rule := func(r v1.EgressRule) v1.NetworkSettings { return v1.NetworkSettings{Egress: []v1.EgressRule{r}} }
	for i, tc := range []struct {
		name    string
		network v1.NetworkSettings
		errHas  string // "" = must be accepted
	}{
		{"valid: every kind of rule", v1.NetworkSettings{EgressPolicy: v1.EgressRestricted, Egress: []v1.EgressRule{
			{To: []v1.EgressPeer{cidr("10.0.0.0/8"), cidr("fd00::/8")},
				Ports: []v1.EgressPort{{Protocol: tcp, Port: port(intstr.FromInt32(443))}}},
			{To: []v1.EgressPeer{nsPeer}},
			{Ports: []v1.EgressPort{{Protocol: udp, Port: port(intstr.FromInt32(30000)), EndPort: ptr.To[int32](32767)}}},
			{Ports: []v1.EgressPort{{Port: port(intstr.FromString("postgres"))}}},
			{To: []v1.EgressPeer{{IPBlock: &v1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"169.254.169.254/32"}}}}},
		}}, ""},
		{"valid: unrestricted", v1.NetworkSettings{EgressPolicy: v1.EgressUnrestricted}, ""},
		{"valid: ingress CIDRs", v1.NetworkSettings{IngressCIDRs: []string{"192.168.0.0/16", "fd00::/8"}}, ""},
		{"ingress CIDR not a CIDR", v1.NetworkSettings{IngressCIDRs: []string{"192.168.0.0"}},
			"spec.network.ingressCIDRs must be CIDRs such as 192.168.0.0/16"},
		{"unknown egress policy", v1.NetworkSettings{EgressPolicy: "Open"}, "spec.network.egressPolicy"},
		{"rules with unrestricted egress", v1.NetworkSettings{EgressPolicy: v1.EgressUnrestricted, Egress: []v1.EgressRule{
			{To: []v1.EgressPeer{cidr("10.0.0.0/8")}}}},
			"spec.network.egress must be empty when spec.network.egressPolicy is Unrestricted"},
		{"empty rule", rule(v1.EgressRule{}), "spec.network.egress[] must name ports or destinations"},
		{"unknown protocol", rule(v1.EgressRule{Ports: []v1.EgressPort{{Protocol: "ICMP"}}}),
			"spec.network.egress[0].ports[0].protocol"},
		{"port zero", rule(v1.EgressRule{Ports: []v1.EgressPort{{Port: port(intstr.FromInt32(0))}}}),
			"spec.network.egress[].ports[].port must be a number from 1 to 65535 or a port name"},
		{"port above 65535", rule(v1.EgressRule{Ports: []v1.EgressPort{{Port: port(intstr.FromInt32(65536))}}}),
			"spec.network.egress[].ports[].port must be a number from 1 to 65535 or a port name"},
		{"port name that is not one", rule(v1.EgressRule{Ports: []v1.EgressPort{{Port: port(intstr.FromString("Not_A_Name"))}}}),
			"spec.network.egress[].ports[].port must be a number from 1 to 65535 or a port name"},
		{"end port below port", rule(v1.EgressRule{Ports: []v1.EgressPort{{Port: port(intstr.FromInt32(8000)), EndPort: ptr.To[int32](7000)}}}),
			"spec.network.egress[].ports[].endPort needs a numeric port and must not be below it"},
		{"end port with a named port", rule(v1.EgressRule{Ports: []v1.EgressPort{{Port: port(intstr.FromString("https")), EndPort: ptr.To[int32](9000)}}}),
			"spec.network.egress[].ports[].endPort needs a numeric port and must not be below it"},
		{"end port without port", rule(v1.EgressRule{Ports: []v1.EgressPort{{EndPort: ptr.To[int32](9000)}}}),
			"spec.network.egress[].ports[].endPort needs a numeric port and must not be below it"},
		{"not a CIDR", rule(v1.EgressRule{To: []v1.EgressPeer{cidr("10.0.0.0")}}),
			"spec.network.egress[].to[].ipBlock.cidr must be a CIDR"},
		{"IPv4 CIDR out of range", rule(v1.EgressRule{To: []v1.EgressPeer{cidr("10.0.0.256/8")}}),
			"spec.network.egress[].to[].ipBlock.cidr must be a CIDR"},
		{"IPv4 prefix too long", rule(v1.EgressRule{To: []v1.EgressPeer{cidr("10.0.0.0/33")}}),
			"spec.network.egress[].to[].ipBlock.cidr must be a CIDR"},
		{"host name instead of a CIDR", rule(v1.EgressRule{To: []v1.EgressPeer{cidr("api.example.com/32")}}),
			"spec.network.egress[].to[].ipBlock.cidr must be a CIDR"},
		{"ipBlock with a selector", rule(v1.EgressRule{To: []v1.EgressPeer{{
			IPBlock: &v1.IPBlock{CIDR: "10.0.0.0/8"}, NamespaceSelector: &metav1.LabelSelector{}}}}),
			"spec.network.egress[].to[] must set either ipBlock or podSelector/namespaceSelector"},
		{"empty peer", rule(v1.EgressRule{To: []v1.EgressPeer{{}}}),
			"spec.network.egress[].to[] must set either ipBlock or podSelector/namespaceSelector"},
		{"except not a CIDR", rule(v1.EgressRule{To: []v1.EgressPeer{{IPBlock: &v1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0"}}}}}),
			"spec.network.egress[].to[].ipBlock.except must be CIDRs"},
		{"end port above 65535", rule(v1.EgressRule{Ports: []v1.EgressPort{{Port: port(intstr.FromInt32(1)), EndPort: ptr.To[int32](65536)}}}),
			"spec.network.egress[0].ports[0].endPort"},
		{"port name too long", rule(v1.EgressRule{Ports: []v1.EgressPort{{Port: port(intstr.FromString("a-very-long-port-name"))}}}),
			"spec.network.egress[0].ports[0].port"},
		{"too many rules", v1.NetworkSettings{Egress: func() []v1.EgressRule {
			rules := make([]v1.EgressRule, 33)
			for i := range rules {
				rules[i] = v1.EgressRule{To: []v1.EgressPeer{nsPeer}}
			}
			return rules
		}()}, "spec.network.egress"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			p := validPlan(fmt.Sprintf("network-%d", i))
			p.Spec.SKUs = []string{fmt.Sprintf("SKU-NETWORK-%d", i)}
			p.Spec.Network = tc.network
			err := k8s.Create(context.Background(), p)
			if tc.errHas == "" {
				g.Expect(err).NotTo(HaveOccurred())
				t.Cleanup(func() { _ = k8s.Delete(context.Background(), p) })
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tc.errHas)))
		})
	}
}

// TestPlanEgressPolicyDefault: a plan that lists egress rules without an egress policy is
// Restricted, so that kubectl shows what the operator applies.
func TestPlanEgressPolicyDefault(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	p := validPlan("network-default")
	p.Spec.SKUs = []string{"SKU-NETWORK-DEFAULT"}
	p.Spec.Network.Egress = []v1.EgressRule{{To: []v1.EgressPeer{{PodSelector: &metav1.LabelSelector{}}}}}
	g.Expect(k8s.Create(ctx, p)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(ctx, p) })
	got := &v1.TenantPlan{}
	g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(p), got)).To(Succeed())
	g.Expect(got.Spec.Network.EgressPolicy).To(Equal(v1.EgressRestricted))
}
