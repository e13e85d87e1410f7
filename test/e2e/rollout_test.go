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
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

const (
	skuRollout  = "e2e.rollout"
	planRollout = "e2e-rollout"
	// neverReadyImage runs but never becomes Ready on the kwok cluster (hack/kwok/stages-never-ready.yaml).
	neverReadyImage = "registry.example.com/tenantry/never-ready:1.0"
	// rolloutDeadline is the plan's progressDeadline: the canary fails that long after it moved.
	// Shorter only makes the spec faster; the broken canary never becomes Ready however long it waits.
	rolloutDeadline = 20 * time.Second
)

// A broken release reaches the canary only: the rollout halts when the canary is not Ready
// within the progress deadline, the canary goes back to the previous revision, and no other
// tenant of the plan is touched at any moment — same image, same Ready pods.
var _ = Describe("A plan rollout", Label("rollout"), func() {
	It("halts on a broken canary and rolls it back without touching the other tenants", func(ctx SpecContext) {
		g := Default
		spec := planSpec(1, "1", "1Gi", skuRollout)
		spec.Rollout = &tenantryv1alpha1.RolloutStrategy{
			Canary:           ptrIntOrString(intstr.FromInt32(1)),
			BakeTime:         &metav1.Duration{},
			ProgressDeadline: &metav1.Duration{Duration: rolloutDeadline},
		}
		plan := &tenantryv1alpha1.TenantPlan{ObjectMeta: metav1.ObjectMeta{Name: planRollout}, Spec: spec}
		g.Expect(admin.Create(ctx, plan)).To(Succeed())
		// Registered first, so it runs after the tenants are released.
		DeferCleanup(func(ctx context.Context) {
			Expect(client.IgnoreNotFound(admin.Delete(ctx, plan))).To(Succeed())
		})
		oldImage := spec.App.Image

		By("four tenants bought on the plan, one in the canary ring")
		var ids []string
		// The bridge learns of the new plan's SKU from its cache: the first purchase may come
		// before it does.
		Eventually(func(g Gomega) {
			_, id := buy(g, skuRollout)
			ids = append(ids, id)
		}).Should(Succeed())
		for range 3 {
			_, id := buy(g, skuRollout)
			ids = append(ids, id)
		}
		for _, id := range ids {
			releaseOnCleanup(id)
		}
		canary, others := ids[0], ids[1:]
		g.Expect(admin.Patch(ctx, &tenantryv1alpha1.TenantInstance{ObjectMeta: metav1.ObjectMeta{Name: canary}}, client.RawPatch(types.MergePatchType,
			fmt.Appendf(nil, `{"metadata":{"labels":{%q:%q}}}`, tenantryv1alpha1.LabelRolloutRing, tenantryv1alpha1.RolloutRingCanary)))).To(Succeed())

		By("the first rollout completes with every tenant Ready")
		var stable string
		Eventually(func(g Gomega) {
			p := getPlan(g, ctx)
			g.Expect(p.Status.Rollout).NotTo(BeNil())
			g.Expect(p.Status.Rollout.Phase).To(Equal(tenantryv1alpha1.RolloutComplete))
			g.Expect(p.Status.Rollout.Tenants).To(BeEquivalentTo(4))
			g.Expect(p.Status.Rollout.Ready).To(BeEquivalentTo(4))
			g.Expect(p.Status.StableRevision).NotTo(BeEmpty())
			stable = p.Status.StableRevision
		}).Should(Succeed())
		for _, id := range ids {
			expectRunning(id, 1)
			Eventually(func(g Gomega) {
				g.Expect(instance(g, id).Status.Revision).To(Equal(stable))
				g.Expect(deploymentImage(g, ctx, id)).To(Equal(oldImage))
			}).Should(Succeed())
		}
		Eventually(func(g Gomega) {
			g.Expect(rolloutHaltedMetric(g, ctx)).To(Equal("0"))
		}).Should(Succeed())
		podUIDs := map[string][]types.UID{}
		for _, id := range others {
			for _, p := range pods(g, id) {
				g.Expect(podReady(&p)).To(BeTrue(), "pod %s of %s", p.Name, id)
				podUIDs[id] = append(podUIDs[id], p.UID)
			}
			g.Expect(podUIDs[id]).To(HaveLen(1))
		}

		By("watching the other tenants from now to the end")
		guard := watchUntouched(ctx, others, podUIDs, oldImage, stable)
		DeferCleanup(guard.stop)

		By("the plan ships the never-ready image")
		g.Eventually(func(g Gomega) {
			p := getPlan(g, ctx)
			p.Spec.App.Image = neverReadyImage
			g.Expect(admin.Update(ctx, p)).To(Succeed())
		}).Should(Succeed())

		By("the canary's Deployment takes it, and its pod never becomes Ready")
		var broken string
		Eventually(func(g Gomega) {
			g.Expect(deploymentImage(g, ctx, canary)).To(Equal(neverReadyImage))
			p := getPlan(g, ctx)
			g.Expect(p.Status.UpdateRevision).NotTo(Equal(stable))
			broken = p.Status.UpdateRevision
		}).Should(Succeed())

		By("the rollout halts and rolls the canary back")
		Eventually(func(g Gomega) {
			p := getPlan(g, ctx)
			g.Expect(p.Status.Rollout).NotTo(BeNil())
			g.Expect(p.Status.Rollout.Phase).To(Equal(tenantryv1alpha1.RolloutRolledBack), "rollout: %+v", p.Status.Rollout)
			g.Expect(p.Status.Rollout.FailedTenants).To(Equal([]string{canary}))
			g.Expect(p.Status.HaltedRevision).To(Equal(broken))
			g.Expect(p.Status.StableRevision).To(Equal(stable))
			stalled := meta.FindStatusCondition(p.Status.Conditions, tenantryv1alpha1.ConditionStalled)
			g.Expect(stalled).NotTo(BeNil())
			g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(stalled.Reason).To(Equal(tenantryv1alpha1.ReasonRolledBack))
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			events, err := clientset.EventsV1().Events(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			var notes []string
			for _, e := range events.Items {
				if e.Regarding.Kind == "TenantPlan" && e.Regarding.Name == planRollout && e.Reason == tenantryv1alpha1.ReasonRolloutHalted {
					notes = append(notes, e.Note)
				}
			}
			g.Expect(notes).To(ConsistOf(And(ContainSubstring(broken), ContainSubstring(canary))))
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(rolloutHaltedMetric(g, ctx)).To(Equal("1"))
		}).Should(Succeed())

		By("the canary runs the previous image again, Ready")
		expectRunning(canary, 1)
		Eventually(func(g Gomega) {
			ti := instance(g, canary)
			readyFor(g, ti)
			g.Expect(ti.Status.Revision).To(Equal(stable))
			g.Expect(ti.Annotations).To(HaveKeyWithValue(tenantryv1alpha1.AnnotationPlanRevision, stable))
			g.Expect(deploymentImage(g, ctx, canary)).To(Equal(oldImage))
			for _, p := range pods(g, canary) {
				g.Expect(p.Spec.Containers[0].Image).To(Equal(oldImage), "pod %s", p.Name)
				g.Expect(podReady(&p)).To(BeTrue(), "pod %s", p.Name)
			}
		}).Should(Succeed())

		By("a tenant bought after the halt starts on the previous image")
		_, late := buy(g, skuRollout)
		releaseOnCleanup(late)
		expectRunning(late, 1)
		Eventually(func(g Gomega) {
			g.Expect(instance(g, late).Status.Revision).To(Equal(stable))
			g.Expect(deploymentImage(g, ctx, late)).To(Equal(oldImage))
		}).Should(Succeed())
		p := getPlan(g, ctx)
		g.Expect(p.Status.Rollout.Phase).To(Equal(tenantryv1alpha1.RolloutRolledBack), "a new tenant resumes nothing")

		By("no other tenant was touched at any moment")
		guard.stop()
		g.Expect(guard.violations()).To(BeEmpty())
		for _, id := range others {
			var uids []types.UID
			for _, p := range pods(g, id) {
				g.Expect(podReady(&p)).To(BeTrue(), "pod %s of %s", p.Name, id)
				uids = append(uids, p.UID)
			}
			g.Expect(uids).To(Equal(podUIDs[id]), "the pods of %s", id)
			g.Expect(deploymentImage(g, ctx, id)).To(Equal(oldImage))
		}
	}, SpecTimeout(4*time.Minute))
})

func ptrIntOrString(v intstr.IntOrString) *intstr.IntOrString { return &v }

func getPlan(g Gomega, ctx context.Context) *tenantryv1alpha1.TenantPlan {
	p := &tenantryv1alpha1.TenantPlan{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Name: planRollout}, p)).To(Succeed())
	return p
}

