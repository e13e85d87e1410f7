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
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// requireTyped fails unless err is nil or a *Error with a known code.
func requireTyped(t *testing.T, err error) *Error {
	t.Helper()
	if err == nil {
		return nil
	}
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
	if _, ok := messages[pe.Code]; !ok || pe.Reason == "" {
		t.Fatalf("error with unknown code or no reason: %#v", pe)
	}
	return pe
}

func basicSeeds(f *testing.F) {
	for _, s := range []string{
		vec1Body, vec1Canonical, vec2Body, vec3Body, vec7Body, `{}`, `{"a":null}`, `{"a":{"b":[1,2.50,{"c":"\u00e9"}]}}`,
		`{"activity":"queryInstance","instanceId":"a, b,c"}`,
		`{"activity":"refreshInstance","instanceId":"i1","orderId":"o2","orderLineId":"o2-1","scene":"RENEWAL","expireTime":"20991231235959123"}`,
		`{"activity":"updateInstanceStatus","instanceId":"i1","status":"FREEZE"}`,
		`{"activity":"upgradeInstance","instanceId":"i1","orderId":"o3","orderLineId":"o3-1"}`,
		`{"activity":"changeInstanceCheck","instanceId":"i1","productInfo":[{"productId":"p","skuCode":"s","linearValue":2}]}`,
		`{"activity":"releaseInstance","instanceId":"i1","testFlag":"0"}`,
		`{"a":1,"a":2}`, `[1]`, `{"a":1}x`, "{\"\xff\":1}", `{"a":"<&>"}`,
	} {
		f.Add([]byte(s))
	}
}

func FuzzCanonicalPayload(f *testing.F) {
	basicSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := CanonicalPayload(body)
		pe := requireTyped(t, err)
		if err != nil {
			if pe.Code != CodeInvalidParam {
				t.Fatalf("code %s, want %s", pe.Code, CodeInvalidParam)
			}
			trimmed := bytes.TrimLeft(body, " \t\r\n")
			if json.Valid(body) && utf8.Valid(body) && len(trimmed) > 0 && trimmed[0] == '{' &&
				pe.Reason != ReasonDuplicateKey && pe.Reason != ReasonTooDeep {
				t.Fatalf("valid JSON object refused: %v", err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("invalid JSON accepted: %q", body)
		}
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("output is not valid JSON: %q", out)
		}
		again, err := CanonicalPayload(out)
		if err != nil {
			t.Fatalf("canonical payload refused: %v", err)
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("not idempotent:\n%q\n%q", out, again)
		}
		// Same data: decoding both gives equal values (top-level nulls aside).
		var a, b map[string]any
		if json.Unmarshal(body, &a) == nil && json.Unmarshal(out, &b) == nil {
			for k, v := range a {
				if v == nil {
					delete(a, k)
				}
			}
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if !bytes.Equal(ja, jb) {
				t.Fatalf("canonical payload changed the data:\n%s\n%s", ja, jb)
			}
		}
	})
}

func FuzzDecodeBasic(f *testing.F) {
	basicSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeBasic(body)
		if pe := requireTyped(t, err); pe != nil {
			if pe.Code != CodeInvalidParam {
				t.Fatalf("code %s, want %s", pe.Code, CodeInvalidParam)
			}
			return
		}
		checkRequest(t, req)
	})
}

