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

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tenantry/tenantry/simulator"
)

func serveOrdersUsage() string {
	var b strings.Builder
	b.WriteString(`Serves the marketplace Order Query API (AK/SK verified) and the admin
endpoint POST /simulator/orders, GET /simulator/orders/{id}, POST /simulator/faults.
The admin endpoint is unauthenticated: keep --listen on a private address.

Besides registered orders it answers the marketplace's mock order ids, for any seller, with
line <id>-000001 (and -000002 where there are two), the product --default-product-id and a
fresh expiry from now:
`)
	for _, m := range simulator.MockOrders() {
		fmt.Fprintf(&b, "  %-24s %s\n", m.OrderID, m.Description)
	}
	b.WriteString("The change SKU is --mock-change-sku, the mock linearValue --mock-linear-value.")
	return b.String()
}

const debugUsage = `Replays the seller console's interface debug flow against the bridge, as the marketplace's
daily dial tests replay it: every call with testFlag=1, chained on the instanceId the debug
newInstance answered — newInstance (for --order-id, which the order service need not know, then
its resend, then each --mock-order-ids), refreshInstance (each --scenes), FREEZE, UNFREEZE,
upgradeInstance, changeInstanceCheck, queryInstance, the kit calls (tenantSync,
applicationSync, authSync, singleOrgSync, allOrgSync, then deletes) and releaseInstance.

Prints each call's answer and whether it is what the console expects: 000000 and, for
queryInstance, every mandatory field filled (a debug newInstance must also answer the same
instanceId on its resend). applicationSync is skipped without --public-key-file. With
--kubeconfig it also checks that the debug newInstance created no TenantInstance.
Exits 1 when any answer is not what the console expects. -o json prints one JSON report.`

func debug(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	b := addBridgeFlags(fs, e)
	output := fs.String("o", "text", "output: text or json (--json is json too)")
	orderID := fs.String("order-id", "", "order of the debug newInstance the chain uses (default: a generated id no order service knows)")
	lineID := fs.String("order-line-id", "", "its order line (default <order-id>-000001)")
	mocks := fs.String("mock-order-ids", simulator.DefaultDebugOrderID, "further debug newInstance orders, comma-separated (empty: none)")
	renewal := fs.String("renewal-order-id", simulator.DefaultDebugRenewalOrderID, "order of the debug refreshInstance")
	upgradeOrder := fs.String("upgrade-order-id", simulator.DefaultDebugUpgradeOrderID, "order of the debug upgradeInstance")
	scenes := fs.String("scenes", simulator.SceneRenewal, "refreshInstance scenes to send, comma-separated: TRIAL_TO_FORMAL, RENEWAL, UNSUBSCRIBE_RENEWAL_PERIOD, RENEWAL_CHANGE")
	sku := fs.String("sku", "tenantry.standard", "changeInstanceCheck's target SKU")
	productID := fs.String("product-id", "00301-000000-0--0", "changeInstanceCheck's target product id")
	linear := fs.Int("linear", 1, "changeInstanceCheck's target linearValue")
	fs.StringVar(&b.publicKeyFile, "public-key-file", "", "merchant RSA public key (PEM) for applicationSync's client secret (default: skip applicationSync)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the bridge's cluster: check that no TenantInstance was created")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	asJSON := b.json
	switch *output {
	case "json":
		asJSON = true
	case "text":
	default:
		return usageError{fmt.Sprintf("-o %q is neither text nor json", *output)}
	}
	sceneList := splitList(*scenes)
	for _, sc := range sceneList {
		switch sc {
		case simulator.SceneTrialToFormal, simulator.SceneRenewal, simulator.SceneUnsubscribeRenew, simulator.SceneRenewalChange:
		default:
			return usageError{fmt.Sprintf("unknown scene %q", sc)}
		}
	}
	if *linear < 1 {
		return usageError{fmt.Sprintf("--linear %d is not positive", *linear)}
	}
	b.test = true
	c, err := b.client(e)
	if err != nil {
		return err
	}
	cfg := simulator.DebugConfig{
		Client: c, OrderID: *orderID, OrderLineID: *lineID, MockOrderIDs: splitList(*mocks),
		RenewalOrderID: *renewal, UpgradeOrderID: *upgradeOrder, Scenes: sceneList,
		ProductID: *productID, SKU: *sku, LinearValue: *linear,
	}
	if *kubeconfig != "" {
		checker, err := newInstanceChecker(*kubeconfig, 10*time.Second)
		if err != nil {
			return err
		}
		cfg.AfterNewInstance = checker.absent
	}
	report, err := simulator.DebugFlow(ctx, cfg)
	if report != nil {
		printDebugReport(e.stdout, asJSON, b.url, report)
	}
	if err != nil {
		return err
	}
	if !report.OK() {
		if !asJSON {
			fmt.Fprintf(e.stderr, "%d of %d debug calls were not answered as the console expects\n", len(report.Failed()), len(report.Calls))
		}
		return errNotSuccess
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping empty items. It never returns nil:
// DebugConfig reads an empty MockOrderIDs as "none" and only nil as "the default".
func splitList(s string) []string {
	out := []string{}
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func printDebugReport(w io.Writer, asJSON bool, url string, r *simulator.DebugReport) {
	if asJSON {
		out := struct {
			OK bool `json:"ok"`
			*simulator.DebugReport
		}{r.OK(), r}
		j, _ := json.Marshal(out)
		fmt.Fprintln(w, string(j))
		return
	}
	fmt.Fprintf(w, "debug flow against %s, chained on instanceId %q\n", url, r.InstanceID)
	for _, c := range r.Calls {
		verdict := "ok  "
		switch {
		case c.Skipped:
			verdict = "skip"
		case !c.OK:
			verdict = "FAIL"
		}
		line := fmt.Sprintf("%s  %-30s", verdict, c.Step)
		if c.ResultCode != "" {
			line += fmt.Sprintf(" %s %q", c.ResultCode, c.ResultMsg)
		}
		if c.Activity == "newInstance" && c.InstanceID != "" {
			line += " instanceId=" + c.InstanceID
		}
		if c.Problem != "" {
			line += " — " + c.Problem
		}
		if !c.Skipped {
			line += fmt.Sprintf(" (%.0fms)", c.LatencyMs)
		}
		fmt.Fprintln(w, line)
	}
	passed, skipped := 0, 0
	for _, c := range r.Calls {
		switch {
		case c.Skipped:
			skipped++
		case c.OK:
			passed++
		}
	}
	fmt.Fprintf(w, "%d of %d calls answered as the console expects, %d skipped\n", passed, len(r.Calls)-skipped, skipped)
}
