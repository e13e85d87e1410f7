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
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/webhookbridge/policy"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// processKit verifies a 联营 kit call over its headers and the exact body bytes, then decodes it
// by the path's kit name (an unknown name is 000002, after verification) and runs it.
//
// The kit rules (docs/protocol.md §6.11): a removal (flag 0, authSync flag 3) succeeds whether or
// not the instance, tenant, application, user or department exists, released instances included;
// changes are ordered per key (see package policy); a debug call (testFlag 1) is verified,
// decoded and decided like a real one, written only as a server-side dry run, and answered as on
// success, what a real call would have refused being reported as a pre-flight finding (§6.5).
func (s *Server) processKit(ctx context.Context, r *http.Request, body []byte, c *call) (protocol.Response, error) {
	idx, err := s.verifier.VerifyKitKey(r.Header, body)
	if err := verified(c, s.verifier.EffectiveKitKeys(), idx, err); err != nil {
		return protocol.Response{}, err
	}
	name := strings.TrimPrefix(r.URL.Path, s.basePath+protocol.KitPathPrefix)
	req, err := protocol.DecodeKit(name, body)
	if err != nil {
		return protocol.Response{}, err
	}
	c.activity, c.testFlag, c.instanceID = req.Name, req.TestFlag, req.InstanceID
	if len(req.Notes) > 0 {
		// Field paths and what was done only: never the values, which may be personal data.
		logr.FromContextOrDiscard(ctx).Info("Kit call accepted with tolerated fields", "kit", req.Name, "notes", req.Notes)
	}
	// Kit calls are ordered by the body's timeStamp, the time the marketplace's sync happened.
	// Unlike x-timestamp it is not bounded by the verifier's window, so one from the future —
	// a zone mix-up, say — is refused: recorded, it would make every later sync look stale.
	c.sentAt = req.TimeStamp
	if sent, err := protocol.KitSentAt(r.Header); err == nil && c.sentAt.After(sent.Add(s.window())) {
		return protocol.Response{}, fail(protocol.CodeInvalidParam, protocol.ReasonBadTimestamp,
			"timeStamp %s is later than the call's x-timestamp %s", c.sentAt.UTC().Format(time.RFC3339Nano), sent.UTC().Format(time.RFC3339Nano))
	}
	if req.InstanceID == "" {
		// The merchant testing the kit credentials from the console: verified, nothing to do.
		return success(), nil
	}
	var ti *tenantryv1alpha1.TenantInstance
	switch req.Name {
	case protocol.KitTenantSync:
		ti, err = s.handleTenantSync(ctx, c, req.TenantSync)
	case protocol.KitApplicationSync:
		ti, err = s.handleApplicationSync(ctx, c, req.ApplicationSync)
	case protocol.KitAuthSync:
		ti, err = s.handleAuthSync(ctx, c, req.AuthSync)
	case protocol.KitSingleOrgSync:
		ti, err = s.handleSingleOrgSync(ctx, c, req.SingleOrgSync)
	case protocol.KitAllOrgSync:
		ti, err = s.handleAllOrgSync(ctx, c, req.AllOrgSync)
	default:
		err = fail(protocol.CodeInvalidParam, protocol.ReasonUnknownKitName, "unknown kit sync %q", req.Name)
	}
	if err != nil {
		return s.kitRefused(ctx, c, ti, err)
	}
	return success(), nil
}

// kitRefused answers a kit call that failed with err. A refusal because the instance reached a
// limit (its directory is full, it has the most applications) says so in resultMsg. A debug call
// that a real call would have refused (000002, 000003) is answered as on success, the refusal
// reported as a pre-flight finding; transient failures (000005) are answered as such, debug or
// not.
func (s *Server) kitRefused(ctx context.Context, c *call, ti *tenantryv1alpha1.TenantInstance, err error) (protocol.Response, error) {
	code := codeFor(err)
	var limit *policy.Refusal
	if !c.testFlag && errors.As(err, &limit) && (limit.Reason == policy.ReasonDirectoryFull || limit.Reason == policy.ReasonTooManyApps) {
		// The caller is verified, and the seller must learn which limit the tenant reached: the
		// answer says it, which a generic 000002 message would not. No personal data is in it.
		logr.FromContextOrDiscard(ctx).Info("Kit call refused: the instance reached a limit", "reason", limit.Reason, "detail", limit.Message)
		return protocol.Response{ResultCode: protocol.CodeInvalidParam, ResultMsg: limit.Message}, nil
	}
	if !c.testFlag || (code != protocol.CodeInvalidParam && code != protocol.CodeInstanceNotFound) {
		return protocol.Response{}, err
	}
	s.preflight(ctx, ti, strings.ReplaceAll(reasonFor(err), "-", "_"), "%s %s: %s", c.activity, protocol.Message(code), logSafe(err))
	return success(), nil
}

