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

package controllers_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controllers"
)

const (
	imageV1 = "registry.example.com/app:1.0"
	imageV2 = "registry.example.com/app:2.0"
)

func getPlan(g Gomega, name string) *tenantryv1alpha1.TenantPlan {
	p := &tenantryv1alpha1.TenantPlan{}
	g.Expect(k8s.Get(context.Background(), client.ObjectKey{Name: name}, p)).To(Succeed())
	return p
}

func image(g Gomega, instance string) string {
	return deployment(g, instance).Spec.Template.Spec.Containers[0].Image
}

// pokePlan makes the rollout controller look at the plan now, after the fake clock moved.
func pokePlan(g Gomega, name string) {
	p := getPlan(g, name)
	patch := client.MergeFrom(p.DeepCopy())
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations["test/poke"] = time.Now().String()
	g.Expect(k8s.Patch(context.Background(), p, patch)).To(Succeed())
}

// fleetOf creates a plan with the strategy and n tenants of it, all Ready on the plan's first
// revision, which has become the stable one.
func fleetOf(t *testing.T, plan string, strategy *tenantryv1alpha1.RolloutStrategy, names ...string) {
	t.Helper()
	g := NewWithT(t)
	sku := "SKU-" + plan
	p := newPlan(plan, sku)
	p.Spec.Rollout = strategy
	create(t, p)
	for _, n := range names {
		create(t, newInstance(n, sku))
	}
	for _, n := range names {
		g.Eventually(func(g Gomega) { rollOut(g, n) }).Should(Succeed())
	}
	g.Eventually(func(g Gomega) {
		p := getPlan(g, plan)
		g.Expect(p.Status.Rollout).NotTo(BeNil())
		g.Expect(p.Status.Rollout.Phase).To(Equal(tenantryv1alpha1.RolloutComplete))
		g.Expect(p.Status.Rollout.Ready).To(Equal(int32(len(names))))
		g.Expect(p.Status.StableRevision).To(Equal(p.Status.UpdateRevision))
	}).Should(Succeed())
}

// expectImages waits until each tenant's Deployment runs the image given, and checks that it
// stays so while the plan settles.
func expectImages(g Gomega, want map[string]string) {
	check := func(g Gomega) {
		for n, img := range want {
			g.Expect(image(g, n)).To(Equal(img), "tenant %s", n)
		}
	}
	g.Eventually(check).Should(Succeed())
	g.Consistently(check, 300*time.Millisecond, 50*time.Millisecond).Should(Succeed())
}

func expectPhase(g Gomega, plan string, phase tenantryv1alpha1.RolloutPhase) *tenantryv1alpha1.TenantPlan {
	var p *tenantryv1alpha1.TenantPlan
	g.Eventually(func(g Gomega) {
		p = getPlan(g, plan)
		g.Expect(p.Status.Rollout).NotTo(BeNil())
		g.Expect(p.Status.Rollout.Phase).To(Equal(phase), "rollout: %s", p.Status.Rollout.Message)
	}).Should(Succeed())
	return p
}

