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
	"errors"
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/hostclaim"
	"github.com/tenantry/tenantry/internal/outcome"
)

// A host belongs to one TenantInstance at a time: the webhook bridge reserves a Dedicated
// tenant's host with a TenantHost named after it before it creates the instance (see the
// bridge's hosts.go). The operator does not serve a host that a TenantHost of another live
// instance holds, whoever wrote the instance that asks for it.
//
// +kubebuilder:rbac:groups=tenantry.io,resources=tenanthosts,verbs=get;list;watch;create

// checkHost stalls the tenant (an outcome.Stalling, HostConflict) before its Ingress is
// applied when another instance holds the host it would be served at, and removes an Ingress the
// tenant already has, which would otherwise keep serving (and requesting certificates for) a
// host it does not hold. Claims are read from the manager's cache, which watches them.
func (r *TenantInstanceReconciler) checkHost(ctx context.Context, s *scope) error {
	host := s.desired.Host()
	if host == "" {
		return nil
	}
	claim := &tenantryv1alpha1.TenantHost{}
	if err := r.Get(ctx, client.ObjectKey{Name: host}, claim); apierrors.IsNotFound(err) {
		return r.claimHost(ctx, s, host)
	} else if err != nil {
		return fmt.Errorf("reading TenantHost %q: %w", host, err)
	}
	var holder *tenantryv1alpha1.TenantInstance
	if claim.Spec.InstanceName != s.instance.Name {
		ti := &tenantryv1alpha1.TenantInstance{}
		switch err := r.Get(ctx, client.ObjectKey{Name: claim.Spec.InstanceName}, ti); {
		case err == nil:
			holder = ti
		case !apierrors.IsNotFound(err):
			return fmt.Errorf("reading TenantInstance %q: %w", claim.Spec.InstanceName, err)
		}
	}
	// A claim naming an instance that does not exist (Unborn) does not keep this existing tenant
	// from its host; when the bridge makes that instance the claim's owner, the claim's watch
	// brings this tenant back here. The bridge decides the same way (hostclaim.Decide).
	if hostclaim.Decide(claim, holder, s.instance.Name) != hostclaim.Taken {
		return nil
	}
	other := claim.Spec.InstanceName
	stall := outcome.Stallf(tenantryv1alpha1.ReasonHostConflict, "host %s is held by TenantInstance %q (TenantHost %s); this tenant is not served there "+
		"until that claim is released, or until spec.domain names a host of its own", host, other, host)
	if _, ok := r.Children.Lookup(ingressKind, client.ObjectKey{Namespace: s.desired.namespace(), Name: AppName}); ok {
		ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: s.desired.namespace(), Name: AppName}}
		if err := r.Delete(ctx, ing); err != nil && !apierrors.IsNotFound(err) {
			// Stalled all the same, and the failure retried.
			return errors.Join(stall, fmt.Errorf("deleting the Ingress of a host held by another instance: %w", err))
		} else if err == nil {
			noteChange(ctx, "Ingress/"+AppName+" deleted")
		}
	}
	return stall
}

// claimHost creates the missing claim of a Dedicated tenant's host for the tenant itself. The
// bridge claims every host it accepts, but a tenant created before claims existed, or written
// with kubectl, has none, and a later order could then claim its host and take its traffic. So
// the operator claims the host of every Dedicated tenant it serves, first come first served; when
// another claim wins the race (AlreadyExists) the next reconcile, which the claim's watch
// triggers, judges it. Shared hosts need no claim: the bridge refuses every host under a plan's
// base domain.
func (r *TenantInstanceReconciler) claimHost(ctx context.Context, s *scope, host string) error {
	if s.instance.Spec.Domain.Type != tenantryv1alpha1.DomainDedicated {
		return nil
	}
	claim := &tenantryv1alpha1.TenantHost{
		ObjectMeta: metav1.ObjectMeta{
			Name: host,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: tenantryv1alpha1.GroupVersion.String(), Kind: "TenantInstance",
				Name: s.instance.Name, UID: s.instance.UID,
			}},
		},
		Spec: tenantryv1alpha1.TenantHostSpec{InstanceName: s.instance.Name},
	}
	switch err := r.Create(ctx, claim); {
	case err == nil:
		noteChange(ctx, "TenantHost/"+host+" created")
		return nil
	case apierrors.IsAlreadyExists(err):
		return fmt.Errorf("claiming host %q: another claim was created meanwhile: %w", host, err)
	default:
		return fmt.Errorf("claiming host %q: %w", host, err)
	}
}

// instanceHostIndex indexes Dedicated TenantInstances by spec.domain.host, so that a claim's
// change finds the tenants asking for its host without listing every instance.
const instanceHostIndex = "spec.domain.host"

// indexHosts registers instanceHostIndex.
func indexHosts(ctx context.Context, idx client.FieldIndexer) error {
	if err := idx.IndexField(ctx, &tenantryv1alpha1.TenantInstance{}, instanceHostIndex, func(o client.Object) []string {
		if d := o.(*tenantryv1alpha1.TenantInstance).Spec.Domain; d.Type == tenantryv1alpha1.DomainDedicated && d.Host != "" {
			return []string{d.Host}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("indexing %s: %w", instanceHostIndex, err)
	}
	return nil
}

// instancesForHost maps a TenantHost to the instances its change may start or stop serving: the
// instance it names, the Shared tenant whose host it is (its first label is the instance name),
// and Dedicated tenants asking for it. Claims change once per Dedicated purchase and release.
func (r *TenantInstanceReconciler) instancesForHost(ctx context.Context, o client.Object) []reconcile.Request {
	claim, ok := o.(*tenantryv1alpha1.TenantHost)
	if !ok {
		return nil
	}
	names := map[string]bool{claim.Spec.InstanceName: true}
	if first, _, ok := strings.Cut(claim.Name, "."); ok {
		names[first] = true
	}
	var list tenantryv1alpha1.TenantInstanceList
	if err := r.List(ctx, &list, client.MatchingFields{instanceHostIndex: claim.Name}); err == nil {
		for i := range list.Items {
			names[list.Items[i].Name] = true
		}
	}
	reqs := make([]reconcile.Request, 0, len(names))
	for name := range names {
		if name != "" {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: name}})
		}
	}
	return reqs
}
