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
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testRSAKey is generated once per test binary: 3072-bit generation is slow.
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		panic(err)
	}
	return k
})

func TestDecryptClientSecret(t *testing.T) {
	key := testRSAKey()
	const secret = "client-secret-值-😀"
	encrypt := func(opts rsa.OAEPOptions) string {
		ct, err := rsa.EncryptOAEPWithOptions(rand.Reader, &key.PublicKey, []byte(secret), &opts)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(ct)
	}
	javaDefault, err := EncryptClientSecret(&key.PublicKey, secret)
	if err != nil {
		t.Fatal(err)
	}
	wrapped := javaDefault[:76] + "\r\n" + javaDefault[76:]
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr errInfo
	}{
		{name: "SHA-256 with MGF1-SHA-1 (Java default)", in: javaDefault, want: secret},
		{name: "MIME line breaks", in: wrapped, want: secret},
		{name: "SHA-256 with MGF1-SHA-256", in: encrypt(rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA256}), want: secret},
		{name: "SHA-1", in: encrypt(rsa.OAEPOptions{Hash: crypto.SHA1, MGFHash: crypto.SHA1}), want: secret},
		{name: "SHA-512 unsupported", in: encrypt(rsa.OAEPOptions{Hash: crypto.SHA512}), wantErr: errInfo{CodeInvalidParam, ReasonBadCiphertext, "clientSecret"}},
		{name: "with label unsupported", in: encrypt(rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA1, Label: []byte("x")}), wantErr: errInfo{CodeInvalidParam, ReasonBadCiphertext, "clientSecret"}},
		{name: "not base64", in: "%%%", wantErr: errInfo{CodeInvalidParam, ReasonBadCiphertext, "clientSecret"}},
		{name: "wrong length", in: base64.StdEncoding.EncodeToString([]byte("short")), wantErr: errInfo{CodeInvalidParam, ReasonBadCiphertext, "clientSecret"}},
		{name: "tampered", in: "A" + javaDefault[1:], wantErr: errInfo{CodeInvalidParam, ReasonBadCiphertext, "clientSecret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecryptClientSecret(key, tt.in)
			if diff := cmp.Diff(tt.wantErr, infoOf(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s\nerr: %v", diff, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecryptClientSecret (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRSAKeySize(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecryptClientSecret(small, "AAAA"); err == nil || !strings.Contains(err.Error(), "at least 3072") {
		t.Errorf("2048-bit key: err = %v, want a key-size error", err)
	}
	if _, err := DecryptClientSecret(nil, "AAAA"); err == nil {
		t.Error("nil key accepted")
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)})
	if _, err := ParseRSAPrivateKeyPEM(pkcs1); err == nil || !strings.Contains(err.Error(), "at least 3072") {
		t.Errorf("2048-bit PEM: err = %v, want a key-size error", err)
	}
}

func TestParseRSAPrivateKeyPEM(t *testing.T) {
	key := testRSAKey()
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pem     []byte
		wantErr bool
	}{
		{name: "PKCS#1", pem: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})},
		{name: "PKCS#8", pem: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})},
		{name: "no PEM", pem: []byte("not a key"), wantErr: true},
		{name: "wrong type", pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), wantErr: true},
		{name: "garbage PKCS#8", pem: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2}}), wantErr: true},
		{name: "encrypted", pem: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRSAPrivateKeyPEM(tt.pem)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && !got.Equal(key) {
				t.Error("parsed key differs")
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
