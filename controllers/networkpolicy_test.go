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

package controllers_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
)

// The egress every Restricted tenant has whatever its plan says: pods of its own namespace, and
// the cluster DNS on UDP and TCP 53.
var (
	ownNamespaceEgress = networkingv1.NetworkPolicyEgressRule{
		To: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}},
	}
	dnsEgress = networkingv1.NetworkPolicyEgressRule{
		To: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
			PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "k8s-app", Operator: metav1.LabelSelectorOpIn, Values: []string{"kube-dns", "coredns"}},
			}},
		}},
		Ports: []networkingv1.NetworkPolicyPort{
			{Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To(intstr.FromInt32(53))},
			{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(53))},
		},
	}
)

func tenantPolicy(g Gomega, instance string) *networkingv1.NetworkPolicy {
	np := &networkingv1.NetworkPolicy{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Namespace: tenantryv1alpha1.NamespaceName(instance), Name: controllers.NetworkPolicyName}, np)).To(Succeed())
	return np
}

// expectEgress checks the tenant's NetworkPolicy against a real API server: it restricts egress
// to exactly the rules given, or, with none given and restricted false, not at all.
func expectEgress(g Gomega, instance string, restricted bool, want ...networkingv1.NetworkPolicyEgressRule) {
	np := tenantPolicy(g, instance)
	types := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	if restricted {
		types = append(types, networkingv1.PolicyTypeEgress)
	}
	g.Expect(cmp.Diff(types, np.Spec.PolicyTypes)).To(BeEmpty(), "policy types (-want +got)")
	g.Expect(cmp.Diff(want, np.Spec.Egress)).To(BeEmpty(), "egress (-want +got)")
	// Ingress is what it always was: the namespace itself and the ingress controller's.
	g.Expect(np.Spec.Ingress).To(HaveLen(2))
	g.Expect(np.Spec.Ingress[1].From[0].NamespaceSelector.MatchLabels).To(HaveKeyWithValue("kubernetes.io/metadata.name", "ingress-nginx"))
}

func updatePlan(t *testing.T, name string, mutate func(*tenantryv1alpha1.TenantPlan)) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		p := &tenantryv1alpha1.TenantPlan{}
		g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: name}, p)).To(Succeed())
		mutate(p)
		g.Expect(k8s.Update(context.Background(), p)).To(Succeed())
	}).Should(Succeed())
}

// A plan that says nothing of its network gets a tenant whose pods reach only their own
// namespace and the cluster DNS.
func TestTenantEgressIsDeniedByDefaultButDNS(t *testing.T) {
	g := NewWithT(t)
	create(t, newPlan("egress-default", "SKU-EGRESS-DEFAULT"), newInstance("egress-default", "SKU-EGRESS-DEFAULT"))
	g.Eventually(func(g Gomega) {
		expectEgress(g, "egress-default", true, ownNamespaceEgress, dnsEgress)
	}).Should(Succeed())
}

