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
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// This file signs calls the way the marketplace does (docs/protocol.md §2, §3).
// It is deliberately a second, independent implementation: the bridge's
// verifier lives in webhookbridge/protocol and neither imports the other, so
// a mistake in one shows up as a failed call against the other.

// canonicalPayload re-emits a JSON object with its top-level keys sorted
// (byte order), top-level nulls dropped, nested values compacted in received
// order, and no HTML escaping.
func canonicalPayload(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		return nil, fmt.Errorf("body is not a JSON object: %w", err)
	}
	if fields == nil {
		return nil, errors.New("body is not a JSON object")
	}
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		if string(bytes.TrimSpace(v)) == "null" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)

	var out bytes.Buffer
	out.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			out.WriteByte(',')
		}
		if err := writeJSONString(&out, k); err != nil {
			return nil, err
		}
		out.WriteByte(':')
		if err := json.Compact(&out, fields[k]); err != nil {
			return nil, fmt.Errorf("compacting field %q: %w", k, err)
		}
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

func writeJSONString(buf *bytes.Buffer, s string) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode appends a newline
	return nil
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// querySignature is §2.1: an inner HMAC over the canonical payload, then an
// outer HMAC over key + nonce + timestamp + inner, both hex.
func querySignature(accessKey, nonce, timestamp string, body []byte) (string, error) {
	payload, err := canonicalPayload(body)
	if err != nil {
		return "", err
	}
	inner := hex.EncodeToString(hmacSHA256([]byte(accessKey), payload))
	return hex.EncodeToString(hmacSHA256([]byte(accessKey), []byte(accessKey+nonce+timestamp+inner))), nil
}

// kitSignature is §2.2: one HMAC over key + nonce + timestamp + payload.
func kitSignature(kitKey, nonce, timestamp string, body []byte) (string, error) {
	payload, err := canonicalPayload(body)
	if err != nil {
		return "", err
	}
	msg := kitKey + nonce + timestamp + string(payload)
	return hex.EncodeToString(hmacSHA256([]byte(kitKey), []byte(msg))), nil
}

// v1AuthToken is §2.3: base64 HMAC keyed with accessKey + timeStamp over the
// sorted k=v pairs of every parameter but authToken, values unescaped.
func v1AuthToken(accessKey string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "authToken" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		for _, v := range params[k] {
			pairs = append(pairs, k+"="+v)
		}
	}
	key := accessKey + params.Get("timeStamp")
	return base64.StdEncoding.EncodeToString(hmacSHA256([]byte(key), []byte(strings.Join(pairs, "&"))))
}

// bodySign is the §3 response signature value (without the header framing).
func bodySign(accessKey string, body []byte) string {
	return base64.StdEncoding.EncodeToString(hmacSHA256([]byte(accessKey), body))
}

var errBodySign = errors.New("bad Body-Sign response header")

// verifyBodySign checks a Body-Sign header of the form
//
//	sign_type="HMAC-SHA256", signature= "<base64>"
//
// against the exact response bytes.
func verifyBodySign(accessKey, header string, body []byte) error {
	var signType, signature string
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: malformed field %q", errBodySign, part)
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.TrimSpace(k) {
		case "sign_type":
			signType = v
		case "signature":
			signature = v
		}
	}
	if signType != "HMAC-SHA256" {
		return fmt.Errorf("%w: sign_type %q", errBodySign, signType)
	}
	want := bodySign(accessKey, body)
	if subtle.ConstantTimeCompare([]byte(want), []byte(signature)) != 1 {
		return fmt.Errorf("%w: signature does not match the body", errBodySign)
	}
	return nil
}
