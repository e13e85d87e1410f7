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

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// AppSpec is the tenant application's container.
type AppSpec struct {
	// image is the container image, ideally pinned by digest.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +required
	Image string `json:"image"`

	// port is the container port the app serves HTTP on.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +kubebuilder:default=8080
	// +optional
	Port int32 `json:"port,omitempty"`

	// command overrides the image's entrypoint.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Command []string `json:"command,omitempty"`

	// args overrides the image's arguments.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Args []string `json:"args,omitempty"`

	// env is added to the container; the operator also sets TENANTRY_INSTANCE, TENANTRY_SKU,
	// TENANTRY_QUANTITY, TENANTRY_URL and the TENANTRY_*_DIR variables naming the mounted admin
	// account, tenant-info and 联营 directory files.
	// +kubebuilder:validation:MaxItems=64
	// +listType=map
	// +listMapKey=name
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`

	// resources of the app container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// imagePullSecrets name the Secrets in each tenant namespace that the app's image is pulled
	// with. The operator names them and never copies one: on CCE, name default-secret, the SWR
	// pull secret CCE puts in every namespace and rotates.
	// +kubebuilder:validation:MaxItems=8
	// +listType=map
	// +listMapKey=name
	// +optional
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`

	// readinessPath is the HTTP path the kubelet probes for readiness; empty disables the probe.
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^/`
	// +optional
	ReadinessPath string `json:"readinessPath,omitempty"`

	// adminPath is appended to the tenant URL to form status.adminUrl.
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^/`
	// +kubebuilder:default=/admin
	// +optional
	AdminPath string `json:"adminPath,omitempty"`
}

// LimitRangeSpec sets container defaults and bounds in the tenant namespace.
type LimitRangeSpec struct {
	// default limits for containers that set none.
	// +optional
	Default corev1.ResourceList `json:"default,omitempty"`
	// defaultRequest for containers that set none.
	// +optional
	DefaultRequest corev1.ResourceList `json:"defaultRequest,omitempty"`
	// max per container.
	// +optional
	Max corev1.ResourceList `json:"max,omitempty"`
}

// DomainSettings says how tenants of the plan are exposed.
type DomainSettings struct {
	// baseDomain: a Shared tenant is served at <instance>.<baseDomain>. Required for Shared tenants.
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`
	// +optional
	BaseDomain string `json:"baseDomain,omitempty"`

	// ingressClassName of the tenant Ingresses.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	IngressClassName string `json:"ingressClassName,omitempty"`

	// annotations added to every tenant Ingress (for example ELB or nginx settings).
	// +kubebuilder:validation:MaxProperties=32
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`

	// sharedTLSSecret is the wildcard certificate for <*.baseDomain>. The operator copies it into
	// each Shared tenant's namespace and keeps the copy current; the source must carry the label
	// tenantry.io/secret-role=shared-tls-source.
	// +optional
	SharedTLSSecret *SecretReference `json:"sharedTLSSecret,omitempty"`

	// loadBalancerPool names the LoadBalancerPool whose ELB listeners the plan's tenants are put
	// on, one listener per tenant, never more than a listener holds (CCE's ELB Ingress). Empty
	// leaves listener choice to the ingress class and the annotations above.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	LoadBalancerPool string `json:"loadBalancerPool,omitempty"`

	// clusterIssuer is the cert-manager ClusterIssuer that issues each Dedicated tenant's certificate.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ClusterIssuer string `json:"clusterIssuer,omitempty"`

	// ingressControllerNamespace is the only namespace, besides the tenant's own, whose pods may reach
	// the tenant's pods.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:default=ingress-nginx
	// +optional
	IngressControllerNamespace string `json:"ingressControllerNamespace,omitempty"`
}

// PerUnitScaling says how a tenant grows with the quantity it bought (the order's linearValue).
type PerUnitScaling struct {
	// quota is added to spec.quota for every unit beyond the first: a tenant of quantity q gets
	// spec.quota + (q-1) × quota.
	// +optional
	Quota corev1.ResourceList `json:"quota,omitempty"`

	// unitsPerReplica gives the app one replica per this many units (rounded up), never fewer
	// than spec.replicas. Zero leaves replicas alone.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000000
	// +optional
	UnitsPerReplica int32 `json:"unitsPerReplica,omitempty"`

	// maxReplicas caps the replicas unitsPerReplica asks for.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +kubebuilder:default=10
	// +optional
	MaxReplicas int32 `json:"maxReplicas,omitempty"`
}

