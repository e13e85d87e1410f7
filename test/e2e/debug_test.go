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

package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/test/e2e/framework"
)

// The debug flow replays, through the installed bridge, what the seller console's interface debug
// tool sends before a product may go live and what the marketplace's daily dial tests replay
// afterwards (docs/protocol.md §6.5): every call with testFlag=1, chained on the instanceId the
// debug newInstance answered for an order the Order Query API does not know. Every answer must
// be 000000 — queryInstance with its mandatory fields filled — and nothing may be created: no
// TenantInstance and no TenantDirectory shard for any instanceId the debug newInstance calls answered.
// A replay, as the dial tests do, must answer the same instanceId.
var _ = Describe("The seller console's interface debug tool", Label("debug"), func() {
	It("is answered 000000 for every call, with nothing created, and the same on a replay", func(ctx SpecContext) {
		debugFlow(ctx, Default)
	})
})

func debugFlow(ctx context.Context, g Gomega) {

	// An order id of the marketplace's shape that no order service knows, fixed for the run so
	// that the replay below is a replay.
	orderID := fmt.Sprintf("CS%010dDEBUG", os.Getpid()%10_000_000_000)
	// applicationSync needs a merchant public key to encrypt the client secret with; the bridge
	// under test has no private key configured, so any key will do.
	merchant, err := rsa.GenerateKey(rand.Reader, 3072)
	g.Expect(err).NotTo(HaveOccurred())
	keys, err := framework.ReadKeys(filepath.Join(workDir, "keys"))
	g.Expect(err).NotTo(HaveOccurred())
	debugMarket, err := simulator.NewClient(simulator.Options{BaseURL: components.BridgeURL, AccessKey: keys.AccessKey,
		MerchantPublicKey: &merchant.PublicKey})
	g.Expect(err).NotTo(HaveOccurred())
	cfg := simulator.DebugConfig{
		Client:  debugMarket,
		OrderID: orderID,
		// The documented mock orders, which the simulated Order Query API answers too.
		MockOrderIDs: []string{"MOCKPERIODYEARNEW", "MOCKPERIODDAYTRIAL"},
		Scenes: []string{simulator.SceneRenewal, simulator.SceneTrialToFormal, simulator.SceneRenewalChange,
			simulator.SceneUnsubscribeRenew},
		SKU: skuLarge, LinearValue: 2,
		AfterNewInstance: func(ctx context.Context, id string) error {
			return try(func(g Gomega) { expectNothingFor(ctx, g, id) })
		},
	}

	report, err := simulator.DebugFlow(ctx, cfg)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(report.Failed()).To(BeEmpty(), "debug calls not answered as the console expects:\n%s", describeCalls(report.Failed()))
	g.Expect(report.InstanceID).NotTo(BeEmpty())
	for _, c := range report.Calls {
		g.Expect(c.Skipped).To(BeFalse(), "debug call %s was skipped: %s", c.Step, c.Problem)
	}

	// Nothing exists for any instance a debug newInstance named, even after a while: the bridge
	// may work asynchronously, so a create would not have to show at once.
	ids := map[string]bool{}
	for _, c := range report.Calls {
		if c.Activity == "newInstance" && c.InstanceID != "" {
			ids[c.InstanceID] = true
		}
	}
	g.Expect(ids).NotTo(BeEmpty())
	g.Consistently(func(g Gomega) {
		for id := range ids {
			expectNothingFor(ctx, g, id)
		}
	}).WithTimeout(5 * time.Second).WithPolling(time.Second).Should(Succeed())

	By("replay: the dial tests send the same saved cases again")
	replay, err := simulator.DebugFlow(ctx, cfg)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(replay.Failed()).To(BeEmpty(), "replayed debug calls not answered as the console expects:\n%s", describeCalls(replay.Failed()))
	g.Expect(replay.InstanceID).To(Equal(report.InstanceID), "a debug newInstance must answer the same instanceId every time")
	expectNothingFor(ctx, g, replay.InstanceID)
}

// expectNothingFor checks that there is no TenantInstance named id and no TenantDirectory shard
// of it: the directory is sharded into objects labelled with the instance (named
// <id>-users-NN and <id>-orgs-NN), so none is named after the instance itself.
func expectNothingFor(ctx context.Context, g Gomega, id string) {
	err := admin.Get(ctx, client.ObjectKey{Name: id}, &tenantryv1alpha1.TenantInstance{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a debug call left TenantInstance %s (%v)", id, err)
	var dirs tenantryv1alpha1.TenantDirectoryList
	g.Expect(admin.List(ctx, &dirs, client.MatchingLabels{tenantryv1alpha1.LabelInstance: id})).To(Succeed())
	names := make([]string, 0, len(dirs.Items))
	for _, d := range dirs.Items {
		names = append(names, d.Name)
	}
	g.Expect(names).To(BeEmpty(), "a debug call left TenantDirectory shards of %s", id)
}

// describeCalls renders debug calls one per line for a failure message.
func describeCalls(calls []simulator.DebugCall) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "  %s: HTTP %d %s %q: %s\n", c.Step, c.HTTPStatus, c.ResultCode, c.ResultMsg, c.Problem)
	}
	return b.String()
}
