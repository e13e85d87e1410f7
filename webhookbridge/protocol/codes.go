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

// Package protocol is the codec and crypto side of the Huawei Cloud KooGallery
// SaaS production interface described in docs/protocol.md.
//
// It holds pure functions only: request verification (query-string, header and
// legacy V1 signatures, replay protection), strict decoding of request bodies
// into typed payloads, response encoding and signing, and the credential
// cryptography the marketplace expects. It knows nothing about Kubernetes or
// HTTP servers, so the bridge can be tested against it and the marketplace's
// published vectors can be checked here in isolation.
package protocol

// Result codes (docs/protocol.md §6.1). The marketplace treats only CodeSuccess as
// success and retries on most others, so the bridge must pick the code that
// drives the retry behaviour it wants, not merely the one that describes the
// failure best.
const (
	// CodeSuccess: the call succeeded (or its goal state already holds).
	CodeSuccess = "000000"
	// CodeAuthFailed: signature missing or wrong, or a replayed nonce.
	CodeAuthFailed = "000001"
	// CodeInvalidParam: a missing or invalid field, a missing or stale timestamp,
	// a missing nonce, or more than 100 instance ids.
	CodeInvalidParam = "000002"
	// CodeInstanceNotFound: refresh, status, upgrade or release for an unknown instance.
	CodeInstanceNotFound = "000003"
	// CodeInProgress: newInstance is being provisioned asynchronously; the
	// marketplace resends and the bridge answers again.
	CodeInProgress = "000004"
	// CodeInternalError: any other failure; the marketplace retries, so this is
	// the code for transient trouble.
	CodeInternalError = "000005"
	// CodeNoResource: no instance resource available.
	CodeNoResource = "000100"
	// CodeMobileConflict: mobile number missing or already in use.
	CodeMobileConflict = "000101"
	// CodeEmailConflict: e-mail missing or already in use.
	CodeEmailConflict = "000102"
	// CodeCannotBuyTwice: the product cannot be bought twice.
	CodeCannotBuyTwice = "000103"
	// CodeProductServiceError: the product's own service failed.
	CodeProductServiceError = "000104"
	// CodeAlreadyHasBenefit: the account already has the benefit.
	CodeAlreadyHasBenefit = "000105"
	// CodeSoldOut: the product's resources are sold out.
	CodeSoldOut = "000106"
	// CodeEmailDomainExists: the SaaS e-mail domain already exists.
	CodeEmailDomainExists = "000107"
)

var messages = map[string]string{
	CodeSuccess:             "success.",
	CodeAuthFailed:          "authentication failed.",
	CodeInvalidParam:        "invalid parameter.",
	CodeInstanceNotFound:    "instance does not exist.",
	CodeInProgress:          "request is being processed.",
	CodeInternalError:       "internal error.",
	CodeNoResource:          "no instance resource available.",
	CodeMobileConflict:      "mobile phone number missing or already in use.",
	CodeEmailConflict:       "e-mail missing or already in use.",
	CodeCannotBuyTwice:      "product cannot be bought twice.",
	CodeProductServiceError: "product service error.",
	CodeAlreadyHasBenefit:   "account already has the benefit.",
	CodeSoldOut:             "product resources sold out.",
	CodeEmailDomainExists:   "SaaS e-mail domain already exists.",
}

// Message returns the default resultMsg for a result code. Answers to the
// marketplace use these generic texts so that a caller never learns which
// check failed (docs/protocol.md §2.1); details belong in the bridge's logs.
// An unknown code yields the internal-error message.
func Message(code string) string {
	if m, ok := messages[code]; ok {
		return m
	}
	return messages[CodeInternalError]
}

// Codes returns every result code of docs/protocol.md §6.1 in ascending order, so
// dashboards and tests can enumerate them without repeating the list.
func Codes() []string {
	return []string{
		CodeSuccess, CodeAuthFailed, CodeInvalidParam, CodeInstanceNotFound,
		CodeInProgress, CodeInternalError, CodeNoResource, CodeMobileConflict,
		CodeEmailConflict, CodeCannotBuyTwice, CodeProductServiceError,
		CodeAlreadyHasBenefit, CodeSoldOut, CodeEmailDomainExists,
	}
}

