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

package chaos

import (
	"context"
	"fmt"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/test/e2e/framework/suite"
)

// The kwok nodes play a Pod's stages (Running on creation, gone once deleted) once, when its
// watch event arrives, and drop a stage whose write the API server refuses with anything but a
// timeout, a 429 or a 503. Killing etcd (or the API server) while such a write is in flight
// fails it with a 500 or a broken connection, and the Pod then stays Terminating (or Pending)
// for good: its Deployment keeps reporting a terminating replica, and the tenant, rightly, never
// reports Frozen. A kubelet retries until it succeeds. So while the suite waits for convergence
// it stands in for that retry: a Pod kwok has visibly dropped gets an annotation, whose watch
// event makes kwok play its stage again. Nothing of the operator's is touched, and every Pod so
// resynced is counted in its scenario's figures.
const (
	// stuckTerminating is how long past its deletionTimestamp (the end of its grace period) a
	// Pod may still exist: kwok deletes a Pod as soon as it sees its deletion start.
	stuckTerminating = 10 * time.Second
	// stuckPending is how long a Pod bound to a node may stay Pending: kwok reports it Running
	// within a second.
	stuckPending = 30 * time.Second
	// resyncEvery is how often one Pod is resynced at most.
	resyncEvery = 10 * time.Second
	// annotationResync is the annotation whose change makes kwok play a Pod's stage again.
	annotationResync = "chaos.tenantry.io/resync"
)

// stuckPods are the Pods kwok has visibly dropped at now: deleted and still there stuckTerminating
// after their grace period ended, or bound to a node and still Pending stuckPending after their
// creation.
func stuckPods(pods []corev1.Pod, now time.Time) []corev1.Pod {
	var stuck []corev1.Pod
	for _, p := range pods {
		switch {
		case p.DeletionTimestamp != nil:
			if now.Sub(p.DeletionTimestamp.Time) > stuckTerminating {
				stuck = append(stuck, p)
			}
		case p.Spec.NodeName != "" && p.Status.Phase == corev1.PodPending:
			if now.Sub(p.CreationTimestamp.Time) > stuckPending {
				stuck = append(stuck, p)
			}
		}
	}
	return stuck
}

// resyncer makes kwok play again the stages of the Pods it dropped (see stuckPods), at most every
// resyncEvery per Pod, and remembers which it resynced.
type resyncer struct {
	last map[types.UID]time.Time
}

// resync annotates each Pod of w that is stuck at now, and logs it.
func (r *resyncer) resync(ctx context.Context, t *scenarioT, w *world, now time.Time) {
	var pods []corev1.Pod
	for _, byInstance := range []map[string][]corev1.Pod{w.pods, w.terminating} {
		for _, ps := range byInstance {
			pods = append(pods, ps...)
		}
	}
	for _, p := range stuckPods(pods, now) {
		if last, ok := r.last[p.UID]; ok && now.Sub(last) < resyncEvery {
			continue
		}
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, annotationResync, strconv.FormatInt(now.UnixMilli(), 10))
		if err := admin.Patch(ctx, &p, client.RawPatch(types.MergePatchType, patch)); err != nil {
			// Gone meanwhile, or the API server is down: tried again at the next poll.
			t.Logf("resync: Pod %s/%s left by kwok: %v", p.Namespace, p.Name, err)
			continue
		}
		t.Logf("resync: Pod %s/%s (%s, deletion %v) left by kwok: annotated", p.Namespace, p.Name, p.Status.Phase, p.DeletionTimestamp)
		if r.last == nil {
			r.last = map[types.UID]time.Time{}
		}
		r.last[p.UID] = now
		t.resynced(p.UID)
	}
}

var _ = Describe("Resyncing Pods kwok dropped", Label(suite.Unit), func() {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	pod := func(name string, change func(*corev1.Pod)) corev1.Pod {
		p := corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
			Spec:       corev1.PodSpec{NodeName: "node-000000"},
			Status:     corev1.PodStatus{Phase: corev1.PodRunning},
		}
		change(&p)
		return p
	}
	at := func(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(d)); return &t }

	It("finds the Pods terminating past their grace period or pending on a node too long, and no others", func() {
		pods := []corev1.Pod{
			pod("running", func(*corev1.Pod) {}),
			pod("terminating-in-grace", func(p *corev1.Pod) { p.DeletionTimestamp = at(20 * time.Second) }),
			pod("terminating-just-past", func(p *corev1.Pod) { p.DeletionTimestamp = at(-stuckTerminating + time.Second) }),
			pod("terminating-stuck", func(p *corev1.Pod) { p.DeletionTimestamp = at(-stuckTerminating - time.Second) }),
			pod("pending-new", func(p *corev1.Pod) {
				p.Status.Phase, p.CreationTimestamp = corev1.PodPending, *at(-stuckPending + time.Second)
			}),
			pod("pending-stuck", func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }),
			pod("pending-unscheduled", func(p *corev1.Pod) { p.Status.Phase, p.Spec.NodeName = corev1.PodPending, "" }),
		}
		var names []string
		for _, p := range stuckPods(pods, now) {
			names = append(names, p.Name)
		}
		Expect(names).To(Equal([]string{"terminating-stuck", "pending-stuck"}))
	})
})
