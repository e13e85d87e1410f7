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

package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func user(name string, at int) tenantryv1alpha1.DirectoryUser {
	u := tenantryv1alpha1.DirectoryUser{AppID: "a", UserName: name, Name: strings.ToUpper(name)}
	if at >= 0 {
		u.SyncedAt = MicroTime(kitAt(at))
	}
	return u
}

func userRemoved(name string, at int) tenantryv1alpha1.DirectoryRemoval {
	return tenantryv1alpha1.DirectoryRemoval{AppID: "a", UserName: name, RemovedAt: *MicroTime(kitAt(at))}
}

func usersShard(users []tenantryv1alpha1.DirectoryUser, removed ...tenantryv1alpha1.DirectoryRemoval) tenantryv1alpha1.TenantDirectorySpec {
	spec := tenantryv1alpha1.TenantDirectorySpec{InstanceName: "i", Part: tenantryv1alpha1.DirectoryUsers, TenantID: "t1", Users: users, Removed: removed}
	spec.UserCount = int32(len(users))
	return spec
}

// shards is a part's shards for a policy call, each numbered by its position.
func shards(specs ...tenantryv1alpha1.TenantDirectorySpec) []*tenantryv1alpha1.TenantDirectorySpec {
	out := make([]*tenantryv1alpha1.TenantDirectorySpec, len(specs))
	for i := range specs {
		out[i] = specs[i].DeepCopy()
		out[i].Shard = int32(i) //nolint:gosec // small
	}
	return out
}

// values is what shards point to, for cmp.Diff.
func values(shards []*tenantryv1alpha1.TenantDirectorySpec) []tenantryv1alpha1.TenantDirectorySpec {
	out := make([]tenantryv1alpha1.TenantDirectorySpec, len(shards))
	for i, s := range shards {
		out[i] = *s
	}
	return out
}

