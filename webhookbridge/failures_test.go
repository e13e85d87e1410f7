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
	"crypto/rand"
	"encoding/hex"
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
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/tenantry/tenantry/internal/testenv"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

func nonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// signed returns the query of a basic call over body, signed as the marketplace would (over the
// canonical payload, or the raw body when it is not JSON), sent at ts.
func signed(body []byte, ts string) url.Values {
	payload, err := protocol.CanonicalPayload(body)
	if err != nil {
		payload = body
	}
	n := nonce()
	return url.Values{"signature": {protocol.SignBasic(accessKey, n, ts, payload)}, "timestamp": {ts}, "nonce": {n}}
}

func nowMillis() string { return strconv.FormatInt(time.Now().UnixMilli(), 10) }

func TestVerificationAndDecodingFailuresChangeNothing(t *testing.T) {
	integration(t)
	ctx := context.Background()
	id, _ := buy(t, skuSmall)
	freeze := []byte(fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":"FREEZE","testFlag":"0"}`, id))
	g := NewWithT(t)
	c := market(t)
	base := snapshot(g)

	with := func(q url.Values, key, value string) url.Values {
		out := url.Values{}
		for k, v := range q {
			out[k] = v
		}
		if value == "" {
			delete(out, key)
		} else {
			out.Set(key, value)
		}
		return out
	}
	tamper := func(sig string) string {
		b := []byte(sig)
		if b[0] == 'a' {
			b[0] = 'b'
		} else {
			b[0] = 'a'
		}
		return string(b)
	}

	for _, tc := range []struct {
		name  string
		body  []byte
		query func() url.Values
		code  string
	}{
		{"wrong signature", freeze, func() url.Values {
			q := signed(freeze, nowMillis())
			return with(q, "signature", tamper(q.Get("signature")))
		}, protocol.CodeAuthFailed},
		{"missing signature", freeze, func() url.Values { return with(signed(freeze, nowMillis()), "signature", "") }, protocol.CodeAuthFailed},
		{"truncated signature", freeze, func() url.Values {
			q := signed(freeze, nowMillis())
			return with(q, "signature", q.Get("signature")[:60])
		}, protocol.CodeAuthFailed},
		{"signature with another key", freeze, func() url.Values {
			ts, n := nowMillis(), nonce()
			return url.Values{"signature": {protocol.SignBasic("another-key", n, ts, freeze)}, "timestamp": {ts}, "nonce": {n}}
		}, protocol.CodeAuthFailed},
		{"tampered body", []byte(strings.Replace(string(freeze), "FREEZE", "UNFREEZE", 1)), func() url.Values { return signed(freeze, nowMillis()) }, protocol.CodeAuthFailed},
		{"skewed timestamp", freeze, func() url.Values {
			return signed(freeze, strconv.FormatInt(time.Now().Add(-5*time.Minute).UnixMilli(), 10))
		}, protocol.CodeInvalidParam},
		{"timestamp from the future", freeze, func() url.Values {
			return signed(freeze, strconv.FormatInt(time.Now().Add(5*time.Minute).UnixMilli(), 10))
		}, protocol.CodeInvalidParam},
		{"non-numeric timestamp", freeze, func() url.Values { return signed(freeze, "2026-01-01T00:00:00Z") }, protocol.CodeInvalidParam},
		{"missing timestamp", freeze, func() url.Values { return with(signed(freeze, nowMillis()), "timestamp", "") }, protocol.CodeInvalidParam},
		{"missing nonce", freeze, func() url.Values { return with(signed(freeze, nowMillis()), "nonce", "") }, protocol.CodeInvalidParam},
		{"malformed JSON", []byte(`{"activity":"updateInstanceStatus",`), func() url.Values {
			return signed([]byte(`{"activity":"updateInstanceStatus",`), nowMillis())
		}, protocol.CodeInvalidParam},
		{"wrong type", []byte(`{"activity":"updateInstanceStatus","instanceId":123,"status":"FREEZE"}`), func() url.Values {
			return signed([]byte(`{"activity":"updateInstanceStatus","instanceId":123,"status":"FREEZE"}`), nowMillis())
		}, protocol.CodeInvalidParam},
		{"missing field", []byte(fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q}`, id)), func() url.Values {
			return signed([]byte(fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q}`, id)), nowMillis())
		}, protocol.CodeInvalidParam},
		{"bad enum", []byte(fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":"PAUSE"}`, id)), func() url.Values {
			return signed([]byte(fmt.Sprintf(`{"activity":"updateInstanceStatus","instanceId":%q,"status":"PAUSE"}`, id)), nowMillis())
		}, protocol.CodeInvalidParam},
		{"unknown activity", []byte(fmt.Sprintf(`{"activity":"deleteEverything","instanceId":%q}`, id)), func() url.Values {
			return signed([]byte(fmt.Sprintf(`{"activity":"deleteEverything","instanceId":%q}`, id)), nowMillis())
		}, protocol.CodeInvalidParam},
		{"more than 100 ids", nil, nil, protocol.CodeInvalidParam},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			var a *simulator.Answer
			var err error
			if tc.query == nil {
				ids := make([]string, 101)
				for i := range ids {
					ids[i] = id
				}
				a, err = c.Query(ctx, ids...)
			} else {
				a, err = c.Raw(ctx, tc.body, tc.query())
			}
			expectCode(g, a, err, tc.code)
			g.Expect(a.ResultMsg).To(Equal(protocol.Message(tc.code)), "generic message only")
			g.Expect(snapshot(g)).To(Equal(base))
		})
	}

	t.Run("upper-case hex signature is accepted", func(t *testing.T) {
		g := NewWithT(t)
		release := []byte(`{"activity":"releaseInstance","instanceId":"ti-00000000000000000000"}`)
		q := signed(release, nowMillis())
		q.Set("signature", strings.ToUpper(q.Get("signature")))
		a, err := c.Raw(ctx, release, q)
		expectCode(g, a, err, protocol.CodeSuccess)
	})

	t.Run("replayed nonce", func(t *testing.T) {
		g := NewWithT(t)
		release := []byte(`{"activity":"releaseInstance","instanceId":"ti-00000000000000000000"}`)
		q := signed(release, nowMillis())
		a, err := c.Raw(ctx, release, q)
		expectCode(g, a, err, protocol.CodeSuccess)
		a, err = c.Raw(ctx, release, q)
		expectCode(g, a, err, protocol.CodeAuthFailed)

		replay := signed(freeze, nowMillis())
		a, err = c.Raw(ctx, freeze, replay)
		expectCode(g, a, err, protocol.CodeSuccess)
		after := snapshot(g)
		a, err = c.Raw(ctx, freeze, replay)
		expectCode(g, a, err, protocol.CodeAuthFailed)
		g.Expect(snapshot(g)).To(Equal(after))
	})

	t.Run("oversized body", func(t *testing.T) {
		g := NewWithT(t)
		before := snapshot(g)
		big := []byte(`{"activity":"updateInstanceStatus","instanceId":"` + id + `","status":"FREEZE","pad":"` + strings.Repeat("x", 1<<20) + `"}`)
		a, err := c.Raw(ctx, big, signed(big, nowMillis()))
		expectCode(g, a, err, protocol.CodeInvalidParam)
		g.Expect(snapshot(g)).To(Equal(before))
	})

	t.Run("kit", func(t *testing.T) {
		g := NewWithT(t)
		before := snapshot(g)
		body := []byte(fmt.Sprintf(`{"instanceId":%q,"tenantId":%q,"flag":1,"testFlag":0,"timeStamp":%q}`, id, tenantID, protocol.FormatKitTimeStamp(time.Now())))
		a, err := kitRaw(ctx, bridgeURL+"/produceAPI/v2/tenantSync", body, "deadbeef"+strings.Repeat("0", 56))
		expectCode(g, a, err, protocol.CodeAuthFailed)
		a, err = market(t).KitCall(ctx, "deleteTenant", body)
		expectCode(g, a, err, protocol.CodeInvalidParam)
		a, err = market(t).KitCall(ctx, "tenantSync", []byte(fmt.Sprintf(`{"instanceId":%q,"tenantId":%q,"flag":"1","testFlag":0,"timeStamp":%q}`,
			id, tenantID, protocol.FormatKitTimeStamp(time.Now()))))
		expectCode(g, a, err, protocol.CodeInvalidParam)
		g.Expect(snapshot(g)).To(Equal(before))
	})

	t.Run("v1 bad authToken", func(t *testing.T) {
		g := NewWithT(t)
		before := snapshot(g)
		q := v1Params("activity", "instanceStatus", "instanceId", id, "instanceStatus", "FREEZE",
			"timeStamp", time.Now().UTC().Format("20060102150405")+"000")
		q.Set("authToken", protocol.V1AuthToken("another-key", q.Get("timeStamp"), q))
		resp, err := http.Get(bridgeURL + "?" + q.Encode())
		g.Expect(err).NotTo(HaveOccurred())
		defer func() { _ = resp.Body.Close() }()
		raw, _ := io.ReadAll(resp.Body)
		g.Expect(resp.StatusCode).To(Equal(200))
		g.Expect(string(raw)).To(ContainSubstring(`"resultCode":"000001"`))
		g.Expect(resp.Header.Get("Body-Sign")).To(Equal(protocol.BodySign(accessKey, raw)))
		g.Expect(snapshot(g)).To(Equal(before))
	})

	t.Run("transport refusals", func(t *testing.T) {
		g := NewWithT(t)
		req, _ := http.NewRequest(http.MethodPut, bridgeURL, nil)
		resp, err := http.DefaultClient.Do(req)
		g.Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		g.Expect(resp.StatusCode).To(Equal(http.StatusMethodNotAllowed))
		resp, err = http.Get(strings.TrimSuffix(bridgeURL, "/saasproduce") + "/elsewhere")
		g.Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		g.Expect(resp.StatusCode).To(Equal(http.StatusNotFound))
	})

	g.Expect(metricValue(g, "tenantry_bridge_verification_failures_total", "reason", "bad-signature")).To(BeNumerically(">=", 4))
}

