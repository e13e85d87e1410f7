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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Field length bounds, in characters. instanceId is at most 64 by the
// protocol; other identifiers and texts get generous bounds so that a hostile
// body cannot push huge strings into logs, metrics or Kubernetes objects.
const (
	MaxInstanceIDLength = 64
	// MaxOrderIDLength bounds the order and order-line ids the bridge records or looks up:
	// the API keeps them in fields of at most 64 characters (spec.order, spec.marketplace), so
	// a call with a longer one can never succeed and is refused rather than resent for hours.
	MaxOrderIDLength = 64
	// MaxCustomerIDLength bounds the V1 customerId: the V1 guide allows 100 characters, and
	// spec.customer.customerId holds as many.
	MaxCustomerIDLength = 100
	// MaxProductIDLength bounds a productId the bridge records (spec.productId holds 64
	// characters): like a long order id, a longer one could never be stored.
	MaxProductIDLength = 64
	MaxFieldLength     = 256
	MaxURLLength       = 2048
	MaxLongFieldLength = 8192
	MaxQueryIDs        = 100
	MaxKitUsers        = 500
)

// Request is a decoded basic (V2) or legacy (V1) lifecycle call. Exactly one
// payload pointer is set, the one matching Activity, so the bridge can switch
// on Activity and use the payload without further checks: every mandatory
// field of a successfully decoded payload is non-empty and well-formed.
type Request struct {
	// Version is 2 for DecodeBasic and 1 for DecodeV1.
	Version int
	// Activity is the V2 activity this call maps to (one of the Activity*
	// constants). V1 expireInstance and instanceStatus become
	// updateInstanceStatus, V1 upgrade becomes upgradeInstance.
	Activity string
	// SourceActivity is the activity as received, for logs and metrics.
	SourceActivity string
	// TestFlag is true for the marketplace's debug and dial-test calls
	// (testFlag "1"), which must be answered without creating tenants.
	TestFlag bool

	NewInstance          *NewInstance
	QueryInstance        *QueryInstance
	RefreshInstance      *RefreshInstance
	UpdateInstanceStatus *UpdateInstanceStatus
	UpgradeInstance      *UpgradeInstance
	ChangeInstanceCheck  *ChangeInstanceCheck
	ReleaseInstance      *ReleaseInstance

	// V1Params holds every query parameter of a V1 call as received (nil for
	// V2), so fields this package does not interpret stay available. It holds
	// personal data (mobilePhone, email): never log it whole.
	V1Params url.Values
}

// NewInstance asks for a new instance. Idempotency key: (OrderID,
// OrderLineID); BusinessID changes on every resend (docs/protocol.md §6.2).
type NewInstance struct {
	OrderID     string
	OrderLineID string // empty for V1, whose orders have a single line
	BusinessID  string

	// The fields below are sent by V1 only; in V2 the bridge learns them from
	// Order Query. MobilePhone and Email are as sent: encrypted when the
	// product asks for encryption (decrypt with DecryptCredential and
	// EncryptType).
	CustomerID       string
	CustomerName     string
	UserID           string
	UserName         string
	MobilePhone      string
	Email            string
	ProductID        string
	SkuCode          string
	ExpireTime       time.Time // zero when absent (e.g. one-time or on-demand)
	TrialFlag        bool
	PeriodType       string
	PeriodNumber     string
	OrderAmount      string
	SaasExtendParams string
	EncryptType      string // "1" (AES-256) or "2" (AES-128); empty means "1"
}

// QueryInstance asks for the details of up to MaxQueryIDs instances.
type QueryInstance struct {
	// InstanceIDs are the requested ids, trimmed, in received order, with
	// repeats removed.
	InstanceIDs []string
}

// RefreshInstance sets a new expiry. Idempotency key: OrderID.
type RefreshInstance struct {
	InstanceID  string
	OrderID     string
	OrderLineID string // empty for V1
	// Scene is one of the Scene* constants. V1 has no scene: trialToFormal=1
	// maps to SceneTrialToFormal, anything else to SceneRenewal.
	Scene      string
	ProductID  string // optional
	ExpireTime time.Time
}

