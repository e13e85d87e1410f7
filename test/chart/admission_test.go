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
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// TestAdmissionPolicies: the policies match the chart's own ServiceAccounts, whatever they are
// named, fail closed and deny; they can be switched off. test/rbac proves what they refuse in a
// real API server.
func TestAdmissionPolicies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		args             []string
		operator, bridge string
	}{
		{"defaults", nil, "system:serviceaccount:tenantry-system:tenantry-manager", "system:serviceaccount:tenantry-system:tenantry-webhookbridge"},
		{"named ServiceAccounts", []string{"--set", "manager.serviceAccount.name=op", "--set", "bridge.serviceAccount.name=br"},
			"system:serviceaccount:tenantry-system:op", "system:serviceaccount:tenantry-system:br"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := render(t, append([]string{"-f", requiredKeys}, tc.args...)...)
			for policy, user := range map[string]string{
				"tenantry-manager-tenant-namespaces":    tc.operator,
				"tenantry-webhookbridge-instance-names": tc.bridge,
			} {
				p := decode[admissionregistrationv1.ValidatingAdmissionPolicy](t, m.get(t, "ValidatingAdmissionPolicy", policy))
				if p.Spec.FailurePolicy == nil || *p.Spec.FailurePolicy != admissionregistrationv1.Fail {
					t.Errorf("%s: failurePolicy %v, want Fail", policy, p.Spec.FailurePolicy)
				}
				if len(p.Spec.MatchConditions) != 1 || p.Spec.MatchConditions[0].Expression != "request.userInfo.username == '"+user+"'" {
					t.Errorf("%s: match conditions %+v, want the user %s", policy, p.Spec.MatchConditions, user)
				}
				for _, v := range p.Spec.Validations {
					if v.MessageExpression == "" {
						t.Errorf("%s: validation %q without a message", policy, v.Expression)
					}
				}
				b := decode[admissionregistrationv1.ValidatingAdmissionPolicyBinding](t, m.get(t, "ValidatingAdmissionPolicyBinding", policy))
				if b.Spec.PolicyName != policy || !cmp.Equal(b.Spec.ValidationActions, []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}) {
					t.Errorf("%s: binding %+v, want Deny of the policy", policy, b.Spec)
				}
			}
		})
	}

	m := render(t, "-f", requiredKeys, "--set", "admissionPolicies.enabled=false")
	if got := append(m.ofKind("ValidatingAdmissionPolicy"), m.ofKind("ValidatingAdmissionPolicyBinding")...); len(got) != 0 {
		t.Errorf("admissionPolicies.enabled=false renders %v", got.names())
	}
}

// TestSharedTLSNamespaces: the operator reads Secrets in the namespaces listed and nowhere else —
// by default nowhere, so not in the release namespace, where the bridge's keys are.
func TestSharedTLSNamespaces(t *testing.T) {
	t.Parallel()
	readers := func(m manifest) map[string][]rbacv1.PolicyRule {
		out := map[string][]rbacv1.PolicyRule{}
		for _, o := range m.ofKind("Role") {
			r := decode[rbacv1.Role](t, o)
			for _, rule := range r.Rules {
				for _, res := range rule.Resources {
					if res == "secrets" {
						out[r.Namespace] = append(out[r.Namespace], rule)
					}
				}
			}
		}
		for _, o := range m.ofKind("ClusterRole") {
			for _, rule := range decode[rbacv1.ClusterRole](t, o).Rules {
				for _, res := range rule.Resources {
					if res == "secrets" && o.Name == "tenantry-manager" && strings.Join(rule.Verbs, ",") != "create,delete,patch,update" {
						t.Errorf("the operator's ClusterRole grants %v on Secrets; want writes only", rule.Verbs)
					}
				}
			}
		}
		return out
	}
	flag := func(m manifest) (string, bool) {
		d := decode[appsv1.Deployment](t, m.get(t, "Deployment", "tenantry-manager"))
		return flagValue(container(t, d, "manager").Args, "shared-tls-namespaces")
	}

	m := render(t, "-f", requiredKeys)
	if got := readers(m); len(got) != 0 {
		t.Errorf("by default Roles grant Secrets in %v; want none", got)
	}
	if v, ok := flag(m); ok {
		t.Errorf("by default --shared-tls-namespaces=%q; want no flag", v)
	}

	m = render(t, "-f", requiredKeys, "--set", "sharedTLS.namespaces={certs,other}")
	want := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}}}
	if diff := cmp.Diff(map[string][]rbacv1.PolicyRule{"certs": want, "other": want}, readers(m)); diff != "" {
		t.Errorf("Secret reads (-want +got):\n%s", diff)
	}
	for _, ns := range []string{"certs", "other"} {
		var b *rbacv1.RoleBinding
		for _, o := range m.ofKind("RoleBinding") {
			if o.Namespace == ns && o.Name == "tenantry-manager-shared-tls" {
				rb := decode[rbacv1.RoleBinding](t, o)
				b = &rb
			}
		}
		if b == nil {
			t.Fatalf("no RoleBinding tenantry-manager-shared-tls in %s", ns)
		}
		wantSubjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "tenantry-manager", Namespace: namespace}}
		if diff := cmp.Diff(wantSubjects, b.Subjects); diff != "" || b.RoleRef.Name != "tenantry-manager-shared-tls" || b.RoleRef.Kind != "Role" {
			t.Errorf("RoleBinding in %s: %+v (subjects -want +got:\n%s)", ns, b, diff)
		}
	}
	if v, _ := flag(m); v != "certs,other" {
		t.Errorf("--shared-tls-namespaces=%q, want certs,other", v)
	}
}
