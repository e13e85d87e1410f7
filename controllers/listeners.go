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
	"cmp"
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/outcome"
)

// Tenants of a plan that names a LoadBalancerPool are spread over its ELB listeners. A tenant's
// place on a listener is a ListenerSlot object whose name carries a slot number below the
// listener's capacity; creating it is the reservation, so no more tenants than the capacity can
// ever be on a listener, whichever worker or operator replica assigns them. A tenant keeps its
// listener for as long as the listener is in the pool: the slot it holds is found again on every
// reconcile, and only when its listener is removed is it given another. The Ingress is applied
// with the listener's annotations only after the slot exists, and a slot the tenant no longer
// uses is deleted only after the Ingress has moved off it, so an Ingress is never on a listener
// without a slot.
//
// +kubebuilder:rbac:groups=tenantry.io,resources=loadbalancerpools,verbs=get;list;watch
// +kubebuilder:rbac:groups=tenantry.io,resources=loadbalancerpools/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tenantry.io,resources=listenerslots,verbs=get;list;watch;create;delete

// CCE's ELB Ingress annotations.
const (
	AnnotationELBID    = "kubernetes.io/elb.id"
	AnnotationELBPort  = "kubernetes.io/elb.port"
	AnnotationELBClass = "kubernetes.io/elb.class"
)

// Field indexes of listener slots and instances.
const (
	slotInstanceIndex = "spec.instanceName"
	// instancePoolIndex indexes instances by the pool of status.loadBalancer.
	instancePoolIndex = "status.loadBalancer.pool"
	// instanceStalledIndex indexes instances by their Stalled reason, when Stalled.
	instanceStalledIndex = "status.stalledReason"
)

// listenerState is what a reconcile decided about the tenant's listener.
type listenerState struct {
	// decided is set once the step ran; assignment is then status.loadBalancer (nil: none).
	decided    bool
	assignment *tenantryv1alpha1.ListenerAssignment
	listener   *tenantryv1alpha1.Listener
	// stale are the slots the tenant holds and does not use: deleted once the Ingress is applied.
	stale []tenantryv1alpha1.ListenerSlot
}

// indexListeners registers the indexes the listener assignment reads.
func indexListeners(ctx context.Context, idx client.FieldIndexer) error {
	for _, ix := range []struct {
		obj client.Object
		key string
		fn  client.IndexerFunc
	}{
		{&tenantryv1alpha1.ListenerSlot{}, slotInstanceIndex, func(o client.Object) []string {
			return []string{o.(*tenantryv1alpha1.ListenerSlot).Spec.InstanceName}
		}},
		{&tenantryv1alpha1.TenantInstance{}, instancePoolIndex, func(o client.Object) []string {
			if lb := o.(*tenantryv1alpha1.TenantInstance).Status.LoadBalancer; lb != nil {
				return []string{lb.Pool}
			}
			return nil
		}},
		{&tenantryv1alpha1.TenantInstance{}, instanceStalledIndex, func(o client.Object) []string {
			for _, c := range o.(*tenantryv1alpha1.TenantInstance).Status.Conditions {
				if c.Type == tenantryv1alpha1.ConditionStalled && c.Status == metav1.ConditionTrue {
					return []string{c.Reason}
				}
			}
			return nil
		}},
	} {
		if err := idx.IndexField(ctx, ix.obj, ix.key, ix.fn); err != nil {
			return fmt.Errorf("indexing %s: %w", ix.key, err)
		}
	}
	return nil
}

// needsCertificate tells whether the tenant takes an SNI certificate on an HTTPS listener: a
// Dedicated tenant served over TLS has a certificate of its own.
func (d Desired) needsCertificate() bool {
	return d.Instance.Spec.Domain.Type == tenantryv1alpha1.DomainDedicated && d.TLSSecretName() != ""
}

// slotsHeld groups the slots an instance holds in a pool by listener key.
type slotsHeld map[string]struct {
	tenant, cert *tenantryv1alpha1.ListenerSlot
}