// A new image reaches the canary-ring tenant first, then, after the bake time, waves of two in
// name order, each wave only once the one before is Ready; every tenant's status names the
// revision it runs.
func TestRolloutMovesTheCanaryThenWavesInOrder(t *testing.T) {
	g := NewWithT(t)
	names := []string{"ro-wave-a", "ro-wave-b", "ro-wave-c", "ro-wave-d", "ro-wave-e"}
	fleetOf(t, "ro-wave", &tenantryv1alpha1.RolloutStrategy{
		Canary: ptr.To(intstr.FromInt32(1)), BakeTime: &metav1.Duration{Duration: 5 * time.Minute},
		WaveSize: ptr.To(intstr.FromInt32(2)), MaxUnavailable: ptr.To(intstr.FromInt32(2)),
	}, names...)
	updateInstance(t, "ro-wave-e", func(ti *tenantryv1alpha1.TenantInstance) {
		ti.Labels = map[string]string{tenantryv1alpha1.LabelRolloutRing: tenantryv1alpha1.RolloutRingCanary}
	})
	first := getPlan(g, "ro-wave").Status.UpdateRevision
	g.Eventually(func(g Gomega) { g.Expect(getInstance(g, "ro-wave-a").Status.Revision).To(Equal(first)) }).Should(Succeed())

	updatePlan(t, "ro-wave", func(p *tenantryv1alpha1.TenantPlan) { p.Spec.App.Image = imageV2 })
	// The canary: the labelled tenant only.
	expectImages(g, map[string]string{"ro-wave-e": imageV2, "ro-wave-a": imageV1, "ro-wave-b": imageV1, "ro-wave-c": imageV1, "ro-wave-d": imageV1})
	p := expectPhase(g, "ro-wave", tenantryv1alpha1.RolloutCanary)
	second := p.Status.UpdateRevision
	g.Expect(second).NotTo(Equal(first))
	g.Expect(meta.IsStatusConditionTrue(p.Status.Conditions, tenantryv1alpha1.ConditionReconciling)).To(BeTrue())
	revs := &appsv1.ControllerRevisionList{}
	g.Expect(k8s.List(context.Background(), revs, client.InNamespace(rolloutNamespace), client.MatchingLabels{tenantryv1alpha1.LabelPlan: "ro-wave"})).To(Succeed())
	g.Expect(revs.Items).To(HaveLen(2), "a ControllerRevision per app version")

	g.Eventually(func(g Gomega) { rollOut(g, "ro-wave-e") }).Should(Succeed())
	g.Eventually(func(g Gomega) { g.Expect(getInstance(g, "ro-wave-e").Status.Revision).To(Equal(second)) }).Should(Succeed())
	expectPhase(g, "ro-wave", tenantryv1alpha1.RolloutBaking)
	expectImages(g, map[string]string{"ro-wave-a": imageV1})

	fakeClock.Step(5*time.Minute + time.Second)
	pokePlan(g, "ro-wave")
	expectImages(g, map[string]string{"ro-wave-a": imageV2, "ro-wave-b": imageV2, "ro-wave-c": imageV1, "ro-wave-d": imageV1})
	p = expectPhase(g, "ro-wave", tenantryv1alpha1.RolloutWaves)
	g.Expect(p.Status.Rollout.Wave).To(Equal(int32(1)))

	// Half the wave Ready: the next wave waits.
	g.Eventually(func(g Gomega) { rollOut(g, "ro-wave-a") }).Should(Succeed())
	expectImages(g, map[string]string{"ro-wave-c": imageV1})
	g.Eventually(func(g Gomega) { rollOut(g, "ro-wave-b") }).Should(Succeed())
	expectImages(g, map[string]string{"ro-wave-c": imageV2, "ro-wave-d": imageV2})
	for _, n := range []string{"ro-wave-c", "ro-wave-d"} {
		g.Eventually(func(g Gomega) { rollOut(g, n) }).Should(Succeed())
	}
	p = expectPhase(g, "ro-wave", tenantryv1alpha1.RolloutComplete)
	g.Expect(p.Status.StableRevision).To(Equal(second))
	g.Expect(p.Status.Rollout.Updated).To(Equal(int32(5)))
	g.Expect(meta.IsStatusConditionFalse(p.Status.Conditions, tenantryv1alpha1.ConditionReconciling)).To(BeTrue())
	for _, n := range names {
		g.Eventually(func(g Gomega) { g.Expect(getInstance(g, n).Status.Revision).To(Equal(second)) }).Should(Succeed())
	}
}

