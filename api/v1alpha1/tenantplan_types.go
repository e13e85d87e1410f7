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

	// recordCustomerName keeps the buyer's display name (Order Query's customerName, or V1's) in
	// spec.customer.customerName of the plan's instances, for an app or a report that needs it. Off
	// by default: the name is personal data the operator itself never uses.
	// +optional
	RecordCustomerName bool `json:"recordCustomerName,omitempty"`

	// retentionPeriod keeps a released tenant, frozen, for this long before its namespace is
	// deleted, so data can still be recovered. Zero deletes at once.
	// +optional
	RetentionPeriod *metav1.Duration `json:"retentionPeriod,omitempty"`
}

// TenantPlan says what marketplace SKUs mean: the app, its size, quota, and how it is exposed.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=tp,categories={tenantry}
// +kubebuilder:printcolumn:name="SKUs",type=string,JSONPath=`.spec.skus`
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.spec.app.image`
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.spec.replicas`
// +kubebuilder:printcolumn:name="CPU",type=string,JSONPath=`.spec.app.resources.limits.cpu`
// +kubebuilder:printcolumn:name="Memory",type=string,JSONPath=`.spec.app.resources.limits.memory`
// +kubebuilder:printcolumn:name="Base Domain",type=string,JSONPath=`.spec.domain.baseDomain`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type TenantPlan struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec of the plan.
	// +required
	Spec TenantPlanSpec `json:"spec"`
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
