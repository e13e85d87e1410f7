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

package e2e

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
)

// 50 tenants are bought at once; every one must run, and all are released at once: the bridge
// must answer every call and the operator must converge on all of them. How long it takes is
// logged, not asserted (speed is measured by make bench, never asserted in tests).
var _ = Describe("Concurrent tenants", Label("scale"), func() {
	It("are all bought, run and released when their calls arrive at once", func(ctx SpecContext) {
		concurrentTenants(ctx, Default)
	})
})

func concurrentTenants(ctx context.Context, g Gomega) {
	const tenants = 50
	start := time.Now()
	ids := make([]string, tenants)
	var wg sync.WaitGroup
	var errs errList
	for i := range ids {
		wg.Go(func() {
			if err := try(func(g Gomega) { _, ids[i] = buy(g, skuSmall) }); err != nil {
				errs.add(fmt.Errorf("buying tenant %d: %w", i, err))
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != "" {
			releaseOnCleanup(id)
		}
	}
	g.Expect(errs.all()).To(BeEmpty())
	g.Expect(unique(ids)).To(HaveLen(tenants), "every order line is an instance of its own")
	GinkgoWriter.Printf("%d newInstance calls answered in %s\n", tenants, time.Since(start).Round(time.Millisecond))

	g.Eventually(func(g Gomega) {
		list := &tenantryv1alpha1.TenantInstanceList{}
		g.Expect(admin.List(ctx, list)).To(Succeed())
		byName := map[string]*tenantryv1alpha1.TenantInstance{}
		for i := range list.Items {
			byName[list.Items[i].Name] = &list.Items[i]
		}
		notReady := 0
		for _, id := range ids {
			ti, ok := byName[id]
			g.Expect(ok).To(BeTrue(), "TenantInstance %s is missing", id)
			ready := meta.FindStatusCondition(ti.Status.Conditions, tenantryv1alpha1.ConditionReady)
			if ti.Status.State != tenantryv1alpha1.StateRunning || ready == nil || ready.Status != metav1.ConditionTrue ||
				ready.ObservedGeneration != ti.Generation {
				notReady++
			}
		}
		g.Expect(notReady).To(BeZero(), "%d of %d tenants are not Running yet", notReady, tenants)

		pods := &corev1.PodList{}
		g.Expect(admin.List(ctx, pods, client.HasLabels{tenantryv1alpha1.LabelInstance})).To(Succeed())
		running := map[string]int{}
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				running[p.Labels[tenantryv1alpha1.LabelInstance]]++
			}
		}
		for _, id := range ids {
			g.Expect(running[id]).To(Equal(1), "tenant %s runs %d pods", id, running[id])
		}
	}).WithTimeout(5 * time.Minute).Should(Succeed())
	GinkgoWriter.Printf("%d tenants Running %s after the first purchase\n", tenants, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	for i := range ids {
		wg.Go(func() {
			err := try(func(g Gomega) {
				send(g, func() (*simulator.Answer, error) { return market.Release(ctx, ids[i]) })
			})
			if err != nil {
				errs.add(fmt.Errorf("releasing %s: %w", ids[i], err))
			}
		})
	}
	wg.Wait()
	g.Expect(errs.all()).To(BeEmpty())
	for _, id := range ids {
		expectReleased(g, id)
	}
	GinkgoWriter.Printf("%d tenants and their namespaces gone %s after the release calls\n", tenants, time.Since(start).Round(time.Millisecond))
}

// errList collects the errors of concurrent calls.
type errList struct {
	mu   sync.Mutex
	errs []error
}

func (l *errList) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errList) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs)
}

func unique(ids []string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		if id != "" {
			m[id] = true
		}
	}
	return m
}