// deploymentImage is the image of the tenant's app Deployment.
func deploymentImage(g Gomega, ctx context.Context, id string) string {
	d := &appsv1.Deployment{}
	g.Expect(admin.Get(ctx, client.ObjectKey{Namespace: "tenant-" + id, Name: "app"}, d)).To(Succeed())
	g.Expect(d.Spec.Template.Spec.Containers).NotTo(BeEmpty())
	return d.Spec.Template.Spec.Containers[0].Image
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// rolloutHaltedMetric scrapes the operator's tenantry_rollout_halted for the plan.
func rolloutHaltedMetric(g Gomega, ctx context.Context) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, components.ManagerMetrics+"/metrics", nil)
	g.Expect(err).NotTo(HaveOccurred())
	resp, err := http.DefaultClient.Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	prefix := fmt.Sprintf("tenantry_rollout_halted{plan=%q} ", planRollout)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			return v
		}
	}
	g.Expect(sc.Err()).NotTo(HaveOccurred())
	return ""
}

// untouched watches tenants that a rollout must leave alone; it records every change that
// shows one was touched: a pod added, deleted or not Ready, the Deployment's image changed, the
// tenant not Ready or assigned another revision.
type untouched struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
	mu     sync.Mutex
	seen   []string
}

func (u *untouched) violate(format string, args ...any) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.seen = append(u.seen, fmt.Sprintf(format, args...))
}