// UpdateInstanceStatus freezes or unfreezes an instance.
type UpdateInstanceStatus struct {
	InstanceID string
	// Status is StatusFreeze or StatusUnfreeze (V1 NORMAL is mapped to
	// StatusUnfreeze, V1 expireInstance to StatusFreeze).
	Status string
}

// UpgradeInstance moves an instance to the SKU of an upgrade order.
// Idempotency key: OrderID.
type UpgradeInstance struct {
	InstanceID  string
	OrderID     string
	OrderLineID string // empty for V1

	// V1 only: the target product, which V2 learns from Order Query.
	ProductID string
	SkuCode   string
}

// ChangeInstanceCheck asks whether a renewal-time spec change is possible.
type ChangeInstanceCheck struct {
	InstanceID  string
	ProductInfo ProductInfo
}

// ProductInfo is the target product of ChangeInstanceCheck.
type ProductInfo struct {
	ProductID   string
	SkuCode     string
	LinearValue string // optional, a non-negative decimal for linear SKUs
}

// ReleaseInstance deletes an instance; repeating it is success.
type ReleaseInstance struct {
	InstanceID  string
	OrderID     string // optional
	OrderLineID string // optional
}

// ---- field access -------------------------------------------------------

// fieldSource yields raw string values by name: JSON members (which must be
// JSON strings) or V1 query parameters.
type fieldSource interface {
	// lookup returns the value, whether it is present (absent, JSON null and
	// "" all count as absent), and a type error.
	lookup(name string) (string, bool, error)
	path(name string) string
}

type jsonSource struct {
	prefix string
	m      map[string]json.RawMessage
}

func newJSONSource(prefix string, members []member) jsonSource {
	m := make(map[string]json.RawMessage, len(members))
	for _, mem := range members {
		if !mem.isNull {
			m[mem.key] = mem.value
		}
	}
	return jsonSource{prefix: prefix, m: m}
}

func (s jsonSource) path(name string) string { return s.prefix + name }

func (s jsonSource) lookup(name string) (string, bool, error) {
	raw, ok := s.m[name]
	if !ok {
		return "", false, nil
	}
	if len(raw) == 0 || raw[0] != '"' {
		return "", false, ParamError(s.path(name), "must be a JSON string, got %s", jsonKind(raw))
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false, ParamError(s.path(name), "decoding string: %w", err)
	}
	return v, v != "", nil
}

func jsonKind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '"':
		return "a string"
	default:
		return "a number"
	}
}

type querySource url.Values

func (s querySource) path(name string) string { return name }

func (s querySource) lookup(name string) (string, bool, error) {
	v := url.Values(s).Get(name)
	return v, v != "", nil
}

// kind selects the character rules of a field.
type kind int

const (
	// kindID: identifiers; no whitespace or control characters.
	kindID kind = iota
	// kindText: free text; no control characters.
	kindText
)

// reader extracts fields and keeps the first error, so decoders read like a
// list of fields and report the first bad one.
type reader struct {
	src fieldSource
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) get(name string, required bool, k kind, maxLen int) string {
	if r.err != nil {
		return ""
	}
	v, ok, err := r.src.lookup(name)
	if err != nil {
		r.fail(err)
		return ""
	}
	if !ok || (k == kindText && strings.TrimSpace(v) == "") {
		if required {
			r.fail(missingField(r.src.path(name)))
		}
		return ""
	}
	if err := checkChars(v, k, maxLen); err != nil {
		r.fail(ParamError(r.src.path(name), "%w", err))
		return ""
	}
	return v
}

func (r *reader) id(name string, required bool) string {
	return r.get(name, required, kindID, MaxFieldLength)
}

//nolint:unparam // V1 and V2 share this reader; both name the field instanceId today
func (r *reader) instanceID(name string, required bool) string {
	return r.get(name, required, kindID, MaxInstanceIDLength)
}

