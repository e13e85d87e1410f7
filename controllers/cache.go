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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// CacheOptions makes the manager's informers see the operator's own resources and, of Secrets,
// only the shared TLS sources plans name, which it copies. What the operator makes for tenants
// is in its ChildCache instead, in a compact form. A read of any other kind through the
// manager's cache fails rather than starting an informer of the whole cluster.
func CacheOptions() cache.Options {
	sources := labels.SelectorFromSet(labels.Set{tenantryv1alpha1.LabelSecretRole: tenantryv1alpha1.SecretRoleSharedTLS})
	return cache.Options{
		ByObject:                    map[client.Object]cache.ByObject{&corev1.Secret{}: {Label: sources}},
		DefaultTransform:            slim,
		ReaderFailOnMissingInformer: true,
	}
}

// slim is the manager cache's transform: it drops managedFields and the last-applied
// annotation, which the operator never reads.
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
	return obj, nil
}

// annotationRevision is the Deployment controller's own annotation, which it raises on every
// rollout; it is not part of the fingerprint.
const annotationRevision = "deployment.kubernetes.io/revision"

// fingerprintOf hashes what of an object an apply sets, besides its name: its spec, owner
// references, labels and annotations — not its status, resourceVersion, generation (a
// Deployment's rises with any annotation change) or the Deployment controller's revision
// annotation. Two versions with the same fingerprint need no apply between them; a version whose
// fingerprint differs from the one the last apply returned was written by someone else, and the
// next reconcile applies again. Metadata that others add changes the fingerprint too: it costs one
// apply, which leaves that metadata alone. An object that cannot be encoded has an empty
// fingerprint, which matches nothing.
func fingerprintOf(obj client.Object, spec any) string {
	annotations := maps.Clone(obj.GetAnnotations())
	delete(annotations, annotationRevision)
	delete(annotations, corev1.LastAppliedConfigAnnotation)
	data, err := json.Marshal(struct {
		Spec        any                     `json:"spec"`
		Owners      []metav1.OwnerReference `json:"ownerReferences"`
		Labels      map[string]string       `json:"labels"`
		Annotations map[string]string       `json:"annotations"`
	}{spec, obj.GetOwnerReferences(), obj.GetLabels(), annotations})
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:12])
}
