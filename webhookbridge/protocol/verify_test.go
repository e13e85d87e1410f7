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
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	oldKey   = "previous-access-key"
	otherKey = "some-other-key"
)

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func basicQuery(sig, ts, nonce string) url.Values {
	q := url.Values{}
	if sig != "" {
		q.Set(ParamSignature, sig)
	}
	if ts != "" {
		q.Set(ParamTimestamp, ts)
	}
	if nonce != "" {
		q.Set(ParamNonce, nonce)
	}
	return q
}

func TestVerifyBasic(t *testing.T) {
	canon := []byte(vec1Canonical)
	rawSig := SignBasic(vecKey, vecNonce, vecTimestamp, []byte(vec1Body))
	oldSig := SignBasic(oldKey, vecNonce, vecTimestamp, canon)
	otherSig := SignBasic(otherKey, vecNonce, vecTimestamp, canon)
	tsAt := func(d time.Duration) string { return FormatMillis(vecNow.Add(d)) }
	sigAt := func(d time.Duration) string { return SignBasic(vecKey, vecNonce, tsAt(d), canon) }
	withParams := func(q url.Values, name string, vals ...string) url.Values {
		q[name] = vals
		return q
	}

	tests := []struct {
		name      string
		q         url.Values
		body      string
		keys      []string
		window    time.Duration
		wantIndex int
		wantErr   errInfo
	}{
		{name: "vector 1", q: basicQuery(vec1Signature, vecTimestamp, vecNonce), body: vec1Body},
		{name: "upper-case signature", q: basicQuery(strings.ToUpper(vec1Signature), vecTimestamp, vecNonce), body: vec1Body},
		{name: "mixed-case signature", q: basicQuery(vec1Signature[:20]+strings.ToUpper(vec1Signature[20:]), vecTimestamp, vecNonce), body: vec1Body},
		{name: "signature over raw body", q: basicQuery(rawSig, vecTimestamp, vecNonce), body: vec1Body},
		{name: "body that is not JSON, raw signature", q: basicQuery(SignBasic(vecKey, vecNonce, vecTimestamp, []byte("not json")), vecTimestamp, vecNonce), body: "not json"},
		{name: "current key of two", q: basicQuery(vec1Signature, vecTimestamp, vecNonce), body: vec1Body, keys: []string{vecKey, oldKey}},
		{name: "previous key of two", q: basicQuery(oldSig, vecTimestamp, vecNonce), body: vec1Body, keys: []string{vecKey, oldKey}, wantIndex: 1},
		{name: "empty key skipped", q: basicQuery(oldSig, vecTimestamp, vecNonce), body: vec1Body, keys: []string{"", oldKey}, wantIndex: 1},
		{name: "unknown key", q: basicQuery(otherSig, vecTimestamp, vecNonce), body: vec1Body, keys: []string{vecKey, oldKey}, wantIndex: -1, wantErr: errInfo{CodeAuthFailed, ReasonBadSignature, ""}},
		{name: "body changed", q: basicQuery(vec1Signature, vecTimestamp, vecNonce), body: strings.Replace(vec1Body, `"1"`, `"0"`, 1), wantIndex: -1, wantErr: errInfo{CodeAuthFailed, ReasonBadSignature, ""}},
		{name: "nonce changed", q: basicQuery(vec1Signature, vecTimestamp, "other"), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeAuthFailed, ReasonBadSignature, ""}},
		{name: "signature not hex", q: basicQuery(strings.Repeat("z", 64), vecTimestamp, vecNonce), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeAuthFailed, ReasonBadSignature, ""}},
		{name: "signature truncated", q: basicQuery(vec1Signature[:62], vecTimestamp, vecNonce), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeAuthFailed, ReasonBadSignature, ""}},
		{name: "signature missing", q: basicQuery("", vecTimestamp, vecNonce), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeAuthFailed, ReasonMissingSignature, ""}},
		{name: "signature repeated", q: withParams(basicQuery("", vecTimestamp, vecNonce), ParamSignature, vec1Signature, vec1Signature), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeAuthFailed, ReasonBadSignature, ""}},
		{name: "timestamp missing", q: basicQuery(vec1Signature, "", vecNonce), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonMissingTimestamp, ParamTimestamp}},
		{name: "timestamp empty", q: withParams(basicQuery(vec1Signature, "", vecNonce), ParamTimestamp, ""), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonMissingTimestamp, ParamTimestamp}},
		{name: "timestamp repeated", q: withParams(basicQuery(vec1Signature, "", vecNonce), ParamTimestamp, vecTimestamp, vecTimestamp), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonDuplicateParam, ParamTimestamp}},
		{name: "timestamp not numeric", q: basicQuery(vec1Signature, "1680508066618x", vecNonce), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonBadTimestamp, ParamTimestamp}},
		{name: "timestamp signed", q: basicQuery(vec1Signature, "+1680508066618", vecNonce), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonBadTimestamp, ParamTimestamp}},
		{name: "timestamp in seconds is stale", q: basicQuery(vec1Signature, "1680508066", vecNonce), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonStaleTimestamp, ParamTimestamp}},
		{name: "nonce missing", q: basicQuery(vec1Signature, vecTimestamp, ""), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonMissingNonce, ParamNonce}},
		{name: "nonce too long", q: basicQuery(vec1Signature, vecTimestamp, strings.Repeat("a", MaxNonceLength+1)), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonBadNonce, ParamNonce}},
		{name: "nonce with space", q: basicQuery(vec1Signature, vecTimestamp, "a b"), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonBadNonce, ParamNonce}},
		{name: "window edge past", q: basicQuery(sigAt(-60*time.Second), tsAt(-60*time.Second), vecNonce), body: vec1Body},
		{name: "window edge future", q: basicQuery(sigAt(60*time.Second), tsAt(60*time.Second), vecNonce), body: vec1Body},
		{name: "just past the window", q: basicQuery(sigAt(-60*time.Second-time.Millisecond), tsAt(-60*time.Second-time.Millisecond), vecNonce), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonStaleTimestamp, ParamTimestamp}},
		{name: "just ahead of the window", q: basicQuery(sigAt(60*time.Second+time.Millisecond), tsAt(60*time.Second+time.Millisecond), vecNonce), body: vec1Body, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonStaleTimestamp, ParamTimestamp}},
		{name: "configured window", q: basicQuery(sigAt(-90*time.Second), tsAt(-90*time.Second), vecNonce), body: vec1Body, window: 2 * time.Minute},
		{name: "configured window exceeded", q: basicQuery(sigAt(-121*time.Second), tsAt(-121*time.Second), vecNonce), body: vec1Body, window: 2 * time.Minute, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonStaleTimestamp, ParamTimestamp}},
		{name: "no keys", q: basicQuery(vec1Signature, vecTimestamp, vecNonce), body: vec1Body, keys: []string{""}, wantIndex: -1, wantErr: errInfo{CodeInternalError, ReasonNoKeys, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := tt.keys
			if keys == nil {
				keys = []string{vecKey}
			}
			v := &Verifier{Keys: keys, Window: tt.window, Now: func() time.Time { return vecNow },
				Nonces: NewNonceCache(5*time.Minute, 10, func() time.Time { return vecNow })}
			idx, err := v.VerifyBasicKey(tt.q, []byte(tt.body))
			if diff := cmp.Diff(tt.wantErr, infoOf(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s\nerr: %v", diff, err)
			}
			if idx != tt.wantIndex {
				t.Errorf("key index = %d, want %d", idx, tt.wantIndex)
			}
			wantLen := 0
			if err == nil {
				wantLen = 1
			}
			if got := v.Nonces.Len(); got != wantLen {
				t.Errorf("nonce cache holds %d entries, want %d (only verified nonces are remembered)", got, wantLen)
			}
		})
	}
}

