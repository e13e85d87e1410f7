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

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tenantry/tenantry/internal/ssa"
)

// The kinds the reconciler looks up in the child cache.
var (
	namespaceKind  = schema.GroupKind{Kind: "Namespace"}
	configMapKind  = schema.GroupKind{Kind: "ConfigMap"}
	deploymentKind = schema.GroupKind{Group: "apps", Kind: "Deployment"}
	ingressKind    = schema.GroupKind{Group: "networking.k8s.io", Kind: "Ingress"}
)

// apply server-side applies ac under the operator's field owner, unless the child cache's record
// of the object shows it holds exactly that already (ssa.Cache.Apply), and notes what changed.
func (r *TenantInstanceReconciler) apply(ctx context.Context, ac runtime.ApplyConfiguration) error {
	res, err := r.applied.Apply(ctx, r.Client, r.Children, ac)
	if err != nil {
		return err
	}
	switch res.Change {
	case ssa.Applied:
		noteChange(ctx, res.Kind+"/"+res.Name+" applied")
	case ssa.Updated:
		noteChange(ctx, res.Kind+"/"+res.Name+" updated")
	}
	return nil
}
