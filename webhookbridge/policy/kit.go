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
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// The 联营 kit decisions (docs/protocol.md §6.2, §6.11). Kit calls are never resent, so nothing
// valid may be dropped: changes are ordered per key — the tenant; each application; each
// (application, user); each department — never per list, and a removal is remembered (key and
// time) so that an add sent before it but delivered after it does not bring the thing back.

// Kit reasons for a change answered 000000 without effect (see also ReasonOutOfOrder).
const (
	// ReasonOtherTenant: a removal for a tenant that is not the one bound to the instance;
	// the goal state (it is not there) holds.
	ReasonOtherTenant = "other_tenant"
)

// Kit refusal reasons (000002).
const (
	ReasonTenantMismatch = "tenant-mismatch"
	ReasonDirectoryFull  = "directory-full"
	ReasonTooManyApps    = "too-many-applications"
)

// RemovalTTL is how long a removal is remembered. Kit calls are delivered within seconds; a
// change delivered more than a day after a later removal of the same key is assumed never to
// come. Past the TTL, or past MaxDirectoryShardRemoved (MaxAppRecords for applications), the
// oldest removals are forgotten: the trade-off is a bounded object against a day's protection.
const RemovalTTL = 24 * time.Hour

// MaxShardBytes bounds the encoded spec of one directory shard: far below etcd's 1.5 MiB request
// limit and the 1 MiB a ConfigMap may hold, with room for metadata.
const MaxShardBytes = 700 * 1024

// MaxApplications is how many applications spec.tenant.applications may hold.
const MaxApplications = 16

// MaxAppRecords bounds the application records (live ones and remembered removals).
const MaxAppRecords = 64

// AnnotationKitApplications holds, on a TenantInstance, the marketplace time of the last change
// of each application of the bound tenant (AppRecords as JSON). It is written in the same update
// as spec.tenant.applications, so the order of per-application changes and their removals is
// decided atomically with the change itself.
const AnnotationKitApplications = "tenantry.io/kit-applications"

// Refusal is a kit change the bridge refuses with 000002; Reason labels it in metrics and logs,
// Message says why (no personal data).
type Refusal struct {
	Reason  string
	Message string
}

func (r *Refusal) Error() string { return r.Message }

