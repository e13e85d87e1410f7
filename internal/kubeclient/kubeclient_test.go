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

package kubeclient_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/internal/kubeclient"
)

// TestOneBucketForEveryKind: with a burst of one and a rate of a request every ~17 minutes, a
// read of one kind takes the only token, and a read of another kind must wait for the next one
// (it fails at once against a short deadline) instead of drawing on a bucket of its own.
func TestOneBucketForEveryKind(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		kind := map[string]string{"configmaps": "ConfigMap", "secrets": "Secret"}[path.Base(path.Dir(r.URL.Path))]
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"apiVersion":"v1","kind":%q,"metadata":{"name":%q,"namespace":"ns"}}`, kind, path.Base(r.URL.Path))
	}))
	defer srv.Close()

	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, meta.RESTScopeNamespace)
	cfg := kubeclient.Config(&rest.Config{Host: srv.URL}, "test", 0.001, 1, false)
	c, err := client.New(cfg, client.Options{Mapper: mapper})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "a"}, &corev1.ConfigMap{}); err != nil {
		t.Fatalf("first read: %v", err)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "b"}, &corev1.Secret{}); err == nil {
		t.Fatal("a read of another kind went through: each kind has a bucket of its own")
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("the API server saw %d requests, want 1", n)
	}
}

// TestZeroTurnsLimitingOff: qps 0 means no client-side limit (a negative QPS to client-go, whose
// zero means its default of 5), as controller-runtime's default.
func TestZeroTurnsLimitingOff(t *testing.T) {
	cfg := kubeclient.Config(&rest.Config{QPS: 5, Burst: 10}, "test", 0, 0, false)
	if cfg.RateLimiter != nil || cfg.QPS >= 0 {
		t.Errorf("RateLimiter = %v, QPS = %v; want none and a negative QPS", cfg.RateLimiter, cfg.QPS)
	}
}
