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
	"net/http"
	"strings"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// processBasic verifies a V2 basic call over its query string and the exact body bytes, and
// only then decodes the body and acts on it.
func (s *Server) processBasic(ctx context.Context, r *http.Request, body []byte, c *call) (protocol.Response, error) {
	q := r.URL.Query()
	idx, err := s.verifier.VerifyBasicKey(q, body)
	if err := verified(c, s.verifier.Keys, idx, err); err != nil {
		return protocol.Response{}, err
	}
	sent, err := protocol.BasicSentAt(q)
	if err != nil {
		return protocol.Response{}, fail(protocol.CodeInvalidParam, protocol.ReasonBadTimestamp, "reading send time: %w", err)
	}
	req, err := protocol.DecodeBasic(body)
	if err != nil {
		return protocol.Response{}, err
	}
	c.activity, c.testFlag, c.sentAt = req.Activity, req.TestFlag, sent
	if err := s.claimDisclosure(ctx, c, req.Activity, protocol.BasicReplayKey(q)); err != nil {
		return protocol.Response{}, err
	}
	return s.dispatch(ctx, req, c)
}

// dispatch runs the handler of a decoded basic or V1 call. Each handler reads the instance,
// decides with a function of package policy and writes the decision (mutateInstance); a
// debug call (testFlag=1) runs the same course with server-side dry runs and is answered as on
// success (see debugOr).
func (s *Server) dispatch(ctx context.Context, req protocol.Request, c *call) (protocol.Response, error) {
	var (
		answer protocol.Response
		err    error
	)
	switch req.Activity {
	case protocol.ActivityNewInstance:
		answer, err = s.handleNewInstance(ctx, c, req.NewInstance)
	case protocol.ActivityQueryInstance:
		answer, err = s.handleQuery(ctx, c, req.QueryInstance)
	case protocol.ActivityRefreshInstance:
		answer, err = s.handleRefresh(ctx, c, req.RefreshInstance)
	case protocol.ActivityUpdateInstanceStatus:
		answer, err = s.handleStatus(ctx, c, req.UpdateInstanceStatus)
	case protocol.ActivityUpgradeInstance:
		answer, err = s.handleUpgrade(ctx, c, req.UpgradeInstance)
	case protocol.ActivityChangeInstanceCheck:
		answer, err = s.handleChangeCheck(ctx, c, req.ChangeInstanceCheck)
	case protocol.ActivityReleaseInstance:
		answer, err = s.handleRelease(ctx, c, req.ReleaseInstance)
	default:
		return protocol.Response{}, fail(protocol.CodeInvalidParam, protocol.ReasonUnknownActivity, "unknown activity %q", req.Activity)
	}
	if q, ok := errors.AsType[*quantityError](err); ok {
		// Answered with a message saying what is wrong with the order, which the marketplace
		// shows the seller; the audit line has the code, this line the reason.
		logr.FromContextOrDiscard(ctx).Info("Refusing a call whose order quantity is invalid",
			"instanceId", c.instanceID, "reason", reasonInvalidQuantity, "detail", q.Error())
		answer = protocol.NewResponse(protocol.CodeInvalidParam)
		answer.ResultMsg = "invalid parameter: " + q.Error() + "."
		return answer, nil
	}
	return answer, err
}

func success() protocol.Response { return protocol.NewResponse(protocol.CodeSuccess) }

// reasonInvalidQuantity labels a linearValue that is no quantity (docs/protocol.md §6.8).
const reasonInvalidQuantity = "invalid_quantity"

// quantityError refuses an order whose linearValue is not a whole number from 1 to
// policy.MaxQuantity: 000002, nothing written, and an answer saying so.
type quantityError struct{ err error }

func (e *quantityError) Error() string { return e.err.Error() }
func (e *quantityError) Unwrap() error { return e.err }

// debugOr finishes a call whose real course ended in err. A real call (testFlag=0) returns err.
// A debug call (testFlag=1, docs/protocol.md §6.5) is answered as the real call would have been
// on success — the console's debug tool and the marketplace's dial tests must pass whether or
// not the instance, the order or a plan exists — and what the real call would have refused is
// reported as a pre-flight finding (log, metric by reason, Event on ti when there is one).
// Failures to reach the API server stay failures: they are not something the real call would
// have refused, and the debug tool retries them like the real one.
func (s *Server) debugOr(ctx context.Context, c *call, ti *tenantryv1alpha1.TenantInstance, onSuccess protocol.Response, err error) (protocol.Response, error) {
	if err == nil {
		return onSuccess, nil
	}
	if !c.testFlag {
		return protocol.Response{}, err
	}
	reason, ok := preflightReason(err)
	if !ok {
		return protocol.Response{}, err
	}
	s.preflight(ctx, ti, reason, "%s", findingOf(c, reason, err))
	return onSuccess, nil
}

// preflightReason is the bounded metric label of a refusal ("order_not_found", "unknown_sku",
// "instance_not_found", ...), and false for an error that is no refusal (the API server
// unreachable, the call budget exhausted).
func preflightReason(err error) (string, bool) {
	var ce *codeError
	var pe *protocol.Error
	var qe *quantityError
	switch {
	case errors.As(err, &qe):
		return reasonInvalidQuantity, true
	case errors.As(err, &ce):
		return strings.ReplaceAll(ce.reason, "-", "_"), true
	case errors.As(err, &pe):
		return strings.ReplaceAll(pe.Reason, "-", "_"), true
	case apierrors.IsInvalid(err):
		return "invalid_object", true
	}
	return "", false
}

// findingOf says what the seller has to fix, without personal data: order ids, SKUs, plan and
// instance names only.
func findingOf(c *call, reason string, err error) string {
	switch reason {
	case "instance_not_found":
		return fmt.Sprintf("no TenantInstance %q exists; a real call would be answered %s", c.instanceID, protocol.CodeInstanceNotFound)
	case "order_not_found":
		return "Order Query does not know the order line; a real purchase or upgrade would be answered " + protocol.CodeInvalidParam
	case "order_query_failed":
		return "Order Query failed; a real call would be answered " + protocol.CodeInternalError + " and resent"
	case "invalid_object":
		return logSafe(err)
	}
	return err.Error()
}
