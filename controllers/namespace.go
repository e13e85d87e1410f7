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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/childcache"
	"github.com/tenantry/tenantry/internal/outcome"
)

// namespaceRecheck is how often a tenant stalled on a namespace it does not own looks at it again.
const namespaceRecheck = time.Minute

// observeNamespace reports whether the tenant namespace name exists, whether it is being
// deleted and which instance made it (childcache.NamespaceOwner). The child cache holds the
// namespaces the operator labels; one it does not hold is read from the API server once, as it
// may be someone else's.
func (r *TenantInstanceReconciler) observeNamespace(ctx context.Context, name string) (exists, deleting bool, owner types.UID, err error) {
	if rec, ok := r.Children.Lookup(namespaceKind, client.ObjectKey{Name: name}); ok {
		return true, rec.Deleting(), rec.Owner(), nil
	}
	live, err := r.Children.LiveNamespace(ctx, name)
	if apierrors.IsNotFound(err) {
		return false, false, "", nil
	}
	if err != nil {
		return false, false, "", fmt.Errorf("reading namespace %q: %w", name, err)
	}
	return true, !live.DeletionTimestamp.IsZero(), childcache.NamespaceOwner(live), nil
}

// reconcileNamespace creates the tenant namespace, marked as this instance's, and keeps it as
// desired; a namespace of that name that this instance did not create stalls the tenant, or,
// while it is being deleted, is waited for. The operator's cache does not see a namespace
// without its label, so both outcomes ask to look again now and then (namespaceRecheck): the
// tenant continues once the namespace is gone.
func (r *TenantInstanceReconciler) reconcileNamespace(ctx context.Context, s *scope) error {
	name := s.desired.namespace()
	exists, deleting, owner, err := r.observeNamespace(ctx, name)
	if err != nil {
		return err
	}
	switch {
	case exists && owner != s.instance.UID && deleting:
		// Most likely what an earlier instance of the same name left; its deletion event
		// brings the tenant back.
		wait := outcome.Waitf(tenantryv1alpha1.ReasonProgressing, "namespace %s, not made by this instance, is being deleted", name)
		wait.RequeueAfter = namespaceRecheck
		return wait
	case exists && owner != s.instance.UID:
		stall := outcome.Stallf(tenantryv1alpha1.ReasonNamespaceConflict, "namespace %s exists and was not created by the operator for this instance; "+
			"it is left untouched: remove it, or have the order use another instance id", name)
		stall.RequeueAfter = namespaceRecheck
		return stall
	case !exists:
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      s.desired.Labels(),
			Annotations: map[string]string{tenantryv1alpha1.AnnotationInstanceUID: string(s.instance.UID)},
		}}
		if err := r.Create(ctx, ns, client.FieldOwner(FieldOwner)); err != nil {
			// AlreadyExists: someone made it since it was read; the next attempt finds out whose.
			return fmt.Errorf("creating namespace %q: %w", name, err)
		}
		noteChange(ctx, "Namespace/"+name+" created")
	}
	if err := r.apply(ctx, s.desired.Namespace()); err != nil {
		return fmt.Errorf("applying namespace %q: %w", name, err)
	}
	return nil
}