func TestVerifyBasicReplay(t *testing.T) {
	clock := &fakeClock{t: vecNow}
	v := &Verifier{Keys: []string{vecKey}, Now: clock.Now, Nonces: NewNonceCache(2*DefaultWindow, 100, clock.Now)}
	if err := v.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	q := basicQuery(vec1Signature, vecTimestamp, vecNonce)

	// A forged request with the same nonce must not poison the cache.
	forged := basicQuery(SignBasic(otherKey, vecNonce, vecTimestamp, []byte(vec1Canonical)), vecTimestamp, vecNonce)
	if diff := cmp.Diff(errInfo{CodeAuthFailed, ReasonBadSignature, ""}, infoOf(v.VerifyBasic(forged, []byte(vec1Body)))); diff != "" {
		t.Errorf("forged (-want +got):\n%s", diff)
	}
	if err := v.VerifyBasic(q, []byte(vec1Body)); err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	clock.Add(59 * time.Second)
	if diff := cmp.Diff(errInfo{CodeAuthFailed, ReasonReplayedNonce, ""}, infoOf(v.VerifyBasic(q, []byte(vec1Body)))); diff != "" {
		t.Errorf("replay (-want +got):\n%s", diff)
	}
	// The same nonce in a kit call is a different family, not a replay.
	h := http.Header{}
	h.Set(HeaderSign, vec2Sign)
	h.Set(HeaderTimestamp, vecTimestamp)
	h.Set(HeaderNonce, vecNonce)
	if err := v.VerifyKit(h, []byte(vec2Body)); err != nil {
		t.Errorf("kit call with the same nonce: %v", err)
	}
	if diff := cmp.Diff(errInfo{CodeAuthFailed, ReasonReplayedNonce, ""}, infoOf(v.VerifyKit(h, []byte(vec2Body)))); diff != "" {
		t.Errorf("kit replay (-want +got):\n%s", diff)
	}
	// Once outside the window the timestamp check refuses it anyway.
	clock.Add(2 * time.Second)
	if diff := cmp.Diff(errInfo{CodeInvalidParam, ReasonStaleTimestamp, ParamTimestamp}, infoOf(v.VerifyBasic(q, []byte(vec1Body)))); diff != "" {
		t.Errorf("late replay (-want +got):\n%s", diff)
	}
}

