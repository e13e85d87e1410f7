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
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/ssa"
)

// The operator writes Secrets in tenant namespaces but may not read them: its RBAC grants no get,
// list or watch on Secrets except in the namespaces of the shared TLS sources, so that no other
// Secret — the bridge's keys above all — is within its reach (docs/threat-model.md). What it
// knows of the Secrets it writes, it remembers from its own writes, in r.applied under the kind
// Secret. Each entry carries a stamp that includes the UID of the tenant namespace, so a
// namespace made anew (deleted by hand, or a new instance of the same name) starts from nothing.
//
//   - A Secret copy (the shared TLS certificate, the application credentials) is written with
//     server-side apply, which needs no read, and not again while its content is what this
//     process last applied successfully. Drift of a copy (a hand edit or deletion of the copy
//     itself) is repaired on the next change of its content or after a restart of the operator,
//     not at once. After a restart each copy is applied once: an apply that changes nothing
//     writes nothing on the API server.
//   - The admin account is created with Create, AlreadyExists meaning it is there. It is probed
//     so — created again — once per change of the TenantInstance's spec or annotations (what
//     reconciles it; not its status): a deleted account is replaced, with the
//     AdminAccountRecreated warning, at the next such change — annotating the instance is
//     enough. At first sight after a restart, an instance whose status names its account is
//     trusted to have it, so that a restart sends nothing.
//   - A Secret to delete (the application credentials once no application is left) is deleted
//     once and then known to be absent. At first sight after a restart it is deleted only when
//     the tenant could have one: a 联营 tenant is bound, or its directory is still projected
//     (both go in the same reconcile).

// secretKind is the kind the entries of r.applied about Secrets are kept under.
var secretKind = schema.GroupKind{Kind: "Secret"}

// What a stamp says of a Secret.
const (
	stampApplied = "applied"
	stampAdmin   = "admin"
	stampAbsent  = "absent"
)

// secretStamp binds what is remembered of a Secret to its namespace's UID.
func secretStamp(namespaceUID types.UID, what string, content []byte) [12]byte {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(namespaceUID), []byte(what), content} {
		h.Write([]byte(strconv.Itoa(len(part))))
		h.Write([]byte{0})
		h.Write(part)
	}
	var out [12]byte
	copy(out[:], h.Sum(nil))
	return out
}

// namespaceUID is the UID of the tenant namespace as the child cache holds it; false while the
// cache does not hold it yet (the operator just created it) or it is being deleted.
func (r *TenantInstanceReconciler) namespaceUID(namespace string) (types.UID, bool) {
	if r.Children == nil {
		return "", false
	}
	rec, ok := r.Children.Lookup(namespaceKind, client.ObjectKey{Name: namespace})
	if !ok || rec.UID() == "" || rec.Deleting() {
		return "", false
	}
	return rec.UID(), true
}

// childExists reports whether the child cache holds the object; true when there is no child
// cache, which makes the callers act rather than trust.
func (r *TenantInstanceReconciler) childExists(gk schema.GroupKind, key client.ObjectKey) bool {
	if r.Children == nil {
		return true
	}
	_, ok := r.Children.Lookup(gk, key)
	return ok
}

// applySecret server-side applies a Secret copy unless this process last applied exactly that
// content into the same namespace.
func (r *TenantInstanceReconciler) applySecret(ctx context.Context, ac *corev1ac.SecretApplyConfiguration) error {
	data, err := json.Marshal(ac)
	if err != nil {
		return fmt.Errorf("encoding apply configuration: %w", err)
	}
	namespace, name := deref(ac.Namespace), deref(ac.Name)
	uid, known := r.namespaceUID(namespace)
	stamp := secretStamp(uid, stampApplied, data)
	if last, ok := r.applied.Recall(secretKind, namespace, name); known && ok && last.Stamp == stamp {
		return nil
	}
	if err := r.apply(ctx, ac); err != nil {
		return err
	}
	if known {
		r.applied.Remember(secretKind, namespace, name, ssa.State{Stamp: stamp})
	}
	return nil
}

// ensureAdminSecret creates the admin account unless it is known to exist (see above). It
// returns whether it created one.
func (r *TenantInstanceReconciler) ensureAdminSecret(ctx context.Context, s *scope) (bool, error) {
	namespace := s.desired.namespace()
	name := tenantryv1alpha1.AdminSecretName
	uid, known := r.namespaceUID(namespace)
	// The version of the instance a probe answers for: its generation and annotations, whose
	// changes are what reconciles it (not its status, which the operator itself writes).
	annotations, err := json.Marshal(s.before.Annotations)
	if err != nil {
		return false, fmt.Errorf("encoding annotations: %w", err)
	}
	version := uint64(max(s.before.Generation, 0))
	seen := ssa.State{Version: version, Stamp: secretStamp(uid, stampAdmin, annotations)}
	if known && version != 0 {
		last, ok := r.applied.Recall(secretKind, namespace, name)
		switch {
		case ok && last == seen:
			return false, nil
		case !ok && s.before.Status.AdminAccountSecretRef != nil:
			r.applied.Remember(secretKind, namespace, name, seen)
			return false, nil
		}
	}
	// Until a probe succeeds, the next reconcile probes again, even at what looks like first sight.
	r.applied.Remember(secretKind, namespace, name, ssa.State{})
	password, err := generatePassword()
	if err != nil {
		return false, err
	}
	// No owner reference: the account must outlive a foreground deletion of the instance for as
	// long as the release keeps the tenant (see Desired.Namespace).
	err = r.Create(ctx, s.desired.AdminSecret(password), client.FieldOwner(FieldOwner))
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return false, fmt.Errorf("creating admin account secret: %w", err)
	}
	if err == nil {
		noteChange(ctx, "Secret/"+tenantryv1alpha1.AdminSecretName+" created")
	}
	if known {
		r.applied.Remember(secretKind, namespace, name, seen)
	}
	return err == nil, nil
}

// deleteSecret deletes a Secret the operator may have written, unless it is known to be absent;
// couldExist says, at first sight, whether it might exist at all. Absence is success.
func (r *TenantInstanceReconciler) deleteSecret(ctx context.Context, namespace, name string, couldExist bool) error {
	uid, known := r.namespaceUID(namespace)
	absent := ssa.State{Stamp: secretStamp(uid, stampAbsent, nil)}
	last, ok := r.applied.Recall(secretKind, namespace, name)
	switch {
	case known && ok && last == absent:
		return nil
	case !ok && !couldExist:
		if known {
			r.applied.Remember(secretKind, namespace, name, absent)
		}
		return nil
	}
	obj := &corev1.Secret{}
	obj.Namespace, obj.Name = namespace, name
	if err := r.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting Secret %s/%s: %w", namespace, name, err)
	} else if err == nil {
		noteChange(ctx, "Secret/"+name+" deleted")
	}
	if known {
		r.applied.Remember(secretKind, namespace, name, absent)
	}
	return nil
}

// mayReadSharedTLS reports whether the operator may read Secrets in namespace: it is one of
// r.SharedTLSNamespaces, or that list is nil (any namespace).
func (r *TenantInstanceReconciler) mayReadSharedTLS(namespace string) bool {
	return r.SharedTLSNamespaces == nil || slices.Contains(r.SharedTLSNamespaces, namespace)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