// ExpiryPolicy says what happens when a paid period ends.
type ExpiryPolicy struct {
	// gracePeriod after spec.expiresAt before the operator acts on its own.
	// +kubebuilder:default="72h"
	// +optional
	GracePeriod *metav1.Duration `json:"gracePeriod,omitempty"`

	// freezeAfterGrace makes the operator freeze a tenant whose expiry plus grace has passed, even if
	// the marketplace never sends a freeze. Off by default: the marketplace normally does it.
	// +optional
	FreezeAfterGrace bool `json:"freezeAfterGrace,omitempty"`
}

// EgressPolicy says whether a tenant's pods may open connections its plan does not declare.
// +kubebuilder:validation:Enum=Restricted;Unrestricted
type EgressPolicy string

const (
	// EgressRestricted lets a tenant's pods connect only to pods of their own namespace, the
	// cluster DNS and what the plan's spec.network.egress lists.
	EgressRestricted EgressPolicy = "Restricted"
	// EgressUnrestricted lets a tenant's pods connect anywhere: the tenant's NetworkPolicy then
	// restricts ingress only.
	EgressUnrestricted EgressPolicy = "Unrestricted"
)

// NetworkSettings says where the tenant's pods may connect, and from where outside the cluster
// they may be reached. Inside the cluster only pods of the tenant namespace and of
// spec.domain.ingressControllerNamespace may connect to them.
// +kubebuilder:validation:XValidation:rule="!has(self.egressPolicy) || self.egressPolicy != 'Unrestricted' || !has(self.egress) || size(self.egress) == 0",message="spec.network.egress must be empty when spec.network.egressPolicy is Unrestricted"
type NetworkSettings struct {
	// egressPolicy is Restricted (the default: the tenant's pods reach only pods of their own
	// namespace, the cluster DNS — UDP and TCP port 53 of the kube-system pods labelled
	// k8s-app=kube-dns or k8s-app=coredns — and what egress lists) or Unrestricted (no limit on
	// where they connect, as before the operator restricted egress).
	// +kubebuilder:default=Restricted
	// +optional
	EgressPolicy EgressPolicy `json:"egressPolicy,omitempty"`

	// egress are the connections the tenant's pods may open besides their namespace and DNS:
	// NetworkPolicy egress rules, copied into the tenant's NetworkPolicy after the DNS rule. A
	// cluster whose DNS is served elsewhere (NodeLocal DNSCache, another namespace or label) lists
	// its resolver here.
	// +kubebuilder:validation:MaxItems=32
	// +listType=atomic
	// +optional
	Egress []EgressRule `json:"egress,omitempty"`

	// ingressCIDRs are addresses outside the cluster that may connect to the tenant's pods: a
	// load balancer that reaches pods directly, as CCE's ELB Ingress does (the ELB's backend
	// subnet, or the VPC's CIDR), is listed here, or its traffic is refused wherever
	// NetworkPolicy is enforced.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:XValidation:rule="self.all(c, c.matches('^(((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])[.]){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/([0-9]|[12][0-9]|3[0-2])|[0-9a-fA-F:]*:[0-9a-fA-F:]*/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))$'))",message="spec.network.ingressCIDRs must be CIDRs such as 192.168.0.0/16"
	// +listType=set
	// +optional
	IngressCIDRs []string `json:"ingressCIDRs,omitempty"`
}

// EgressRule is a NetworkPolicy egress rule, with the fields of networking.k8s.io/v1
// NetworkPolicyEgressRule and bounds on every list and string, so that the API server checks it
// when the plan is written rather than when a tenant's NetworkPolicy is applied. A connection is
// allowed when it goes to one of the peers in to on one of ports. Label selectors, and that each
// except lies within its cidr, are checked only when a tenant's policy is applied.
// +kubebuilder:validation:XValidation:rule="(has(self.ports) && size(self.ports) > 0) || (has(self.to) && size(self.to) > 0)",message="spec.network.egress[] must name ports or destinations (to); spec.network.egressPolicy Unrestricted allows every connection"
type EgressRule struct {
	// ports the connection may go to; empty is every port.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	Ports []EgressPort `json:"ports,omitempty"`

	// to are the peers the connection may go to; empty is every destination.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	To []EgressPeer `json:"to,omitempty"`
}

