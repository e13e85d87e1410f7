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

package plugin

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Result is how a check came out.
type Result string

// Results, from best to worst.
const (
	ResultOK      Result = "ok"
	ResultWarning Result = "warning"
	ResultError   Result = "error"
)

// Check is one finding of `kubectl tenantry doctor`.
type Check struct {
	// Name of what was checked.
	Name   string `json:"name"`
	Result Result `json:"result"`
	// Message says what was found and, when it is not ok, what to do.
	Message string `json:"message"`
}

// Diagnosis is what `kubectl tenantry doctor` reports.
type Diagnosis struct {
	Checks []Check `json:"checks"`
	// Result is the worst result of all checks.
	Result Result `json:"result"`
}

// Installation is what doctor reads of a cluster. A nil field or a non-nil error for a part
// means it could not be read; the check then says so rather than guessing.
type Installation struct {
	Now time.Time

	CRDs    []apiextensionsv1.CustomResourceDefinition
	CRDsErr error

	// Namespace is where Tenantry is installed.
	Namespace     string
	Deployments   []appsv1.Deployment
	DeploymentErr error
	Lease         *coordinationv1.Lease
	LeaseErr      error

	Plans     []tenantryv1alpha1.TenantPlan
	Instances []tenantryv1alpha1.TenantInstance

	IngressClasses []IngressClass
	IngressErr     error

	// SharedTLS is what was found of each shared TLS source plans name, by namespace/name.
	SharedTLS map[string]SecretFinding

	// CertManagerInstalled is whether the ClusterIssuer kind is served; ClusterIssuers are
	// the names found, with whether each is Ready.
	CertManagerInstalled bool
	ClusterIssuers       map[string]bool
	CertManagerErr       error

	// Pools are the LoadBalancerPools.
	Pools    []tenantryv1alpha1.LoadBalancerPool
	PoolsErr error

	// PullSecrets says, for each pull secret a plan names, which namespaces hold a Secret of
	// that name.
	PullSecrets    map[string]map[string]bool
	PullSecretsErr error

	// NetworkPlugins are the names of kube-system DaemonSets, to recognise a network plugin.
	KubeSystemDaemonSets []string
	DaemonSetErr         error
}

// IngressClass is one IngressClass and whether it is the cluster's default.
type IngressClass struct {
	Name    string
	Default bool
}

// SecretFinding is what doctor found of one Secret.
type SecretFinding struct {
	Found    bool
	Labelled bool
	// NotAfter is when the certificate in tls.crt expires; zero when it could not be parsed.
	NotAfter time.Time
	Err      error
}

// crdNames are the CustomResourceDefinitions Tenantry serves.
var crdNames = []string{
	"tenantinstances.tenantry.io", "tenantplans.tenantry.io",
	"tenantdirectories.tenantry.io", "tenanthosts.tenantry.io",
	"loadbalancerpools.tenantry.io", "listenerslots.tenantry.io",
}

// networkPlugins maps kube-system DaemonSet names to the NetworkPolicy-enforcing network
// plugin they belong to.
var networkPlugins = map[string]string{
	"calico-node":  "Calico",
	"canal":        "Canal",
	"cilium":       "Cilium",
	"cilium-agent": "Cilium",
	"antrea-agent": "Antrea",
	"kube-router":  "kube-router",
	"weave-net":    "Weave Net",
	"kube-ovn-cni": "Kube-OVN",
}

// certificateWarning is how close to its expiry a shared certificate is reported.
const certificateWarning = 30 * 24 * time.Hour

// leaseStaleAfter is how long an unrenewed leader Lease means no operator leads.
const leaseStaleAfter = time.Minute

// Diagnose runs every check on what was read of an installation.
func Diagnose(in Installation) Diagnosis {
	checks := []Check{
		checkCRDs(in),
		checkComponent(in, "operator", "manager"),
		checkLeader(in),
		checkComponent(in, "webhook bridge", "webhookbridge"),
		checkPlans(in),
		checkIngressClasses(in),
		checkSharedTLS(in),
		checkClusterIssuers(in),
		checkPools(in),
		checkPullSecrets(in),
		checkNetworkPolicy(in),
	}
	d := Diagnosis{Checks: checks, Result: ResultOK}
	for _, c := range checks {
		if rank(c.Result) > rank(d.Result) {
			d.Result = c.Result
		}
	}
	return d
}

