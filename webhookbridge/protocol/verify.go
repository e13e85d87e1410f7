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
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultWindow is how far a request's timestamp may be from now (docs/protocol.md
// §2.1) when Verifier.Window is zero.
const DefaultWindow = 60 * time.Second

// DefaultMaxBodyBytes is the body cap (docs/protocol.md §2.1) when
// Verifier.MaxBodyBytes is zero. The bridge should enforce the same cap while
// reading (http.MaxBytesReader) and answer BodyTooLarge.
const DefaultMaxBodyBytes = 1 << 20

// MaxNonceLength bounds the nonce (examples are 16 or 64 characters) so that
// the replay cache's memory is bounded by its entry count.
const MaxNonceLength = 128

// Replay-cache key prefixes keep the three families apart. The key itself is
// the call's signature (lower-case hex; base64 for V1), not its nonce: a
// signature names exactly one signed string, whereas the same signed string can
// be split into nonce and timestamp in more than one way (docs/protocol.md §2.1).
const (
	noncePrefixBasic = "basic:"
	noncePrefixKit   = "kit:"
	noncePrefixV1    = "v1:"
)

// BasicReplayKey is the key under which a verified basic call is remembered as
// seen: the family and the signature, lower-cased. The bridge claims the same
// key in the replay store its replicas share before answering a call whose
// answer discloses a secret (docs/protocol.md §2.1).
func BasicReplayKey(q url.Values) string {
	return noncePrefixBasic + strings.ToLower(q.Get(ParamSignature))
}

// KitReplayKey is BasicReplayKey for a kit call (its x-sign header).
func KitReplayKey(h http.Header) string {
	var sig string
	if vals := headerValues(h, HeaderSign); len(vals) > 0 {
		sig = vals[0]
	}
	return noncePrefixKit + strings.ToLower(sig)
}

// V1ReplayKey is BasicReplayKey for a V1 call: its authToken, a space read as
// '+' as VerifyV1Key reads it. Base64 is case-sensitive, so it is not lowered.
func V1ReplayKey(q url.Values) string {
	return noncePrefixV1 + replaceSpaces(q.Get(ParamAuthToken))
}

// Verifier checks the signatures, freshness and uniqueness of marketplace
// calls before any field is acted on (docs/protocol.md §2). The zero values of
// Window and Now mean DefaultWindow and time.Now. It is safe for concurrent use
// as long as its fields are not changed.
type Verifier struct {
	// Keys are the basic-interface access keys: the current key first, then
	// previous keys that are still accepted during a rotation. Empty strings
	// are ignored (an empty HMAC key would let anyone sign).
	Keys []string
	// KitKeys are the kit keys, in the same order; empty means Keys
	// (docs/protocol.md §2.2 Rule).
	KitKeys []string
	// Window is the accepted distance between the request's timestamp and now,
	// in either direction; the bound itself is accepted.
	Window time.Duration
	// Now is the clock; tests inject a fixed one.
	Now func() time.Time
	// Nonces remembers the signatures (V1: authTokens) of accepted calls to refuse replays.
	// Nil disables replay protection, which is only acceptable in tests.
	Nonces *NonceCache
	// MaxBodyBytes caps the body VerifyBasic and VerifyKit accept; zero means
	// DefaultMaxBodyBytes. Checked here too so that a bridge that forgot its
	// own cap never canonicalises an unbounded body.
	MaxBodyBytes int64
	// LargeBodies bounds how many bodies over LargeBodyBytes are verified at once. Refusing a
	// large body under a fresh, well-formed, wrong signature costs its HMACs (about 3 ms of CPU
	// per MiB and key) and a canonical payload (about 13 ms per MiB); a flood of them would take
	// every core. A large body that finds every slot taken waits LargeBodyWait (by default not at
	// all: waiting would hold its call slot, which signed calls need) and is then answered as
	// retryable (ReasonVerificationBusy), so such a flood holds at most this many cores while
	// calls with smaller bodies — every basic call, most kit calls — are never held back. Nil is
	// unbounded. Make it with NewLargeBodySlots.
	LargeBodies chan struct{}
	// LargeBodyWait is how long a large body waits for a free slot; zero does not wait.
	LargeBodyWait time.Duration
	// LargeBodyBytes is the size above which a body needs a slot; zero means
	// DefaultLargeBodyBytes.
	LargeBodyBytes int
}

// DefaultLargeBodyBytes is the size above which a body needs a slot to be verified: the basic
// interface's body cap.
const DefaultLargeBodyBytes = 64 << 10

