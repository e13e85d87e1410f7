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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxJSONDepth bounds the nesting of request bodies. Marketplace bodies are at
// most three levels deep; the bound keeps the recursive re-emitter's stack small
// whatever a caller sends within the body cap.
const MaxJSONDepth = 64

// member is one top-level member of a JSON object, its value re-emitted
// compactly.
type member struct {
	key    string
	value  []byte
	isNull bool
}

// CanonicalPayload returns the payload the basic and kit signatures are
// computed over (docs/protocol.md §2.1): the body's top-level object with its keys
// sorted by byte order, top-level null members dropped, and every value
// re-emitted compactly in received order, number literals exactly as received,
// strings with only the escapes JSON requires (", \ and control characters), no
// HTML escaping and non-ASCII as raw UTF-8.
//
// Decisions beyond docs/protocol.md (they make the payload unambiguous, so the signed
// bytes and the decoded fields can never disagree):
//   - the body must be valid UTF-8 holding exactly one JSON object;
//   - a key repeated within any one object is rejected ("duplicate-key"), since
//     decoders disagree on which duplicate wins;
//   - nesting deeper than MaxJSONDepth is rejected ("too-deep").
//
// Every failure is a CodeInvalidParam *Error. The function is idempotent: the
// canonical payload of a canonical payload is itself.
func CanonicalPayload(body []byte) ([]byte, error) {
	members, err := topLevelMembers(body)
	if err != nil {
		return nil, err
	}
	return appendSortedObject(nil, members, true), nil
}

// SortedJSON re-emits a JSON value compactly with the keys of every object, at
// every depth, sorted by byte order; number literals are kept as received and
// nulls are kept. It is the "body with sorted keys" of the usage-push signature
// (docs/protocol.md §7, vector 7). The same strictness as CanonicalPayload applies,
// except that any JSON value is allowed at the top.
func SortedJSON(body []byte) ([]byte, error) {
	dec, err := newStrictDecoder(body)
	if err != nil {
		return nil, err
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed(err)
	}
	out, err := emitValue(dec, nil, tok, true, 1)
	if err != nil {
		return nil, err
	}
	if err := expectEOF(dec); err != nil {
		return nil, err
	}
	return out, nil
}

// topLevelMembers parses body as one JSON object and returns its members in
// received order with their values normalised.
func topLevelMembers(body []byte) ([]member, error) {
	dec, err := newStrictDecoder(body)
	if err != nil {
		return nil, err
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, paramReason(ReasonMalformedJSON, "", errors.New("body is not a JSON object"))
	}
	members, err := readMembers(dec, false, 1)
	if err != nil {
		return nil, err
	}
	if err := expectEOF(dec); err != nil {
		return nil, err
	}
	return members, nil
}

func newStrictDecoder(body []byte) (*json.Decoder, error) {
	if !utf8.Valid(body) {
		return nil, paramReason(ReasonMalformedJSON, "", errors.New("body is not valid UTF-8"))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return dec, nil
}

func malformed(err error) *Error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return paramReason(ReasonMalformedJSON, "", fmt.Errorf("parsing JSON: %w", err))
}

func expectEOF(dec *json.Decoder) error {
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return malformed(err)
	}
	return paramReason(ReasonMalformedJSON, "", fmt.Errorf("unexpected data %q after the JSON value", fmt.Sprint(tok)))
}

// readMembers reads the members of an object whose '{' was consumed, up to and
// including its '}', rejecting duplicate keys.
func readMembers(dec *json.Decoder, sortNested bool, depth int) ([]member, error) {
	if depth > MaxJSONDepth {
		return nil, paramReason(ReasonTooDeep, "", fmt.Errorf("JSON nested deeper than %d", MaxJSONDepth))
	}
	var members []member
	var seen map[string]struct{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed(err)
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return members, nil
		}
		key, ok := tok.(string)
		if !ok {
			return nil, paramReason(ReasonMalformedJSON, "", fmt.Errorf("object key is %T, not a string", tok))
		}
		if seen == nil {
			seen = make(map[string]struct{})
		}
		if _, dup := seen[key]; dup {
			return nil, paramReason(ReasonDuplicateKey, key, fmt.Errorf("key %q repeated", key))
		}
		seen[key] = struct{}{}
		vtok, err := dec.Token()
		if err != nil {
			return nil, malformed(err)
		}
		val, err := emitValue(dec, nil, vtok, sortNested, depth+1)
		if err != nil {
			return nil, err
		}
		members = append(members, member{key: key, value: val, isNull: vtok == nil})
	}
}