// kitRaw posts a kit call with a given x-sign.
func kitRaw(ctx context.Context, u string, body []byte, sign string) (*simulator.Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("x-sign", sign)
	req.Header.Set("x-timestamp", nowMillis())
	req.Header.Set("x-nonce", nonce())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	a := &simulator.Answer{HTTPStatus: resp.StatusCode, Raw: raw}
	if resp.Header.Get("Body-Sign") != protocol.BodySign(accessKey, raw) {
		return a, errors.New("bad Body-Sign")
	}
	for _, code := range protocol.Codes() {
		if bytes.Contains(raw, []byte(`"resultCode":"`+code+`"`)) {
			a.ResultCode = code
		}
	}
	return a, nil
}

// metricValue reads one counter series from controller-runtime's registry (0 when absent).
func metricValue(g Gomega, name, label, value string) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestUnknownInstancesAndSKUs(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	c := market(t)
	unknown := "ti-00000000000000000000"
	before := snapshot(g)

	a, err := c.Renew(ctx, unknown, "ORDER", "ORDER-1", simulator.SceneRenewal, time.Now().Add(time.Hour))
	expectCode(g, a, err, protocol.CodeInstanceNotFound)
	a, err = c.Freeze(ctx, unknown)
	expectCode(g, a, err, protocol.CodeInstanceNotFound)
	a, err = c.Unfreeze(ctx, "Not_A_Name")
	expectCode(g, a, err, protocol.CodeInstanceNotFound)
	a, err = c.Upgrade(ctx, unknown, "ORDER", "ORDER-1")
	expectCode(g, a, err, protocol.CodeInstanceNotFound)
	a, err = c.Release(ctx, unknown)
	expectCode(g, a, err, protocol.CodeSuccess)

	// A SKU no plan serves: 000005 (the marketplace resends while the vendor adds the plan).
	o := newOrder(skuNone)
	a, err = c.Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeInternalError)
	// An order line the marketplace does not know: 000002.
	a, err = c.Buy(ctx, o.OrderID, o.OrderID+"-999999", false)
	expectCode(g, a, err, protocol.CodeInvalidParam)
	g.Expect(snapshot(g)).To(Equal(before))

	// Once the plan exists, the resend succeeds.
	p := plan("plan-late", "1", "1Gi", skuNone)
	g.Expect(k8s.Create(ctx, p)).To(Succeed())
	t.Cleanup(func() { _ = k8s.Delete(context.Background(), p) })
	a, err = c.Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(getInstance(g, a.InstanceID).Spec.SKU).To(Equal(skuNone))
}

