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

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// handleRelease deletes the TenantInstance; the operator's finalizer does the rest (retention,
// namespace deletion). An instance already gone, or already being deleted, is success: the goal
// state holds (docs/protocol.md §6.2 Rule). A debug release deletes nothing.
func (s *Server) handleRelease(ctx context.Context, c *call, p *protocol.ReleaseInstance) (protocol.Response, error) {
	c.instanceID = p.InstanceID
	ti, err := s.getInstance(ctx, p.InstanceID)
	switch {
	case errors.Is(err, errInstanceNotFound):
		return success(), nil
	case err != nil:
		return protocol.Response{}, err
	case c.testFlag:
		return success(), nil
	}
	if err := s.client.Delete(ctx, ti); err != nil {
		if apierrors.IsNotFound(err) {
			return success(), nil
		}
		return protocol.Response{}, fmt.Errorf("deleting TenantInstance %q: %w", ti.Name, err)
	}
	logr.FromContextOrDiscard(ctx).Info("Released TenantInstance", "instanceId", ti.Name)
	s.event(ti, normal, ReasonMarketplaceRelease, "Release", "Released by the marketplace")
	return success(), nil
}
