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
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The vectors of docs/protocol.md §8, computed independently in three languages.
const (
	vectorKey       = "example-access-key-for-test-vectors-only"
	vectorNonce     = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA"
	vectorTimestamp = "1680508066618"
)

func TestQuerySignatureVector(t *testing.T) {
	body := []byte(`{"testFlag":"1","orderLineId":"CS2211181819B4LVS-000001","orderId":"CS2211181819B4LVS","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","activity":"newInstance"}`)
	payload, err := canonicalPayload(body)
	if err != nil {
		t.Fatal(err)
	}
	wantPayload := `{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}`
	if diff := cmp.Diff(wantPayload, string(payload)); diff != "" {
		t.Errorf("canonical payload (-want +got):\n%s", diff)
	}
	sig, err := querySignature(vectorKey, vectorNonce, vectorTimestamp, body)
	if err != nil {
		t.Fatal(err)
	}
	if want := "a56a4f76de434c314c0b67e5f3a79203f29c017b95a7153a426c8cc7d5ec9650"; sig != want {
		t.Errorf("signature = %q, want %q", sig, want)
	}
}

func TestKitSignatureVector(t *testing.T) {
	body := []byte(`{"instanceId":"huaiweitest123456","orderId":"CS1906666666ABCDE","tenantId":"68cbc86abc2018ab880d92f36422fa0e","tenantCode":"huawei","name":"huaiweitest","domainName":"https://example.tenantaccount.com","flag":1,"testFlag":0,"timeStamp":"20220413093539534"}`)
	sig, err := kitSignature(vectorKey, vectorNonce, vectorTimestamp, body)
	if err != nil {
		t.Fatal(err)
	}
	if want := "ba0fe330cdafeefb453fcb100155e41faabac52675b62a43736dd30318f1760b"; sig != want {
		t.Errorf("x-sign = %q, want %q", sig, want)
	}
}

func TestV1AuthTokenVector(t *testing.T) {
	// The vector's parameters, passed URL-encoded as the marketplace sends them.
	raw := "activity=newInstance&businessId=61e834ba-7b97-4418-b8f7-e5345137278c&customerId=68cbc86abc2018ab880d92f36422fa0e&expireTime=20200727153156&orderId=CS1906666666ABCDE&productId=00301-666666-0--0&testFlag=1&timeStamp=20200727073711903"
	params, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	params.Set("authToken", "ignored")
	if got, want := v1AuthToken(vectorKey, params), "2X4Dn8AjSH+NW2/1Vv059u9Q3F+WANSeMGOEovS5ZsU="; got != want {
		t.Errorf("authToken = %q, want %q", got, want)
	}
}

func TestBodySign(t *testing.T) {
	body := []byte(`{"resultCode":"000000","resultMsg":"success.","instanceId":"87b94795-0603-4e24-8ae5-69420d60e3c8"}`)
	const sig = "6G4NqBQTc7Uggga7Mo9sgNniOB2lOCwWajhscQMrorE="
	if got := bodySign(vectorKey, body); got != sig {
		t.Fatalf("bodySign = %q, want %q", got, sig)
	}
	tests := []struct {
		name    string
		header  string
		body    []byte
		wantErr bool
	}{
		{"protocol framing", `sign_type="HMAC-SHA256", signature= "` + sig + `"`, body, false},
		{"no space", `sign_type="HMAC-SHA256",signature="` + sig + `"`, body, false},
		{"wrong signature", `sign_type="HMAC-SHA256", signature= "` + strings.Replace(sig, "6", "7", 1) + `"`, body, true},
		{"body changed", `sign_type="HMAC-SHA256", signature= "` + sig + `"`, append([]byte{' '}, body...), true},
		{"wrong type", `sign_type="HMAC-SHA1", signature= "` + sig + `"`, body, true},
		{"garbage", `nonsense`, body, true},
		{"empty", ``, body, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := verifyBodySign(vectorKey, tc.header, tc.body)
			if (err != nil) != tc.wantErr {
				t.Errorf("verifyBodySign() error = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}

func TestCanonicalPayload(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    string
		wantErr bool
	}{
		{"sorted by byte order", `{"b":1,"B":2,"a":"x"}`, `{"B":2,"a":"x","b":1}`, false},
		{"nulls dropped at top level only", `{"z":null,"a":{"y":null,"b":1}}`, `{"a":{"y":null,"b":1}}`, false},
		{"nested kept in received order, compacted", "{\"n\": {\"b\": [1, 2], \"a\": true}}", `{"n":{"b":[1,2],"a":true}}`, false},
		{"no HTML escaping", `{"u":"<a>&amp;"}`, `{"u":"<a>&amp;"}`, false},
		{"escaped key decoded", `{"\u003ck":"v"}`, `{"<k":"v"}`, false},
		{"raw UTF-8 kept", `{"name":"华为"}`, `{"name":"华为"}`, false},
		{"numbers as received", `{"flag":1.50,"big":12345678901234567890}`, `{"big":12345678901234567890,"flag":1.50}`, false},
		{"empty object", `{}`, `{}`, false},
		{"array", `[1]`, ``, true},
		{"null", `null`, ``, true},
		{"not JSON", `{`, ``, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := canonicalPayload([]byte(tc.body))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzCanonicalPayload(f *testing.F) {
	f.Add([]byte(`{"testFlag":"1","orderId":"x","n":{"b":1,"a":[null]}}`))
	f.Add([]byte(`{"a":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		once, err := canonicalPayload(body)
		if err != nil {
			return
		}
		twice, err := canonicalPayload(once)
		if err != nil {
			t.Fatalf("canonical payload %q does not parse: %v", once, err)
		}
		if string(once) != string(twice) {
			t.Fatalf("not idempotent: %q then %q", once, twice)
		}
	})
}

func FuzzVerifyBodySign(f *testing.F) {
	f.Add(`sign_type="HMAC-SHA256", signature= "6G4NqBQTc7Uggga7Mo9sgNniOB2lOCwWajhscQMrorE="`, []byte(`{}`))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if verifyBodySign(vectorKey, header, body) == nil && !strings.Contains(header, bodySign(vectorKey, body)) {
			t.Fatalf("accepted header %q that does not hold the signature", header)
		}
	})
}
