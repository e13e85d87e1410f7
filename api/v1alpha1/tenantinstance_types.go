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

// Lifecycle is whether a tenant serves (Active) or is suspended with all its data kept (Frozen).
// +kubebuilder:validation:Enum=Active;Frozen
type Lifecycle string

const (
	// LifecycleActive runs the plan's replicas.
	LifecycleActive Lifecycle = "Active"
	// LifecycleFrozen scales the app to zero and keeps everything else.
	LifecycleFrozen Lifecycle = "Frozen"
)

// DomainType selects how a tenant is reached.
// +kubebuilder:validation:Enum=Shared;Dedicated
type DomainType string

const (
	// DomainShared serves the tenant at <instance>.<plan base domain> with the plan's shared TLS Secret.
	DomainShared DomainType = "Shared"
	// DomainDedicated serves the tenant at spec.domain.host with a certificate of its own.
	DomainDedicated DomainType = "Dedicated"
)

// ChargingMode is the marketplace's billing mode of the order line.
// +kubebuilder:validation:Enum=PERIOD;ON_DEMAND;ONE_TIME;ON_DEMAND_PKG
type ChargingMode string

// Charging modes as the marketplace names them.
const (
	ChargingPeriod      ChargingMode = "PERIOD"
	ChargingOnDemand    ChargingMode = "ON_DEMAND"
	ChargingOneTime     ChargingMode = "ONE_TIME"
	ChargingOnDemandPkg ChargingMode = "ON_DEMAND_PKG"
)

// TenantDomain says where the tenant is served.
// +kubebuilder:validation:XValidation:rule="self.type == 'Dedicated' ? (has(self.host) && size(self.host) > 0) : !has(self.host)",message="spec.domain.host is required when spec.domain.type is Dedicated and forbidden when it is Shared"
type TenantDomain struct {
	// type is Shared (a host under the plan's base domain) or Dedicated (spec.domain.host).
	// +kubebuilder:default=Shared
	// +optional
	Type DomainType `json:"type,omitempty"`

	// host is the tenant's own DNS name; required when type is Dedicated, forbidden otherwise.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`
	// +optional
	Host string `json:"host,omitempty"`
}

// Order identifies the marketplace order line that created the instance.
type Order struct {
	// orderId is the marketplace order that bought the instance. Immutable.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.order.orderId is immutable"
	// +required
	OrderID string `json:"orderId"`

	// orderLineId is the order line that bought the instance. Immutable.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.order.orderLineId is immutable"
	// +required
	OrderLineID string `json:"orderLineId"`

	// chargingMode is the order line's billing mode.
	// +optional
	ChargingMode ChargingMode `json:"chargingMode,omitempty"`

	// periodType is the unit of a periodic order (for example year, month, day), as the marketplace sends it.
	// +kubebuilder:validation:MaxLength=16
	// +optional
	PeriodType string `json:"periodType,omitempty"`

	// periodNumber is how many periodType units were bought.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	PeriodNumber int32 `json:"periodNumber,omitempty"`

	// trial is true while the instance is a free trial; a TRIAL_TO_FORMAL renewal clears it.
	// +optional
	Trial bool `json:"trial,omitempty"`
}

// Customer is the buyer, as far as the operator needs to know it. Contact details (phone,
// e-mail) are personal data and deliberately have no place here.
type Customer struct {
	// customerId is the buyer's marketplace account id (V1 allows up to 100 characters). Immutable
	// once set.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.customer.customerId is immutable"
	// +required
	CustomerID string `json:"customerId"`

	// customerName is the buyer's display name.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	CustomerName string `json:"customerName,omitempty"`
}

// Tenant is the 联营 (joint operation) enterprise bound to the instance by tenantSync.
type Tenant struct {
	// tenantId is the enterprise id in the marketplace's identity centre.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +required
	TenantID string `json:"tenantId"`

	// tenantCode is the enterprise's short code.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	TenantCode string `json:"tenantCode,omitempty"`

	// name is the enterprise's display name.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Name string `json:"name,omitempty"`

	// domainName is the tenant's login domain at the identity centre.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	DomainName string `json:"domainName,omitempty"`

	// applications are the OAuth clients synced by applicationSync. The operator decrypts each
	// secret with the merchant's private key into a Secret in the tenant namespace.
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=appId
	// +optional
	Applications []TenantApplication `json:"applications,omitempty"`
}

// TenantApplication is one OAuth client of the tenant.
type TenantApplication struct {
	// appId is the application's id. It becomes part of Secret keys in the tenant namespace
	// (<appId>.clientId), so it is limited to the characters a Secret key may hold.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	// +required
	AppID string `json:"appId"`

	// clientId is the OAuth client id.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +required
	ClientID string `json:"clientId"`

	// encryptedClientSecret is the client secret exactly as the marketplace sent it: RSA-OAEP
	// encrypted with the merchant's public key, base64. It is never stored in plaintext here.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +required
	EncryptedClientSecret string `json:"encryptedClientSecret"`
}