func rank(r Result) int {
	switch r {
	case ResultError:
		return 2
	case ResultWarning:
		return 1
	default:
		return 0
	}
}

func checkCRDs(in Installation) Check {
	c := Check{Name: "CustomResourceDefinitions", Result: ResultOK}
	if in.CRDsErr != nil {
		return Check{Name: c.Name, Result: ResultError, Message: "cannot read CustomResourceDefinitions: " + in.CRDsErr.Error()}
	}
	byName := map[string]*apiextensionsv1.CustomResourceDefinition{}
	for i := range in.CRDs {
		byName[in.CRDs[i].Name] = &in.CRDs[i]
	}
	var problems []string
	for _, name := range crdNames {
		crd := byName[name]
		if crd == nil {
			problems = append(problems, name+" is missing")
			continue
		}
		established := false
		for _, cond := range crd.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				established = true
			}
		}
		serves := false
		for _, v := range crd.Spec.Versions {
			if v.Name == tenantryv1alpha1.GroupVersion.Version && v.Served && v.Storage {
				serves = true
			}
		}
		switch {
		case !established:
			problems = append(problems, name+" is not established")
		case !serves:
			problems = append(problems, name+" does not serve and store "+tenantryv1alpha1.GroupVersion.Version)
		}
	}
	if len(problems) > 0 {
		c.Result = ResultError
		c.Message = strings.Join(problems, "; ") + " (install or upgrade the chart: its crds/ directory holds them)"
		return c
	}
	c.Message = fmt.Sprintf("%d CRDs established, serving %s", len(crdNames), tenantryv1alpha1.GroupVersion)
	return c
}

func checkComponent(in Installation, what, component string) Check {
	c := Check{Name: strings.ToUpper(what[:1]) + what[1:]}
	if in.DeploymentErr != nil {
		return Check{Name: c.Name, Result: ResultError, Message: "cannot read Deployments in " + in.Namespace + ": " + in.DeploymentErr.Error()}
	}
	for _, d := range in.Deployments {
		if d.Labels["app.kubernetes.io/component"] != component {
			continue
		}
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		switch {
		case d.Status.ReadyReplicas == 0:
			c.Result = ResultError
			c.Message = fmt.Sprintf("Deployment %s/%s has no ready replica (0/%d); see kubectl -n %s describe deployment %s", d.Namespace, d.Name, want, d.Namespace, d.Name)
		case d.Status.ReadyReplicas < want:
			c.Result = ResultWarning
			c.Message = fmt.Sprintf("Deployment %s/%s has %d/%d ready replicas", d.Namespace, d.Name, d.Status.ReadyReplicas, want)
		default:
			c.Result = ResultOK
			c.Message = fmt.Sprintf("Deployment %s/%s: %d/%d ready", d.Namespace, d.Name, d.Status.ReadyReplicas, want)
		}
		return c
	}
	c.Result = ResultError
	c.Message = fmt.Sprintf("no %s Deployment (label app.kubernetes.io/component=%s) in namespace %s; is Tenantry installed there (-n)?", what, component, in.Namespace)
	return c
}

func checkLeader(in Installation) Check {
	c := Check{Name: "Operator leader"}
	switch {
	case in.LeaseErr != nil:
		c.Result, c.Message = ResultError, "cannot read the leader-election Lease: "+in.LeaseErr.Error()
	case in.Lease == nil || in.Lease.Spec.HolderIdentity == nil || *in.Lease.Spec.HolderIdentity == "":
		c.Result, c.Message = ResultError, "no operator replica holds the leader-election Lease "+LeaderLeaseName+": nothing reconciles tenants"
	case in.Lease.Spec.RenewTime == nil || in.Now.Sub(in.Lease.Spec.RenewTime.Time) > leaseStaleAfter:
		c.Result = ResultError
		c.Message = fmt.Sprintf("the leader %s has not renewed its Lease for over %s: the operator may be stuck or partitioned from the API server", *in.Lease.Spec.HolderIdentity, leaseStaleAfter)
	default:
		c.Result, c.Message = ResultOK, "led by "+*in.Lease.Spec.HolderIdentity
	}
	return c
}

