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

package webhookbridge

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// NewCache builds the bridge's watch cache, for Options.Plans and Options.Instances: TenantPlans
// without managedFields, and TenantInstances as metadata cut down to their names (about a
// hundred bytes per instance). Its informers are registered; the caller starts it. Reading any
// other kind through it fails instead of starting a watch. mapper may be nil.
func NewCache(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme, mapper meta.RESTMapper) (cache.Cache, error) {
	c, err := cache.New(cfg, cache.Options{
		Scheme: scheme,
		Mapper: mapper,
		ByObject: map[client.Object]cache.ByObject{
			&tenantryv1alpha1.TenantPlan{}: {Transform: cache.TransformStripManagedFields()},
			instanceNames():                {Transform: nameOnly},
		},
		ReaderFailOnMissingInformer: true,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the bridge's cache: %w", err)
	}
	for _, o := range []client.Object{&tenantryv1alpha1.TenantPlan{}, instanceNames()} {
		if _, err := c.GetInformer(ctx, o); err != nil {
			return nil, fmt.Errorf("setting up the %s informer: %w", o.GetObjectKind().GroupVersionKind().Kind, err)
		}
	}
	return c, nil
}

// instanceNames is the metadata-only TenantInstance the cache watches.
func instanceNames() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(tenantryv1alpha1.GroupVersion.WithKind("TenantInstance"))
	return m
}

// nameOnly keeps of a cached TenantInstance its name and resourceVersion.
func nameOnly(in any) (any, error) {
	m, ok := in.(*metav1.PartialObjectMetadata)
	if !ok {
		return in, nil // a tombstone
	}
	return &metav1.PartialObjectMetadata{
		TypeMeta:   m.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{Name: m.Name, ResourceVersion: m.ResourceVersion},
	}, nil
}
