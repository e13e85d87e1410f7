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

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Listener gauges, per pool, listener (<elbId>-<port>) and kind (tenants, certificates).
var (
	listenerCapacity = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenantry_listener_capacity",
		Help: "How many tenants (kind=tenants) or Dedicated tenants' certificates (kind=certificates) an ELB listener of a LoadBalancerPool holds.",
	}, []string{"pool", "listener", "kind"})
	listenerHeadroom = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenantry_listener_headroom",
		Help: "How many more tenants (kind=tenants) or certificates (kind=certificates) an ELB listener of a LoadBalancerPool has room for.",
	}, []string{"pool", "listener", "kind"})
)

func init() {
	metrics.Registry.MustRegister(listenerCapacity, listenerHeadroom)
}

// LoadBalancerPoolReconciler counts what each listener of a pool holds into the pool's status
// and the listener gauges. It decides nothing: tenants are put on listeners by the
// TenantInstance reconciler (listeners.go).
type LoadBalancerPoolReconciler struct {
	client.Client
}

// Reconcile counts one pool's slots.
func (r *LoadBalancerPoolReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pool := &tenantryv1alpha1.LoadBalancerPool{}
	if err := r.Get(ctx, req.NamespacedName, pool); err != nil {
		if apierrors.IsNotFound(err) {
			listenerCapacity.DeletePartialMatch(prometheus.Labels{"pool": req.Name})
			listenerHeadroom.DeletePartialMatch(prometheus.Labels{"pool": req.Name})
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	var slots tenantryv1alpha1.ListenerSlotList
	if err := r.List(ctx, &slots, client.MatchingLabels{tenantryv1alpha1.LabelPool: pool.Name}); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing the pool's slots: %w", err)
	}
	status := poolUsage(pool, slots.Items)

	listenerCapacity.DeletePartialMatch(prometheus.Labels{"pool": pool.Name})
	listenerHeadroom.DeletePartialMatch(prometheus.Labels{"pool": pool.Name})
	for _, u := range status.Listeners {
		key := tenantryv1alpha1.Listener{ELBID: u.ELBID, Port: u.Port}.Key()
		listenerCapacity.WithLabelValues(pool.Name, key, "tenants").Set(float64(u.TenantCapacity))
		listenerHeadroom.WithLabelValues(pool.Name, key, "tenants").Set(float64(u.TenantCapacity - u.Tenants))
		if u.CertificateCapacity > 0 {
			listenerCapacity.WithLabelValues(pool.Name, key, "certificates").Set(float64(u.CertificateCapacity))
			listenerHeadroom.WithLabelValues(pool.Name, key, "certificates").Set(float64(u.CertificateCapacity - u.Certificates))
		}
	}
	if equality.Semantic.DeepEqual(pool.Status, status) {
		return ctrl.Result{}, nil
	}
	pool.Status = status
	if err := r.Status().Update(ctx, pool); err != nil {
		if apierrors.IsConflict(err) {
			// Counted again from the newer pool the watch brings.
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		return ctrl.Result{}, fmt.Errorf("writing the pool's status: %w", err)
	}
	return ctrl.Result{}, nil
}

// poolUsage counts the slots on each listener of a pool, in the pool's order. Slots of
// listeners no longer in the pool are not counted: their tenants are being moved. Pure.
func poolUsage(pool *tenantryv1alpha1.LoadBalancerPool, slots []tenantryv1alpha1.ListenerSlot) tenantryv1alpha1.LoadBalancerPoolStatus {
	type count struct{ tenants, certs int32 }
	counts := map[string]*count{}
	for _, slot := range slots {
		if slot.Spec.Pool != pool.Name || !slot.DeletionTimestamp.IsZero() {
			continue
		}
		key := tenantryv1alpha1.Listener{ELBID: slot.Spec.ELBID, Port: slot.Spec.Port}.Key()
		c := counts[key]
		if c == nil {
			c = &count{}
			counts[key] = c
		}
		if slot.Spec.Kind == tenantryv1alpha1.SlotCertificate {
			c.certs++
		} else {
			c.tenants++
		}
	}
	var st tenantryv1alpha1.LoadBalancerPoolStatus
	for _, l := range pool.Spec.Listeners {
		u := tenantryv1alpha1.ListenerUsage{ELBID: l.ELBID, Port: l.Port, TenantCapacity: l.TenantCapacity(), CertificateCapacity: l.CertificateCapacity()}
		if c := counts[l.Key()]; c != nil {
			u.Tenants, u.Certificates = c.tenants, c.certs
		}
		st.Listeners = append(st.Listeners, u)
		st.Tenants += u.Tenants
		st.TenantCapacity += u.TenantCapacity
	}
	return st
}

// SetupWithManager watches pools and their slots.
func (r *LoadBalancerPoolReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&tenantryv1alpha1.LoadBalancerPool{}).
		Watches(&tenantryv1alpha1.ListenerSlot{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: o.(*tenantryv1alpha1.ListenerSlot).Spec.Pool}}}
		})).
		Named("loadbalancerpool").
		Complete(r)
}