// checkRequest asserts the contract of a decoded Request: exactly the payload
// of Activity is set and its mandatory fields are non-empty.
func checkRequest(t *testing.T, req Request) {
	t.Helper()
	set := 0
	nonEmpty := func(vals ...string) {
		t.Helper()
		for i, v := range vals {
			if v == "" {
				t.Fatalf("%s: mandatory field %d empty: %+v", req.Activity, i, req)
			}
			if len(v) > MaxFieldLength*4 {
				t.Fatalf("%s: field %d too long", req.Activity, i)
			}
		}
	}
	// within checks the bounds of what the bridge records: a longer value could never be stored.
	within := func(limit int, vals ...string) {
		t.Helper()
		for i, v := range vals {
			if n := utf8.RuneCountInString(v); n > limit {
				t.Fatalf("%s: field %d has %d characters, more than %d", req.Activity, i, n, limit)
			}
		}
	}
	if p := req.NewInstance; p != nil {
		set++
		within(MaxOrderIDLength, p.OrderID, p.OrderLineID)
		within(MaxCustomerIDLength, p.CustomerID)
		within(MaxProductIDLength, p.ProductID)
		nonEmpty(p.OrderID, p.BusinessID)
		if req.Version == 2 {
			nonEmpty(p.OrderLineID)
		} else {
			nonEmpty(p.CustomerID, p.ProductID)
		}
	}
	if p := req.QueryInstance; p != nil {
		set++
		if len(p.InstanceIDs) == 0 || len(p.InstanceIDs) > MaxQueryIDs {
			t.Fatalf("queryInstance with %d ids", len(p.InstanceIDs))
		}
		for _, id := range p.InstanceIDs {
			if id == "" || len(id) > MaxInstanceIDLength*4 || strings.ContainsAny(id, " ,\t\n") {
				t.Fatalf("bad id %q", id)
			}
		}
	}
	if p := req.RefreshInstance; p != nil {
		set++
		within(MaxOrderIDLength, p.OrderID, p.OrderLineID)
		within(MaxProductIDLength, p.ProductID)
		within(MaxInstanceIDLength, p.InstanceID)
		nonEmpty(p.InstanceID, p.OrderID, p.Scene)
		if req.Version == 2 {
			nonEmpty(p.OrderLineID)
		}
		if p.ExpireTime.IsZero() {
			t.Fatal("refreshInstance without expireTime")
		}
	}
	if p := req.UpdateInstanceStatus; p != nil {
		set++
		nonEmpty(p.InstanceID)
		if p.Status != StatusFreeze && p.Status != StatusUnfreeze {
			t.Fatalf("status %q", p.Status)
		}
	}
	if p := req.UpgradeInstance; p != nil {
		set++
		nonEmpty(p.InstanceID, p.OrderID)
		if req.Version == 2 {
			nonEmpty(p.OrderLineID)
		}
	}
	if p := req.ChangeInstanceCheck; p != nil {
		set++
		nonEmpty(p.InstanceID, p.ProductInfo.ProductID, p.ProductInfo.SkuCode)
	}
	if p := req.ReleaseInstance; p != nil {
		set++
		nonEmpty(p.InstanceID)
	}
	if set != 1 {
		t.Fatalf("%d payloads set for %q", set, req.Activity)
	}
	want := map[string]bool{
		ActivityNewInstance: req.NewInstance != nil, ActivityQueryInstance: req.QueryInstance != nil,
		ActivityRefreshInstance: req.RefreshInstance != nil, ActivityUpdateInstanceStatus: req.UpdateInstanceStatus != nil,
		ActivityUpgradeInstance: req.UpgradeInstance != nil, ActivityChangeInstanceCheck: req.ChangeInstanceCheck != nil,
		ActivityReleaseInstance: req.ReleaseInstance != nil,
	}
	if !want[req.Activity] {
		t.Fatalf("activity %q does not match its payload", req.Activity)
	}
}

