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
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // Java's SHA1PRNG is defined on SHA-1; it is not used for integrity here.
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tenantry/tenantry/internal/merchantkey"
)

// IVLength is the length of the IV string prefixed to V1 encrypted values.
const IVLength = 16

// DeriveAESKey reproduces what the marketplace's Java code gets from
// SecureRandom.getInstance("SHA1PRNG") seeded with seed and asked for bits/8
// bytes (docs/protocol.md §4). bits must be 128 or 256.
//
// The state update adds bytes as signed int8 with an arithmetic-shift carry,
// exactly as sun.security.provider.SecureRandom.updateState does; an unsigned
// carry gets the second SHA-1 block, and so the last 12 bytes of an AES-256
// key, wrong.
func DeriveAESKey(seed []byte, bits int) ([]byte, error) {
	if bits != 128 && bits != 256 {
		return nil, fmt.Errorf("deriving AES key: unsupported key size %d bits", bits)
	}
	need := bits / 8
	s := sha1.Sum(seed)
	state := s[:]
	out := make([]byte, 0, need+sha1.Size)
	for len(out) < need {
		block := sha1.Sum(state)
		out = append(out, block[:]...)
		carry := 1 // the "+ 1" of state(n+1) = state(n) + output(n) + 1
		changed := false
		for i := range state {
			v := int(int8(state[i])) + int(int8(block[i])) + carry
			b := byte(v)
			changed = changed || state[i] != b
			state[i] = b
			carry = v >> 8
		}
		if !changed {
			state[0]++
		}
	}
	return out[:need], nil
}

// aesBits maps encryptType to a key size: "1" (or empty, the default) is
// AES-256, "2" is AES-128.
func aesBits(encryptType string) (int, error) {
	switch encryptType {
	case "", EncryptTypeAES256:
		return 256, nil
	case EncryptTypeAES128:
		return 128, nil
	default:
		return 0, paramReason(ReasonUnsupportedCipher, "encryptType", fmt.Errorf("encryptType %q: want %q or %q", encryptType, EncryptTypeAES256, EncryptTypeAES128))
	}
}

func credentialCipher(accessKey, encryptType string) (cipher.Block, error) {
	bits, err := aesBits(encryptType)
	if err != nil {
		return nil, err
	}
	key, err := DeriveAESKey([]byte(accessKey), bits)
	if err != nil {
		return nil, err
	}
	return aes.NewCipher(key)
}

// EncryptCredential encrypts a V1 credential or PII value (docs/protocol.md §4): the
// result is iv + base64(AES-CBC-PKCS5(plaintext)) with the AES key derived from
// accessKey by DeriveAESKey and the IV bytes being iv itself. encryptType is
// "1" (AES-256, also used when empty) or "2" (AES-128). iv must be 16 printable
// ASCII characters so that the receiver can split it off by length; use
// RandomIV in production and a fixed IV only in tests.
func EncryptCredential(accessKey, plaintext, encryptType, iv string) (string, error) {
	if len(iv) != IVLength {
		return "", fmt.Errorf("encrypting credential: IV must be %d characters, got %d", IVLength, len(iv))
	}
	for i := 0; i < len(iv); i++ {
		if iv[i] <= ' ' || iv[i] > '~' {
			return "", errors.New("encrypting credential: IV must be printable ASCII")
		}
	}
	block, err := credentialCipher(accessKey, encryptType)
	if err != nil {
		return "", fmt.Errorf("encrypting credential: %w", err)
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := make([]byte, len(plaintext)+pad)
	copy(buf, plaintext)
	for i := len(plaintext); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, []byte(iv)).CryptBlocks(buf, buf)
	return iv + base64.StdEncoding.EncodeToString(buf), nil
}

// DecryptCredential reverses EncryptCredential. It is strict: the base64 must
// be canonical, the ciphertext a non-empty multiple of the block size, the
// PKCS#5 padding exact and the plaintext valid UTF-8. Failures are
// CodeInvalidParam errors with reason "bad-ciphertext" (or
// "unsupported-encrypt-type") that never say which check failed, so the result
// cannot serve as a padding oracle; the caller sets Field if it wants one.
func DecryptCredential(accessKey, value, encryptType string) (string, error) {
	block, err := credentialCipher(accessKey, encryptType)
	if err != nil {
		return "", err
	}
	bad := paramReason(ReasonBadCiphertext, "", errors.New("cannot decrypt value"))
	if len(value) <= IVLength {
		return "", bad
	}
	ct, err := decodeCanonicalBase64(value[IVLength:])
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return "", bad
	}
	cipher.NewCBCDecrypter(block, []byte(value[:IVLength])).CryptBlocks(ct, ct)
	pad := int(ct[len(ct)-1])
	if pad < 1 || pad > aes.BlockSize || !bytes.Equal(ct[len(ct)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return "", bad
	}
	pt := ct[:len(ct)-pad]
	if !utf8.Valid(pt) {
		return "", bad
	}
	return string(pt), nil
}

// decodeCanonicalBase64 decodes standard, padded base64 and accepts only its
// canonical form: encoding/base64 skips CR and LF even in strict mode, so
// without this check many strings would decode to the same bytes.
func decodeCanonicalBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("line breaks in base64")
	}
	return base64.StdEncoding.Strict().DecodeString(s)
}

const ivAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// RandomIV returns 16 alphanumeric characters from crypto/rand, the IV form the
// marketplace's own Java sample uses, without modulo bias.
func RandomIV() (string, error) {
	out := make([]byte, 0, IVLength)
	var buf [32]byte
	for len(out) < IVLength {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("generating IV: %w", err)
		}
		for _, b := range buf {
			// 248 = 4*62: bytes at or above it would bias the first letters.
			if b < 248 && len(out) < IVLength {
				out = append(out, ivAlphabet[int(b)%len(ivAlphabet)])
			}
		}
	}
	return string(out), nil
}

// DecryptClientSecret is merchantkey.DecryptClientSecret answered in the protocol's terms: a
// clientSecret that does not decrypt is a CodeInvalidParam "bad-ciphertext" error on field
// "clientSecret" that never says which check failed; an unusable key stays an untyped error.
// Several OAEP parameter sets are tried, which is safe only because kit calls are authenticated
// (x-sign) first, so a stranger cannot use the answers as a decryption oracle; call it only after
// VerifyKit.
func DecryptClientSecret(priv *rsa.PrivateKey, b64 string) (string, error) {
	pt, err := merchantkey.DecryptClientSecret(priv, b64)
	if errors.Is(err, merchantkey.ErrBadCiphertext) {
		return "", paramReason(ReasonBadCiphertext, "clientSecret", err)
	}
	return pt, err
}