// EgressPort is a port, or a range of ports, a connection may go to (networking.k8s.io/v1
// NetworkPolicyPort).
// +kubebuilder:validation:XValidation:rule="!has(self.endPort) || (has(self.port) && type(self.port) == int && self.endPort >= self.port)",message="spec.network.egress[].ports[].endPort needs a numeric port and must not be below it"
type EgressPort struct {
	// protocol of the connection.
	// +kubebuilder:validation:Enum=TCP;UDP;SCTP
	// +kubebuilder:default=TCP
	// +optional
	Protocol corev1.Protocol `json:"protocol,omitempty"`

	// port is a number, or a port name the destination pods declare; absent is every port.
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 1 && self <= 65535 : self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && self.matches('[a-z]')",message="spec.network.egress[].ports[].port must be a number from 1 to 65535 or a port name"
	// +optional
	Port *intstr.IntOrString `json:"port,omitempty"`

	// endPort makes the rule cover the ports from port to endPort.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	EndPort *int32 `json:"endPort,omitempty"`
}

// EgressPeer is where a connection may go (networking.k8s.io/v1 NetworkPolicyPeer): addresses
// outside the cluster (ipBlock), or pods chosen by namespace and pod labels.
// +kubebuilder:validation:XValidation:rule="has(self.ipBlock) != (has(self.podSelector) || has(self.namespaceSelector))",message="spec.network.egress[].to[] must set either ipBlock or podSelector/namespaceSelector"
type EgressPeer struct {
	// ipBlock is a range of addresses, usually outside the cluster.
	// +optional
	IPBlock *IPBlock `json:"ipBlock,omitempty"`

	// namespaceSelector selects the namespaces whose pods may be reached; {} is every namespace.
	// With podSelector, only the pods it selects in those namespaces.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`

	// podSelector selects the pods that may be reached, in the tenant's own namespace unless
	// namespaceSelector is set.
	// +optional
	PodSelector *metav1.LabelSelector `json:"podSelector,omitempty"`
}

// IPBlock is a CIDR, less the CIDRs in except (networking.k8s.io/v1 IPBlock).
type IPBlock struct {
	// cidr such as 10.0.0.0/8 or fd00::/8.
	// +kubebuilder:validation:MaxLength=49
	// +kubebuilder:validation:XValidation:rule="self.matches('^(((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])[.]){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/([0-9]|[12][0-9]|3[0-2])|[0-9a-fA-F:]*:[0-9a-fA-F:]*/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))$')",message="spec.network.egress[].to[].ipBlock.cidr must be a CIDR such as 10.0.0.0/8 or fd00::/8"
	// +required
	CIDR string `json:"cidr"`

	// except are CIDRs within cidr that may not be reached.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=49
	// +kubebuilder:validation:XValidation:rule="self.all(c, c.matches('^(((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])[.]){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/([0-9]|[12][0-9]|3[0-2])|[0-9a-fA-F:]*:[0-9a-fA-F:]*/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))$'))",message="spec.network.egress[].to[].ipBlock.except must be CIDRs such as 10.0.0.0/24"
	// +listType=atomic
	// +optional
	Except []string `json:"except,omitempty"`
}

