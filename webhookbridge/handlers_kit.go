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
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// processKit verifies a 联营 kit call over its headers and the exact body bytes, then decodes it
// by the path's kit name (an unknown name is 000002, after verification).
func (s *Server) processKit(ctx context.Context, r *http.Request, body []byte, c *call) (protocol.Response, error) {
	idx, err := s.verifier.VerifyKitKey(r.Header, body)
	if err := verified(familyKit, idx, err); err != nil {
		return protocol.Response{}, err
	}
	name := strings.TrimPrefix(r.URL.Path, s.basePath+protocol.KitPathPrefix)
	req, err := protocol.DecodeKit(name, body)
	if err != nil {
		return protocol.Response{}, err
	}
	c.activity, c.testFlag, c.instanceID = req.Name, req.TestFlag, req.InstanceID
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
	switch req.Name {
	case protocol.KitTenantSync:
		return s.handleTenantSync(ctx, c, req.TenantSync)
	case protocol.KitApplicationSync:
		return s.handleApplicationSync(ctx, c, req.ApplicationSync)
	case protocol.KitAuthSync:
		return s.handleAuthSync(ctx, c, req.AuthSync)
	case protocol.KitSingleOrgSync:
		return s.handleSingleOrgSync(ctx, c, req.SingleOrgSync)
	case protocol.KitAllOrgSync:
		return s.handleAllOrgSync(ctx, c, req.AllOrgSync)
	}
	return protocol.Response{}, fail(protocol.CodeInvalidParam, protocol.ReasonUnknownKitName, "unknown kit sync %q", req.Name)
}

// errTenantMismatch refuses a kit call about another tenant than the one bound to the instance:
// the idempotency keys (PROTOCOL.md §6.2) all start with the tenant, so it cannot be merged.
func errTenantMismatch(what string) error {
	return fail(protocol.CodeInvalidParam, "tenant-mismatch", "the call's tenantId differs from the instance's %s", what)
}

// handleTenantSync binds (add, modify) or unbinds (delete, when the tenantId matches) the 联营
// enterprise in spec.tenant, ordered by spec.marketplace.tenantSetAt. Binding another tenant
// drops the previous tenant's applications, which belonged to it.
func (s *Server) handleTenantSync(ctx context.Context, c *call, p *protocol.TenantSync) (protocol.Response, error) {
	ti, wrote, err := s.mutateInstance(ctx, c.instanceID, c.testFlag, func(ti *tenantryv1alpha1.TenantInstance) error {
		if c.ignored = tenantIgnored(ti, c); c.ignored != "" {
			return nil
		}
		if p.Flag == protocol.FlagDelete {
			if ti.Spec.Tenant != nil && ti.Spec.Tenant.TenantID == p.TenantID {
				ti.Spec.Tenant = nil
			}
		} else {
			t := &tenantryv1alpha1.Tenant{TenantID: p.TenantID, TenantCode: p.TenantCode, Name: p.Name, DomainName: p.DomainName}
			if old := ti.Spec.Tenant; old != nil && old.TenantID == p.TenantID {
				t.Applications = old.Applications
			}
			ti.Spec.Tenant = t
		}
		marketplaceRecord(ti).TenantSetAt = microTime(c.sentAt)
		return nil
	})
	if err != nil {
		return protocol.Response{}, err
	}
	if wrote {
		s.event(ti, normal, ReasonTenantSynced, "TenantSync", "Tenant %q %s", p.TenantID, flagVerb(p.Flag))
	}
	return success(), nil
}

// tenantIgnored orders spec.tenant changes by the kit timeStamp.
func tenantIgnored(ti *tenantryv1alpha1.TenantInstance, c *call) string {
	if m := ti.Spec.Marketplace; m != nil && sentBefore(c.sentAt, m.TenantSetAt) {
		return reasonOutOfOrder
	}
	return ""
}

