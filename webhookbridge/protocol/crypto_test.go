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
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/internal/merchantkey"
)

// TestDecryptClientSecret checks the protocol's answer to a clientSecret: the decryption itself is
// merchantkey's (tested there); here a ciphertext that does not decrypt must become the
// CodeInvalidParam "bad-ciphertext" error on clientSecret, and an unusable key must not.
func TestDecryptClientSecret(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, merchantkey.MinRSABits)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "client-secret-值"
	valid, err := merchantkey.EncryptClientSecret(&key.PublicKey, secret)
	if err != nil {
		t.Fatal(err)
	}
	// The first character replaced by another ("A" would leave a ciphertext that begins with one
	// as it was).
	tampered := "A" + valid[1:]
	if valid[0] == 'A' {
		tampered = "B" + valid[1:]
	}
	tests := []struct {
		name    string
		key     *rsa.PrivateKey
		in      string
		want    string
		wantErr errInfo
	}{
		{name: "valid", key: key, in: valid, want: secret},
		{name: "not base64", key: key, in: "%%%", wantErr: errInfo{CodeInvalidParam, ReasonBadCiphertext, "clientSecret"}},
		{name: "tampered", key: key, in: tampered, wantErr: errInfo{CodeInvalidParam, ReasonBadCiphertext, "clientSecret"}},
		{name: "key too small is not the caller's fault", key: small, in: valid, wantErr: errInfo{Code: CodeInternalError, Reason: ReasonInternal}},
		{name: "no key is not the caller's fault", key: nil, in: valid, wantErr: errInfo{Code: CodeInternalError, Reason: ReasonInternal}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecryptClientSecret(tt.key, tt.in)
			if diff := cmp.Diff(tt.wantErr, infoOf(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s\nerr: %v", diff, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecryptClientSecret (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecryptCredentialStrict(t *testing.T) {
	const iv = "AbCdEf0123456789"
	good := "AbCdEf0123456789wRPvCu+hyokhUXxOv2dneA=="
	// A ciphertext whose plaintext has invalid padding: encrypt 16 raw bytes
	// ending in 0 by asking for "x"*15+"\x00" and dropping the padding block.
	full, err := EncryptCredential(vecKey, strings.Repeat("x", 15)+"\x00", "1", iv)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := base64.StdEncoding.DecodeString(full[16:])
	badPad := iv + base64.StdEncoding.EncodeToString(ct[:16])
	bad := errInfo{CodeInvalidParam, ReasonBadCiphertext, ""}
	tests := []struct {
		name, value, encryptType string
		want                     string
		wantErr                  errInfo
	}{
		{name: "good", value: good, encryptType: "1", want: "hwadmin"},
		{name: "wrong key size", value: good, encryptType: "2", wantErr: bad},
		{name: "unknown encryptType", value: good, encryptType: "3", wantErr: errInfo{CodeInvalidParam, ReasonUnsupportedCipher, "encryptType"}},
		{name: "IV only", value: iv, encryptType: "1", wantErr: bad},
		{name: "empty", value: "", encryptType: "1", wantErr: bad},
		{name: "not base64", value: iv + "!!!!", encryptType: "1", wantErr: bad},
		{name: "not canonical base64", value: iv + "wRPvCu+hyokhUXxOv2dneB==", encryptType: "1", wantErr: bad},
		{name: "not a block multiple", value: iv + base64.StdEncoding.EncodeToString(make([]byte, 15)), encryptType: "1", wantErr: bad},
		{name: "bad padding", value: badPad, encryptType: "1", wantErr: bad},
		{name: "other IV", value: "0000000000000000" + good[16:], encryptType: "1", wantErr: bad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecryptCredential(vecKey, tt.value, tt.encryptType)
			if diff := cmp.Diff(tt.wantErr, infoOf(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s\nerr: %v", diff, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecryptCredential (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncryptCredentialRejectsBadIV(t *testing.T) {
	for _, iv := range []string{"", "short", "AbCdEf01234567890", "AbCdEf012345678 ", "AbCdEf01234567é"} {
		if _, err := EncryptCredential(vecKey, "x", "1", iv); err == nil {
			t.Errorf("IV %q accepted", iv)
		}
	}
}

func TestRandomIV(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		iv, err := RandomIV()
		if err != nil {
			t.Fatal(err)
		}
		if len(iv) != IVLength || strings.Trim(iv, ivAlphabet) != "" {
			t.Fatalf("RandomIV() = %q", iv)
		}
		if seen[iv] {
			t.Fatalf("RandomIV repeated %q", iv)
		}
		seen[iv] = true
		enc, err := EncryptCredential(vecKey, "中文密码", "2", iv)
		if err != nil {
			t.Fatal(err)
		}
		if pt, err := DecryptCredential(vecKey, enc, "2"); err != nil || pt != "中文密码" {
			t.Fatalf("round trip with IV %q = %q, %v", iv, pt, err)
		}
	}
}