// NewLargeBodySlots makes n slots for Verifier.LargeBodies; n <= 0 means unbounded (nil).
func NewLargeBodySlots(n int) chan struct{} {
	if n <= 0 {
		return nil
	}
	return make(chan struct{}, n)
}

// largeBodySlot takes a slot for verifying body when it is large; the returned func gives it back.
func (v *Verifier) largeBodySlot(body []byte) (release func(), err error) {
	limit := v.LargeBodyBytes
	if limit <= 0 {
		limit = DefaultLargeBodyBytes
	}
	if v.LargeBodies == nil || len(body) <= limit {
		return func() {}, nil
	}
	busy := internalError(ReasonVerificationBusy, errors.New("every slot for verifying a large body is taken"))
	select {
	case v.LargeBodies <- struct{}{}:
	default:
		if v.LargeBodyWait <= 0 {
			return nil, busy
		}
		timer := time.NewTimer(v.LargeBodyWait)
		defer timer.Stop()
		select {
		case v.LargeBodies <- struct{}{}:
		case <-timer.C:
			return nil, busy
		}
	}
	return func() { <-v.LargeBodies }, nil
}

// BodyTooLarge is the error for a body over limit bytes (CodeInvalidParam,
// reason "body-too-large"), for the bridge's reading side to answer with.
func BodyTooLarge(limit int64) *Error {
	return paramReason(ReasonBodyTooLarge, "", fmt.Errorf("request body exceeds %d bytes", limit))
}