func TestVerifyKit(t *testing.T) {
	const kitKey = "kit-key"
	canon, err := CanonicalPayload([]byte(vec2Body))
	if err != nil {
		t.Fatal(err)
	}
	hdr := func(sig string) http.Header {
		h := http.Header{}
		h.Set(HeaderSign, sig)
		h.Set(HeaderTimestamp, vecTimestamp)
		h.Set(HeaderNonce, vecNonce)
		return h
	}
	lower := http.Header{HeaderSign: {strings.ToUpper(vec2Sign)}, HeaderTimestamp: {vecTimestamp}, HeaderNonce: {vecNonce}}
	tests := []struct {
		name      string
		h         http.Header
		keys      []string
		kitKeys   []string
		wantIndex int
		wantErr   errInfo
	}{
		{name: "vector 2, kit key defaults to basic key", h: hdr(vec2Sign), keys: []string{vecKey}},
		{name: "lower-case header map, upper-case hex", h: lower, keys: []string{vecKey}},
		{name: "raw body", h: hdr(SignKit(vecKey, vecNonce, vecTimestamp, []byte(vec2Body))), keys: []string{vecKey}},
		{name: "separate kit key", h: hdr(SignKit(kitKey, vecNonce, vecTimestamp, canon)), keys: []string{vecKey}, kitKeys: []string{kitKey}},
		{name: "previous kit key", h: hdr(SignKit(oldKey, vecNonce, vecTimestamp, canon)), keys: []string{vecKey}, kitKeys: []string{kitKey, oldKey}, wantIndex: 1},
		{name: "basic key refused when kit key set", h: hdr(vec2Sign), keys: []string{vecKey}, kitKeys: []string{kitKey}, wantIndex: -1, wantErr: errInfo{CodeAuthFailed, ReasonBadSignature, ""}},
		{name: "basic scheme refused for kit", h: hdr(SignBasic(vecKey, vecNonce, vecTimestamp, canon)), keys: []string{vecKey}, wantIndex: -1, wantErr: errInfo{CodeAuthFailed, ReasonBadSignature, ""}},
		{name: "missing sign", h: http.Header{"X-Timestamp": {vecTimestamp}, "X-Nonce": {vecNonce}}, keys: []string{vecKey}, wantIndex: -1, wantErr: errInfo{CodeAuthFailed, ReasonMissingSignature, ""}},
		{name: "missing timestamp", h: http.Header{"X-Sign": {vec2Sign}, "X-Nonce": {vecNonce}}, keys: []string{vecKey}, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonMissingTimestamp, HeaderTimestamp}},
		{name: "missing nonce", h: http.Header{"X-Sign": {vec2Sign}, "X-Timestamp": {vecTimestamp}}, keys: []string{vecKey}, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonMissingNonce, HeaderNonce}},
		{name: "stale", h: http.Header{"X-Sign": {vec2Sign}, "X-Timestamp": {"1680508000000"}, "X-Nonce": {vecNonce}}, keys: []string{vecKey}, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonStaleTimestamp, HeaderTimestamp}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verifier{Keys: tt.keys, KitKeys: tt.kitKeys, Now: func() time.Time { return vecNow }}
			idx, err := v.VerifyKitKey(tt.h, []byte(vec2Body))
			if diff := cmp.Diff(tt.wantErr, infoOf(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s\nerr: %v", diff, err)
			}
			if idx != tt.wantIndex {
				t.Errorf("key index = %d, want %d", idx, tt.wantIndex)
			}
		})
	}
}