// V2 basic-interface activities, selected by the body field "activity".
const (
	ActivityNewInstance          = "newInstance"
	ActivityQueryInstance        = "queryInstance"
	ActivityRefreshInstance      = "refreshInstance"
	ActivityUpdateInstanceStatus = "updateInstanceStatus"
	ActivityUpgradeInstance      = "upgradeInstance"
	ActivityChangeInstanceCheck  = "changeInstanceCheck"
	ActivityReleaseInstance      = "releaseInstance"
)

// Legacy V1 activities, selected by the query parameter "activity". Those with
// the same name as a V2 activity share its constant above; the others are
// mapped onto V2 payloads by DecodeV1.
const (
	V1ActivityNewInstance     = "newInstance"
	V1ActivityRefreshInstance = "refreshInstance"
	V1ActivityExpireInstance  = "expireInstance"
	V1ActivityReleaseInstance = "releaseInstance"
	V1ActivityUpgrade         = "upgrade"
	V1ActivityInstanceStatus  = "instanceStatus"
	V1ActivityQueryInstance   = "queryInstance"
)

// 联营 kit sync names: the last path segment of
// <production URL>/produceAPI/v2/<name>.
const (
	KitTenantSync      = "tenantSync"
	KitApplicationSync = "applicationSync"
	KitAuthSync        = "authSync"
	KitSingleOrgSync   = "singleOrgSync"
	KitAllOrgSync      = "allOrgSync"
)

// KitPathPrefix is the path prefix, below the production URL, of kit calls.
const KitPathPrefix = "/produceAPI/v2/"

// refreshInstance scenes.
const (
	SceneTrialToFormal            = "TRIAL_TO_FORMAL"
	SceneRenewal                  = "RENEWAL"
	SceneUnsubscribeRenewalPeriod = "UNSUBSCRIBE_RENEWAL_PERIOD"
	SceneRenewalChange            = "RENEWAL_CHANGE"
)

// Instance status values: V2 updateInstanceStatus uses FREEZE/UNFREEZE, V1
// instanceStatus uses FREEZE/NORMAL (DecodeV1 maps NORMAL to StatusUnfreeze).
const (
	StatusFreeze      = "FREEZE"
	StatusUnfreeze    = "UNFREEZE"
	V1StatusFreeze    = "FREEZE"
	V1StatusNormal    = "NORMAL"
	TestFlagDebug     = "1"
	TestFlagProduct   = "0"
	EncryptTypeAES256 = "1"
	EncryptTypeAES128 = "2"
)

// Kit flag values (authSync also knows FlagCancel).
const (
	FlagDelete = 0
	FlagAdd    = 1
	FlagModify = 2
	FlagCancel = 3
)

// Kit user roles.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// Header and query parameter names.
const (
	// ParamSignature, ParamTimestamp and ParamNonce carry the basic-interface
	// signature in the query string (docs/protocol.md §2.1).
	ParamSignature = "signature"
	ParamTimestamp = "timestamp"
	ParamNonce     = "nonce"
	// HeaderSign, HeaderTimestamp and HeaderNonce carry the kit signature.
	HeaderSign      = "x-sign"
	HeaderTimestamp = "x-timestamp"
	HeaderNonce     = "x-nonce"
	// ParamAuthToken and ParamTimeStamp carry the legacy V1 signature.
	ParamAuthToken = "authToken"
	ParamTimeStamp = "timeStamp"
	// ParamActivity selects the V1 activity.
	ParamActivity = "activity"
	// HeaderBodySign signs responses (docs/protocol.md §3).
	HeaderBodySign = "Body-Sign"
	// ContentType is what the marketplace sends and what responses carry.
	ContentType = "application/json;charset=UTF-8"
)