func (v *Verifier) maxBody() int64 {
	if v.MaxBodyBytes > 0 {
		return v.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

// BasicSentAt returns the send time of a basic call, its "timestamp" query
// parameter. The bridge records it per instance and aspect to order state
// changes (docs/protocol.md §6.3); call it after VerifyBasic succeeded.
func BasicSentAt(q url.Values) (time.Time, error) {
	return ParseMillis(q.Get(ParamTimestamp))
}

// KitSentAt returns the send time of a kit call, its x-timestamp header.
func KitSentAt(h http.Header) (time.Time, error) {
	vals := headerValues(h, HeaderTimestamp)
	if len(vals) == 0 {
		return time.Time{}, errors.New("no x-timestamp header")
	}
	return ParseMillis(vals[0])
}

// V1SentAt returns the send time of a V1 call, its timeStamp parameter.
func V1SentAt(q url.Values) (time.Time, error) {
	return ParseV1TimeStamp(q.Get(ParamTimeStamp))
}

func (v *Verifier) window() time.Duration {
	if v.Window > 0 {
		return v.Window
	}
	return DefaultWindow
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) kitKeys() []string {
	if len(v.KitKeys) > 0 {
		return v.KitKeys
	}
	return v.Keys
}

// EffectiveKitKeys returns the keys VerifyKitKey checks and its index refers
// to: KitKeys, or Keys when KitKeys is empty. The bridge answers a kit call
// with the key at that index (docs/protocol.md §6.12), so it must resolve the
// index exactly as the verifier does.
func (v *Verifier) EffectiveKitKeys() []string {
	return v.kitKeys()
}

// Validate reports configuration mistakes so the bridge can refuse to start:
// no usable key, or a replay cache that forgets nonces before the window
// closes (its TTL must be at least twice the window).
func (v *Verifier) Validate() error {
	if !hasKey(v.Keys) {
		return errors.New("verifier: no access key configured")
	}
	if len(v.KitKeys) > 0 && !hasKey(v.KitKeys) {
		return errors.New("verifier: kit keys configured but all empty")
	}
	if v.Window < 0 || v.MaxBodyBytes < 0 {
		return errors.New("verifier: negative window or body cap")
	}
	if v.Nonces != nil && v.Nonces.TTL() < 2*v.window() {
		return fmt.Errorf("verifier: nonce TTL %s is shorter than twice the window %s", v.Nonces.TTL(), v.window())
	}
	return nil
}

func hasKey(keys []string) bool {
	for _, k := range keys {
		if k != "" {
			return true
		}
	}
	return false
}

// VerifyBasic verifies a basic lifecycle call (docs/protocol.md §2.1) from its query
// parameters and the exact body bytes received. See VerifyBasicKey.
func (v *Verifier) VerifyBasic(q url.Values, body []byte) error {
	_, err := v.VerifyBasicKey(q, body)
	return err
}

// VerifyBasicKey is VerifyBasic that also returns the index in Keys of the key
// that matched, so the bridge can count calls still signed with a previous key
// before retiring it. On error the index is -1.
//
// Checks, in order: body within MaxBodyBytes (CodeInvalidParam
// "body-too-large"); timestamp present, single, canonical decimal milliseconds
// without a leading zero (CodeInvalidParam "bad-timestamp"); nonce present,
// single, at most MaxNonceLength printable ASCII characters (CodeInvalidParam); signature present, single, 64 hex digits
// in either case (CodeAuthFailed); timestamp within the window
// (CodeInvalidParam "stale-timestamp"); signature matches the raw body or,
// failing that, the canonical payload under any key, compared in constant time
// (CodeAuthFailed); finally the signature is recorded (BasicReplayKey), and one seen
// before is refused (CodeAuthFailed "replayed-nonce"). It is recorded only after
// it verified, so unauthenticated requests cannot fill or poison the cache.
func (v *Verifier) VerifyBasicKey(q url.Values, body []byte) (int, error) {
	return v.verifyHex(q[ParamSignature], q[ParamTimestamp], q[ParamNonce],
		[3]string{ParamSignature, ParamTimestamp, ParamNonce}, v.Keys, body, basicMAC, noncePrefixBasic)
}

// VerifyKit verifies a kit sync call (docs/protocol.md §2.2) from its headers and
// the exact body bytes received, with KitKeys. See VerifyKitKey.
func (v *Verifier) VerifyKit(h http.Header, body []byte) error {
	_, err := v.VerifyKitKey(h, body)
	return err
}

// VerifyKitKey is VerifyKit that also returns the index of the matching key in
// KitKeys (or in Keys when KitKeys is empty). The checks are those of
// VerifyBasicKey, on the x-sign, x-timestamp and x-nonce headers.
func (v *Verifier) VerifyKitKey(h http.Header, body []byte) (int, error) {
	return v.verifyHex(headerValues(h, HeaderSign), headerValues(h, HeaderTimestamp), headerValues(h, HeaderNonce),
		[3]string{HeaderSign, HeaderTimestamp, HeaderNonce}, v.kitKeys(), body, kitStreamMAC, noncePrefixKit)
}

// headerValues looks a header up canonically, falling back to the literal
// lower-case name for hand-built header maps.
func headerValues(h http.Header, name string) []string {
	if vals := h.Values(name); len(vals) > 0 {
		return vals
	}
	return h[name]
}

type macFunc func(key, nonce, timestamp string, payload []byte) []byte

func (v *Verifier) verifyHex(sigs, tss, nonces []string, names [3]string, keys []string, body []byte, mac macFunc, prefix string) (int, error) {
	if int64(len(body)) > v.maxBody() {
		return -1, BodyTooLarge(v.maxBody())
	}
	ts, err := single(tss, names[1], ReasonMissingTimestamp)
	if err != nil {
		return -1, err
	}
	sent, err := ParseMillis(ts)
	if err != nil {
		return -1, paramReason(ReasonBadTimestamp, names[1], err)
	}
	nonce, err := single(nonces, names[2], ReasonMissingNonce)
	if err != nil {
		return -1, err
	}
	if !validNonce(nonce) {
		return -1, paramReason(ReasonBadNonce, names[2], fmt.Errorf("nonce must be 1 to %d printable ASCII characters", MaxNonceLength))
	}
	sigHex, err := single(sigs, names[0], ReasonMissingSignature)
	if err != nil {
		return -1, authFrom(err)
	}
	if len(sigHex) != hex.EncodedLen(sha256Size) {
		return -1, AuthError(ReasonBadSignature)
	}
	var sig [sha256Size]byte
	if _, err := hex.Decode(sig[:], []byte(sigHex)); err != nil {
		return -1, AuthError(ReasonBadSignature)
	}
	if err := v.checkWindow(sent, names[1]); err != nil {
		return -1, err
	}
	if !hasKey(keys) {
		return -1, internalError(ReasonNoKeys, errors.New("no access key configured"))
	}
	// The raw body first: it costs one streamed HMAC per key and no allocation in proportion to
	// the body. The canonical payload (docs/protocol.md §2.1 Rule) is built only when the raw
	// body matched under no key, so a request that fails a cheap check above, or whose sender
	// signed the bytes it sent, is never canonicalised.
	release, err := v.largeBodySlot(body)
	if err != nil {
		return -1, err
	}
	defer release()
	match := matchKey(keys, sig[:], func(key string) []byte { return mac(key, nonce, ts, body) })
	if match < 0 {
		if canon, err := CanonicalPayload(body); err == nil && !bytes.Equal(canon, body) {
			match = matchKey(keys, sig[:], func(key string) []byte { return mac(key, nonce, ts, canon) })
		}
	}
	if match < 0 {
		return -1, AuthError(ReasonBadSignature)
	}
	if err := v.remember(prefix + strings.ToLower(sigHex)); err != nil {
		return -1, err
	}
	return match, nil
}

const sha256Size = 32

// kitStreamMAC is kitMAC with its parts written to the hash one after the other instead of
// joined first, so verifying a large kit body copies none of it.
func kitStreamMAC(key, nonce, timestamp string, payload []byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(key))
	m.Write([]byte(nonce))
	m.Write([]byte(timestamp))
	m.Write(payload)
	return m.Sum(nil)
}

// matchKey returns the index of the first non-empty key under which mac equals sig, compared
// in constant time, or -1. Every key is tried, so the time taken does not say which matched.
func matchKey(keys []string, sig []byte, mac func(key string) []byte) int {
	match := -1
	for i, key := range keys {
		if key == "" {
			continue
		}
		if hmac.Equal(mac(key), sig) && match < 0 {
			match = i
		}
	}
	return match
}

// VerifyV1 verifies a legacy V1 GET call (docs/protocol.md §2.3). See VerifyV1Key.
func (v *Verifier) VerifyV1(q url.Values) error {
	_, err := v.VerifyV1Key(q)
	return err
}

// VerifyV1Key is VerifyV1 that also returns the index of the matching key in
// Keys. Checks: timeStamp present, single, 17 digits UTC (CodeInvalidParam);
// no parameter repeated (CodeInvalidParam "duplicate-parameter", since a
// repeat makes the signed string ambiguous); authToken present and base64 of 32
// bytes (CodeAuthFailed); timeStamp within the window; authToken matches under
// any key (constant time); and the authToken was not accepted before
// (CodeAuthFailed "replayed-nonce"). V1 has no nonce, so the token itself is
// the replay key. A space in authToken is read as '+', because senders that
// forget to percent-encode '+' are common and the token is not itself signed.
func (v *Verifier) VerifyV1Key(q url.Values) (int, error) {
	ts, err := single(q[ParamTimeStamp], ParamTimeStamp, ReasonMissingTimestamp)
	if err != nil {
		return -1, err
	}
	sent, err := ParseV1TimeStamp(ts)
	if err != nil {
		return -1, paramReason(ReasonBadTimestamp, ParamTimeStamp, err)
	}
	for name, vals := range q {
		if len(vals) > 1 && name != ParamAuthToken {
			return -1, paramReason(ReasonDuplicateParam, name, errors.New("parameter repeated"))
		}
	}
	tok, err := single(q[ParamAuthToken], ParamAuthToken, ReasonMissingSignature)
	if err != nil {
		return -1, authFrom(err)
	}
	sig, err := decodeCanonicalBase64(replaceSpaces(tok))
	if err != nil || len(sig) != 32 {
		return -1, AuthError(ReasonBadSignature)
	}
	if err := v.checkWindow(sent, ParamTimeStamp); err != nil {
		return -1, err
	}
	if !hasKey(v.Keys) {
		return -1, internalError(ReasonNoKeys, errors.New("no access key configured"))
	}
	match := -1
	for i, key := range v.Keys {
		if key == "" {
			continue
		}
		if hmac.Equal(v1MAC(key, ts, q), sig) && match < 0 {
			match = i
		}
	}
	if match < 0 {
		return -1, AuthError(ReasonBadSignature)
	}
	if err := v.remember(V1ReplayKey(q)); err != nil {
		return -1, err
	}
	return match, nil
}

func replaceSpaces(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == ' ' {
			b[i] = '+'
		}
	}
	return string(b)
}

