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
	"net/url"

	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// DebugFrontEndHost is the host of the front-end URL a debug queryInstance answers for an
// instance that does not exist or has no URL yet. ".invalid" can never resolve (RFC 2606), so
// the value says plainly that it is a test and can reach nobody.
const DebugFrontEndHost = "debug.invalid"

// DebugMemo is the memo of such an answer.
const DebugMemo = "Debug answer (testFlag=1): no tenant exists for this instanceId; nothing was created or changed."

// DebugAppInfo is the appInfo a debug queryInstance (testFlag=1) answers for an instance that
// does not exist or is not provisioned yet (§6.5): every mandatory field is filled, so the
// console's debug tool and the dial tests see a well-formed success, and every value says it is
// a test.
func DebugAppInfo(instanceID string) *protocol.AppInfo {
	u := "https://" + DebugFrontEndHost + "/" + url.PathEscape(instanceID)
	return &protocol.AppInfo{FrontEndURL: u, AdminURL: u + "/admin", Memo: DebugMemo}
}
