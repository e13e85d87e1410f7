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
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/hostclaim"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// A Dedicated tenant's host belongs to one TenantInstance at a time. The bridge reserves it when
// it accepts the purchase by creating a TenantHost named after the host: the API server admits
// one object per name, so of two orders for the same host — on any replicas, at the same moment
// — exactly one Create succeeds. The order of writes is:
//
//  1. create the TenantHost, holder spec.instanceName, without an owner (the instance does not
//     exist yet, and an owner reference needs its UID);
//  2. create the TenantInstance;
//  3. make the instance the TenantHost's owner, so that the garbage collector deletes the claim
//     when the instance is released.
//
// A crash between 1 and 2 leaves a claim without owner naming an instance that does not exist:
// the same order's resend derives the same instance name and takes it as its own; any other order
// may take it over once it is hostClaimGrace old. A crash between 2 and 3 leaves a claim without
// owner naming an existing instance: it holds the host for as long as that instance lives, and
// is free to take over once the instance is gone or being deleted. So whether a claim still holds
// is decided from the instance it names (decideHostClaim), never from the owner reference alone,
// and a stale claim is replaced by a delete guarded by its UID and resourceVersion, then a create
// that again only one claimant can win.

// DefaultDenyHostSuffixes are the DNS suffixes no order may claim when Options.DenyHostSuffixes
// is nil: the cluster's own service names, which the bridge and every tenant app have.
var DefaultDenyHostSuffixes = []string{"svc", "cluster.local"}

// hostClaimGrace is how long a claim whose instance was never created holds its host against
// other orders: far longer than a purchase call takes, so that only a crash leaves one that old.
const hostClaimGrace = 10 * time.Minute

// Refusal reasons of host claims, answered 000002.
const (
	reasonHostDenied         = "host-denied"
	reasonHostUnderPlan      = "host-under-plan-domain"
	reasonHostTaken          = "host-taken"
	reasonHostClaimContended = "host-claim-contended"
)

// decideHostClaim is what to do about the claim (nil: none) of a host instance asks for: the
// shared judgement of hostclaim.Decide, with the bridge's own policy for a claim whose instance
// does not exist yet. Such a claim is an order between its two writes, or one that crashed there;
// it holds for hostClaimGrace after its creation and is then stale. The result is never Unborn.
func decideHostClaim(claim *tenantryv1alpha1.TenantHost, holder *tenantryv1alpha1.TenantInstance, instance string, now time.Time) hostclaim.Verdict {
	v := hostclaim.Decide(claim, holder, instance)
	if v != hostclaim.Unborn {
		return v
	}
	if now.Before(claim.CreationTimestamp.Add(hostClaimGrace)) {
		return hostclaim.Taken
	}
	return hostclaim.Stale
}

