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
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
)

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// basicMAC is the raw HMAC behind SignBasic (docs/protocol.md §2.1):
// HMAC(key, key + nonce + timestamp + lowerhex(HMAC(key, payload))).
func basicMAC(key, nonce, timestamp string, payload []byte) []byte {
	inner := hex.EncodeToString(hmacSHA256([]byte(key), payload))
	msg := make([]byte, 0, len(key)+len(nonce)+len(timestamp)+len(inner))
	msg = append(msg, key...)
	msg = append(msg, nonce...)
	msg = append(msg, timestamp...)
	msg = append(msg, inner...)
	return hmacSHA256([]byte(key), msg)
}

// kitMAC is the raw HMAC behind SignKit (docs/protocol.md §2.2): like basicMAC but
// with the payload itself in place of the inner hash.
func kitMAC(key, nonce, timestamp string, payload []byte) []byte {
	msg := make([]byte, 0, len(key)+len(nonce)+len(timestamp)+len(payload))
	msg = append(msg, key...)
	msg = append(msg, nonce...)
	msg = append(msg, timestamp...)
	msg = append(msg, payload...)
	return hmacSHA256([]byte(key), msg)
}

// SignBasic returns the lowercase-hex query-string signature of a basic
// lifecycle call (docs/protocol.md §2.1). payload is normally CanonicalPayload of
// the body; timestamp is used exactly as sent. The bridge's tests and the
// debug tooling use it to produce calls the Verifier accepts.
func SignBasic(key, nonce, timestamp string, payload []byte) string {
	return hex.EncodeToString(basicMAC(key, nonce, timestamp, payload))
}

// SignKit returns the lowercase-hex x-sign header of a kit call (docs/protocol.md
// §2.2), which unlike SignBasic has no inner hash.
func SignKit(key, nonce, timestamp string, payload []byte) string {
	return hex.EncodeToString(kitMAC(key, nonce, timestamp, payload))
}

// BodySign returns the full Body-Sign header value for a response (docs/protocol.md
// §3), including the quotes and the space after "signature=" that the format
// requires. body must be exactly the bytes written to the wire.
func BodySign(key string, body []byte) string {
	sig := base64.StdEncoding.EncodeToString(hmacSHA256([]byte(key), body))
	return `sign_type="HMAC-SHA256", signature= "` + sig + `"`
}

// v1Message is the string signed by V1AuthToken: every parameter except
// authToken, sorted by name, "name=value" with values as decoded, joined by
// '&'. A repeated parameter contributes one pair per value, in received order
// (VerifyV1 rejects repeats before this matters).
func v1Message(params url.Values) string {
	names := make([]string, 0, len(params))
	for name := range params {
		if name != ParamAuthToken {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		for _, v := range params[name] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(name)
			b.WriteByte('=')
			b.WriteString(v)
		}
	}
	return b.String()
}

func v1MAC(key, timeStamp string, params url.Values) []byte {
	return hmacSHA256([]byte(key+timeStamp), []byte(v1Message(params)))
}

// V1AuthToken returns the legacy V1 authToken (docs/protocol.md §2.3):
// base64(HMAC-SHA256(key = accessKey + timeStamp, msg = sorted params)).
// params are the decoded query parameters as sent, including timeStamp itself;
// authToken, if present, is ignored.
func V1AuthToken(key, timeStamp string, params url.Values) string {
	return base64.StdEncoding.EncodeToString(v1MAC(key, timeStamp, params))
}

// SignUsagePush returns the signature header of a usage push (docs/protocol.md §7):
// base64(HMAC-SHA256(key, "ts=<ts>&nonce=<nonce>&body=<body with every
// object's keys sorted>")). The body is re-emitted with SortedJSON, so the
// caller may marshal it in any key order but must send the bytes it signed —
// use SortedJSON's output as the request body.
func SignUsagePush(key, ts, nonce string, body []byte) (string, error) {
	sorted, err := SortedJSON(body)
	if err != nil {
		return "", err
	}
	msg := make([]byte, 0, len(ts)+len(nonce)+len(sorted)+16)
	msg = append(msg, "ts="...)
	msg = append(msg, ts...)
	msg = append(msg, "&nonce="...)
	msg = append(msg, nonce...)
	msg = append(msg, "&body="...)
	msg = append(msg, sorted...)
	return base64.StdEncoding.EncodeToString(hmacSHA256([]byte(key), msg)), nil
}