// LeaderLeaseName is the operator's leader-election Lease.
const LeaderLeaseName = "tenantry-operator.tenantry.io"

func checkPlans(in Installation) Check {
	c := Check{Name: "Plans", Result: ResultOK}
	if len(in.Plans) == 0 {
		c.Result, c.Message = ResultWarning, "no TenantPlan exists: every purchase will be refused or stall (add plans with the chart's plans value)"
		return c
	}
	bySKU := map[string][]string{}
	for _, p := range in.Plans {
		for _, sku := range p.Spec.SKUs {
			bySKU[sku] = append(bySKU[sku], p.Name)
		}
	}
	var problems []string
	for _, sku := range sortedKeys(bySKU) {
		if names := bySKU[sku]; len(names) > 1 {
			slices.Sort(names)
			problems = append(problems, fmt.Sprintf("SKU %s is listed by %d plans (%s): its tenants stall with PlanAmbiguous", sku, len(names), strings.Join(names, ", ")))
		}
	}
	unserved := map[string]int{}
	for _, ti := range in.Instances {
		if len(bySKU[ti.Spec.SKU]) == 0 {
			unserved[ti.Spec.SKU]++
		}
	}
	for _, sku := range sortedKeys(unserved) {
		problems = append(problems, fmt.Sprintf("%d instance(s) of SKU %s, which no plan lists", unserved[sku], sku))
	}
	if len(problems) > 0 {
		c.Result, c.Message = ResultError, strings.Join(problems, "; ")
		return c
	}
	c.Message = fmt.Sprintf("%d plans, %d SKUs, each listed once", len(in.Plans), len(bySKU))
	return c
}

func checkIngressClasses(in Installation) Check {
	c := Check{Name: "Ingress classes", Result: ResultOK}
	if in.IngressErr != nil {
		return Check{Name: c.Name, Result: ResultWarning, Message: "cannot read IngressClasses: " + in.IngressErr.Error()}
	}
	classes := map[string]bool{}
	hasDefault := false
	for _, ic := range in.IngressClasses {
		classes[ic.Name] = true
		hasDefault = hasDefault || ic.Default
	}
	var problems []string
	usesDefault := false
	for _, p := range in.Plans {
		name := p.Spec.Domain.IngressClassName
		switch {
		case name == "":
			usesDefault = true
		case !classes[name]:
			problems = append(problems, fmt.Sprintf("plan %s names IngressClass %s, which does not exist", p.Name, name))
		}
	}
	if usesDefault && !hasDefault {
		problems = append(problems, "a plan sets no ingressClassName and the cluster has no default IngressClass")
	}
	if len(problems) > 0 {
		c.Result, c.Message = ResultError, strings.Join(problems, "; ")
		return c
	}
	c.Message = "every plan's ingress class exists"
	return c
}

