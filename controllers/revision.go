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

package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/outcome"
)

// revisionWait is how soon a tenant whose plan revision is not in the cache yet comes back.
const revisionWait = time.Second

// planAtRevision is the plan the tenant is built from: the plan as it is, but with the app of the
// revision the rollout assigned the tenant (its tenantry.io/plan-revision annotation, when it
// names one of this plan's revisions), else of the revision the plan starts new tenants on. A
// plan the rollout controller has not recorded yet, or an operator run without it, gives the
// plan's spec.app as it is. Only spec.app is revisioned: every other field applies at once.
func (r *TenantInstanceReconciler) planAtRevision(ctx context.Context, s *scope, plan *tenantryv1alpha1.TenantPlan) (*tenantryv1alpha1.TenantPlan, error) {
	s.revision = ""
	if r.RolloutNamespace == "" {
		return plan, nil
	}
	name := s.instance.Annotations[tenantryv1alpha1.AnnotationPlanRevision]
	rev := &appsv1.ControllerRevision{}
	if name != "" {
		err := r.Get(ctx, client.ObjectKey{Namespace: r.RolloutNamespace, Name: name}, rev)
		switch {
		case err == nil && rev.Labels[tenantryv1alpha1.LabelPlan] == plan.Name:
			return withRevision(s, plan, rev)
		case err != nil && !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("reading plan revision %s: %w", name, err)
		}
		// Another plan's revision (the tenant moved here by a change of SKU), or one gone: the
		// tenant is new to this plan.
	}
	name = plan.Status.NewTenantRevision()
	if name == "" {
		return plan, nil
	}
	if err := r.Get(ctx, client.ObjectKey{Namespace: r.RolloutNamespace, Name: name}, rev); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &outcome.Waiting{Reason: tenantryv1alpha1.ReasonProgressing, RequeueAfter: revisionWait,
				Message: fmt.Sprintf("waiting for revision %s of plan %s", name, plan.Name)}
		}
		return nil, fmt.Errorf("reading plan revision %s: %w", name, err)
	}
	return withRevision(s, plan, rev)
}

// withRevision is a copy of plan with the app rev holds.
func withRevision(s *scope, plan *tenantryv1alpha1.TenantPlan, rev *appsv1.ControllerRevision) (*tenantryv1alpha1.TenantPlan, error) {
	var app tenantryv1alpha1.AppSpec
	if err := json.Unmarshal(rev.Data.Raw, &app); err != nil {
		return nil, outcome.Stallf(tenantryv1alpha1.ReasonInvalidPlan, "plan revision %s cannot be read: %v", rev.Name, err)
	}
	out := plan.DeepCopy()
	out.Spec.App = app
	s.revision = rev.Name
	return out, nil
}

// setRevision records the revision the tenant runs once its Deployment as observed carries it:
// until then status.revision keeps the one before.
func setRevision(st *tenantryv1alpha1.TenantInstanceStatus, revision string, observed bool) {
	if observed {
		st.Revision = revision
	}
}

// changeCount is how many changes the reconcile of ctx has noted so far.
func changeCount(ctx context.Context) int {
	c, ok := ctx.Value(changesKey{}).(*changes)
	if !ok {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}
