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

package protocol

import (
	"bytes"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A captured call whose nonce ends in 0 re-sent with that 0 moved to the front of the timestamp
// signs the same string (docs/protocol.md §2.1). It must be refused however the memory is
// keyed: the timestamp is not canonical.
func TestZeroShiftReplayIsRefused(t *testing.T) {
	now := func() time.Time { return vecNow }
	for _, kit := range []bool{false, true} {
		v := &Verifier{Keys: []string{vecKey}, Now: now, Nonces: NewNonceCache(0, 0, now)}
		nonce := "abcdef0123456780"
		body := []byte(vec1Body)
		sign, verify := SignBasic, func(sig, ts, nonce string) error {
			return v.VerifyBasic(basicQuery(sig, ts, nonce), body)
		}
		if kit {
			body = []byte(vec2Body)
			sign = SignKit
			verify = func(sig, ts, nonce string) error {
				return v.VerifyKit(http.Header{"X-Sign": {sig}, "X-Timestamp": {ts}, "X-Nonce": {nonce}}, body)
			}
		}
		sig := sign(vecKey, nonce, vecTimestamp, body)
		if err := verify(sig, vecTimestamp, nonce); err != nil {
			t.Fatalf("kit=%t: original refused: %v", kit, err)
		}
		shifted := strings.TrimSuffix(nonce, "0")
		err := verify(sig, "0"+vecTimestamp, shifted)
		if CodeOf(err) != CodeInvalidParam || ReasonOf(err) != ReasonBadTimestamp {
			t.Fatalf("kit=%t: zero-shifted replay: got %v (reason %q), want 000002 bad-timestamp", kit, err, ReasonOf(err))
		}
	}
}

// The replay memory is keyed on the signature: the same signature in the other case is the
// same call, and a second, differently signed call with the same nonce is not a replay.
func TestReplayMemoryIsKeyedOnTheSignature(t *testing.T) {
	clk := &fakeClock{t: vecNow}
	v := &Verifier{Keys: []string{vecKey}, Now: clk.Now, Nonces: NewNonceCache(0, 0, clk.Now)}
	body := []byte(vec1Body)
	sig := SignBasic(vecKey, vecNonce, vecTimestamp, body)
	if err := v.VerifyBasic(basicQuery(sig, vecTimestamp, vecNonce), body); err != nil {
		t.Fatalf("first call refused: %v", err)
	}
	if err := v.VerifyBasic(basicQuery(strings.ToUpper(sig), vecTimestamp, vecNonce), body); ReasonOf(err) != ReasonReplayedNonce {
		t.Fatalf("upper-case replay: got %v, want replayed-nonce", err)
	}
	ts := FormatMillis(vecNow.Add(time.Millisecond))
	if err := v.VerifyBasic(basicQuery(SignBasic(vecKey, vecNonce, ts, body), ts, vecNonce), body); err != nil {
		t.Fatalf("a new signed call reusing a nonce: %v", err)
	}
	if got, want := BasicReplayKey(basicQuery(strings.ToUpper(sig), vecTimestamp, vecNonce)), "basic:"+sig; got != want {
		t.Fatalf("BasicReplayKey = %q, want %q", got, want)
	}
	if got, want := KitReplayKey(http.Header{"X-Sign": {strings.ToUpper(sig)}}), "kit:"+sig; got != want {
		t.Fatalf("KitReplayKey = %q, want %q", got, want)
	}
	if got, want := V1ReplayKey(url.Values{ParamAuthToken: {"ab cD="}}), "v1:ab+cD="; got != want {
		t.Fatalf("V1ReplayKey = %q, want %q", got, want)
	}
}

// bigKitBody is a 1 MiB kit body whose canonical form differs from its raw bytes (keys out of
// order, spaces), so canonicalising it would allocate in proportion to its size.
func bigKitBody() []byte {
	var b bytes.Buffer
	b.WriteString(`{ "timeStamp" : "20220413093539534", "instanceId" : "i", "users" : [`)
	for b.Len() < DefaultMaxBodyBytes-200 {
		b.WriteString(`{ "userName" : "u", "name" : "n" }, `)
	}
	b.WriteString(`{ "userName" : "u" } ] }`)
	return b.Bytes()
}

// allocatedBytes is how many bytes f allocates on the heap, averaged over runs.
func allocatedBytes(runs int, f func()) uint64 {
	f() // warm up: lazily built tables must not count
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

// Refusing an unsigned or mis-signed 1 MiB request, or accepting one signed over its raw bytes,
// allocates far less than the body: nothing is canonicalised (docs/protocol.md §2.1). Only a
// fresh, well-formed signature that does not match the raw bytes pays for canonicalisation —
// the control case, which shows the measure can fail.
func TestLargeBodiesAreRefusedWithoutCanonicalising(t *testing.T) {
	body := bigKitBody()
	if len(body) > DefaultMaxBodyBytes || len(body) < DefaultMaxBodyBytes-1024 {
		t.Fatalf("body is %d bytes", len(body))
	}
	ts := vecTimestamp
	now := func() time.Time { return vecNow }
	v := &Verifier{Keys: []string{vecKey}, Now: now}
	header := func(sig, ts string) http.Header {
		h := http.Header{"X-Timestamp": {ts}, "X-Nonce": {vecNonce}}
		if sig != "" {
			h.Set("X-Sign", sig)
		}
		return h
	}
	rawSig := SignKit(vecKey, vecNonce, ts, body)
	wrongSig := SignKit(otherKey, vecNonce, ts, body)
	stale := FormatMillis(vecNow.Add(-time.Hour))
	cheap := []struct {
		name   string
		h      http.Header
		reason string
	}{
		{"no signature", header("", ts), ReasonMissingSignature},
		{"signature not hex", header(strings.Repeat("zz", 32), ts), ReasonBadSignature},
		{"leading-zero timestamp", header(wrongSig, "0"+ts), ReasonBadTimestamp},
		{"stale timestamp", header(wrongSig, stale), ReasonStaleTimestamp},
		{"signed over the raw bytes", header(rawSig, ts), ""},
	}
	limit := uint64(len(body) / 64)
	for _, tc := range cheap {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			allocs := testing.AllocsPerRun(5, func() { _, err = v.VerifyKitKey(tc.h, body) })
			if ReasonOf(err) != tc.reason || (tc.reason == "" && err != nil) {
				t.Fatalf("got %v (reason %q), want reason %q", err, ReasonOf(err), tc.reason)
			}
			if n := allocatedBytes(5, func() { _, _ = v.VerifyKitKey(tc.h, body) }); n > limit {
				t.Fatalf("allocated %d bytes (%.0f allocations) for a %d-byte body, want at most %d", n, allocs, len(body), limit)
			}
		})
	}
	t.Run("fresh wrong signature (control)", func(t *testing.T) {
		n := allocatedBytes(2, func() { _, _ = v.VerifyKitKey(header(wrongSig, ts), body) })
		if n < uint64(len(body)) {
			t.Fatalf("allocated only %d bytes: the measure cannot see canonicalisation", n)
		}
	})
}