// orderID reads a mandatory order or order-line id that is recorded or looked up
// (MaxOrderIDLength).
func (r *reader) orderID(name string) string {
	return r.get(name, true, kindID, MaxOrderIDLength)
}

// productID reads an optional productId that is recorded (MaxProductIDLength).
func (r *reader) productID(name string) string {
	return r.get(name, false, kindID, MaxProductIDLength)
}

// text reads an optional free-text field.
func (r *reader) text(name string) string {
	return r.get(name, false, kindText, MaxFieldLength)
}

// enum reads a field whose value must be one of allowed.
func (r *reader) enum(name string, required bool, allowed ...string) string {
	v := r.get(name, required, kindID, MaxFieldLength)
	if v != "" && !slices.Contains(allowed, v) {
		r.fail(ParamError(r.src.path(name), "value %q is not one of %q", v, allowed))
		return ""
	}
	return v
}

// flag01 reads a "0"/"1" string flag; absent is false.
func (r *reader) flag01(name string) bool {
	return r.enum(name, false, "0", "1") == "1"
}

// expireTime reads a time field in ParseExpireTime format.
func (r *reader) expireTime(name string, required bool) time.Time {
	v := r.id(name, required)
	if v == "" {
		return time.Time{}
	}
	t, err := ParseExpireTime(v)
	if err != nil {
		r.fail(ParamError(r.src.path(name), "%w", err))
	}
	return t
}

func checkChars(v string, k kind, maxLen int) error {
	if n := utf8.RuneCountInString(v); n > maxLen {
		return fmt.Errorf("value has %d characters, at most %d are allowed", n, maxLen)
	}
	for _, c := range v {
		if c == utf8.RuneError || unicode.IsControl(c) || c == '\u2028' || c == '\u2029' || isBidiControl(c) {
			return errors.New("value contains a control or invalid character")
		}
		if k == kindID && (unicode.IsSpace(c) || unicode.Is(unicode.Cf, c)) {
			return errors.New("value contains whitespace or an invisible formatting character")
		}
	}
	return nil
}

// isBidiControl reports the bidirectional embedding, override and isolate controls (U+202A to
// U+202E, U+2066 to U+2069). They reorder how the text after them is displayed, so a value
// holding one reads as another in logs, Events and kubectl output; no field needs them. Other
// invisible formatting characters (zero-width joiners, marks) are refused in identifiers only,
// since names legitimately use them (emoji sequences, right-to-left scripts).
func isBidiControl(c rune) bool {
	return c >= '\u202a' && c <= '\u202e' || c >= '\u2066' && c <= '\u2069'
}

// ---- V2 basic -------------------------------------------------------------

