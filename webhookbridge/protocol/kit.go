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

package protocol

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// KitRequest is a decoded 联营 kit sync call (docs/protocol.md §5). Exactly one
// payload pointer is set, the one matching Name.
type KitRequest struct {
	// Name is the kit sync name (one of the Kit* constants).
	Name string
	// TestFlag is true for testFlag 1.
	TestFlag bool
	// TimeStamp is the body's timeStamp (sent in UTC+8), as a UTC instant.
	TimeStamp time.Time
	// InstanceID and OrderID are empty when the merchant itself tests the
	// kit credentials from the marketplace console.
	InstanceID string
	OrderID    string

	TenantSync      *TenantSync
	ApplicationSync *ApplicationSync
	AuthSync        *AuthSync
	SingleOrgSync   *SingleOrgSync
	AllOrgSync      *AllOrgSync

	// Notes lists what the decoder tolerated (docs/protocol.md §6.11): unknown
	// members, a stored field sent as a number, an unknown role, a value cut to
	// its stored length, a value of the wrong kind dropped. Each note names the
	// field and what was done, never the value, so notes can be logged. At
	// most MaxKitNotes are kept; the last one then says how many more there were.
	Notes []string
}

// MaxKitNotes bounds KitRequest.Notes.
const MaxKitNotes = 20

// ReasonCrossCallMember is the reason of a kit body carrying a member of
// another kit call: the kit signature does not cover the path, so such a body
// could be one signed for another call and replayed here (docs/protocol.md §6.11).
const ReasonCrossCallMember = "cross-call-member"

// Lengths the bridge stores tolerant kit fields at; a longer value is cut at a
// character boundary (and noted), so that one odd field never refuses a batch.
const (
	MaxKitNameLength = 256
	MaxKitCodeLength = 256
	// MaxKitTenantCodeLength is what spec.tenant.tenantCode holds.
	MaxKitTenantCodeLength = 128
	MaxKitDomainLength     = 512
	MaxKitPhoneLength      = 64
	MaxKitEmailLength      = 256
	MaxKitRoleLength       = 32
	MaxKitEmployeeLength   = 128
	MaxKitTypeLength       = 64
	// MaxKitAppIDLength bounds appId, which becomes part of Secret keys.
	MaxKitAppIDLength = 64
	// MaxKitTenantIDLength bounds tenantId, which the instance and every directory shard record.
	MaxKitTenantIDLength = 64
)

// appIDPattern is what an appId may look like: it becomes a Secret data key
// (<appId>.clientId), which must match [-._a-zA-Z0-9]+.
var appIDPattern = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// TenantSync binds the buyer enterprise to an instance. Key: (instance, tenant).
type TenantSync struct {
	TenantID   string
	TenantCode string // stored only: any JSON scalar, kept as text
	Name       string // stored only
	DomainName string // stored only
	Flag       int    // FlagDelete, FlagAdd or FlagModify
}

// ApplicationSync delivers the tenant app's OAuth client. Key: (instance,
// tenant, app). ClientSecret is as sent, RSA-OAEP encrypted: decrypt with
// DecryptClientSecret.
type ApplicationSync struct {
	TenantID     string
	AppID        string // [-._a-zA-Z0-9]+, at most MaxKitAppIDLength
	ClientID     string // mandatory unless Flag is FlagDelete
	ClientSecret string // mandatory unless Flag is FlagDelete
	Flag         int
}

// AuthSync lists users authorised to the app. Key: (instance, tenant, app,
// userName).
type AuthSync struct {
	TenantID        string
	AppID           string    // as in ApplicationSync
	UserList        []KitUser // at most MaxKitUsers, possibly empty
	CurrentSyncTime string    // as sent, optional, not acted on
	Flag            int       // FlagDelete, FlagAdd, FlagModify or FlagCancel
}

// KitUser is one authSync user. UserName is its key and strict; every other
// field is only stored: any JSON scalar is kept as text, and a missing one is
// empty.
type KitUser struct {
	UserName     string
	Name         string
	OrgCode      string
	Role         string // RoleUser or RoleAdmin as documented; another value is kept
	Enable       bool   // "true"/true/"1"/1; anything else is false
	Mobile       string // as sent: spaces, + and dashes included
	Email        string
	Position     string
	EmployeeCode string
	EmployeeType string // documented as an integer: its literal
}

