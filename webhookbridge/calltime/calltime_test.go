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

package calltime_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/tenantry/tenantry/webhookbridge/calltime"
)

// slowServer is a round tripper that takes a known time on a fake clock: roundTrip to answer,
// then read for the body (reached at its end).
type slowServer struct {
	clock           *clocktesting.FakeClock
	roundTrip, read time.Duration
	err             error
	calls           int
}

func (s *slowServer) RoundTrip(*http.Request) (*http.Response, error) {
	s.calls++
	s.clock.Step(s.roundTrip)
	if s.err != nil {
		return nil, s.err
	}
	return &http.Response{StatusCode: http.StatusOK, Body: &slowBody{clock: s.clock, read: s.read, r: strings.NewReader(`{"ok":true}`)}}, nil
}

type slowBody struct {
	clock *clocktesting.FakeClock
	read  time.Duration
	r     io.Reader
}

func (b *slowBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.clock.Step(b.read)
	}
	return n, err
}

func (b *slowBody) Close() error { return nil }

func get(ctx context.Context, t *testing.T, rt http.RoundTripper, readBody bool) error {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.invalid/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	if readBody {
		if _, err := io.ReadAll(resp.Body); err != nil {
			t.Fatal(err)
		}
	}
	return resp.Body.Close()
}

func TestOwnTimeIsTheCallLessItsRequests(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	api := &slowServer{clock: clk, roundTrip: 40 * time.Millisecond, read: 10 * time.Millisecond}
	orders := &slowServer{clock: clk, roundTrip: 100 * time.Millisecond}
	ctx, tr := calltime.Start(context.Background(), clk)
	start := clk.Now()

	endQueue := tr.Begin(calltime.Queue)
	clk.Step(20 * time.Millisecond) // waiting for a call slot
	endQueue()
	clk.Step(3 * time.Millisecond) // the call's own work: verifying, deciding
	if err := get(ctx, t, calltime.Transport(calltime.OrderQuery, orders), true); err != nil {
		t.Fatal(err)
	}
	clk.Step(2 * time.Millisecond)
	if err := get(ctx, t, calltime.Transport(calltime.API, api), true); err != nil {
		t.Fatal(err)
	}
	clk.Step(1 * time.Millisecond) // writing the answer

	elapsed := clk.Since(start)
	if elapsed != 176*time.Millisecond {
		t.Fatalf("the fake servers took %v, want 176ms", elapsed)
	}
	if got := tr.Of(calltime.API); got != 50*time.Millisecond {
		t.Errorf("API time = %v, want 50ms (round trip and body)", got)
	}
	if got := tr.Of(calltime.OrderQuery); got != 100*time.Millisecond {
		t.Errorf("Order Query time = %v, want 100ms", got)
	}
	if got := tr.Of(calltime.Queue); got != 20*time.Millisecond {
		t.Errorf("queue time = %v, want 20ms", got)
	}
	if got := tr.Outside(); got != 170*time.Millisecond {
		t.Errorf("outside time = %v, want 170ms", got)
	}
	if got := tr.Own(elapsed); got != 6*time.Millisecond {
		t.Errorf("own time = %v, want 6ms", got)
	}
}

func TestOverlappingRequestsAreCountedOnce(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	_, tr := calltime.Start(context.Background(), clk)
	endA := tr.Begin(calltime.API)
	clk.Step(10 * time.Millisecond)
	endB := tr.Begin(calltime.API)
	endC := tr.Begin(calltime.OrderQuery)
	clk.Step(10 * time.Millisecond)
	endA()
	endA() // a second end changes nothing
	clk.Step(10 * time.Millisecond)
	if got := tr.Outside(); got != 30*time.Millisecond {
		t.Errorf("outside time with requests still open = %v, want 30ms (up to now)", got)
	}
	endB()
	clk.Step(5 * time.Millisecond)
	endC()
	clk.Step(5 * time.Millisecond)
	if got := tr.Of(calltime.API); got != 30*time.Millisecond {
		t.Errorf("API time = %v, want 30ms: two requests overlapping for 10ms", got)
	}
	if got := tr.Of(calltime.OrderQuery); got != 25*time.Millisecond {
		t.Errorf("Order Query time = %v, want 25ms", got)
	}
	if got := tr.Outside(); got != 35*time.Millisecond {
		t.Errorf("outside time = %v, want 35ms", got)
	}
	if got := tr.Own(40 * time.Millisecond); got != 5*time.Millisecond {
		t.Errorf("own time = %v, want 5ms", got)
	}
	if got := tr.Own(20 * time.Millisecond); got != 0 {
		t.Errorf("own time of a call shorter than its requests = %v, want 0", got)
	}
}

func TestRequestsWithoutATrackerAreNotCharged(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	api := &slowServer{clock: clk, roundTrip: 40 * time.Millisecond}
	_, tr := calltime.Start(context.Background(), clk)
	// A watch, or an Event sent in the background: its context is not the call's.
	if err := get(context.Background(), t, calltime.Transport(calltime.API, api), true); err != nil {
		t.Fatal(err)
	}
	if api.calls != 1 {
		t.Fatalf("the request was not sent on (%d calls)", api.calls)
	}
	if got := tr.Outside(); got != 0 {
		t.Errorf("outside time = %v, want 0", got)
	}
	var nilTracker *calltime.Tracker
	if got := nilTracker.Own(time.Second); got != time.Second {
		t.Errorf("a nil Tracker's own time = %v, want all of it", got)
	}
}

func TestChargeEndsOnFailureAndOnCloseUnread(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	failing := &slowServer{clock: clk, roundTrip: 20 * time.Millisecond, err: errors.New("connection refused")}
	ctx, tr := calltime.Start(context.Background(), clk)
	if err := get(ctx, t, calltime.Transport(calltime.API, failing), true); err == nil {
		t.Fatal("the failing round trip did not fail")
	}
	clk.Step(time.Second)
	if got := tr.Outside(); got != 20*time.Millisecond {
		t.Errorf("outside time after a failed round trip = %v, want 20ms", got)
	}

	unread := &slowServer{clock: clk, roundTrip: 30 * time.Millisecond, read: time.Hour}
	if err := get(ctx, t, calltime.Transport(calltime.API, unread), false); err != nil {
		t.Fatal(err)
	}
	clk.Step(time.Second)
	if got := tr.Outside(); got != 50*time.Millisecond {
		t.Errorf("outside time after a body closed unread = %v, want 50ms", got)
	}
}
