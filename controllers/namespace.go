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
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/childcache"
	"github.com/tenantry/tenantry/internal/outcome"
)

// namespaceRecheck is how often a tenant stalled on a namespace it does not own looks at it again.
const namespaceRecheck = time.Minute

// reconcileNamespace creates the tenant namespace, marked as this instance's, and keeps it as
// desired; a namespace of that name that this instance did not create stalls the tenant, or,
// while it is being deleted, is waited for. The operator's cache does not see a namespace
// without its label, so both outcomes ask to look again now and then (namespaceRecheck): the
// tenant continues once the namespace is gone.
//
// A namespace the child cache does not hold is created by an apply on the condition that none of
// that name exists (ssa.Cache.Create): one write that never adopts a namespace it did not make
// (a stale tenant's, or anyone's of the same name). When one exists, the apply fails and changes
// nothing, and the namespace is read from the API server once to learn whose it is.
func (r *TenantInstanceReconciler) reconcileNamespace(ctx context.Context, s *scope) error {
	name := s.desired.namespace()
	var (
		deleting bool
		owner    types.UID
	)
	if rec, ok := r.Children.Lookup(namespaceKind, client.ObjectKey{Name: name}); ok {
		deleting, owner = rec.Deleting(), rec.Owner()
	} else {
		res, err := r.applied.Create(ctx, r.Client, r.Children, s.desired.Namespace())
		if err == nil {
			noteChange(ctx, res.Kind+"/"+res.Name+" created")
			return nil
		}
		if !apierrors.IsConflict(err) {
			return fmt.Errorf("creating namespace %q: %w", name, err)
		}
		live, err := r.Children.LiveNamespace(ctx, name)
		if err != nil {
			// NotFound too: it went away since; the next attempt creates it.
			return fmt.Errorf("reading namespace %q: %w", name, err)
		}
		deleting, owner = !live.DeletionTimestamp.IsZero(), childcache.NamespaceOwner(live)
	}
	switch {
	case owner != s.instance.UID && deleting:
		// Most likely what an earlier instance of the same name left; its deletion event
		// brings the tenant back.
		wait := outcome.Waitf(tenantryv1alpha1.ReasonProgressing, "namespace %s, not made by this instance, is being deleted", name)
		wait.RequeueAfter = namespaceRecheck
		return wait
	case owner != s.instance.UID:
		stall := outcome.Stallf(tenantryv1alpha1.ReasonNamespaceConflict, "namespace %s exists and was not created by the operator for this instance; "+
			"it is left untouched: remove it, or have the order use another instance id", name)
		stall.RequeueAfter = namespaceRecheck
		return stall
	}
	if err := r.apply(ctx, s.desired.Namespace()); err != nil {
		return fmt.Errorf("applying namespace %q: %w", name, err)
	}
	return nil
}
