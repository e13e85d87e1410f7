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

// Package calltime accounts, for one marketplace call, the time spent waiting on others: for the
// services the bridge calls out to (the Kubernetes API server and the marketplace's Order Query
// API), and in the queue for a read permit or call slot behind other calls. A call's context
// carries a Tracker (Start); the HTTP transports of both clients are wrapped with Transport,
// which charges each request to the Tracker of its request's context, from the start of the
// round trip until its response body is closed or read to its end; the server charges its
// queueing with Begin. What the call took beyond that is the bridge's own time.
//
// Overlapping waits are counted once: Outside is the wall time during which at least one was
// under way, so the own time is never negative, however many requests run in parallel. Requests whose context carries no Tracker (watches, the replay-claim sweeps,
// Events sent in the background) are not charged to any call.
package calltime

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// Kind is what a request was sent to.
type Kind int

const (
	// API is a request to the Kubernetes API server.
	API Kind = iota
	// OrderQuery is a request to the marketplace's Order Query API.
	OrderQuery
	// Queue is waiting for a read permit or a call slot, held by other calls.
	Queue
	kinds
)

// span is the union of possibly overlapping intervals: the time during which at least one was open.
type span struct {
	open  int
	since time.Time
	total time.Duration
}

func (s *span) begin(now time.Time) {
	if s.open == 0 {
		s.since = now
	}
	s.open++
}

func (s *span) end(now time.Time) {
	s.open--
	if s.open == 0 {
		s.total += now.Sub(s.since)
	}
}

func (s *span) at(now time.Time) time.Duration {
	if s.open > 0 {
		return s.total + now.Sub(s.since)
	}
	return s.total
}

// Tracker accumulates the outside time of one call. Its methods are safe for concurrent use.
type Tracker struct {
	clock  clock.PassiveClock
	mu     sync.Mutex
	any    span
	byKind [kinds]span
}

type trackerKey struct{}

// Start returns a context carrying a new Tracker, reading the time from clk (nil: the real
// clock), and the Tracker.
func Start(ctx context.Context, clk clock.PassiveClock) (context.Context, *Tracker) {
	if clk == nil {
		clk = clock.RealClock{}
	}
	t := &Tracker{clock: clk}
	return context.WithValue(ctx, trackerKey{}, t), t
}

// From returns the Tracker ctx carries, or nil.
func From(ctx context.Context) *Tracker {
	t, _ := ctx.Value(trackerKey{}).(*Tracker)
	return t
}

// Begin charges time to kind from now until the returned function is called (once; later
// calls do nothing). A nil Tracker charges nothing.
func (t *Tracker) Begin(kind Kind) (end func()) {
	if t == nil || kind < 0 || kind >= kinds {
		return func() {}
	}
	t.mu.Lock()
	now := t.clock.Now()
	t.any.begin(now)
	t.byKind[kind].begin(now)
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			now := t.clock.Now()
			t.any.end(now)
			t.byKind[kind].end(now)
			t.mu.Unlock()
		})
	}
}

// Outside is the time, up to now, during which at least one wait of any kind was under way.
func (t *Tracker) Outside() time.Duration {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.any.at(t.clock.Now())
}

// Of is the time, up to now, during which at least one wait of kind was under way.
func (t *Tracker) Of(kind Kind) time.Duration {
	if t == nil || kind < 0 || kind >= kinds {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byKind[kind].at(t.clock.Now())
}

// Own is what of elapsed, the call's whole time, was not spent waiting on others.
func (t *Tracker) Own(elapsed time.Duration) time.Duration {
	return max(0, elapsed-t.Outside())
}

// Transport wraps next so that every request whose context carries a Tracker is charged to it
// as kind, until its response body is closed or read to its end (or the round trip fails).
func Transport(kind Kind, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{kind: kind, next: next}
}

// Wrapper is Transport as a rest.Config WrapTransport function.
func Wrapper(kind Kind) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper { return Transport(kind, next) }
}

type transport struct {
	kind Kind
	next http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	tr := From(req.Context())
	if tr == nil {
		return t.next.RoundTrip(req)
	}
	end := tr.Begin(t.kind)
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp == nil || resp.Body == nil || resp.Body == http.NoBody {
		end()
		return resp, err
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, end: end}
	return resp, nil
}

// timedBody ends its request's charge when it is read to its end, fails, or is closed.
type timedBody struct {
	io.ReadCloser
	end func()
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.end()
	}
	return n, err
}

func (b *timedBody) Close() error {
	b.end()
	return b.ReadCloser.Close()
}