// normalizeHostSuffixes lowercases the deny list and strips spaces and dots around each entry;
// nil is DefaultDenyHostSuffixes.
func normalizeHostSuffixes(in []string) []string {
	if in == nil {
		in = DefaultDenyHostSuffixes
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.Trim(strings.ToLower(strings.TrimSpace(s)), "."); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// underDomain reports whether host is domain or a name below it. Both are lowercase, without
// the trailing dot.
func underDomain(host, domain string) bool {
	return domain != "" && (host == domain || strings.HasSuffix(host, "."+domain))
}

// hostRefusal is why host may never be claimed — on the deny list, or under a plan's base
// domain, where the operator places Shared tenants — or nil. Pure, for table tests.
func hostRefusal(host string, deny []string, plans []tenantryv1alpha1.TenantPlan) error {
	for _, suffix := range deny {
		if underDomain(host, suffix) {
			return fail(protocol.CodeInvalidParam, reasonHostDenied, "host %q is under the denied suffix %q", host, suffix)
		}
	}
	for i := range plans {
		base := strings.Trim(strings.ToLower(plans[i].Spec.Domain.BaseDomain), ".")
		if underDomain(host, base) {
			return fail(protocol.CodeInvalidParam, reasonHostUnderPlan,
				"host %q is under base domain %q of TenantPlan %q, where Shared tenants are served", host, base, plans[i].Name)
		}
	}
	return nil
}

// reserveHost claims host for the instance an order creates, before the instance is created
// (see the top of this file). A host the deny list or a plan's base domain covers, or that
// another instance holds, is refused with 000002 and a reason in the audit line. With dryRun
// (debug purchases) nothing is written: the answer is what a real purchase would get.
func (s *Server) reserveHost(ctx context.Context, host, instance string, dryRun bool) error {
	var plans tenantryv1alpha1.TenantPlanList
	if err := s.plans.List(ctx, &plans); err != nil {
		return fmt.Errorf("listing TenantPlans: %w", err)
	}
	if err := hostRefusal(host, s.denyHostSuffixes, plans.Items); err != nil {
		return err
	}
	log := logr.FromContextOrDiscard(ctx)
	for range 3 {
		claim := &tenantryv1alpha1.TenantHost{}
		if err := s.client.Get(ctx, client.ObjectKey{Name: host}, claim); apierrors.IsNotFound(err) {
			claim = nil
		} else if err != nil {
			return fmt.Errorf("reading TenantHost %q: %w", host, err)
		}
		var holder *tenantryv1alpha1.TenantInstance
		if claim != nil && claim.Spec.InstanceName != instance {
			ti, err := s.readInstance(ctx, claim.Spec.InstanceName)
			switch {
			case err == nil:
				holder = ti
			case !errors.Is(err, errInstanceNotFound):
				return err
			}
		}
		switch decideHostClaim(claim, holder, instance, s.clock.Now()) {
		case hostclaim.Ours:
			return nil
		case hostclaim.Taken:
			return fail(protocol.CodeInvalidParam, reasonHostTaken, "host %q is held by TenantInstance %q", host, claim.Spec.InstanceName)
		case hostclaim.Stale:
			if dryRun {
				return nil
			}
			err := s.client.Delete(ctx, claim, client.Preconditions{UID: ptr.To(claim.UID), ResourceVersion: ptr.To(claim.ResourceVersion)})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return fmt.Errorf("deleting stale TenantHost %q: %w", host, err)
			}
			log.Info("Took over a stale host claim", "host", host, "heldFor", claim.Spec.InstanceName, "instanceId", instance)
		case hostclaim.Free:
			if dryRun {
				return nil
			}
		}
		err := s.client.Create(ctx, &tenantryv1alpha1.TenantHost{
			ObjectMeta: metav1.ObjectMeta{Name: host},
			Spec:       tenantryv1alpha1.TenantHostSpec{InstanceName: instance},
		})
		switch {
		case err == nil:
			return nil
		case apierrors.IsAlreadyExists(err):
			continue // another claimant won the name: see whose claim it is
		default:
			return fmt.Errorf("creating TenantHost %q: %w", host, err)
		}
	}
	return fail(protocol.CodeInternalError, reasonHostClaimContended, "host %q: the claim kept changing while it was being taken", host)
}

// ownHost makes the TenantInstance the owner of its host's claim, so that releasing the
// instance frees the host. A failure is logged, not answered: the instance exists and the
// purchase succeeded, and a claim without owner still holds for its instance (decideHostClaim)
// and is taken over once the instance is gone.
func (s *Server) ownHost(ctx context.Context, host string, ti *tenantryv1alpha1.TenantInstance) {
	claim := &tenantryv1alpha1.TenantHost{ObjectMeta: metav1.ObjectMeta{Name: host}}
	ref := metav1.OwnerReference{
		APIVersion: tenantryv1alpha1.GroupVersion.String(), Kind: "TenantInstance", Name: ti.Name, UID: ti.UID,
	}
	// The spec in the patch makes it fail (an immutable field) rather than adopt a claim that
	// another instance took over meanwhile.
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"ownerReferences": []metav1.OwnerReference{ref}},
		"spec":     map[string]any{"instanceName": ti.Name},
	})
	if err == nil {
		err = s.client.Patch(ctx, claim, client.RawPatch(types.MergePatchType, patch))
	}
	if err != nil {
		logr.FromContextOrDiscard(ctx).Error(err, "Could not make the TenantInstance the owner of its host claim; the claim holds while the instance lives",
			"host", host)
	}
}

// dropHostClaim deletes the claim reserveHost made for an instance that could not be created
// (the API server refused it), so that a refused order leaves nothing behind. Only a claim of
// that instance without owner is deleted, guarded by its UID; a failure is logged, and the claim
// then expires after hostClaimGrace.
func (s *Server) dropHostClaim(ctx context.Context, host, instance string) {
	claim := &tenantryv1alpha1.TenantHost{}
	err := s.client.Get(ctx, client.ObjectKey{Name: host}, claim)
	if err == nil && (claim.Spec.InstanceName != instance || hostclaim.InstanceOwner(claim) != nil) {
		return
	}
	if err == nil {
		err = s.client.Delete(ctx, claim, client.Preconditions{UID: ptr.To(claim.UID), ResourceVersion: ptr.To(claim.ResourceVersion)})
	}
	if err != nil && !apierrors.IsNotFound(err) {
		logr.FromContextOrDiscard(ctx).Error(err, "Could not drop the host claim of an instance that was not created; it expires by itself", "host", host)
	}
}

// HostSuffixes is the value of the repeatable --deny-host-suffix flag: each use adds one or more
// comma-separated suffixes, and the first use replaces DefaultDenyHostSuffixes. An empty value
// denies nothing. Its zero value (nil) stands for the default, as Options.DenyHostSuffixes does.
type HostSuffixes []string

// String lists the suffixes in effect.
func (h *HostSuffixes) String() string {
	if h == nil || *h == nil {
		return strings.Join(DefaultDenyHostSuffixes, ",")
	}
	return strings.Join(*h, ",")
}

// Set adds the comma-separated suffixes of one use of the flag.
func (h *HostSuffixes) Set(v string) error {
	if *h == nil {
		*h = HostSuffixes{}
	}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*h = append(*h, s)
		}
	}
	return nil
}