// A canary not Ready within the progress deadline halts the rollout: the plan is Stalled, an
// Event names the tenant, the canary returns to the previous image, no other tenant ever moved,
// and a tenant created afterwards starts on the previous image.
func TestRolloutHaltsAtTheThresholdAndRollsBack(t *testing.T) {
	g := NewWithT(t)
	fleetOf(t, "ro-halt", nil, "ro-halt-a", "ro-halt-b", "ro-halt-c")
	updatePlan(t, "ro-halt", func(p *tenantryv1alpha1.TenantPlan) { p.Spec.App.Image = imageV2 })
	expectImages(g, map[string]string{"ro-halt-a": imageV2, "ro-halt-b": imageV1, "ro-halt-c": imageV1})

	fakeClock.Step(tenantryv1alpha1.DefaultRolloutProgressDeadline + time.Second)
	pokePlan(g, "ro-halt")
	p := expectPhase(g, "ro-halt", tenantryv1alpha1.RolloutRolledBack)
	g.Expect(p.Status.HaltedRevision).To(Equal(p.Status.UpdateRevision))
	g.Expect(p.Status.Rollout.FailedTenants).To(Equal([]string{"ro-halt-a"}))
	stalled := meta.FindStatusCondition(p.Status.Conditions, tenantryv1alpha1.ConditionStalled)
	g.Expect(stalled).NotTo(BeNil())
	g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
	g.Expect(stalled.Message).To(ContainSubstring("ro-halt-a"))
	g.Eventually(func(g Gomega) {
		g.Expect(eventReasons(g, "ro-halt")).To(ContainElement(tenantryv1alpha1.ReasonRolloutHalted))
	}).Should(Succeed())
	expectImages(g, map[string]string{"ro-halt-a": imageV1, "ro-halt-b": imageV1, "ro-halt-c": imageV1})

	create(t, newInstance("ro-halt-new", "SKU-ro-halt"))
	expectImages(g, map[string]string{"ro-halt-new": imageV1})
	g.Eventually(func(g Gomega) {
		g.Expect(getInstance(g, "ro-halt-new").Annotations).To(HaveKeyWithValue(tenantryv1alpha1.AnnotationPlanRevision, p.Status.StableRevision))
	}).Should(Succeed())

	// A fixed version is a new revision: its rollout starts again from the canary.
	updatePlan(t, "ro-halt", func(p *tenantryv1alpha1.TenantPlan) { p.Spec.App.Image = "registry.example.com/app:2.1" })
	expectPhase(g, "ro-halt", tenantryv1alpha1.RolloutCanary)
	expectImages(g, map[string]string{"ro-halt-a": "registry.example.com/app:2.1", "ro-halt-b": imageV1})
}

// Without autoRollback a halted rollout moves nothing: the failed canary stays where it is.
func TestRolloutHaltWithoutRollbackMovesNothing(t *testing.T) {
	g := NewWithT(t)
	fleetOf(t, "ro-stop", &tenantryv1alpha1.RolloutStrategy{AutoRollback: ptr.To(false)}, "ro-stop-a", "ro-stop-b")
	updatePlan(t, "ro-stop", func(p *tenantryv1alpha1.TenantPlan) { p.Spec.App.Image = imageV2 })
	expectImages(g, map[string]string{"ro-stop-a": imageV2, "ro-stop-b": imageV1})
	fakeClock.Step(tenantryv1alpha1.DefaultRolloutProgressDeadline + time.Second)
	pokePlan(g, "ro-stop")
	expectPhase(g, "ro-stop", tenantryv1alpha1.RolloutHalted)
	// Even once the canary recovers, the halt stands.
	g.Eventually(func(g Gomega) { rollOut(g, "ro-stop-a") }).Should(Succeed())
	pokePlan(g, "ro-stop")
	expectImages(g, map[string]string{"ro-stop-a": imageV2, "ro-stop-b": imageV1})
	expectPhase(g, "ro-stop", tenantryv1alpha1.RolloutHalted)
}

