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

// Names both binaries use for a tenant's objects: the operator creates them, the webhook bridge
// reads them (the admin account for the marketplace's queries, the quota for quantity checks). They
// live here, below both, so that the two cannot drift apart; the bridge's RBAC markers
// (webhookbridge/rbac.go) and the Helm chart's roles repeat the Secret and quota names as
// resourceNames, because markers cannot refer to Go constants.
const (
	// NamespacePrefix is put before the instance name to form the tenant namespace. Changing it
	// would orphan every existing tenant's namespace.
	NamespacePrefix = "tenant-"

	// AdminSecretName is the Secret in the tenant namespace holding the tenant's initial admin
	// account (basic-auth keys): written once by the operator, read by the bridge to answer the
	// marketplace's instance queries.
	AdminSecretName = "tenant-admin"

	// QuotaName is the tenant namespace's ResourceQuota: applied by the operator from the plan,
	// read by the bridge to refuse a quantity below what the tenant already uses.
	QuotaName = "tenant-quota"
)

// NamespaceName is the tenant namespace of the instance named instance. The TenantInstance
// validation bounds instance names so that the result is a DNS label.
func NamespaceName(instance string) string { return NamespacePrefix + instance }
