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

package chaos

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	k8stypes "k8s.io/apimachinery/pkg/types"
)

// scenarioT is what a scenario and its helpers report to, with testing.T's meaning: Errorf
// records a failure and lets the scenario go on — from any of its goroutines, as the scenarios'
// callers and killers report what went wrong while the others carry on — and Fatal stops the
// scenario. The spec fails at the end with every error recorded, in order, so a run shows all
// that went wrong (a loss and an orphan, say), not only the first.
type scenarioT struct {
	name string

	mu      sync.Mutex
	errs    []string
	stopped bool // Fatal has failed the spec
	ended   bool // the scenario's body has returned
	// resyncedPods are the Pods the suite made kwok play again (resync_test.go).
	resyncedPods map[k8stypes.UID]bool
}

// scenario is the body of an It running f: the spec fails with every error f recorded.
func scenario(f func(t *scenarioT)) func() {
	return func() {
		t := &scenarioT{name: CurrentSpecReport().LeafNodeText}
		defer t.end()
		defer func() {
			t.mu.Lock()
			n := len(t.resyncedPods)
			t.mu.Unlock()
			if n > 0 {
				report(t, "Pods kwok left stuck, resynced by the suite", "%d", n)
			}
		}()
		f(t)
	}
}

// resynced counts a Pod the suite made kwok play again.
func (t *scenarioT) resynced(uid k8stypes.UID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.resyncedPods == nil {
		t.resyncedPods = map[k8stypes.UID]bool{}
	}
	t.resyncedPods[uid] = true
}

func (t *scenarioT) end() {
	t.mu.Lock()
	t.ended = true
	errs, stopped := slices.Clone(t.errs), t.stopped
	t.mu.Unlock()
	if !stopped && len(errs) > 0 {
		Fail(strings.Join(errs, "\n"))
	}
}

// Name is the scenario's name (the spec's own text), which labels its figures.
func (t *scenarioT) Name() string { return t.name }

// Helper marks the caller as a helper, so failures point at its caller.
func (t *scenarioT) Helper() { types.MarkAsHelper(1) }

// Errorf records a failure; the scenario goes on.
func (t *scenarioT) Errorf(format string, args ...any) { t.record(fmt.Sprintf(format, args...)) }

// Error records a failure; the scenario goes on.
func (t *scenarioT) Error(args ...any) { t.record(strings.TrimSuffix(fmt.Sprintln(args...), "\n")) }

func (t *scenarioT) record(msg string) {
	GinkgoWriter.Println("error: " + msg)
	t.mu.Lock()
	ended := t.ended
	t.errs = append(t.errs, msg)
	t.mu.Unlock()
	if ended {
		// A cleanup (or a goroutine outliving the body) failing: fail the spec without stopping
		// the caller.
		func() {
			defer GinkgoRecover()
			Fail(msg, 2)
		}()
	}
}

// Fatalf records a failure and stops the scenario; call it from the scenario's own goroutine.
func (t *scenarioT) Fatalf(format string, args ...any) { t.stop(fmt.Sprintf(format, args...)) }

// Fatal records a failure and stops the scenario; call it from the scenario's own goroutine.
func (t *scenarioT) Fatal(args ...any) { t.stop(strings.TrimSuffix(fmt.Sprintln(args...), "\n")) }

// FailNow stops a scenario that has recorded failures.
func (t *scenarioT) FailNow() { t.stop("") }

func (t *scenarioT) stop(msg string) {
	t.mu.Lock()
	if msg != "" {
		t.errs = append(t.errs, msg)
	}
	t.stopped = true
	all := strings.Join(t.errs, "\n")
	t.mu.Unlock()
	Fail(all, 2)
}

// Failed reports whether a failure has been recorded.
func (t *scenarioT) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.errs) > 0
}

// Skipf skips the scenario.
func (t *scenarioT) Skipf(format string, args ...any) { Skip(fmt.Sprintf(format, args...), 1) }

// Logf writes a line to the spec's output (shown with -ginkgo.v, or when the spec fails).
func (t *scenarioT) Logf(format string, args ...any) { GinkgoWriter.Printf(format+"\n", args...) }

// Cleanup runs f after the spec, last registered first.
func (t *scenarioT) Cleanup(f func()) { DeferCleanup(f) }

// TempDir is a directory removed after the spec.
func (t *scenarioT) TempDir() string { return GinkgoT().TempDir() }
