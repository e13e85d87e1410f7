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
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Outcome counts what a directory change did to one shard.
type Outcome struct {
	// Applied changes, removals of what was absent included (they are remembered).
	Applied int
	// Ignored changes: older than the last change of the same key.
	Ignored int
}

// Changed reports whether anything applied.
func (o Outcome) Changed() bool { return o.Applied > 0 }

// Add sums outcomes.
func (o Outcome) Add(p Outcome) Outcome {
	return Outcome{Applied: o.Applied + p.Applied, Ignored: o.Ignored + p.Ignored}
}

// ClaimShard makes spec a shard of tenantID: one written for another tenant (one whose binding
// was replaced, and whose removal did not go through) is emptied first. It reports whether it
// emptied it.
func ClaimShard(spec *tenantryv1alpha1.TenantDirectorySpec, tenantID string) bool {
	if spec.TenantID == tenantID {
		return false
	}
	*spec = tenantryv1alpha1.TenantDirectorySpec{InstanceName: spec.InstanceName, Part: spec.Part, Shard: spec.Shard, TenantID: tenantID}
	return true
}

// Placement (docs/protocol.md §6.11). The shards of a part are filled in order: an entry stays in
// the shard that holds it, and a new one goes into the lowest-numbered shard with room for it
// (MaxDirectoryShardEntries entries, MaxShardBytes bytes). A batch of new users therefore lands
// in one shard, or two where it spills over, and a change of existing entries touches only the
// shards holding them, so what a call writes follows its size rather than the directory's. The
// decisions read every shard of the part: an entry and its removal may sit in different shards.
//
// Two writers placing the same new key at once may each put it in a different shard (each
// conflicts only on the shards it writes), and a removal may land in another shard than a
// concurrent add of the same key. Such copies are resolved by time, both here and in the
// operator's projection: of several entries of one key the one synced last wins (on a tie the
// lowest shard), and an entry synced at or before a remembered removal of its key is gone. The
// next write of the part drops the losers, so they do not last.

// placementSlack is what an entry may add to its shard's encoding besides its own: the comma,
// the list's name and brackets when it was empty, the count's digits.
const placementSlack = 64

// kind describes one part's entries to the placement code.
type kind[E any] struct {
	// noun names the entries in messages.
	noun string
	// list is the part's entry list in a shard.
	list func(*tenantryv1alpha1.TenantDirectorySpec) *[]E
	// key identifies an entry; removalKey the entry a removal is of ("" for another part's).
	key        func(*E) string
	removalKey func(*tenantryv1alpha1.DirectoryRemoval) string
	syncedAt   func(*E) *metav1.MicroTime
}

var userKind = kind[tenantryv1alpha1.DirectoryUser]{
	noun: "users",
	list: func(s *tenantryv1alpha1.TenantDirectorySpec) *[]tenantryv1alpha1.DirectoryUser { return &s.Users },
	key:  func(u *tenantryv1alpha1.DirectoryUser) string { return userKey(u.AppID, u.UserName) },
	removalKey: func(r *tenantryv1alpha1.DirectoryRemoval) string {
		if r.UserName == "" {
			return ""
		}
		return userKey(r.AppID, r.UserName)
	},
	syncedAt: func(u *tenantryv1alpha1.DirectoryUser) *metav1.MicroTime { return u.SyncedAt },
}

// userKey joins appId and userName with a NUL, which neither may contain.
func userKey(appID, userName string) string { return appID + "\x00" + userName }

var orgKind = kind[tenantryv1alpha1.DirectoryOrg]{
	noun:       "departments",
	list:       func(s *tenantryv1alpha1.TenantDirectorySpec) *[]tenantryv1alpha1.DirectoryOrg { return &s.Orgs },
	key:        func(o *tenantryv1alpha1.DirectoryOrg) string { return o.OrgCode },
	removalKey: func(r *tenantryv1alpha1.DirectoryRemoval) string { return r.OrgCode },
	syncedAt:   func(o *tenantryv1alpha1.DirectoryOrg) *metav1.MicroTime { return o.SyncedAt },
}

