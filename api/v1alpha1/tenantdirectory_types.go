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
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A tenant's 联营 directory is split into shards so that no object comes near etcd's 1.5 MiB
// request limit, nor its ConfigMap projection near the 1 MiB ConfigMap limit: users into
// DirectoryUserShards shards, departments into DirectoryOrgShards. Shards fill in order: an entry
// stays in the shard holding it, and a new one goes into the lowest-numbered shard with room, so
// a call writes only the few shards its keys are or land in. The shard count is fixed, so the
// app's projected volume lists a fixed set of ConfigMaps and its pod template never changes when
// a shard appears.
const (
	// DirectoryUserShards is how many user shards an instance's directory has.
	DirectoryUserShards = 32
	// DirectoryOrgShards is how many department shards an instance's directory has.
	DirectoryOrgShards = 16
	// MaxDirectoryShardEntries bounds the users or departments of one shard.
	MaxDirectoryShardEntries = 1000
	// MaxDirectoryShardRemoved bounds the remembered removals of one shard.
	MaxDirectoryShardRemoved = 256
)

// DirectoryPart says what a directory shard holds.
// +kubebuilder:validation:Enum=Users;Orgs
type DirectoryPart string

// Directory parts.
const (
	DirectoryUsers DirectoryPart = "Users"
	DirectoryOrgs  DirectoryPart = "Orgs"
)

// DirectoryShardName is the name of shard index of part of an instance's directory, e.g.
// <instance>-users-07. An instance name is a DNS label of at most 56 characters, so the name is
// one of at most 65.
func DirectoryShardName(instance string, part DirectoryPart, index int) string {
	if part == DirectoryOrgs {
		return fmt.Sprintf("%s-orgs-%02d", instance, index)
	}
	return fmt.Sprintf("%s-users-%02d", instance, index)
}

// UserRole is a 联营 user's role in the tenant's application: user or admin as documented. The
// bridge stores it without acting on it, so a value the marketplace adds later is kept as sent.
// +kubebuilder:validation:MaxLength=32
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
	// +kubebuilder:validation:MaxLength=256
	// +required
	UserName string `json:"userName"`
	// name is the display name.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Name string `json:"name,omitempty"`
	// orgCode is the user's department.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	OrgCode string `json:"orgCode,omitempty"`
	// role is user or admin as documented; another value is kept as sent.
	// +optional
	Role UserRole `json:"role,omitempty"`
	// enabled is false for a user who may not sign in.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// mobile is the user's phone number as sent (spaces, + and dashes included), for the
	// application's own use; never logged.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Mobile string `json:"mobile,omitempty"`
	// email is the user's e-mail address, for the application's own use; never logged.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Email string `json:"email,omitempty"`
	// position is the job title.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Position string `json:"position,omitempty"`
	// employeeCode is the staff number.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	EmployeeCode string `json:"employeeCode,omitempty"`
	// employeeType is the kind of employment: documented as an integer, kept as the text sent.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	EmployeeType string `json:"employeeType,omitempty"`
	// syncedAt is the marketplace time of the authSync that last set this user; an older change
	// of the same (appId, userName) is ignored.
	// +optional
	SyncedAt *metav1.MicroTime `json:"syncedAt,omitempty"`
}

// DirectoryOrg is one department (singleOrgSync, allOrgSync).
type DirectoryOrg struct {
	// orgCode identifies the department.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +required
	OrgCode string `json:"orgCode"`
	// orgName is its display name.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	OrgName string `json:"orgName,omitempty"`
	// parentCode is the parent department's orgCode; empty at the top.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	ParentCode string `json:"parentCode,omitempty"`
	// syncedAt is the marketplace time of the org sync that last set this department; an older
	// change of the same orgCode is ignored.
	// +optional
	SyncedAt *metav1.MicroTime `json:"syncedAt,omitempty"`
}

