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
	"encoding/hex"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The test vectors of docs/protocol.md §8.
const (
	vecKey       = "example-access-key-for-test-vectors-only"
	vecNonce     = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA"
	vecTimestamp = "1680508066618"

	vec1Body      = `{"testFlag":"1","orderLineId":"CS2211181819B4LVS-000001","orderId":"CS2211181819B4LVS","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","activity":"newInstance"}`
	vec1Canonical = `{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}`
	vec1Inner     = "a6d9bd22c3fe1a0c69ee4d37af805e42c6328c41998949ceb73e02a20877b091"
	vec1Signature = "a56a4f76de434c314c0b67e5f3a79203f29c017b95a7153a426c8cc7d5ec9650"

	vec2Body = `{"instanceId":"huaiweitest123456","orderId":"CS1906666666ABCDE","tenantId":"68cbc86abc2018ab880d92f36422fa0e","tenantCode":"huawei","name":"huaiweitest","domainName":"https://example.tenantaccount.com","flag":1,"testFlag":0,"timeStamp":"20220413093539534"}`
	vec2Sign = "ba0fe330cdafeefb453fcb100155e41faabac52675b62a43736dd30318f1760b"

	vec3Body     = `{"resultCode":"000000","resultMsg":"success.","instanceId":"87b94795-0603-4e24-8ae5-69420d60e3c8"}`
	vec3BodySign = `sign_type="HMAC-SHA256", signature= "6G4NqBQTc7Uggga7Mo9sgNniOB2lOCwWajhscQMrorE="`

	vec4TimeStamp = "20200727073711903"
	vec4Query     = "activity=newInstance&businessId=61e834ba-7b97-4418-b8f7-e5345137278c&customerId=68cbc86abc2018ab880d92f36422fa0e&expireTime=20200727153156&orderId=CS1906666666ABCDE&productId=00301-666666-0--0&testFlag=1&timeStamp=20200727073711903"
	vec4AuthToken = "2X4Dn8AjSH+NW2/1Vv059u9Q3F+WANSeMGOEovS5ZsU="

	vec7Body = `{"usage_records":[{"begin_time":"20220809T080000Z","end_time":"20220809T090000Z","instance_id":"7f141bf1-aec8-4859-8323-fb3a8ad50721","metering_sn":"sn-0001","record_time":"20220809T091000Z","usage_value":"99"}]}`
	vec7Sign = "ZfLKJ3Al0+DwHPWq/XJaktX+vyKklhgANlPUreW7bX4="
)

// vecNow is the instant of vecTimestamp.
var vecNow = time.UnixMilli(1680508066618)

func TestVector1Basic(t *testing.T) {
	canon, err := CanonicalPayload([]byte(vec1Body))
	if err != nil {
		t.Fatalf("CanonicalPayload: %v", err)
	}
	if diff := cmp.Diff(vec1Canonical, string(canon)); diff != "" {
		t.Errorf("canonical payload (-want +got):\n%s", diff)
	}
	if got := hex.EncodeToString(hmacSHA256([]byte(vecKey), canon)); got != vec1Inner {
		t.Errorf("inner = %s, want %s", got, vec1Inner)
	}
	if got := SignBasic(vecKey, vecNonce, vecTimestamp, canon); got != vec1Signature {
		t.Errorf("SignBasic = %s, want %s", got, vec1Signature)
	}
}

func TestVector2Kit(t *testing.T) {
	canon, err := CanonicalPayload([]byte(vec2Body))
	if err != nil {
		t.Fatalf("CanonicalPayload: %v", err)
	}
	if got := SignKit(vecKey, vecNonce, vecTimestamp, canon); got != vec2Sign {
		t.Errorf("SignKit = %s, want %s", got, vec2Sign)
	}
	v := &Verifier{Keys: []string{vecKey}, Now: func() time.Time { return vecNow }}
	h := http.Header{}
	h.Set(HeaderSign, vec2Sign)
	h.Set(HeaderTimestamp, vecTimestamp)
	h.Set(HeaderNonce, vecNonce)
	if err := v.VerifyKit(h, []byte(vec2Body)); err != nil {
		t.Errorf("VerifyKit: %v", err)
	}
}

