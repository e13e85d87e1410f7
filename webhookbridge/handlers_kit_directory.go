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
	"sync"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/webhookbridge/policy"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// shardWorkers bounds the directory shards one call writes at once.
const shardWorkers = 16

// handleAuthSync upserts (add, modify) or removes (delete, cancel authorisation) users, each
// keyed by (appId, userName), in the shard already holding it or the lowest user shard with room
// (policy.ApplyUsers).
func (s *Server) handleAuthSync(ctx context.Context, c *call, p *protocol.AuthSync) (*tenantryv1alpha1.TenantInstance, error) {
	remove := p.Flag == protocol.FlagDelete || p.Flag == protocol.FlagCancel
	users := make([]tenantryv1alpha1.DirectoryUser, len(p.UserList))
	for i, u := range p.UserList {
		users[i] = directoryUser(p.AppID, u)
	}
	now := s.clock.Now()
	return s.syncDirectory(ctx, c, p.TenantID, remove, tenantryv1alpha1.DirectoryUsers, func(shards []*tenantryv1alpha1.TenantDirectorySpec) (policy.Outcome, error) {
		return policy.ApplyUsers(shards, p.AppID, users, remove, c.sentAt, now)
	}, ReasonUsersSynced, "AuthSync", fmt.Sprintf("%d users of application %q %s", len(p.UserList), p.AppID, flagVerb(p.Flag)))
}

func directoryUser(appID string, u protocol.KitUser) tenantryv1alpha1.DirectoryUser {
	return tenantryv1alpha1.DirectoryUser{
		AppID: appID, UserName: u.UserName, Name: u.Name, OrgCode: u.OrgCode,
		Role: tenantryv1alpha1.UserRole(u.Role), Enabled: u.Enable,
		Mobile: u.Mobile, Email: u.Email, Position: u.Position,
		EmployeeCode: u.EmployeeCode, EmployeeType: u.EmployeeType,
	}
}

// handleSingleOrgSync upserts or removes one department (policy.ApplyOrg).
func (s *Server) handleSingleOrgSync(ctx context.Context, c *call, p *protocol.SingleOrgSync) (*tenantryv1alpha1.TenantInstance, error) {
	remove := p.Flag == protocol.FlagDelete
	org := tenantryv1alpha1.DirectoryOrg{OrgCode: p.OrgCode, OrgName: p.OrgName, ParentCode: p.ParentCode}
	now := s.clock.Now()
	return s.syncDirectory(ctx, c, p.TenantID, remove, tenantryv1alpha1.DirectoryOrgs, func(shards []*tenantryv1alpha1.TenantDirectorySpec) (policy.Outcome, error) {
		return policy.ApplyOrg(shards, org, remove, c.sentAt, now)
	}, ReasonOrgsSynced, "SingleOrgSync", fmt.Sprintf("Department %q %s", p.OrgCode, flagVerb(p.Flag)))
}

// handleAllOrgSync applies the full department list (policy.ApplyOrgList). A department listed
// twice is kept once, its last entry winning.
func (s *Server) handleAllOrgSync(ctx context.Context, c *call, p *protocol.AllOrgSync) (*tenantryv1alpha1.TenantInstance, error) {
	var orgs []tenantryv1alpha1.DirectoryOrg
	seen := map[string]int{}
	for _, o := range p.OrgInfoList {
		org := tenantryv1alpha1.DirectoryOrg{OrgCode: o.OrgCode, OrgName: o.OrgName, ParentCode: o.ParentCode}
		if i, ok := seen[o.OrgCode]; ok {
			orgs[i] = org
			continue
		}
		seen[o.OrgCode] = len(orgs)
		orgs = append(orgs, org)
	}
	now := s.clock.Now()
	return s.syncDirectory(ctx, c, p.TenantID, false, tenantryv1alpha1.DirectoryOrgs, func(shards []*tenantryv1alpha1.TenantDirectorySpec) (policy.Outcome, error) {
		return policy.ApplyOrgList(shards, orgs, c.sentAt, now)
	}, ReasonOrgsSynced, "AllOrgSync", fmt.Sprintf("Department list synced (%d departments)", len(orgs)))
}