// FuzzDecodeKit: whatever the body, DecodeKit never panics and refuses only with a typed 000002.
// A decoded call has exactly one payload; the fields the bridge acts on are valid (ids without
// control, whitespace or invisible characters and within their lengths, flags in range, appId a
// Secret key, clientId and clientSecret present unless deleting); every stored-only field is clean
// text within its stored length (docs/protocol.md §6.11). FuzzDecodeKitStoredField varies one user
// field, FuzzDecodeKitMembers the members; this target checks whole bodies of every call.
func FuzzDecodeKit(f *testing.F) {
	common := `"testFlag":1,"timeStamp":"20220413093539534","tenantId":"t1"`
	f.Add(KitTenantSync, []byte(vec2Body))
	f.Add(KitTenantSync, []byte(`{`+common+`,"flag":1,"name":"Evil\u202egpj","tenantCode":"a\u200db","domainName":7}`))
	f.Add(KitApplicationSync, []byte(`{`+common+`,"appId":"a1","clientId":"c1","clientSecret":"x","flag":1}`))
	f.Add(KitAuthSync, []byte(`{`+common+`,"appId":"a1","flag":3,"userList":[{"userName":"u","name":"n","orgCode":"o","role":"user","enable":"true"}]}`))
	f.Add(KitAuthSync, []byte(`{`+common+`,"appId":"a1","flag":1,"userList":[{"userName":"u","name":{"a":1},"role":"root","enable":true,"mobile":"+86 138-0000\u0000","employeeType":3,"x":1}]}`))
	f.Add(KitSingleOrgSync, []byte(`{`+common+`,"orgCode":"o2","orgName":"Child","flag":0}`))
	f.Add(KitSingleOrgSync, []byte(`{`+common+`,"orgCode":"o2","flag":1,"parentCode":"\u200b"}`))
	f.Add(KitAllOrgSync, []byte(`{`+common+`,"orgInfoList":"[{\"orgCode\":\"o1\",\"orgName\":\"R\"}]"}`))
	f.Add(KitAllOrgSync, []byte(`{`+common+`,"orgInfoList":[{"orgCode":"o1","orgName":"R"}]}`))
	f.Add(KitTenantSync, []byte(`{`+common+`,"flag":1,"userList":[]}`))
	f.Add("other", []byte(`{}`))
	f.Fuzz(func(t *testing.T, name string, body []byte) {
		kr, err := DecodeKit(name, body)
		if pe := requireTyped(t, err); pe != nil {
			if pe.Code != CodeInvalidParam {
				t.Fatalf("code %s", pe.Code)
			}
			return
		}
		if kr.Name != name || kr.TimeStamp.IsZero() {
			t.Fatalf("bad common fields: %+v", kr)
		}
		if len(kr.Notes) > MaxKitNotes {
			t.Fatalf("%d notes", len(kr.Notes))
		}
		strict := func(field, v string, maxLen int, required bool) {
			if v == "" {
				if required {
					t.Fatalf("%s accepted empty", field)
				}
				return
			}
			if err := checkChars(v, kindID, maxLen); err != nil {
				t.Fatalf("%s accepted as %q: %v", field, v, err)
			}
		}
		stored := func(field, v string, maxLen int, code bool) {
			if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxLen || strings.TrimSpace(v) != v {
				t.Fatalf("%s stored as %q (at most %d characters, trimmed)", field, v, maxLen)
			}
			for _, c := range v {
				if c == utf8.RuneError || unicode.IsControl(c) || c == '\u2028' || c == '\u2029' || isBidiControl(c) || (code && unicode.Is(unicode.Cf, c)) {
					t.Fatalf("%s stored with control or formatting character %U: %q", field, c, v)
				}
			}
		}
		strict("instanceId", kr.InstanceID, MaxInstanceIDLength, false)
		strict("orderId", kr.OrderID, MaxFieldLength, false)
		flagOK := func(f, max int) {
			if f < 0 || f > max {
				t.Fatalf("flag %d", f)
			}
		}
		appIDOK := func(appID string) {
			if len(appID) > MaxKitAppIDLength || !appIDPattern.MatchString(appID) {
				t.Fatalf("appId %q accepted", appID)
			}
		}
		set := 0
		if p := kr.TenantSync; p != nil {
			set++
			flagOK(p.Flag, 2)
			strict("tenantId", p.TenantID, MaxKitTenantIDLength, true)
			stored("tenantCode", p.TenantCode, MaxKitTenantCodeLength, true)
			stored("name", p.Name, MaxKitNameLength, false)
			stored("domainName", p.DomainName, MaxKitDomainLength, false)
		}
		if p := kr.ApplicationSync; p != nil {
			set++
			flagOK(p.Flag, 2)
			strict("tenantId", p.TenantID, MaxKitTenantIDLength, true)
			appIDOK(p.AppID)
			strict("clientId", p.ClientID, MaxFieldLength, p.Flag != FlagDelete)
			if p.Flag != FlagDelete && strings.TrimSpace(p.ClientSecret) == "" {
				t.Fatalf("clientSecret accepted empty: %+v", p)
			}
			if p.ClientSecret != "" && checkChars(p.ClientSecret, kindText, MaxLongFieldLength) != nil {
				t.Fatalf("clientSecret accepted as %q", p.ClientSecret)
			}
		}
		if p := kr.AuthSync; p != nil {
			set++
			flagOK(p.Flag, 3)
			strict("tenantId", p.TenantID, MaxKitTenantIDLength, true)
			appIDOK(p.AppID)
			stored("currentSyncTime", p.CurrentSyncTime, MaxKitNameLength, false)
			if len(p.UserList) > MaxKitUsers {
				t.Fatal("too many users")
			}
			for _, u := range p.UserList {
				strict("userName", u.UserName, MaxFieldLength, true)
				stored("name", u.Name, MaxKitNameLength, false)
				stored("orgCode", u.OrgCode, MaxKitCodeLength, true)
				stored("role", u.Role, MaxKitRoleLength, false)
				stored("mobile", u.Mobile, MaxKitPhoneLength, false)
				stored("email", u.Email, MaxKitEmailLength, false)
				stored("position", u.Position, MaxKitNameLength, false)
				stored("employeeCode", u.EmployeeCode, MaxKitEmployeeLength, true)
				stored("employeeType", u.EmployeeType, MaxKitTypeLength, false)
			}
		}
		if p := kr.SingleOrgSync; p != nil {
			set++
			flagOK(p.Flag, 2)
			strict("tenantId", p.TenantID, MaxKitTenantIDLength, true)
			strict("orgCode", p.OrgCode, MaxFieldLength, true)
			stored("orgName", p.OrgName, MaxKitNameLength, false)
			stored("parentCode", p.ParentCode, MaxKitCodeLength, true)
		}
		if p := kr.AllOrgSync; p != nil {
			set++
			strict("tenantId", p.TenantID, MaxKitTenantIDLength, true)
			for _, o := range p.OrgInfoList {
				strict("orgCode", o.OrgCode, MaxFieldLength, true)
				stored("orgName", o.OrgName, MaxKitNameLength, false)
				stored("parentCode", o.ParentCode, MaxKitCodeLength, true)
			}
		}
		if set != 1 {
			t.Fatalf("%d payloads set", set)
		}
	})
}