func TestVector3BodySign(t *testing.T) {
	resp := NewResponse(CodeSuccess)
	resp.InstanceID = "87b94795-0603-4e24-8ae5-69420d60e3c8"
	body := EncodeResponse(resp)
	if diff := cmp.Diff(vec3Body, string(body)); diff != "" {
		t.Errorf("EncodeResponse (-want +got):\n%s", diff)
	}
	if got := BodySign(vecKey, []byte(vec3Body)); got != vec3BodySign {
		t.Errorf("BodySign = %s, want %s", got, vec3BodySign)
	}
}

func TestVector4V1AuthToken(t *testing.T) {
	q, err := url.ParseQuery(vec4Query)
	if err != nil {
		t.Fatal(err)
	}
	if got := v1Message(q); got != vec4Query {
		t.Errorf("signed message = %s, want %s", got, vec4Query)
	}
	if got := V1AuthToken(vecKey, vec4TimeStamp, q); got != vec4AuthToken {
		t.Errorf("V1AuthToken = %s, want %s", got, vec4AuthToken)
	}
	q.Set(ParamAuthToken, vec4AuthToken)
	if got := V1AuthToken(vecKey, vec4TimeStamp, q); got != vec4AuthToken {
		t.Errorf("V1AuthToken with authToken present = %s, want %s", got, vec4AuthToken)
	}
}

func TestVector5DeriveAESKey(t *testing.T) {
	tests := []struct {
		seed string
		want string
	}{
		{vecKey, "5165964b6bd2f173df909379ed922aa13cb7234ca6fedd53b0b90c9920a1e5e8"},
		{"a", "667f407de7c6ad07358fa38daed7828a72014b4e621d7140210c8cf1565a8f02"},
		{"中文key", "e5edaa8cfba0e535a2e52f1e2c0146d705001c3274c1de1f34837ce1c99ba6c1"},
	}
	for _, tt := range tests {
		t.Run(tt.seed, func(t *testing.T) {
			k256, err := DeriveAESKey([]byte(tt.seed), 256)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, hex.EncodeToString(k256)); diff != "" {
				t.Errorf("AES-256 key (-want +got):\n%s", diff)
			}
			k128, err := DeriveAESKey([]byte(tt.seed), 128)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want[:32], hex.EncodeToString(k128)); diff != "" {
				t.Errorf("AES-128 key (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := DeriveAESKey([]byte("a"), 192); err == nil {
		t.Error("DeriveAESKey(192) succeeded, want error")
	}
}

func TestVector6Credentials(t *testing.T) {
	tests := []struct {
		name, encryptType, plaintext, want string
	}{
		{"aes256", "1", "hwadmin", "AbCdEf0123456789wRPvCu+hyokhUXxOv2dneA=="},
		{"aes256 default", "", "hwadmin", "AbCdEf0123456789wRPvCu+hyokhUXxOv2dneA=="},
		{"aes128", "2", "Huawei@12345", "AbCdEf0123456789lAzA7d0FL6DiU0b81dYV+A=="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncryptCredential(vecKey, tt.plaintext, tt.encryptType, "AbCdEf0123456789")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("EncryptCredential (-want +got):\n%s", diff)
			}
			pt, err := DecryptCredential(vecKey, tt.want, tt.encryptType)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.plaintext, pt); diff != "" {
				t.Errorf("DecryptCredential (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVector7UsagePush(t *testing.T) {
	got, err := SignUsagePush(vecKey, vecTimestamp, "abc123", []byte(vec7Body))
	if err != nil {
		t.Fatal(err)
	}
	if got != vec7Sign {
		t.Errorf("SignUsagePush = %s, want %s", got, vec7Sign)
	}
	// The same records marshalled in another key order sign the same.
	shuffled := `{"usage_records":[{"usage_value":"99","record_time":"20220809T091000Z","metering_sn":"sn-0001","instance_id":"7f141bf1-aec8-4859-8323-fb3a8ad50721","end_time":"20220809T090000Z","begin_time":"20220809T080000Z"}]}`
	got, err = SignUsagePush(vecKey, vecTimestamp, "abc123", []byte(shuffled))
	if err != nil {
		t.Fatal(err)
	}
	if got != vec7Sign {
		t.Errorf("SignUsagePush(shuffled) = %s, want %s", got, vec7Sign)
	}
}