// SingleOrgSync reports one changed department. Key: (instance, tenant,
// orgCode).
type SingleOrgSync struct {
	TenantID   string
	OrgCode    string
	OrgName    string // stored only
	ParentCode string // stored only; empty for a root department
	Flag       int
}

// AllOrgSync carries the full department list.
type AllOrgSync struct {
	TenantID    string
	OrgInfoList []Org
}

// Org is one department of AllOrgSync.
type Org struct {
	OrgCode    string
	OrgName    string
	ParentCode string
}

// KitNameFromPath returns the kit sync name of a request path ending in
// /produceAPI/v2/<name>, and whether it is one of the five known names.
func KitNameFromPath(path string) (string, bool) {
	i := strings.LastIndex(path, KitPathPrefix)
	if i < 0 {
		return "", false
	}
	name := path[i+len(KitPathPrefix):]
	switch name {
	case KitTenantSync, KitApplicationSync, KitAuthSync, KitSingleOrgSync, KitAllOrgSync:
		return name, true
	}
	return "", false
}

// kitCommonMembers belong to every kit call. flag is counted here although
// allOrgSync has none: a list carrying one is harmless.
var kitCommonMembers = []string{"testFlag", "timeStamp", "instanceId", "orderId", "tenantId", "flag"}

// kitMembers are the top-level members of each kit call besides the common ones.
var kitMembers = map[string][]string{
	KitTenantSync:      {"tenantCode", "name", "domainName"},
	KitApplicationSync: {"appId", "clientId", "clientSecret"},
	KitAuthSync:        {"appId", "userList", "currentSyncTime"},
	KitSingleOrgSync:   {"orgCode", "orgName", "parentCode"},
	KitAllOrgSync:      {"orgInfoList"},
}

// KitMemberOwner says which kit calls a top-level member belongs to: "common"
// for the members of every call, the call names otherwise, nil for a member no
// kit call has.
func KitMemberOwner(member string) []string {
	if slices.Contains(kitCommonMembers, member) {
		return []string{"common"}
	}
	var owners []string
	for name, ms := range kitMembers {
		if slices.Contains(ms, member) {
			owners = append(owners, name)
		}
	}
	sort.Strings(owners)
	return owners
}

// checkKitMembers refuses a member of another kit call (ReasonCrossCallMember)
// and notes an unknown one, in the body's order.
func checkKitMembers(name string, members []member, n *notes) error {
	for _, m := range members {
		// A null member is dropped from the signed payload and read as absent.
		if m.isNull || slices.Contains(kitCommonMembers, m.key) || slices.Contains(kitMembers[name], m.key) {
			continue
		}
		if owners := KitMemberOwner(m.key); len(owners) > 0 {
			return &Error{Code: CodeInvalidParam, Reason: ReasonCrossCallMember, Field: m.key,
				Err: fmt.Errorf("member %q belongs to %s, not to %s", m.key, strings.Join(owners, ", "), name)}
		}
		n.add("%s: unknown member ignored", memberName(m.key))
	}
	return nil
}

