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
	"strings"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/webhookbridge/policy"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// handleChangeCheck answers whether the instance could move to the target SKU and quantity at
// renewal (docs/protocol.md §6.8): the target SKU must have a plan (000002 otherwise), the
// linearValue must be a quantity (000002), and the tenant's current usage — the operator's
// ResourceQuota status.used — must fit what the target plan gives that quantity
// (TenantPlanSpec.QuotaFor; 000100, naming the resources, otherwise). It changes nothing. A
// debug check is answered 000000 and reports a misfit as a pre-flight finding.
func (s *Server) handleChangeCheck(ctx context.Context, c *call, p *protocol.ChangeInstanceCheck) (protocol.Response, error) {
	c.instanceID = p.InstanceID
	ti, err := s.getInstance(ctx, p.InstanceID)
	if err != nil {
		return s.debugOr(ctx, c, nil, success(), err)
	}
	quantity, err := policy.Quantity(p.ProductInfo.LinearValue)
	if err != nil {
		return s.debugOr(ctx, c, ti, success(), &quantityError{err: err})
	}
	plan, err := s.planFor(ctx, p.ProductInfo.SkuCode)
	if err != nil {
		if reasonFor(err) == reasonUnknownSKU {
			err = &codeError{code: protocol.CodeInvalidParam, reason: reasonUnknownSKU, err: err}
		}
		return s.debugOr(ctx, c, ti, success(), err)
	}
	ns := ti.Status.Namespace
	if ns == "" {
		ns = tenantryv1alpha1.NamespaceName(ti.Name)
	}
	quota := &corev1.ResourceQuota{}
	switch err := s.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: tenantryv1alpha1.QuotaName}, quota); {
	case apierrors.IsNotFound(err):
		return success(), nil // nothing provisioned yet, so nothing used
	case err != nil:
		return protocol.Response{}, fmt.Errorf("reading the quota of %q: %w", ti.Name, err)
	}
	over := policy.Exceeded(&plan.Spec, quantity, quota.Status.Used)
	if len(over) == 0 {
		return success(), nil
	}
	if c.testFlag {
		s.preflight(ctx, ti, "no_resource", "current usage of %s exceeds what SKU %q at quantity %d allows; a real check would be answered %s",
			strings.Join(over, ", "), p.ProductInfo.SkuCode, quantity, protocol.CodeNoResource)
		return success(), nil
	}
	logr.FromContextOrDiscard(ctx).Info("Current usage does not fit the target SKU and quantity", "instanceId", ti.Name,
		"targetSku", p.ProductInfo.SkuCode, "targetQuantity", quantity, "plan", plan.Name, "resources", over)
	answer := protocol.NewResponse(protocol.CodeNoResource)
	answer.ResultMsg = fmt.Sprintf("no instance resource available: current usage of %s exceeds the target SKU's quota.", strings.Join(over, ", "))
	return answer, nil
}