// A paused rollout moves nothing; resumed, it moves every tenant but the held one, which is
// reported. The all-at-once strategy (no canary, one wave of everyone) moves them together.
func TestRolloutPauseResumeAndHolds(t *testing.T) {
	g := NewWithT(t)
	allAtOnce := &tenantryv1alpha1.RolloutStrategy{
		Paused: true, Canary: ptr.To(intstr.FromInt32(0)), BakeTime: &metav1.Duration{},
		WaveSize: ptr.To(intstr.FromString("100%")), MaxUnavailable: ptr.To(intstr.FromString("100%")),
	}
	fleetOf(t, "ro-pause", allAtOnce, "ro-pause-a", "ro-pause-b", "ro-pause-c")
	updateInstance(t, "ro-pause-b", func(ti *tenantryv1alpha1.TenantInstance) {
		ti.Annotations[tenantryv1alpha1.AnnotationHoldRevision] = "true"
	})
	updatePlan(t, "ro-pause", func(p *tenantryv1alpha1.TenantPlan) { p.Spec.App.Image = imageV2 })
	expectPhase(g, "ro-pause", tenantryv1alpha1.RolloutPaused)
	expectImages(g, map[string]string{"ro-pause-a": imageV1, "ro-pause-b": imageV1, "ro-pause-c": imageV1})

	updatePlan(t, "ro-pause", func(p *tenantryv1alpha1.TenantPlan) { p.Spec.Rollout.Paused = false })
	expectImages(g, map[string]string{"ro-pause-a": imageV2, "ro-pause-b": imageV1, "ro-pause-c": imageV2})
	for _, n := range []string{"ro-pause-a", "ro-pause-c"} {
		g.Eventually(func(g Gomega) { rollOut(g, n) }).Should(Succeed())
	}
	p := expectPhase(g, "ro-pause", tenantryv1alpha1.RolloutComplete)
	g.Expect(p.Status.Rollout.Held).To(Equal(int32(1)))
	g.Expect(p.Status.Rollout.HeldTenants).To(Equal([]string{"ro-pause-b"}))
	g.Expect(p.Status.Rollout.Failed).To(BeZero())

	// Released, the held tenant takes the plan's revision.
	updateInstance(t, "ro-pause-b", func(ti *tenantryv1alpha1.TenantInstance) {
		delete(ti.Annotations, tenantryv1alpha1.AnnotationHoldRevision)
	})
	expectImages(g, map[string]string{"ro-pause-b": imageV2})
}

// During a rollout, a tenant created on the plan starts on the new revision at once, and a tenant
// whose SKU moves it to another plan takes that plan's app at once; a frozen tenant takes the new
// revision without waiting for the canary.
func TestRolloutNewTenantsUpgradesAndFrozenTenantsMoveAtOnce(t *testing.T) {
	g := NewWithT(t)
	fleetOf(t, "ro-new", nil, "ro-new-a", "ro-new-b", "ro-new-frozen")
	large := newPlan("ro-new-large", "SKU-ro-new-large")
	large.Spec.App.Image = "registry.example.com/app:1.0-large"
	create(t, large)
	updateInstance(t, "ro-new-frozen", func(ti *tenantryv1alpha1.TenantInstance) {
		ti.Spec.Lifecycle = tenantryv1alpha1.LifecycleFrozen
	})
	g.Eventually(func(g Gomega) { g.Expect(*deployment(g, "ro-new-frozen").Spec.Replicas).To(BeZero()) }).Should(Succeed())

	updatePlan(t, "ro-new", func(p *tenantryv1alpha1.TenantPlan) { p.Spec.App.Image = imageV2 })
	expectPhase(g, "ro-new", tenantryv1alpha1.RolloutCanary)
	expectImages(g, map[string]string{"ro-new-a": imageV2, "ro-new-b": imageV1, "ro-new-frozen": imageV2})

	create(t, newInstance("ro-new-late", "SKU-ro-new"))
	expectImages(g, map[string]string{"ro-new-late": imageV2, "ro-new-b": imageV1})

	updateInstance(t, "ro-new-b", func(ti *tenantryv1alpha1.TenantInstance) { ti.Spec.SKU = "SKU-ro-new-large" })
	expectImages(g, map[string]string{"ro-new-b": "registry.example.com/app:1.0-large"})
	g.Eventually(func(g Gomega) {
		rev := getInstance(g, "ro-new-b").Annotations[tenantryv1alpha1.AnnotationPlanRevision]
		g.Expect(rev).To(Equal(getPlan(g, "ro-new-large").Status.UpdateRevision))
	}).Should(Succeed())
	p := getPlan(g, "ro-new")
	g.Expect(p.Status.Rollout.Tenants).To(Equal(int32(3)), "the upgraded tenant left the plan")
}