// DecodeKit decodes the body of the kit sync call name (docs/protocol.md §5,
// §6.11). Call it only after Verifier.VerifyKit accepted the body.
//
// Fields the bridge acts on are strict. Numbers are read as literals: testFlag
// must be exactly 0 or 1 and flag exactly 0, 1 or 2 (authSync also 3) as JSON
// integers, so "1", 1.0 or 1e0 are refused. timeStamp is mandatory, 17 digits
// in UTC+8. tenantId is mandatory for every kit call (it is part of every
// idempotency key); appId must be usable as a Secret key ([-._a-zA-Z0-9]+);
// userName and orgCode are identifiers. A member of another kit call is
// refused (ReasonCrossCallMember).
//
// Fields the bridge only stores (names, codes other than keys, role, enable,
// phone, e-mail, position, employeeCode, employeeType) are tolerant: any JSON
// scalar is kept as its text, a missing one is empty, control characters are
// dropped, a value longer than its stored length is cut, and an object or
// array is dropped — each noted in Notes, so that one odd field never refuses
// a batch of 500 users. Unknown members are noted too. orgInfoList may be a
// JSON array or a string holding one. The JSON rules of DecodeBasic apply. An
// unknown name is a CodeInvalidParam error on field "name".
func DecodeKit(name string, body []byte) (KitRequest, error) {
	switch name {
	case KitTenantSync, KitApplicationSync, KitAuthSync, KitSingleOrgSync, KitAllOrgSync:
	default:
		return KitRequest{}, &Error{Code: CodeInvalidParam, Reason: ReasonUnknownKitName, Field: "name",
			Err: fmt.Errorf("unknown kit sync %q", truncate(name))}
	}
	members, err := topLevelMembers(body)
	if err != nil {
		return KitRequest{}, err
	}
	n := &notes{}
	if err := checkKitMembers(name, members, n); err != nil {
		return KitRequest{}, err
	}
	src := newJSONSource("", members)
	r := &reader{src: src}
	t := &tolerant{src: src, notes: n}
	kr := KitRequest{Name: name}
	kr.TestFlag = r.intEnum("testFlag", true, "0", "1") == 1
	ts := r.id("timeStamp", true)
	if r.err == nil {
		t, err := ParseKitTimeStamp(ts)
		if err != nil {
			r.fail(ParamError("timeStamp", "%w", err))
		}
		kr.TimeStamp = t
	}
	kr.InstanceID = r.instanceID("instanceId", false)
	kr.OrderID = r.id("orderId", false)
	tenantID := r.get("tenantId", true, kindID, MaxKitTenantIDLength)
	if r.err != nil {
		return KitRequest{}, r.err
	}
	switch name {
	case KitTenantSync:
		kr.TenantSync = &TenantSync{
			TenantID:   tenantID,
			TenantCode: t.code("tenantCode", MaxKitTenantCodeLength),
			Name:       t.text("name", MaxKitNameLength),
			DomainName: t.text("domainName", MaxKitDomainLength),
			Flag:       r.intEnum("flag", true, "0", "1", "2"),
		}
	case KitApplicationSync:
		a := &ApplicationSync{
			TenantID: tenantID,
			AppID:    r.appID(),
			Flag:     r.intEnum("flag", true, "0", "1", "2"),
		}
		live := r.err == nil && a.Flag != FlagDelete
		a.ClientID = r.id("clientId", live)
		a.ClientSecret = r.get("clientSecret", live, kindText, MaxLongFieldLength)
		kr.ApplicationSync = a
	case KitAuthSync:
		a := &AuthSync{
			TenantID: tenantID,
			AppID:    r.appID(),
		}
		a.UserList = r.users(src.m["userList"], n)
		a.CurrentSyncTime = t.text("currentSyncTime", MaxKitNameLength)
		a.Flag = r.intEnum("flag", true, "0", "1", "2", "3")
		kr.AuthSync = a
	case KitSingleOrgSync:
		o := &SingleOrgSync{
			TenantID:   tenantID,
			OrgCode:    r.id("orgCode", true),
			Flag:       r.intEnum("flag", true, "0", "1", "2"),
			OrgName:    t.text("orgName", MaxKitNameLength),
			ParentCode: t.code("parentCode", MaxKitCodeLength),
		}
		kr.SingleOrgSync = o
	case KitAllOrgSync:
		kr.AllOrgSync = &AllOrgSync{TenantID: tenantID, OrgInfoList: r.orgs(src.m["orgInfoList"], n)}
	}
	if r.err != nil {
		return KitRequest{}, r.err
	}
	kr.Notes = n.list()
	return kr, nil
}

// appID reads the mandatory appId, which must be usable as a Secret data key.
func (r *reader) appID() string {
	v := r.get("appId", true, kindID, MaxKitAppIDLength)
	if v != "" && !appIDPattern.MatchString(v) {
		r.fail(ParamError(r.src.path("appId"), "must consist of letters, digits, '-', '_' and '.'"))
		return ""
	}
	return v
}

// notes collects what a tolerant decode let through, bounded by MaxKitNotes.
type notes struct {
	items   []string
	dropped int
}

func (n *notes) add(format string, args ...any) {
	if len(n.items) < MaxKitNotes-1 {
		n.items = append(n.items, fmt.Sprintf(format, args...))
		return
	}
	n.dropped++
}