// directory is every shard of one part during a change: where each key's entry and removal
// are, and how many bytes each shard encodes to.
type directory[E any] struct {
	kind     *kind[E]
	shards   []*tenantryv1alpha1.TenantDirectorySpec
	size     []int
	touched  []bool
	entries  map[string]int // key → shard holding its entry
	removals map[string]int // key → shard holding its removal
}

// newDirectory indexes shards (the part's shards by index, each non-nil, an absent one empty),
// dropping the copies that lose to a newer entry or removal of the same key.
func newDirectory[E any](k *kind[E], shards []*tenantryv1alpha1.TenantDirectorySpec) *directory[E] {
	d := &directory[E]{kind: k, shards: shards, size: make([]int, len(shards)), touched: make([]bool, len(shards)),
		entries: map[string]int{}, removals: map[string]int{}}
	type winner struct {
		shard, pos int
		at         *metav1.MicroTime
	}
	entries, removals := map[string]winner{}, map[string]winner{}
	for i, s := range shards {
		for pos := range *k.list(s) {
			e := &(*k.list(s))[pos]
			key := k.key(e)
			if w, ok := entries[key]; !ok || after(k.syncedAt(e), w.at) {
				entries[key] = winner{i, pos, k.syncedAt(e)}
			}
		}
		for pos := range s.Removed {
			r := &s.Removed[pos]
			if key := k.removalKey(r); key != "" {
				if w, ok := removals[key]; !ok || after(&r.RemovedAt, w.at) {
					at := r.RemovedAt
					removals[key] = winner{i, pos, &at}
				}
			}
		}
	}
	for i, s := range shards {
		list := k.list(s)
		kept := (*list)[:0]
		for pos, e := range *list {
			key := k.key(&e)
			w, r := entries[key], removals[key]
			switch {
			case r.at != nil && !after(k.syncedAt(&e), r.at): // removed at or after it was synced
			case w.shard != i || w.pos != pos: // a copy that lost
			default:
				kept = append(kept, e)
				d.entries[key] = i
			}
		}
		keptRemoved := s.Removed[:0]
		for pos, r := range s.Removed {
			key := k.removalKey(&r)
			if w, ok := removals[key]; key != "" && ok && (w.shard != i || w.pos != pos) {
				continue
			}
			keptRemoved = append(keptRemoved, r)
			if key != "" {
				d.removals[key] = i
			}
		}
		d.touched[i] = len(kept) != len(*list) || len(keptRemoved) != len(s.Removed)
		*list, s.Removed = kept, keptRemoved
		d.size[i] = encodedLen(s)
	}
	return d
}

// after reports whether a is later than b, a missing time being the earliest.
func after(a, b *metav1.MicroTime) bool {
	switch {
	case a == nil:
		return false
	case b == nil:
		return true
	}
	return b.Time.Before(a.Time)
}

func encodedLen(v any) int {
	b, _ := json.Marshal(v) // the directory's types always encode
	return len(b)
}

// entry is key's entry: its shard and position, or -1.
func (d *directory[E]) entry(key string) (int, int) {
	i, ok := d.entries[key]
	if !ok {
		return -1, -1
	}
	return i, slices.IndexFunc(*d.kind.list(d.shards[i]), func(e E) bool { return d.kind.key(&e) == key })
}

// removal is key's remembered removal: its shard and position, or -1.
func (d *directory[E]) removal(key string) (int, int) {
	i, ok := d.removals[key]
	if !ok {
		return -1, -1
	}
	return i, slices.IndexFunc(d.shards[i].Removed, func(r tenantryv1alpha1.DirectoryRemoval) bool { return d.kind.removalKey(&r) == key })
}

