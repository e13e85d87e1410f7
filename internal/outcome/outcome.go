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

// Package outcome types the two ways a reconcile step ends that are neither success nor failure:
// Stalling, when progress needs a human (a namespace someone else made, a host another tenant
// holds, a pool with no room), and Waiting, when something else must happen first (a Secret to
// appear, a namespace to go). Both are errors, so a step returns them as it returns a failure,
// with the reason and message the status shows; its caller tells the three apart with errors.As
// (Split) and decides: a failure is retried with backoff, a Stalling stops the reconcile without
// backoff and is reported as Stalled, a Waiting is reported as not Ready and comes back after
// RequeueAfter (or on a watch event).
//
// The types live here rather than in controllers/ because they know nothing of Kubernetes
// objects nor of the reconciler: they are unit-tested on their own, without an API server, and
// the operator's internal tests and its external test package can both name them.
package outcome

import (
	"errors"
	"fmt"
	"time"
)

// Stalling says that the reconcile cannot make progress until a human changes something: the
// tenant is reported Stalled with Reason and Message, and the reconcile stops without an error,
// so controller-runtime does not retry it with backoff; the watch on what must change brings it
// back.
type Stalling struct {
	// Reason is the CamelCase reason of the Stalled and Ready conditions.
	Reason string
	// Message says what is wrong and what to do about it.
	Message string
	// RequeueAfter, when not zero, is when to look again at something no watch reports.
	RequeueAfter time.Duration
}

// Error is the message.
func (e *Stalling) Error() string { return e.Message }

// Stallf returns a Stalling with reason and a formatted message.
func Stallf(reason, format string, args ...any) *Stalling {
	return &Stalling{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Waiting says that the tenant cannot be Ready until something else happens; nobody needs to
// act. The tenant is reported not Ready with Reason and Message.
type Waiting struct {
	// Reason is the CamelCase reason of the Reconciling and Ready conditions.
	Reason string
	// Message says what is waited for.
	Message string
	// RequeueAfter, when not zero, is when to look again; zero waits for a watch event.
	RequeueAfter time.Duration
	// Proceed is set when what is waited for holds back nothing after the step: the reconcile
	// goes on with the next steps and only the status says it waits. Otherwise it stops there.
	Proceed bool
}

// Error is the message.
func (e *Waiting) Error() string { return e.Message }

// Waitf returns a Waiting with reason and a formatted message, which stops the reconcile.
func Waitf(reason, format string, args ...any) *Waiting {
	return &Waiting{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Split sorts what a step returned into the Stalling and the Waiting it carries (nil when none)
// and the failure left (nil when none). err may be an outcome, a failure, an outcome wrapped
// with %w, or several of them joined (errors.Join): a step that stalls and then fails at
// cleaning up returns both. Of several outcomes of one kind the last is kept. A lone failure
// is returned as it came, so that what it wraps is still found by errors.Is and errors.As.
func Split(err error) (stalling *Stalling, waiting *Waiting, failure error) {
	var failures []error
	var walk func(error)
	walk = func(err error) {
		var s *Stalling
		var w *Waiting
		switch joined, ok := err.(interface{ Unwrap() []error }); {
		case err == nil:
		case ok:
			for _, part := range joined.Unwrap() {
				walk(part)
			}
		case errors.As(err, &s):
			stalling = s
		case errors.As(err, &w):
			waiting = w
		default:
			failures = append(failures, err)
		}
	}
	walk(err)
	switch len(failures) {
	case 0:
	case 1:
		failure = failures[0]
	default:
		failure = errors.Join(failures...)
	}
	return stalling, waiting, failure
}

// IsStalling reports whether err is, or wraps, a Stalling.
func IsStalling(err error) bool {
	var s *Stalling
	return errors.As(err, &s)
}
