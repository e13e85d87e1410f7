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

package statusmemory

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func TestBehindTheLastWrite(t *testing.T) {
	var m Memory
	if _, behind := m.Behind("t1", "5"); behind {
		t.Error("behind a write that was never made")
	}
	m.Remember("t1", "10", "h10")
	for _, tc := range []struct {
		cached string
		behind bool
	}{
		{"9", true},
		{"10", false},
		{"11", false},
		{"not-a-number", false},
		{"", false},
	} {
		hash, behind := m.Behind("t1", tc.cached)
		if behind != tc.behind || (behind && hash != "h10") || (!behind && hash != "") {
			t.Errorf("Behind(t1, %q) = %q, %v; want behind %v", tc.cached, hash, behind, tc.behind)
		}
	}
	if _, behind := m.Behind("t2", "9"); behind {
		t.Error("another object is behind t1's write")
	}
	m.Remember("t1", "12", "h12")
	if hash, behind := m.Behind("t1", "11"); !behind || hash != "h12" {
		t.Errorf("after a second write: %q, %v", hash, behind)
	}
	m.Forget("t1")
	if _, behind := m.Behind("t1", "11"); behind {
		t.Error("behind a forgotten write")
	}
}

func TestSeenDropsWhatTheCacheHolds(t *testing.T) {
	var m Memory
	m.Remember("t1", "10", "h10")
	m.Remember("t2", "20", "h20")
	m.Seen("t1", "9")
	m.Seen("t1", "not-a-number")
	if _, behind := m.Behind("t1", "9"); !behind {
		t.Error("an older or unreadable version seen dropped the write")
	}
	m.Seen("t1", "10")
	if _, ok := m.byName["t1"]; ok {
		t.Error("the write is remembered after the cache was seen holding it")
	}
	if _, ok := m.byName["t2"]; !ok {
		t.Error("seeing one object dropped another's write")
	}
	m.Seen("t2", "21")
	m.Seen("t3", "1")
	if len(m.byName) != 0 {
		t.Errorf("remembered %v after every write was seen", m.byName)
	}
}

func TestHashTellsStatusesApart(t *testing.T) {
	ready := func(status metav1.ConditionStatus) tenantryv1alpha1.TenantInstanceStatus {
		return tenantryv1alpha1.TenantInstanceStatus{
			State:      tenantryv1alpha1.StateRunning,
			Conditions: []metav1.Condition{{Type: tenantryv1alpha1.ConditionReady, Status: status, Reason: "R"}},
		}
	}
	a, b := Hash(ready(metav1.ConditionTrue)), Hash(ready(metav1.ConditionTrue))
	if a == "" || a != b {
		t.Errorf("equal statuses hash to %q and %q", a, b)
	}
	if c := Hash(ready(metav1.ConditionFalse)); c == a {
		t.Error("different statuses hash alike")
	}
	if got := Hash(func() {}); got != "" {
		t.Errorf("a value that cannot be encoded hashes to %q", got)
	}
}