// single returns the only value of a parameter: absent or empty is reported
// with missingReason, a repeat as "duplicate-parameter" (both CodeInvalidParam;
// authFrom turns them into CodeAuthFailed for the signature itself).
func single(vals []string, name, missingReason string) (string, error) {
	switch {
	case len(vals) == 0 || (len(vals) == 1 && vals[0] == ""):
		return "", paramReason(missingReason, name, errors.New("missing"))
	case len(vals) > 1:
		return "", paramReason(ReasonDuplicateParam, name, errors.New("parameter repeated"))
	}
	return vals[0], nil
}

// authFrom maps a problem with the signature parameter itself to
// CodeAuthFailed: a missing signature keeps its reason, anything else is a
// bad signature.
func authFrom(err error) error {
	if ReasonOf(err) == ReasonMissingSignature {
		return AuthError(ReasonMissingSignature)
	}
	return AuthError(ReasonBadSignature)
}

func validNonce(n string) bool {
	if len(n) == 0 || len(n) > MaxNonceLength {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] <= ' ' || n[i] > '~' {
			return false
		}
	}
	return true
}

func (v *Verifier) checkWindow(sent time.Time, field string) error {
	d := v.now().Sub(sent)
	if d < 0 {
		d = -d
	}
	if d > v.window() {
		return paramReason(ReasonStaleTimestamp, field, fmt.Errorf("timestamp is %s away from now, window is %s", d.Truncate(time.Millisecond), v.window()))
	}
	return nil
}

