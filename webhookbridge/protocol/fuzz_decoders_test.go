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
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets for the decoders fuzz_test.go does not cover: the timestamp parsers, SortedJSON
// and the kit path (the kit client-secret decryption is fuzzed in internal/merchantkey). Each asserts what the decoder promises for
// everything it accepts (exact round trips, canonical input only), not merely that it does not
// panic: a decoder that accepts two spellings of one value is how signatures and idempotency keys
// drift apart.

func FuzzParseTimestamps(f *testing.F) {
	for _, s := range []string{
		vecTimestamp, "0", "000000000000001", "1680508066618000", "-1", "+1680508066618", "1.6e12", " 1680508066618",
		"１６８０５０８０６６６１８", "20220413093539534", "20200727073711903", "20231301000000000", "20240229235959999",
		"20230229000000000", "00000101000000000", "20220809T080000Z", "20220809t080000z", "2022080 T080000Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if tm, err := ParseMillis(s); err == nil {
			if len(s) == 0 || len(s) > 15 || !allDigits(s) {
				t.Fatalf("ParseMillis accepted %q", s)
			}
			want := strings.TrimLeft(s, "0")
			if want == "" {
				want = "0"
			}
			if got := FormatMillis(tm); got != want {
				t.Fatalf("ParseMillis(%q) formats back as %q", s, got)
			}
			if tm.Location() != time.UTC {
				t.Fatalf("ParseMillis(%q) is in %v", s, tm.Location())
			}
		}
		if tm, err := ParseKitTimeStamp(s); err == nil {
			if got := FormatKitTimeStamp(tm); got != s {
				t.Fatalf("ParseKitTimeStamp(%q) formats back as %q", s, got)
			}
			if tm.Location() != time.UTC {
				t.Fatalf("ParseKitTimeStamp(%q) is in %v", s, tm.Location())
			}
		}
		v1, v1err := ParseV1TimeStamp(s)
		if v1err == nil {
			if got := FormatV1TimeStamp(v1); got != s {
				t.Fatalf("ParseV1TimeStamp(%q) formats back as %q", s, got)
			}
		}
		// The 17-digit expireTime and the V1 timeStamp are the same UTC format.
		if len(s) == 17 {
			exp, err := ParseExpireTime(s)
			if (err == nil) != (v1err == nil) || err == nil && !exp.Equal(v1) {
				t.Fatalf("ParseExpireTime(%q) = %v, %v but ParseV1TimeStamp = %v, %v", s, exp, err, v1, v1err)
			}
		}
		if tm, err := ParseUsageTime(s); err == nil {
			if got := FormatUsageTime(tm); got != s {
				t.Fatalf("ParseUsageTime(%q) formats back as %q", s, got)
			}
		}
	})
}

func FuzzSortedJSON(f *testing.F) {
	basicSeeds(f)
	for _, s := range []string{`[]`, `"x"`, `1.50`, `null`, `[{"b":1,"a":{"d":null,"c":[]}}]`, `{"a":1} `, " \t\n{}", `{"a":"\u2028\ud800"}`, `{"n":2` + strings.Repeat("0", 320) + `}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := SortedJSON(body)
		if pe := requireTyped(t, err); pe != nil {
			if pe.Code != CodeInvalidParam {
				t.Fatalf("code %s, want %s", pe.Code, CodeInvalidParam)
			}
			if json.Valid(body) && utf8.Valid(body) && pe.Reason != ReasonDuplicateKey && pe.Reason != ReasonTooDeep {
				t.Fatalf("valid JSON refused: %v", err)
			}
			return
		}
		if !json.Valid(body) || !utf8.Valid(body) {
			t.Fatalf("invalid JSON accepted: %q", body)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, out); err != nil || !bytes.Equal(compact.Bytes(), out) {
			t.Fatalf("output is not compact JSON: %q (%v)", out, err)
		}
		again, err := SortedJSON(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent (keys unsorted?):\n%q\n%q (%v)", out, again, err)
		}
		// Numbers are compared as literals: JSON has no range limit, and a
		// number too large for float64 is still valid input.
		a, err := decodeUseNumber(body)
		if err != nil {
			t.Fatalf("accepted body does not unmarshal: %v", err)
		}
		b, err := decodeUseNumber(out)
		if err != nil {
			t.Fatalf("output does not unmarshal: %v", err)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("SortedJSON changed the data:\n%s\n%s", ja, jb)
		}
	})
}

func decodeUseNumber(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func FuzzKitNameFromPath(f *testing.F) {
	for _, p := range []string{
		"/saasproduce/produceAPI/v2/tenantSync", "/produceAPI/v2/authSync", "/produceAPI/v2/", "/produceAPI/v2/tenantSync/",
		"/produceAPI/v2/../v2/allOrgSync", "/produceAPI/v2/tenantsync", "/produceAPI/v2/tenantSync%00", "/produceAPI/v2/produceAPI/v2/singleOrgSync",
		"/produceAPI/v2/applicationSync?x=1", "",
	} {
		f.Add(p)
	}
	names := []string{KitTenantSync, KitApplicationSync, KitAuthSync, KitSingleOrgSync, KitAllOrgSync}
	f.Fuzz(func(t *testing.T, path string) {
		name, ok := KitNameFromPath(path)
		if !ok {
			if name != "" {
				t.Fatalf("KitNameFromPath(%q) = %q, false", path, name)
			}
			return
		}
		if !slices.Contains(names, name) || !strings.HasSuffix(path, KitPathPrefix+name) {
			t.Fatalf("KitNameFromPath(%q) = %q", path, name)
		}
		if _, err := DecodeKit(name, []byte(`{}`)); ReasonOf(err) == ReasonUnknownKitName {
			t.Fatalf("DecodeKit does not know %q", name)
		}
	})
}