// chooseListener picks the listener a tenant stays on among those it holds slots on: the one
// recorded in its status, else the first of the pool's order. ok is false when it holds a full
// set of slots on no listener of the pool. Pure, for table tests.
func chooseListener(pool *tenantryv1alpha1.LoadBalancerPool, held slotsHeld, current *tenantryv1alpha1.ListenerAssignment, needCert bool) (tenantryv1alpha1.Listener, bool) {
	complete := func(l tenantryv1alpha1.Listener) bool {
		h, ok := held[l.Key()]
		return ok && h.tenant != nil && (!needCert || l.CertificateCapacity() == 0 || h.cert != nil)
	}
	if current != nil && current.Pool == pool.Name {
		for _, l := range pool.Spec.Listeners {
			if l.ELBID == current.ELBID && l.Port == current.Port && complete(l) {
				return l, true
			}
		}
	}
	for _, l := range pool.Spec.Listeners {
		if complete(l) {
			return l, true
		}
	}
	return tenantryv1alpha1.Listener{}, false
}

// freeSlots lists the slot numbers below capacity that used does not hold, lowest first. Pure.
func freeSlots(capacity int32, used map[int32]bool) []int32 {
	var free []int32
	for n := range capacity {
		if !used[n] {
			free = append(free, n)
		}
	}
	return free
}

// reconcileListener puts the tenant on a listener of its plan's pool, or stalls it (an
// outcome.Stalling, NoLoadBalancerCapacity) when every listener is full or the pool is missing. Called before the Ingress is applied.
func (r *TenantInstanceReconciler) reconcileListener(ctx context.Context, s *scope) error {
	st := &s.listener
	st.decided = true
	poolName := s.desired.Plan.Spec.Domain.LoadBalancerPool

	var held tenantryv1alpha1.ListenerSlotList
	if err := r.List(ctx, &held, client.MatchingFields{slotInstanceIndex: s.instance.Name}); err != nil {
		return fmt.Errorf("listing the tenant's listener slots: %w", err)
	}
	mine := held.Items[:0]
	for _, slot := range held.Items {
		if slot.DeletionTimestamp.IsZero() && ownedBy(&slot, s.instance) {
			mine = append(mine, slot)
		}
	}
	if poolName == "" {
		st.stale = mine
		return nil
	}
	pool := &tenantryv1alpha1.LoadBalancerPool{}
	if err := r.Get(ctx, client.ObjectKey{Name: poolName}, pool); apierrors.IsNotFound(err) {
		return outcome.Stallf(tenantryv1alpha1.ReasonNoLoadBalancerCapacity,
			"TenantPlan %q names LoadBalancerPool %q, which does not exist; create it and the tenant continues", s.desired.Plan.Name, poolName)
	} else if err != nil {
		return fmt.Errorf("reading LoadBalancerPool %q: %w", poolName, err)
	}

	needCert := s.desired.needsCertificate()
	bySlot := slotsHeld{}
	for i := range mine {
		slot := &mine[i]
		if slot.Spec.Pool != poolName {
			continue
		}
		key := tenantryv1alpha1.Listener{ELBID: slot.Spec.ELBID, Port: slot.Spec.Port}.Key()
		h := bySlot[key]
		if slot.Spec.Kind == tenantryv1alpha1.SlotCertificate {
			if h.cert == nil {
				h.cert = slot
			}
		} else if h.tenant == nil {
			h.tenant = slot
		}
		bySlot[key] = h
	}

	l, ok := chooseListener(pool, bySlot, s.instance.Status.LoadBalancer, needCert)
	if !ok {
		var err error
		if l, ok, err = r.claimListener(ctx, s, pool, bySlot, needCert); err != nil {
			return err
		}
		if !ok {
			return &outcome.Stalling{Reason: tenantryv1alpha1.ReasonNoLoadBalancerCapacity, Message: noCapacityMessage(pool, needCert)}
		}
	}
	st.listener = &l
	st.assignment = &tenantryv1alpha1.ListenerAssignment{Pool: poolName, ELBID: l.ELBID, Port: l.Port}
	// Every slot held before this reconcile other than the chosen listener's is stale: on
	// another pool or listener, a duplicate left by a race, or a certificate no longer needed.
	// Slots claimed just now are not in mine.
	keep := map[string]bool{}
	if h := bySlot[l.Key()]; h.tenant != nil {
		keep[h.tenant.Name] = true
		if h.cert != nil && needCert && l.CertificateCapacity() > 0 {
			keep[h.cert.Name] = true
		}
	}
	for _, slot := range mine {
		if !keep[slot.Name] {
			st.stale = append(st.stale, slot)
		}
	}
	return nil
}

