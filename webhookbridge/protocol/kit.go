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
	"slices"
	"strconv"
	"strings"
	"time"
)

// KitRequest is a decoded 联营 kit sync call (PROTOCOL.md §5). Exactly one
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
}

// TenantSync binds the buyer enterprise to an instance. Key: (instance, tenant).
type TenantSync struct {
	TenantID   string
	TenantCode string
	Name       string
	DomainName string
	Flag       int // FlagDelete, FlagAdd or FlagModify
}

// ApplicationSync delivers the tenant app's OAuth client. Key: (instance,
// tenant, app). ClientSecret is as sent, RSA-OAEP encrypted: decrypt with
// DecryptClientSecret.
type ApplicationSync struct {
	TenantID     string
	AppID        string
	ClientID     string // mandatory unless Flag is FlagDelete
	ClientSecret string // mandatory unless Flag is FlagDelete
	Flag         int
}

// AuthSync lists users authorised to the app. Key: (instance, tenant, app,
// userName).
type AuthSync struct {
	TenantID        string
	AppID           string
	UserList        []KitUser // at most MaxKitUsers, possibly empty
	CurrentSyncTime string    // as sent, optional
	Flag            int       // FlagDelete, FlagAdd, FlagModify or FlagCancel
}

// KitUser is one authSync user.
type KitUser struct {
	UserName     string
	Name         string
	OrgCode      string
	Role         string // RoleUser or RoleAdmin
	Enable       bool   // sent as the string "true" or "false"
	Mobile       string
	Email        string
	Position     string
	EmployeeCode string
	EmployeeType string
}

// SingleOrgSync reports one changed department. Key: (instance, tenant,
// orgCode).
type SingleOrgSync struct {
	TenantID   string
	OrgCode    string
	OrgName    string // mandatory unless Flag is FlagDelete
	ParentCode string // empty for a root department
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

// DecodeKit decodes the body of the kit sync call name (PROTOCOL.md §5). Call
// it only after Verifier.VerifyKit accepted the body.
//
// Numbers are read as literals: testFlag must be exactly 0 or 1 and flag
// exactly 0, 1 or 2 (authSync also 3) as JSON integers, so "1", 1.0 or 1e0 are
// refused. timeStamp is mandatory, 17 digits in UTC+8. tenantId is mandatory
// for every kit call (it is part of every idempotency key); the other
// mandatory fields are listed on the payload types. orgInfoList may be a JSON
// array or a string holding one. The JSON rules of DecodeBasic apply. An
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
	src := newJSONSource("", members)
	r := &reader{src: src}
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
	tenantID := r.id("tenantId", true)
	if r.err != nil {
		return KitRequest{}, r.err
	}
	switch name {
	case KitTenantSync:
		kr.TenantSync = &TenantSync{
			TenantID:   tenantID,
			TenantCode: r.id("tenantCode", false),
			Name:       r.text("name", false),
			DomainName: r.get("domainName", false, kindID, MaxURLLength),
			Flag:       r.intEnum("flag", true, "0", "1", "2"),
		}
	case KitApplicationSync:
		a := &ApplicationSync{
			TenantID: tenantID,
			AppID:    r.id("appId", true),
			Flag:     r.intEnum("flag", true, "0", "1", "2"),
		}
		live := r.err == nil && a.Flag != FlagDelete
		a.ClientID = r.id("clientId", live)
		a.ClientSecret = r.get("clientSecret", live, kindText, MaxLongFieldLength)
		kr.ApplicationSync = a
	case KitAuthSync:
		a := &AuthSync{
			TenantID: tenantID,
			AppID:    r.id("appId", true),
		}
		a.UserList = r.users(src.m["userList"])
		a.CurrentSyncTime = r.text("currentSyncTime", false)
		a.Flag = r.intEnum("flag", true, "0", "1", "2", "3")
		kr.AuthSync = a
	case KitSingleOrgSync:
		o := &SingleOrgSync{
			TenantID:   tenantID,
			OrgCode:    r.id("orgCode", true),
			Flag:       r.intEnum("flag", true, "0", "1", "2"),
			ParentCode: r.id("parentCode", false),
		}
		o.OrgName = r.text("orgName", r.err == nil && o.Flag != FlagDelete)
		kr.SingleOrgSync = o
	case KitAllOrgSync:
		kr.AllOrgSync = &AllOrgSync{TenantID: tenantID, OrgInfoList: r.orgs(src.m["orgInfoList"])}
	}
	if r.err != nil {
		return KitRequest{}, r.err
	}
	return kr, nil
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

// users decodes authSync's userList.
func (r *reader) users(raw json.RawMessage) []KitUser {
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
		u := KitUser{
			UserName:     ur.id("userName", true),
			Name:         ur.text("name", true),
			OrgCode:      ur.id("orgCode", true),
			Role:         ur.enum("role", true, RoleUser, RoleAdmin),
			Enable:       ur.enum("enable", true, "true", "false") == "true",
			Mobile:       ur.id("mobile", false),
			Email:        ur.id("email", false),
			Position:     ur.text("position", false),
			EmployeeCode: ur.id("employeeCode", false),
			EmployeeType: ur.text("employeeType", false),
		}
		if ur.err != nil {
			r.fail(ur.err)
			return nil
		}
		users = append(users, u)
	}
	return users
}

// orgs decodes allOrgSync's orgInfoList, a JSON array or a JSON string holding
// one.
func (r *reader) orgs(raw json.RawMessage) []Org {
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
		o := Org{
			OrgCode:    or.id("orgCode", true),
			OrgName:    or.text("orgName", true),
			ParentCode: or.id("parentCode", false),
		}
		if or.err != nil {
			r.fail(or.err)
			return nil
		}
		orgs = append(orgs, o)
	}
	return orgs
}