func (u *untouched) violations() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.seen)
}

func (u *untouched) stop() {
	u.cancel()
	u.done.Wait()
}

// watchUntouched starts watching the tenants ids, whose pods are podUIDs, on image and revision,
// from the state the cluster is in now: each watch starts at the resourceVersion of a list that
// is checked first, so no change between the check and the end escapes it.
func watchUntouched(ctx context.Context, ids []string, podUIDs map[string][]types.UID, image, revision string) *untouched {
	GinkgoHelper()
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	u := &untouched{cancel: cancel}
	selector := fmt.Sprintf("%s in (%s)", tenantryv1alpha1.LabelInstance, strings.Join(ids, ","))
	isOurs := func(id string) bool { return slices.Contains(ids, id) }

	checkPod := func(p *corev1.Pod, event watch.EventType) {
		id := p.Labels[tenantryv1alpha1.LabelInstance]
		switch {
		case event == watch.Deleted || p.DeletionTimestamp != nil:
			u.violate("pod %s of %s deleted", p.Name, id)
		case !slices.Contains(podUIDs[id], p.UID):
			u.violate("new pod %s of %s", p.Name, id)
		case !podReady(p):
			u.violate("pod %s of %s not Ready", p.Name, id)
		case p.Spec.Containers[0].Image != image:
			u.violate("pod %s of %s runs %s", p.Name, id, p.Spec.Containers[0].Image)
		}
	}
	checkDeployment := func(d *appsv1.Deployment) {
		id := d.Labels[tenantryv1alpha1.LabelInstance]
		if d.Name == "app" && d.Spec.Template.Spec.Containers[0].Image != image {
			u.violate("the Deployment of %s runs %s", id, d.Spec.Template.Spec.Containers[0].Image)
		}
	}
	checkInstance := func(ti *tenantryv1alpha1.TenantInstance) {
		if !isOurs(ti.Name) {
			return
		}
		if !meta.IsStatusConditionTrue(ti.Status.Conditions, tenantryv1alpha1.ConditionReady) {
			u.violate("%s not Ready: %v", ti.Name, meta.FindStatusCondition(ti.Status.Conditions, tenantryv1alpha1.ConditionReady))
		}
		if got := ti.Annotations[tenantryv1alpha1.AnnotationPlanRevision]; got != revision {
			u.violate("%s assigned revision %s", ti.Name, got)
		}
		if ti.Status.Revision != revision {
			u.violate("%s reports revision %s", ti.Name, ti.Status.Revision)
		}
	}

	podList, err := clientset.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: selector})
	Expect(err).NotTo(HaveOccurred())
	for i := range podList.Items {
		checkPod(&podList.Items[i], watch.Added)
	}
	depList, err := clientset.AppsV1().Deployments(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: selector})
	Expect(err).NotTo(HaveOccurred())
	Expect(depList.Items).To(HaveLen(len(ids)))
	for i := range depList.Items {
		checkDeployment(&depList.Items[i])
	}
	tiList := &tenantryv1alpha1.TenantInstanceList{}
	Expect(admin.List(ctx, tiList)).To(Succeed())
	for i := range tiList.Items {
		checkInstance(&tiList.Items[i])
	}
	Expect(u.violations()).To(BeEmpty(), "the tenants were not in the expected state to start with")

	tiWatcher, err := client.NewWithWatch(cluster.Config, client.Options{Scheme: admin.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	follow := func(name, rv string, w func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error), check func(watch.Event)) {
		rw, err := watchtools.NewRetryWatcherWithContext(wctx, rv, &cache.ListWatch{WatchFuncWithContext: w})
		Expect(err).NotTo(HaveOccurred())
		u.done.Go(func() {
			defer rw.Stop()
			for {
				select {
				case <-wctx.Done():
					return
				case e, ok := <-rw.ResultChan():
					if !ok {
						if wctx.Err() == nil {
							u.violate("the watch of %s ended", name)
						}
						return
					}
					switch e.Type {
					case watch.Error:
						u.violate("the watch of %s failed: %v", name, apierrors.FromObject(e.Object))
					case watch.Bookmark:
					default:
						check(e)
					}
				}
			}
		})
	}
	follow("pods", podList.ResourceVersion, func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		o.LabelSelector = selector
		return clientset.CoreV1().Pods(metav1.NamespaceAll).Watch(ctx, o)
	}, func(e watch.Event) { checkPod(e.Object.(*corev1.Pod), e.Type) })
	follow("deployments", depList.ResourceVersion, func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		o.LabelSelector = selector
		return clientset.AppsV1().Deployments(metav1.NamespaceAll).Watch(ctx, o)
	}, func(e watch.Event) {
		if e.Type == watch.Deleted {
			u.violate("a Deployment deleted")
			return
		}
		checkDeployment(e.Object.(*appsv1.Deployment))
	})
	follow("tenant instances", tiList.ResourceVersion, func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		return tiWatcher.Watch(ctx, &tenantryv1alpha1.TenantInstanceList{}, &client.ListOptions{Raw: &o})
	}, func(e watch.Event) {
		ti := e.Object.(*tenantryv1alpha1.TenantInstance)
		if e.Type == watch.Deleted && isOurs(ti.Name) {
			u.violate("%s deleted", ti.Name)
			return
		}
		checkInstance(ti)
	})
	return u
}