func TestApplyUsers(t *testing.T) {
	now := kitAt(1000)
	tests := []struct {
		name   string
		spec   tenantryv1alpha1.TenantDirectorySpec
		users  []tenantryv1alpha1.DirectoryUser
		remove bool
		at     int
		want   tenantryv1alpha1.TenantDirectorySpec
		out    Outcome
	}{
		{
			name:  "add to an empty shard",
			spec:  usersShard(nil),
			users: []tenantryv1alpha1.DirectoryUser{user("u1", -1), user("u2", -1)},
			at:    5,
			want:  usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 5), user("u2", 5)}),
			out:   Outcome{Applied: 2},
		},
		{
			name:  "batch 2 then an earlier batch 1: batch 1's other users apply, its stale user does not",
			spec:  usersShard([]tenantryv1alpha1.DirectoryUser{user("u2", 10)}),
			users: []tenantryv1alpha1.DirectoryUser{user("u1", -1), {AppID: "a", UserName: "u2", Name: "stale"}},
			at:    5,
			want:  usersShard([]tenantryv1alpha1.DirectoryUser{user("u2", 10), user("u1", 5)}),
			out:   Outcome{Applied: 1, Ignored: 1},
		},
		{
			name:   "remove is remembered",
			spec:   usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 1), user("u2", 1)}),
			users:  []tenantryv1alpha1.DirectoryUser{user("u1", -1)},
			remove: true,
			at:     5,
			want:   usersShard([]tenantryv1alpha1.DirectoryUser{user("u2", 1)}, userRemoved("u1", 5)),
			out:    Outcome{Applied: 1},
		},
		{
			name:   "removing an absent user is remembered too",
			spec:   usersShard(nil),
			users:  []tenantryv1alpha1.DirectoryUser{user("u1", -1)},
			remove: true,
			at:     5,
			want:   usersShard(nil, userRemoved("u1", 5)),
			out:    Outcome{Applied: 1},
		},
		{
			name:  "a late add sent before the removal is not resurrected",
			spec:  usersShard(nil, userRemoved("u1", 5)),
			users: []tenantryv1alpha1.DirectoryUser{user("u1", -1)},
			at:    4,
			want:  usersShard(nil, userRemoved("u1", 5)),
			out:   Outcome{Ignored: 1},
		},
		{
			name:  "an add sent after the removal applies and forgets it",
			spec:  usersShard(nil, userRemoved("u1", 5)),
			users: []tenantryv1alpha1.DirectoryUser{user("u1", -1)},
			at:    6,
			want:  usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 6)}),
			out:   Outcome{Applied: 1},
		},
		{
			name:   "an older removal is ignored",
			spec:   usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 9)}),
			users:  []tenantryv1alpha1.DirectoryUser{user("u1", -1)},
			remove: true,
			at:     5,
			want:   usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 9)}),
			out:    Outcome{Ignored: 1},
		},
		{
			name:  "the same instant applies (a repeat)",
			spec:  usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 5)}),
			users: []tenantryv1alpha1.DirectoryUser{user("u1", -1)},
			at:    5,
			want:  usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 5)}),
			out:   Outcome{Applied: 1},
		},
		{
			name:  "removals older than a day are forgotten",
			spec:  usersShard(nil, tenantryv1alpha1.DirectoryRemoval{AppID: "a", UserName: "old", RemovedAt: *MicroTime(now.Add(-25 * time.Hour))}),
			users: []tenantryv1alpha1.DirectoryUser{user("u1", -1)},
			at:    5,
			want:  usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 5)}),
			out:   Outcome{Applied: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := shards(tt.spec)
			out, err := ApplyUsers(got, "a", tt.users, tt.remove, kitAt(tt.at), now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.out, out); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(values(shards(tt.want)), values(got)); diff != "" {
				t.Errorf("shard (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyUsersKeepsRemovalsBounded(t *testing.T) {
	spec := usersShard(nil)
	now := kitAt(tenantryv1alpha1.MaxDirectoryShardRemoved + 10)
	for i := range tenantryv1alpha1.MaxDirectoryShardRemoved + 10 {
		if _, err := ApplyUsers([]*tenantryv1alpha1.TenantDirectorySpec{&spec}, "a", []tenantryv1alpha1.DirectoryUser{user(fmt.Sprintf("u%d", i), -1)}, true, kitAt(i), now); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(spec.Removed); got != tenantryv1alpha1.MaxDirectoryShardRemoved {
		t.Fatalf("%d removals remembered, want %d", got, tenantryv1alpha1.MaxDirectoryShardRemoved)
	}
	for _, r := range spec.Removed {
		if r.UserName == "u0" {
			t.Fatal("the oldest removal is still remembered")
		}
	}
}

func org(code string, at int) tenantryv1alpha1.DirectoryOrg {
	o := tenantryv1alpha1.DirectoryOrg{OrgCode: code, OrgName: strings.ToUpper(code)}
	if at >= 0 {
		o.SyncedAt = MicroTime(kitAt(at))
	}
	return o
}

func orgsShard(orgs []tenantryv1alpha1.DirectoryOrg, listAt int, removed ...tenantryv1alpha1.DirectoryRemoval) tenantryv1alpha1.TenantDirectorySpec {
	spec := tenantryv1alpha1.TenantDirectorySpec{InstanceName: "i", Part: tenantryv1alpha1.DirectoryOrgs, TenantID: "t1", Orgs: orgs, Removed: removed}
	spec.OrgCount = int32(len(orgs))
	if listAt >= 0 {
		spec.OrgListAt = MicroTime(kitAt(listAt))
	}
	return spec
}

func orgRemoved(code string, at int) tenantryv1alpha1.DirectoryRemoval {
	return tenantryv1alpha1.DirectoryRemoval{OrgCode: code, RemovedAt: *MicroTime(kitAt(at))}
}

func TestApplyOrg(t *testing.T) {
	now := kitAt(1000)
	tests := []struct {
		name   string
		spec   tenantryv1alpha1.TenantDirectorySpec
		org    tenantryv1alpha1.DirectoryOrg
		remove bool
		at     int
		want   tenantryv1alpha1.TenantDirectorySpec
		out    Outcome
	}{
		{
			name: "department B then an earlier A: A applies",
			spec: orgsShard([]tenantryv1alpha1.DirectoryOrg{org("b", 10)}, -1),
			org:  org("a", -1), at: 5,
			want: orgsShard([]tenantryv1alpha1.DirectoryOrg{org("b", 10), org("a", 5)}, -1),
			out:  Outcome{Applied: 1},
		},
		{
			name: "an older change of the same department is ignored",
			spec: orgsShard([]tenantryv1alpha1.DirectoryOrg{org("a", 10)}, -1),
			org:  tenantryv1alpha1.DirectoryOrg{OrgCode: "a", OrgName: "stale"}, at: 5,
			want: orgsShard([]tenantryv1alpha1.DirectoryOrg{org("a", 10)}, -1),
			out:  Outcome{Ignored: 1},
		},
		{
			name: "remove is remembered",
			spec: orgsShard([]tenantryv1alpha1.DirectoryOrg{org("a", 1)}, -1),
			org:  org("a", -1), remove: true, at: 5,
			want: orgsShard(nil, -1, orgRemoved("a", 5)),
			out:  Outcome{Applied: 1},
		},
		{
			name: "a late add sent before the removal is not resurrected",
			spec: orgsShard(nil, -1, orgRemoved("a", 5)),
			org:  org("a", -1), at: 4,
			want: orgsShard(nil, -1, orgRemoved("a", 5)),
			out:  Outcome{Ignored: 1},
		},
		{
			name: "an absent department older than the last full list is not added",
			spec: orgsShard(nil, 5),
			org:  org("a", -1), at: 4,
			want: orgsShard(nil, 5),
			out:  Outcome{Ignored: 1},
		},
		{
			name: "a department the full list had is changed by an older single sync only if older than its own change",
			spec: orgsShard([]tenantryv1alpha1.DirectoryOrg{org("a", 3)}, 5),
			org:  tenantryv1alpha1.DirectoryOrg{OrgCode: "a", OrgName: "Renamed"}, at: 4,
			want: orgsShard([]tenantryv1alpha1.DirectoryOrg{{OrgCode: "a", OrgName: "Renamed", SyncedAt: MicroTime(kitAt(4))}}, 5),
			out:  Outcome{Applied: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := shards(tt.spec)
			out, err := ApplyOrg(got, tt.org, tt.remove, kitAt(tt.at), now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.out, out); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(values(shards(tt.want)), values(got)); diff != "" {
				t.Errorf("shard (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyOrgList(t *testing.T) {
	now := kitAt(1000)
	tests := []struct {
		name string
		spec tenantryv1alpha1.TenantDirectorySpec
		orgs []tenantryv1alpha1.DirectoryOrg
		at   int
		want tenantryv1alpha1.TenantDirectorySpec
		out  Outcome
	}{
		{
			name: "replaces: listed ones set, unlisted older ones removed",
			spec: orgsShard([]tenantryv1alpha1.DirectoryOrg{org("old", 1), org("a", 1)}, -1),
			orgs: []tenantryv1alpha1.DirectoryOrg{org("a", -1), org("b", -1)},
			at:   5,
			want: orgsShard([]tenantryv1alpha1.DirectoryOrg{org("a", 5), org("b", 5)}, 5),
			out:  Outcome{Applied: 4},
		},
		{
			name: "an older list still applies to departments it is newer for",
			spec: orgsShard([]tenantryv1alpha1.DirectoryOrg{org("new", 10), org("a", 1)}, 10),
			orgs: []tenantryv1alpha1.DirectoryOrg{{OrgCode: "a", OrgName: "A2"}, {OrgCode: "new", OrgName: "stale"}},
			at:   5,
			want: orgsShard([]tenantryv1alpha1.DirectoryOrg{org("new", 10), {OrgCode: "a", OrgName: "A2", SyncedAt: MicroTime(kitAt(5))}}, 10),
			out:  Outcome{Applied: 1, Ignored: 1},
		},
		{
			name: "a department removed after the list was sent stays removed",
			spec: orgsShard(nil, -1, orgRemoved("a", 9)),
			orgs: []tenantryv1alpha1.DirectoryOrg{org("a", -1)},
			at:   5,
			want: orgsShard(nil, 5, orgRemoved("a", 9)),
			out:  Outcome{Applied: 1, Ignored: 1},
		},
		{
			name: "an empty part of the list records its time",
			spec: orgsShard(nil, -1),
			at:   5,
			want: orgsShard(nil, 5),
			out:  Outcome{Applied: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := shards(tt.spec)
			out, err := ApplyOrgList(got, tt.orgs, kitAt(tt.at), now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.out, out); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(values(shards(tt.want)), values(got)); diff != "" {
				t.Errorf("shard (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClaimShard(t *testing.T) {
	spec := usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 1)}, userRemoved("u2", 1))
	spec.Shard = 7
	if ClaimShard(&spec, "t1") {
		t.Fatal("claimed a shard of the same tenant")
	}
	if !ClaimShard(&spec, "t2") {
		t.Fatal("did not claim another tenant's shard")
	}
	want := tenantryv1alpha1.TenantDirectorySpec{InstanceName: "i", Part: tenantryv1alpha1.DirectoryUsers, Shard: 7, TenantID: "t2"}
	if diff := cmp.Diff(want, spec); diff != "" {
		t.Errorf("claimed shard (-want +got):\n%s", diff)
	}
}

func TestCheckShard(t *testing.T) {
	big := strings.Repeat("x", 250)
	many := func(n int, fill string) []tenantryv1alpha1.DirectoryUser {
		users := make([]tenantryv1alpha1.DirectoryUser, n)
		for i := range users {
			users[i] = tenantryv1alpha1.DirectoryUser{AppID: "a", UserName: fmt.Sprintf("u%05d", i), Name: fill, Email: fill, Position: fill,
				SyncedAt: &metav1.MicroTime{Time: kitT0}}
		}
		return users
	}
	tests := []struct {
		name     string
		spec     tenantryv1alpha1.TenantDirectorySpec
		wantFull bool
	}{
		{name: "empty", spec: usersShard(nil)},
		{name: "1,000 users of ordinary size", spec: usersShard(many(tenantryv1alpha1.MaxDirectoryShardEntries, "Zhang San"))},
		{name: "1,001 users", spec: usersShard(many(tenantryv1alpha1.MaxDirectoryShardEntries+1, "")), wantFull: true},
		{name: "1,000 users with long fields: too many bytes", spec: usersShard(many(tenantryv1alpha1.MaxDirectoryShardEntries, big)), wantFull: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckShard(&tt.spec)
			var r *Refusal
			ok := errors.As(err, &r)
			if tt.wantFull != (ok && r.Reason == ReasonDirectoryFull) {
				t.Fatalf("CheckShard = %v, want full %v", err, tt.wantFull)
			}
			if tt.wantFull && !strings.Contains(r.Message, "directory is full") {
				t.Errorf("message %q does not say the directory is full", r.Message)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// crowd is n users named prefix-NNNN synced at at.
func crowd(prefix string, n, at int) []tenantryv1alpha1.DirectoryUser {
	users := make([]tenantryv1alpha1.DirectoryUser, n)
	for i := range users {
		users[i] = user(fmt.Sprintf("%s-%04d", prefix, i), at)
	}
	return users
}

// plus is users followed by more.
func plus(users []tenantryv1alpha1.DirectoryUser, more ...tenantryv1alpha1.DirectoryUser) []tenantryv1alpha1.DirectoryUser {
	return append(slices.Clone(users), more...)
}

func TestApplyUsersPlacement(t *testing.T) {
	now := kitAt(1000)
	full := crowd("full", tenantryv1alpha1.MaxDirectoryShardEntries, 1)
	// heavy is a shard whose users take nearly MaxShardBytes: no room for another user.
	heavy := make([]tenantryv1alpha1.DirectoryUser, 300)
	for i := range heavy {
		heavy[i] = user(fmt.Sprintf("heavy-%03d", i), 1)
		heavy[i].Position = strings.Repeat("p", MaxShardBytes/300-150)
	}
	spare := MaxShardBytes - 100 - len(mustJSON(t, usersShard(heavy)))
	heavy[0].Position += strings.Repeat("p", spare)
	renamed := func(name, display string, at int) tenantryv1alpha1.DirectoryUser {
		u := user(name, at)
		u.Name = display
		return u
	}
	tests := []struct {
		name   string
		shards []tenantryv1alpha1.TenantDirectorySpec
		users  []tenantryv1alpha1.DirectoryUser
		remove bool
		at     int
		want   []tenantryv1alpha1.TenantDirectorySpec
		out    Outcome
	}{
		{
			name:   "an existing user stays in its shard, even with room before it",
			shards: []tenantryv1alpha1.TenantDirectorySpec{usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 1)}), usersShard([]tenantryv1alpha1.DirectoryUser{user("u2", 1)})},
			users:  []tenantryv1alpha1.DirectoryUser{{UserName: "u2", Name: "U2 renamed"}},
			at:     5,
			want:   []tenantryv1alpha1.TenantDirectorySpec{usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 1)}), usersShard([]tenantryv1alpha1.DirectoryUser{renamed("u2", "U2 renamed", 5)})},
			out:    Outcome{Applied: 1},
		},
		{
			name:   "new users fill the lowest shard with room",
			shards: []tenantryv1alpha1.TenantDirectorySpec{usersShard(full), usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 1)}), usersShard(nil)},
			users:  []tenantryv1alpha1.DirectoryUser{user("u2", -1), user("u3", -1)},
			at:     5,
			want: []tenantryv1alpha1.TenantDirectorySpec{usersShard(full), usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 1), user("u2", 5), user("u3", 5)}),
				usersShard(nil)},
			out: Outcome{Applied: 2},
		},
		{
			name:   "a full shard spills to the next",
			shards: []tenantryv1alpha1.TenantDirectorySpec{usersShard(full[:999]), usersShard(nil), usersShard(nil)},
			users:  []tenantryv1alpha1.DirectoryUser{user("u1", -1), user("u2", -1)},
			at:     5,
			want:   []tenantryv1alpha1.TenantDirectorySpec{usersShard(plus(full[:999], user("u1", 5))), usersShard([]tenantryv1alpha1.DirectoryUser{user("u2", 5)}), usersShard(nil)},
			out:    Outcome{Applied: 2},
		},
		{
			name:   "a shard full of bytes spills to the next",
			shards: []tenantryv1alpha1.TenantDirectorySpec{usersShard(heavy), usersShard(nil)},
			users:  []tenantryv1alpha1.DirectoryUser{user("u1", -1)},
			at:     5,
			want:   []tenantryv1alpha1.TenantDirectorySpec{usersShard(heavy), usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 5)})},
			out:    Outcome{Applied: 1},
		},
		{
			name:   "a user that grows out of its shard moves to one with room",
			shards: []tenantryv1alpha1.TenantDirectorySpec{usersShard(plus(heavy, user("u1", 1))), usersShard(nil)},
			users:  []tenantryv1alpha1.DirectoryUser{{UserName: "u1", Name: "U1", Position: strings.Repeat("p", 4096)}},
			at:     5,
			want: []tenantryv1alpha1.TenantDirectorySpec{usersShard(heavy), usersShard([]tenantryv1alpha1.DirectoryUser{
				{AppID: "a", UserName: "u1", Name: "U1", Position: strings.Repeat("p", 4096), SyncedAt: MicroTime(kitAt(5))}})},
			out: Outcome{Applied: 1},
		},
		{
			name:   "a removal is remembered in the shard that held the user",
			shards: []tenantryv1alpha1.TenantDirectorySpec{usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 1)}), usersShard([]tenantryv1alpha1.DirectoryUser{user("u2", 1)})},
			users:  []tenantryv1alpha1.DirectoryUser{user("u2", -1)},
			remove: true,
			at:     5,
			want:   []tenantryv1alpha1.TenantDirectorySpec{usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 1)}), usersShard(nil, userRemoved("u2", 5))},
			out:    Outcome{Applied: 1},
		},
		{
			name:   "the removal of an absent user is remembered in the lowest shard with room",
			shards: []tenantryv1alpha1.TenantDirectorySpec{usersShard(heavy), usersShard(nil)},
			users:  []tenantryv1alpha1.DirectoryUser{user("u1", -1)},
			remove: true,
			at:     5,
			want:   []tenantryv1alpha1.TenantDirectorySpec{usersShard(heavy), usersShard(nil, userRemoved("u1", 5))},
			out:    Outcome{Applied: 1},
		},
		{
			name:   "a removal in a later shard blocks an older add that would go to an earlier one",
			shards: []tenantryv1alpha1.TenantDirectorySpec{usersShard(full), usersShard(nil), usersShard([]tenantryv1alpha1.DirectoryUser{user("u2", 1)}, userRemoved("u1", 5))},
			users:  []tenantryv1alpha1.DirectoryUser{user("u1", -1), user("u3", -1)},
			at:     4,
			want: []tenantryv1alpha1.TenantDirectorySpec{usersShard(full), usersShard([]tenantryv1alpha1.DirectoryUser{user("u3", 4)}),
				usersShard([]tenantryv1alpha1.DirectoryUser{user("u2", 1)}, userRemoved("u1", 5))},
			out: Outcome{Applied: 1, Ignored: 1},
		},
		{
			name:   "a newer add goes to the lowest shard with room and forgets the removal where it is",
			shards: []tenantryv1alpha1.TenantDirectorySpec{usersShard(full), usersShard(nil), usersShard([]tenantryv1alpha1.DirectoryUser{user("u2", 1)}, userRemoved("u1", 5))},
			users:  []tenantryv1alpha1.DirectoryUser{user("u1", -1)},
			at:     6,
			want: []tenantryv1alpha1.TenantDirectorySpec{usersShard(full), usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 6)}),
				usersShard([]tenantryv1alpha1.DirectoryUser{user("u2", 1)})},
			out: Outcome{Applied: 1},
		},
		{
			name: "of two copies of a user the newer wins, and the older is dropped",
			shards: []tenantryv1alpha1.TenantDirectorySpec{usersShard([]tenantryv1alpha1.DirectoryUser{renamed("u1", "old", 3)}),
				usersShard([]tenantryv1alpha1.DirectoryUser{renamed("u1", "new", 7)})},
			users: []tenantryv1alpha1.DirectoryUser{{UserName: "u1", Name: "stale"}, user("u2", -1)},
			at:    5,
			want: []tenantryv1alpha1.TenantDirectorySpec{usersShard([]tenantryv1alpha1.DirectoryUser{user("u2", 5)}),
				usersShard([]tenantryv1alpha1.DirectoryUser{renamed("u1", "new", 7)})},
			out: Outcome{Applied: 1, Ignored: 1},
		},
		{
			name: "of two copies synced at the same time the lower shard's wins",
			shards: []tenantryv1alpha1.TenantDirectorySpec{usersShard([]tenantryv1alpha1.DirectoryUser{renamed("u1", "first", 3)}),
				usersShard([]tenantryv1alpha1.DirectoryUser{renamed("u1", "second", 3)})},
			users: []tenantryv1alpha1.DirectoryUser{user("u2", -1)},
			at:    5,
			want: []tenantryv1alpha1.TenantDirectorySpec{usersShard([]tenantryv1alpha1.DirectoryUser{renamed("u1", "first", 3), user("u2", 5)}),
				usersShard(nil)},
			out: Outcome{Applied: 1},
		},
		{
			name: "a copy synced before a removal in another shard is dropped",
			shards: []tenantryv1alpha1.TenantDirectorySpec{usersShard(nil, userRemoved("u1", 5)),
				usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 4), user("u2", 1)})},
			users:  []tenantryv1alpha1.DirectoryUser{user("u3", -1)},
			remove: true,
			at:     6,
			want: []tenantryv1alpha1.TenantDirectorySpec{usersShard(nil, userRemoved("u1", 5), userRemoved("u3", 6)),
				usersShard([]tenantryv1alpha1.DirectoryUser{user("u2", 1)})},
			out: Outcome{Applied: 1},
		},
		{
			name: "duplicate removals keep the newest",
			shards: []tenantryv1alpha1.TenantDirectorySpec{usersShard(nil, userRemoved("u1", 5)),
				usersShard(nil, userRemoved("u1", 7))},
			users: []tenantryv1alpha1.DirectoryUser{user("u1", -1)},
			at:    6,
			want:  []tenantryv1alpha1.TenantDirectorySpec{usersShard(nil), usersShard(nil, userRemoved("u1", 7))},
			out:   Outcome{Ignored: 1},
		},
		{
			name:   "a repeat changes nothing",
			shards: []tenantryv1alpha1.TenantDirectorySpec{usersShard(full), usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 5)}, userRemoved("u9", 2))},
			users:  []tenantryv1alpha1.DirectoryUser{user("u1", -1)},
			at:     5,
			want:   []tenantryv1alpha1.TenantDirectorySpec{usersShard(full), usersShard([]tenantryv1alpha1.DirectoryUser{user("u1", 5)}, userRemoved("u9", 2))},
			out:    Outcome{Applied: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := shards(tt.shards...)
			out, err := ApplyUsers(got, "a", tt.users, tt.remove, kitAt(tt.at), now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.out, out); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(values(shards(tt.want...)), values(got)); diff != "" {
				t.Errorf("shards (-want +got):\n%s", diff)
			}
			for _, s := range got {
				if err := CheckShard(s); err != nil {
					t.Errorf("shard %d: %v", s.Shard, err)
				}
			}
		})
	}
}

