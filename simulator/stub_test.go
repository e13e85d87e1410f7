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

package simulator

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// stubBridge is a minimal bridge for tests. Its verifier is written straight
// from the formulas of docs/protocol.md, so the simulator's signing is checked
// against the protocol text rather than against itself.
type stubBridge struct {
	t              *testing.T
	accessKey      string
	kitKey         string
	now            time.Time
	handle         func(c stubCall) (resultCode string, extra map[string]any)
	badBodySign    bool
	noBodySign     bool
	forceHTTPError int

	mu    sync.Mutex
	calls []stubCall
}

// stubCall is one verified call: Name is the activity, the kit path name,
// or "v1:<activity>"; Body holds the decoded body (or V1 parameters).
type stubCall struct {
	Name  string
	Body  map[string]any
	Nonce string
}

func newStubBridge(t *testing.T, handle func(stubCall) (string, map[string]any)) (*stubBridge, *httptest.Server) {
	t.Helper()
	b := &stubBridge{t: t, accessKey: "stub-access-key", kitKey: "stub-kit-key", now: testNow, handle: handle}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return b, srv
}

func (b *stubBridge) recorded() []stubCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]stubCall(nil), b.calls...)
}

func stubHMAC(key, msg string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func stubCanonical(body []byte) (string, map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	var raw map[string]json.RawMessage
	if dec.Decode(&m) != nil || m == nil || json.Unmarshal(body, &raw) != nil {
		return "", nil, false
	}
	keys := make([]string, 0, len(raw))
	for k, v := range raw {
		if string(v) != "null" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			buf.WriteString(",")
		}
		// Keys here are plain ASCII, so %q is JSON.
		fmt.Fprintf(&buf, "%q:", k)
		if json.Compact(&buf, raw[k]) != nil {
			return "", nil, false
		}
	}
	buf.WriteString("}")
	return buf.String(), m, true
}

func (b *stubBridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	call, ok := b.verify(r, body)
	code, extra := ResultAuthFailed, map[string]any(nil)
	if ok {
		b.mu.Lock()
		b.calls = append(b.calls, call)
		b.mu.Unlock()
		code, extra = b.handle(call)
	}
	answer := map[string]any{"resultCode": code, "resultMsg": "stub"}
	for k, v := range extra {
		answer[k] = v
	}
	out, _ := json.Marshal(answer)
	sig := base64.StdEncoding.EncodeToString(stubHMAC(b.accessKey, string(out)))
	if b.badBodySign {
		sig = base64.StdEncoding.EncodeToString(stubHMAC("other", string(out)))
	}
	if !b.noBodySign {
		w.Header().Set("Body-Sign", `sign_type="HMAC-SHA256", signature= "`+sig+`"`)
	}
	if b.forceHTTPError != 0 {
		w.WriteHeader(b.forceHTTPError)
	}
	_, _ = w.Write(out)
}

func (b *stubBridge) verify(r *http.Request, body []byte) (stubCall, bool) {
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		var keys []string
		for k := range q {
			if k != "authToken" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var pairs []string
		m := map[string]any{}
		for _, k := range keys {
			pairs = append(pairs, k+"="+q.Get(k))
			m[k] = q.Get(k)
		}
		want := base64.StdEncoding.EncodeToString(stubHMAC(b.accessKey+q.Get("timeStamp"), strings.Join(pairs, "&")))
		return stubCall{Name: "v1:" + q.Get("activity"), Body: m}, hmac.Equal([]byte(want), []byte(q.Get("authToken")))
	}

	payload, m, ok := stubCanonical(body)
	if !ok {
		return stubCall{}, false
	}
	if name, isKit := strings.CutPrefix(r.URL.Path, "/saasproduce/produceAPI/v2/"); isKit {
		nonce, ts := r.Header.Get("x-nonce"), r.Header.Get("x-timestamp")
		want := hex.EncodeToString(stubHMAC(b.kitKey, b.kitKey+nonce+ts+payload))
		return stubCall{Name: name, Body: m, Nonce: nonce}, b.fresh(ts) && want == r.Header.Get("x-sign")
	}
	if r.URL.Path != "/saasproduce" {
		return stubCall{}, false
	}
	q := r.URL.Query()
	nonce, ts := q.Get("nonce"), q.Get("timestamp")
	inner := hex.EncodeToString(stubHMAC(b.accessKey, payload))
	want := hex.EncodeToString(stubHMAC(b.accessKey, b.accessKey+nonce+ts+inner))
	name, _ := m["activity"].(string)
	return stubCall{Name: name, Body: m, Nonce: nonce}, b.fresh(ts) && strings.EqualFold(want, q.Get("signature"))
}

func (b *stubBridge) fresh(ts string) bool {
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	d := b.now.Sub(time.UnixMilli(ms))
	return d <= time.Minute && d >= -time.Minute
}

func newStubClient(t *testing.T, b *stubBridge, srv *httptest.Server, mutate func(*Options)) *Client {
	t.Helper()
	o := Options{BaseURL: srv.URL + "/saasproduce", AccessKey: b.accessKey, KitKey: b.kitKey, HTTP: srv.Client(), Now: func() time.Time { return b.now }}
	if mutate != nil {
		mutate(&o)
	}
	c, err := NewClient(o)
	if err != nil {
		t.Fatalf("NewClient() error = %v", err)
	}
	return c
}

func alwaysOK(stubCall) (string, map[string]any) {
	return ResultSuccess, map[string]any{"instanceId": "inst-1"}
}

// decryptForTest reverses applicationSync's encryption the way a Java
// merchant would (OAEP, SHA-256, MGF1-SHA1).
func decryptForTest(t *testing.T, key *rsa.PrivateKey, b64 string) string {
	t.Helper()
	ct, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("clientSecret is not base64: %v", err)
	}
	pt, err := key.Decrypt(rand.Reader, ct, &rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA1})
	if err != nil {
		t.Fatalf("decrypting clientSecret: %v", err)
	}
	return string(pt)
}