// kitError maps a policy refusal to a 000002 answer; other errors pass unchanged.
func kitError(err error) error {
	var r *policy.Refusal
	if errors.As(err, &r) {
		return &codeError{code: protocol.CodeInvalidParam, reason: r.Reason, err: r}
	}
	return err
}

// kitInstance reads the instance a kit call is about. A removal of anything in an instance that
// does not exist, or is being released, succeeds with nothing to do: (nil, nil).
func (s *Server) kitInstance(ctx context.Context, c *call, remove bool) (*tenantryv1alpha1.TenantInstance, error) {
	ti, err := s.getInstance(ctx, c.instanceID)
	if errors.Is(err, errInstanceNotFound) && remove {
		c.ignored = reasonInstanceGone
		return nil, nil
	}
	return ti, err
}

// reasonInstanceGone is the ignored-call reason of a removal in an instance that is gone.
const reasonInstanceGone = "instance_gone"

// appRecords reads the application records of ti (policy.AnnotationKitApplications).
func appRecords(ti *tenantryv1alpha1.TenantInstance) policy.AppRecords {
	return policy.ParseAppRecords(ti.Annotations[policy.AnnotationKitApplications])
}

// setAppRecords writes the application records into ti's annotations.
func setAppRecords(ti *tenantryv1alpha1.TenantInstance, recs policy.AppRecords) {
	v := recs.Encode()
	switch {
	case v == "" && ti.Annotations != nil:
		delete(ti.Annotations, policy.AnnotationKitApplications)
	case v != "":
		if ti.Annotations == nil {
			ti.Annotations = map[string]string{}
		}
		ti.Annotations[policy.AnnotationKitApplications] = v
	}
}

// mutateKitInstance is mutateReadInstance for kit calls, whose ordering records live in an
// annotation written with the spec: it writes when the spec or that annotation changed. A debug
// call writes as a server-side dry run.
func (s *Server) mutateKitInstance(ctx context.Context, c *call, read *tenantryv1alpha1.TenantInstance, mutate func(*tenantryv1alpha1.TenantInstance) error) (*tenantryv1alpha1.TenantInstance, bool, error) {
	var opts []client.UpdateOption
	if c.testFlag {
		opts = append(opts, client.DryRunAll)
	}
	var (
		out   *tenantryv1alpha1.TenantInstance
		wrote bool
	)
	err := retryConflicts(ctx, fmt.Sprintf("TenantInstance %q", c.instanceID), func() error {
		out, wrote = nil, false
		c.ignored = ""
		ti := read
		read = nil
		if ti == nil {
			var err error
			if ti, err = s.getInstance(ctx, c.instanceID); err != nil {
				return err
			}
		}
		out = ti
		before := ti.DeepCopy()
		if err := mutate(ti); err != nil {
			return err
		}
		if equality.Semantic.DeepEqual(before.Spec, ti.Spec) &&
			before.Annotations[policy.AnnotationKitApplications] == ti.Annotations[policy.AnnotationKitApplications] {
			return nil
		}
		err := s.client.Update(ctx, ti, opts...)
		switch {
		case err == nil:
			wrote = !c.testFlag
			return nil
		case apierrors.IsNotFound(err):
			return errInstanceNotFound
		case apierrors.IsConflict(err):
			return err
		case apierrors.IsInvalid(err):
			return &codeError{code: protocol.CodeInvalidParam, reason: protocol.ReasonInvalidField, err: fmt.Errorf("updating TenantInstance %q: %w", c.instanceID, err)}
		}
		return fmt.Errorf("updating TenantInstance %q: %w", c.instanceID, err)
	})
	return out, wrote, err
}

// handleTenantSync binds (add, modify) or unbinds (delete) the 联营 enterprise in spec.tenant,
// ordered by spec.marketplace.tenantSetAt, which only tenantSync sets (policy.DecideTenant).
// When the bound tenant is removed or replaced, its directory shards are deleted here and its
// application credentials leave the tenant's Secret with spec.tenant.applications.
func (s *Server) handleTenantSync(ctx context.Context, c *call, p *protocol.TenantSync) (*tenantryv1alpha1.TenantInstance, error) {
	remove := p.Flag == protocol.FlagDelete
	ti, err := s.kitInstance(ctx, c, remove)
	if ti == nil || err != nil {
		return nil, err
	}
	change := policy.TenantChange{TenantID: p.TenantID, TenantCode: p.TenantCode, Name: p.Name, DomainName: p.DomainName, Remove: remove, At: c.sentAt}
	var (
		d         policy.TenantDecision
		wasBound  string
		nowBound  string
		rebinding bool
	)
	ti, wrote, err := s.mutateKitInstance(ctx, c, ti, func(ti *tenantryv1alpha1.TenantInstance) error {
		wasBound, nowBound = boundTenant(&ti.Spec), ""
		d = policy.DecideTenant(&ti.Spec, appRecords(ti), change)
		if d.Ignored != "" {
			c.ignored = d.Ignored
			return nil
		}
		ti.Spec = *d.Spec
		setAppRecords(ti, d.Apps)
		nowBound = boundTenant(&ti.Spec)
		rebinding = nowBound != wasBound
		return nil
	})
	if errors.Is(err, errInstanceNotFound) && remove {
		c.ignored = reasonInstanceGone
		return nil, nil
	}
	if err != nil {
		return ti, err
	}
	if wrote {
		s.event(ti, normal, ReasonTenantSynced, "TenantSync", "Tenant %q %s", p.TenantID, flagVerb(p.Flag))
		if rebinding {
			// The previous tenant's directory goes, and so does one kept for a tenant never bound.
			s.dropDirectory(ctx, ti, nowBound)
		}
	}
	return ti, nil
}

