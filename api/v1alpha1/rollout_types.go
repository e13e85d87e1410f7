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
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Annotations and labels of a plan rollout (docs/rollouts.md).
const (
	// AnnotationPlanRevision is written by the operator on a TenantInstance: the plan revision
	// (ControllerRevision name) the tenant is assigned. The tenant's Deployment is built from that
	// revision's app template.
	AnnotationPlanRevision = "tenantry.io/plan-revision"
	// AnnotationPlanRevisionAt is written with AnnotationPlanRevision: when (RFC 3339) the tenant
	// was moved to it; the progress deadline counts from there.
	AnnotationPlanRevisionAt = "tenantry.io/plan-revision-at"
	// AnnotationHoldRevision set to "true" on a TenantInstance keeps it on the revision it runs:
	// a rollout passes it by and reports it as held.
	AnnotationHoldRevision = "tenantry.io/hold-revision"
	// LabelRolloutRing set to RolloutRingCanary on a TenantInstance puts it in the canary of
	// every rollout of its plan.
	LabelRolloutRing = "tenantry.io/rollout-ring"
	// RolloutRingCanary is the LabelRolloutRing value of the canary ring.
	RolloutRingCanary = "canary"
	// LabelPlan marks a plan's ControllerRevisions with the plan's name.
	LabelPlan = "tenantry.io/plan"
)

// Reasons of a TenantPlan's conditions.
const (
	// ReasonRolling: a new revision is reaching the plan's tenants.
	ReasonRolling = "Rolling"
	// ReasonRolloutPaused: spec.rollout.paused holds the rollout.
	ReasonRolloutPaused = "RolloutPaused"
	// ReasonRolloutHalted: too many tenants failed on the new revision; no tenant moves.
	ReasonRolloutHalted = "RolloutHalted"
	// ReasonRolledBack: the rollout halted and its tenants went back to the previous revision.
	ReasonRolledBack = "RolledBack"
	// ReasonRolloutComplete: every tenant not held runs the plan's revision.
	ReasonRolloutComplete = "RolloutComplete"
)

// RolloutPhase is where a plan's rollout is.
// +kubebuilder:validation:Enum=Canary;Baking;Waves;Complete;Halted;Paused;RolledBack
type RolloutPhase string

// The phases of a rollout.
const (
	RolloutCanary     RolloutPhase = "Canary"
	RolloutBaking     RolloutPhase = "Baking"
	RolloutWaves      RolloutPhase = "Waves"
	RolloutComplete   RolloutPhase = "Complete"
	RolloutHalted     RolloutPhase = "Halted"
	RolloutPaused     RolloutPhase = "Paused"
	RolloutRolledBack RolloutPhase = "RolledBack"
)

// RolloutStrategy says how a new revision of the plan's app reaches its tenants. Every field has
// a default (DefaultRollout): a canary of one tenant, ten minutes of bake, then waves of 25%.
type RolloutStrategy struct {
	// paused moves no tenant to another revision until it is unset. New tenants still start.
	// +optional
	Paused bool `json:"paused,omitempty"`

	// canary is how many tenants (a count, or a percentage of the plan's tenants rounded up)
	// take a new revision first. Tenants labelled tenantry.io/rollout-ring=canary are chosen
	// first, then others by name. Default 1; 0 skips the canary.
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^(100|[1-9]?[0-9])%$')",message="must be a count or a percentage from 0% to 100%"
	// +optional
	Canary *intstr.IntOrString `json:"canary,omitempty"`

	// bakeTime is how long the canary must stay Ready on the new revision before the waves
	// start. Default 10m.
	// +optional
	BakeTime *metav1.Duration `json:"bakeTime,omitempty"`

	// waveSize is how many tenants a wave moves (a count, or a percentage of the plan's tenants
	// rounded up); a wave starts when every tenant moved before it is Ready. Default 25%.
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 1 : self.matches('^(100|[1-9][0-9]?)%$')",message="must be a count of at least 1 or a percentage from 1% to 100%"
	// +optional
	WaveSize *intstr.IntOrString `json:"waveSize,omitempty"`

	// maxUnavailable is how many moved tenants may be not yet Ready on the new revision at once
	// (a count, or a percentage of the plan's tenants rounded up, never less than 1). Default 10%.
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 1 : self.matches('^(100|[1-9][0-9]?)%$')",message="must be a count of at least 1 or a percentage from 1% to 100%"
	// +optional
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// progressDeadline is how long a moved tenant has to become Ready on the new revision before
	// it counts as failed. Default 10m.
	// +optional
	ProgressDeadline *metav1.Duration `json:"progressDeadline,omitempty"`

	// failureThreshold is how many failed tenants halt the rollout. Default 1.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000
	// +optional
	FailureThreshold *int32 `json:"failureThreshold,omitempty"`

	// autoRollback moves the tenants of a halted rollout back to the previous revision. Default
	// true.
	// +optional
	AutoRollback *bool `json:"autoRollback,omitempty"`

	// revisionHistoryLimit is how many revisions of the app are kept besides those tenants run.
	// Default 10.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`
}