// DecodeBasic decodes the body of a V2 basic lifecycle call (docs/protocol.md §5).
// Call it only after Verifier.VerifyBasic accepted the body.
//
// Rules: the body is one JSON object without duplicate keys (see
// CanonicalPayload); unknown members are ignored so that new marketplace fields
// do not break the bridge; a null member counts as absent; string fields must
// be JSON strings; identifiers may not contain whitespace or control
// characters, nor invisible formatting characters (zero-width spaces, bidi
// marks, byte-order marks), and no field may contain a bidi override or
// isolate control; instanceId, the order and order-line ids the bridge
// records or looks up, and a recorded productId are at most 64 characters
// and other fields at most 256. Every failure is a
// CodeInvalidParam *Error whose Field names the member ("activity" for a
// missing or unknown activity, "" with reason "malformed-json" for a body that
// is not a JSON object).
func DecodeBasic(body []byte) (Request, error) {
	members, err := topLevelMembers(body)
	if err != nil {
		return Request{}, err
	}
	r := &reader{src: newJSONSource("", members)}
	req := Request{Version: 2}
	req.Activity = r.id("activity", true)
	req.SourceActivity = req.Activity
	req.TestFlag = r.flag01("testFlag")
	if r.err != nil {
		return Request{}, r.err
	}
	switch req.Activity {
	case ActivityNewInstance:
		req.NewInstance = &NewInstance{
			OrderID:     r.orderID("orderId"),
			OrderLineID: r.orderID("orderLineId"),
			BusinessID:  r.id("businessId", true),
		}
	case ActivityQueryInstance:
		req.QueryInstance = &QueryInstance{InstanceIDs: r.instanceIDList("instanceId")}
	case ActivityRefreshInstance:
		req.RefreshInstance = &RefreshInstance{
			InstanceID: r.instanceID("instanceId", true),
			OrderID:    r.orderID("orderId"),
			// A RENEWAL_CHANGE looks the renewal's line up with Order Query.
			OrderLineID: r.orderID("orderLineId"),
			Scene:       r.enum("scene", true, SceneTrialToFormal, SceneRenewal, SceneUnsubscribeRenewalPeriod, SceneRenewalChange),
			ProductID:   r.productID("productId"),
			ExpireTime:  r.expireTime("expireTime", true),
		}
	case ActivityUpdateInstanceStatus:
		req.UpdateInstanceStatus = &UpdateInstanceStatus{
			InstanceID: r.instanceID("instanceId", true),
			Status:     r.enum("status", true, StatusFreeze, StatusUnfreeze),
		}
	case ActivityUpgradeInstance:
		req.UpgradeInstance = &UpgradeInstance{
			InstanceID:  r.instanceID("instanceId", true),
			OrderID:     r.orderID("orderId"),
			OrderLineID: r.orderID("orderLineId"),
		}
	case ActivityChangeInstanceCheck:
		c := &ChangeInstanceCheck{InstanceID: r.instanceID("instanceId", true)}
		if r.err == nil {
			c.ProductInfo, r.err = decodeProductInfo(r.src.(jsonSource).m["productInfo"])
		}
		req.ChangeInstanceCheck = c
	case ActivityReleaseInstance:
		req.ReleaseInstance = &ReleaseInstance{
			InstanceID:  r.instanceID("instanceId", true),
			OrderID:     r.id("orderId", false),
			OrderLineID: r.id("orderLineId", false),
		}
	default:
		return Request{}, &Error{Code: CodeInvalidParam, Reason: ReasonUnknownActivity, Field: "activity",
			Err: fmt.Errorf("unknown activity %q", req.Activity)}
	}
	if r.err != nil {
		return Request{}, r.err
	}
	return req, nil
}

// instanceIDList reads a comma-separated list of 1..MaxQueryIDs instance ids.
func (r *reader) instanceIDList(name string) []string {
	if r.err != nil {
		return nil
	}
	path := r.src.path(name)
	v, ok, err := r.src.lookup(name)
	if err != nil {
		r.fail(err)
		return nil
	}
	if !ok || strings.TrimSpace(v) == "" {
		r.fail(missingField(path))
		return nil
	}
	if n := strings.Count(v, ",") + 1; n > MaxQueryIDs {
		r.fail(paramReason(ReasonTooManyIDs, path, fmt.Errorf("%d instance ids, at most %d are allowed", n, MaxQueryIDs)))
		return nil
	}
	parts := strings.Split(v, ",")
	ids := make([]string, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			r.fail(ParamError(path, "instance id %d of the list is empty", i+1))
			return nil
		}
		if err := checkChars(p, kindID, MaxInstanceIDLength); err != nil {
			r.fail(ParamError(path, "instance id %d of the list: %w", i+1, err))
			return nil
		}
		if !slices.Contains(ids, p) {
			ids = append(ids, p)
		}
	}
	return ids
}