// ignores reports whether a change of key sent at at is older than its entry or its removal.
func (d *directory[E]) ignores(key string, at time.Time) bool {
	if i, p := d.entry(key); i >= 0 && SentBefore(at, d.kind.syncedAt(&(*d.kind.list(d.shards[i]))[p])) {
		return true
	}
	if i, p := d.removal(key); i >= 0 && at.Before(d.shards[i].Removed[p].RemovedAt.Time) {
		return true
	}
	return false
}

func (d *directory[E]) fits(i, grow int) bool { return d.size[i]+grow+placementSlack <= MaxShardBytes }

// put adds or replaces e: in the shard holding its key while it fits there, else in the lowest
// shard with room. It refuses (ReasonDirectoryFull) when no shard has room.
func (d *directory[E]) put(e E) error {
	key := d.kind.key(&e)
	n := encodedLen(e) + 1
	if i, p := d.entry(key); i >= 0 {
		list := d.kind.list(d.shards[i])
		old := encodedLen((*list)[p]) + 1
		if d.fits(i, n-old) {
			(*list)[p] = e
			d.size[i] += n - old
			d.touched[i] = true
			return nil
		}
		d.deleteEntry(key) // it grew out of its shard
	}
	for i, s := range d.shards {
		if list := d.kind.list(s); len(*list) < tenantryv1alpha1.MaxDirectoryShardEntries && d.fits(i, n) {
			*list = append(*list, e)
			d.size[i] += n
			d.touched[i] = true
			d.entries[key] = i
			return nil
		}
	}
	return refuse(ReasonDirectoryFull, "the instance's directory is full: none of its %d shards of %s has room for more (each holds at most %d entries and %d bytes)",
		len(d.shards), d.kind.noun, tenantryv1alpha1.MaxDirectoryShardEntries, MaxShardBytes)
}

// deleteEntry deletes key's entry, if any, and reports the shard that held it, or -1.
func (d *directory[E]) deleteEntry(key string) int {
	i, p := d.entry(key)
	if i < 0 {
		return -1
	}
	list := d.kind.list(d.shards[i])
	d.size[i] -= encodedLen((*list)[p]) + 1
	*list = slices.Delete(*list, p, p+1)
	d.touched[i] = true
	delete(d.entries, key)
	return i
}

// forget forgets key's removal, if any: an add sent after it applies.
func (d *directory[E]) forget(key string) {
	if i, p := d.removal(key); i >= 0 {
		d.size[i] -= encodedLen(d.shards[i].Removed[p]) + 1
		d.shards[i].Removed = slices.Delete(d.shards[i].Removed, p, p+1)
		d.touched[i] = true
		delete(d.removals, key)
	}
}

// remove deletes key's entry and remembers the removal r: where its removal already is, else in
// the shard that held the entry, else in the lowest shard with room. With no room anywhere
// (every shard full to the byte) the removal still applies, unremembered.
func (d *directory[E]) remove(key string, r tenantryv1alpha1.DirectoryRemoval) {
	held := d.deleteEntry(key)
	if i, p := d.removal(key); i >= 0 {
		d.shards[i].Removed[p].RemovedAt = r.RemovedAt
		d.touched[i] = true
		return
	}
	n := encodedLen(r) + 1
	order := make([]int, 0, len(d.shards)+1)
	if held >= 0 {
		order = append(order, held)
	}
	for i := range d.shards {
		order = append(order, i)
	}
	for _, i := range order {
		if d.fits(i, n) {
			d.shards[i].Removed = append(d.shards[i].Removed, r)
			d.size[i] += n
			d.touched[i] = true
			d.removals[key] = i
			return
		}
	}
}

// finish tidies every shard the change touched (finishShard).
func (d *directory[E]) finish(now time.Time) {
	for i, s := range d.shards {
		if d.touched[i] {
			finishShard(s, now)
		}
	}
}

