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
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// FieldSaasExtendParams is the V1 newInstance parameter carrying the buyer's
// merchant-defined purchase parameters; errors of DecodeSaasExtendParams name it.
const FieldSaasExtendParams = "saasExtendParams"

// MaxSaasExtendParams bounds the number of parameters DecodeSaasExtendParams
// returns. A product defines a handful; the bound keeps a hostile call from
// turning one query parameter into thousands of entries in logs or objects.
const MaxSaasExtendParams = 64

// Param is one merchant-defined purchase parameter ({"name","value"}), the
// shape of both V1 saasExtendParams entries and Order Query extendParams, so a
// V1 purchase and a V2 purchase configure a tenant from the same list (for
// example the Dedicated-domain parameter).
type Param struct {
	Name  string
	Value string
}

// DecodeSaasExtendParams decodes a V1 newInstance saasExtendParams value
// (docs/protocol.md §2.3, §7): a base64-encoded JSON array of {"name","value"}
// objects, the same shape as Order Query's extendParams. Call it on
// NewInstance.SaasExtendParams after DecodeV1; V2 purchases get their
// parameters from Order Query instead.
//
// Tolerated, because senders and test tools differ (decisions beyond the
// public guide): standard or URL-safe base64, padded or not, with '+' turned
// into a space by a careless URL encoder; plain JSON (a value starting with
// '['); a value that is a JSON number or boolean (kept as its literal text); a
// null value (empty); unknown members of an entry (ignored). An empty or blank
// s yields no parameters and no error.
//
// Refused, each as a CodeInvalidParam *Error naming saasExtendParams (answer
// 000002): anything that is neither base64 nor JSON, invalid UTF-8, a JSON
// value that is not an array of objects, an entry without a name or with a
// name or value that breaks the identifier or text rules of DecodeBasic
// (control characters, bidi overrides; names without whitespace, at most
// MaxFieldLength characters; values at most MaxURLLength), repeated keys
// within an entry, and more than MaxSaasExtendParams entries. Entries keep
// their received order and repeated names are kept, so the caller applies the
// same first-match rule it applies to Order Query extendParams.
func DecodeSaasExtendParams(s string) ([]Param, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	data := []byte(s)
	if s[0] != '[' {
		dec, err := decodeBase64Tolerant(s)
		if err != nil {
			return nil, ParamError(FieldSaasExtendParams, "value is neither base64 nor a JSON array: %w", err)
		}
		data = bytes.TrimSpace(dec)
	}
	elems, err := arrayElements(data)
	if err != nil {
		return nil, ParamError(FieldSaasExtendParams, "value is not a JSON array: %w", err)
	}
	if len(elems) > MaxSaasExtendParams {
		return nil, ParamError(FieldSaasExtendParams, "%d parameters, at most %d are allowed", len(elems), MaxSaasExtendParams)
	}
	params := make([]Param, 0, len(elems))
	for i, e := range elems {
		p, err := decodeParam(e, fmt.Sprintf("%s[%d]", FieldSaasExtendParams, i))
		if err != nil {
			return nil, err
		}
		params = append(params, p)
	}
	return params, nil
}

// decodeBase64Tolerant decodes standard or URL-safe base64, padded or not.
// Spaces become '+' first: base64 has no space, so a space can only be a '+'
// that a form encoder turned into one.
func decodeBase64Tolerant(s string) ([]byte, error) {
	s = strings.ReplaceAll(s, " ", "+")
	if strings.ContainsAny(s, "\t\r\n") {
		return nil, errors.New("value contains line breaks or tabs")
	}
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if !strings.HasSuffix(s, "=") {
		enc = enc.WithPadding(base64.NoPadding)
	}
	return enc.Strict().DecodeString(s)
}

// decodeParam decodes one {"name","value"} entry; field names it in errors.
func decodeParam(raw []byte, field string) (Param, error) {
	src, err := objectSource(raw, field+".", field)
	if err != nil {
		return Param{}, ParamError(FieldSaasExtendParams, "%w", err)
	}
	r := &reader{src: src}
	p := Param{Name: r.get("name", true, kindID, MaxFieldLength)}
	if r.err != nil {
		return Param{}, ParamError(FieldSaasExtendParams, "%w", r.err)
	}
	v, ok := src.m["value"]
	if !ok {
		return p, nil
	}
	text := string(v)
	switch v[0] {
	case '"':
		if err := json.Unmarshal(v, &text); err != nil {
			return Param{}, ParamError(FieldSaasExtendParams, "%s.value: decoding string: %w", field, err)
		}
	case '{', '[':
		return Param{}, ParamError(FieldSaasExtendParams, "%s.value must be a JSON scalar, got %s", field, jsonKind(v))
	}
	if err := checkChars(text, kindText, MaxURLLength); err != nil {
		return Param{}, ParamError(FieldSaasExtendParams, "%s.value: %w", field, err)
	}
	p.Value = text
	return p, nil
}
