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
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

// The kit decoding rules of docs/protocol.md §6.11: strict for what the bridge acts on, tolerant
// for what it only stores, cross-call members refused, unknown members noted.

const kitBase = `"testFlag":0,"timeStamp":"20220413093539534","tenantId":"t1","instanceId":"i1"`

func TestDecodeKitTolerantUserFields(t *testing.T) {
	tests := []struct {
		name      string
		user      string
		want      KitUser
		wantNotes []string
	}{
		{
			name: "documented strings",
			user: `{"userName":"u","name":"N","orgCode":"o","role":"admin","enable":"true","mobile":"+86 138-0000 0000","email":"u@example.com","position":"P","employeeCode":"E1","employeeType":"1"}`,
			want: KitUser{UserName: "u", Name: "N", OrgCode: "o", Role: RoleAdmin, Enable: true, Mobile: "+86 138-0000 0000", Email: "u@example.com", Position: "P", EmployeeCode: "E1", EmployeeType: "1"},
		},
		{
			name: "employeeType as the documented integer, employeeCode and mobile as numbers",
			user: `{"userName":"u","name":"N","orgCode":"o","role":"user","enable":"false","mobile":13800000000,"employeeCode":1024,"employeeType":2}`,
			want: KitUser{UserName: "u", Name: "N", OrgCode: "o", Role: RoleUser, Mobile: "13800000000", EmployeeCode: "1024", EmployeeType: "2"},
		},
		{
			name: "enable as a boolean and as 1",
			user: `{"userName":"u","enable":true,"employeeType":1.5}`,
			want: KitUser{UserName: "u", Enable: true, EmployeeType: "1.5"},
		},
		{
			name:      "missing name and orgCode, unknown role kept",
			user:      `{"userName":"u","role":"owner","enable":"1"}`,
			want:      KitUser{UserName: "u", Role: "owner", Enable: true},
			wantNotes: []string{"userList[0].role: unknown value kept"},
		},
		{
			name:      "unknown enable value is false",
			user:      `{"userName":"u","enable":"maybe"}`,
			want:      KitUser{UserName: "u"},
			wantNotes: []string{"userList[0].enable: unknown value taken as false"},
		},
		{
			name:      "objects and arrays dropped, null empty",
			user:      `{"userName":"u","name":{"zh":"张三"},"position":["a"],"email":null}`,
			want:      KitUser{UserName: "u"},
			wantNotes: []string{"userList[0].name: an object dropped, a text was expected", "userList[0].position: an array dropped, a text was expected"},
		},
		{
			name:      "too long is cut, control characters removed",
			user:      `{"userName":"u","mobile":"` + strings.Repeat("1", MaxKitPhoneLength+5) + `","name":"A\u0007B\u202eC"}`,
			want:      KitUser{UserName: "u", Mobile: strings.Repeat("1", MaxKitPhoneLength), Name: "ABC"},
			wantNotes: []string{"userList[0].name: control or formatting characters removed", "userList[0].mobile: cut to 64 characters"},
		},
		{
			name:      "invisible characters leave codes, stay in names",
			user:      `{"userName":"u","orgCode":"r\u200dd","name":"a\u200db"}`,
			want:      KitUser{UserName: "u", OrgCode: "rd", Name: "a\u200db"},
			wantNotes: []string{"userList[0].orgCode: control or formatting characters removed"},
		},
		{
			name:      "unknown members noted",
			user:      `{"userName":"u","nickname":"x","avatar":"y"}`,
			want:      KitUser{UserName: "u"},
			wantNotes: []string{"userList[0].avatar: unknown member ignored", "userList[0].nickname: unknown member ignored"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{` + kitBase + `,"appId":"app-1","flag":1,"userList":[` + tt.user + `]}`
			got, err := DecodeKit(KitAuthSync, []byte(body))
			if err != nil {
				t.Fatalf("DecodeKit: %v", err)
			}
			if diff := cmp.Diff([]KitUser{tt.want}, got.AuthSync.UserList); diff != "" {
				t.Errorf("users (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantNotes, got.Notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeKitBatchIsNeverRefusedForAStoredField(t *testing.T) {
	users := make([]string, MaxKitUsers)
	for i := range users {
		users[i] = fmt.Sprintf(`{"userName":"user-%03d","name":"N","orgCode":"o","role":"user","enable":"true","employeeType":1}`, i)
	}
	users[250] = `{"userName":"odd","name":["x"],"orgCode":7,"role":"superuser","enable":"yes","mobile":{"cc":"86"},"employeeType":{"id":1},"email":"` + strings.Repeat("e", 500) + `"}`
	body := `{` + kitBase + `,"appId":"app-1","flag":1,"userList":[` + strings.Join(users, ",") + `]}`
	got, err := DecodeKit(KitAuthSync, []byte(body))
	if err != nil {
		t.Fatalf("a batch of %d users was refused because of one user's stored fields: %v", MaxKitUsers, err)
	}
	if n := len(got.AuthSync.UserList); n != MaxKitUsers {
		t.Fatalf("%d users decoded", n)
	}
	if len(got.Notes) == 0 {
		t.Error("nothing noted about the odd user")
	}
}

func TestDecodeKitNotesAreBounded(t *testing.T) {
	users := make([]string, 50)
	for i := range users {
		users[i] = fmt.Sprintf(`{"userName":"u%d","extra":1}`, i)
	}
	got, err := DecodeKit(KitAuthSync, []byte(`{`+kitBase+`,"appId":"a","flag":1,"userList":[`+strings.Join(users, ",")+`]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Notes) != MaxKitNotes || got.Notes[MaxKitNotes-1] != "31 more notes" {
		t.Errorf("notes = %q", got.Notes)
	}
}

func TestDecodeKitMembers(t *testing.T) {
	tests := []struct {
		name      string
		kit       string
		extra     string
		wantErr   errInfo
		wantNotes []string
	}{
		{name: "orgCode sent to tenantSync", kit: KitTenantSync, extra: `"flag":1,"orgCode":"o"`,
			wantErr: errInfo{CodeInvalidParam, ReasonCrossCallMember, "orgCode"}},
		{name: "userList sent to tenantSync", kit: KitTenantSync, extra: `"flag":1,"userList":[]`,
			wantErr: errInfo{CodeInvalidParam, ReasonCrossCallMember, "userList"}},
		{name: "clientSecret sent to singleOrgSync", kit: KitSingleOrgSync, extra: `"flag":1,"orgCode":"o","orgName":"O","clientSecret":"x"`,
			wantErr: errInfo{CodeInvalidParam, ReasonCrossCallMember, "clientSecret"}},
		{name: "appId sent to allOrgSync", kit: KitAllOrgSync, extra: `"orgInfoList":[],"appId":"a"`,
			wantErr: errInfo{CodeInvalidParam, ReasonCrossCallMember, "appId"}},
		{name: "name (a tenantSync member) sent to authSync", kit: KitAuthSync, extra: `"appId":"a","flag":1,"userList":[],"name":"x"`,
			wantErr: errInfo{CodeInvalidParam, ReasonCrossCallMember, "name"}},
		{name: "orgInfoList sent to singleOrgSync", kit: KitSingleOrgSync, extra: `"flag":0,"orgCode":"o","orgInfoList":[]`,
			wantErr: errInfo{CodeInvalidParam, ReasonCrossCallMember, "orgInfoList"}},
		{name: "unknown members are noted, not refused", kit: KitTenantSync, extra: `"flag":1,"region":"cn-north-4","extra":{"a":1}`,
			wantNotes: []string{"region: unknown member ignored", "extra: unknown member ignored"}},
		{name: "flag in allOrgSync is harmless", kit: KitAllOrgSync, extra: `"orgInfoList":[],"flag":1`},
		{name: "a null member of another call counts as absent", kit: KitTenantSync, extra: `"flag":1,"userList":null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeKit(tt.kit, []byte(`{`+kitBase+`,`+tt.extra+`}`))
			if diff := cmp.Diff(tt.wantErr, infoOf(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s\nerr: %v", diff, err)
			}
			if diff := cmp.Diff(tt.wantNotes, got.Notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeKitStrictFields(t *testing.T) {
	tests := []struct {
		name    string
		kit     string
		extra   string
		wantErr errInfo
	}{
		{name: "appId with a slash cannot be a Secret key", kit: KitApplicationSync, extra: `"appId":"a/b","clientId":"c","clientSecret":"s","flag":1`,
			wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "appId"}},
		{name: "appId with a colon", kit: KitAuthSync, extra: `"appId":"a:b","flag":1,"userList":[]`,
			wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "appId"}},
		{name: "appId too long", kit: KitApplicationSync, extra: `"appId":"` + strings.Repeat("a", MaxKitAppIDLength+1) + `","flag":0`,
			wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "appId"}},
		{name: "appId in Chinese", kit: KitApplicationSync, extra: `"appId":"应用","flag":0`,
			wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "appId"}},
		{name: "userName missing", kit: KitAuthSync, extra: `"appId":"a","flag":1,"userList":[{"name":"x"}]`,
			wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "userList[0].userName"}},
		{name: "userName with a space", kit: KitAuthSync, extra: `"appId":"a","flag":1,"userList":[{"userName":"a b"}]`,
			wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "userList[0].userName"}},
		{name: "orgCode a number", kit: KitSingleOrgSync, extra: `"orgCode":7,"flag":1`,
			wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "orgCode"}},
		{name: "flag a string", kit: KitSingleOrgSync, extra: `"orgCode":"o","flag":"1"`,
			wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "flag"}},
		{name: "tenantId longer than an instance records", kit: KitTenantSync, extra: `"flag":1`,
			wantErr: errInfo{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeKit(tt.kit, []byte(`{`+kitBase+`,`+tt.extra+`}`))
			if diff := cmp.Diff(tt.wantErr, infoOf(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s\nerr: %v", diff, err)
			}
		})
	}
	long := `{"testFlag":0,"timeStamp":"20220413093539534","tenantId":"` + strings.Repeat("t", MaxKitTenantIDLength+1) + `","flag":1}`
	if _, err := DecodeKit(KitTenantSync, []byte(long)); infoOf(err) != (errInfo{CodeInvalidParam, ReasonInvalidField, "tenantId"}) {
		t.Errorf("a tenantId of %d characters: %v", MaxKitTenantIDLength+1, err)
	}
}

func TestDecodeKitTolerantTenantAndOrgFields(t *testing.T) {
	got, err := DecodeKit(KitTenantSync, []byte(`{`+kitBase+`,"flag":1,"tenantCode":12345,"name":true,"domainName":"https://x.example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&TenantSync{TenantID: "t1", TenantCode: "12345", Name: "true", DomainName: "https://x.example.com", Flag: FlagAdd}, got.TenantSync); diff != "" {
		t.Errorf("tenantSync (-want +got):\n%s", diff)
	}
	got, err = DecodeKit(KitSingleOrgSync, []byte(`{`+kitBase+`,"flag":1,"orgCode":"o","parentCode":42}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&SingleOrgSync{TenantID: "t1", OrgCode: "o", ParentCode: "42", Flag: FlagAdd}, got.SingleOrgSync); diff != "" {
		t.Errorf("singleOrgSync without orgName (-want +got):\n%s", diff)
	}
	got, err = DecodeKit(KitAllOrgSync, []byte(`{`+kitBase+`,"orgInfoList":[{"orgCode":"o","orgName":9,"parentCode":null,"level":2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Org{{OrgCode: "o", OrgName: "9"}}, got.AllOrgSync.OrgInfoList); diff != "" {
		t.Errorf("orgs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"orgInfoList[0].level: unknown member ignored"}, got.Notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

func TestKitMemberOwner(t *testing.T) {
	tests := map[string][]string{
		"testFlag": {"common"},
		"flag":     {"common"},
		"appId":    {KitApplicationSync, KitAuthSync},
		"orgCode":  {KitSingleOrgSync},
		"userList": {KitAuthSync},
		"nickname": nil,
	}
	for member, want := range tests {
		if diff := cmp.Diff(want, KitMemberOwner(member)); diff != "" {
			t.Errorf("KitMemberOwner(%q) (-want +got):\n%s", member, diff)
		}
	}
}

// TestUnknownMemberNotesAreEscaped proves that an unknown member whose key holds control or
// bidi characters is noted escaped, so that it cannot forge or hide log text.
func TestUnknownMemberNotesAreEscaped(t *testing.T) {
	for _, key := range []string{"a\u202eb\nc", "x\u0000y", "z\u2028"} {
		if got := memberName(key); strings.IndexFunc(got, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
			t.Errorf("memberName(%q) = %q still holds an unprintable character", key, got)
		}
	}
	if got := memberName("plainKey"); got != "plainKey" {
		t.Errorf("memberName(plainKey) = %q, want it unchanged", got)
	}
}
