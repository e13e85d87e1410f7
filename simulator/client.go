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
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Result codes of the production interface (docs/protocol.md §6.1) the simulator
// acts on.
const (
	ResultSuccess    = "000000"
	ResultAuthFailed = "000001"
	ResultBadParam   = "000002"
	ResultNoInstance = "000003"
	ResultInProgress = "000004"
	ResultInternal   = "000005"
)

// Renewal scenes of refreshInstance.
const (
	SceneTrialToFormal    = "TRIAL_TO_FORMAL"
	SceneRenewal          = "RENEWAL"
	SceneUnsubscribeRenew = "UNSUBSCRIBE_RENEWAL_PERIOD"
	SceneRenewalChange    = "RENEWAL_CHANGE"
)

const (
	kitPathPrefix          = "/produceAPI/v2/"
	maxAnswerBytes         = 1 << 20
	defaultRequestTimeout  = 20 * time.Second // the marketplace debug tool's limit
	expireTimeLayout       = "20060102150405"
	bodySignHeader         = "Body-Sign"
	jsonContentType        = "application/json;charset=UTF-8"
	kitTimestampZoneOffset = 8 * 60 * 60
)

var (
	// ErrBodySign reports a missing or wrong Body-Sign header on the bridge's
	// answer (docs/protocol.md §3); the Answer is still returned.
	ErrBodySign = errBodySign
	// ErrHTTPStatus reports an answer whose HTTP status is not 200, which the
	// marketplace treats as a transport failure; the Answer is still returned.
	ErrHTTPStatus = errors.New("bridge answered with a non-200 HTTP status")
)

// Answer is the bridge's reply to one call.
type Answer struct {
	HTTPStatus int            `json:"httpStatus"`
	ResultCode string         `json:"resultCode"`
	ResultMsg  string         `json:"resultMsg"`
	InstanceID string         `json:"instanceId,omitempty"`
	Info       []InstanceInfo `json:"info,omitempty"`
	// Raw is the exact body received.
	Raw []byte `json:"-"`
	// Latency is the time from sending the request to reading the answer.
	Latency time.Duration `json:"-"`
}

// OK reports whether the marketplace would count the call as successful.
func (a *Answer) OK() bool {
	return a != nil && a.HTTPStatus == http.StatusOK && a.ResultCode == ResultSuccess
}

// InstanceInfo is one entry of a queryInstance answer.
type InstanceInfo struct {
	InstanceID string      `json:"instanceId"`
	AppInfo    *AppInfo    `json:"appInfo,omitempty"`
	UsageInfo  []UsageInfo `json:"usageInfo,omitempty"`
}

// AppInfo tells the customer where and how to log in.
type AppInfo struct {
	FrontEndURL string `json:"frontEndUrl"`
	AdminURL    string `json:"adminUrl,omitempty"`
	UserName    string `json:"userName,omitempty"`
	Password    string `json:"password,omitempty"`
	Memo        string `json:"memo,omitempty"`
}

// UsageInfo reports metered usage; UsageValue is kept as sent (number or string).
type UsageInfo struct {
	RelatedInstanceID string          `json:"relatedInstanceId,omitempty"`
	UsageValue        json.RawMessage `json:"usageValue,omitempty"`
	StatisticalTime   string          `json:"statisticalTime,omitempty"`
}

// Options configures NewClient.
type Options struct {
	// BaseURL is the bridge's production URL as registered with the
	// marketplace, e.g. http://127.0.0.1:8080/saasproduce. Kit calls go to
	// BaseURL + /produceAPI/v2/<name>.
	BaseURL string
	// AccessKey signs basic and V1 calls and Body-Sign.
	AccessKey string
	// KitKey signs kit calls; AccessKey when empty.
	KitKey string
	// Test sets testFlag=1 on every call (Buy also takes it per call).
	Test bool
	// MerchantPublicKey encrypts applicationSync's clientSecret.
	MerchantPublicKey *rsa.PublicKey
	// AllowMissingBodySign accepts answers without a Body-Sign header, for
	// bridges that follow V2 pages which omit it. A present but wrong header
	// is always an error.
	AllowMissingBodySign bool
	// HTTP sends the calls; a client with a 20 s timeout when nil.
	HTTP *http.Client
	// Now is the clock for timestamps; time.Now when nil.
	Now func() time.Time
	// Rand supplies nonces and business ids; crypto/rand when nil.
	Rand io.Reader
}

// Client plays the marketplace: it sends correctly signed calls to a bridge
// and checks the bridge's signed answers. It is safe for concurrent use.
type Client struct {
	base *url.URL
	o    Options
}

