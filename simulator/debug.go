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

package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Defaults of DebugConfig: the documented mock orders the console's debug tool is used with.
const (
	DefaultDebugOrderID        = "MOCKPERIODYEARNEW"
	DefaultDebugRenewalOrderID = "MOCKMONTYRENEW"
	DefaultDebugUpgradeOrderID = "MOCKMONTYCHANGE"
	maxInstanceIDLength        = 64
)

// DebugConfig configures DebugFlow. Only Client is required.
type DebugConfig struct {
	// Client calls the bridge. DebugFlow sends every call with testFlag=1 whatever the
	// client's Options.Test says. Kit calls are signed with its kit key; applicationSync is
	// skipped (and reported so) when it has no Options.MerchantPublicKey.
	Client *Client
	// OrderID and OrderLineID are the order of the debug newInstance whose instanceId the
	// following calls use, as a seller types them into the console. An order the order
	// service does not know is the point: a generated, marketplace-looking id when empty.
	// OrderLineID defaults to <OrderID>-000001.
	OrderID, OrderLineID string
	// MockOrderIDs are further debug newInstance calls, one per id (line <id>-000001); the
	// console offers the documented mock orders. [DefaultDebugOrderID] when nil; empty for none.
	MockOrderIDs []string
	// RenewalOrderID and UpgradeOrderID are the orders of the debug refreshInstance and
	// upgradeInstance; DefaultDebugRenewalOrderID and DefaultDebugUpgradeOrderID when empty.
	RenewalOrderID, UpgradeOrderID string
	// Scenes are the refreshInstance scenes sent, in order; [RENEWAL] when empty.
	Scenes []string
	// ProductID, SKU and LinearValue are changeInstanceCheck's target product (all three are
	// what the console sends; productId is mandatory); they default to the OrderServer's
	// default product "00301-000000-0--0" and SKU "tenantry.standard", and 1.
	ProductID, SKU string
	LinearValue    int
	// Now is the clock for expiry times; time.Now when nil.
	Now func() time.Time
	// AfterNewInstance, when set, is called with the instanceId the first debug newInstance
	// answered, before any other call: a caller with access to the cluster checks there that
	// no TenantInstance was created. Its error is reported as the newInstance call's problem.
	AfterNewInstance func(ctx context.Context, instanceID string) error
}

// DebugCall is the report of one call of the debug flow.
type DebugCall struct {
	// Step names the call: the activity or kit call, with its variant
	// ("refreshInstance RENEWAL", "updateInstanceStatus FREEZE", "tenantSync delete").
	Step string `json:"step"`
	// Activity is the basic activity or the kit path name.
	Activity string `json:"activity"`
	// InstanceID is the instance the call was about or, for newInstance, the one answered.
	InstanceID string `json:"instanceId,omitempty"`
	HTTPStatus int    `json:"httpStatus,omitempty"`
	ResultCode string `json:"resultCode,omitempty"`
	ResultMsg  string `json:"resultMsg,omitempty"`
	// OK says whether the answer is what the console expects: HTTP 200, a valid Body-Sign,
	// 000000 and, for queryInstance, every mandatory field filled.
	OK bool `json:"ok"`
	// Skipped is set when the call could not be made (Problem says why); it does not fail
	// the flow.
	Skipped bool `json:"skipped,omitempty"`
	// Problem says why the answer is not what the console expects.
	Problem   string  `json:"problem,omitempty"`
	LatencyMs float64 `json:"latencyMs"`
}

// DebugReport is the outcome of DebugFlow.
type DebugReport struct {
	// InstanceID is what the first debug newInstance answered; the chained calls used it.
	InstanceID string      `json:"instanceId"`
	Calls      []DebugCall `json:"calls"`
}

// OK reports whether every call that was made was answered as the console expects.
func (r *DebugReport) OK() bool {
	if r == nil || len(r.Calls) == 0 {
		return false
	}
	for _, c := range r.Calls {
		if !c.OK && !c.Skipped {
			return false
		}
	}
	return true
}

