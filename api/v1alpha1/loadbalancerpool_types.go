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
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ELBClass is the kind of Huawei Cloud ELB a listener belongs to, as CCE's
// kubernetes.io/elb.class annotation names it.
// +kubebuilder:validation:Enum=union;performance
type ELBClass string

// ELB classes.
const (
	// ELBShared is a shared load balancer ("union").
	ELBShared ELBClass = "union"
	// ELBDedicated is a dedicated load balancer ("performance").
	ELBDedicated ELBClass = "performance"
)

// ListenerProtocol is what a listener speaks to clients.
// +kubebuilder:validation:Enum=HTTP;HTTPS
type ListenerProtocol string

// Listener protocols.
const (
	ProtocolHTTP  ListenerProtocol = "HTTP"
	ProtocolHTTPS ListenerProtocol = "HTTPS"
)

// Default capacities, from the default ELB quotas: 100 forwarding policies per listener, 50
// backend server groups per dedicated-ELB listener (each tenant Ingress adds one of each), and
// 30 SNI certificates per HTTPS listener (each Dedicated tenant adds one).
const (
	DefaultSharedListenerTenants    = 100
	DefaultDedicatedListenerTenants = 50
	DefaultListenerCertificates     = 30
)

// Listener is one ELB listener tenants' Ingresses may be put on.
type Listener struct {
	// elbId is the load balancer's id (kubernetes.io/elb.id).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +required
	ELBID string `json:"elbId"`

	// port is the listener's port (kubernetes.io/elb.port).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +required
	Port int32 `json:"port"`

	// class is the load balancer's class (kubernetes.io/elb.class).
	// +kubebuilder:default=performance
	// +optional
	Class ELBClass `json:"class,omitempty"`

	// protocol of the listener. On HTTPS each Dedicated tenant's certificate takes one of the
	// listener's SNI certificates.
	// +kubebuilder:default=HTTPS
	// +optional
	Protocol ListenerProtocol `json:"protocol,omitempty"`

	// tenants is how many tenants the listener holds. Defaults to the quota: 100 forwarding
	// policies per listener (union), 50 backend server groups per dedicated listener
	// (performance). Raise it only after the quota itself was raised.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +optional
	Tenants *int32 `json:"tenants,omitempty"`

	// certificates is how many Dedicated tenants' certificates an HTTPS listener holds (SNI
	// certificates per listener, 30 by default). Ignored for HTTP listeners.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +optional
	Certificates *int32 `json:"certificates,omitempty"`
}

// Key names the listener within its pool: <elbId>-<port>.
func (l Listener) Key() string { return l.ELBID + "-" + strconv.Itoa(int(l.Port)) }

// TenantCapacity is how many tenants the listener holds.
func (l Listener) TenantCapacity() int32 {
	switch {
	case l.Tenants != nil:
		return *l.Tenants
	case l.Class == ELBShared:
		return DefaultSharedListenerTenants
	default:
		return DefaultDedicatedListenerTenants
	}
}

// CertificateCapacity is how many Dedicated tenants' certificates the listener holds; 0 for
// HTTP listeners, which hold none.
func (l Listener) CertificateCapacity() int32 {
	switch {
	case l.Protocol == ProtocolHTTP:
		return 0
	case l.Certificates != nil:
		return *l.Certificates
	default:
		return DefaultListenerCertificates
	}
}

// LoadBalancerPoolSpec lists the listeners a plan's tenants are spread over.
type LoadBalancerPoolSpec struct {
	// listeners tenants may be put on, filled in order: a new tenant goes to the first one
	// with room. Removing a listener moves its tenants to others; nothing else moves a tenant.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=500
	// +listType=map
	// +listMapKey=elbId
	// +listMapKey=port
	// +required
	Listeners []Listener `json:"listeners"`
}

// ListenerUsage is what a listener holds.
type ListenerUsage struct {
	// elbId of the listener.
	// +required
	ELBID string `json:"elbId"`
	// port of the listener.
	// +required
	Port int32 `json:"port"`
	// tenants on the listener, and its capacity.
	// +required
	Tenants int32 `json:"tenants"`
	// tenantCapacity of the listener.
	// +required
	TenantCapacity int32 `json:"tenantCapacity"`
	// certificates of Dedicated tenants on the listener, and its capacity.
	// +optional
	Certificates int32 `json:"certificates,omitempty"`
	// certificateCapacity of the listener.
	// +optional
	CertificateCapacity int32 `json:"certificateCapacity,omitempty"`
}