// handleApplicationSync upserts or removes spec.tenant.applications[appId]. The client secret is
// stored exactly as received, RSA-OAEP ciphertext: the operator decrypts it into a Secret, and no
// plaintext ever lands in a custom resource. With a merchant key configured the bridge first
// checks that the ciphertext opens (000002 otherwise), so a broken secret is refused while the
// caller can still see it; the plaintext is dropped at once.
func (s *Server) handleApplicationSync(ctx context.Context, c *call, p *protocol.ApplicationSync) (protocol.Response, error) {
	if p.Flag != protocol.FlagDelete && s.merchantKey != nil {
		if _, err := protocol.DecryptClientSecret(s.merchantKey, p.ClientSecret); err != nil {
			return protocol.Response{}, &codeError{code: protocol.CodeInvalidParam, reason: protocol.ReasonBadCiphertext, err: err}
		}
	}
	ti, wrote, err := s.mutateInstance(ctx, c.instanceID, c.testFlag, func(ti *tenantryv1alpha1.TenantInstance) error {
		if c.ignored = tenantIgnored(ti, c); c.ignored != "" {
			return nil
		}
		t := ti.Spec.Tenant
		if t != nil && t.TenantID != p.TenantID {
			return errTenantMismatch("spec.tenant.tenantId")
		}
		if p.Flag == protocol.FlagDelete {
			if t != nil {
				t.Applications = slices.DeleteFunc(t.Applications, func(a tenantryv1alpha1.TenantApplication) bool { return a.AppID == p.AppID })
				if len(t.Applications) == 0 {
					t.Applications = nil
				}
			}
		} else {
			if t == nil {
				// applicationSync before tenantSync: bind the tenant by id; tenantSync fills in the rest.
				t = &tenantryv1alpha1.Tenant{TenantID: p.TenantID}
				ti.Spec.Tenant = t
			}
			app := tenantryv1alpha1.TenantApplication{AppID: p.AppID, ClientID: p.ClientID, EncryptedClientSecret: p.ClientSecret}
			if i := slices.IndexFunc(t.Applications, func(a tenantryv1alpha1.TenantApplication) bool { return a.AppID == p.AppID }); i >= 0 {
				t.Applications[i] = app
			} else {
				t.Applications = append(t.Applications, app)
			}
		}
		marketplaceRecord(ti).TenantSetAt = microTime(c.sentAt)
		return nil
	})
	if err != nil {
		return protocol.Response{}, err
	}
	if wrote {
		s.event(ti, normal, ReasonApplicationSynced, "ApplicationSync", "Application %q of tenant %q %s", p.AppID, p.TenantID, flagVerb(p.Flag))
	}
	return success(), nil
}

// handleAuthSync upserts (add, modify) or removes (delete, cancel authorisation) users keyed by
// (appId, userName) in the TenantDirectory, ordered by its usersSyncedAt.
func (s *Server) handleAuthSync(ctx context.Context, c *call, p *protocol.AuthSync) (protocol.Response, error) {
	remove := p.Flag == protocol.FlagDelete || p.Flag == protocol.FlagCancel
	return s.syncDirectory(ctx, c, p.TenantID, !remove, ReasonUsersSynced, "AuthSync",
		fmt.Sprintf("%d users of application %q %s", len(p.UserList), p.AppID, flagVerb(p.Flag)),
		func(d *tenantryv1alpha1.TenantDirectory) {
			if sentBefore(c.sentAt, d.Spec.UsersSyncedAt) {
				c.ignored = reasonOutOfOrder
				return
			}
			for _, u := range p.UserList {
				i := slices.IndexFunc(d.Spec.Users, func(x tenantryv1alpha1.DirectoryUser) bool {
					return x.AppID == p.AppID && x.UserName == u.UserName
				})
				switch {
				case remove && i >= 0:
					d.Spec.Users = slices.Delete(d.Spec.Users, i, i+1)
				case remove:
				case i >= 0:
					d.Spec.Users[i] = directoryUser(p.AppID, u)
				default:
					d.Spec.Users = append(d.Spec.Users, directoryUser(p.AppID, u))
				}
			}
			if len(d.Spec.Users) == 0 {
				d.Spec.Users = nil
			}
			d.Spec.UsersSyncedAt = microTime(c.sentAt)
		})
}