// Failed lists the calls not answered as the console expects.
func (r *DebugReport) Failed() []DebugCall {
	var out []DebugCall
	for _, c := range r.Calls {
		if !c.OK && !c.Skipped {
			out = append(out, c)
		}
	}
	return out
}

// DebugFlow replays what the seller console's interface debug tool sends before a product may
// go live, and what the marketplace's twice-daily dial tests replay afterwards
// (docs/protocol.md §6.5): every call with testFlag=1, chained on the instanceId the debug
// newInstance returned — newInstance (and its resend), refreshInstance, FREEZE, UNFREEZE,
// upgradeInstance, changeInstanceCheck, queryInstance, the kit calls (adds, then deletes) and
// finally releaseInstance. A bridge passes when every answer is 000000 although no instance,
// order or plan exists; it must create, change and delete nothing.
//
// Every call is made even after one fails, as the console lets the seller try each; the
// report says which ones failed. The error is for a flow that could not run at all (bad
// configuration, the context ended).
func DebugFlow(ctx context.Context, cfg DebugConfig) (*DebugReport, error) {
	if cfg.Client == nil {
		return nil, errors.New("debug flow needs a client")
	}
	c := cfg.Client.debugClient()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OrderID == "" {
		cfg.OrderID = newOrderID(cfg.Now())
	}
	if cfg.OrderLineID == "" {
		cfg.OrderLineID = cfg.OrderID + "-000001"
	}
	if cfg.MockOrderIDs == nil {
		cfg.MockOrderIDs = []string{DefaultDebugOrderID}
	}
	cfg.RenewalOrderID = or(cfg.RenewalOrderID, DefaultDebugRenewalOrderID)
	cfg.UpgradeOrderID = or(cfg.UpgradeOrderID, DefaultDebugUpgradeOrderID)
	if len(cfg.Scenes) == 0 {
		cfg.Scenes = []string{SceneRenewal}
	}
	cfg.SKU = or(cfg.SKU, defaultSKU)
	cfg.ProductID = or(cfg.ProductID, defaultProductID)
	if cfg.LinearValue <= 0 {
		cfg.LinearValue = 1
	}

	r := &DebugReport{}
	record := func(step, activity, instanceID string, a *Answer, err error, check func(*Answer) string) *DebugCall {
		dc := DebugCall{Step: step, Activity: activity, InstanceID: instanceID}
		if a != nil {
			dc.HTTPStatus, dc.ResultCode, dc.ResultMsg = a.HTTPStatus, a.ResultCode, a.ResultMsg
			dc.LatencyMs = float64(a.Latency.Microseconds()) / 1000
		}
		switch {
		case err != nil:
			dc.Problem = err.Error()
		case a.HTTPStatus != http.StatusOK:
			dc.Problem = fmt.Sprintf("HTTP status %d, want 200", a.HTTPStatus)
		case a.ResultCode != ResultSuccess:
			dc.Problem = fmt.Sprintf("resultCode %s, want %s", a.ResultCode, ResultSuccess)
		case check != nil:
			dc.Problem = check(a)
		}
		dc.OK = dc.Problem == ""
		r.Calls = append(r.Calls, dc)
		return &r.Calls[len(r.Calls)-1]
	}
	stop := func() error { return ctx.Err() }

	// newInstance: the instanceId must be a usable one, the same on every resend.
	checkNew := func(a *Answer) string {
		switch {
		case a.InstanceID == "":
			return "no instanceId in the answer"
		case len(a.InstanceID) > maxInstanceIDLength:
			return fmt.Sprintf("instanceId longer than %d characters", maxInstanceIDLength)
		}
		return ""
	}
	a, err := c.Buy(ctx, cfg.OrderID, cfg.OrderLineID, true)
	first := record("newInstance", "newInstance", answerInstance(a), a, err, checkNew)
	id := answerInstance(a)
	r.InstanceID = id
	if first.OK && cfg.AfterNewInstance != nil {
		if err := cfg.AfterNewInstance(ctx, id); err != nil {
			first.OK, first.Problem = false, err.Error()
		}
	}
	if err := stop(); err != nil {
		return r, err
	}
	a, err = c.Buy(ctx, cfg.OrderID, cfg.OrderLineID, true)
	record("newInstance resend", "newInstance", answerInstance(a), a, err, func(a *Answer) string {
		if p := checkNew(a); p != "" {
			return p
		}
		if id != "" && a.InstanceID != id {
			return fmt.Sprintf("instanceId %q differs from the first answer's %q: a debug newInstance must answer a stable id", a.InstanceID, id)
		}
		return ""
	})
	for _, mock := range cfg.MockOrderIDs {
		if err := stop(); err != nil {
			return r, err
		}
		a, err = c.Buy(ctx, mock, mock+"-000001", true)
		record("newInstance "+mock, "newInstance", answerInstance(a), a, err, checkNew)
	}
	if id == "" {
		// The console has nothing to chain on; the calls are still made, as a seller would
		// with a made-up id, so the report shows every answer.
		id = "ti-debug-no-instance-id"
	}

	expire := cfg.Now().UTC().AddDate(1, 0, 0)
	for _, scene := range cfg.Scenes {
		if err := stop(); err != nil {
			return r, err
		}
		a, err = c.Renew(ctx, id, cfg.RenewalOrderID, cfg.RenewalOrderID+"-000001", scene, expire)
		record("refreshInstance "+scene, "refreshInstance", id, a, err, nil)
	}
	steps := []struct {
		step, activity string
		call           func() (*Answer, error)
		check          func(*Answer) string
	}{
		{"updateInstanceStatus FREEZE", "updateInstanceStatus", func() (*Answer, error) { return c.Freeze(ctx, id) }, nil},
		{"updateInstanceStatus UNFREEZE", "updateInstanceStatus", func() (*Answer, error) { return c.Unfreeze(ctx, id) }, nil},
		{"upgradeInstance", "upgradeInstance", func() (*Answer, error) {
			return c.Upgrade(ctx, id, cfg.UpgradeOrderID, cfg.UpgradeOrderID+"-000001")
		}, nil},
		{"changeInstanceCheck", "changeInstanceCheck", func() (*Answer, error) {
			return c.ChangeCheck(ctx, id, cfg.ProductID, cfg.SKU, cfg.LinearValue)
		}, nil},
		{"queryInstance", "queryInstance", func() (*Answer, error) { return c.Query(ctx, id) }, func(a *Answer) string { return checkQuery(a, id) }},
	}
	for _, s := range steps {
		if err := stop(); err != nil {
			return r, err
		}
		a, err := s.call()
		record(s.step, s.activity, id, a, err, s.check)
	}

	tenantID := "debug-tenant-" + randomHex(4)
	appID := "debug-app"
	kit := []struct {
		step, activity string
		call           func() (*Answer, error)
	}{
		{"tenantSync add", "tenantSync", func() (*Answer, error) {
			return c.TenantSync(ctx, TenantSync{InstanceID: id, OrderID: cfg.OrderID, TenantID: tenantID, TenantCode: "debug",
				Name: "Debug tenant", DomainName: "https://debug.tenantaccount.example.com", Flag: FlagAdd})
		}},
		{"applicationSync add", "applicationSync", func() (*Answer, error) {
			return c.ApplicationSync(ctx, ApplicationSync{InstanceID: id, TenantID: tenantID, AppID: appID,
				ClientID: "debug-client", ClientSecret: "debug-client-secret", Flag: FlagAdd})
		}},
		{"authSync add", "authSync", func() (*Answer, error) {
			return c.AuthSync(ctx, AuthSync{InstanceID: id, TenantID: tenantID, AppID: appID, Flag: FlagAdd,
				Users: []KitUser{{UserName: "debug.user", Name: "Debug User", OrgCode: "debug-org", Role: "admin", Enable: "true"}}})
		}},
		{"singleOrgSync add", "singleOrgSync", func() (*Answer, error) {
			return c.SingleOrgSync(ctx, SingleOrgSync{InstanceID: id, TenantID: tenantID, OrgCode: "debug-org", OrgName: "Debug department", Flag: FlagAdd})
		}},
		{"allOrgSync", "allOrgSync", func() (*Answer, error) {
			return c.AllOrgSync(ctx, AllOrgSync{InstanceID: id, TenantID: tenantID, Orgs: []Org{
				{OrgCode: "debug-org", OrgName: "Debug department"},
				{OrgCode: "debug-org-2", OrgName: "Debug sub-department", ParentCode: "debug-org"},
			}})
		}},
		{"authSync delete", "authSync", func() (*Answer, error) {
			return c.AuthSync(ctx, AuthSync{InstanceID: id, TenantID: tenantID, AppID: appID, Flag: FlagDelete,
				Users: []KitUser{{UserName: "debug.user", Name: "Debug User", OrgCode: "debug-org", Role: "admin", Enable: "true"}}})
		}},
		{"singleOrgSync delete", "singleOrgSync", func() (*Answer, error) {
			return c.SingleOrgSync(ctx, SingleOrgSync{InstanceID: id, TenantID: tenantID, OrgCode: "debug-org", OrgName: "Debug department", Flag: FlagDelete})
		}},
		{"tenantSync delete", "tenantSync", func() (*Answer, error) {
			return c.TenantSync(ctx, TenantSync{InstanceID: id, OrderID: cfg.OrderID, TenantID: tenantID, TenantCode: "debug",
				Name: "Debug tenant", DomainName: "https://debug.tenantaccount.example.com", Flag: FlagDelete})
		}},
	}
	for _, k := range kit {
		if err := stop(); err != nil {
			return r, err
		}
		if k.activity == "applicationSync" && c.o.MerchantPublicKey == nil {
			r.Calls = append(r.Calls, DebugCall{Step: k.step, Activity: k.activity, InstanceID: id, Skipped: true,
				Problem: "skipped: no merchant public key to encrypt the client secret with"})
			continue
		}
		a, err := k.call()
		record(k.step, k.activity, id, a, err, nil)
	}

	if err := stop(); err != nil {
		return r, err
	}
	a, err = c.Release(ctx, id)
	record("releaseInstance", "releaseInstance", id, a, err, nil)
	return r, nil
}