// The plan's declared egress is carried into its tenants' policy exactly, after DNS; changing the
// plan changes the policy; Unrestricted drops the egress restriction and Restricted brings it back.
func TestTenantEgressFollowsThePlan(t *testing.T) {
	g := NewWithT(t)
	plan := newPlan("egress-declared", "SKU-EGRESS-DECLARED")
	plan.Spec.Network.Egress = []tenantryv1alpha1.EgressRule{{
		To: []tenantryv1alpha1.EgressPeer{
			{IPBlock: &tenantryv1alpha1.IPBlock{CIDR: "203.0.113.0/24", Except: []string{"203.0.113.128/25"}}},
			{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "databases"}},
				PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpExists}}}},
		},
		Ports: []tenantryv1alpha1.EgressPort{
			{Port: ptr.To(intstr.FromInt32(5432))}, // protocol defaults to TCP
			{Protocol: corev1.ProtocolUDP, Port: ptr.To(intstr.FromInt32(30000)), EndPort: ptr.To[int32](30100)},
			{Protocol: corev1.ProtocolTCP, Port: ptr.To(intstr.FromString("https"))},
		},
	}}
	create(t, plan, newInstance("egress-declared", "SKU-EGRESS-DECLARED"))
	declared := networkingv1.NetworkPolicyEgressRule{
		To: []networkingv1.NetworkPolicyPeer{
			{IPBlock: &networkingv1.IPBlock{CIDR: "203.0.113.0/24", Except: []string{"203.0.113.128/25"}}},
			{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "databases"}},
				PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpExists}}}},
		},
		Ports: []networkingv1.NetworkPolicyPort{
			{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(5432))},
			{Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To(intstr.FromInt32(30000)), EndPort: ptr.To[int32](30100)},
			{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromString("https"))},
		},
	}
	g.Eventually(func(g Gomega) {
		expectEgress(g, "egress-declared", true, ownNamespaceEgress, dnsEgress, declared)
	}).Should(Succeed())

	// A second rule added to the plan reaches the tenant.
	proxy := tenantryv1alpha1.EgressRule{
		To:    []tenantryv1alpha1.EgressPeer{{IPBlock: &tenantryv1alpha1.IPBlock{CIDR: "10.1.2.3/32"}}},
		Ports: []tenantryv1alpha1.EgressPort{{Protocol: corev1.ProtocolTCP, Port: ptr.To(intstr.FromInt32(3128))}},
	}
	updatePlan(t, "egress-declared", func(p *tenantryv1alpha1.TenantPlan) {
		p.Spec.Network.Egress = append(p.Spec.Network.Egress, proxy)
	})
	proxyRule := networkingv1.NetworkPolicyEgressRule{
		To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.1.2.3/32"}}},
		Ports: []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(3128))}},
	}
	g.Eventually(func(g Gomega) {
		expectEgress(g, "egress-declared", true, ownNamespaceEgress, dnsEgress, declared, proxyRule)
	}).Should(Succeed())

	// Removing the first rule removes it from the policy: nothing the plan no longer says stays open.
	updatePlan(t, "egress-declared", func(p *tenantryv1alpha1.TenantPlan) {
		p.Spec.Network.Egress = []tenantryv1alpha1.EgressRule{proxy}
	})
	g.Eventually(func(g Gomega) {
		expectEgress(g, "egress-declared", true, ownNamespaceEgress, dnsEgress, proxyRule)
	}).Should(Succeed())

	// Unrestricted: the policy restricts ingress only.
	updatePlan(t, "egress-declared", func(p *tenantryv1alpha1.TenantPlan) {
		p.Spec.Network = tenantryv1alpha1.NetworkSettings{EgressPolicy: tenantryv1alpha1.EgressUnrestricted}
	})
	g.Eventually(func(g Gomega) {
		expectEgress(g, "egress-declared", false)
	}).Should(Succeed())

	// Back to Restricted without rules: own namespace and DNS only.
	updatePlan(t, "egress-declared", func(p *tenantryv1alpha1.TenantPlan) {
		p.Spec.Network = tenantryv1alpha1.NetworkSettings{EgressPolicy: tenantryv1alpha1.EgressRestricted}
	})
	g.Eventually(func(g Gomega) {
		expectEgress(g, "egress-declared", true, ownNamespaceEgress, dnsEgress)
	}).Should(Succeed())
}

// A plan whose egress the schema refuses changes nothing: the tenant keeps the policy it had.
func TestInvalidPlanEgressIsRefusedAndChangesNothing(t *testing.T) {
	g := NewWithT(t)
	create(t, newPlan("egress-invalid", "SKU-EGRESS-INVALID"), newInstance("egress-invalid", "SKU-EGRESS-INVALID"))
	g.Eventually(func(g Gomega) {
		expectEgress(g, "egress-invalid", true, ownNamespaceEgress, dnsEgress)
	}).Should(Succeed())
	before := tenantPolicy(g, "egress-invalid")

	// Read again after a conflict: the rollout controller writes the plan's status meanwhile.
	g.Eventually(func() error {
		p := &tenantryv1alpha1.TenantPlan{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Name: "egress-invalid"}, p); err != nil {
			return err
		}
		p.Spec.Network.Egress = []tenantryv1alpha1.EgressRule{{To: []tenantryv1alpha1.EgressPeer{{IPBlock: &tenantryv1alpha1.IPBlock{CIDR: "api.example.com"}}}}}
		return k8s.Update(context.Background(), p)
	}).Should(MatchError(ContainSubstring("spec.network.egress[].to[].ipBlock.cidr must be a CIDR")))

	// The plan is unchanged, so a reconcile of the tenant writes the same policy.
	poke(g, "egress-invalid")
	g.Consistently(func(g Gomega) {
		g.Expect(tenantPolicy(g, "egress-invalid").ResourceVersion).To(Equal(before.ResourceVersion))
	}, "1s").Should(Succeed())
}

