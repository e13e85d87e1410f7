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

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// The child cache holds what the operator made, and nothing else: a ConfigMap without the
// managed-by label is not found in it, one with the label is, a Secret is never in it (the
// operator may not read Secrets), and a kind it does not hold is an
// error rather than a read from somewhere else.
func TestChildCacheHoldsOnlyManagedChildren(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "child-cache"}}
	g.Expect(k8s.Create(ctx, ns)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(ctx, ns) })
	managed := map[string]string{tenantryv1alpha1.LabelManagedBy: tenantryv1alpha1.ManagedByValue}
	mine := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "mine", Labels: managed},
		Data: map[string]string{"k": "v"}}
	theirs := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "theirs"}}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "secret", Labels: managed}}
	g.Expect(k8s.Create(ctx, secret)).To(Succeed())
	g.Expect(k8s.Create(ctx, theirs)).To(Succeed())
	g.Expect(k8s.Create(ctx, mine)).To(Succeed())

	g.Eventually(func(g Gomega) {
		got := &corev1.ConfigMap{}
		g.Expect(children.Get(ctx, client.ObjectKeyFromObject(mine), got)).To(Succeed())
		g.Expect(got.ResourceVersion).To(Equal(mine.ResourceVersion))
		g.Expect(got.Data).To(BeNil(), "the cache keeps no data")
	}).Should(Succeed())
	// Created before mine, so the cache has had its event if it were to hold it.
	err := children.Get(ctx, client.ObjectKeyFromObject(theirs), &corev1.ConfigMap{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "got %v", err)
	g.Expect(children.Get(ctx, client.ObjectKeyFromObject(secret), &corev1.Secret{})).To(MatchError(ContainSubstring("holds no")))
	g.Expect(children.Get(ctx, client.ObjectKey{Name: "x"}, &corev1.Pod{})).To(MatchError(ContainSubstring("holds no")))
	g.Expect(children.List(ctx, &corev1.ConfigMapList{})).NotTo(Succeed())

	g.Expect(k8s.Delete(ctx, mine)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(children.Get(ctx, client.ObjectKeyFromObject(mine), &corev1.ConfigMap{}))
	}).Should(BeTrue())
}