func FuzzDecodeV1(f *testing.F) {
	f.Add(vec4Query + "&authToken=" + url.QueryEscape(vec4AuthToken))
	f.Add("activity=refreshInstance&instanceId=i1&orderId=o2&expireTime=20200727153156&trialToFormal=1")
	f.Add("activity=expireInstance&instanceId=i1")
	f.Add("activity=instanceStatus&instanceId=i1&instanceStatus=NORMAL")
	f.Add("activity=upgrade&instanceId=i1&orderId=o3")
	f.Add("activity=queryInstance&instanceId=a,b")
	f.Add("activity=releaseInstance&instanceId=i1&instanceId=i2")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		req, err := DecodeV1(q)
		if pe := requireTyped(t, err); pe != nil {
			if pe.Code != CodeInvalidParam {
				t.Fatalf("code %s", pe.Code)
			}
			return
		}
		if req.Version != 1 {
			t.Fatalf("version %d", req.Version)
		}
		checkRequest(t, req)
	})
}

func FuzzVerifyBasic(f *testing.F) {
	f.Add([]byte(vec1Body), vecNonce, int64(0), vec1Signature)
	f.Add([]byte(vec1Body), vecNonce, int64(60000), strings.ToUpper(vec1Signature))
	f.Add([]byte("not json"), "n", int64(-60001), "")
	f.Add([]byte(`{"a":null}`), "a b", int64(1), "zz")
	f.Fuzz(func(t *testing.T, body []byte, nonce string, offsetMs int64, forged string) {
		fuzzVerifyHex(t, body, nonce, offsetMs, forged, false)
	})
}

func FuzzVerifyKit(f *testing.F) {
	f.Add([]byte(vec2Body), vecNonce, int64(0), vec2Sign)
	f.Add([]byte(vec2Body), vecNonce, int64(-60000), strings.ToUpper(vec2Sign))
	f.Add([]byte("[]"), "n", int64(60001), "")
	f.Fuzz(func(t *testing.T, body []byte, nonce string, offsetMs int64, forged string) {
		fuzzVerifyHex(t, body, nonce, offsetMs, forged, true)
	})
}

