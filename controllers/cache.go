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
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// CacheOptions makes the operator's informers see only what it owns (and the shared TLS Secrets
// plans name), with managedFields stripped, so memory grows with tenants and not with the cluster.
func CacheOptions() cache.Options {
	managed := labels.SelectorFromSet(labels.Set{tenantryv1alpha1.LabelManagedBy: tenantryv1alpha1.ManagedByValue})
	req, err := labels.NewRequirement(tenantryv1alpha1.LabelSecretRole, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant requirement: cannot fail
	}
	secrets := labels.NewSelector().Add(*req)
	byObject := map[client.Object]cache.ByObject{
		&corev1.Secret{}: {Label: secrets},
	}
	for _, o := range []client.Object{
		&corev1.Namespace{}, &appsv1.Deployment{}, &corev1.Service{}, &corev1.ConfigMap{}, &corev1.ResourceQuota{},
		&corev1.LimitRange{}, &networkingv1.NetworkPolicy{}, &networkingv1.Ingress{},
	} {
		byObject[o] = cache.ByObject{Label: managed}
	}
	return cache.Options{
		ByObject:         byObject,
		DefaultTransform: cache.TransformStripManagedFields(),
	}
}