// A revision's name is the plan's name and a hash of its app: the same app, the same revision.
func TestRevisionNameFollowsTheApp(t *testing.T) {
	a, _, err := controllers.RevisionName("p", tenantryv1alpha1.AppSpec{Image: imageV1})
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := controllers.RevisionName("p", tenantryv1alpha1.AppSpec{Image: imageV1})
	c, _, _ := controllers.RevisionName("p", tenantryv1alpha1.AppSpec{Image: imageV2})
	if a != b || a == c || a[:2] != "p-" {
		t.Fatalf("revision names %q %q %q", a, b, c)
	}
}

// Old revisions beyond spec.rollout.revisionHistoryLimit are deleted, oldest first, but never the
// one a tenant runs; an app put back reuses its revision.
func TestRevisionHistoryIsBounded(t *testing.T) {
	g := NewWithT(t)
	fleetOf(t, "ro-hist", &tenantryv1alpha1.RolloutStrategy{RevisionHistoryLimit: ptr.To[int32](2)}, "ro-hist-a", "ro-hist-held")
	first := getPlan(g, "ro-hist").Status.UpdateRevision
	updateInstance(t, "ro-hist-held", func(ti *tenantryv1alpha1.TenantInstance) {
		ti.Annotations[tenantryv1alpha1.AnnotationHoldRevision] = "true"
	})
	revisions := func(g Gomega) []string {
		list := &appsv1.ControllerRevisionList{}
		g.Expect(k8s.List(context.Background(), list, client.InNamespace(rolloutNamespace), client.MatchingLabels{tenantryv1alpha1.LabelPlan: "ro-hist"})).To(Succeed())
		var names []string
		for _, r := range list.Items {
			names = append(names, r.Name)
		}
		return names
	}
	var latest string
	for i, img := range []string{imageV2, "registry.example.com/app:3.0", "registry.example.com/app:4.0"} {
		updatePlan(t, "ro-hist", func(p *tenantryv1alpha1.TenantPlan) { p.Spec.App.Image = img })
		expectImages(g, map[string]string{"ro-hist-a": img, "ro-hist-held": imageV1})
		g.Eventually(func(g Gomega) { rollOut(g, "ro-hist-a") }).Should(Succeed())
		g.Eventually(func(g Gomega) {
			p := getPlan(g, "ro-hist")
			g.Expect(p.Status.Rollout.Phase).To(Equal(tenantryv1alpha1.RolloutComplete))
			g.Expect(p.Status.StableRevision).To(Equal(p.Status.UpdateRevision), "change %d", i)
			latest = p.Status.UpdateRevision
		}).Should(Succeed())
	}
	// The held tenant's first revision and the current one; the two in between went.
	g.Eventually(func(g Gomega) { g.Expect(revisions(g)).To(ConsistOf(first, latest)) }).Should(Succeed())

	// Back to the held tenant's app: its revision is reused.
	updatePlan(t, "ro-hist", func(p *tenantryv1alpha1.TenantPlan) { p.Spec.App.Image = imageV1 })
	g.Eventually(func(g Gomega) { g.Expect(getPlan(g, "ro-hist").Status.UpdateRevision).To(Equal(first)) }).Should(Succeed())
	expectImages(g, map[string]string{"ro-hist-a": imageV1})
}
