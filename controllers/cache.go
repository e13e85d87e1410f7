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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/intern"
)

// CacheOptions makes the manager's informers see the operator's own resources and, of Secrets,
// only the shared TLS sources plans name, which it copies: those labelled as such in
// sharedTLSNamespaces, the only namespaces whose Secrets the operator may read (the chart grants
// it a Role in each, and nothing else on Secrets). No namespace given means every namespace, for
// tests and for an operator given cluster-wide reads. What the operator makes for tenants is in
// its child cache instead, in a compact form (internal/childcache). A read of any other kind
// through the manager's cache fails rather than starting an informer of the whole cluster.
func CacheOptions(sharedTLSNamespaces ...string) cache.Options {
	sources := labels.SelectorFromSet(labels.Set{tenantryv1alpha1.LabelSecretRole: tenantryv1alpha1.SecretRoleSharedTLS})
	secrets := cache.ByObject{Label: sources}
	if len(sharedTLSNamespaces) > 0 {
		secrets.Namespaces = make(map[string]cache.Config, len(sharedTLSNamespaces))
		for _, ns := range sharedTLSNamespaces {
			secrets.Namespaces[ns] = cache.Config{LabelSelector: sources}
		}
	}
	return cache.Options{
		ByObject:                    map[client.Object]cache.ByObject{&corev1.Secret{}: secrets},
		DefaultTransform:            slim,
		ReaderFailOnMissingInformer: true,
	}
}

// slim is the manager cache's transform: it drops managedFields and the last-applied
// annotation, which the operator never reads, and makes a TenantInstance share its common
// strings with the others (intern.TenantInstance).
func slim(in any) (any, error) {
	obj, ok := in.(client.Object)
	if !ok {
		return in, nil // a tombstone: nothing to slim
	}
	obj.SetManagedFields(nil)
	if a := obj.GetAnnotations(); a != nil {
		if _, ok := a[corev1.LastAppliedConfigAnnotation]; ok {
			delete(a, corev1.LastAppliedConfigAnnotation)
			obj.SetAnnotations(a)
		}
	}
	if ti, ok := obj.(*tenantryv1alpha1.TenantInstance); ok {
		intern.TenantInstance(ti)
	}
	return obj, nil
}