// Rollout defaults (docs/rollouts.md).
var (
	DefaultRolloutCanary           = intstr.FromInt32(1)
	DefaultRolloutBakeTime         = 10 * time.Minute
	DefaultRolloutWaveSize         = intstr.FromString("25%")
	DefaultRolloutMaxUnavailable   = intstr.FromString("10%")
	DefaultRolloutProgressDeadline = 10 * time.Minute
)

// Rollout defaults that are plain numbers.
const (
	DefaultRolloutFailureThreshold     int32 = 1
	DefaultRolloutRevisionHistoryLimit int32 = 10
)

// WithDefaults is the strategy with every unset field set to its default.
func (s RolloutStrategy) WithDefaults() RolloutStrategy {
	if s.Canary == nil {
		s.Canary = new(DefaultRolloutCanary)
	}
	if s.BakeTime == nil {
		s.BakeTime = &metav1.Duration{Duration: DefaultRolloutBakeTime}
	}
	if s.WaveSize == nil {
		s.WaveSize = new(DefaultRolloutWaveSize)
	}
	if s.MaxUnavailable == nil {
		s.MaxUnavailable = new(DefaultRolloutMaxUnavailable)
	}
	if s.ProgressDeadline == nil {
		s.ProgressDeadline = &metav1.Duration{Duration: DefaultRolloutProgressDeadline}
	}
	if s.FailureThreshold == nil {
		s.FailureThreshold = new(DefaultRolloutFailureThreshold)
	}
	if s.AutoRollback == nil {
		s.AutoRollback = new(true)
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = new(DefaultRolloutRevisionHistoryLimit)
	}
	return s
}

// TenantPlanStatus is what the operator observed of the plan's rollout.
type TenantPlanStatus struct {
	// observedGeneration is the plan generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Reconciling while a rollout moves tenants, Stalled when it halted (kstatus).
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// updateRevision is the revision of spec.app: the one a rollout moves tenants to.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	UpdateRevision string `json:"updateRevision,omitempty"`

	// stableRevision is the revision the last completed rollout left every tenant on: the one a
	// rollback returns to.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	StableRevision string `json:"stableRevision,omitempty"`

	// haltedRevision is a revision whose rollout halted. It stays halted (new tenants start on
	// stableRevision) until spec.app changes; clearing it resumes the rollout.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	HaltedRevision string `json:"haltedRevision,omitempty"`

	// rollout is the progress of the current rollout.
	// +optional
	Rollout *RolloutStatus `json:"rollout,omitempty"`
}

// NewTenantRevision is the revision a tenant new to the plan starts on: the newest one that has
// not halted. Empty when the operator has recorded no revision yet.
func (s *TenantPlanStatus) NewTenantRevision() string {
	if s.UpdateRevision != "" && s.UpdateRevision == s.HaltedRevision {
		return s.StableRevision
	}
	return s.UpdateRevision
}

// RolloutStatus counts the plan's tenants by where they are in the rollout.
type RolloutStatus struct {
	// phase of the rollout.
	// +optional
	Phase RolloutPhase `json:"phase,omitempty"`
	// wave is the number of the last wave started; 0 during the canary.
	// +optional
	Wave int32 `json:"wave,omitempty"`
	// tenants of the plan.
	// +optional
	Tenants int32 `json:"tenants,omitempty"`
	// updated tenants run updateRevision.
	// +optional
	Updated int32 `json:"updated,omitempty"`
	// ready tenants run updateRevision and are Ready.
	// +optional
	Ready int32 `json:"ready,omitempty"`
	// failed tenants were not Ready on updateRevision within the progress deadline.
	// +optional
	Failed int32 `json:"failed,omitempty"`
	// held tenants carry tenantry.io/hold-revision and stay where they are.
	// +optional
	Held int32 `json:"held,omitempty"`
	// failedTenants names the failed tenants (the first 20).
	// +kubebuilder:validation:MaxItems=20
	// +listType=atomic
	// +optional
	FailedTenants []string `json:"failedTenants,omitempty"`
	// heldTenants names the held tenants not on updateRevision (the first 20).
	// +kubebuilder:validation:MaxItems=20
	// +listType=atomic
	// +optional
	HeldTenants []string `json:"heldTenants,omitempty"`
	// message says what the rollout waits for.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Message string `json:"message,omitempty"`
}