// boundTenant is the tenantId bound in spec, or "".
func boundTenant(spec *tenantryv1alpha1.TenantInstanceSpec) string {
	if spec.Tenant == nil {
		return ""
	}
	return spec.Tenant.TenantID
}

// dropDirectory deletes the instance's directory shards of any tenant but keep (all of them when
// keep is empty). A failure is logged, not answered: the operator projects only the bound
// tenant's shards, and the bridge empties a stale shard before it writes to it again.
func (s *Server) dropDirectory(ctx context.Context, ti *tenantryv1alpha1.TenantInstance, keep string) {
	log := logr.FromContextOrDiscard(ctx)
	var list tenantryv1alpha1.TenantDirectoryList
	if err := s.client.List(ctx, &list, client.MatchingLabels{tenantryv1alpha1.LabelInstance: ti.Name}); err != nil {
		log.Error(err, "Listing the directory shards of a replaced tenant; they stay, unprojected")
		return
	}
	for i := range list.Items {
		d := &list.Items[i]
		if d.Spec.InstanceName != ti.Name || (keep != "" && d.Spec.TenantID == keep) {
			continue
		}
		err := s.client.Delete(ctx, d, client.Preconditions{UID: &d.UID, ResourceVersion: &d.ResourceVersion})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			log.Error(err, "Deleting a directory shard of a replaced tenant; it stays, unprojected", "shard", d.Name)
		}
	}
}

// handleApplicationSync upserts or removes spec.tenant.applications[appId], ordered per
// application (policy.DecideApp). The client secret is stored exactly as received, RSA-OAEP
// ciphertext: the operator decrypts it into a Secret, and no plaintext ever lands in a custom
// resource. With a merchant key configured the bridge first checks that the ciphertext opens
// (000002 otherwise), so a broken secret is refused while the caller can still see it; the
// plaintext is dropped at once.
func (s *Server) handleApplicationSync(ctx context.Context, c *call, p *protocol.ApplicationSync) (*tenantryv1alpha1.TenantInstance, error) {
	remove := p.Flag == protocol.FlagDelete
	ti, err := s.kitInstance(ctx, c, remove)
	if ti == nil || err != nil {
		return nil, err
	}
	if !remove && s.merchantKey != nil {
		if _, err := protocol.DecryptClientSecret(s.merchantKey, p.ClientSecret); err != nil {
			return ti, &codeError{code: protocol.CodeInvalidParam, reason: protocol.ReasonBadCiphertext, err: err}
		}
	}
	change := policy.AppChange{TenantID: p.TenantID, AppID: p.AppID, ClientID: p.ClientID, EncryptedClientSecret: p.ClientSecret, Remove: remove, At: c.sentAt}
	now := s.clock.Now()
	ti, wrote, err := s.mutateKitInstance(ctx, c, ti, func(ti *tenantryv1alpha1.TenantInstance) error {
		d, err := policy.DecideApp(&ti.Spec, appRecords(ti), change, now)
		if err != nil {
			return kitError(err)
		}
		if d.Ignored != "" {
			c.ignored = d.Ignored
			return nil
		}
		ti.Spec = *d.Spec
		setAppRecords(ti, d.Apps)
		return nil
	})
	if errors.Is(err, errInstanceNotFound) && remove {
		c.ignored = reasonInstanceGone
		return nil, nil
	}
	if err != nil {
		return ti, err
	}
	if wrote {
		s.event(ti, normal, ReasonApplicationSynced, "ApplicationSync", "Application %q of tenant %q %s", p.AppID, p.TenantID, flagVerb(p.Flag))
	}
	return ti, nil
}

// flagVerb words a kit flag for Event notes.
func flagVerb(flag int) string {
	switch flag {
	case protocol.FlagDelete:
		return "deleted"
	case protocol.FlagAdd:
		return "added"
	case protocol.FlagModify:
		return "modified"
	case protocol.FlagCancel:
		return "deauthorised"
	}
	return "synced"
}
