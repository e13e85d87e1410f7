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

// Package merchantkey holds the merchant's kit RSA key: parsing it at start-up and opening the
// application client secrets the marketplace encrypts with its public key (docs/protocol.md §5).
// Both binaries need it: the webhook bridge checks that an applicationSync clientSecret decrypts
// before it accepts the call, and the operator decrypts it to project it into the tenant namespace.
// One implementation keeps the two from ever disagreeing about a secret.
package merchantkey

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"
)

// MinRSABits is the smallest merchant key accepted; docs/protocol.md §5 requires the merchant's
// key to be at least 3072 bits.
const MinRSABits = 3072

// ErrBadCiphertext is the error of every client secret that cannot be decrypted with the key. It
// never says which check failed, so that the answers cannot serve as a decryption oracle.
var ErrBadCiphertext = errors.New("cannot decrypt value")

// oaepVariants are tried in order by DecryptClientSecret. The first is what
// Java's "RSA/ECB/OAEPWithSHA-256AndMGF1Padding" does by default (SHA-256
// label hash, MGF1 with SHA-1); the others cover senders that configure
// OAEPParameterSpec explicitly.
var oaepVariants = []rsa.OAEPOptions{
	{Hash: crypto.SHA256, MGFHash: crypto.SHA1},
	{Hash: crypto.SHA256, MGFHash: crypto.SHA256},
	{Hash: crypto.SHA1, MGFHash: crypto.SHA1},
}

// DecryptClientSecret decrypts an applicationSync clientSecret: base64 of an RSA-OAEP ciphertext
// under the merchant's public key (docs/protocol.md §5). Line breaks, spaces and tabs in the
// base64 are ignored (MIME wrapping); otherwise only the canonical spelling of exactly one RSA
// block is accepted. Keys under MinRSABits are refused. Trying several OAEP parameter sets is safe
// only because kit calls are authenticated (x-sign) before this runs, so a stranger cannot use the
// answers as a decryption oracle. A ciphertext that does not decrypt to UTF-8 text fails with
// ErrBadCiphertext; an unusable key with another error.
func DecryptClientSecret(priv *rsa.PrivateKey, b64 string) (string, error) {
	if priv == nil {
		return "", errors.New("decrypting client secret: no private key configured")
	}
	if bits := priv.N.BitLen(); bits < MinRSABits {
		return "", fmt.Errorf("decrypting client secret: RSA key has %d bits, at least %d are required", bits, MinRSABits)
	}
	clean := strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, b64)
	ct, err := base64.StdEncoding.Strict().DecodeString(clean)
	if err != nil || len(ct) != priv.Size() {
		return "", ErrBadCiphertext
	}
	for i := range oaepVariants {
		pt, err := priv.Decrypt(nil, ct, &oaepVariants[i])
		if err == nil {
			if !utf8.Valid(pt) {
				return "", ErrBadCiphertext
			}
			return string(pt), nil
		}
	}
	return "", ErrBadCiphertext
}

// EncryptClientSecret is the sender's side of DecryptClientSecret with the Java-default
// parameters (SHA-256, MGF1-SHA-1); tests use it to build applicationSync bodies.
func EncryptClientSecret(pub *rsa.PublicKey, secret string) (string, error) {
	ct, err := rsa.EncryptOAEPWithOptions(rand.Reader, pub, []byte(secret), &oaepVariants[0])
	if err != nil {
		return "", fmt.Errorf("encrypting client secret: %w", err)
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

// ReadPrivateKeyFile reads the merchant's kit private key from a PEM file (ParsePrivateKeyPEM),
// as both binaries' --merchant-private-key-file flag names it. An empty path means no key: nil
// and no error.
func ReadPrivateKeyFile(path string) (*rsa.PrivateKey, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading merchant private key: %w", err)
	}
	key, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("parsing merchant private key %q: %w", path, err)
	}
	return key, nil
}

// ParsePrivateKeyPEM parses the merchant's kit private key from PEM, either PKCS#1
// ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"). Encrypted PEM and keys under MinRSABits are
// refused, so a bad key fails at start-up rather than on the first applicationSync call.
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("parsing RSA private key: no PEM block found")
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted {
		return nil, errors.New("parsing RSA private key: encrypted PEM is not supported")
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing RSA private key: %w", err)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing RSA private key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("parsing RSA private key: PKCS#8 key is %T, not RSA", k)
		}
		key = rk
	default:
		return nil, fmt.Errorf("parsing RSA private key: unsupported PEM block type %q", block.Type)
	}
	if bits := key.N.BitLen(); bits < MinRSABits {
		return nil, fmt.Errorf("parsing RSA private key: key has %d bits, at least %d are required", bits, MinRSABits)
	}
	return key, nil
}
