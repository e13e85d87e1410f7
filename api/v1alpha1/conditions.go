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

// Condition types of a TenantInstance. Ready summarises; Reconciling and Stalled follow kstatus so
// that tools such as kubectl wait, Flux and Argo CD understand progress without knowing this API.
const (
	// ConditionReady is True when the tenant serves its plan: the app is available while Active,
	// or scaled to zero on purpose while Frozen.
	ConditionReady = "Ready"
	// ConditionReconciling is True while the operator is still moving the tenant towards its spec.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when progress needs someone to change something (a plan, a spec).
	ConditionStalled = "Stalled"
	// ConditionFrozen is True while the tenant is scaled to zero, by the marketplace or by expiry.
	ConditionFrozen = "Frozen"
	// ConditionExpired is True once spec.expiresAt has passed.
	ConditionExpired = "Expired"
)

// Condition reasons, in PascalCase as the API conventions require.
const (
	ReasonAvailable           = "Available"
	ReasonProgressing         = "Progressing"
	ReasonProvisioning        = "Provisioning"
	ReasonPlanNotFound        = "PlanNotFound"
	ReasonPlanAmbiguous       = "PlanAmbiguous"
	ReasonInvalidPlan         = "InvalidPlan"
	ReasonFrozenByMarketplace = "FrozenByMarketplace"
	ReasonFrozenByExpiry      = "FrozenByExpiry"
	ReasonActive              = "Active"
	ReasonNotExpired          = "NotExpired"
	ReasonPeriodEnded         = "PeriodEnded"
	ReasonNoExpiry            = "NoExpiry"
	ReasonReleasing           = "Releasing"
	ReasonRetained            = "Retained"
	ReasonApplyFailed         = "ApplyFailed"
	// ReasonFreezing: the tenant should be frozen and its app is not yet at zero replicas.
	ReasonFreezing = "Freezing"
	// ReasonNamespaceConflict: the tenant namespace exists and was not made by this instance;
	// the operator neither writes into it nor deletes it.
	ReasonNamespaceConflict = "NamespaceConflict"
	// ReasonRetentionUnknown: a released tenant's plan cannot be resolved, so how long it must
	// be kept is unknown; it is kept until a single plan lists its SKU again.
	ReasonRetentionUnknown = "RetentionUnknown"
	// ReasonOptionalStepFailed: an optional part of the tenant (app credentials, directory,
	// tenant info) could not be applied; the workload and its exposure were applied regardless.
	ReasonOptionalStepFailed = "OptionalStepFailed"
)

// Labels and annotations the operator puts on what it creates.
const (
	// LabelManagedBy marks every object the operator owns; the operator's cache only sees those.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of LabelManagedBy.
	ManagedByValue = "tenantry"
	// LabelInstance names the TenantInstance an object belongs to.
	LabelInstance = "tenantry.io/instance"
	// LabelSKU carries the SKU the tenant runs, for kubectl selectors and dashboards.
	LabelSKU = "tenantry.io/sku"
	// LabelSecretRole marks the Secrets the operator reads: its own, and the shared TLS Secret a
	// plan names, which must carry the value SecretRoleSharedTLS so the operator's cache can see it.
	LabelSecretRole = "tenantry.io/secret-role"
	// SecretRoleSharedTLS is the LabelSecretRole value of a shared wildcard TLS Secret.
	SecretRoleSharedTLS = "shared-tls-source"
	// SecretRoleAdmin marks the tenant's initial admin account Secret.
	SecretRoleAdmin = "admin-account"
	// SecretRoleTLS marks the copy of the shared TLS Secret in a tenant namespace.
	SecretRoleTLS = "shared-tls"
	// SecretRoleAppCredentials marks the OAuth client credentials projected from spec.tenant.apps.
	SecretRoleAppCredentials = "app-credentials"

	// Finalizer holds a TenantInstance until its namespace is gone.
	Finalizer = "tenantry.io/release"

	// AnnotationAppliedHash is set by the operator on every object it applies: a hash of what it
	// applied, so that reconciles with nothing to change send no writes. Never on pod templates,
	// so a new operator build never rolls tenants' Deployments by itself.
	AnnotationAppliedHash = "tenantry.io/applied-hash"

	// AnnotationAppliedFields is set beside AnnotationAppliedHash: a hash of the set of fields
	// that apply sets, as the API server lists them in the operator's managedFields entry. While
	// the entry still hashes to it, no field the operator applied was changed or removed since,
	// which a restarted operator reads from the object without computing the set again.
	AnnotationAppliedFields = "tenantry.io/applied-fields"

	// AnnotationInstanceUID is set on a tenant namespace the operator created: the UID of the
	// TenantInstance it belongs to. A namespace without it (or with another UID) is never written
	// into nor deleted by the operator.
	AnnotationInstanceUID = "tenantry.io/instance-uid"
)