// fuzzVerifyHex checks that a forged signature only verifies if it is the
// real one, and that a correctly signed, fresh request always verifies once.
func fuzzVerifyHex(t *testing.T, body []byte, nonce string, offsetMs int64, forged string, kit bool) {
	if offsetMs > 1e12 || offsetMs < -1e12 {
		return
	}
	now := func() time.Time { return vecNow }
	v := &Verifier{Keys: []string{vecKey}, Now: now, Nonces: NewNonceCache(0, 0, now)}
	ts := FormatMillis(vecNow.Add(time.Duration(offsetMs) * time.Millisecond))
	sign, verify := SignBasic, func(sig string) error {
		return v.VerifyBasic(url.Values{ParamSignature: {sig}, ParamTimestamp: {ts}, ParamNonce: {nonce}}, body)
	}
	if kit {
		sign = SignKit
		verify = func(sig string) error {
			return v.VerifyKit(http.Header{"X-Sign": {sig}, "X-Timestamp": {ts}, "X-Nonce": {nonce}}, body)
		}
	}
	valid := []string{sign(vecKey, nonce, ts, body)}
	if canon, err := CanonicalPayload(body); err == nil {
		valid = append(valid, sign(vecKey, nonce, ts, canon))
	}
	err := verify(forged)
	_ = requireTyped(t, err)
	if err == nil {
		ok := false
		for _, s := range valid {
			ok = ok || strings.EqualFold(s, forged)
		}
		if !ok {
			t.Fatalf("forged signature %q accepted", forged)
		}
		return // the nonce is now used
	}
	fresh := offsetMs >= -60000 && offsetMs <= 60000
	err = verify(valid[len(valid)-1])
	_ = requireTyped(t, err)
	// A body over the cap is refused however it is signed; the fuzzer can grow one in a long run.
	if int64(len(body)) > DefaultMaxBodyBytes {
		if ReasonOf(err) != ReasonBodyTooLarge {
			t.Fatalf("oversized body: %v", err)
		}
		return
	}
	if fresh && validNonce(nonce) && err != nil {
		t.Fatalf("correctly signed request refused: %v", err)
	}
	if err == nil {
		// The replay memory is keyed on the signature (docs/protocol.md §2.1): the same
		// signature, in either case, is refused.
		if CodeOf(verify(strings.ToUpper(valid[len(valid)-1]))) != CodeAuthFailed {
			t.Fatal("replay accepted")
		}
	}
}

func FuzzVerifyV1(f *testing.F) {
	f.Add(vec4Query + "&authToken=" + url.QueryEscape(vec4AuthToken))
	f.Add(vec4Query + "&authToken=" + vec4AuthToken)
	f.Add("timeStamp=20200727073711903&authToken=AAAA")
	f.Add("activity=a&activity=b&timeStamp=20200727073711903")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		now := func() time.Time { return time.Date(2020, 7, 27, 7, 37, 11, 903e6, time.UTC) }
		v := &Verifier{Keys: []string{vecKey}, Now: now, Nonces: NewNonceCache(0, 0, now)}
		err = v.VerifyV1(q)
		_ = requireTyped(t, err)
		if err == nil {
			want := V1AuthToken(vecKey, q.Get(ParamTimeStamp), q)
			if got := strings.ReplaceAll(q.Get(ParamAuthToken), " ", "+"); got != want {
				t.Fatalf("authToken %q accepted, want %q", got, want)
			}
			if CodeOf(v.VerifyV1(q)) != CodeAuthFailed {
				t.Fatal("replay accepted")
			}
			return
		}
		// Correctly signed now: accepted unless a parameter repeats.
		q.Set(ParamTimeStamp, FormatV1TimeStamp(now()))
		q.Set(ParamAuthToken, V1AuthToken(vecKey, q.Get(ParamTimeStamp), q))
		err = v.VerifyV1(q)
		_ = requireTyped(t, err)
		if err != nil && ReasonOf(err) != ReasonDuplicateParam {
			t.Fatalf("correctly signed V1 call refused: %v", err)
		}
	})
}

func FuzzParseExpireTime(f *testing.F) {
	for _, s := range []string{"20200727153156", "20200727153156789", "20230229000000", "20231301000000", "2023010100000x", "", "99991231235959999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseExpireTime(s)
		if err != nil {
			return
		}
		if len(s) != 14 && len(s) != 17 {
			t.Fatalf("accepted %d characters", len(s))
		}
		if got := FormatExpireTime(tm); got != s[:14] {
			t.Fatalf("FormatExpireTime = %q, input %q", got, s)
		}
		if len(s) == 17 {
			if got := FormatV1TimeStamp(tm); got != s {
				t.Fatalf("milliseconds lost: %q from %q", got, s)
			}
		}
	})
}

func FuzzDecryptCredential(f *testing.F) {
	f.Add("AbCdEf0123456789wRPvCu+hyokhUXxOv2dneA==", "1")
	f.Add("AbCdEf0123456789lAzA7d0FL6DiU0b81dYV+A==", "2")
	f.Add("AbCdEf0123456789", "")
	f.Add("short", "3")
	f.Fuzz(func(t *testing.T, value, encryptType string) {
		pt, err := DecryptCredential(vecKey, value, encryptType)
		if pe := requireTyped(t, err); pe != nil {
			if pe.Code != CodeInvalidParam {
				t.Fatalf("code %s", pe.Code)
			}
			return
		}
		again, err := EncryptCredential(vecKey, pt, encryptType, value[:IVLength])
		if err != nil {
			return // an IV this side would not generate
		}
		if again != value {
			t.Fatalf("re-encryption differs: %q vs %q", again, value)
		}
	})
}