// debugClient is c sending every call with testFlag=1.
func (c *Client) debugClient() *Client {
	d := *c
	d.o.Test = true
	return &d
}

func answerInstance(a *Answer) string {
	if a == nil {
		return ""
	}
	return a.InstanceID
}

// checkQuery says what a queryInstance answer for id lacks of its mandatory fields
// (docs/protocol.md §5): an info entry for the instance with appInfo.frontEndUrl, and for each
// usageInfo entry its usageValue and statisticalTime.
func checkQuery(a *Answer, id string) string {
	var info *InstanceInfo
	for i := range a.Info {
		if a.Info[i].InstanceID == id {
			info = &a.Info[i]
		}
	}
	switch {
	case info == nil:
		return fmt.Sprintf("info[] has no entry for instance %q", id)
	case info.AppInfo == nil:
		return "info[].appInfo is missing"
	case strings.TrimSpace(info.AppInfo.FrontEndURL) == "":
		return "info[].appInfo.frontEndUrl is empty"
	}
	for i, u := range info.UsageInfo {
		if len(u.UsageValue) == 0 || string(u.UsageValue) == "null" || string(u.UsageValue) == `""` {
			return fmt.Sprintf("info[].usageInfo[%d].usageValue is empty", i)
		}
		var v any
		if json.Unmarshal(u.UsageValue, &v) != nil {
			return fmt.Sprintf("info[].usageInfo[%d].usageValue is not a JSON value", i)
		}
		if u.StatisticalTime == "" {
			return fmt.Sprintf("info[].usageInfo[%d].statisticalTime is empty", i)
		}
	}
	return ""
}