// TestNetworkPolicyBuilder: the policy is one function of the plan, with DNS always first after
// the namespace itself, and the plan's rules after it in their order.
func TestNetworkPolicyBuilder(t *testing.T) {
	ti := newInstance("np-unit", "SKU-NP-UNIT")
	external := tenantryv1alpha1.EgressRule{
		To:    []tenantryv1alpha1.EgressPeer{{IPBlock: &tenantryv1alpha1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"169.254.0.0/16"}}}},
		Ports: []tenantryv1alpha1.EgressPort{{Protocol: corev1.ProtocolTCP, Port: ptr.To(intstr.FromInt32(443))}},
	}
	externalRule := networkingv1.NetworkPolicyEgressRule{
		To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"169.254.0.0/16"}}}},
		Ports: []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(443))}},
	}
	sameNamespace := tenantryv1alpha1.EgressRule{To: []tenantryv1alpha1.EgressPeer{{PodSelector: &metav1.LabelSelector{
		MatchLabels: map[string]string{"role": "db"}}}}}
	sameNamespaceRule := networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{
		MatchLabels: map[string]string{"role": "db"}}}}}
	both := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	for _, tc := range []struct {
		name    string
		network tenantryv1alpha1.NetworkSettings
		types   []networkingv1.PolicyType
		egress  []networkingv1.NetworkPolicyEgressRule
	}{
		{"nothing said", tenantryv1alpha1.NetworkSettings{}, both,
			[]networkingv1.NetworkPolicyEgressRule{ownNamespaceEgress, dnsEgress}},
		{"restricted", tenantryv1alpha1.NetworkSettings{EgressPolicy: tenantryv1alpha1.EgressRestricted}, both,
			[]networkingv1.NetworkPolicyEgressRule{ownNamespaceEgress, dnsEgress}},
		{"declared rules in order", tenantryv1alpha1.NetworkSettings{Egress: []tenantryv1alpha1.EgressRule{external, sameNamespace}}, both,
			[]networkingv1.NetworkPolicyEgressRule{ownNamespaceEgress, dnsEgress, externalRule, sameNamespaceRule}},
		{"unrestricted", tenantryv1alpha1.NetworkSettings{EgressPolicy: tenantryv1alpha1.EgressUnrestricted},
			[]networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := newPlan("np-unit", "SKU-NP-UNIT")
			plan.Spec.Network = tc.network
			b, err := json.Marshal(controllers.Desired{Instance: ti, Plan: plan}.NetworkPolicy())
			if err != nil {
				t.Fatal(err)
			}
			var np networkingv1.NetworkPolicy
			if err := json.Unmarshal(b, &np); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.types, np.Spec.PolicyTypes); diff != "" {
				t.Errorf("policy types (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.egress, np.Spec.Egress); diff != "" {
				t.Errorf("egress (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNetworkPolicyAdmitsThePlansIngressCIDRs: a load balancer outside the cluster (CCE's ELB
// Ingress) reaches the tenant's pods only from the CIDRs the plan lists, in one rule after the
// in-cluster sources.
func TestNetworkPolicyAdmitsThePlansIngressCIDRs(t *testing.T) {
	ti := newInstance("np-ingress", "SKU-NP-INGRESS")
	for _, tc := range []struct {
		name  string
		cidrs []string
		want  []networkingv1.NetworkPolicyPeer // the third rule's peers; nil: no third rule
	}{
		{"none", nil, nil},
		{"ELB subnets", []string{"192.168.0.0/24", "192.168.1.0/24"}, []networkingv1.NetworkPolicyPeer{
			{IPBlock: &networkingv1.IPBlock{CIDR: "192.168.0.0/24"}}, {IPBlock: &networkingv1.IPBlock{CIDR: "192.168.1.0/24"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := newPlan("np-ingress", "SKU-NP-INGRESS")
			plan.Spec.Network.IngressCIDRs = tc.cidrs
			b, err := json.Marshal(controllers.Desired{Instance: ti, Plan: plan}.NetworkPolicy())
			if err != nil {
				t.Fatal(err)
			}
			var np networkingv1.NetworkPolicy
			if err := json.Unmarshal(b, &np); err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if len(np.Spec.Ingress) != 2 {
					t.Errorf("want the two in-cluster ingress rules only, got %+v", np.Spec.Ingress)
				}
				return
			}
			if len(np.Spec.Ingress) != 3 {
				t.Fatalf("want three ingress rules, got %+v", np.Spec.Ingress)
			}
			if diff := cmp.Diff(tc.want, np.Spec.Ingress[2].From); diff != "" {
				t.Errorf("ingress from the CIDRs (-want +got):\n%s", diff)
			}
		})
	}
}
