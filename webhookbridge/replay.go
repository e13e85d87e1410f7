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
	"time"

	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// ReplayStore is the replay memory the bridge's replicas share (docs/protocol.md §2.1). Each
// replica's verifier already refuses a signature it has seen; that memory is per replica, so
// the bridge also claims, here, the signature of every call whose answer would disclose a
// secret — a queryInstance, and a V1 newInstance or queryInstance, which carry the tenant's
// admin account — before answering it. A replay of such a call to any replica, within the
// timestamp window, then finds the claim taken and is refused 000001 with nothing disclosed.
type ReplayStore interface {
	// Claim records key until expires, atomically: it returns nil for the first claim of key,
	// an error matching ErrReplayed when key is already claimed, and any other error when the
	// store could not be asked (the call is then answered 000005 and resent).
	Claim(ctx context.Context, key string, expires time.Time) error
}

// ErrReplayed is what a ReplayStore returns for a key claimed before.
var ErrReplayed = errors.New("replay: the call's signature was claimed before")

// reasonReplayStoreUnavailable is the audit reason of a secret-disclosing call answered 000005 because
// the shared replay store could not be asked: never answered with the secret unverified-as-unique.
const reasonReplayStoreUnavailable = "replay-store-unavailable"

// disclosesSecret reports whether the answer to a verified call of family and activity can
// carry a secret (the tenant's admin account), and so must be claimed in the shared replay
// store before it is answered. State-changing calls need no claim: a replay of one changes
// nothing (docs/protocol.md §6.3, §6.6, §6.11).
func disclosesSecret(family, activity string) bool {
	switch {
	case activity == protocol.ActivityQueryInstance:
		return true
	case family == familyV1 && activity == protocol.ActivityNewInstance:
		return true
	}
	return false
}

// claimDisclosure claims c's replay key in the shared store when the call's answer would
// disclose a secret. Without a store (a single replica, or tests) the verifier's memory is the
// only one.
func (s *Server) claimDisclosure(ctx context.Context, c *call, activity, key string) error {
	if s.replays == nil || !disclosesSecret(c.family, activity) {
		return nil
	}
	err := s.replays.Claim(ctx, key, s.clock.Now().Add(2*s.window()))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrReplayed):
		verificationFailuresTotal.WithLabelValues(protocol.ReasonReplayedNonce).Inc()
		return protocol.AuthError(protocol.ReasonReplayedNonce)
	default:
		verificationFailuresTotal.WithLabelValues(reasonReplayStoreUnavailable).Inc()
		return &codeError{code: protocol.CodeInternalError, reason: reasonReplayStoreUnavailable, err: err}
	}
}
