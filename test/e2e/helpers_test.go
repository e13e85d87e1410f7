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
	"errors"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
)

// failure is a Gomega failure inside try.
type failure string

// try runs f with a Gomega that turns the first failed assertion into an error instead of
// failing the spec, so that f can run on a goroutine of its own.
func try(f func(g Gomega)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, ok := r.(failure)
			if !ok {
				panic(r)
			}
			err = errors.New(string(msg))
		}
	}()
	f(NewGomega(func(message string, _ ...int) { panic(failure(message)) }))
	return nil
}

// resent reports whether the marketplace would send a call again after this answer: the bridge
// asks for it with 000004 (in progress) and 000005 (try later).
func resent(a *simulator.Answer) bool {
	return a != nil && (a.ResultCode == simulator.ResultInProgress || a.ResultCode == simulator.ResultInternal)
}

// send makes a call the way the marketplace does, resending while the bridge asks for it, and
// returns the successful answer.
func send(g Gomega, call func() (*simulator.Answer, error)) *simulator.Answer {
	var answer *simulator.Answer
	g.Eventually(func(g Gomega) {
		a, err := call()
		g.Expect(err).NotTo(HaveOccurred())
		answer = a
		g.Expect(resent(a)).To(BeFalse(), "the bridge asked for a resend: %s %q", a.ResultCode, a.ResultMsg)
	}).Should(Succeed())
	g.Expect(answer.ResultCode).To(Equal(simulator.ResultSuccess), "the bridge answered %s %q", answer.ResultCode, answer.ResultMsg)
	return answer
}

// order registers an order with the simulated marketplace.
func order(g Gomega, spec simulator.OrderSpec) simulator.RegisteredOrder {
	o, err := orders.RegisterOrder(context.Background(), spec)
	g.Expect(err).NotTo(HaveOccurred())
	return o
}

// buy registers a new order for sku and sends newInstance; it returns the order and the
// instanceId the bridge answered.
func buy(g Gomega, sku string, mutate ...func(*simulator.OrderSpec)) (simulator.RegisteredOrder, string) {
	spec := simulator.OrderSpec{SKU: sku, OrderType: simulator.OrderTypeNew}
	for _, m := range mutate {
		m(&spec)
	}
	o := order(g, spec)
	a := send(g, func() (*simulator.Answer, error) {
		return market.Buy(context.Background(), o.OrderID, o.OrderLineID, false)
	})
	g.Expect(a.InstanceID).NotTo(BeEmpty(), "newInstance answered no instanceId")
	return o, a.InstanceID
}

// instance reads a TenantInstance.
func instance(g Gomega, id string) *tenantryv1alpha1.TenantInstance {
	ti := &tenantryv1alpha1.TenantInstance{}
	g.Expect(admin.Get(context.Background(), client.ObjectKey{Name: id}, ti)).To(Succeed())
	return ti
}

// readyFor checks that the operator has observed the current spec and says Ready.
func readyFor(g Gomega, ti *tenantryv1alpha1.TenantInstance) {
	g.Expect(ti.Status.ObservedGeneration).To(Equal(ti.Generation), "status of %s is not for the current spec", ti.Name)
	ready := meta.FindStatusCondition(ti.Status.Conditions, tenantryv1alpha1.ConditionReady)
	g.Expect(ready).NotTo(BeNil(), "%s has no Ready condition", ti.Name)
	g.Expect(ready.ObservedGeneration).To(Equal(ti.Generation))
	g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "%s is not Ready: %s", ti.Name, ready.Message)
}

// pods lists the tenant app's Pods that are not being deleted.
func pods(g Gomega, id string) []corev1.Pod {
	list := &corev1.PodList{}
	g.Expect(admin.List(context.Background(), list, client.InNamespace("tenant-"+id),
		client.MatchingLabels{tenantryv1alpha1.LabelInstance: id})).To(Succeed())
	var live []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			live = append(live, p)
		}
	}
	return live
}

// expectRunning waits until the tenant is Ready and Running with replicas app Pods Running on
// kwok nodes, and returns the instance.
func expectRunning(id string, replicas int) *tenantryv1alpha1.TenantInstance {
	GinkgoHelper()
	var ti *tenantryv1alpha1.TenantInstance
	Eventually(func(g Gomega) {
		ti = instance(g, id)
		readyFor(g, ti)
		g.Expect(ti.Status.State).To(Equal(tenantryv1alpha1.StateRunning))
		g.Expect(ti.Status.ReadyReplicas).To(BeEquivalentTo(replicas))
		running := pods(g, id)
		g.Expect(running).To(HaveLen(replicas))
		for _, p := range running {
			g.Expect(p.Status.Phase).To(Equal(corev1.PodRunning), "pod %s", p.Name)
			g.Expect(p.Spec.NodeName).To(HavePrefix("node-"), "pod %s is not on a kwok node", p.Name)
		}
	}).Should(Succeed(), "tenant %s never ran %d replicas", id, replicas)
	return ti
}

// expectFrozen waits until the tenant is Frozen, scaled to zero and without Pods.
func expectFrozen(id string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		ti := instance(g, id)
		readyFor(g, ti)
		g.Expect(ti.Status.State).To(Equal(tenantryv1alpha1.StateFrozen))
		g.Expect(meta.IsStatusConditionTrue(ti.Status.Conditions, tenantryv1alpha1.ConditionFrozen)).To(BeTrue())
		d := &appsv1.Deployment{}
		g.Expect(admin.Get(context.Background(), client.ObjectKey{Namespace: "tenant-" + id, Name: "app"}, d)).To(Succeed())
		g.Expect(d.Spec.Replicas).To(HaveValue(BeEquivalentTo(0)))
		all := &corev1.PodList{}
		g.Expect(admin.List(context.Background(), all, client.InNamespace("tenant-"+id))).To(Succeed())
		g.Expect(all.Items).To(BeEmpty(), "a frozen tenant still has Pods")
	}).Should(Succeed(), "tenant %s never froze", id)
}

// expectReleased waits until the TenantInstance and its namespace are gone.
func expectReleased(g Gomega, id string) {
	g.Eventually(func(g Gomega) {
		err := admin.Get(context.Background(), client.ObjectKey{Name: id}, &tenantryv1alpha1.TenantInstance{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "TenantInstance %s still exists (%v)", id, err)
		err = admin.Get(context.Background(), client.ObjectKey{Name: "tenant-" + id}, &corev1.Namespace{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "namespace tenant-%s still exists (%v)", id, err)
	}).Should(Succeed())
}

// release sends releaseInstance and waits until everything of the tenant is gone.
func release(g Gomega, id string) {
	send(g, func() (*simulator.Answer, error) { return market.Release(context.Background(), id) })
	expectReleased(g, id)
}

// releaseOnCleanup releases the tenant at the end of the spec unless the spec did already.
func releaseOnCleanup(id string) {
	DeferCleanup(func() {
		err := admin.Get(context.Background(), client.ObjectKey{Name: id}, &tenantryv1alpha1.TenantInstance{})
		if apierrors.IsNotFound(err) {
			return
		}
		release(Default, id)
	})
}

// adminAccount reads the tenant's initial admin account as the operator stored it.
func adminAccount(g Gomega, id string) (user, password string) {
	s := &corev1.Secret{}
	g.Expect(admin.Get(context.Background(), client.ObjectKey{Namespace: "tenant-" + id, Name: "tenant-admin"}, s)).To(Succeed())
	g.Expect(s.Type).To(Equal(corev1.SecretTypeBasicAuth))
	return string(s.Data[corev1.BasicAuthUsernameKey]), string(s.Data[corev1.BasicAuthPasswordKey])
}