// FuzzTimestampAndNonce checks the parsers of the two signed fields that are joined without a
// separator: a timestamp is accepted only in its canonical form, a nonce only as printable
// ASCII of bounded length, and no accepted (nonce, timestamp) pair can be re-split into another
// accepted pair naming the same instant — the zero shift of docs/protocol.md §2.1.
func FuzzTimestampAndNonce(f *testing.F) {
	f.Add("abc0", "1680508066618")
	f.Add("abc", "01680508066618")
	f.Add("n", "0")
	f.Add("n n", "+1")
	f.Add(strings.Repeat("a", MaxNonceLength+1), "999999999999999")
	f.Fuzz(func(t *testing.T, nonce, ts string) {
		tm, err := ParseMillis(ts)
		if err == nil {
			if got := FormatMillis(tm); got != ts {
				t.Fatalf("ParseMillis accepted %q, which is not canonical (%q)", ts, got)
			}
		}
		if validNonce(nonce) {
			if len(nonce) > MaxNonceLength || strings.ContainsAny(nonce, " \t\r\n") {
				t.Fatalf("validNonce accepted %q", nonce)
			}
		}
		if err != nil || !validNonce(nonce) {
			return
		}
		joined := nonce + ts
		for i := 1; i < len(joined); i++ {
			if i == len(nonce) {
				continue
			}
			n2, ts2 := joined[:i], joined[i:]
			tm2, err := ParseMillis(ts2)
			if err == nil && validNonce(n2) && tm2.Equal(tm) {
				t.Fatalf("(%q, %q) and (%q, %q) sign the same string at the same instant", nonce, ts, n2, ts2)
			}
		}
	})
}