// emitValue appends the compact form of the value starting with tok.
func emitValue(dec *json.Decoder, out []byte, tok json.Token, sortKeys bool, depth int) ([]byte, error) {
	switch v := tok.(type) {
	case nil:
		return append(out, "null"...), nil
	case bool:
		if v {
			return append(out, "true"...), nil
		}
		return append(out, "false"...), nil
	case json.Number:
		return append(out, v...), nil
	case string:
		return appendJSONString(out, v), nil
	case json.Delim:
		switch v {
		case '{':
			members, err := readMembers(dec, sortKeys, depth)
			if err != nil {
				return nil, err
			}
			if sortKeys {
				return appendSortedObject(out, members, false), nil
			}
			return appendObject(out, members), nil
		case '[':
			if depth > MaxJSONDepth {
				return nil, paramReason(ReasonTooDeep, "", fmt.Errorf("JSON nested deeper than %d", MaxJSONDepth))
			}
			out = append(out, '[')
			for i := 0; ; i++ {
				t, err := dec.Token()
				if err != nil {
					return nil, malformed(err)
				}
				if d, ok := t.(json.Delim); ok && d == ']' {
					return append(out, ']'), nil
				}
				if i > 0 {
					out = append(out, ',')
				}
				out, err = emitValue(dec, out, t, sortKeys, depth+1)
				if err != nil {
					return nil, err
				}
			}
		}
	}
	return nil, paramReason(ReasonMalformedJSON, "", fmt.Errorf("unexpected JSON token %q", fmt.Sprint(tok)))
}

func appendObject(out []byte, members []member) []byte {
	out = append(out, '{')
	for i, m := range members {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendJSONString(out, m.key)
		out = append(out, ':')
		out = append(out, m.value...)
	}
	return append(out, '}')
}

func appendSortedObject(out []byte, members []member, dropNulls bool) []byte {
	sorted := make([]member, 0, len(members))
	for _, m := range members {
		if dropNulls && m.isNull {
			continue
		}
		sorted = append(sorted, m)
	}
	// Byte order of the UTF-8 keys, as docs/protocol.md §2.1 says (Go's string
	// comparison is exactly that).
	slices.SortFunc(sorted, func(a, b member) int { return strings.Compare(a.key, b.key) })
	return appendObject(out, sorted)
}

// appendJSONString quotes s with only the escapes JSON requires: the quote, the
// backslash and control characters below U+0020. Everything else, including
// '<', '>', '&', '/', DEL, U+2028/U+2029 and all non-ASCII, is written raw,
// which is what a Java serialiser without HTML escaping produces.
func appendJSONString(out []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		out = append(out, s[start:i]...)
		switch c {
		case '"':
			out = append(out, '\\', '"')
		case '\\':
			out = append(out, '\\', '\\')
		case '\b':
			out = append(out, '\\', 'b')
		case '\f':
			out = append(out, '\\', 'f')
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		default:
			out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}

// arrayElements parses data as one JSON array (strictly, as CanonicalPayload
// does) and returns its elements re-emitted compactly.
func arrayElements(data []byte) ([][]byte, error) {
	dec, err := newStrictDecoder(data)
	if err != nil {
		return nil, err
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, paramReason(ReasonMalformedJSON, "", errors.New("not a JSON array"))
	}
	var elems [][]byte
	for {
		t, err := dec.Token()
		if err != nil {
			return nil, malformed(err)
		}
		if d, ok := t.(json.Delim); ok && d == ']' {
			break
		}
		e, err := emitValue(dec, nil, t, false, 2)
		if err != nil {
			return nil, err
		}
		elems = append(elems, e)
	}
	if err := expectEOF(dec); err != nil {
		return nil, err
	}
	return elems, nil
}