// TenantPlanSpec says what the SKUs it lists run.
// +kubebuilder:validation:XValidation:rule="!has(self.domain) || !has(self.domain.sharedTLSSecret) || (has(self.domain.baseDomain) && size(self.domain.baseDomain) > 0)",message="spec.domain.sharedTLSSecret needs spec.domain.baseDomain"
type TenantPlanSpec struct {
	// skus are the marketplace SKU codes this plan serves. A SKU must be served by one plan only.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=64
	// +listType=set
	// +required
	SKUs []string `json:"skus"`

	// displayName is shown to people.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	DisplayName string `json:"displayName,omitempty"`

	// app is the tenant application.
	// +required
	App AppSpec `json:"app"`

	// replicas of the app while the tenant is Active.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +kubebuilder:default=1
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// quota is the ResourceQuota hard limits of each tenant namespace, for a quantity of one.
	// +optional
	Quota corev1.ResourceList `json:"quota,omitempty"`

	// perUnit scales the tenant's quota and replicas with spec.quantity of its TenantInstance.
	// +optional
	PerUnit *PerUnitScaling `json:"perUnit,omitempty"`

	// limitRange sets container defaults and bounds in each tenant namespace.
	// +optional
	LimitRange *LimitRangeSpec `json:"limitRange,omitempty"`

	// domain settings.
	// +optional
	Domain DomainSettings `json:"domain,omitempty"`

	// expiry policy.
	// +optional
	Expiry ExpiryPolicy `json:"expiry,omitempty"`

	// network says where the tenant's pods may connect. Absent, they reach only pods of their own
	// namespace and the cluster DNS (spec.network.egressPolicy Restricted).
	// +optional
	Network NetworkSettings `json:"network,omitempty"`

	// recordCustomerName keeps the buyer's display name (Order Query's customerName, or V1's) in
	// spec.customer.customerName of the plan's instances, for an app or a report that needs it. Off
	// by default: the name is personal data the operator itself never uses.
	// +optional
	RecordCustomerName bool `json:"recordCustomerName,omitempty"`

	// retentionPeriod keeps a released tenant, frozen, for this long before its namespace is
	// deleted, so data can still be recovered. Zero deletes at once.
	// +optional
	RetentionPeriod *metav1.Duration `json:"retentionPeriod,omitempty"`

	// rollout says how a change of spec.app reaches the plan's tenants: a canary, a bake time,
	// then waves, halting (and by default rolling back) when tenants fail to become Ready. Absent,
	// the documented cautious default applies (RolloutStrategy.WithDefaults). Other fields of the plan apply to
	// every tenant at once.
	// +optional
	Rollout *RolloutStrategy `json:"rollout,omitempty"`

	// metering says how the usage of the plan's pay-per-use instances (chargingMode ON_DEMAND or
	// ON_DEMAND_PKG) is measured and reported to the marketplace, one record per instance and
	// period (docs/metering.md). Absent, such instances are provisioned but report nothing, and
	// the marketplace cannot bill them.
	// +optional
	Metering *Metering `json:"metering,omitempty"`
}

// MeteringSource is what a plan's meter measures.
// +kubebuilder:validation:Enum=ActiveHours;ReadyReplicaHours;DirectoryUsers;Prometheus
type MeteringSource string

// Metering sources.
const (
	// MeteringActiveHours is the hours the tenant was Active (spec.lifecycle); frozen time is
	// not billed.
	MeteringActiveHours MeteringSource = "ActiveHours"
	// MeteringReadyReplicaHours is the replica-hours of the app while its replicas were ready.
	MeteringReadyReplicaHours MeteringSource = "ReadyReplicaHours"
	// MeteringDirectoryUsers is the number of enabled 联营 users of the instance, sampled at the
	// end of each period.
	MeteringDirectoryUsers MeteringSource = "DirectoryUsers"
	// MeteringPrometheus is the value of a PromQL query evaluated at the end of each period.
	MeteringPrometheus MeteringSource = "Prometheus"
)

// MeteringRounding is how a period's usage is rounded to spec.metering.decimals.
// +kubebuilder:validation:Enum=Up;Nearest;Down
type MeteringRounding string

// Rounding modes.
const (
	RoundUp      MeteringRounding = "Up"
	RoundNearest MeteringRounding = "Nearest"
	RoundDown    MeteringRounding = "Down"
)

