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

package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
)

// verifyPoll is how often a check of a TenantInstance is repeated until it holds or the
// verification timeout passes: the bridge writes the spec before it answers, but the operator
// may still be applying a change.
const verifyPoll = 500 * time.Millisecond

// instanceChecker reads TenantInstances with a kubeconfig, so that a scenario can check what
// the bridge made of each call.
type instanceChecker struct {
	c       client.Reader
	timeout time.Duration
}

func newInstanceChecker(kubeconfig string, timeout time.Duration) (*instanceChecker, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig %q: %w", kubeconfig, err)
	}
	scheme := runtime.NewScheme()
	if err := tenantryv1alpha1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("building scheme: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("building client: %w", err)
	}
	return &instanceChecker{c: c, timeout: timeout}, nil
}

// verify waits until the TenantInstance matches want, and reports what differs when it does not
// within the timeout.
func (k *instanceChecker) verify(ctx context.Context, _ string, want simulator.Expectation) error {
	ctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	for {
		diffs, err := k.check(ctx, want)
		if err == nil && len(diffs) == 0 {
			return nil
		}
		t := time.NewTimer(verifyPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			if err != nil {
				return err
			}
			return fmt.Errorf("TenantInstance %q: %s", want.InstanceID, strings.Join(diffs, "; "))
		case <-t.C:
		}
	}
}

func (k *instanceChecker) check(ctx context.Context, want simulator.Expectation) ([]string, error) {
	ti := &tenantryv1alpha1.TenantInstance{}
	err := k.c.Get(ctx, client.ObjectKey{Name: want.InstanceID}, ti)
	switch {
	case apierrors.IsNotFound(err):
		ti = nil
	case err != nil:
		return nil, fmt.Errorf("reading TenantInstance %q: %w", want.InstanceID, err)
	}
	return compareInstance(ti, want), nil
}

// absent fails when a TenantInstance of that name exists: a debug call must create nothing.
func (k *instanceChecker) absent(ctx context.Context, id string) error {
	err := k.c.Get(ctx, client.ObjectKey{Name: id}, &tenantryv1alpha1.TenantInstance{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("reading TenantInstance %q: %w", id, err)
	}
	return fmt.Errorf("the debug newInstance created TenantInstance %q", id)
}

// compareInstance lists how ti (nil: it does not exist) differs from want.
func compareInstance(ti *tenantryv1alpha1.TenantInstance, want simulator.Expectation) []string {
	if want.Released {
		if ti != nil && ti.DeletionTimestamp == nil {
			return []string{"still exists and is not being deleted"}
		}
		return nil
	}
	if ti == nil {
		return []string{"does not exist"}
	}
	var d []string
	differ := func(field string, got, want any) {
		d = append(d, fmt.Sprintf("%s is %v, want %v", field, got, want))
	}
	s := ti.Spec
	if want.SKU != "" && s.SKU != want.SKU {
		differ("spec.sku", quoted(s.SKU), quoted(want.SKU))
	}
	if want.ProductID != "" && s.ProductID != want.ProductID {
		differ("spec.productId", quoted(s.ProductID), quoted(want.ProductID))
	}
	if want.Quantity != 0 && quantity(s.Quantity) != want.Quantity {
		differ("spec.quantity", quantity(s.Quantity), want.Quantity)
	}
	if !want.ExpiresAt.IsZero() && (s.ExpiresAt == nil || !s.ExpiresAt.Time.Equal(want.ExpiresAt)) {
		differ("spec.expiresAt", timeOf(s.ExpiresAt), want.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if want.Trial != nil && s.Order.Trial != *want.Trial {
		differ("spec.order.trial", s.Order.Trial, *want.Trial)
	}
	if want.Frozen != nil {
		if frozen := s.Lifecycle == tenantryv1alpha1.LifecycleFrozen; frozen != *want.Frozen {
			differ("spec.lifecycle", quoted(string(s.Lifecycle)), map[bool]string{true: `"Frozen"`, false: `"Active"`}[*want.Frozen])
		}
	}
	if want.NoPendingChange && s.PendingChange != nil {
		d = append(d, fmt.Sprintf("spec.pendingChange is %+v, want none", *s.PendingChange))
	}
	if w := want.PendingChange; w != nil {
		switch p := s.PendingChange; p {
		case nil:
			d = append(d, "spec.pendingChange is missing")
		default:
			if p.SKU != w.SKU {
				differ("spec.pendingChange.sku", quoted(p.SKU), quoted(w.SKU))
			}
			if w.Quantity != 0 && quantity(p.Quantity) != w.Quantity {
				differ("spec.pendingChange.quantity", quantity(p.Quantity), w.Quantity)
			}
			if w.OrderID != "" && p.OrderID != w.OrderID {
				differ("spec.pendingChange.orderId", quoted(p.OrderID), quoted(w.OrderID))
			}
			if !w.EffectiveAt.IsZero() && !p.EffectiveAt.Time.Equal(w.EffectiveAt) {
				differ("spec.pendingChange.effectiveAt", p.EffectiveAt.UTC().Format(time.RFC3339), w.EffectiveAt.UTC().Format(time.RFC3339))
			}
		}
	}
	if len(want.AppliedOrders) > 0 {
		var applied []simulator.AppliedOrderRef
		if m := s.Marketplace; m != nil {
			for _, a := range m.AppliedOrders {
				applied = append(applied, simulator.AppliedOrderRef{OrderID: a.OrderID, Scene: string(a.Scene)})
			}
		}
		for _, m := range want.Missing(applied) {
			d = append(d, fmt.Sprintf("spec.marketplace.appliedOrders lacks (%s, %s)", m.OrderID, m.Scene))
		}
	}
	return d
}

// quantity reads spec.quantity with its schema default.
func quantity(q int32) int {
	if q == 0 {
		return 1
	}
	return int(q)
}

func quoted(s string) string { return fmt.Sprintf("%q", s) }

func timeOf(t *metav1.Time) string {
	if t.IsZero() {
		return "unset"
	}
	return t.UTC().Format(time.RFC3339)
}