func TestApplyUsersRefusesWhenNoShardHasRoom(t *testing.T) {
	got := shards(usersShard(crowd("a", tenantryv1alpha1.MaxDirectoryShardEntries, 1)), usersShard(crowd("b", tenantryv1alpha1.MaxDirectoryShardEntries-1, 1)))
	_, err := ApplyUsers(got, "a", []tenantryv1alpha1.DirectoryUser{user("u1", -1), user("u2", -1)}, false, kitAt(5), kitAt(1000))
	var r *Refusal
	ok := errors.As(err, &r)
	if !ok || r.Reason != ReasonDirectoryFull || !strings.Contains(r.Message, "directory is full") {
		t.Fatalf("ApplyUsers = %v, want a refusal saying the directory is full", err)
	}
	// A removal never needs room.
	got = shards(usersShard(crowd("a", tenantryv1alpha1.MaxDirectoryShardEntries, 1)))
	if _, err := ApplyUsers(got, "a", []tenantryv1alpha1.DirectoryUser{user("a-0001", -1), user("nobody", -1)}, true, kitAt(5), kitAt(1000)); err != nil {
		t.Fatalf("removal refused: %v", err)
	}
}

func TestDepartmentPlacement(t *testing.T) {
	now := kitAt(1000)
	tests := []struct {
		name   string
		shards []tenantryv1alpha1.TenantDirectorySpec
		apply  func([]*tenantryv1alpha1.TenantDirectorySpec) (Outcome, error)
		want   []tenantryv1alpha1.TenantDirectorySpec
		out    Outcome
	}{
		{
			name:   "a full list records its time in shard 0 only, and adds new departments there",
			shards: []tenantryv1alpha1.TenantDirectorySpec{orgsShard(nil, -1), orgsShard([]tenantryv1alpha1.DirectoryOrg{org("a", 1), org("gone", 1)}, -1), orgsShard(nil, -1)},
			apply: func(s []*tenantryv1alpha1.TenantDirectorySpec) (Outcome, error) {
				return ApplyOrgList(s, []tenantryv1alpha1.DirectoryOrg{org("a", -1), org("b", -1)}, kitAt(5), now)
			},
			want: []tenantryv1alpha1.TenantDirectorySpec{orgsShard([]tenantryv1alpha1.DirectoryOrg{org("b", 5)}, 5), orgsShard([]tenantryv1alpha1.DirectoryOrg{org("a", 5)}, -1), orgsShard(nil, -1)},
			out:  Outcome{Applied: 4},
		},
		{
			name:   "the last full list of any shard blocks an older add of an absent department",
			shards: []tenantryv1alpha1.TenantDirectorySpec{orgsShard(nil, 2), orgsShard(nil, 6)},
			apply: func(s []*tenantryv1alpha1.TenantDirectorySpec) (Outcome, error) {
				return ApplyOrg(s, org("a", -1), false, kitAt(5), now)
			},
			want: []tenantryv1alpha1.TenantDirectorySpec{orgsShard(nil, 2), orgsShard(nil, 6)},
			out:  Outcome{Ignored: 1},
		},
		{
			name:   "a department is changed in the shard holding it",
			shards: []tenantryv1alpha1.TenantDirectorySpec{orgsShard(nil, -1), orgsShard([]tenantryv1alpha1.DirectoryOrg{org("a", 1)}, -1)},
			apply: func(s []*tenantryv1alpha1.TenantDirectorySpec) (Outcome, error) {
				return ApplyOrg(s, tenantryv1alpha1.DirectoryOrg{OrgCode: "a", OrgName: "A2"}, false, kitAt(5), now)
			},
			want: []tenantryv1alpha1.TenantDirectorySpec{orgsShard(nil, -1), orgsShard([]tenantryv1alpha1.DirectoryOrg{{OrgCode: "a", OrgName: "A2", SyncedAt: MicroTime(kitAt(5))}}, -1)},
			out:  Outcome{Applied: 1},
		},
		{
			name:   "a removal in another shard blocks an older add",
			shards: []tenantryv1alpha1.TenantDirectorySpec{orgsShard(nil, -1), orgsShard(nil, -1, orgRemoved("a", 5))},
			apply: func(s []*tenantryv1alpha1.TenantDirectorySpec) (Outcome, error) {
				return ApplyOrg(s, org("a", -1), false, kitAt(4), now)
			},
			want: []tenantryv1alpha1.TenantDirectorySpec{orgsShard(nil, -1), orgsShard(nil, -1, orgRemoved("a", 5))},
			out:  Outcome{Ignored: 1},
		},
		{
			name: "of two copies of a department the newer wins",
			shards: []tenantryv1alpha1.TenantDirectorySpec{orgsShard([]tenantryv1alpha1.DirectoryOrg{{OrgCode: "a", OrgName: "old", SyncedAt: MicroTime(kitAt(3))}}, -1),
				orgsShard([]tenantryv1alpha1.DirectoryOrg{org("a", 7)}, -1)},
			apply: func(s []*tenantryv1alpha1.TenantDirectorySpec) (Outcome, error) {
				return ApplyOrg(s, org("b", -1), false, kitAt(5), now)
			},
			want: []tenantryv1alpha1.TenantDirectorySpec{orgsShard([]tenantryv1alpha1.DirectoryOrg{org("b", 5)}, -1), orgsShard([]tenantryv1alpha1.DirectoryOrg{org("a", 7)}, -1)},
			out:  Outcome{Applied: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := shards(tt.shards...)
			out, err := tt.apply(got)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.out, out); diff != "" {
				t.Errorf("outcome (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(values(shards(tt.want...)), values(got)); diff != "" {
				t.Errorf("shards (-want +got):\n%s", diff)
			}
		})
	}
}