// Metering is a plan's meter: what is measured, over which period, in which unit.
// +kubebuilder:validation:XValidation:rule="self.source == 'Prometheus' ? (has(self.query) && size(self.query) > 0) : !has(self.query)",message="spec.metering.query is required when the source is Prometheus and forbidden otherwise"
type Metering struct {
	// source is what is measured: ActiveHours, ReadyReplicaHours, DirectoryUsers or Prometheus.
	// +required
	Source MeteringSource `json:"source"`

	// period is how much time one usage record covers; periods are aligned to multiples of it
	// from the Unix epoch (whole hours for 1h). Between 1m and 24h.
	// +kubebuilder:default="1h"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('24h')",message="spec.metering.period must be between 1m and 24h"
	// +optional
	Period *metav1.Duration `json:"period,omitempty"`

	// unitScale multiplies the measured quantity (hours, replica-hours, users, the query's
	// value) into the product's billing unit. A decimal, default 1.
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[0-9]{1,12}(\.[0-9]{1,12})?$`
	// +optional
	UnitScale string `json:"unitScale,omitempty"`

	// decimals is how many decimals a period's usage keeps (the marketplace takes at most 4).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4
	// +kubebuilder:default=4
	// +optional
	Decimals *int32 `json:"decimals,omitempty"`

	// rounding to decimals: Up (default: no usage is ever rounded away), Nearest or Down. A
	// period whose rounded usage is zero is not reported (the marketplace refuses zero).
	// +kubebuilder:default=Up
	// +optional
	Rounding MeteringRounding `json:"rounding,omitempty"`

	// query is the PromQL expression of the Prometheus source, a Go template: {{.InstanceID}},
	// {{.Namespace}} and {{.Period}} (the period as a PromQL duration, e.g. 3600s) are
	// replaced. It is evaluated at the end of each period against the operator's
	// --metering-prometheus-url, and the sum of the result's samples is the period's quantity.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	Query string `json:"query,omitempty"`
}

// TenantPlan says what marketplace SKUs mean: the app, its size, quota, and how it is exposed.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=tp,categories={tenantry}
// +kubebuilder:printcolumn:name="SKUs",type=string,JSONPath=`.spec.skus`
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.spec.app.image`
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.spec.replicas`,priority=1
// +kubebuilder:printcolumn:name="CPU",type=string,JSONPath=`.spec.app.resources.limits.cpu`,priority=1
// +kubebuilder:printcolumn:name="Memory",type=string,JSONPath=`.spec.app.resources.limits.memory`,priority=1
// +kubebuilder:printcolumn:name="Base Domain",type=string,JSONPath=`.spec.domain.baseDomain`,priority=1
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.updateRevision`
// +kubebuilder:printcolumn:name="Rollout",type=string,JSONPath=`.status.rollout.phase`
// +kubebuilder:printcolumn:name="Tenants",type=integer,JSONPath=`.status.rollout.tenants`
// +kubebuilder:printcolumn:name="Updated",type=integer,JSONPath=`.status.rollout.updated`
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.rollout.ready`
// +kubebuilder:printcolumn:name="Failed",type=integer,JSONPath=`.status.rollout.failed`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:subresource:status
type TenantPlan struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec of the plan.
	// +required
	Spec TenantPlanSpec `json:"spec"`

	// status of the plan's rollout, written by the operator.
	// +optional
	Status TenantPlanStatus `json:"status,omitempty"`
}

// TenantPlanList is a list of TenantPlan.
// +kubebuilder:object:root=true
type TenantPlanList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TenantPlan `json:"items"`
}

// QuotaFor is the ResourceQuota hard limits of a tenant of the given quantity: spec.quota plus
// spec.perUnit.quota for every unit beyond the first. The operator applies it and the bridge
// judges a change of SKU or quantity against it, so both read the plan the same way.
func (s *TenantPlanSpec) QuotaFor(quantity int32) corev1.ResourceList {
	hard := corev1.ResourceList{}
	for k, v := range s.Quota {
		hard[k] = v.DeepCopy()
	}
	if s.PerUnit == nil || quantity <= 1 {
		return hard
	}
	for k, per := range s.PerUnit.Quota {
		extra := per.DeepCopy()
		extra.Mul(int64(quantity - 1))
		total := hard[k]
		total.Add(extra)
		hard[k] = total
	}
	return hard
}

// ReplicasFor is how many app replicas an Active tenant of the given quantity runs: spec.replicas
// (default 1), or one per spec.perUnit.unitsPerReplica units, rounded up and capped at
// spec.perUnit.maxReplicas (default 10), whichever is more.
func (s *TenantPlanSpec) ReplicasFor(quantity int32) int32 {
	replicas := int32(1)
	if s.Replicas != nil {
		replicas = *s.Replicas
	}
	if s.PerUnit == nil || s.PerUnit.UnitsPerReplica <= 0 || quantity <= 0 {
		return replicas
	}
	maxReplicas := s.PerUnit.MaxReplicas
	if maxReplicas <= 0 {
		maxReplicas = 10
	}
	want := int32((int64(quantity) + int64(s.PerUnit.UnitsPerReplica) - 1) / int64(s.PerUnit.UnitsPerReplica))
	want = min(want, maxReplicas)
	return max(replicas, want)
}
