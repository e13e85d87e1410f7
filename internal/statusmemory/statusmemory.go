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

// Package statusmemory remembers the operator's last status write per object, so that a
// reconcile working from a cache that has not seen that write yet neither skips nor clobbers it:
// comparing with the cached status would be comparing with the past (a status equal to it would
// not be written, and a newer one, computed from a staler view, would stay).
package statusmemory

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"

	"k8s.io/apimachinery/pkg/util/resourceversion"
)

// Memory holds, per object name, the resourceVersion the last status write returned and the
// Hash of the status it wrote. Its zero value is ready; it is safe for concurrent use.
type Memory struct {
	mu     sync.Mutex
	byName map[string]written
}

type written struct {
	resourceVersion string
	hash            string
}

// Remember records a status write to name: the resourceVersion it returned and the Hash of the
// status written.
func (m *Memory) Remember(name, resourceVersion, hash string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byName == nil {
		m.byName = map[string]written{}
	}
	m.byName[name] = written{resourceVersion: resourceVersion, hash: hash}
}

// Behind reports whether cachedVersion, the resourceVersion of the object a reconcile read, is
// older than the last status write remembered for name; if so, hash is that write's Hash. An
// order that cannot be told (resourceVersions that are not comparable) is not behind.
func (m *Memory) Behind(name, cachedVersion string) (hash string, behind bool) {
	m.mu.Lock()
	last, ok := m.byName[name]
	m.mu.Unlock()
	if !ok {
		return "", false
	}
	cmp, err := resourceversion.CompareResourceVersion(cachedVersion, last.resourceVersion)
	if err != nil || cmp >= 0 {
		return "", false
	}
	return last.hash, true
}

// Seen tells the Memory that the cache now holds name at resourceVersion: a write it holds is
// not behind any more, so what is remembered of it is dropped. Without this, the memory of a
// tenant's last write would stay until its next reconcile, which for an idle tenant is hours
// away: some megabytes at 10,000 tenants. An object read before then is still behind: ask Behind
// when the object is read, and keep the answer.
func (m *Memory) Seen(name, resourceVersion string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	last, ok := m.byName[name]
	if !ok {
		return
	}
	if cmp, err := resourceversion.CompareResourceVersion(resourceVersion, last.resourceVersion); err == nil && cmp >= 0 {
		delete(m.byName, name)
	}
}

// Forget drops what is remembered of name.
func (m *Memory) Forget(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byName, name)
}

// Hash identifies a status: equal statuses have equal hashes. A status that cannot be encoded
// (which cannot happen for an API type) hashes to "".
func Hash(status any) string {
	data, err := json.Marshal(status)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:12])
}