func directoryUser(appID string, u protocol.KitUser) tenantryv1alpha1.DirectoryUser {
	return tenantryv1alpha1.DirectoryUser{
		AppID: appID, UserName: u.UserName, Name: u.Name, OrgCode: u.OrgCode,
		Role: tenantryv1alpha1.UserRole(u.Role), Enabled: u.Enable,
		Mobile: u.Mobile, Email: u.Email, Position: u.Position,
		EmployeeCode: u.EmployeeCode, EmployeeType: u.EmployeeType,
	}
}

// handleSingleOrgSync upserts or removes one department keyed by orgCode, ordered by orgsSyncedAt.
func (s *Server) handleSingleOrgSync(ctx context.Context, c *call, p *protocol.SingleOrgSync) (protocol.Response, error) {
	remove := p.Flag == protocol.FlagDelete
	return s.syncDirectory(ctx, c, p.TenantID, !remove, ReasonOrgsSynced, "SingleOrgSync",
		fmt.Sprintf("Department %q %s", p.OrgCode, flagVerb(p.Flag)),
		func(d *tenantryv1alpha1.TenantDirectory) {
			if sentBefore(c.sentAt, d.Spec.OrgsSyncedAt) {
				c.ignored = reasonOutOfOrder
				return
			}
			org := tenantryv1alpha1.DirectoryOrg{OrgCode: p.OrgCode, OrgName: p.OrgName, ParentCode: p.ParentCode}
			i := slices.IndexFunc(d.Spec.Orgs, func(o tenantryv1alpha1.DirectoryOrg) bool { return o.OrgCode == p.OrgCode })
			switch {
			case remove && i >= 0:
				d.Spec.Orgs = slices.Delete(d.Spec.Orgs, i, i+1)
			case remove:
			case i >= 0:
				d.Spec.Orgs[i] = org
			default:
				d.Spec.Orgs = append(d.Spec.Orgs, org)
			}
			if len(d.Spec.Orgs) == 0 {
				d.Spec.Orgs = nil
			}
			d.Spec.OrgsSyncedAt = microTime(c.sentAt)
		})
}

// handleAllOrgSync replaces the department list, ordered by orgsSyncedAt. A department listed
// twice is kept once, its last entry winning (the list is a map keyed by orgCode).
func (s *Server) handleAllOrgSync(ctx context.Context, c *call, p *protocol.AllOrgSync) (protocol.Response, error) {
	orgs := make([]tenantryv1alpha1.DirectoryOrg, 0, len(p.OrgInfoList))
	for _, o := range p.OrgInfoList {
		org := tenantryv1alpha1.DirectoryOrg{OrgCode: o.OrgCode, OrgName: o.OrgName, ParentCode: o.ParentCode}
		if i := slices.IndexFunc(orgs, func(x tenantryv1alpha1.DirectoryOrg) bool { return x.OrgCode == o.OrgCode }); i >= 0 {
			orgs[i] = org
			continue
		}
		orgs = append(orgs, org)
	}
	if len(orgs) == 0 {
		orgs = nil
	}
	return s.syncDirectory(ctx, c, p.TenantID, true, ReasonOrgsSynced, "AllOrgSync",
		fmt.Sprintf("Department list replaced (%d departments)", len(orgs)),
		func(d *tenantryv1alpha1.TenantDirectory) {
			if sentBefore(c.sentAt, d.Spec.OrgsSyncedAt) {
				c.ignored = reasonOutOfOrder
				return
			}
			d.Spec.Orgs = orgs
			d.Spec.OrgsSyncedAt = microTime(c.sentAt)
		})
}