// DirectoryRemoval remembers that a user (appId and userName) or a department (orgCode) was
// removed at a marketplace time, so that an add sent before the removal but delivered after it
// does not bring it back. Removals are kept for a day, at most MaxDirectoryShardRemoved per
// shard, newest first: a change delivered later than that is assumed never to come.
type DirectoryRemoval struct {
	// appId of a removed user.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	AppID string `json:"appId,omitempty"`
	// userName of a removed user.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	UserName string `json:"userName,omitempty"`
	// orgCode of a removed department.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	OrgCode string `json:"orgCode,omitempty"`
	// removedAt is the marketplace time of the removal.
	// +required
	RemovedAt metav1.MicroTime `json:"removedAt"`
}

// TenantDirectorySpec is one shard of the tenant's users or departments as the marketplace last
// synced them.
// +kubebuilder:validation:XValidation:rule="self.part == 'Users' ? !has(self.orgs) && self.shard < 32 : !has(self.users) && self.shard < 16",message="spec.users only in a Users shard (shard < 32), spec.orgs only in an Orgs shard (shard < 16)"
type TenantDirectorySpec struct {
	// instanceName is the TenantInstance the shard belongs to. Immutable.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=56
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.instanceName is immutable"
	// +required
	InstanceName string `json:"instanceName"`

	// part is Users or Orgs. Immutable.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.part is immutable"
	// +required
	Part DirectoryPart `json:"part"`

	// shard is the shard's index within its part. Immutable.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=31
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.shard is immutable"
	// +required
	Shard int32 `json:"shard"`

	// tenantId is the 联营 enterprise the shard belongs to. The operator projects only shards of
	// the enterprise bound to the instance (spec.tenant.tenantId).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +required
	TenantID string `json:"tenantId"`

	// users authorised to the tenant's applications placed in this shard. An atomic list: the
	// bridge keeps each (appId, userName) in one shard, once, and per-item field ownership would
	// double the object's size. Should two shards hold the same user (two calls placing it at
	// once), the copy with the latest syncedAt counts, and the bridge drops the other.
	// +kubebuilder:validation:MaxItems=1000
	// +listType=atomic
	// +optional
	Users []DirectoryUser `json:"users,omitempty"`

	// orgs are the tenant's departments placed in this shard (atomic; each orgCode in one shard,
	// as for users).
	// +kubebuilder:validation:MaxItems=1000
	// +listType=atomic
	// +optional
	Orgs []DirectoryOrg `json:"orgs,omitempty"`

	// userCount is the number of users, kept by the bridge for kubectl.
	// +kubebuilder:validation:Minimum=0
	// +optional
	UserCount int32 `json:"userCount,omitempty"`

	// orgCount is the number of departments, kept by the bridge for kubectl.
	// +kubebuilder:validation:Minimum=0
	// +optional
	OrgCount int32 `json:"orgCount,omitempty"`

	// removed remembers recent removals (see DirectoryRemoval): each in the shard that held the
	// entry, or the lowest shard with room when none did. A removal counts against every copy
	// of its key in any shard synced at or before it.
	// +kubebuilder:validation:MaxItems=256
	// +listType=atomic
	// +optional
	Removed []DirectoryRemoval `json:"removed,omitempty"`

	// orgListAt is the marketplace time of the last full department list (allOrgSync) applied,
	// recorded in department shard 0: a department absent from every shard is not added by a
	// change sent before the latest orgListAt of any shard.
	// +optional
	OrgListAt *metav1.MicroTime `json:"orgListAt,omitempty"`
}

// TenantDirectory is one shard of the 联营 users or departments of a TenantInstance, named
// <instance>-users-NN or <instance>-orgs-NN and owned by the instance, so it goes with it. The
// webhook bridge writes it from kit syncs; the operator projects each shard of the bound tenant
// into its own ConfigMap in the tenant namespace, which the app mounts.
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=td,categories={tenantry}
// +kubebuilder:printcolumn:name="Instance",type=string,JSONPath=`.spec.instanceName`
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.spec.tenantId`
// +kubebuilder:printcolumn:name="Part",type=string,JSONPath=`.spec.part`
// +kubebuilder:printcolumn:name="Users",type=integer,JSONPath=`.spec.userCount`
// +kubebuilder:printcolumn:name="Orgs",type=integer,JSONPath=`.spec.orgCount`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:selectablefield:JSONPath=`.spec.instanceName`
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
