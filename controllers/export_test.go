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
	"context"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/tenantry/tenantry/internal/childcache"
)

// ChildVersion is the resourceVersion the child cache holds of the object of obj's kind (a
// built-in kind) under key; "" when it holds none. Tests wait with it for the cache to catch up
// with the API server.
func ChildVersion(c *childcache.Cache, key client.ObjectKey, obj client.Object) string {
	gvk, err := apiutil.GVKForObject(obj, clientgoscheme.Scheme)
	if err != nil {
		return ""
	}
	rec, ok := c.Lookup(gvk.GroupKind(), key)
	if !ok {
		return ""
	}
	return rec.ResourceVersion()
}

// WriteCounter is the operator's client with every write it sends counted, for the tests of
// both this package and controllers_test (a test-only export: it is compiled into tests only).
type WriteCounter struct {
	client.Client
	Writes *atomic.Int64
}

func (c WriteCounter) Create(ctx context.Context, o client.Object, opts ...client.CreateOption) error {
	c.Writes.Add(1)
	return c.Client.Create(ctx, o, opts...)
}

func (c WriteCounter) Update(ctx context.Context, o client.Object, opts ...client.UpdateOption) error {
	c.Writes.Add(1)
	return c.Client.Update(ctx, o, opts...)
}

func (c WriteCounter) Patch(ctx context.Context, o client.Object, p client.Patch, opts ...client.PatchOption) error {
	c.Writes.Add(1)
	return c.Client.Patch(ctx, o, p, opts...)
}

func (c WriteCounter) Delete(ctx context.Context, o client.Object, opts ...client.DeleteOption) error {
	c.Writes.Add(1)
	return c.Client.Delete(ctx, o, opts...)
}

func (c WriteCounter) Apply(ctx context.Context, o runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	c.Writes.Add(1)
	return c.Client.Apply(ctx, o, opts...)
}

// Status counts the status writes too.
func (c WriteCounter) Status() client.SubResourceWriter {
	return statusWriteCounter{SubResourceWriter: c.Client.Status(), writes: c.Writes}
}

type statusWriteCounter struct {
	client.SubResourceWriter
	writes *atomic.Int64
}

func (c statusWriteCounter) Update(ctx context.Context, o client.Object, opts ...client.SubResourceUpdateOption) error {
	c.writes.Add(1)
	return c.SubResourceWriter.Update(ctx, o, opts...)
}

func (c statusWriteCounter) Patch(ctx context.Context, o client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
	c.writes.Add(1)
	return c.SubResourceWriter.Patch(ctx, o, p, opts...)
}

func (c statusWriteCounter) Apply(ctx context.Context, o runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
	c.writes.Add(1)
	return c.SubResourceWriter.Apply(ctx, o, opts...)
}

// What the external tests (package controllers_test) use of the package's internals: the
// indexes the reconciler reads, and the names and index of a tenant's 联营 directory files.
var (
	IndexFields                 = indexFields
	DirectoryShardConfigMapName = directoryShardConfigMapName
	DirectoryShardFile          = directoryShardFile
)

// DirectoryIndex is index.json of a tenant's directory.
type DirectoryIndex = directoryIndex

// StatusWriteRemembered says whether r still remembers a status write to the instance name
// (one a cache behind it would be behind).
func StatusWriteRemembered(r *TenantInstanceReconciler, name string) bool {
	_, behind := r.statuses.Behind(name, "1")
	return behind
}