// syncDirectory applies mutate to the instance's TenantDirectory (same name, cluster-scoped),
// creating it with an owner reference to the instance when create is set — a removal never
// creates one. Writes use resourceVersion concurrency and retry on conflict within the budget,
// like mutateInstance; a directory bound to another tenant is refused (000002).
func (s *Server) syncDirectory(ctx context.Context, c *call, tenantID string, create bool, reason, action, note string, mutate func(*tenantryv1alpha1.TenantDirectory)) (protocol.Response, error) {
	ti, err := s.getInstance(ctx, c.instanceID)
	if err != nil {
		return protocol.Response{}, err
	}
	var createOpts []client.CreateOption
	var updateOpts []client.UpdateOption
	if c.testFlag {
		createOpts, updateOpts = append(createOpts, client.DryRunAll), append(updateOpts, client.DryRunAll)
	}
	for backoff := conflictBackoffMin; ; backoff = min(2*backoff, conflictBackoffMax) {
		c.ignored = ""
		dir := &tenantryv1alpha1.TenantDirectory{}
		err := s.client.Get(ctx, client.ObjectKey{Name: ti.Name}, dir)
		switch {
		case apierrors.IsNotFound(err):
			if !create {
				return success(), nil // nothing to remove from
			}
			dir = newDirectory(ti, tenantID)
			mutate(dir)
			err = s.client.Create(ctx, dir, createOpts...)
			if apierrors.IsAlreadyExists(err) {
				break // created concurrently: read it and merge
			}
			if err != nil {
				return protocol.Response{}, fmt.Errorf("creating TenantDirectory %q: %w", ti.Name, err)
			}
			if !c.testFlag {
				s.event(ti, normal, reason, action, "%s", note)
			}
			return success(), nil
		case err != nil:
			return protocol.Response{}, fmt.Errorf("reading TenantDirectory %q: %w", ti.Name, err)
		default:
			if dir.Spec.TenantID != tenantID {
				return protocol.Response{}, errTenantMismatch("TenantDirectory spec.tenantId")
			}
			before := dir.Spec.DeepCopy()
			mutate(dir)
			if equality.Semantic.DeepEqual(before, &dir.Spec) {
				return success(), nil
			}
			err = s.client.Update(ctx, dir, updateOpts...)
			if err == nil {
				if !c.testFlag {
					s.event(ti, normal, reason, action, "%s", note)
				}
				return success(), nil
			}
			if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
				return protocol.Response{}, fmt.Errorf("updating TenantDirectory %q: %w", ti.Name, err)
			}
		}
		logr.FromContextOrDiscard(ctx).V(1).Info("Conflict writing TenantDirectory, retrying", "instanceId", ti.Name)
		if err := wait(ctx, backoff); err != nil {
			return protocol.Response{}, fmt.Errorf("writing TenantDirectory %q: conflicts until the call budget ran out: %w", ti.Name, err)
		}
	}
}

// newDirectory is an empty TenantDirectory for ti, owned by it so that it goes with the instance.
// blockOwnerDeletion is false: the bridge may not set finalizers on TenantInstances, and nothing
// needs the instance to wait for its directory.
func newDirectory(ti *tenantryv1alpha1.TenantInstance, tenantID string) *tenantryv1alpha1.TenantDirectory {
	return &tenantryv1alpha1.TenantDirectory{
		ObjectMeta: metav1.ObjectMeta{
			Name: ti.Name,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         tenantryv1alpha1.GroupVersion.String(),
				Kind:               "TenantInstance",
				Name:               ti.Name,
				UID:                ti.UID,
				BlockOwnerDeletion: ptr.To(false),
			}},
		},
		Spec: tenantryv1alpha1.TenantDirectorySpec{TenantID: tenantID},
	}
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