func refuse(reason, format string, args ...any) *Refusal {
	return &Refusal{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// AppRecord is the last change of one application: when, and whether it removed it.
type AppRecord struct {
	At      time.Time `json:"at"`
	Removed bool      `json:"removed,omitempty"`
}

// AppRecords are the application records of an instance, by appId.
type AppRecords map[string]AppRecord

// ParseAppRecords reads AnnotationKitApplications; an empty or unreadable value is no records
// (the worst case is that one late, older change of an application applies).
func ParseAppRecords(s string) AppRecords {
	recs := AppRecords{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &recs)
	}
	return recs
}

// Encode writes the records for AnnotationKitApplications; no records is "".
func (r AppRecords) Encode() string {
	if len(r) == 0 {
		return ""
	}
	b, _ := json.Marshal(r) // map keys are sorted: the same records give the same text
	return string(b)
}

// prune forgets removals older than RemovalTTL before now and, past MaxAppRecords, the oldest.
func (r AppRecords) prune(now time.Time) {
	var removed []string
	for id, rec := range r {
		if rec.Removed && rec.At.Before(now.Add(-RemovalTTL)) {
			delete(r, id)
			continue
		}
		if rec.Removed {
			removed = append(removed, id)
		}
	}
	if extra := len(r) - MaxAppRecords; extra > 0 {
		slices.SortFunc(removed, func(a, b string) int { return r[a].At.Compare(r[b].At) })
		for _, id := range removed[:min(extra, len(removed))] {
			delete(r, id)
		}
	}
}

// TenantChange is a tenantSync.
type TenantChange struct {
	TenantID, TenantCode, Name, DomainName string
	Remove                                 bool
	At                                     time.Time
}

// TenantDecision is the outcome of a tenantSync: Ignored, or the spec and application records
// to write. Unbound names the tenant whose directory and credentials go with this change (the
// tenant removed, or the one replaced by another); empty when none does.
type TenantDecision struct {
	Ignored string
	Spec    *tenantryv1alpha1.TenantInstanceSpec
	Apps    AppRecords
	Unbound string
}

// DecideTenant orders tenantSync by spec.marketplace.tenantSetAt, which only tenantSync sets:
// the tenant's own fields have their own time, so an applicationSync delivered first does not
// make them look newer. Adding or modifying the bound tenant keeps its applications; binding
// another tenant replaces it, and the previous tenant's applications go with it. Removing the
// bound tenant unbinds it; removing another tenant changes nothing (ReasonOtherTenant). An
// applied removal leaves tenantSetAt as its tombstone: a change of the tenant sent before it is
// ignored.
func DecideTenant(spec *tenantryv1alpha1.TenantInstanceSpec, apps AppRecords, c TenantChange) TenantDecision {
	if m := spec.Marketplace; m != nil && SentBefore(c.At, m.TenantSetAt) {
		return TenantDecision{Ignored: ReasonOutOfOrder}
	}
	out := spec.DeepCopy()
	bound := out.Tenant
	d := TenantDecision{Spec: out, Apps: apps}
	if c.Remove {
		if bound != nil && bound.TenantID != c.TenantID {
			return TenantDecision{Ignored: ReasonOtherTenant}
		}
		if bound != nil {
			d.Unbound = bound.TenantID
		}
		out.Tenant = nil
		d.Apps = AppRecords{}
		record(out).TenantSetAt = MicroTime(c.At)
		return d
	}
	t := &tenantryv1alpha1.Tenant{TenantID: c.TenantID, TenantCode: c.TenantCode, Name: c.Name, DomainName: c.DomainName}
	if bound != nil && bound.TenantID == c.TenantID {
		t.Applications = bound.Applications
	} else {
		if bound != nil {
			d.Unbound = bound.TenantID
		}
		d.Apps = AppRecords{}
	}
	out.Tenant = t
	record(out).TenantSetAt = MicroTime(c.At)
	return d
}

// AppChange is an applicationSync.
type AppChange struct {
	TenantID, AppID, ClientID, EncryptedClientSecret string
	Remove                                           bool
	At                                               time.Time
}

// AppDecision is the outcome of an applicationSync: Ignored, or the spec and records to write.
type AppDecision struct {
	Ignored string
	Spec    *tenantryv1alpha1.TenantInstanceSpec
	Apps    AppRecords
}

// DecideApp orders an applicationSync per application, by its record in apps, and never by the
// tenant's time: an application of the bound tenant applies unless a newer change of the same
// application was applied (or removed it). An application sent before tenantSync bound the
// tenant binds the tenant by id (tenantSync fills in the rest, whatever the order). A change for
// another tenant than the bound one is ignored when the binding is newer than the change, and a
// removal always succeeds; otherwise it is refused (ReasonTenantMismatch): the idempotency keys
// (§6.2) start with the tenant, so it cannot be merged. now prunes old removal records.
func DecideApp(spec *tenantryv1alpha1.TenantInstanceSpec, apps AppRecords, c AppChange, now time.Time) (AppDecision, error) {
	if ignored, err := TenantOf(spec, c.TenantID, c.At, c.Remove); ignored != "" || err != nil {
		return AppDecision{Ignored: ignored}, err
	}
	if rec, ok := apps[c.AppID]; ok && c.At.Before(rec.At) {
		return AppDecision{Ignored: ReasonOutOfOrder}, nil
	}
	out := spec.DeepCopy()
	recs := make(AppRecords, len(apps)+1)
	for k, v := range apps {
		recs[k] = v
	}
	t := out.Tenant
	isApp := func(a tenantryv1alpha1.TenantApplication) bool { return a.AppID == c.AppID }
	if c.Remove {
		if t != nil {
			t.Applications = slices.DeleteFunc(t.Applications, isApp)
			if len(t.Applications) == 0 {
				t.Applications = nil
			}
		}
		recs[c.AppID] = AppRecord{At: c.At.UTC(), Removed: true}
	} else {
		if t == nil {
			t = &tenantryv1alpha1.Tenant{TenantID: c.TenantID}
			out.Tenant = t
		}
		app := tenantryv1alpha1.TenantApplication{AppID: c.AppID, ClientID: c.ClientID, EncryptedClientSecret: c.EncryptedClientSecret}
		if i := slices.IndexFunc(t.Applications, isApp); i >= 0 {
			t.Applications[i] = app
		} else {
			if len(t.Applications) >= MaxApplications {
				return AppDecision{}, refuse(ReasonTooManyApps, "the tenant already has %d applications, the most an instance holds", MaxApplications)
			}
			t.Applications = append(t.Applications, app)
		}
		recs[c.AppID] = AppRecord{At: c.At.UTC()}
	}
	recs.prune(now)
	return AppDecision{Spec: out, Apps: recs}, nil
}

// TenantOf decides whether a change of an application or of the directory for tenantID, sent at
// at, concerns the instance: "" and no error when it does. It does not when another tenant is
// bound: a removal is then ignored (ReasonOtherTenant), a change sent before that tenant was
// bound is ignored (ReasonOutOfOrder), anything else is refused (ReasonTenantMismatch). With no
// tenant bound, a change sent before the last tenantSync (which removed the tenant) is ignored
// (ReasonOutOfOrder); others apply: the directory is kept under its tenantId and projected once
// that tenant is bound.
func TenantOf(spec *tenantryv1alpha1.TenantInstanceSpec, tenantID string, at time.Time, remove bool) (string, error) {
	var setAt *metav1.MicroTime
	if m := spec.Marketplace; m != nil {
		setAt = m.TenantSetAt
	}
	switch bound := spec.Tenant; {
	case bound != nil && bound.TenantID == tenantID:
		return "", nil
	case bound != nil && remove:
		return ReasonOtherTenant, nil
	case bound != nil && SentBefore(at, setAt):
		return ReasonOutOfOrder, nil
	case bound != nil:
		return "", refuse(ReasonTenantMismatch, "the call's tenantId differs from the tenant bound to the instance")
	case SentBefore(at, setAt):
		return ReasonOutOfOrder, nil
	}
	return "", nil
}
