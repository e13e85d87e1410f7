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

package webhookbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// The tenant-admin password makeReady writes, which no replay may disclose.
const adminPassword = "S3cret-Passw0rd"

// capturedCall is one request as the marketplace sent it, byte for byte, to be sent again.
type capturedCall struct {
	method string
	url    *url.URL
	header http.Header
	body   []byte
}

// recorder is an http.RoundTripper that keeps the last request it sent: what an attacker who
// captured a call would hold.
type recorder struct {
	mu   sync.Mutex
	last capturedCall
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	r.mu.Lock()
	r.last = capturedCall{method: req.Method, url: req.URL, header: req.Header.Clone(), body: body}
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) captured() capturedCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func recording(r *recorder) clientOption {
	return func(o *simulator.Options) { o.HTTP = &http.Client{Transport: r, Timeout: 20 * time.Second} }
}

type replayAnswer struct {
	ResultCode string          `json:"resultCode"`
	Info       json.RawMessage `json:"info"`
	AppInfo    json.RawMessage `json:"appInfo"`
	raw        string
}

// replayTo sends c again, unchanged, to the bridge at base (a production URL).
func replayTo(g Gomega, base string, c capturedCall) replayAnswer {
	target, err := url.Parse(base)
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
	u := *c.url
	u.Scheme, u.Host = target.Scheme, target.Host
	req, err := http.NewRequest(c.method, u.String(), bytes.NewReader(c.body))
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
	req.Header = c.header.Clone()
	resp, err := http.DefaultClient.Do(req)
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
	g.ExpectWithOffset(1, resp.StatusCode).To(Equal(http.StatusOK))
	var a replayAnswer
	g.ExpectWithOffset(1, json.Unmarshal(raw, &a)).To(Succeed())
	a.raw = string(raw)
	return a
}

// replicaNamespace creates the namespace of a pair of bridge replicas' replay claims.
func replicaNamespace(t *testing.T, g Gomega) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bridge-"}}
	g.Expect(k8s.Create(context.Background(), ns)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), ns) })
	return ns.Name
}

// replicas starts two bridges on the shared API server, each with its own in-memory replay
// cache, sharing replay claims in namespace ns: two replicas of one Deployment.
func replicas(t *testing.T, ns string) (string, string) {
	store := &webhookbridge.LeaseReplayStore{Client: k8s, Namespace: ns}
	one := newBridge(t, func(o *webhookbridge.Options) { o.Replays = store })
	two := newBridge(t, func(o *webhookbridge.Options) { o.Replays = store })
	return one, two
}

// A queryInstance replayed to the other replica within the window is refused 000001 and
// discloses nothing, basic and V1 alike (docs/protocol.md §2.1); so is one replayed to the
// same replica.
func TestReplayToAnotherReplicaDisclosesNothing(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	ns := replicaNamespace(t, g)
	one, two := replicas(t, ns)
	id, _ := buy(t, skuSmall)
	makeReady(g, id, true)

	rec := &recorder{}
	a, err := marketFor(t, one, recording(rec)).Query(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(string(a.Raw)).To(ContainSubstring(adminPassword), "the original query is answered")
	query := rec.captured()
	for _, base := range []string{two, one} {
		r := replayTo(g, base, query)
		g.Expect(r.ResultCode).To(Equal(protocol.CodeAuthFailed), "answer: %s", r.raw)
		g.Expect(r.raw).NotTo(ContainSubstring(adminPassword))
		g.Expect(r.Info).To(BeEmpty())
	}

	a, err = marketFor(t, one, recording(rec)).V1(ctx, v1Params("activity", "queryInstance", "instanceId", id))
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.Info).To(HaveLen(1))
	v1Query := rec.captured()
	r := replayTo(g, two, v1Query)
	g.Expect(r.ResultCode).To(Equal(protocol.CodeAuthFailed), "answer: %s", r.raw)
	g.Expect(r.Info).To(BeEmpty())
	g.Expect(r.raw).NotTo(ContainSubstring("userName"))

	var claims coordinationv1.LeaseList
	g.Expect(k8s.List(ctx, &claims, client.InNamespace(ns), client.MatchingLabels{webhookbridge.ReplayClaimLabel: "true"})).To(Succeed())
	g.Expect(claims.Items).To(HaveLen(2), "one claim per disclosing call")
}

// The zero shift (docs/protocol.md §2.1): a captured call whose nonce ends in 0, re-sent with
// that 0 moved to the front of its timestamp, signs the same string. It is refused 000002
// (bad-timestamp) and discloses nothing.
func TestZeroShiftedReplayIsRefused(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	makeReady(g, id, true)
	body := []byte(fmt.Sprintf(`{"activity":"queryInstance","instanceId":%q}`, id))
	nonce, ts := "7f3c9a1e5b2d4c80", strconv.FormatInt(time.Now().UnixMilli(), 10)
	sig := protocol.SignBasic(accessKey, nonce, ts, body)

	a, err := market(t).Raw(ctx, body, url.Values{"signature": {sig}, "timestamp": {ts}, "nonce": {nonce}})
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(string(a.Raw)).To(ContainSubstring(adminPassword))

	a, err = market(t).Raw(ctx, body, url.Values{"signature": {sig}, "timestamp": {"0" + ts}, "nonce": {strings.TrimSuffix(nonce, "0")}})
	expectCode(g, a, err, protocol.CodeInvalidParam)
	g.Expect(string(a.Raw)).NotTo(ContainSubstring(adminPassword))
}