func (n *notes) list() []string {
	if n.dropped == 0 {
		return n.items
	}
	return append(slices.Clone(n.items), fmt.Sprintf("%d more notes", n.dropped))
}

// tolerant reads stored-only fields: never an error, every oddity a note.
type tolerant struct {
	src   jsonSource
	notes *notes
}

// text returns the text of a JSON scalar member: a string's value, a number's
// literal, true or false. Absent and null are empty; an object or array is
// dropped. Control and bidirectional formatting characters are removed, the
// result is cut to maxLen characters and trimmed.
func (t *tolerant) text(name string, maxLen int) string {
	return t.read(name, maxLen, false)
}

// code is text for a stored code (tenantCode, a user's orgCode, parentCode,
// employeeCode): invisible formatting characters (zero-width joiners and the
// like) are removed too, as they would make two codes that read the same differ.
func (t *tolerant) code(name string, maxLen int) string {
	return t.read(name, maxLen, true)
}

func (t *tolerant) read(name string, maxLen int, code bool) string {
	raw, ok := t.src.m[name]
	if !ok || len(raw) == 0 {
		return ""
	}
	path := t.src.path(name)
	var v string
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &v); err != nil {
			t.notes.add("%s: undecodable string dropped", path)
			return ""
		}
	case '{', '[':
		t.notes.add("%s: %s dropped, a text was expected", path, jsonKind(raw))
		return ""
	case 'n':
		return ""
	default: // a number or a boolean: its literal
		v = string(raw)
	}
	clean := strings.Map(func(c rune) rune {
		if c == utf8.RuneError || unicode.IsControl(c) || c == '\u2028' || c == '\u2029' || isBidiControl(c) || (code && unicode.Is(unicode.Cf, c)) {
			return -1
		}
		return c
	}, v)
	if clean != v {
		t.notes.add("%s: control or formatting characters removed", path)
	}
	if utf8.RuneCountInString(clean) > maxLen {
		t.notes.add("%s: cut to %d characters", path, maxLen)
		clean = string([]rune(clean)[:maxLen])
	}
	return strings.TrimSpace(clean)
}

// enable reads a user's enable flag: documented as the strings "true" and
// "false"; true, 1 and "1" count as true too; anything else is false (noted).
func (t *tolerant) enable(name string) bool {
	v := t.text(name, 16)
	switch strings.ToLower(v) {
	case "true", "1":
		return true
	case "false", "0", "":
		return false
	}
	t.notes.add("%s: unknown value taken as false", t.src.path(name))
	return false
}

// role reads a user's role: user or admin as documented; another value is kept
// as sent and noted.
func (t *tolerant) role(name string) string {
	v := t.text(name, MaxKitRoleLength)
	if v != "" && v != RoleUser && v != RoleAdmin {
		t.notes.add("%s: unknown value kept", t.src.path(name))
	}
	return v
}