func TestOrderQueryOutage(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	o := newOrder(skuSmall)
	line := o.OrderLine[0].OrderLineID
	before := snapshot(g)

	for _, f := range []simulator.Failure{
		{HTTPStatus: http.StatusServiceUnavailable},   // gateway down
		{Code: simulator.MKTRateLimited},              // rate limited
		{Code: simulator.MKTInternal},                 // marketplace internal error
		{Code: simulator.MKTIllegalToken, Times: 1},   // our AK/SK refused
		{HTTPStatus: http.StatusBadGateway, Times: 1}, // proxy failure
	} {
		orders.SetFailure(f)
		a, err := market(t).Buy(ctx, o.OrderID, line, false)
		expectCode(g, a, err, protocol.CodeInternalError)
		g.Expect(snapshot(g)).To(Equal(before), "nothing is created: %+v", f)
	}
	orders.SetFailure(simulator.Failure{})

	// Slower than the Order Query deadline: still answered within the budget, with 000005.
	orders.SetLatency(2500 * time.Millisecond)
	start := time.Now()
	a, err := market(t).Buy(ctx, o.OrderID, line, false)
	orders.SetLatency(0)
	expectCode(g, a, err, protocol.CodeInternalError)
	g.Expect(time.Since(start)).To(BeNumerically("<", webhookbridge.DefaultCallBudget+time.Second))
	g.Expect(snapshot(g)).To(Equal(before))

	// The marketplace resends after the outage.
	a, err = market(t).Buy(ctx, o.OrderID, line, false)
	expectCode(g, a, err, protocol.CodeSuccess)
}