// TestLargeBodyVerificationIsBounded: while every slot for large bodies is taken (a flood of
// large forged bodies), a large body waits at most LargeBodyWait (by default not at all) and is
// answered as retryable without an HMAC or a canonical payload, however it is signed; a body up
// to LargeBodyBytes is verified as always; once a slot is free a large body verifies, signed over
// its raw bytes or its canonical payload, and a forged one is refused as such.
func TestLargeBodyVerificationIsBounded(t *testing.T) {
	body := []byte(`{ "instanceId": "ti-1",  "flag": 1 }`)
	canon, err := CanonicalPayload(body)
	if err != nil || string(canon) == string(body) {
		t.Fatalf("the body must differ from its canonical payload: %q, %v", canon, err)
	}
	now := func() time.Time { return vecNow }
	slots := NewLargeBodySlots(1)
	v := &Verifier{Keys: []string{vecKey}, Now: now, LargeBodies: slots, LargeBodyWait: 20 * time.Millisecond, LargeBodyBytes: 16}
	header := func(sig, nonce string) http.Header {
		return http.Header{"X-Timestamp": {vecTimestamp}, "X-Nonce": {nonce}, "X-Sign": {sig}}
	}
	busy := func(what, nonce, sig string) {
		t.Helper()
		start := time.Now()
		_, err := v.VerifyKitKey(header(sig, nonce), body)
		if ReasonOf(err) != ReasonVerificationBusy || CodeOf(err) != CodeInternalError {
			t.Fatalf("%s while the slot is taken: %v (reason %q, code %s), want %s answered %s",
				what, err, ReasonOf(err), CodeOf(err), ReasonVerificationBusy, CodeInternalError)
		}
		if waited := time.Since(start); waited > 2*time.Second {
			t.Errorf("%s waited %s for a slot", what, waited)
		}
	}

	slots <- struct{}{} // the one slot is taken
	busy("a forged large body", "n1", SignKit(otherKey, "n1", vecTimestamp, body))
	busy("a large body signed over its raw bytes", "n2", SignKit(vecKey, "n2", vecTimestamp, body))
	busy("a large body signed over its canonical payload", "n3", SignKit(vecKey, "n3", vecTimestamp, canon))
	v.LargeBodyWait = 0 // the default: no wait at all
	busy("a forged large body, no wait", "n4", SignKit(otherKey, "n4", vecTimestamp, body))
	// A body up to LargeBodyBytes takes no slot.
	v.LargeBodyBytes = len(body)
	if _, err := v.VerifyKitKey(header(SignKit(vecKey, "n5", vecTimestamp, canon), "n5"), body); err != nil {
		t.Fatalf("a small canonically signed body while the slot is taken: %v", err)
	}
	v.LargeBodyBytes = 16

	<-slots // the flood ends
	for _, tc := range []struct{ nonce, sig string }{
		{"n2", SignKit(vecKey, "n2", vecTimestamp, body)},
		{"n3", SignKit(vecKey, "n3", vecTimestamp, canon)},
	} {
		if _, err := v.VerifyKitKey(header(tc.sig, tc.nonce), body); err != nil {
			t.Fatalf("a large signed body with a free slot: %v", err)
		}
	}
	_, err = v.VerifyKitKey(header(SignKit(otherKey, "n6", vecTimestamp, body), "n6"), body)
	if ReasonOf(err) != ReasonBadSignature {
		t.Errorf("a forged large body with a free slot: %v, want %s", err, ReasonBadSignature)
	}
	if len(slots) != 0 {
		t.Errorf("%d slots still taken after verification", len(slots))
	}
}