// MarketplaceRecord remembers which marketplace call last set each aspect of the spec, so that a
// delivery sent earlier than that one is ignored and can never roll the tenant back.
type MarketplaceRecord struct {
	// lifecycleSetAt is the send time of the call that last set spec.lifecycle.
	// +optional
	LifecycleSetAt *metav1.MicroTime `json:"lifecycleSetAt,omitempty"`

	// expirySetAt is the send time of the call that last set spec.expiresAt.
	// +optional
	ExpirySetAt *metav1.MicroTime `json:"expirySetAt,omitempty"`

	// expiryOrderId is the renewal order that last set spec.expiresAt.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	ExpiryOrderID string `json:"expiryOrderId,omitempty"`

	// skuSetAt is the send time of the call that last set spec.sku.
	// +optional
	SKUSetAt *metav1.MicroTime `json:"skuSetAt,omitempty"`

	// skuOrderId is the upgrade order that last set spec.sku.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	SKUOrderID string `json:"skuOrderId,omitempty"`

	// tenantSetAt is the send time of the kit call that last set spec.tenant.
	// +optional
	TenantSetAt *metav1.MicroTime `json:"tenantSetAt,omitempty"`

	// quantitySetAt is the send time of the call that last set spec.quantity.
	// +optional
	QuantitySetAt *metav1.MicroTime `json:"quantitySetAt,omitempty"`

	// renewedAt is the send time of the last renewal that moved the paid period into the future.
	// A FREEZE sent within the resend horizon after it is presumed to be a resend of a freeze sent
	// before it, and is ignored (docs/protocol.md §6.10).
	// +optional
	RenewedAt *metav1.MicroTime `json:"renewedAt,omitempty"`

	// frozenByExpiry is true when the tenant was frozen by a V1 expireInstance. V1 has no unfreeze
	// for period products, so a later V1 renewal into the future unfreezes it.
	// +optional
	FrozenByExpiry bool `json:"frozenByExpiry,omitempty"`

	// appliedOrders are the renewal, refund, renewal-change and upgrade orders already applied,
	// newest last, at most 32. A resend of one of them changes nothing, even when newer orders
	// were applied since (docs/protocol.md §6.6).
	// +kubebuilder:validation:MaxItems=32
	// +listType=map
	// +listMapKey=orderId
	// +listMapKey=scene
	// +optional
	AppliedOrders []AppliedOrder `json:"appliedOrders,omitempty"`
}

// OrderScene is what an applied order did: a refreshInstance scene, or Upgrade.
// +kubebuilder:validation:Enum=TRIAL_TO_FORMAL;RENEWAL;UNSUBSCRIBE_RENEWAL_PERIOD;RENEWAL_CHANGE;UPGRADE
type OrderScene string

// Scenes of applied orders.
const (
	SceneTrialToFormal OrderScene = "TRIAL_TO_FORMAL"
	SceneRenewal       OrderScene = "RENEWAL"
	SceneRefund        OrderScene = "UNSUBSCRIBE_RENEWAL_PERIOD"
	SceneRenewalChange OrderScene = "RENEWAL_CHANGE"
	SceneUpgrade       OrderScene = "UPGRADE"
	MaxAppliedOrders              = 32
)

// AppliedOrder is one marketplace order an instance has applied.
type AppliedOrder struct {
	// orderId is the marketplace order.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +required
	OrderID string `json:"orderId"`

	// scene is what the order did.
	// +required
	Scene OrderScene `json:"scene"`

	// appliedAt is the send time of the call that applied it.
	// +optional
	AppliedAt *metav1.MicroTime `json:"appliedAt,omitempty"`
}

// PendingChange is a change of spec bought at renewal (RENEWAL_CHANGE) that takes effect when the
// renewed period starts. The operator moves it into the spec at effectiveAt and records an Event.
type PendingChange struct {
	// sku the tenant moves to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9][A-Za-z0-9._-]*$`
	// +required
	SKU string `json:"sku"`

	// quantity the tenant moves to.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000000
	// +kubebuilder:default=1
	// +optional
	Quantity int32 `json:"quantity,omitempty"`

	// productId the tenant moves to; empty keeps spec.productId.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	ProductID string `json:"productId,omitempty"`

	// orderId is the renewal order that bought the change.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +required
	OrderID string `json:"orderId"`

	// effectiveAt is when the change takes effect: the start of the renewed period.
	// +required
	EffectiveAt metav1.Time `json:"effectiveAt"`
}