func (v *Verifier) remember(key string) error {
	if v.Nonces == nil {
		return nil
	}
	if v.Nonces.TTL() < 2*v.window() {
		return internalError(ReasonInternal, fmt.Errorf("nonce TTL %s is shorter than twice the window %s", v.Nonces.TTL(), v.window()))
	}
	return v.Nonces.Remember(key)
}

// Defaults of NewNonceCache.
const (
	DefaultNonceTTL        = 2 * DefaultWindow
	DefaultNonceMaxEntries = 100000
)

type nonceEntry struct {
	key     string
	expires time.Time
}

// NonceCache remembers accepted nonces for a fixed TTL with bounded memory.
// It is safe for concurrent use.
//
// When it holds max unexpired entries it refuses new nonces with a
// CodeInternalError (reason "nonce-cache-full") instead of forgetting one:
// forgetting would silently reopen the replay window, whereas 000005 makes
// the marketplace retry later, when entries have expired. The bound should be
// sized well above the expected call rate times the TTL.
type NonceCache struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	now     func() time.Time
	expires map[string]time.Time
	queue   []nonceEntry // insertion order, which is expiry order for a monotonic clock
	head    int
}

// NewNonceCache returns a cache remembering each nonce for ttl (at least twice
// the verifier's window; zero means DefaultNonceTTL) and holding at most max
// entries (zero means DefaultNonceMaxEntries). now is the clock (nil means
// time.Now).
func NewNonceCache(ttl time.Duration, max int, now func() time.Time) *NonceCache {
	if ttl <= 0 {
		ttl = DefaultNonceTTL
	}
	if max <= 0 {
		max = DefaultNonceMaxEntries
	}
	if now == nil {
		now = time.Now
	}
	return &NonceCache{ttl: ttl, max: max, now: now, expires: make(map[string]time.Time)}
}

// TTL is how long an accepted nonce is remembered.
func (c *NonceCache) TTL() time.Duration { return c.ttl }

// Len is the number of entries currently held, expired or not.
func (c *NonceCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.expires)
}

// Remember atomically checks and records nonce. It returns nil the first time
// a nonce is seen within the TTL, a CodeAuthFailed "replayed-nonce" error for a
// repeat, and a CodeInternalError "nonce-cache-full" error when the cache is
// full of unexpired entries (the nonce is then not recorded).
func (c *NonceCache) Remember(nonce string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.evict(now)
	if exp, ok := c.expires[nonce]; ok && exp.After(now) {
		return AuthError(ReasonReplayedNonce)
	}
	if len(c.expires) >= c.max {
		return internalError(ReasonNonceCacheFull, fmt.Errorf("replay cache holds %d unexpired nonces", len(c.expires)))
	}
	exp := now.Add(c.ttl)
	c.expires[nonce] = exp
	c.queue = append(c.queue, nonceEntry{key: nonce, expires: exp})
	return nil
}

// Seen is Remember as a boolean: it reports whether the nonce must be refused,
// either because it was seen before or because it could not be recorded
// (fail closed). Use Remember to tell the two apart.
func (c *NonceCache) Seen(nonce string) bool {
	return c.Remember(nonce) != nil
}

// evict drops expired entries from the front of the queue. Caller holds mu.
func (c *NonceCache) evict(now time.Time) {
	for c.head < len(c.queue) && !c.queue[c.head].expires.After(now) {
		e := c.queue[c.head]
		if exp, ok := c.expires[e.key]; ok && exp.Equal(e.expires) {
			delete(c.expires, e.key)
		}
		c.queue[c.head] = nonceEntry{}
		c.head++
	}
	if c.head > 1024 && c.head*2 > len(c.queue) {
		c.queue = append([]nonceEntry(nil), c.queue[c.head:]...)
		c.head = 0
	}
	if c.head == len(c.queue) {
		c.queue = c.queue[:0]
		c.head = 0
	}
}