// claimListener claims a tenant slot (and, for a Dedicated tenant on an HTTPS listener, a
// certificate slot) on the first listener of the pool with room. The cache may be behind: a
// slot number it shows free may be taken (AlreadyExists), and the next one is tried.
func (r *TenantInstanceReconciler) claimListener(ctx context.Context, s *scope, pool *tenantryv1alpha1.LoadBalancerPool,
	held slotsHeld, needCert bool) (tenantryv1alpha1.Listener, bool, error) {
	for _, l := range pool.Spec.Listeners {
		h := held[l.Key()]
		var claimed *tenantryv1alpha1.ListenerSlot
		if h.tenant == nil {
			slot, err := r.claimSlot(ctx, s, pool.Name, l, tenantryv1alpha1.SlotTenant, l.TenantCapacity())
			if err != nil {
				return l, false, err
			}
			if slot == nil {
				continue
			}
			claimed = slot
		}
		if needCert && l.CertificateCapacity() > 0 && h.cert == nil {
			slot, err := r.claimSlot(ctx, s, pool.Name, l, tenantryv1alpha1.SlotCertificate, l.CertificateCapacity())
			if err != nil {
				return l, false, err
			}
			if slot == nil {
				// No certificate room here: give the tenant slot back and try the next listener.
				if claimed != nil {
					if err := r.Delete(ctx, claimed); err != nil && !apierrors.IsNotFound(err) {
						return l, false, fmt.Errorf("releasing listener slot %s: %w", claimed.Name, err)
					}
				}
				continue
			}
		}
		return l, true, nil
	}
	return tenantryv1alpha1.Listener{}, false, nil
}

// claimSlot creates the lowest free slot of a kind on a listener for the tenant; nil when the
// listener has none free.
func (r *TenantInstanceReconciler) claimSlot(ctx context.Context, s *scope, pool string, l tenantryv1alpha1.Listener,
	kind tenantryv1alpha1.ListenerSlotKind, capacity int32) (*tenantryv1alpha1.ListenerSlot, error) {
	var existing tenantryv1alpha1.ListenerSlotList
	if err := r.List(ctx, &existing, client.MatchingLabels{tenantryv1alpha1.LabelListener: l.Key(), tenantryv1alpha1.LabelPool: pool}); err != nil {
		return nil, fmt.Errorf("listing slots of listener %s: %w", l.Key(), err)
	}
	used := map[int32]bool{}
	for _, slot := range existing.Items {
		if slot.Spec.Kind != kind {
			continue
		}
		for n := range capacity {
			if slot.Name == tenantryv1alpha1.ListenerSlotName(pool, l, kind, n) {
				used[n] = true
			}
		}
	}
	for _, n := range freeSlots(capacity, used) {
		slot := &tenantryv1alpha1.ListenerSlot{
			ObjectMeta: metav1.ObjectMeta{
				Name: tenantryv1alpha1.ListenerSlotName(pool, l, kind, n),
				Labels: map[string]string{
					tenantryv1alpha1.LabelManagedBy: tenantryv1alpha1.ManagedByValue,
					tenantryv1alpha1.LabelInstance:  s.instance.Name,
					tenantryv1alpha1.LabelPool:      pool,
					tenantryv1alpha1.LabelListener:  l.Key(),
				},
				OwnerReferences: []metav1.OwnerReference{{
					APIVersion: tenantryv1alpha1.GroupVersion.String(), Kind: "TenantInstance",
					Name: s.instance.Name, UID: s.instance.UID,
				}},
			},
			Spec: tenantryv1alpha1.ListenerSlotSpec{Pool: pool, ELBID: l.ELBID, Port: l.Port, Kind: kind, InstanceName: s.instance.Name},
		}
		switch err := r.Create(ctx, slot); {
		case err == nil:
			noteChange(ctx, "ListenerSlot/"+slot.Name+" created")
			return slot, nil
		case apierrors.IsAlreadyExists(err):
			continue // taken meanwhile; the cache had not seen it
		default:
			return nil, fmt.Errorf("claiming listener slot %s: %w", slot.Name, err)
		}
	}
	return nil, nil
}