// ApplyUsers applies an authSync's users at time at to the user shards (indexed by shard
// number, each non-nil: an absent shard is passed empty). Each user is its own key (appID, user
// name) and applies unless it changed, or was removed, after at. remove removes (and remembers
// the removal); otherwise users are added or replaced, with syncedAt at, where they are or in the
// lowest shard with room. now prunes old removals in the shards changed. The users' SyncedAt is
// ignored. It refuses (ReasonDirectoryFull) when a user fits in no shard; shards may then be
// half changed and must not be written.
func ApplyUsers(shards []*tenantryv1alpha1.TenantDirectorySpec, appID string, users []tenantryv1alpha1.DirectoryUser, remove bool, at, now time.Time) (Outcome, error) {
	d := newDirectory(&userKind, shards)
	defer d.finish(now)
	var out Outcome
	for _, u := range users {
		key := userKey(appID, u.UserName)
		if d.ignores(key, at) {
			out.Ignored++
			continue
		}
		out.Applied++
		if remove {
			d.remove(key, tenantryv1alpha1.DirectoryRemoval{AppID: appID, UserName: u.UserName, RemovedAt: *MicroTime(at)})
			continue
		}
		u.AppID, u.SyncedAt = appID, MicroTime(at)
		d.forget(key)
		if err := d.put(u); err != nil {
			return out, err
		}
	}
	return out, nil
}

// OrgListAt is the time of the last full department list applied to the department shards:
// the latest orgListAt of any of them (the bridge records it in shard 0; older versions
// recorded it in every shard).
func OrgListAt(shards []*tenantryv1alpha1.TenantDirectorySpec) *metav1.MicroTime {
	var latest *metav1.MicroTime
	for _, s := range shards {
		if after(s.OrgListAt, latest) {
			latest = s.OrgListAt
		}
	}
	return latest
}

// ApplyOrg applies a singleOrgSync of one department at time at to the department shards (as
// ApplyUsers). It applies unless the department changed or was removed after at, or — when it
// is absent — a full list sent after at did not have it.
func ApplyOrg(shards []*tenantryv1alpha1.TenantDirectorySpec, org tenantryv1alpha1.DirectoryOrg, remove bool, at, now time.Time) (Outcome, error) {
	d := newDirectory(&orgKind, shards)
	defer d.finish(now)
	if i, _ := d.entry(org.OrgCode); d.ignores(org.OrgCode, at) || (i < 0 && SentBefore(at, OrgListAt(shards))) {
		return Outcome{Ignored: 1}, nil
	}
	if remove {
		d.remove(org.OrgCode, tenantryv1alpha1.DirectoryRemoval{OrgCode: org.OrgCode, RemovedAt: *MicroTime(at)})
		return Outcome{Applied: 1}, nil
	}
	org.SyncedAt = MicroTime(at)
	d.forget(org.OrgCode)
	if err := d.put(org); err != nil {
		return Outcome{}, err
	}
	return Outcome{Applied: 1}, nil
}

// ApplyOrgList applies an allOrgSync's full list (each orgCode once), sent at at, to the
// department shards (as ApplyUsers). Each department is its own key: a listed one applies unless
// it changed or was removed after at; an unlisted one is removed unless it changed after at. The
// list's time is recorded in shard 0 when it is later than OrgListAt, so that an older change of
// a department the list did not have is not applied afterwards. A list sent before the last one
// still applies to the departments it is newer for.
func ApplyOrgList(shards []*tenantryv1alpha1.TenantDirectorySpec, orgs []tenantryv1alpha1.DirectoryOrg, at, now time.Time) (Outcome, error) {
	d := newDirectory(&orgKind, shards)
	defer d.finish(now)
	var out Outcome
	listed := make(map[string]bool, len(orgs))
	for _, o := range orgs {
		listed[o.OrgCode] = true
	}
	for i, s := range shards {
		kept := s.Orgs[:0]
		for _, o := range s.Orgs {
			if listed[o.OrgCode] || SentBefore(at, o.SyncedAt) {
				kept = append(kept, o)
				continue
			}
			d.size[i] -= encodedLen(o) + 1
			d.touched[i] = true
			delete(d.entries, o.OrgCode)
			out.Applied++
		}
		s.Orgs = kept
	}
	if last := OrgListAt(shards); last == nil || last.Time.Before(at) {
		shards[0].OrgListAt = MicroTime(at)
		d.touched[0] = true
		d.size[0] += placementSlack // the field, at most once
		out.Applied++
	}
	for _, o := range orgs {
		if d.ignores(o.OrgCode, at) {
			out.Ignored++
			continue
		}
		o.SyncedAt = MicroTime(at)
		d.forget(o.OrgCode)
		if err := d.put(o); err != nil {
			return out, err
		}
		out.Applied++
	}
	return out, nil
}

