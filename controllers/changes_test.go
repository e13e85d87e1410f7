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
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// lines is a logger that keeps every line it is given.
type lines struct {
	mu  sync.Mutex
	all []string
}

func (l *lines) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.all = append(l.all, prefix+" "+args)
	}, funcr.Options{})
}

// take returns the "Reconciled" lines logged since the last take.
func (l *lines) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.all {
		if strings.Contains(line, `"msg"="Reconciled"`) {
			out = append(out, line)
		}
	}
	l.all = nil
	return out
}

// TestOneLogLinePerReconcileThatChangedSomething: a reconcile that changes something logs one
// line saying what; one that changes nothing logs nothing.
func TestOneLogLinePerReconcileThatChangedSomething(t *testing.T) {
	g := NewWithT(t)
	l := startLone(t)
	req := l.tenant(g, "logged", "SKU-LOGGED")
	r := l.reconciler(nil)
	log := &lines{}
	ctx := logr.NewContext(l.ctx, log.logger())

	_, err := r.Reconcile(ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	first := log.take()
	g.Expect(first).To(HaveLen(1), "one line for the first reconcile: %q", first)
	g.Expect(first[0]).To(ContainSubstring("finalizer added"))
	g.Expect(first[0]).To(ContainSubstring("Namespace/tenant-logged created"))
	g.Expect(first[0]).To(ContainSubstring("Deployment/app applied"))
	g.Expect(first[0]).To(ContainSubstring("status"))

	// Once the caches have seen the operator's own writes, a reconcile changes nothing, and
	// says nothing; every reconcile on the way says at most one line.
	g.Eventually(func(g Gomega) {
		_, err := r.Reconcile(ctx, req)
		g.Expect(err).NotTo(HaveOccurred())
		got := log.take()
		g.Expect(len(got)).To(BeNumerically("<=", 1), "at most one line per reconcile: %q", got)
		g.Expect(got).To(BeEmpty(), "a reconcile with nothing to change logs nothing: %q", got)
	}).Should(Succeed())

	// A change of the plan is one line naming what it changed.
	plan := &tenantryv1alpha1.TenantPlan{}
	g.Expect(l.direct.Get(l.ctx, client.ObjectKey{Name: "logged-plan"}, plan)).To(Succeed())
	plan.Spec.App.Image = "registry.example.com/app:2.0"
	g.Expect(l.direct.Update(l.ctx, plan)).To(Succeed())
	l.synced(g, client.ObjectKey{Name: "logged-plan"}, &tenantryv1alpha1.TenantPlan{})
	g.Eventually(func(g Gomega) {
		_, err := r.Reconcile(ctx, req)
		g.Expect(err).NotTo(HaveOccurred())
		got := log.take()
		g.Expect(got).To(HaveLen(1))
		g.Expect(got[0]).To(ContainSubstring("Deployment/app updated"))
		g.Expect(got[0]).NotTo(ContainSubstring("Namespace/"), "only what changed")
	}).Should(Succeed())
}
