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
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzDecodeKitStoredField: whatever JSON value a stored-only user field holds, the call is
// accepted (docs/protocol.md §6.11), and what is kept is clean text within its length.
func FuzzDecodeKitStoredField(f *testing.F) {
	for _, v := range []string{`"x"`, `1`, `1.5e3`, `true`, `null`, `{"a":1}`, `[1,2]`, `"\u202e"`, `"` + strings.Repeat("长", 300) + `"`, `"a\u0000b"`} {
		for _, field := range kitUserMembers[1:] {
			f.Add(field, v)
		}
	}
	f.Fuzz(func(t *testing.T, field, value string) {
		if field == "userName" || !json.Valid([]byte(value)) || strings.ContainsAny(field, "\"\\") {
			t.Skip()
		}
		if len(value) > 0 && value[0] == '{' {
			// A nested object may itself break the decoder's depth or duplicate-key rules.
			var m map[string]any
			if json.Unmarshal([]byte(value), &m) != nil {
				t.Skip()
			}
		}
		body := `{"testFlag":0,"timeStamp":"20220413093539534","tenantId":"t1","instanceId":"i1","appId":"a","flag":1,"userList":[{"userName":"u",` +
			mustJSON(field) + `:` + value + `}]}`
		kr, err := DecodeKit(KitAuthSync, []byte(body))
		if err != nil {
			if ReasonOf(err) == ReasonTooDeep || ReasonOf(err) == ReasonDuplicateKey || ReasonOf(err) == ReasonMalformedJSON {
				return // the JSON rules every decoder applies
			}
			t.Fatalf("a stored field %q = %s refused the call: %v", field, value, err)
		}
		u := kr.AuthSync.UserList[0]
		for name, v := range map[string]string{"name": u.Name, "orgCode": u.OrgCode, "role": u.Role, "mobile": u.Mobile, "email": u.Email,
			"position": u.Position, "employeeCode": u.EmployeeCode, "employeeType": u.EmployeeType} {
			if utf8.RuneCountInString(v) > MaxKitNameLength || !utf8.ValidString(v) {
				t.Fatalf("%s kept as %q", name, v)
			}
			for _, c := range v {
				if unicode.IsControl(c) || isBidiControl(c) {
					t.Fatalf("%s keeps a control character: %q", name, v)
				}
			}
		}
		if len(kr.Notes) > MaxKitNotes {
			t.Fatalf("%d notes", len(kr.Notes))
		}
	})
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// FuzzDecodeKitMembers: a decoded kit call never carries a member of another call, its appId is
// a valid Secret key and its tenantId fits the instance.
func FuzzDecodeKitMembers(f *testing.F) {
	base := `"testFlag":0,"timeStamp":"20220413093539534","tenantId":"t1","instanceId":"i1"`
	f.Add(KitTenantSync, `{`+base+`,"flag":1,"orgCode":"o"}`)
	f.Add(KitApplicationSync, `{`+base+`,"flag":0,"appId":"a.b-c_d"}`)
	f.Add(KitAuthSync, `{`+base+`,"flag":1,"appId":"a","userList":[],"extra":1}`)
	f.Add(KitSingleOrgSync, `{`+base+`,"flag":1,"orgCode":"o","clientSecret":"s"}`)
	f.Add(KitAllOrgSync, `{`+base+`,"orgInfoList":"[]"}`)
	f.Fuzz(func(t *testing.T, name, body string) {
		kr, err := DecodeKit(name, []byte(body))
		if err != nil {
			if CodeOf(err) != CodeInvalidParam {
				t.Fatalf("code %s: %v", CodeOf(err), err)
			}
			return
		}
		members, err := topLevelMembers([]byte(body))
		if err != nil {
			t.Fatalf("decoded a body whose members do not parse: %v", err)
		}
		for _, m := range members {
			if m.isNull {
				continue
			}
			owners := KitMemberOwner(m.key)
			if len(owners) > 0 && owners[0] != "common" && !strings.Contains(strings.Join(owners, ","), name) {
				t.Fatalf("%s accepted member %q of %v", name, m.key, owners)
			}
		}
		appID, tenantID := "", ""
		switch {
		case kr.ApplicationSync != nil:
			appID, tenantID = kr.ApplicationSync.AppID, kr.ApplicationSync.TenantID
		case kr.AuthSync != nil:
			appID, tenantID = kr.AuthSync.AppID, kr.AuthSync.TenantID
		case kr.TenantSync != nil:
			tenantID = kr.TenantSync.TenantID
		case kr.SingleOrgSync != nil:
			tenantID = kr.SingleOrgSync.TenantID
		case kr.AllOrgSync != nil:
			tenantID = kr.AllOrgSync.TenantID
		}
		if (kr.ApplicationSync != nil || kr.AuthSync != nil) && (len(appID) > MaxKitAppIDLength || !appIDPattern.MatchString(appID)) {
			t.Fatalf("appId %q accepted", appID)
		}
		if tenantID == "" || utf8.RuneCountInString(tenantID) > MaxKitTenantIDLength {
			t.Fatalf("tenantId %q accepted", tenantID)
		}
	})
}