// TenantInstanceSpec is the desired state of one purchased instance, as the marketplace last said it.
type TenantInstanceSpec struct {
	// sku is the marketplace SKU code; the TenantPlan listing it says what the tenant runs.
	// Changing it (an upgrade) applies the new plan in place.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9][A-Za-z0-9._-]*$`
	// +required
	SKU string `json:"sku"`

	// productId is the marketplace product the SKU belongs to.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	ProductID string `json:"productId,omitempty"`

	// quantity is how much of the SKU's linear attribute (users, GB, seats…) was bought: the
	// order's linearValue, 1 when the SKU has none. The app is told it; a plan may scale the
	// tenant's quota and replicas with it.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000000
	// +kubebuilder:default=1
	// +optional
	Quantity int32 `json:"quantity,omitempty"`

	// pendingChange is a change bought at renewal that takes effect at its effectiveAt.
	// +optional
	PendingChange *PendingChange `json:"pendingChange,omitempty"`

	// expiresAt is when the paid period ends; absent for one-time and pay-per-use orders.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// lifecycle is Active or Frozen. Frozen scales the app to zero and keeps all data.
	// +kubebuilder:default=Active
	// +optional
	Lifecycle Lifecycle `json:"lifecycle,omitempty"`

	// domain says where the tenant is served.
	// +kubebuilder:default={type: Shared}
	// +optional
	Domain TenantDomain `json:"domain,omitempty"`

	// order is the marketplace order line that bought the instance.
	// +required
	Order Order `json:"order"`

	// customer is the buyer.
	// +optional
	Customer *Customer `json:"customer,omitempty"`

	// tenant is the 联营 enterprise identity, set by tenantSync.
	// +optional
	Tenant *Tenant `json:"tenant,omitempty"`

	// marketplace records the send time of the calls that set this spec, for ordering.
	// +optional
	Marketplace *MarketplaceRecord `json:"marketplace,omitempty"`
}

// InstanceState is the one-word summary of what the operator observed.
// +kubebuilder:validation:Enum=Provisioning;Running;Frozen;Stalled;Releasing
type InstanceState string

// Observed states.
const (
	StateProvisioning InstanceState = "Provisioning"
	StateRunning      InstanceState = "Running"
	StateFrozen       InstanceState = "Frozen"
	StateStalled      InstanceState = "Stalled"
	StateReleasing    InstanceState = "Releasing"
)

