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

package framework

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewWorkDir(t *testing.T) {
	t.Setenv("TENANTRY_ARTIFACTS", "")
	work, logs, err := NewWorkDir("unit")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(work) })
	if fi, err := os.Stat(work); err != nil || !fi.IsDir() || !strings.HasPrefix(filepath.Base(work), "tenantry-unit-") {
		t.Errorf("work directory %q (stat err %v): want a new directory tenantry-unit-*", work, err)
	}
	if logs != filepath.Join(work, "logs") {
		t.Errorf("without TENANTRY_ARTIFACTS the logs are in %q, want %q", logs, filepath.Join(work, "logs"))
	}

	// With TENANTRY_ARTIFACTS the logs go there, without an earlier run's.
	artifacts := t.TempDir()
	stale := filepath.Join(artifacts, "unit", "manager.log")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("an earlier run"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TENANTRY_ARTIFACTS", artifacts)
	work2, logs, err := NewWorkDir("unit")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(work2) })
	if logs != filepath.Join(artifacts, "unit") {
		t.Errorf("with TENANTRY_ARTIFACTS the logs are in %q, want %q", logs, filepath.Join(artifacts, "unit"))
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("an earlier run's log is still there (stat: %v)", err)
	}
}