func v1Query(t *testing.T, extra string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(vec4Query + extra)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestVerifyV1(t *testing.T) {
	v1Now, err := ParseV1TimeStamp(vec4TimeStamp)
	if err != nil {
		t.Fatal(err)
	}
	signed := func(key string, ts time.Time) url.Values {
		q := v1Query(t, "")
		q.Set(ParamTimeStamp, FormatV1TimeStamp(ts))
		q.Set(ParamAuthToken, V1AuthToken(key, q.Get(ParamTimeStamp), q))
		return q
	}
	tests := []struct {
		name      string
		q         url.Values
		wantIndex int
		wantErr   errInfo
	}{
		{name: "vector 4", q: v1Query(t, "&authToken="+url.QueryEscape(vec4AuthToken))},
		{name: "unescaped plus", q: v1Query(t, "&authToken="+vec4AuthToken)},
		{name: "previous key", q: signed(oldKey, v1Now), wantIndex: 1},
		{name: "window edge", q: signed(vecKey, v1Now.Add(-DefaultWindow))},
		{name: "past the window", q: signed(vecKey, v1Now.Add(-DefaultWindow-time.Millisecond)), wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonStaleTimestamp, ParamTimeStamp}},
		{name: "unknown key", q: signed(otherKey, v1Now), wantIndex: -1, wantErr: errInfo{CodeAuthFailed, ReasonBadSignature, ""}},
		{name: "parameter changed", q: v1Query(t, "&authToken="+url.QueryEscape(vec4AuthToken)+"&extra=1"), wantIndex: -1, wantErr: errInfo{CodeAuthFailed, ReasonBadSignature, ""}},
		{name: "parameter repeated", q: v1Query(t, "&authToken="+url.QueryEscape(vec4AuthToken)+"&orderId=x"), wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonDuplicateParam, "orderId"}},
		{name: "missing authToken", q: v1Query(t, ""), wantIndex: -1, wantErr: errInfo{CodeAuthFailed, ReasonMissingSignature, ""}},
		{name: "authToken not base64", q: v1Query(t, "&authToken=%25%25%25%25"), wantIndex: -1, wantErr: errInfo{CodeAuthFailed, ReasonBadSignature, ""}},
		{name: "missing timeStamp", q: url.Values{ParamAuthToken: {vec4AuthToken}, "activity": {"newInstance"}}, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonMissingTimestamp, ParamTimeStamp}},
		{name: "timeStamp 14 digits", q: url.Values{ParamAuthToken: {vec4AuthToken}, ParamTimeStamp: {"20200727073711"}}, wantIndex: -1, wantErr: errInfo{CodeInvalidParam, ReasonBadTimestamp, ParamTimeStamp}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verifier{Keys: []string{vecKey, oldKey}, Now: func() time.Time { return v1Now }}
			idx, err := v.VerifyV1Key(tt.q)
			if diff := cmp.Diff(tt.wantErr, infoOf(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s\nerr: %v", diff, err)
			}
			if idx != tt.wantIndex {
				t.Errorf("key index = %d, want %d", idx, tt.wantIndex)
			}
		})
	}
}

func TestVerifyV1Replay(t *testing.T) {
	v1Now, _ := ParseV1TimeStamp(vec4TimeStamp)
	now := func() time.Time { return v1Now }
	v := &Verifier{Keys: []string{vecKey}, Now: now, Nonces: NewNonceCache(0, 0, now)}
	if err := v.VerifyV1(v1Query(t, "&authToken="+url.QueryEscape(vec4AuthToken))); err != nil {
		t.Fatalf("first: %v", err)
	}
	// The replay arrives with the '+' unescaped: still the same token.
	if diff := cmp.Diff(errInfo{CodeAuthFailed, ReasonReplayedNonce, ""}, infoOf(v.VerifyV1(v1Query(t, "&authToken="+vec4AuthToken)))); diff != "" {
		t.Errorf("replay (-want +got):\n%s", diff)
	}
}

