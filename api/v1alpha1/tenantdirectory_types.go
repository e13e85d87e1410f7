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
)

// UserRole is a 联营 user's role in the tenant's application.
// +kubebuilder:validation:Enum=user;admin
type UserRole string

// DirectoryUser is one user authorised to one of the tenant's applications (authSync).
type DirectoryUser struct {
	// appId is the application the user is authorised to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +required
	AppID string `json:"appId"`
	// userName is the login name, unique per application.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +required
	UserName string `json:"userName"`
	// name is the display name.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Name string `json:"name,omitempty"`
	// orgCode is the user's department.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	OrgCode string `json:"orgCode,omitempty"`
	// role is user or admin.
	// +optional
	Role UserRole `json:"role,omitempty"`
	// enabled is false for a user who may not sign in.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// mobile is the user's phone number, for the application's own use; never logged.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Mobile string `json:"mobile,omitempty"`
	// email is the user's e-mail address, for the application's own use; never logged.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Email string `json:"email,omitempty"`
	// position is the job title.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Position string `json:"position,omitempty"`
	// employeeCode is the staff number.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	EmployeeCode string `json:"employeeCode,omitempty"`
	// employeeType is the kind of employment.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	EmployeeType string `json:"employeeType,omitempty"`
}

// DirectoryOrg is one department (singleOrgSync, allOrgSync).
type DirectoryOrg struct {
	// orgCode identifies the department.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +required
	OrgCode string `json:"orgCode"`
	// orgName is its display name.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	OrgName string `json:"orgName,omitempty"`
	// parentCode is the parent department's orgCode; empty at the top.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	ParentCode string `json:"parentCode,omitempty"`
}

// TenantDirectorySpec is the tenant's users and departments as the marketplace last synced them.
type TenantDirectorySpec struct {
	// tenantId is the 联营 enterprise the directory belongs to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +required
	TenantID string `json:"tenantId"`

	// users authorised to the tenant's applications.
	// +kubebuilder:validation:MaxItems=2000
	// +listType=map
	// +listMapKey=appId
	// +listMapKey=userName
	// +optional
	Users []DirectoryUser `json:"users,omitempty"`

	// orgs are the tenant's departments.
	// +kubebuilder:validation:MaxItems=2000
	// +listType=map
	// +listMapKey=orgCode
	// +optional
	Orgs []DirectoryOrg `json:"orgs,omitempty"`

	// usersSyncedAt is the marketplace time of the last authSync applied.
	// +optional
	UsersSyncedAt *metav1.MicroTime `json:"usersSyncedAt,omitempty"`

	// orgsSyncedAt is the marketplace time of the last org sync applied.
	// +optional
	OrgsSyncedAt *metav1.MicroTime `json:"orgsSyncedAt,omitempty"`
}

// TenantDirectory holds the 联营 users and departments of one TenantInstance (same name). The
// operator projects it into the ConfigMap tenant-directory in the tenant namespace, which the app
// mounts; it is deleted with its instance.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=td,categories={tenantry}
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.spec.tenantId`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type TenantDirectory struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is written by the webhook bridge from kit sync calls.
	// +required
	Spec TenantDirectorySpec `json:"spec"`
}

// TenantDirectoryList is a list of TenantDirectory.
// +kubebuilder:object:root=true
type TenantDirectoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TenantDirectory `json:"items"`
}
