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

	"github.com/go-logr/logr"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// ReasonPreflightFinding is the Event reason of a pre-flight finding.
const ReasonPreflightFinding = "PreflightFinding"

// preflight reports what a real call would have refused while its debug twin (testFlag=1) is
// answered as on success (docs/protocol.md §6.5): a log line, a count by reason on
// tenantry_bridge_preflight_findings_total, and a Warning Event on the instance when one exists
// (ti may be nil). reason is a bounded label value such as "order_not_found"; the message says
// what the seller has to fix before going live and carries no personal data.
func (s *Server) preflight(ctx context.Context, ti *tenantryv1alpha1.TenantInstance, reason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	preflightFindingsTotal.WithLabelValues(reason).Inc()
	logr.FromContextOrDiscard(ctx).Info("Pre-flight finding: a real call would have been refused", "reason", reason, "finding", msg)
	if ti != nil {
		s.event(ti, warning, ReasonPreflightFinding, "Debug", "A debug call was answered as on success, but a real call would have been refused: %s", msg)
	}
}