// decodeProductInfo accepts productInfo as an object or, as Order Query
// returns it, an array holding exactly one object.
func decodeProductInfo(raw json.RawMessage) (ProductInfo, error) {
	const field = "productInfo"
	if len(raw) == 0 {
		return ProductInfo{}, missingField(field)
	}
	if raw[0] == '[' {
		elems, err := arrayElements(raw)
		if err != nil {
			return ProductInfo{}, withField(err, field)
		}
		if len(elems) != 1 {
			return ProductInfo{}, ParamError(field, "array must hold exactly one product, got %d", len(elems))
		}
		raw = elems[0]
	}
	src, err := objectSource(raw, field+".", field)
	if err != nil {
		return ProductInfo{}, err
	}
	r := &reader{src: src}
	pi := ProductInfo{
		ProductID: r.id("productId", true),
		SkuCode:   r.id("skuCode", true),
	}
	if r.err != nil {
		return ProductInfo{}, r.err
	}
	if lv, ok := src.m["linearValue"]; ok {
		// A quantity: accepted as a JSON string or number (decision beyond
		// docs/protocol.md; senders serialise quantities either way).
		s := string(lv)
		if lv[0] == '"' {
			if err := json.Unmarshal(lv, &s); err != nil {
				return ProductInfo{}, ParamError(field+".linearValue", "decoding string: %w", err)
			}
		}
		if s != "" && !isDecimal(s) {
			return ProductInfo{}, ParamError(field+".linearValue", "value %q is not a non-negative decimal", truncate(s))
		}
		pi.LinearValue = s
	}
	return pi, nil
}

// objectSource parses raw as a JSON object for nested field access.
func objectSource(raw []byte, prefix, field string) (jsonSource, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return jsonSource{}, ParamError(field, "must be a JSON object, got %s", jsonKind(raw))
	}
	members, err := topLevelMembers(raw)
	if err != nil {
		return jsonSource{}, withField(err, field)
	}
	return newJSONSource(prefix, members), nil
}

// withField sets Field on a *Error that has none.
func withField(err error, field string) error {
	var pe *Error
	if errors.As(err, &pe) && pe.Field == "" {
		cp := *pe
		cp.Field = field
		return &cp
	}
	return err
}