func TestVerifierValidate(t *testing.T) {
	tests := []struct {
		name    string
		v       Verifier
		wantErr bool
	}{
		{name: "ok", v: Verifier{Keys: []string{"k"}, Nonces: NewNonceCache(0, 0, nil)}},
		{name: "no keys", v: Verifier{}, wantErr: true},
		{name: "empty keys", v: Verifier{Keys: []string{""}}, wantErr: true},
		{name: "empty kit keys", v: Verifier{Keys: []string{"k"}, KitKeys: []string{""}}, wantErr: true},
		{name: "ttl too short", v: Verifier{Keys: []string{"k"}, Window: time.Minute, Nonces: NewNonceCache(time.Minute, 0, nil)}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.v.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
	// A short TTL also fails closed at verification time.
	v := &Verifier{Keys: []string{vecKey}, Now: func() time.Time { return vecNow }, Nonces: NewNonceCache(time.Second, 0, nil)}
	if got := CodeOf(v.VerifyBasic(basicQuery(vec1Signature, vecTimestamp, vecNonce), []byte(vec1Body))); got != CodeInternalError {
		t.Errorf("code with short TTL = %s, want %s", got, CodeInternalError)
	}
}

func TestNonceCache(t *testing.T) {
	clock := &fakeClock{t: vecNow}
	c := NewNonceCache(2*time.Minute, 3, clock.Now)
	step := func(nonce string, want errInfo) {
		t.Helper()
		if diff := cmp.Diff(want, infoOf(c.Remember(nonce))); diff != "" {
			t.Errorf("Remember(%q) (-want +got):\n%s", nonce, diff)
		}
	}
	replayed := errInfo{CodeAuthFailed, ReasonReplayedNonce, ""}
	full := errInfo{CodeInternalError, ReasonNonceCacheFull, ""}

	step("a", errInfo{})
	step("a", replayed)
	clock.Add(time.Minute)
	step("b", errInfo{})
	step("c", errInfo{})
	step("d", full) // full of unexpired entries: refused, not forgotten
	step("a", replayed)
	if !c.Seen("d") {
		t.Error("Seen(d) = false while full, want true (fail closed)")
	}
	clock.Add(time.Minute) // "a" expires exactly now
	step("d", errInfo{})
	step("a", full) // "a" was forgotten on expiry, but b, c, d fill the cache
	step("e", full)
	if got := c.Len(); got != 3 {
		t.Errorf("Len = %d, want 3", got)
	}
	clock.Add(10 * time.Minute)
	step("e", errInfo{})
	if got := c.Len(); got != 1 {
		t.Errorf("Len after expiry = %d, want 1", got)
	}
}

func TestNonceCacheEvictsManyEntries(t *testing.T) {
	clock := &fakeClock{t: vecNow}
	c := NewNonceCache(time.Second, 5000, clock.Now)
	for round := 0; round < 5; round++ {
		for i := 0; i < 4000; i++ {
			if err := c.Remember(fmt.Sprintf("n%d-%d", round, i)); err != nil {
				t.Fatalf("round %d nonce %d: %v", round, i, err)
			}
		}
		clock.Add(2 * time.Second)
	}
	if c.Remember("n4-0") != nil {
		t.Error("expired nonce refused")
	}
	if got := c.Len(); got != 1 {
		t.Errorf("Len = %d, want 1", got)
	}
	if got := len(c.queue) - c.head; got != 1 {
		t.Errorf("queue holds %d live entries, want 1", got)
	}
}

func TestNonceCacheConcurrent(t *testing.T) {
	c := NewNonceCache(time.Minute, 1000, nil)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c.Remember("same") == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := ok.Load(); got != 1 {
		t.Errorf("%d goroutines were accepted, want exactly 1", got)
	}
}

func TestVerifyBodyCapAndSentAt(t *testing.T) {
	v := &Verifier{Keys: []string{vecKey}, Now: func() time.Time { return vecNow }, MaxBodyBytes: int64(len(vec1Body)) - 1}
	q := basicQuery(vec1Signature, vecTimestamp, vecNonce)
	if diff := cmp.Diff(errInfo{CodeInvalidParam, ReasonBodyTooLarge, ""}, infoOf(v.VerifyBasic(q, []byte(vec1Body)))); diff != "" {
		t.Errorf("over the cap (-want +got):\n%s", diff)
	}
	v.MaxBodyBytes = int64(len(vec1Body))
	if err := v.VerifyBasic(q, []byte(vec1Body)); err != nil {
		t.Errorf("at the cap: %v", err)
	}
	if got, err := BasicSentAt(q); err != nil || !got.Equal(vecNow) {
		t.Errorf("BasicSentAt = %v, %v", got, err)
	}
	if got, err := KitSentAt(http.Header{"X-Timestamp": {vecTimestamp}}); err != nil || !got.Equal(vecNow) {
		t.Errorf("KitSentAt = %v, %v", got, err)
	}
	if _, err := KitSentAt(http.Header{}); err == nil {
		t.Error("KitSentAt without header succeeded")
	}
	if got, err := V1SentAt(url.Values{ParamTimeStamp: {vec4TimeStamp}}); err != nil || got.UnixMilli() != 1595835431903 {
		t.Errorf("V1SentAt = %v, %v", got, err)
	}
}