// finishShard drops forgotten removals (see RemovalTTL), keeps at most
// MaxDirectoryShardRemoved newest ones, sets the counts and normalises empty lists to nil.
func finishShard(spec *tenantryv1alpha1.TenantDirectorySpec, now time.Time) {
	spec.Removed = slices.DeleteFunc(spec.Removed, func(r tenantryv1alpha1.DirectoryRemoval) bool {
		return (r.UserName == "" && r.OrgCode == "") || r.RemovedAt.Time.Before(now.Add(-RemovalTTL))
	})
	if extra := len(spec.Removed) - tenantryv1alpha1.MaxDirectoryShardRemoved; extra > 0 {
		slices.SortStableFunc(spec.Removed, func(a, b tenantryv1alpha1.DirectoryRemoval) int { return b.RemovedAt.Compare(a.RemovedAt.Time) })
		spec.Removed = spec.Removed[:tenantryv1alpha1.MaxDirectoryShardRemoved]
	}
	if len(spec.Removed) == 0 {
		spec.Removed = nil
	}
	if len(spec.Users) == 0 {
		spec.Users = nil
	}
	if len(spec.Orgs) == 0 {
		spec.Orgs = nil
	}
	spec.UserCount, spec.OrgCount = int32(len(spec.Users)), int32(len(spec.Orgs)) //nolint:gosec // bounded by MaxDirectoryShardEntries
}

// CheckShard refuses (ReasonDirectoryFull) a shard holding more than MaxDirectoryShardEntries
// users or departments, or whose spec encodes to more than MaxShardBytes: the last guard before
// a write, as placement already keeps within both. Filled in order, 32 user and 16 department
// shards hold up to 32,000 users and 16,000 departments of a few hundred bytes each, and still
// about 15,000 users and 10,000 departments whose stored fields are all near their maximum
// length (about 1.5 KB of JSON a user, 1 KB a department). More shards would mean more
// ConfigMaps for the kubelet to watch in every pod.
func CheckShard(spec *tenantryv1alpha1.TenantDirectorySpec) error {
	if n := len(spec.Users); n > tenantryv1alpha1.MaxDirectoryShardEntries {
		return refuse(ReasonDirectoryFull, "the instance's directory is full: shard %d of its users would hold %d users, at most %d are allowed",
			spec.Shard, n, tenantryv1alpha1.MaxDirectoryShardEntries)
	}
	if n := len(spec.Orgs); n > tenantryv1alpha1.MaxDirectoryShardEntries {
		return refuse(ReasonDirectoryFull, "the instance's directory is full: shard %d of its departments would hold %d departments, at most %d are allowed",
			spec.Shard, n, tenantryv1alpha1.MaxDirectoryShardEntries)
	}
	if n := encodedLen(spec); n > MaxShardBytes {
		return refuse(ReasonDirectoryFull, "the instance's directory is full: %s shard %d would take %d bytes, at most %d are allowed",
			spec.Part, spec.Shard, n, MaxShardBytes)
	}
	return nil
}
