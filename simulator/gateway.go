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
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// This file verifies Huawei API-Gateway AK/SK signatures ("SDK-HMAC-SHA256"),
// written from the published scheme rather than taken from the SDK, so that
// the bridge's SDK-signed Order Query calls are checked by an independent
// implementation.

const (
	gatewayAlgorithm  = "SDK-HMAC-SHA256"
	gatewayDateHeader = "X-Sdk-Date"
	gatewayDateLayout = "20060102T150405Z"
	// gatewayContentHeader lets a caller sign "UNSIGNED-PAYLOAD" instead of
	// the body hash (the SDK does so for non-JSON bodies).
	gatewayContentHeader = "X-Sdk-Content-Sha256"
	unsignedPayload      = "UNSIGNED-PAYLOAD"

	// DefaultGatewaySkew is the clock skew the API gateway tolerates.
	DefaultGatewaySkew = 15 * time.Minute
)

var errGatewayAuth = errors.New("api gateway authentication failed")

// gatewayAuth is the parsed Authorization header.
type gatewayAuth struct {
	access        string
	signedHeaders []string
	signature     string
}

func parseGatewayAuthorization(h string) (gatewayAuth, error) {
	var a gatewayAuth
	rest, ok := strings.CutPrefix(h, gatewayAlgorithm+" ")
	if !ok {
		return a, fmt.Errorf("%w: authorization is not %q", errGatewayAuth, gatewayAlgorithm)
	}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, fmt.Errorf("%w: malformed authorization field %q", errGatewayAuth, part)
		}
		switch k {
		case "Access":
			a.access = v
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	if a.access == "" || a.signature == "" || len(a.signedHeaders) == 0 {
		return a, fmt.Errorf("%w: authorization lacks Access, SignedHeaders or Signature", errGatewayAuth)
	}
	return a, nil
}

// verifyGatewayRequest checks r (whose body has been read into body) against
// the secret key returned by lookup for the request's access key, and returns
// that access key. now and maxSkew bound the X-Sdk-Date header.
func verifyGatewayRequest(r *http.Request, body []byte, lookup func(ak string) (string, bool), now time.Time, maxSkew time.Duration) (string, error) {
	auth, err := parseGatewayAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return "", err
	}
	sk, ok := lookup(auth.access)
	if !ok {
		return "", fmt.Errorf("%w: unknown access key %q", errGatewayAuth, auth.access)
	}

	date := r.Header.Get(gatewayDateHeader)
	t, err := time.Parse(gatewayDateLayout, date)
	if err != nil {
		return "", fmt.Errorf("%w: bad %s %q", errGatewayAuth, gatewayDateHeader, date)
	}
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return "", fmt.Errorf("%w: %s %q is %s away from now", errGatewayAuth, gatewayDateHeader, date, d.Round(time.Second))
	}

	signsDate := false
	for _, h := range auth.signedHeaders {
		if h != strings.ToLower(h) {
			return "", fmt.Errorf("%w: signed header %q is not lower case", errGatewayAuth, h)
		}
		if h == strings.ToLower(gatewayDateHeader) {
			signsDate = true
		}
	}
	if !sort.StringsAreSorted(auth.signedHeaders) {
		return "", fmt.Errorf("%w: signed headers are not sorted", errGatewayAuth)
	}
	// Without the date among the signed headers a captured request could be
	// replayed forever with a fresh date.
	if !signsDate {
		return "", fmt.Errorf("%w: %s is not signed", errGatewayAuth, gatewayDateHeader)
	}

	canonical, err := gatewayCanonicalRequest(r, body, auth.signedHeaders)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(canonical))
	stringToSign := gatewayAlgorithm + "\n" + date + "\n" + hex.EncodeToString(sum[:])
	mac := hmac.New(sha256.New, []byte(sk))
	mac.Write([]byte(stringToSign))
	want := hex.EncodeToString(mac.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(auth.signature))) != 1 {
		return "", fmt.Errorf("%w: signature mismatch", errGatewayAuth)
	}
	return auth.access, nil
}

// gatewayCanonicalRequest builds
//
//	method \n canonicalURI \n canonicalQuery \n canonicalHeaders \n signedHeaders \n hex(sha256(body))
//
// where canonicalURI is the escaped path with a trailing slash always added,
// and canonicalHeaders ends with its own newline (so a blank line follows).
func gatewayCanonicalRequest(r *http.Request, body []byte, signedHeaders []string) (string, error) {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')

	segments := strings.Split(r.URL.Path, "/")
	for i, s := range segments {
		segments[i] = gatewayEscape(s)
	}
	path := strings.Join(segments, "/")
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	b.WriteString(path)
	b.WriteByte('\n')

	query := r.URL.Query()
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		values := append([]string(nil), query[k]...)
		sort.Strings(values)
		for _, v := range values {
			pairs = append(pairs, gatewayEscape(k)+"="+gatewayEscape(v))
		}
	}
	b.WriteString(strings.Join(pairs, "&"))
	b.WriteByte('\n')

	for _, h := range signedHeaders {
		var values []string
		if h == "host" {
			values = []string{r.Host}
		} else {
			values = append(values, r.Header.Values(h)...)
		}
		if len(values) == 0 {
			return "", fmt.Errorf("%w: signed header %q is missing", errGatewayAuth, h)
		}
		sort.Strings(values)
		for _, v := range values {
			b.WriteString(h + ":" + strings.TrimSpace(v) + "\n")
		}
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')

	payloadHash := ""
	for _, h := range signedHeaders {
		if h == strings.ToLower(gatewayContentHeader) && r.Header.Get(gatewayContentHeader) == unsignedPayload {
			payloadHash = unsignedPayload
		}
	}
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	b.WriteString(payloadHash)
	return b.String(), nil
}

// gatewayEscape percent-encodes every byte except A-Z a-z 0-9 - _ . ~ with
// upper-case hex, as the gateway scheme (RFC 3986 unreserved) requires.
func gatewayEscape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
