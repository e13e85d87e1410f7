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

package merchantkey

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// testRSAKey is generated once per test binary: 3072-bit generation is slow.
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, MinRSABits)
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
	notUTF8, err := EncryptClientSecret(&key.PublicKey, "\xff\xfe")
	if err != nil {
		t.Fatal(err)
	}
	wrapped := javaDefault[:76] + "\r\n" + javaDefault[76:]
	// The first character replaced by another: "A" unless it is one already (1 in 64), which
	// would leave the ciphertext as it was. Either keeps the number below the modulus.
	tampered := "A" + javaDefault[1:]
	if javaDefault[0] == 'A' {
		tampered = "B" + javaDefault[1:]
	}
	tests := []struct {
		name string
		in   string
		want string
		bad  bool // ErrBadCiphertext
	}{
		{name: "SHA-256 with MGF1-SHA-1 (Java default)", in: javaDefault, want: secret},
		{name: "MIME line breaks", in: wrapped, want: secret},
		{name: "SHA-256 with MGF1-SHA-256", in: encrypt(rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA256}), want: secret},
		{name: "SHA-1", in: encrypt(rsa.OAEPOptions{Hash: crypto.SHA1, MGFHash: crypto.SHA1}), want: secret},
		{name: "SHA-512 unsupported", in: encrypt(rsa.OAEPOptions{Hash: crypto.SHA512}), bad: true},
		{name: "with label unsupported", in: encrypt(rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA1, Label: []byte("x")}), bad: true},
		{name: "not base64", in: "%%%", bad: true},
		{name: "wrong length", in: base64.StdEncoding.EncodeToString([]byte("short")), bad: true},
		{name: "tampered", in: tampered, bad: true},
		{name: "plaintext not UTF-8", in: notUTF8, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecryptClientSecret(key, tt.in)
			if bad := errors.Is(err, ErrBadCiphertext); bad != tt.bad || (err != nil && !bad) {
				t.Fatalf("err = %v, want ErrBadCiphertext: %v", err, tt.bad)
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
	if _, err := DecryptClientSecret(small, "AAAA"); err == nil || errors.Is(err, ErrBadCiphertext) || !strings.Contains(err.Error(), "at least 3072") {
		t.Errorf("2048-bit key: err = %v, want a key-size error", err)
	}
	if _, err := DecryptClientSecret(nil, "AAAA"); err == nil || errors.Is(err, ErrBadCiphertext) {
		t.Errorf("nil key: err = %v, want a missing-key error", err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)})
	if _, err := ParsePrivateKeyPEM(pkcs1); err == nil || !strings.Contains(err.Error(), "at least 3072") {
		t.Errorf("2048-bit PEM: err = %v, want a key-size error", err)
	}
}

func TestParsePrivateKeyPEM(t *testing.T) {
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
			got, err := ParsePrivateKeyPEM(tt.pem)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && !got.Equal(key) {
				t.Error("parsed key differs")
			}
		})
	}
}

func TestReadPrivateKeyFile(t *testing.T) {
	key := testRSAKey()
	dir := t.TempDir()
	good := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(good, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}

	got, err := ReadPrivateKeyFile(good)
	if err != nil || !got.Equal(key) {
		t.Errorf("a PEM key: %v, err %v; want the key", got, err)
	}
	if got, err := ReadPrivateKeyFile(""); got != nil || err != nil {
		t.Errorf("no path: %v, err %v; want no key and no error", got, err)
	}
	if _, err := ReadPrivateKeyFile(filepath.Join(dir, "missing.pem")); err == nil || !strings.HasPrefix(err.Error(), "reading merchant private key") {
		t.Errorf("a missing file: err = %v, want a reading error", err)
	}
	if _, err := ReadPrivateKeyFile(bad); err == nil || !strings.Contains(err.Error(), "parsing merchant private key \""+bad+"\"") {
		t.Errorf("a file without a key: err = %v, want a parsing error naming the file", err)
	}
}

// FuzzDecryptClientSecret asserts what the decryption promises for everything it accepts, not
// merely that it does not panic: only ErrBadCiphertext as a failure, UTF-8 plaintext, and one
// canonical base64 spelling of one RSA block (line breaks, spaces and tabs aside).
func FuzzDecryptClientSecret(f *testing.F) {
	key := testRSAKey() // once per process; each fuzz worker is one
	valid, err := EncryptClientSecret(&key.PublicKey, "client-secret-ÄÖ-1")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:64] + "\r\n" + valid[64:])
	f.Add(" " + valid + "\t")
	f.Add(strings.TrimRight(valid, "="))
	f.Add(strings.NewReplacer("+", "-", "/", "_").Replace(valid))
	f.Add(base64.StdEncoding.EncodeToString(make([]byte, key.Size())))
	f.Add("bm90LWEtY2lwaGVydGV4dA==")
	f.Add("")
	f.Fuzz(func(t *testing.T, b64 string) {
		pt, err := DecryptClientSecret(key, b64)
		if err != nil {
			if !errors.Is(err, ErrBadCiphertext) {
				t.Fatalf("error %v, want ErrBadCiphertext", err)
			}
			return
		}
		if !utf8.Valid([]byte(pt)) {
			t.Fatalf("plaintext %q is not UTF-8", pt)
		}
		clean := strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, b64)
		ct, err := base64.StdEncoding.DecodeString(clean)
		if err != nil || len(ct) != key.Size() || base64.StdEncoding.EncodeToString(ct) != clean {
			t.Fatalf("accepted non-canonical ciphertext %q", b64)
		}
		if again, err := DecryptClientSecret(key, clean); err != nil || again != pt {
			t.Fatalf("decryption is not deterministic: %q then %q, %v", pt, again, err)
		}
	})
}