// unknown notes the members of a nested object outside known.
func (t *tolerant) unknown(known ...string) {
	keys := make([]string, 0, len(t.src.m))
	for k := range t.src.m {
		if !slices.Contains(known, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.notes.add("%s: unknown member ignored", t.src.path(memberName(k)))
	}
}

// intEnum reads a JSON integer whose literal must be one of allowed; absent
// yields -1 (and an error when required).
//
//nolint:unparam // every kit integer is mandatory today; the reader stays general like its siblings
func (r *reader) intEnum(name string, required bool, allowed ...string) int {
	if r.err != nil {
		return -1
	}
	src := r.src.(jsonSource)
	raw, ok := src.m[name]
	if !ok {
		if required {
			r.fail(missingField(src.path(name)))
		}
		return -1
	}
	if len(raw) == 0 || raw[0] == '"' || raw[0] == '{' || raw[0] == '[' || raw[0] == 't' || raw[0] == 'f' {
		r.fail(ParamError(src.path(name), "must be a JSON integer, got %s", jsonKind(raw)))
		return -1
	}
	if !slices.Contains(allowed, string(raw)) {
		r.fail(ParamError(src.path(name), "value %s is not one of %s", truncate(string(raw)), strings.Join(allowed, ", ")))
		return -1
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil {
		r.fail(ParamError(src.path(name), "%w", err))
		return -1
	}
	return n
}

// kitUserMembers are the documented members of a userList entry.
var kitUserMembers = []string{"userName", "name", "orgCode", "role", "enable", "mobile", "email", "position", "employeeCode", "employeeType"}

// users decodes authSync's userList. Only an entry's userName can refuse the
// call: it is the key the bridge acts on.
func (r *reader) users(raw json.RawMessage, n *notes) []KitUser {
	const field = "userList"
	if r.err != nil {
		return nil
	}
	if len(raw) == 0 {
		r.fail(missingField(field))
		return nil
	}
	if raw[0] != '[' {
		r.fail(ParamError(field, "must be a JSON array, got %s", jsonKind(raw)))
		return nil
	}
	elems, err := arrayElements(raw)
	if err != nil {
		r.fail(withField(err, field))
		return nil
	}
	if len(elems) > MaxKitUsers {
		r.fail(ParamError(field, "%d users, at most %d are allowed", len(elems), MaxKitUsers))
		return nil
	}
	users := make([]KitUser, 0, len(elems))
	for i, e := range elems {
		path := fmt.Sprintf("%s[%d]", field, i)
		src, err := objectSource(e, path+".", path)
		if err != nil {
			r.fail(err)
			return nil
		}
		ur := &reader{src: src}
		t := &tolerant{src: src, notes: n}
		u := KitUser{
			UserName:     ur.get("userName", true, kindID, MaxFieldLength),
			Name:         t.text("name", MaxKitNameLength),
			OrgCode:      t.code("orgCode", MaxKitCodeLength),
			Role:         t.role("role"),
			Enable:       t.enable("enable"),
			Mobile:       t.text("mobile", MaxKitPhoneLength),
			Email:        t.text("email", MaxKitEmailLength),
			Position:     t.text("position", MaxKitNameLength),
			EmployeeCode: t.code("employeeCode", MaxKitEmployeeLength),
			EmployeeType: t.text("employeeType", MaxKitTypeLength),
		}
		if ur.err != nil {
			r.fail(ur.err)
			return nil
		}
		t.unknown(kitUserMembers...)
		users = append(users, u)
	}
	return users
}

// orgs decodes allOrgSync's orgInfoList, a JSON array or a JSON string holding
// one. Only an entry's orgCode can refuse the call.
func (r *reader) orgs(raw json.RawMessage, n *notes) []Org {
	const field = "orgInfoList"
	if r.err != nil {
		return nil
	}
	if len(raw) == 0 {
		r.fail(missingField(field))
		return nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			r.fail(ParamError(field, "decoding string: %w", err))
			return nil
		}
		raw = json.RawMessage(strings.TrimSpace(s))
		if len(raw) == 0 || raw[0] != '[' {
			r.fail(ParamError(field, "string must hold a JSON array"))
			return nil
		}
	}
	if raw[0] != '[' {
		r.fail(ParamError(field, "must be a JSON array or a string holding one, got %s", jsonKind(raw)))
		return nil
	}
	elems, err := arrayElements(raw)
	if err != nil {
		r.fail(withField(err, field))
		return nil
	}
	orgs := make([]Org, 0, len(elems))
	for i, e := range elems {
		path := fmt.Sprintf("%s[%d]", field, i)
		src, err := objectSource(e, path+".", path)
		if err != nil {
			r.fail(err)
			return nil
		}
		or := &reader{src: src}
		t := &tolerant{src: src, notes: n}
		o := Org{
			OrgCode:    or.id("orgCode", true),
			OrgName:    t.text("orgName", MaxKitNameLength),
			ParentCode: t.code("parentCode", MaxKitCodeLength),
		}
		if or.err != nil {
			r.fail(or.err)
			return nil
		}
		t.unknown("orgCode", "orgName", "parentCode")
		orgs = append(orgs, o)
	}
	return orgs
}

// memberName is an unknown member's key as a note may show it: shortened, and quoted with
// escapes when it holds anything unprintable, so that a key sent as control or bidi
// characters can neither break a log line nor disguise what follows it.
func memberName(k string) string {
	k = truncate(k)
	if strings.IndexFunc(k, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(k)
	}
	return k
}