func isDecimal(s string) bool {
	if len(s) > 32 {
		return false
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if intPart == "" || !allDigits(intPart) {
		return false
	}
	return !hasFrac || (frac != "" && allDigits(frac))
}

// truncate shortens a value quoted in an error message.
func truncate(s string) string {
	if len(s) <= 64 {
		return s
	}
	for i := 64; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}

// ---- V1 -------------------------------------------------------------------

// DecodeV1 decodes a legacy V1 GET call from its query parameters (docs/protocol.md
// §2.3) onto the same payloads as DecodeBasic. Call it only after
// Verifier.VerifyV1 accepted the parameters.
//
// Mapping (decisions beyond docs/protocol.md): expireInstance →
// updateInstanceStatus FREEZE; instanceStatus → updateInstanceStatus with
// FREEZE → FREEZE and NORMAL → UNFREEZE, the value read from "instanceStatus"
// (or "status" when that is absent); upgrade → upgradeInstance;
// refreshInstance's scene is TRIAL_TO_FORMAL when trialToFormal=1, else
// RENEWAL. V1 orders have no orderLineId, so OrderLineID is empty and the
// idempotency key is OrderID alone. Mandatory: newInstance orderId,
// businessId, customerId, productId; refreshInstance instanceId, orderId,
// expireTime; upgrade instanceId, orderId; the others instanceId. Lengths as
// DecodeBasic, except customerId, at most MaxCustomerIDLength (100) as the V1
// guide allows. saasExtendParams is kept as received: decode it with
// DecodeSaasExtendParams. A repeated parameter is a CodeInvalidParam
// "duplicate-parameter" error.
func DecodeV1(q url.Values) (Request, error) {
	for name, vals := range q {
		if len(vals) > 1 {
			return Request{}, paramReason(ReasonDuplicateParam, name, errors.New("parameter repeated"))
		}
	}
	r := &reader{src: querySource(q)}
	req := Request{Version: 1, V1Params: q}
	req.SourceActivity = r.id(ParamActivity, true)
	req.TestFlag = r.flag01("testFlag")
	if r.err != nil {
		return Request{}, r.err
	}
	switch req.SourceActivity {
	case V1ActivityNewInstance:
		req.Activity = ActivityNewInstance
		req.NewInstance = &NewInstance{
			OrderID:          r.orderID("orderId"),
			BusinessID:       r.id("businessId", true),
			CustomerID:       r.get("customerId", true, kindID, MaxCustomerIDLength),
			CustomerName:     r.text("customerName"),
			UserID:           r.id("userId", false),
			UserName:         r.text("userName"),
			MobilePhone:      r.text("mobilePhone"),
			Email:            r.text("email"),
			ProductID:        r.get("productId", true, kindID, MaxProductIDLength),
			SkuCode:          r.id("skuCode", false),
			ExpireTime:       r.expireTime("expireTime", false),
			TrialFlag:        r.flag01("trialFlag"),
			PeriodType:       r.id("periodType", false),
			PeriodNumber:     r.id("periodNumber", false),
			OrderAmount:      r.id("orderAmount", false),
			SaasExtendParams: r.get("saasExtendParams", false, kindText, MaxLongFieldLength),
			EncryptType:      r.enum("encryptType", false, EncryptTypeAES256, EncryptTypeAES128),
		}
	case V1ActivityQueryInstance:
		req.Activity = ActivityQueryInstance
		req.QueryInstance = &QueryInstance{InstanceIDs: r.instanceIDList("instanceId")}
	case V1ActivityRefreshInstance:
		req.Activity = ActivityRefreshInstance
		rf := &RefreshInstance{
			InstanceID: r.instanceID("instanceId", true),
			OrderID:    r.orderID("orderId"),
			ProductID:  r.productID("productId"),
			ExpireTime: r.expireTime("expireTime", true),
			Scene:      SceneRenewal,
		}
		if r.flag01("trialToFormal") {
			rf.Scene = SceneTrialToFormal
		}
		req.RefreshInstance = rf
	case V1ActivityExpireInstance:
		req.Activity = ActivityUpdateInstanceStatus
		req.UpdateInstanceStatus = &UpdateInstanceStatus{InstanceID: r.instanceID("instanceId", true), Status: StatusFreeze}
	case V1ActivityInstanceStatus:
		req.Activity = ActivityUpdateInstanceStatus
		u := &UpdateInstanceStatus{InstanceID: r.instanceID("instanceId", true)}
		name := "instanceStatus"
		if q.Get(name) == "" && q.Get("status") != "" {
			name = "status"
		}
		switch r.enum(name, true, V1StatusFreeze, V1StatusNormal) {
		case V1StatusFreeze:
			u.Status = StatusFreeze
		case V1StatusNormal:
			u.Status = StatusUnfreeze
		}
		req.UpdateInstanceStatus = u
	case V1ActivityUpgrade:
		req.Activity = ActivityUpgradeInstance
		req.UpgradeInstance = &UpgradeInstance{
			InstanceID: r.instanceID("instanceId", true),
			OrderID:    r.orderID("orderId"),
			ProductID:  r.productID("productId"),
			SkuCode:    r.id("skuCode", false),
		}
	case V1ActivityReleaseInstance:
		req.Activity = ActivityReleaseInstance
		req.ReleaseInstance = &ReleaseInstance{
			InstanceID: r.instanceID("instanceId", true),
			OrderID:    r.id("orderId", false),
		}
	default:
		return Request{}, &Error{Code: CodeInvalidParam, Reason: ReasonUnknownActivity, Field: ParamActivity,
			Err: fmt.Errorf("unknown V1 activity %q", req.SourceActivity)}
	}
	if r.err != nil {
		return Request{}, r.err
	}
	return req, nil
}

// ---- responses ------------------------------------------------------------

// Response is the JSON answer to every call (always HTTP 200, docs/protocol.md §1).
type Response struct {
	ResultCode string `json:"resultCode"`
	ResultMsg  string `json:"resultMsg"`
	// InstanceID answers newInstance (at most 64 characters).
	InstanceID string `json:"instanceId,omitempty"`
	// EncryptType tells a V1 caller how AppInfo credentials are encrypted.
	EncryptType string `json:"encryptType,omitempty"`
	// AppInfo carries the instance's access details in V1 newInstance answers.
	AppInfo *AppInfo `json:"appInfo,omitempty"`
	// Info answers queryInstance, one entry per known instance.
	Info []InstanceInfo `json:"info,omitempty"`
}

// InstanceInfo is one queryInstance entry.
type InstanceInfo struct {
	InstanceID string      `json:"instanceId"`
	AppInfo    *AppInfo    `json:"appInfo,omitempty"`
	UsageInfo  []UsageInfo `json:"usageInfo,omitempty"`
}

// AppInfo is what the customer sees of an instance. FrontEndURL is mandatory
// and is what the customer clicks; UserName and Password are clear text in V2
// and encrypted (EncryptAppInfoV1) in V1.
type AppInfo struct {
	FrontEndURL string `json:"frontEndUrl"`
	AdminURL    string `json:"adminUrl,omitempty"`
	UserName    string `json:"userName,omitempty"`
	Password    string `json:"password,omitempty"`
	// Memo is free text; EncodeResponse escapes its non-ASCII as \uXXXX.
	Memo string `json:"memo,omitempty"`
}

// UsageInfo is one usage entry of a queryInstance answer. UsageValue is kept a
// decimal string (no floats).
type UsageInfo struct {
	RelatedInstanceID string `json:"relatedInstanceId"`
	UsageValue        string `json:"usageValue"`
	StatisticalTime   string `json:"statisticalTime"`
}

// NewResponse returns a Response with code and its default message.
func NewResponse(code string) Response {
	return Response{ResultCode: code, ResultMsg: Message(code)}
}

// ErrorResponse returns the generic answer for err (CodeOf and Message), which
// never says more than the code (docs/protocol.md §2.1).
func ErrorResponse(err error) Response {
	return NewResponse(CodeOf(err))
}

// internalErrorBody is answered when a response cannot be encoded at all.
var internalErrorBody = []byte(`{"resultCode":"000005","resultMsg":"internal error."}`)

// EncodeResponse marshals v as compact JSON without HTML escaping and with
// every non-ASCII character escaped as \uXXXX (UTF-16 surrogate pairs above
// U+FFFF), so the whole body is ASCII and appInfo.memo satisfies docs/protocol.md
// §5. Sign exactly the returned bytes with BodySign. If v cannot be marshalled
// (a programming error) the internal-error answer is returned, so the
// marketplace retries instead of receiving an empty body.
func EncodeResponse(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return slices.Clone(internalErrorBody)
	}
	return escapeNonASCII(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// escapeNonASCII rewrites every non-ASCII rune of a JSON text as \uXXXX.
// That is valid because in JSON non-ASCII can only occur inside strings.
func escapeNonASCII(b []byte) []byte {
	const hexDigits = "0123456789abcdef"
	out := make([]byte, 0, len(b))
	esc := func(r rune) {
		out = append(out, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
	}
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			out = append(out, b[i])
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		i += size
		if r > 0xffff {
			r -= 0x10000
			esc(0xd800 + (r>>10)&0x3ff)
			esc(0xdc00 + r&0x3ff)
			continue
		}
		esc(r) // utf8.RuneError for invalid bytes, i.e. \ufffd
	}
	return out
}

// EncryptAppInfoV1 encrypts info's UserName and Password in place for a V1
// answer (docs/protocol.md §4), each with a fresh RandomIV. encryptType is "1"
// (AES-256, also for empty) or "2" (AES-128); set the same value as the
// response's EncryptType. Empty fields stay empty.
func EncryptAppInfoV1(accessKey string, info *AppInfo, encryptType string) error {
	if info == nil {
		return nil
	}
	for _, f := range []*string{&info.UserName, &info.Password} {
		if *f == "" {
			continue
		}
		iv, err := RandomIV()
		if err != nil {
			return fmt.Errorf("encrypting app info: %w", err)
		}
		enc, err := EncryptCredential(accessKey, *f, encryptType, iv)
		if err != nil {
			return fmt.Errorf("encrypting app info: %w", err)
		}
		*f = enc
	}
	return nil
}
