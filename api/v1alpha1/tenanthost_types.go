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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ReasonHostConflict is the Stalled reason of a tenant whose host a TenantHost of another
// instance holds: the operator does not serve it until the claim is released.
const ReasonHostConflict = "HostConflict"

// TenantHostSpec says which instance holds the host the object is named after.
type TenantHostSpec struct {
	// instanceName is the TenantInstance holding the host. Immutable: a host changes hands by
	// deleting its TenantHost and creating a new one, never by rewriting the holder.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=56
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.instanceName is immutable"
	// +required
	InstanceName string `json:"instanceName"`
}

// TenantHost reserves one DNS name for one TenantInstance. It is named by the host itself, so
// that its creation is the reservation: the API server admits one object per name, and a second
// claim of the same host fails with AlreadyExists whichever bridge replica makes it. The webhook
// bridge creates it when it accepts a purchase, before the instance, then makes the instance its
// owner so that the release of the instance frees the host; the operator does not serve a host
// that a TenantHost of another instance holds (Stalled, reason HostConflict).
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=th,categories={tenantry}
// +kubebuilder:printcolumn:name="Instance",type=string,JSONPath=`.spec.instanceName`
// +kubebuilder:printcolumn:name="Owner",type=string,JSONPath=`.metadata.ownerReferences[0].name`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:selectablefield:JSONPath=`.spec.instanceName`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 253 && self.metadata.name.matches('^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?[.])+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$')",message="metadata.name must be the host: a lowercase DNS name of at least two labels, as spec.domain.host of a TenantInstance"
type TenantHost struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec names the holder; written by the webhook bridge.
	// +required
	Spec TenantHostSpec `json:"spec"`
}

// TenantHostList is a list of TenantHost.
// +kubebuilder:object:root=true
type TenantHostList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TenantHost `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, &TenantHost{}, &TenantHostList{})
		return nil
	})
}
