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
	"fmt"
	"net/http"

	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// processV1 serves a legacy V1 GET call: verified over its query string (authToken), decoded
// onto the V2 payloads and run by the same handlers. The differences are in the answer: V1
// credentials are encrypted with a key derived from the access key (docs/protocol.md §4), and a V1
// newInstance answer carries the instance's appInfo when it is already known.
func (s *Server) processV1(ctx context.Context, r *http.Request, c *call) (protocol.Response, error) {
	q := r.URL.Query()
	idx, err := s.verifier.VerifyV1Key(q)
	if err := verified(c, s.verifier.Keys, idx, err); err != nil {
		return protocol.Response{}, err
	}
	sent, err := protocol.V1SentAt(q)
	if err != nil {
		return protocol.Response{}, fail(protocol.CodeInvalidParam, protocol.ReasonBadTimestamp, "reading send time: %w", err)
	}
	req, err := protocol.DecodeV1(q)
	if err != nil {
		return protocol.Response{}, err
	}
	c.activity, c.testFlag, c.sentAt = "v1/"+req.SourceActivity, req.TestFlag, sent
	if err := s.claimDisclosure(ctx, c, req.Activity, protocol.V1ReplayKey(q)); err != nil {
		return protocol.Response{}, err
	}
	answer, err := s.dispatch(ctx, req, c)
	if err != nil || answer.ResultCode != protocol.CodeSuccess {
		return answer, err
	}
	encryptType := protocol.EncryptTypeAES256
	if q.Get("encryptType") == protocol.EncryptTypeAES128 {
		encryptType = protocol.EncryptTypeAES128
	}
	switch req.Activity {
	case protocol.ActivityNewInstance:
		ti, err := s.getInstance(ctx, answer.InstanceID)
		if err != nil || ti.Status.URL == "" {
			return answer, nil // testFlag, or not provisioned yet: the instanceId is the answer
		}
		if answer.AppInfo, err = s.appInfo(ctx, ti); err != nil {
			return protocol.Response{}, err
		}
		if err := s.encryptV1(c, answer.AppInfo, encryptType); err != nil {
			return protocol.Response{}, err
		}
		answer.EncryptType = encryptType
	case protocol.ActivityQueryInstance:
		for i := range answer.Info {
			if err := s.encryptV1(c, answer.Info[i].AppInfo, encryptType); err != nil {
				return protocol.Response{}, err
			}
		}
		answer.EncryptType = encryptType
	}
	return answer, nil
}

// encryptV1 encrypts an appInfo's userName and password in place with the access key that
// verified the call, so that during a rotation a marketplace still on the previous key can
// decrypt them (docs/protocol.md §6.12).
func (s *Server) encryptV1(c *call, info *protocol.AppInfo, encryptType string) error {
	if err := protocol.EncryptAppInfoV1(s.answerKey(c), info, encryptType); err != nil {
		return fmt.Errorf("encrypting V1 credentials: %w", err)
	}
	return nil
}