func TestAPIServerUnavailable(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, o := buy(t, skuSmall)
	down, err := client.New(&rest.Config{Host: "https://127.0.0.1:1", Timeout: 2 * time.Second}, client.Options{Scheme: testenv.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	base := newBridge(t, func(opts *webhookbridge.Options) { opts.Client = down })
	c := marketFor(t, base)
	before := snapshot(g)

	fresh := newOrder(skuSmall)
	a, err := c.Buy(ctx, fresh.OrderID, fresh.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeInternalError)
	a, err = c.Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, false)
	expectCode(g, a, err, protocol.CodeInternalError)
	a, err = c.Freeze(ctx, id)
	expectCode(g, a, err, protocol.CodeInternalError)
	a, err = c.Query(ctx, id)
	expectCode(g, a, err, protocol.CodeInternalError)
	a, err = c.Release(ctx, id)
	expectCode(g, a, err, protocol.CodeInternalError)
	a, err = c.TenantSync(ctx, simulator.TenantSync{InstanceID: id, TenantID: tenantID, Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeInternalError)
	g.Expect(snapshot(g)).To(Equal(before))
}

func TestTestFlagChangesNothing(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	id, o := buy(t, skuSmall)
	makeReady(g, id, true)
	renewal := orders.CreateOrder(simulator.OrderSpec{SKU: skuSmall, OrderType: simulator.OrderTypeRenew})
	upgrade := orders.CreateOrder(simulator.OrderSpec{SKU: skuLarge, OrderType: simulator.OrderTypeChange})
	fresh := newOrder(skuSmall)
	unserved := newOrder(skuNone)
	c := market(t, testFlag)
	before := snapshot(g)
	n := len(events.reasons(id))

	a, err := c.Buy(ctx, fresh.OrderID, fresh.OrderLine[0].OrderLineID, true)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.InstanceID).To(Equal(webhookbridge.InstanceName(fresh.OrderID, fresh.OrderLine[0].OrderLineID)))
	a, err = c.Buy(ctx, o.OrderID, o.OrderLine[0].OrderLineID, true)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.InstanceID).To(Equal(id))
	// What a real purchase would refuse is answered as on success (docs/protocol.md §6.5).
	a, err = c.Buy(ctx, unserved.OrderID, unserved.OrderLine[0].OrderLineID, true)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.InstanceID).To(Equal(webhookbridge.InstanceName(unserved.OrderID, unserved.OrderLine[0].OrderLineID)))
	a, err = c.Query(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(a.Info).To(HaveLen(1))
	a, err = c.Renew(ctx, id, renewal.OrderID, renewal.OrderLine[0].OrderLineID, simulator.SceneRenewal, time.Now().Add(400*24*time.Hour))
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = c.Freeze(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = c.Unfreeze(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = c.Upgrade(ctx, id, upgrade.OrderID, upgrade.OrderLine[0].OrderLineID)
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = c.ChangeCheck(ctx, id, "p", skuLarge, 0)
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = c.Release(ctx, id)
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = c.Freeze(ctx, "ti-00000000000000000000")
	expectCode(g, a, err, protocol.CodeSuccess)

	a, err = c.TenantSync(ctx, simulator.TenantSync{InstanceID: id, TenantID: tenantID, Name: "T", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = c.ApplicationSync(ctx, simulator.ApplicationSync{InstanceID: id, TenantID: tenantID, AppID: "a", ClientID: "c", ClientSecret: "s", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = c.AuthSync(ctx, simulator.AuthSync{InstanceID: id, TenantID: tenantID, AppID: "a", Flag: simulator.FlagAdd,
		Users: []simulator.KitUser{{UserName: "u", Name: "U", OrgCode: "o", Role: "user", Enable: "true"}}})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = c.SingleOrgSync(ctx, simulator.SingleOrgSync{InstanceID: id, TenantID: tenantID, OrgCode: "o", OrgName: "O", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = c.AllOrgSync(ctx, simulator.AllOrgSync{InstanceID: id, TenantID: tenantID, Orgs: []simulator.Org{{OrgCode: "o", OrgName: "O"}}})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = c.TenantSync(ctx, simulator.TenantSync{InstanceID: "ti-00000000000000000000", TenantID: tenantID, Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)

	g.Expect(snapshot(g)).To(Equal(before))
	g.Expect(events.reasons(id)).To(HaveLen(n), "no events for debug calls")
}

func TestKeyRotation(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx := context.Background()
	const newKey = "the-new-access-key-after-rotation"
	during := newBridge(t, func(o *webhookbridge.Options) {
		o.AccessKey = newKey
		o.Verifier = &protocol.Verifier{Keys: []string{newKey, accessKey}, Nonces: protocol.NewNonceCache(0, 0, nil)}
	})
	after := newBridge(t, func(o *webhookbridge.Options) {
		o.AccessKey = newKey
		o.Verifier = &protocol.Verifier{Keys: []string{newKey}, Nonces: protocol.NewNonceCache(0, 0, nil)}
	})
	unknown := "ti-00000000000000000000"
	previous := metricValue(g, "tenantry_bridge_key_rotation_previous_key_total", "family", "basic")

	a, err := marketFor(t, during, withKey(newKey)).Release(ctx, unknown)
	expectCode(g, a, err, protocol.CodeSuccess)

	// The old key still verifies, and the answer is signed with the key that verified the call
	// (docs/protocol.md §6.12): a caller still on the old key can check it.
	headers := &headerCapture{}
	a, err = marketFor(t, during, withKey(accessKey), func(o *simulator.Options) { o.HTTP = &http.Client{Transport: headers} }).Release(ctx, unknown)
	expectCode(g, a, err, protocol.CodeSuccess)
	g.Expect(headers.last()).To(Equal(protocol.BodySign(accessKey, a.Raw)))
	g.Expect(metricValue(g, "tenantry_bridge_key_rotation_previous_key_total", "family", "basic")).To(Equal(previous + 1))

	// After the rotation the old key is refused.
	a, err = marketFor(t, after, withKey(newKey)).Release(ctx, unknown)
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = marketFor(t, after, withKey(accessKey), func(o *simulator.Options) { o.AllowMissingBodySign = true; o.HTTP = &http.Client{Transport: headers} }).Release(ctx, unknown)
	g.Expect(a).NotTo(BeNil(), "%v", err)
	g.Expect(a.ResultCode).To(Equal(protocol.CodeAuthFailed))
	g.Expect(headers.last()).To(Equal(protocol.BodySign(newKey, a.Raw)))
}

// headerCapture records the Body-Sign of the last answer.
type headerCapture struct {
	mu   sync.Mutex
	sign string
}

func (h *headerCapture) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		h.mu.Lock()
		h.sign = resp.Header.Get("Body-Sign")
		h.mu.Unlock()
	}
	return resp, err
}

func (h *headerCapture) last() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sign
}
