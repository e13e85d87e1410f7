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

package webhookbridge

// The bridge's permissions, for controller-gen. They are the least the handlers need: specs of
// instances and directories, plans to resolve SKUs, events, and — by name only — the tenant's
// admin account (queryInstance) and quota (changeInstanceCheck). Never status. TenantHosts are
// read and written by name only (hosts.go): no list, no watch.
//
// +kubebuilder:rbac:groups=tenantry.io,resources=tenantinstances;tenantdirectories,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=tenantry.io,resources=tenantplans,verbs=get;list;watch
// +kubebuilder:rbac:groups=tenantry.io,resources=tenanthosts,verbs=get;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get,resourceNames=tenant-admin
// +kubebuilder:rbac:groups="",resources=resourcequotas,verbs=get,resourceNames=tenant-quota
//
// Replay claims (docs/protocol.md §2.1, LeaseReplayStore): Leases in the bridge's own namespace
// only, never cluster-wide — other Leases (leader election, node heartbeats) are beyond its reach.
//
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;create;delete,namespace=tenantry-system