// LoadBalancerPoolStatus is the pool's usage as the operator last counted it.
type LoadBalancerPoolStatus struct {
	// listeners: usage per listener, in spec order.
	// +listType=map
	// +listMapKey=elbId
	// +listMapKey=port
	// +kubebuilder:validation:MaxItems=500
	// +optional
	Listeners []ListenerUsage `json:"listeners,omitempty"`

	// tenants on all listeners.
	// +optional
	Tenants int32 `json:"tenants,omitempty"`

	// tenantCapacity of all listeners.
	// +optional
	TenantCapacity int32 `json:"tenantCapacity,omitempty"`
}

// LoadBalancerPool is a set of Huawei Cloud ELB listeners that a TenantPlan's tenants share
// (spec.domain.loadBalancerPool). The operator puts each tenant on a listener with room, sets
// the CCE annotations (kubernetes.io/elb.id, elb.port, elb.class) on its Ingress, and never puts
// more tenants, or Dedicated tenants' certificates, on a listener than it holds: a tenant for
// which every listener is full is Stalled (NoLoadBalancerCapacity) until a listener is added.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=lbp,categories={tenantry}
// +kubebuilder:printcolumn:name="Listeners",type=integer,JSONPath=`.status.listeners[*].port`,priority=1
// +kubebuilder:printcolumn:name="Tenants",type=integer,JSONPath=`.status.tenants`
// +kubebuilder:printcolumn:name="Capacity",type=integer,JSONPath=`.status.tenantCapacity`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type LoadBalancerPool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec lists the listeners.
	// +required
	Spec LoadBalancerPoolSpec `json:"spec"`

	// status counts what they hold.
	// +optional
	Status LoadBalancerPoolStatus `json:"status,omitempty"`
}

// LoadBalancerPoolList is a list of LoadBalancerPool.
// +kubebuilder:object:root=true
type LoadBalancerPoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LoadBalancerPool `json:"items"`
}

// ListenerSlotKind is what a ListenerSlot reserves on its listener.
// +kubebuilder:validation:Enum=Tenant;Certificate
type ListenerSlotKind string

// Slot kinds.
const (
	// SlotTenant is one tenant's place on a listener (its forwarding policy and backend group).
	SlotTenant ListenerSlotKind = "Tenant"
	// SlotCertificate is one Dedicated tenant's SNI certificate on an HTTPS listener.
	SlotCertificate ListenerSlotKind = "Certificate"
)

// ReasonNoLoadBalancerCapacity is the Stalled reason of a tenant for which every listener of its
// plan's LoadBalancerPool is full.
const ReasonNoLoadBalancerCapacity = "NoLoadBalancerCapacity"

// LabelListener names the listener (<elbId>-<port>) a ListenerSlot is on; LabelPool its pool.
const (
	LabelListener = "tenantry.io/listener"
	LabelPool     = "tenantry.io/pool"
)

// ListenerSlotSpec says which instance holds the slot.
type ListenerSlotSpec struct {
	// pool the listener belongs to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.pool is immutable"
	// +required
	Pool string `json:"pool"`

	// elbId of the listener.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.elbId is immutable"
	// +required
	ELBID string `json:"elbId"`

	// port of the listener.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.port is immutable"
	// +required
	Port int32 `json:"port"`

	// kind of slot.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.kind is immutable"
	// +required
	Kind ListenerSlotKind `json:"kind"`

	// instanceName is the TenantInstance holding the slot.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=56
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.instanceName is immutable"
	// +required
	InstanceName string `json:"instanceName"`
}

// ListenerSlot reserves one place on an ELB listener for one TenantInstance. It is named
// <pool>.<elbId>-<port>.<kind>-<n> with n below the listener's capacity, so that its creation is
// the reservation: the API server admits one object per name, and no more slots than the
// capacity can exist, whichever operator worker or replica creates them. It is owned by the
// instance, so the release of the instance frees it.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=lbslot,categories={tenantry}
// +kubebuilder:printcolumn:name="Instance",type=string,JSONPath=`.spec.instanceName`
// +kubebuilder:printcolumn:name="ELB",type=string,JSONPath=`.spec.elbId`
// +kubebuilder:printcolumn:name="Port",type=integer,JSONPath=`.spec.port`
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.kind`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ListenerSlot struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec names the listener and the holder.
	// +required
	Spec ListenerSlotSpec `json:"spec"`
}

// ListenerSlotList is a list of ListenerSlot.
// +kubebuilder:object:root=true
type ListenerSlotList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ListenerSlot `json:"items"`
}

// ListenerSlotName is the name of slot n of a kind on a pool's listener.
func ListenerSlotName(pool string, l Listener, kind ListenerSlotKind, n int32) string {
	k := "tenant"
	if kind == SlotCertificate {
		k = "cert"
	}
	return pool + "." + l.Key() + "." + k + "-" + strconv.Itoa(int(n))
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, &LoadBalancerPool{}, &LoadBalancerPoolList{}, &ListenerSlot{}, &ListenerSlotList{})
		return nil
	})
}
