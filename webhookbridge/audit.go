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

package webhookbridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tenantry/tenantry/webhookbridge/calltime"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// codeError is a failure with the result code the marketplace must get. The code is chosen for
// the retry behaviour it causes (000005: resend later; 000002/000003: do not), reason is a short
// label for logs, and err the detail, which only ever reaches the logs.
type codeError struct {
	code   string
	reason string
	err    error
}

func (e *codeError) Error() string {
	if e.err == nil {
		return "code " + e.code + " (" + e.reason + ")"
	}
	return "code " + e.code + " (" + e.reason + "): " + e.err.Error()
}

func (e *codeError) Unwrap() error { return e.err }

func fail(code, reason string, format string, args ...any) error {
	return &codeError{code: code, reason: reason, err: fmt.Errorf(format, args...)}
}

// errInstanceNotFound answers refresh, status, upgrade, check and kit calls for an unknown instance.
var errInstanceNotFound = &codeError{code: protocol.CodeInstanceNotFound, reason: "instance-not-found", err: errors.New("no such TenantInstance")}

// codeFor maps an error to its result code. Anything not classified is an internal error
// (000005), so that the marketplace resends rather than believing a failed call succeeded; an
// API server rejecting an object as invalid is a bad parameter that resending will not fix.
func codeFor(err error) string {
	var ce *codeError
	var pe *protocol.Error
	switch {
	case err == nil:
		return protocol.CodeSuccess
	case errors.As(err, &ce):
		return ce.code
	case errors.As(err, &pe):
		return protocol.CodeOf(err)
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		return protocol.CodeInvalidParam
	}
	return protocol.CodeInternalError
}

// reasonFor is a short label of err for the audit line.
func reasonFor(err error) string {
	var ce *codeError
	var pe *protocol.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ce):
		return ce.reason
	case errors.As(err, &pe):
		return pe.Reason
	case apierrors.IsInvalid(err):
		return "invalid-object"
	case errors.Is(err, context.DeadlineExceeded):
		return "call-budget-exceeded"
	case apierrors.ReasonForError(err) != "":
		return "api-" + string(apierrors.ReasonForError(err))
	}
	// Every other untyped error comes from talking to the API server (unreachable, timeouts).
	return "api-error"
}

// logSafe returns what of err may be logged. The API server's validation errors quote rejected
// field values, which can be personal data (names, phone numbers of directory users); only the
// field paths are kept.
func logSafe(err error) string {
	var status apierrors.APIStatus
	if apierrors.IsInvalid(err) && errors.As(err, &status) {
		var fields []string
		if d := status.Status().Details; d != nil {
			for _, c := range d.Causes {
				fields = append(fields, c.Field)
			}
		}
		return fmt.Sprintf("the API server rejected the object: invalid fields %q", fields)
	}
	return err.Error()
}

// audit writes the one structured line per call and updates the call metrics. It carries the
// activity, instance, result code, latency and testFlag, and never keys, signatures, passwords,
// phone numbers or e-mail addresses.
func (s *Server) audit(ctx context.Context, c *call, code string, latency time.Duration, err error) {
	callsTotal.WithLabelValues(c.activity, code).Inc()
	callDurationSeconds.WithLabelValues(c.activity).Observe(latency.Seconds())
	if t := calltime.From(ctx); t != nil {
		callOwnDurationSeconds.WithLabelValues(c.activity).Observe(t.Own(latency).Seconds())
		callQueuedDurationSeconds.WithLabelValues(c.activity).Observe(t.Of(calltime.Queue).Seconds())
	}
	if c.ignored != "" {
		ignoredCallsTotal.WithLabelValues(c.activity, c.ignored).Inc()
	}
	log := logr.FromContextOrDiscard(ctx)
	kv := []any{"activity", c.activity, "instanceId", c.instanceID, "resultCode", code,
		"latency", latency.String(), "testFlag", c.testFlag}
	if c.ignored != "" {
		kv = append(kv, "ignored", c.ignored)
	}
	if err != nil {
		kv = append(kv, "reason", reasonFor(err))
		if f := protocol.FieldOf(err); f != "" {
			kv = append(kv, "field", f)
		}
		if code == protocol.CodeInternalError {
			log.Error(errors.New(logSafe(err)), "Marketplace call failed", kv...)
			return
		}
		kv = append(kv, "detail", logSafe(err))
	}
	log.Info("Marketplace call", kv...)
}