// applyDirectory is the change one call makes to the shards of one part, indexed by shard
// number; it may leave them half changed when it fails.
type applyDirectory func([]*tenantryv1alpha1.TenantDirectorySpec) (policy.Outcome, error)

// shardState is one shard of a part: dir as changed by the call, before its spec as read (nil
// when the shard does not exist yet).
type shardState struct {
	dir    *tenantryv1alpha1.TenantDirectory
	before *tenantryv1alpha1.TenantDirectorySpec
}

// syncDirectory applies a directory change to the instance's shards of part. The instance
// decides first whether the change concerns its bound tenant (policy.TenantOf). Then, in one
// attempt: every shard of the part is read (readShards: placement needs them all, as a key may
// be in any), a shard of another tenant is emptied (policy.ClaimShard), the change is applied to
// all of them at once, and each shard whose content changed is checked against the size limits
// (policy.CheckShard). If the change does not fit, the call is refused (000002) and nothing is
// written. Otherwise the changed shards — one or two for a batch of new users, those holding the
// keys for changes of existing ones — are written at once; a shard that does not exist is
// created, owned by the instance and labelled with its name. When a write conflicts (another call
// wrote the shard, or created or deleted it, since it was read), the attempt is repeated through
// retryConflicts from a fresh read of every shard: what this call already wrote then applies
// again as a repeat, unchanged. A debug call writes as a server-side dry run.
func (s *Server) syncDirectory(ctx context.Context, c *call, tenantID string, remove bool, part tenantryv1alpha1.DirectoryPart, apply applyDirectory, reason, action, note string) (*tenantryv1alpha1.TenantInstance, error) {
	ti, err := s.kitInstance(ctx, c, remove)
	if ti == nil || err != nil {
		return nil, err
	}
	ignored, err := policy.TenantOf(&ti.Spec, tenantID, c.sentAt, remove)
	if err != nil {
		return ti, kitError(err)
	}
	if ignored != "" {
		c.ignored = ignored
		return ti, nil
	}

	var (
		total policy.Outcome
		wrote bool
	)
	err = retryConflicts(ctx, fmt.Sprintf("the %s directory of TenantInstance %q", part, ti.Name), func() error {
		shards, err := s.readShards(ctx, ti, tenantID, part)
		if err != nil {
			return err
		}
		specs := make([]*tenantryv1alpha1.TenantDirectorySpec, len(shards))
		for i, sh := range shards {
			policy.ClaimShard(&sh.dir.Spec, tenantID)
			specs[i] = &sh.dir.Spec
		}
		if total, err = apply(specs); err != nil {
			return err
		}
		var changed []*shardState
		for i, sh := range shards {
			// A repeat (same keys, same times, same values) writes nothing.
			if sh.before == nil && equality.Semantic.DeepEqual(newShard(ti, tenantID, part, i).Spec, sh.dir.Spec) ||
				sh.before != nil && equality.Semantic.DeepEqual(sh.before, &sh.dir.Spec) {
				continue
			}
			if err := policy.CheckShard(&sh.dir.Spec); err != nil {
				return err
			}
			changed = append(changed, sh)
		}
		return s.writeShards(ctx, c, changed, &wrote)
	})
	if err != nil {
		return ti, kitError(err)
	}
	if !total.Changed() && total.Ignored > 0 {
		c.ignored = policy.ReasonOutOfOrder
	}
	if wrote && !c.testFlag {
		s.event(ti, normal, reason, action, "%s", note)
	}
	return ti, nil
}

