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
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// errInfo is what tests compare of an error.
type errInfo struct {
	Code, Reason, Field string
}

func infoOf(err error) errInfo {
	if err == nil {
		return errInfo{}
	}
	return errInfo{Code: CodeOf(err), Reason: ReasonOf(err), Field: FieldOf(err)}
}

func TestCanonicalPayload(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    string
		wantErr errInfo
	}{
		{name: "vector 1", body: vec1Body, want: vec1Canonical},
		{name: "empty object", body: ` { } `, want: `{}`},
		{name: "whitespace removed", body: "{\n  \"b\" : 1 ,\r\n\t\"a\" : [ 1 , 2 ]\n}", want: `{"a":[1,2],"b":1}`},
		{name: "nested order kept", body: `{"z":{"b":1,"a":{"d":2,"c":3}},"y":[{"q":1,"p":2}]}`, want: `{"y":[{"q":1,"p":2}],"z":{"b":1,"a":{"d":2,"c":3}}}`},
		{name: "number literals kept", body: `{"n":1.50,"e":1E+2,"m":-0,"big":123456789012345678901234567890,"arr":[1.0,2e-3]}`, want: `{"arr":[1.0,2e-3],"big":123456789012345678901234567890,"e":1E+2,"m":-0,"n":1.50}`},
		{name: "top-level nulls dropped, nested kept", body: `{"a":null,"b":{"c":null},"d":[null]}`, want: `{"b":{"c":null},"d":[null]}`},
		{name: "no HTML escaping", body: `{"u":"<a href='x'>&amp;</a>"}`, want: `{"u":"<a href='x'>&amp;</a>"}`},
		{name: "escapes normalised to raw UTF-8", body: `{"s":"\u4e2d\u6587 \u00e9 \/ \ud83d\ude00 \u2028"}`, want: "{\"s\":\"中文 é / 😀 \u2028\"}"},
		{name: "raw UTF-8 kept", body: `{"名":"值"}`, want: `{"名":"值"}`},
		{name: "required escapes kept", body: `{"s":"q\"b\\n\nt\tc\u0001\u001f\u007f"}`, want: "{\"s\":\"q\\\"b\\\\n\\nt\\tc\\u0001\\u001f\x7f\"}"},
		{name: "keys sorted by bytes", body: `{"b":1,"B":2,"a":3,"_":4,"é":5,"aa":6}`, want: `{"B":2,"_":4,"a":3,"aa":6,"b":1,"é":5}`},
		{name: "booleans", body: `{"t":true,"f":false}`, want: `{"f":false,"t":true}`},
		{name: "same key in different objects", body: `{"a":{"x":1},"b":{"x":2}}`, want: `{"a":{"x":1},"b":{"x":2}}`},
		{name: "array at top", body: `[1]`, wantErr: errInfo{CodeInvalidParam, ReasonMalformedJSON, ""}},
		{name: "string at top", body: `"x"`, wantErr: errInfo{CodeInvalidParam, ReasonMalformedJSON, ""}},
		{name: "empty body", body: ``, wantErr: errInfo{CodeInvalidParam, ReasonMalformedJSON, ""}},
		{name: "truncated", body: `{"a":1`, wantErr: errInfo{CodeInvalidParam, ReasonMalformedJSON, ""}},
		{name: "trailing comma", body: `{"a":1,}`, wantErr: errInfo{CodeInvalidParam, ReasonMalformedJSON, ""}},
		{name: "trailing value", body: `{"a":1}{}`, wantErr: errInfo{CodeInvalidParam, ReasonMalformedJSON, ""}},
		{name: "trailing garbage", body: `{"a":1}x`, wantErr: errInfo{CodeInvalidParam, ReasonMalformedJSON, ""}},
		{name: "invalid UTF-8", body: "{\"a\":\"\xff\"}", wantErr: errInfo{CodeInvalidParam, ReasonMalformedJSON, ""}},
		{name: "duplicate top-level key", body: `{"a":1,"a":2}`, wantErr: errInfo{CodeInvalidParam, ReasonDuplicateKey, "a"}},
		{name: "duplicate nested key", body: `{"a":{"b":1,"b":1}}`, wantErr: errInfo{CodeInvalidParam, ReasonDuplicateKey, "b"}},
		{name: "duplicate after unescaping", body: `{"a":1,"\u0061":2}`, wantErr: errInfo{CodeInvalidParam, ReasonDuplicateKey, "a"}},
		{name: "too deep", body: `{"a":` + strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth) + `}`, wantErr: errInfo{CodeInvalidParam, ReasonTooDeep, ""}},
		{name: "deep enough", body: `{"a":` + strings.Repeat("[", MaxJSONDepth-1) + strings.Repeat("]", MaxJSONDepth-1) + `}`, want: `{"a":` + strings.Repeat("[", MaxJSONDepth-1) + strings.Repeat("]", MaxJSONDepth-1) + `}`},
		{name: "single quotes", body: `{'a':1}`, wantErr: errInfo{CodeInvalidParam, ReasonMalformedJSON, ""}},
		{name: "leading zero", body: `{"a":01}`, wantErr: errInfo{CodeInvalidParam, ReasonMalformedJSON, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalPayload([]byte(tt.body))
			if diff := cmp.Diff(tt.wantErr, infoOf(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s\nerr: %v", diff, err)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("CanonicalPayload (-want +got):\n%s", diff)
			}
			again, err := CanonicalPayload(got)
			if err != nil {
				t.Fatalf("CanonicalPayload of canonical payload: %v", err)
			}
			if diff := cmp.Diff(string(got), string(again)); diff != "" {
				t.Errorf("not idempotent (-first +second):\n%s", diff)
			}
		})
	}
}

func TestSortedJSON(t *testing.T) {
	tests := []struct {
		name, body, want string
		wantErr          bool
	}{
		{name: "recursive", body: `{"b":{"d":1,"c":[{"f":null,"e":2}]},"a":null}`, want: `{"a":null,"b":{"c":[{"e":2,"f":null}],"d":1}}`},
		{name: "array top", body: ` [ {"b":1,"a":2} ] `, want: `[{"a":2,"b":1}]`},
		{name: "scalar top", body: `1.50`, want: `1.50`},
		{name: "duplicate", body: `{"a":{"x":1,"x":2}}`, wantErr: true},
		{name: "garbage", body: `{"a":1} 2`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SortedJSON([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("SortedJSON (-want +got):\n%s", diff)
			}
		})
	}
}
