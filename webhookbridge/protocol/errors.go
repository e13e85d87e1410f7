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
	"errors"
	"fmt"
)

// Reasons are short machine-friendly strings. The bridge uses them as a metrics
// label and in logs; they never reach the marketplace, which only sees the code
// and its generic message.
const (
	ReasonMissingSignature  = "missing-signature"
	ReasonBadSignature      = "bad-signature"
	ReasonMissingTimestamp  = "missing-timestamp"
	ReasonBadTimestamp      = "bad-timestamp"
	ReasonStaleTimestamp    = "stale-timestamp"
	ReasonMissingNonce      = "missing-nonce"
	ReasonBadNonce          = "bad-nonce"
	ReasonReplayedNonce     = "replayed-nonce"
	ReasonDuplicateParam    = "duplicate-parameter"
	ReasonBodyTooLarge      = "body-too-large"
	ReasonMalformedJSON     = "malformed-json"
	ReasonDuplicateKey      = "duplicate-key"
	ReasonTooDeep           = "too-deep"
	ReasonMissingField      = "missing-field"
	ReasonInvalidField      = "invalid-field"
	ReasonUnknownActivity   = "unknown-activity"
	ReasonTooManyIDs        = "too-many-ids"
	ReasonBadCiphertext     = "bad-ciphertext"
	ReasonNoKeys            = "no-keys"
	ReasonNonceCacheFull    = "nonce-cache-full"
	ReasonInternal          = "internal"
	ReasonUnknownKitName    = "unknown-kit-name"
	ReasonUnsupportedCipher = "unsupported-encrypt-type"
	// ReasonVerificationBusy: the body's raw signature did not match and every slot for
	// building canonical payloads stayed taken; the call is answered as retryable.
	ReasonVerificationBusy = "verification-busy"
)

// Error is the typed error of this package. It carries the result code the
// bridge must answer with, so the bridge never has to map error strings to
// codes, and a Reason for metrics. Field names the offending request field for
// parameter errors.
type Error struct {
	// Code is a result code of docs/protocol.md §6.1.
	Code string
	// Reason is a short machine-friendly label, e.g. "bad-signature".
	Reason string
	// Field is the request field at fault, if any (e.g. "instanceId",
	// "userList[3].role").
	Field string
	// Err is the underlying detail, for logs only.
	Err error
}

// Error implements error. The text is for logs; it never contains a signature
// or key, only the code, reason, field and detail.
func (e *Error) Error() string {
	s := "code " + e.Code + " (" + e.Reason + ")"
	if e.Field != "" {
		s += fmt.Sprintf(": field %q", e.Field)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying detail so errors.Is/As see through Error.
func (e *Error) Unwrap() error { return e.Err }

// AuthError is an authentication failure (CodeAuthFailed) with the given reason.
func AuthError(reason string) *Error {
	return &Error{Code: CodeAuthFailed, Reason: reason, Err: errors.New("authentication failed")}
}

// ParamError is an invalid-parameter failure (CodeInvalidParam) naming field,
// with reason "invalid-field" and a detail built like fmt.Errorf (so %w works).
func ParamError(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidParam, Reason: ReasonInvalidField, Field: field, Err: fmt.Errorf(format, args...)}
}

// missingField reports a mandatory field that is absent, null or empty.
func missingField(field string) *Error {
	return &Error{Code: CodeInvalidParam, Reason: ReasonMissingField, Field: field, Err: errors.New("mandatory field is missing or empty")}
}

// paramReason is a CodeInvalidParam error with a specific reason.
func paramReason(reason, field string, err error) *Error {
	return &Error{Code: CodeInvalidParam, Reason: reason, Field: field, Err: err}
}

// internalError is a CodeInternalError: the marketplace will retry.
func internalError(reason string, err error) *Error {
	return &Error{Code: CodeInternalError, Reason: reason, Err: err}
}

// CodeOf returns the result code to answer with for err: CodeSuccess for nil,
// the Code of the first *Error in the chain, and CodeInternalError for any
// other error so that unexpected failures are retried by the marketplace.
func CodeOf(err error) string {
	if err == nil {
		return CodeSuccess
	}
	var pe *Error
	if errors.As(err, &pe) && pe.Code != "" {
		return pe.Code
	}
	return CodeInternalError
}

// ReasonOf returns the Reason of the first *Error in err's chain, "" for nil
// and "internal" for untyped errors; it is meant as a bounded metrics label.
func ReasonOf(err error) string {
	if err == nil {
		return ""
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return ReasonInternal
}

// FieldOf returns the Field of the first *Error in err's chain, or "".
func FieldOf(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Field
	}
	return ""
}