// readShards reads every shard of part of ti's directory, in index order, with one consistent
// list of the instance's shards by spec.instanceName (a selectable field every shard has; one
// request instead of one per shard, which recent API servers answer from their watch cache). An
// absent shard is an empty new one for tenantID. An object named like a shard that does not name
// ti in spec.instanceName is not the bridge's: creating the shard then conflicts until the call's
// budget runs out.
func (s *Server) readShards(ctx context.Context, ti *tenantryv1alpha1.TenantInstance, tenantID string, part tenantryv1alpha1.DirectoryPart) ([]*shardState, error) {
	n := tenantryv1alpha1.DirectoryUserShards
	if part == tenantryv1alpha1.DirectoryOrgs {
		n = tenantryv1alpha1.DirectoryOrgShards
	}
	var list tenantryv1alpha1.TenantDirectoryList
	if err := s.client.List(ctx, &list, client.MatchingFields{"spec.instanceName": ti.Name}); err != nil {
		return nil, fmt.Errorf("listing the TenantDirectory shards of TenantInstance %q: %w", ti.Name, err)
	}
	byName := make(map[string]*tenantryv1alpha1.TenantDirectory, len(list.Items))
	for i := range list.Items {
		byName[list.Items[i].Name] = &list.Items[i]
	}
	shards := make([]*shardState, n)
	for i := range shards {
		if dir, ok := byName[tenantryv1alpha1.DirectoryShardName(ti.Name, part, i)]; ok && dir.Spec.Part == part {
			shards[i] = &shardState{dir: dir, before: dir.Spec.DeepCopy()}
		} else {
			shards[i] = &shardState{dir: newShard(ti, tenantID, part, i)}
		}
	}
	return shards, nil
}

// writeShards writes the changed shards at once, setting *wrote when one was written. When one
// conflicts, the others are still written, and a conflict is returned so that the caller decides
// again from a fresh read.
func (s *Server) writeShards(ctx context.Context, c *call, shards []*shardState, wrote *bool) error {
	var (
		mu       sync.Mutex
		conflict error
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(shardWorkers)
	for _, sh := range shards {
		g.Go(func() error {
			err := s.writeShard(gctx, c, sh)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				*wrote = true
			case apierrors.IsConflict(err):
				conflict = err
				return nil
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return conflict
}

// writeShard creates or updates one shard. A concurrent create, or a concurrent delete (a
// rebinding), is reported as a conflict: the change is decided again.
func (s *Server) writeShard(ctx context.Context, c *call, sh *shardState) error {
	name := sh.dir.Name
	gr := schema.GroupResource{Group: tenantryv1alpha1.GroupVersion.Group, Resource: "tenantdirectories"}
	var err error
	if sh.before == nil {
		var opts []client.CreateOption
		if c.testFlag {
			opts = append(opts, client.DryRunAll)
		}
		err = s.client.Create(ctx, sh.dir, opts...)
		if apierrors.IsAlreadyExists(err) {
			return apierrors.NewConflict(gr, name, err)
		}
	} else {
		var opts []client.UpdateOption
		if c.testFlag {
			opts = append(opts, client.DryRunAll)
		}
		err = s.client.Update(ctx, sh.dir, opts...)
		if apierrors.IsNotFound(err) {
			return apierrors.NewConflict(gr, name, err)
		}
	}
	switch {
	case err == nil, apierrors.IsConflict(err):
		return err
	case apierrors.IsInvalid(err):
		return &codeError{code: protocol.CodeInvalidParam, reason: protocol.ReasonInvalidField, err: fmt.Errorf("writing TenantDirectory %q: %w", name, err)}
	}
	return fmt.Errorf("writing TenantDirectory %q: %w", name, err)
}

// newShard is an empty shard of ti's directory for tenantID, owned by ti so that it goes with the
// instance, and labelled with the instance's name so that a rebinding finds it. blockOwnerDeletion
// is false: the bridge may not set finalizers on TenantInstances, and nothing needs the instance
// to wait for its directory.
func newShard(ti *tenantryv1alpha1.TenantInstance, tenantID string, part tenantryv1alpha1.DirectoryPart, index int) *tenantryv1alpha1.TenantDirectory {
	return &tenantryv1alpha1.TenantDirectory{
		ObjectMeta: metav1.ObjectMeta{
			Name:   tenantryv1alpha1.DirectoryShardName(ti.Name, part, index),
			Labels: map[string]string{tenantryv1alpha1.LabelInstance: ti.Name},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         tenantryv1alpha1.GroupVersion.String(),
				Kind:               "TenantInstance",
				Name:               ti.Name,
				UID:                ti.UID,
				BlockOwnerDeletion: ptr.To(false),
			}},
		},
		Spec: tenantryv1alpha1.TenantDirectorySpec{InstanceName: ti.Name, Part: part, Shard: int32(index), TenantID: tenantID}, //nolint:gosec // index < 32
	}
}