func checkSharedTLS(in Installation) Check {
	c := Check{Name: "Shared TLS sources", Result: ResultOK}
	var problems []string
	worst := ResultOK
	note := func(r Result, msg string) {
		problems = append(problems, msg)
		if rank(r) > rank(worst) {
			worst = r
		}
	}
	for _, key := range sortedKeys(in.SharedTLS) {
		f := in.SharedTLS[key]
		switch {
		case f.Err != nil:
			note(ResultWarning, fmt.Sprintf("cannot read %s: %v", key, f.Err))
		case !f.Found:
			note(ResultError, fmt.Sprintf("%s does not exist: Shared tenants of its plan have no certificate", key))
		case !f.Labelled:
			note(ResultError, fmt.Sprintf("%s lacks the label %s=%s, so the operator cannot see it", key, tenantryv1alpha1.LabelSecretRole, tenantryv1alpha1.SecretRoleSharedTLS))
		case f.NotAfter.IsZero():
			note(ResultWarning, fmt.Sprintf("%s holds no certificate doctor could parse in tls.crt", key))
		case !f.NotAfter.After(in.Now):
			note(ResultError, fmt.Sprintf("the certificate in %s expired at %s", key, f.NotAfter.UTC().Format(time.RFC3339)))
		case f.NotAfter.Sub(in.Now) < certificateWarning:
			note(ResultWarning, fmt.Sprintf("the certificate in %s expires in %s (%s)", key, HumanDuration(f.NotAfter.Sub(in.Now)), f.NotAfter.UTC().Format(time.RFC3339)))
		}
	}
	if len(problems) > 0 {
		c.Result, c.Message = worst, strings.Join(problems, "; ")
		return c
	}
	if len(in.SharedTLS) == 0 {
		c.Message = "no plan names a shared TLS source"
	} else {
		c.Message = fmt.Sprintf("%d source(s) present, labelled, valid for 30 days or more", len(in.SharedTLS))
	}
	return c
}

func checkClusterIssuers(in Installation) Check {
	c := Check{Name: "cert-manager ClusterIssuers", Result: ResultOK}
	need := map[string][]string{}
	for _, p := range in.Plans {
		if name := p.Spec.Domain.ClusterIssuer; name != "" {
			need[name] = append(need[name], p.Name)
		}
	}
	if len(need) == 0 {
		c.Message = "no plan names a ClusterIssuer"
		return c
	}
	if in.CertManagerErr != nil {
		return Check{Name: c.Name, Result: ResultWarning, Message: "cannot read ClusterIssuers: " + in.CertManagerErr.Error()}
	}
	if !in.CertManagerInstalled {
		c.Result = ResultError
		c.Message = "plans name ClusterIssuers (" + strings.Join(sortedKeys(need), ", ") + ") but cert-manager is not installed: Dedicated tenants get no certificate"
		return c
	}
	var problems []string
	worst := ResultOK
	for _, name := range sortedKeys(need) {
		ready, found := in.ClusterIssuers[name]
		switch {
		case !found:
			problems = append(problems, fmt.Sprintf("ClusterIssuer %s (plans %s) does not exist", name, strings.Join(need[name], ", ")))
			worst = ResultError
		case !ready:
			problems = append(problems, fmt.Sprintf("ClusterIssuer %s is not Ready", name))
			if worst != ResultError {
				worst = ResultWarning
			}
		}
	}
	if len(problems) > 0 {
		c.Result, c.Message = worst, strings.Join(problems, "; ")
		return c
	}
	c.Message = fmt.Sprintf("%d ClusterIssuer(s) present and Ready", len(need))
	return c
}

func checkPools(in Installation) Check {
	c := Check{Name: "ELB listener capacity", Result: ResultOK}
	if in.PoolsErr != nil {
		return Check{Name: c.Name, Result: ResultWarning, Message: "cannot read LoadBalancerPools: " + in.PoolsErr.Error()}
	}
	pools := map[string]*tenantryv1alpha1.LoadBalancerPool{}
	for i := range in.Pools {
		pools[in.Pools[i].Name] = &in.Pools[i]
	}
	waiting := map[string]int{}
	planPool := map[string]string{}
	for _, p := range in.Plans {
		for _, sku := range p.Spec.SKUs {
			planPool[sku] = p.Spec.Domain.LoadBalancerPool
		}
	}
	for _, ti := range in.Instances {
		for _, cond := range ti.Status.Conditions {
			if cond.Type == tenantryv1alpha1.ConditionStalled && cond.Status == "True" && cond.Reason == tenantryv1alpha1.ReasonNoLoadBalancerCapacity {
				waiting[planPool[ti.Spec.SKU]]++
			}
		}
	}
	var problems []string
	worst := ResultOK
	note := func(r Result, msg string) {
		problems = append(problems, msg)
		if rank(r) > rank(worst) {
			worst = r
		}
	}
	for _, p := range in.Plans {
		if name := p.Spec.Domain.LoadBalancerPool; name != "" && pools[name] == nil {
			note(ResultError, fmt.Sprintf("plan %s names LoadBalancerPool %s, which does not exist", p.Name, name))
		}
	}
	var used, capacity int32
	for _, name := range sortedKeys(pools) {
		st := pools[name].Status
		used += st.Tenants
		capacity += st.TenantCapacity
		room := st.TenantCapacity - st.Tenants
		switch {
		case waiting[name] > 0:
			note(ResultError, fmt.Sprintf("pool %s is full: %d tenant(s) wait for a listener (add one to spec.listeners)", name, waiting[name]))
		case st.TenantCapacity > 0 && room*10 < st.TenantCapacity:
			note(ResultWarning, fmt.Sprintf("pool %s has room for %d more tenant(s) of %d: add a listener before it fills", name, room, st.TenantCapacity))
		}
	}
	if len(problems) > 0 {
		c.Result, c.Message = worst, strings.Join(problems, "; ")
		return c
	}
	if len(pools) == 0 {
		c.Message = "no LoadBalancerPool: listeners are left to the ingress class"
	} else {
		c.Message = fmt.Sprintf("%d pool(s): %d of %d places used", len(pools), used, capacity)
	}
	return c
}