// When the shared replay store cannot be asked, a call that would disclose a secret is answered
// 000005 (the marketplace resends it), never with the secret unverified-as-unique.
func TestDisclosingCallsFailClosedWithoutTheReplayStore(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	makeReady(g, id, true)
	base := newBridge(t, func(o *webhookbridge.Options) {
		o.Replays = &webhookbridge.LeaseReplayStore{Client: k8s, Namespace: "no-such-namespace"}
	})
	a, err := marketFor(t, base).Query(ctx, id)
	expectCode(g, a, err, protocol.CodeInternalError)
	g.Expect(string(a.Raw)).NotTo(ContainSubstring(adminPassword))
	a, err = marketFor(t, base).V1(ctx, v1Params("activity", "queryInstance", "instanceId", id))
	expectCode(g, a, err, protocol.CodeInternalError)
	g.Expect(a.Info).To(BeEmpty())
}

// State-changing calls need no shared claim because a replay of one changes nothing
// (docs/protocol.md §6.3, §6.6, §6.11): checked here per family, by replaying a captured call
// to the other replica after a later call of the same kind was applied.
func TestReplayedStateChangesChangeNothingOnAnotherReplica(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	one, two := replicas(t, replicaNamespace(t, g))
	id, _ := buy(t, skuSmall)
	start := time.Now()
	tick := 0
	next := func() time.Time { tick++; return start.Add(time.Duration(tick) * time.Millisecond) }
	rec := &recorder{}

	lifecycleOf := func() tenantryv1alpha1.Lifecycle { return getInstance(g, id).Spec.Lifecycle }

	// Basic: a FREEZE replayed after the UNFREEZE that followed it.
	a, err := marketFor(t, one, recording(rec), at(next())).Freeze(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	freeze := rec.captured()
	a, err = marketFor(t, one, at(next())).Unfreeze(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	running := lifecycleOf()
	before := snapshot(g)
	r := replayTo(g, two, freeze)
	g.Expect(r.ResultCode).To(Equal(protocol.CodeSuccess), "answer: %s", r.raw)
	g.Expect(snapshot(g)).To(Equal(before))
	g.Expect(lifecycleOf()).To(Equal(running))

	// V1: instanceStatus FREEZE replayed after NORMAL.
	a, err = marketFor(t, one, recording(rec), at(next())).V1(ctx, v1Params("activity", "instanceStatus", "instanceId", id, "instanceStatus", "FREEZE"))
	expectCode(g, a, err, protocol.CodeSuccess)
	v1Freeze := rec.captured()
	a, err = marketFor(t, one, at(next())).V1(ctx, v1Params("activity", "instanceStatus", "instanceId", id, "instanceStatus", "NORMAL"))
	expectCode(g, a, err, protocol.CodeSuccess)
	before = snapshot(g)
	r = replayTo(g, two, v1Freeze)
	g.Expect(r.ResultCode).To(Equal(protocol.CodeSuccess), "answer: %s", r.raw)
	g.Expect(snapshot(g)).To(Equal(before))
	g.Expect(lifecycleOf()).To(Equal(running))

	// Kit: a tenantSync replayed after a later one renamed the tenant.
	tenantID := strings.Repeat("ab", 16)
	a, err = marketFor(t, one, recording(rec), at(next())).TenantSync(ctx, simulator.TenantSync{InstanceID: id, TenantID: tenantID, Name: "Old Name", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	tenantSync := rec.captured()
	a, err = marketFor(t, one, at(next())).TenantSync(ctx, simulator.TenantSync{InstanceID: id, TenantID: tenantID, Name: "New Name", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	before = snapshot(g)
	r = replayTo(g, two, tenantSync)
	g.Expect(r.ResultCode).To(Equal(protocol.CodeSuccess), "answer: %s", r.raw)
	g.Expect(snapshot(g)).To(Equal(before))
	g.Expect(getInstance(g, id).Spec.Tenant.Name).To(Equal("New Name"))
}

// A claim is taken once; Sweep deletes expired claims only, and any replica may run it.
func TestReplayClaimsExpireAndAreSwept(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	ns := replicaNamespace(t, g)
	clk := clocktesting.NewFakePassiveClock(time.Now())
	store := &webhookbridge.LeaseReplayStore{Client: k8s, Namespace: ns, Clock: clk}
	g.Expect(store.Claim(ctx, "basic:aa", clk.Now().Add(2*time.Minute))).To(Succeed())
	g.Expect(store.Claim(ctx, "basic:bb", clk.Now().Add(time.Hour))).To(Succeed())
	g.Expect(errors.Is(store.Claim(ctx, "basic:aa", clk.Now().Add(2*time.Minute)), webhookbridge.ErrReplayed)).To(BeTrue())

	n, err := store.Sweep(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(n).To(BeZero(), "nothing has expired yet")

	clk.SetTime(clk.Now().Add(2*time.Minute + time.Second))
	other := &webhookbridge.LeaseReplayStore{Client: k8s, Namespace: ns, Clock: clk}
	n, err = other.Sweep(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(n).To(Equal(1))
	lease := &coordinationv1.Lease{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: webhookbridge.ReplayClaimName("basic:bb")}, lease)).To(Succeed())
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: webhookbridge.ReplayClaimName("basic:aa")}, lease)).NotTo(Succeed())
}