// releaseStaleSlots deletes the slots the tenant holds and does not use; called once its Ingress
// no longer points at them.
func (r *TenantInstanceReconciler) releaseStaleSlots(ctx context.Context, s *scope) error {
	for i := range s.listener.stale {
		slot := &s.listener.stale[i]
		err := r.Delete(ctx, slot, client.Preconditions{UID: &slot.UID})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("releasing listener slot %s: %w", slot.Name, err)
		}
		if err == nil {
			noteChange(ctx, "ListenerSlot/"+slot.Name+" deleted")
		}
	}
	s.listener.stale = nil
	return nil
}

// ownedBy tells whether a slot belongs to this instance, not an earlier one of the same name.
func ownedBy(slot *tenantryv1alpha1.ListenerSlot, ti *tenantryv1alpha1.TenantInstance) bool {
	for _, ref := range slot.OwnerReferences {
		if ref.Kind == "TenantInstance" && ref.UID == ti.UID {
			return true
		}
	}
	return false
}

func noCapacityMessage(pool *tenantryv1alpha1.LoadBalancerPool, needCert bool) string {
	var tenants, certs int32
	for _, l := range pool.Spec.Listeners {
		tenants += l.TenantCapacity()
		certs += l.CertificateCapacity()
	}
	what := fmt.Sprintf("tenants (%d in all)", tenants)
	if needCert {
		what = fmt.Sprintf("tenants (%d in all) or Dedicated tenants' certificates (%d in all)", tenants, certs)
	}
	return fmt.Sprintf("every listener of LoadBalancerPool %q is full of %s; add a listener to spec.listeners, "+
		"or raise a listener's capacity once its ELB quota was raised, and the tenant continues", pool.Name, what)
}

// instancesForPool maps a pool's change, or a slot's release, to the instances it may move:
// those on the pool (a removed listener moves them) and those stalled for want of capacity.
func (r *TenantInstanceReconciler) instancesForPool(ctx context.Context, pool string) []reconcile.Request {
	var reqs []reconcile.Request
	seen := map[string]bool{}
	for _, sel := range []client.MatchingFields{{instancePoolIndex: pool}, {instanceStalledIndex: tenantryv1alpha1.ReasonNoLoadBalancerCapacity}} {
		var list tenantryv1alpha1.TenantInstanceList
		if err := r.List(ctx, &list, sel); err != nil {
			log.FromContext(ctx).Error(err, "Listing instances for a LoadBalancerPool", "pool", pool)
			continue
		}
		for _, ti := range list.Items {
			if !seen[ti.Name] {
				seen[ti.Name] = true
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKey{Name: ti.Name}})
			}
		}
	}
	slices.SortFunc(reqs, func(a, b reconcile.Request) int { return cmp.Compare(a.Name, b.Name) })
	return reqs
}

// instancesForSlot maps a slot's release to its holder, which may have lost its listener, and to
// the tenants that may now take its place.
func (r *TenantInstanceReconciler) instancesForSlot(ctx context.Context, o client.Object) []reconcile.Request {
	slot, ok := o.(*tenantryv1alpha1.ListenerSlot)
	if !ok {
		return nil
	}
	return append(r.instancesForPool(ctx, slot.Spec.Pool), reconcile.Request{NamespacedName: client.ObjectKey{Name: slot.Spec.InstanceName}})
}

// releaseAllSlots deletes every slot the released instance holds.
func (r *TenantInstanceReconciler) releaseAllSlots(ctx context.Context, s *scope) error {
	var held tenantryv1alpha1.ListenerSlotList
	if err := r.List(ctx, &held, client.MatchingFields{slotInstanceIndex: s.instance.Name}); err != nil {
		return fmt.Errorf("listing the tenant's listener slots: %w", err)
	}
	for i := range held.Items {
		if ownedBy(&held.Items[i], s.instance) {
			s.listener.stale = append(s.listener.stale, held.Items[i])
		}
	}
	return r.releaseStaleSlots(ctx, s)
}
