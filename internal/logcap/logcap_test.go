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

package logcap

import (
	"testing"

	"github.com/go-logr/logr/funcr"
)

func TestCapDropsLevelsAboveMaxVerbosity(t *testing.T) {
	var got []string
	base := funcr.New(func(prefix, args string) { got = append(got, args) }, funcr.Options{Verbosity: 20})
	l := Cap(base).WithName("x").WithValues("k", "v")

	for level := 0; level <= MaxVerbosity+3; level++ {
		l.V(level).Info("line", "level", level)
		if enabled := l.V(level).Enabled(); enabled != (level <= MaxVerbosity) {
			t.Errorf("V(%d).Enabled() = %v", level, enabled)
		}
	}
	l.Error(nil, "errors are never dropped")
	if want := MaxVerbosity + 2; len(got) != want {
		t.Fatalf("got %d lines, want %d (levels 0..%d and the error): %q", len(got), want, MaxVerbosity, got)
	}
}