// SecretReference points at a Secret in a known namespace.
type SecretReference struct {
	// namespace of the Secret.
	// +kubebuilder:validation:MaxLength=63
	// +required
	Namespace string `json:"namespace"`
	// name of the Secret.
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// TenantInstanceStatus is what the operator observed in its last reconcile.
type TenantInstanceStatus struct {
	// conditions: Ready summarises; Reconciling and Stalled follow kstatus; Frozen and Expired
	// describe the subscription.
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// state is a one-word summary: Provisioning, Running, Frozen, Stalled or Releasing.
	// +optional
	State InstanceState `json:"state,omitempty"`

	// plan is the TenantPlan serving spec.sku.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Plan string `json:"plan,omitempty"`

	// revision is the plan revision (a ControllerRevision named <plan>-<hash>) whose app template
	// the tenant's Deployment runs, once the Deployment as observed carries it. See
	// docs/rollouts.md.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Revision string `json:"revision,omitempty"`

	// namespace holds everything the tenant owns.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// url is what the customer opens.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	URL string `json:"url,omitempty"`

	// adminUrl is the tenant's administration entry point.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	AdminURL string `json:"adminUrl,omitempty"`

	// replicas is how many app replicas the operator asks for now.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// readyReplicas is how many app replicas are ready.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// adminAccountSecretRef names the Secret holding the tenant's initial admin account.
	// +optional
	AdminAccountSecretRef *SecretReference `json:"adminAccountSecretRef,omitempty"`

	// frozenSince is when the tenant was last scaled to zero.
	// +optional
	FrozenSince *metav1.Time `json:"frozenSince,omitempty"`

	// loadBalancer is the ELB listener the tenant's Ingress is on, when its plan names a
	// LoadBalancerPool.
	// +optional
	LoadBalancer *ListenerAssignment `json:"loadBalancer,omitempty"`

	// retainUntil is recorded once, when the operator first handles the instance's release: the
	// deletion time plus the plan's retentionPeriod as the plan said then. The tenant namespace
	// is kept, frozen, until this time; it is never recomputed, so a later plan change cannot
	// shorten a retention already promised.
	// +optional
	RetainUntil *metav1.Time `json:"retainUntil,omitempty"`

	// metering is the usage accounting of a pay-per-use instance whose plan has a meter: the
	// open period's accumulator and the closed periods not yet acknowledged by the marketplace.
	// Written only by the operator's metering controller and pusher.
	// +optional
	Metering *MeteringStatus `json:"metering,omitempty"`
}

// MaxPendingUsageRecords bounds status.metering.pending: 21 days of hourly periods fit twice.
const MaxPendingUsageRecords = 1024

// MeteringStatus is an instance's usage accounting. Everything needed to report a period is
// recorded here before it is sent, so a restart neither loses nor double-counts usage.
type MeteringStatus struct {
	// source the accumulator counts in (the plan's source when the period opened).
	// +optional
	Source MeteringSource `json:"source,omitempty"`

	// periodStart is the start of the open period.
	// +optional
	PeriodStart *metav1.Time `json:"periodStart,omitempty"`

	// checkpoint is the time up to which accumulated counts.
	// +optional
	Checkpoint *metav1.Time `json:"checkpoint,omitempty"`

	// accumulated is the open period's usage up to checkpoint, in rate-milliseconds: Active
	// milliseconds (ActiveHours) or ready-replica-milliseconds (ReadyReplicaHours).
	// +kubebuilder:validation:Minimum=0
	// +optional
	Accumulated int64 `json:"accumulated,omitempty"`

	// rate is what accrues per millisecond since checkpoint: 1 while Active and 0 while Frozen
	// (ActiveHours), the ready replicas (ReadyReplicaHours).
	// +kubebuilder:validation:Minimum=0
	// +optional
	Rate int32 `json:"rate,omitempty"`

	// pending are the closed periods with usage that the marketplace has not acknowledged yet,
	// oldest first. Each is sent with a metering_sn derived from the instance and its start, so
	// a resend is dropped by the marketplace.
	// +kubebuilder:validation:MaxItems=1024
	// +listType=atomic
	// +optional
	Pending []UsageRecord `json:"pending,omitempty"`

	// reportedThrough is the end of the last period the marketplace acknowledged.
	// +optional
	ReportedThrough *metav1.Time `json:"reportedThrough,omitempty"`

	// cumulative is the sum of the usage the marketplace acknowledged, a decimal.
	// +kubebuilder:validation:MaxLength=40
	// +optional
	Cumulative string `json:"cumulative,omitempty"`

	// closed is true once the instance's last, partial period was closed at its release: no
	// period opens after it.
	// +optional
	Closed bool `json:"closed,omitempty"`
}

// UsageRecord is one closed period's usage.
type UsageRecord struct {
	// start of the period (the record's begin_time).
	// +required
	Start metav1.Time `json:"start"`
	// end of the period (the record's end_time).
	// +required
	End metav1.Time `json:"end"`
	// value is the period's usage, a decimal with at most 4 decimals, greater than zero.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=40
	// +required
	Value string `json:"value"`
}

// ListenerAssignment is the ELB listener a tenant is on.
type ListenerAssignment struct {
	// pool is the LoadBalancerPool.
	// +kubebuilder:validation:MaxLength=63
	// +required
	Pool string `json:"pool"`
	// elbId of the listener.
	// +kubebuilder:validation:MaxLength=63
	// +required
	ELBID string `json:"elbId"`
	// port of the listener.
	// +required
	Port int32 `json:"port"`
}

// TenantInstance is one purchased SaaS instance: its name is the marketplace instanceId.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=ti,categories={tenantry,all}
// +kubebuilder:printcolumn:name="SKU",type=string,JSONPath=`.spec.sku`
// +kubebuilder:printcolumn:name="Quantity",type=integer,JSONPath=`.spec.quantity`,priority=1
// +kubebuilder:printcolumn:name="Pending",type=string,JSONPath=`.spec.pendingChange.sku`,priority=1
// +kubebuilder:printcolumn:name="Lifecycle",type=string,JSONPath=`.spec.lifecycle`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.spec.expiresAt`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.url`
// +kubebuilder:printcolumn:name="ELB",type=string,JSONPath=`.status.loadBalancer.elbId`,priority=1
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.revision`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Usage",type=string,JSONPath=`.status.metering.cumulative`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:selectablefield:JSONPath=`.spec.sku`
// +kubebuilder:selectablefield:JSONPath=`.spec.lifecycle`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 56 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS label of at most 56 characters so that the namespace tenant-<name> is valid"
type TenantInstance struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state, written by the webhook bridge from marketplace calls.
	// +required
	Spec TenantInstanceSpec `json:"spec"`

	// status is observed by the operator.
	// +optional
	Status TenantInstanceStatus `json:"status,omitempty"`
}

// TenantInstanceList is a list of TenantInstance.
// +kubebuilder:object:root=true
type TenantInstanceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TenantInstance `json:"items"`
}
