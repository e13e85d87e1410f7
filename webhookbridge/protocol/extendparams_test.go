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
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

const domainParamsJSON = `[{"name":"domain","value":"crm.example.org"},{"name":"seats","value":"20"}]`

var b64 = base64.StdEncoding.EncodeToString

func TestDecodeSaasExtendParams(t *testing.T) {
	domainParams := []Param{{Name: "domain", Value: "crm.example.org"}, {Name: "seats", Value: "20"}}
	// "?>" encodes to "Pz4" in standard base64: it exercises '+'/'/' versus '-'/'_'.
	odd := `[{"name":"q","value":"?>?>"}]`
	tooMany := "[" + strings.TrimSuffix(strings.Repeat(`{"name":"n","value":"v"},`, MaxSaasExtendParams+1), ",") + "]"
	invalid := errInfo{Code: CodeInvalidParam, Reason: ReasonInvalidField, Field: FieldSaasExtendParams}
	tests := []struct {
		name    string
		in      string
		want    []Param
		wantErr errInfo
	}{
		{name: "empty", in: ""},
		{name: "blank", in: "  "},
		{name: "base64 array", in: b64([]byte(domainParamsJSON)), want: domainParams},
		{name: "base64 with surrounding blanks", in: " " + b64([]byte(domainParamsJSON)) + "\n", want: domainParams},
		{name: "plain JSON array", in: domainParamsJSON, want: domainParams},
		{name: "base64 without padding", in: base64.RawStdEncoding.EncodeToString([]byte(`[{"name":"a","value":"b"}]`)), want: []Param{{Name: "a", Value: "b"}}},
		{name: "URL-safe base64", in: base64.URLEncoding.EncodeToString([]byte(odd)), want: []Param{{Name: "q", Value: "?>?>"}}},
		{name: "plus turned into a space", in: strings.ReplaceAll(b64([]byte(`[{"name":"x","value":"~~~"}]`)), "+", " "), want: []Param{{Name: "x", Value: "~~~"}}},
		{name: "empty array", in: b64([]byte(`[]`)), want: []Param{}},
		{name: "number and boolean values keep their text", in: `[{"name":"seats","value":20},{"name":"sso","value":true}]`,
			want: []Param{{Name: "seats", Value: "20"}, {Name: "sso", Value: "true"}}},
		{name: "null and absent values are empty", in: `[{"name":"a","value":null},{"name":"b"}]`, want: []Param{{Name: "a"}, {Name: "b"}}},
		{name: "unknown members ignored", in: `[{"name":"a","value":"1","label":"A"}]`, want: []Param{{Name: "a", Value: "1"}}},
		{name: "repeated names kept in order", in: `[{"name":"a","value":"1"},{"name":"a","value":"2"}]`, want: []Param{{Name: "a", Value: "1"}, {Name: "a", Value: "2"}}},
		{name: "non-ASCII value", in: b64([]byte(`[{"name":"company","value":"华为 Cloud"}]`)), want: []Param{{Name: "company", Value: "华为 Cloud"}}},
		{name: "exactly the maximum number", in: strings.Replace(tooMany, `{"name":"n","value":"v"},`, "", 1), want: func() []Param {
			ps := make([]Param, MaxSaasExtendParams)
			for i := range ps {
				ps[i] = Param{Name: "n", Value: "v"}
			}
			return ps
		}()},

		{name: "garbage", in: "not base64 at all!", wantErr: invalid},
		{name: "base64 of garbage", in: b64([]byte("hello")), wantErr: invalid},
		{name: "base64 with line breaks", in: b64([]byte(domainParamsJSON))[:20] + "\n" + b64([]byte(domainParamsJSON))[20:], wantErr: invalid},
		{name: "truncated base64", in: b64([]byte(domainParamsJSON))[:21], wantErr: invalid},
		{name: "object instead of array", in: b64([]byte(`{"name":"a","value":"b"}`)), wantErr: invalid},
		{name: "plain JSON object", in: `{"name":"a","value":"b"}`, wantErr: invalid},
		{name: "array of strings", in: `["a","b"]`, wantErr: invalid},
		{name: "trailing data", in: domainParamsJSON + "[]", wantErr: invalid},
		{name: "missing name", in: `[{"value":"b"}]`, wantErr: invalid},
		{name: "empty name", in: `[{"name":"","value":"b"}]`, wantErr: invalid},
		{name: "name not a string", in: `[{"name":1,"value":"b"}]`, wantErr: invalid},
		{name: "name with whitespace", in: `[{"name":"a b","value":"b"}]`, wantErr: invalid},
		{name: "object value", in: `[{"name":"a","value":{"x":1}}]`, wantErr: invalid},
		{name: "array value", in: `[{"name":"a","value":[1]}]`, wantErr: invalid},
		{name: "control character in value", in: `[{"name":"a","value":"x\u0000y"}]`, wantErr: invalid},
		{name: "bidi override in value", in: `[{"name":"a","value":"x\u202ey"}]`, wantErr: invalid},
		{name: "value too long", in: `[{"name":"a","value":"` + strings.Repeat("v", MaxURLLength+1) + `"}]`, wantErr: invalid},
		{name: "duplicate key in an entry", in: `[{"name":"a","name":"b"}]`, wantErr: invalid},
		{name: "invalid UTF-8", in: b64([]byte("[{\"name\":\"a\",\"value\":\"\xff\"}]")), wantErr: invalid},
		{name: "too many", in: tooMany, wantErr: invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeSaasExtendParams(tc.in)
			if diff := cmp.Diff(tc.wantErr, infoOf(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s\nerr: %v", diff, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
}

// encodeParams is what a marketplace sends: base64 of a JSON array.
func encodeParams(t *testing.T, ps []Param) string {
	t.Helper()
	wire := make([]map[string]string, len(ps))
	for i, p := range ps {
		wire[i] = map[string]string{"name": p.Name, "value": p.Value}
	}
	data, err := json.Marshal(wire)
	if err != nil {
		t.Fatal(err)
	}
	return b64(data)
}

func FuzzDecodeSaasExtendParams(f *testing.F) {
	for _, s := range []string{
		"", domainParamsJSON, b64([]byte(domainParamsJSON)), base64.RawURLEncoding.EncodeToString([]byte(domainParamsJSON)),
		`[{"name":"seats","value":20},{"name":"a","value":null}]`, `[{"name":"a","name":"b"}]`, `[{"name":"a","value":"x\u202ey"}]`,
		b64([]byte(`[{"name":"company","value":"华为"}]`)), "W3sibmFtZSI6ImEifV0", "W3sibmFtZSI6ImEifV0=", "W3sibmFtZSI6ImEifV0==",
		"[[[[[[[[[[[[[[[[[[[[", "!!!!", `[{"name":"a","value":"b"}] `,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := DecodeSaasExtendParams(s)
		if pe := requireTyped(t, err); pe != nil {
			if pe.Code != CodeInvalidParam || pe.Field != FieldSaasExtendParams {
				t.Fatalf("error %#v", pe)
			}
			if got != nil {
				t.Fatalf("params %v returned with an error", got)
			}
			return
		}
		if len(got) > MaxSaasExtendParams {
			t.Fatalf("%d params accepted", len(got))
		}
		for i, p := range got {
			if p.Name == "" || checkChars(p.Name, kindID, MaxFieldLength) != nil {
				t.Fatalf("param %d has an invalid name %q", i, p.Name)
			}
			if !utf8.ValidString(p.Value) || checkChars(p.Value, kindText, MaxURLLength) != nil {
				t.Fatalf("param %d has an invalid value %q", i, p.Value)
			}
		}
		// What was accepted survives the marketplace's own encoding unchanged, so a V1
		// purchase and its resends always yield the same parameters.
		again, err := DecodeSaasExtendParams(encodeParams(t, got))
		if err != nil {
			t.Fatalf("re-encoded params %v refused: %v", got, err)
		}
		if len(got) > 0 || len(again) > 0 {
			if diff := cmp.Diff(got, again); diff != "" {
				t.Fatalf("round trip (-first +second):\n%s", diff)
			}
		}
	})
}

func ExampleDecodeSaasExtendParams() {
	params, err := DecodeSaasExtendParams("W3sibmFtZSI6ImRvbWFpbiIsInZhbHVlIjoiY3JtLmV4YW1wbGUub3JnIn1d")
	fmt.Println(params, err)
	// Output: [{domain crm.example.org}] <nil>
}