func checkPullSecrets(in Installation) Check {
	c := Check{Name: "Image pull secrets", Result: ResultOK}
	needs := map[string][]string{} // SKU → secret names
	for _, p := range in.Plans {
		for _, ref := range p.Spec.App.ImagePullSecrets {
			for _, sku := range p.Spec.SKUs {
				needs[sku] = append(needs[sku], ref.Name)
			}
		}
	}
	if len(needs) == 0 {
		c.Message = "no plan names image pull secrets"
		return c
	}
	if in.PullSecretsErr != nil {
		return Check{Name: c.Name, Result: ResultWarning, Message: "cannot list Secrets: " + in.PullSecretsErr.Error()}
	}
	missing := map[string][]string{}
	checked := 0
	for _, ti := range in.Instances {
		ns := ti.Status.Namespace
		if ns == "" || ti.DeletionTimestamp != nil {
			continue
		}
		for _, name := range needs[ti.Spec.SKU] {
			checked++
			if !in.PullSecrets[name][ns] {
				missing[name] = append(missing[name], ns)
			}
		}
	}
	if len(missing) > 0 {
		var problems []string
		for _, name := range sortedKeys(missing) {
			nss := missing[name]
			slices.Sort(nss)
			shown := nss
			if len(shown) > 5 {
				shown = shown[:5]
			}
			problems = append(problems, fmt.Sprintf("Secret %s is missing in %d tenant namespace(s) (%s): their pods cannot pull the app's image",
				name, len(nss), strings.Join(shown, ", ")))
		}
		c.Result, c.Message = ResultError, strings.Join(problems, "; ")
		return c
	}
	c.Message = fmt.Sprintf("every tenant namespace holds the pull secrets its plan names (%d checked)", checked)
	return c
}

func checkNetworkPolicy(in Installation) Check {
	c := Check{Name: "NetworkPolicy enforcement"}
	if in.DaemonSetErr != nil {
		return Check{Name: c.Name, Result: ResultWarning, Message: "cannot tell: DaemonSets in kube-system are not readable (" + in.DaemonSetErr.Error() + ")"}
	}
	var found []string
	for _, name := range in.KubeSystemDaemonSets {
		if p, ok := networkPlugins[name]; ok && !slices.Contains(found, p) {
			found = append(found, p)
		}
	}
	if len(found) > 0 {
		slices.Sort(found)
		c.Result, c.Message = ResultOK, "enforced by "+strings.Join(found, ", ")+" (found in kube-system)"
		return c
	}
	c.Result = ResultWarning
	c.Message = "no known NetworkPolicy-enforcing network plugin found in kube-system, so tenant isolation may be accepted and not enforced. " +
		"On CCE, NetworkPolicy is enforced on container-tunnel-network clusters, and on VPC-network and CCE Turbo clusters only when created with DataPlane V2; " +
		"check the cluster's network model in the CCE console"
	return c
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	return keys
}