// NewClient validates o and returns a Client.
func NewClient(o Options) (*Client, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("parsing bridge URL %q: %w", o.BaseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("bridge URL %q is not an absolute http(s) URL", o.BaseURL)
	}
	if o.AccessKey == "" {
		return nil, errors.New("access key is empty")
	}
	if o.KitKey == "" {
		o.KitKey = o.AccessKey
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: defaultRequestTimeout}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return &Client{base: u, o: o}, nil
}

// field is one body member; bodies are built in the marketplace's own
// (unsorted) order so the bridge's canonicalisation is exercised.
type field struct {
	key   string
	value any
}

func object(fields ...field) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := writeJSONString(&buf, f.key); err != nil {
			return nil, err
		}
		buf.WriteByte(':')
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(f.value); err != nil {
			return nil, fmt.Errorf("encoding field %q: %w", f.key, err)
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func (c *Client) testFlag(test bool) string {
	if test || c.o.Test {
		return "1"
	}
	return "0"
}

func (c *Client) activity(ctx context.Context, name string, test bool, fields ...field) (*Answer, error) {
	fields = append([]field{{"testFlag", c.testFlag(test)}}, fields...)
	fields = append(fields, field{"activity", name})
	body, err := object(fields...)
	if err != nil {
		return nil, err
	}
	return c.Call(ctx, body)
}

// Buy sends newInstance with a fresh businessId, as every marketplace resend does.
func (c *Client) Buy(ctx context.Context, orderID, orderLineID string, test bool) (*Answer, error) {
	businessID, err := c.uuid()
	if err != nil {
		return nil, err
	}
	return c.activity(ctx, "newInstance", test,
		field{"orderLineId", orderLineID}, field{"orderId", orderID}, field{"businessId", businessID})
}

// Query sends queryInstance for up to 100 instance ids (more are sent as
// given, to test the bridge's limit).
func (c *Client) Query(ctx context.Context, ids ...string) (*Answer, error) {
	return c.activity(ctx, "queryInstance", false, field{"instanceId", strings.Join(ids, ",")})
}

// Renew sends refreshInstance with the new expiry.
func (c *Client) Renew(ctx context.Context, instanceID, orderID, orderLineID, scene string, expire time.Time) (*Answer, error) {
	return c.activity(ctx, "refreshInstance", false,
		field{"instanceId", instanceID}, field{"orderId", orderID}, field{"orderLineId", orderLineID},
		field{"scene", scene}, field{"expireTime", expire.UTC().Format(expireTimeLayout)})
}

// Freeze sends updateInstanceStatus FREEZE.
func (c *Client) Freeze(ctx context.Context, instanceID string) (*Answer, error) {
	return c.activity(ctx, "updateInstanceStatus", false, field{"instanceId", instanceID}, field{"status", "FREEZE"})
}

// Unfreeze sends updateInstanceStatus UNFREEZE.
func (c *Client) Unfreeze(ctx context.Context, instanceID string) (*Answer, error) {
	return c.activity(ctx, "updateInstanceStatus", false, field{"instanceId", instanceID}, field{"status", "UNFREEZE"})
}

// Upgrade sends upgradeInstance for an upgrade (CHANGE) order.
func (c *Client) Upgrade(ctx context.Context, instanceID, orderID, orderLineID string) (*Answer, error) {
	return c.activity(ctx, "upgradeInstance", false,
		field{"instanceId", instanceID}, field{"orderId", orderID}, field{"orderLineId", orderLineID})
}

// ChangeCheck sends changeInstanceCheck for a target product; linear is the
// target quantity, left out when zero.
func (c *Client) ChangeCheck(ctx context.Context, instanceID, productID, sku string, linear int) (*Answer, error) {
	product := struct {
		ProductID   string `json:"productId"`
		SkuCode     string `json:"skuCode"`
		LinearValue int    `json:"linearValue,omitempty"`
	}{productID, sku, linear}
	return c.activity(ctx, "changeInstanceCheck", false, field{"instanceId", instanceID}, field{"productInfo", product})
}

// Release sends releaseInstance.
func (c *Client) Release(ctx context.Context, instanceID string) (*Answer, error) {
	return c.activity(ctx, "releaseInstance", false, field{"instanceId", instanceID})
}

// Call signs body as a basic lifecycle call (docs/protocol.md §2.1) and posts it.
// It lets tests send bodies the typed methods cannot produce (nested
// objects, odd key orders, unknown activities).
func (c *Client) Call(ctx context.Context, body []byte) (*Answer, error) {
	nonce, err := c.nonce()
	if err != nil {
		return nil, err
	}
	ts := c.timestamp()
	sig, err := querySignature(c.o.AccessKey, nonce, ts, body)
	if err != nil {
		return nil, fmt.Errorf("signing body: %w", err)
	}
	q := url.Values{"signature": {sig}, "timestamp": {ts}, "nonce": {nonce}}
	return c.Raw(ctx, body, q)
}

// Raw posts body to the production URL with exactly the given query
// parameters and no signing, for hostile tests (replays, tampering, stale
// timestamps). The answer's Body-Sign is still checked.
func (c *Client) Raw(ctx context.Context, body []byte, query url.Values) (*Answer, error) {
	u := *c.base
	q := u.Query()
	for k, v := range query {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", jsonContentType)
	return c.send(req, c.o.AccessKey)
}

// V1 sends a legacy V1 GET call (docs/protocol.md §2.3): params must hold
// activity and the activity's fields; timeStamp and authToken are added.
func (c *Client) V1(ctx context.Context, params url.Values) (*Answer, error) {
	p := url.Values{}
	for k, v := range params {
		p[k] = append([]string(nil), v...)
	}
	if p.Get("timeStamp") == "" {
		p.Set("timeStamp", formatMillis(c.o.Now().UTC()))
	}
	p.Set("authToken", v1AuthToken(c.o.AccessKey, p))
	u := *c.base
	u.RawQuery = p.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	return c.send(req, c.o.AccessKey)
}

// kit signs body with the kit key (docs/protocol.md §2.2) and posts it to the kit path.
func (c *Client) kit(ctx context.Context, name string, body []byte) (*Answer, error) {
	nonce, err := c.nonce()
	if err != nil {
		return nil, err
	}
	ts := c.timestamp()
	sig, err := kitSignature(c.o.KitKey, nonce, ts, body)
	if err != nil {
		return nil, fmt.Errorf("signing body: %w", err)
	}
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + kitPathPrefix + name
	u.RawPath = ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", jsonContentType)
	req.Header.Set("x-sign", sig)
	req.Header.Set("x-timestamp", ts)
	req.Header.Set("x-nonce", nonce)
	return c.send(req, c.o.KitKey, c.o.AccessKey)
}

// send performs req and decodes the answer. Body-Sign is accepted under any
// of keys: the protocol keys it with the access key, and a bridge may sign
// kit answers with the kit key.
func (c *Client) send(req *http.Request, keys ...string) (*Answer, error) {
	start := time.Now()
	resp, err := c.o.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling bridge: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading bridge answer: %w", err)
	}
	a := &Answer{HTTPStatus: resp.StatusCode, Raw: raw, Latency: time.Since(start)}
	if len(raw) > maxAnswerBytes {
		return a, fmt.Errorf("bridge answer is larger than %d bytes", maxAnswerBytes)
	}
	decodeErr := json.Unmarshal(raw, a)
	a.Raw, a.HTTPStatus = raw, resp.StatusCode // Unmarshal must not clobber them
	if resp.StatusCode != http.StatusOK {
		return a, fmt.Errorf("%w: %d", ErrHTTPStatus, resp.StatusCode)
	}
	if decodeErr != nil {
		return a, fmt.Errorf("decoding bridge answer: %w", decodeErr)
	}
	if a.ResultCode == "" {
		return a, errors.New("bridge answer has no resultCode")
	}
	header := resp.Header.Get(bodySignHeader)
	if header == "" {
		if c.o.AllowMissingBodySign {
			return a, nil
		}
		return a, fmt.Errorf("%w: header is missing", ErrBodySign)
	}
	for _, k := range keys {
		if err = verifyBodySign(k, header, raw); err == nil {
			return a, nil
		}
	}
	return a, err
}

func (c *Client) nonce() (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(c.o.Rand, b); err != nil {
		return "", fmt.Errorf("reading nonce: %w", err)
	}
	return strings.ToUpper(hex.EncodeToString(b)), nil
}

func (c *Client) timestamp() string { return strconv.FormatInt(c.o.Now().UnixMilli(), 10) }

// uuid returns a random (version 4) UUID, the shape of marketplace businessIds.
func (c *Client) uuid() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(c.o.Rand, b); err != nil {
		return "", fmt.Errorf("reading business id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// formatMillis formats t as yyyyMMddHHmmssSSS in t's zone.
func formatMillis(t time.Time) string {
	return t.Format(expireTimeLayout) + fmt.Sprintf("%03d", t.Nanosecond()/int(time.Millisecond))
}
