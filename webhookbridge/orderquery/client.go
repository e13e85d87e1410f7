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

// Package orderquery is the bridge's client for the KooGallery Order Query
// API (docs/protocol.md §7). A newInstance or upgradeInstance call only names an
// order; the product, SKU, expiry and charging mode the tenant is entitled to
// come from this API, so the bridge must tell a marketplace hiccup (retry
// later, answer 000005) from an order that will never resolve (fail the call).
package orderquery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/tenantry/tenantry/internal/apig"
)

const (
	// DefaultEndpoint is the marketplace's production host (docs/protocol.md §7).
	DefaultEndpoint = "https://mkt.myhuaweicloud.com"

	// DefaultFallbackEndpoint is the marketplace's second host, tried once when
	// DefaultEndpoint cannot be reached (docs/protocol.md §7).
	DefaultFallbackEndpoint = "https://mkt.myhuaweicloud.cn"

	// FallbackResultPrefix starts the Observe result of a request to the
	// fallback host ("fallback_success", "fallback_transport_error", ...), so
	// the request-duration metric shows how often and how well the bridge
	// fell back, without another label.
	FallbackResultPrefix = "fallback_"

	// QueryPath is the Order Query API path, relative to the endpoint.
	QueryPath = "/api/mkp-openapi-public/global/v1/order/query"

	// MaxBodyBytes caps the answer we read: a real order is a few KiB, and a
	// misbehaving proxy must not make the bridge buffer without bound.
	MaxBodyBytes = 1 << 20

	// defaultTimeout bounds a request when the caller supplies neither an
	// HTTP client nor a context deadline; the marketplace waits only 5 s for
	// the bridge's own answer, so a hung Order Query must not outlive that by much.
	defaultTimeout = 10 * time.Second
)

// Marketplace result codes this client gives a meaning to. The public error
// table lists more (MKT.0101, MKT.015x, ...); every code not named here is
// classified by the HTTP status that came with it.
const (
	CodeSuccess      = "MKT.0000"
	CodeInvalidInput = "MKT.0100"
	CodeRateLimited  = "MKT.0250"
	CodeInternal     = "MKT.0999"
)

// Results passed to Client.Observe, one per request. They are bounded so a
// metrics hook can use them as a label without cardinality surprises.
const (
	ResultSuccess     = "success"
	ResultNotFound    = "not_found"
	ResultRateLimited = "rate_limited"
	ResultServerError = "server_error"
	ResultTransport   = "transport_error"
	ResultRejected    = "rejected"
	ResultMalformed   = "malformed"
)

var (
	// ErrRetryable marks failures that may succeed later: network errors,
	// timeouts, HTTP 5xx without a permanent code, and rate limiting. The bridge
	// answers the marketplace 000005 so the call is resent.
	ErrRetryable = errors.New("retryable order query failure")

	// ErrNotFound marks an order or order line the marketplace does not know.
	// It is permanent: resending the same ids will not make it appear.
	ErrNotFound = errors.New("order not found")
)

// Error is returned for every failed query. It keeps the marketplace's result
// code for logs and support tickets, and answers errors.Is for ErrRetryable
// and ErrNotFound so callers need not know the code table.
type Error struct {
	// Code is the marketplace resultCode, empty when the answer carried none.
	Code string
	// Message is the marketplace resultMsg, or a description of what was wrong.
	Message string
	// HTTPStatus is the status of the answer, 0 when none arrived.
	HTTPStatus int
	// Retryable reports whether a later attempt may succeed.
	Retryable bool
	// NotFound reports whether the order or line does not exist.
	NotFound bool
	// Err is the underlying transport or decoding error, if any.
	Err error

	// unreachable reports that no marketplace answer arrived: the request or
	// reading its answer failed (connection refused, reset, timeout), or a 5xx
	// came without a marketplace result code (a gateway or load balancer in
	// front of it). Only such failures are retried at the fallback host.
	unreachable bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("order query failed")
	if e.Code != "" {
		fmt.Fprintf(&b, ": marketplace answered %q", e.Code)
		if e.Message != "" {
			fmt.Fprintf(&b, " (%q)", e.Message)
		}
	} else if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " with HTTP status %d", e.HTTPStatus)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap exposes the transport error so errors.Is(err, context.DeadlineExceeded) works.
func (e *Error) Unwrap() error { return e.Err }

// Is makes the sentinel errors match without callers inspecting fields.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrRetryable:
		return e.Retryable
	case ErrNotFound:
		return e.NotFound
	}
	return false
}

// Client queries orders. The zero value is not usable: AK and SK are required.
// A Client is safe for concurrent use.
type Client struct {
	// Endpoint is the marketplace base URL; DefaultEndpoint when empty. A path
	// in it is kept as a prefix of QueryPath (useful behind a test proxy).
	Endpoint string
	// FallbackEndpoint, when set, is the base URL a query is retried at, once,
	// when Endpoint cannot be reached: no answer (connection failure, timeout)
	// or an HTTP 5xx without a marketplace result code (docs/protocol.md §7).
	// A marketplace answer (rate limited, unknown order, any other result
	// code) is never retried elsewhere: the hosts share one order book, so
	// the other would say the same. While a fallback is set, the request to
	// Endpoint gets half of the time left before the context's deadline (or
	// of the HTTP client's timeout), so that the fallback still has time.
	// Empty disables the fallback; DefaultFallbackEndpoint is the production
	// one. A value equal to Endpoint is ignored.
	FallbackEndpoint string
	// AK and SK are the seller account's access key pair.
	AK, SK string
	// HTTP sends the requests; a client with a 10 s timeout when nil.
	HTTP *http.Client
	// Observe, when set, is called once per request with one of the Result*
	// constants (prefixed with FallbackResultPrefix for a request to the
	// fallback host) and the time the request took, for metrics.
	Observe func(result string, d time.Duration)
	// Now returns the signing time; time.Now when nil. Tests use it to
	// produce stale signatures.
	Now func() time.Time
}

var defaultHTTPClient = &http.Client{Timeout: defaultTimeout}

// Query fetches an order. orderLineID may be empty to fetch every line; when
// it is set, the answer must contain that line or ErrNotFound is returned.
// When Endpoint cannot be reached and FallbackEndpoint is set, the query is
// sent once more there, within ctx's deadline; the log line "Order Query
// falling back" (from ctx's logger) and the fallback_ results of Observe
// record it.
func (c *Client) Query(ctx context.Context, orderID, orderLineID string) (*Order, error) {
	if orderID == "" {
		return nil, &Error{Message: "order id is empty"}
	}
	if c.AK == "" || c.SK == "" {
		return nil, &Error{Message: "access key pair is not configured"}
	}
	primary := c.Endpoint
	if primary == "" {
		primary = DefaultEndpoint
	}
	fallback := c.FallbackEndpoint
	if fallback == "" || strings.TrimRight(fallback, "/") == strings.TrimRight(primary, "/") {
		return c.attempt(ctx, primary, "", orderID, orderLineID)
	}

	// Split what is left of the budget: the primary host gets half, the fallback the rest
	// (more when the primary fails fast, as a refused connection does).
	budget := c.httpClient().Timeout
	if budget <= 0 {
		budget = defaultTimeout
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(budget)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	pctx, cancel := context.WithDeadline(ctx, time.Now().Add(time.Until(deadline)/2))
	order, err := c.attempt(pctx, primary, "", orderID, orderLineID)
	cancel()
	var e *Error
	if err == nil || !errors.As(err, &e) || !e.unreachable || ctx.Err() != nil {
		return order, err
	}
	logr.FromContextOrDiscard(ctx).Info("Order Query falling back: the primary host cannot be reached",
		"primary", hostOf(primary), "fallback", hostOf(fallback), "primaryResult", resultOf(err), "detail", err.Error())
	order, ferr := c.attempt(ctx, fallback, FallbackResultPrefix, orderID, orderLineID)
	if ferr == nil {
		return order, nil
	}
	var fe *Error
	if errors.As(ferr, &fe) {
		joined := *fe
		// The primary's failure is kept as text only: its Retryable must not leak into
		// errors.Is on a final answer such as the fallback's "no such order".
		joined.Err = errors.Join(fe.Err, fmt.Errorf("answered by the fallback host %q; the primary host %q failed: %s",
			hostOf(fallback), hostOf(primary), err.Error()))
		return nil, &joined
	}
	return nil, ferr
}

// CheckEndpoint reports whether endpoint can serve as Client.Endpoint or
// Client.FallbackEndpoint (an absolute http or https URL), so a binary can
// refuse a bad flag at start-up rather than on its first purchase.
func CheckEndpoint(endpoint string) error {
	_, err := parseEndpoint(endpoint)
	return err
}

func parseEndpoint(endpoint string) (*url.URL, error) {
	base, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("parsing endpoint %q: %w", endpoint, err)
	}
	if base.Scheme != "https" && base.Scheme != "http" || base.Host == "" {
		return nil, fmt.Errorf("endpoint %q is not an absolute http(s) URL", endpoint)
	}
	return base, nil
}

// hostOf returns the host of an endpoint URL for logs and errors, or the URL
// itself when it does not parse.
func hostOf(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		return u.Host
	}
	return endpoint
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTPClient
}

// attempt sends one query to endpoint and observes it, with resultPrefix
// before the result.
func (c *Client) attempt(ctx context.Context, endpoint, resultPrefix, orderID, orderLineID string) (order *Order, err error) {
	start := time.Now()
	if c.Observe != nil {
		defer func() { c.Observe(resultPrefix+resultOf(err), time.Since(start)) }()
	}

	req, err := c.newRequest(ctx, endpoint, orderID, orderLineID)
	if err != nil {
		return nil, &Error{Message: "cannot build request", Err: err}
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, &Error{Retryable: true, unreachable: true, Message: "request failed", Err: err}
	}
	defer func() { _ = resp.Body.Close() }()

	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, &Error{Retryable: true, unreachable: true, HTTPStatus: resp.StatusCode, Message: "reading answer failed", Err: err}
	}
	if len(body) > MaxBodyBytes {
		return nil, &Error{HTTPStatus: resp.StatusCode, Message: fmt.Sprintf("answer larger than %d bytes", MaxBodyBytes)}
	}
	return decode(resp.StatusCode, body, orderLineID)
}

// newRequest signs the query with the Huawei Cloud SDK's API-Gateway signer,
// so the bridge and the real marketplace agree on canonicalisation by
// construction; only the http.Request around it is built here.
func (c *Client) newRequest(ctx context.Context, endpoint, orderID, orderLineID string) (*http.Request, error) {
	base, err := parseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	path := strings.TrimSuffix(base.Path, "/") + QueryPath

	now := time.Now
	if c.Now != nil {
		now = c.Now
	}

	query := url.Values{"orderId": {orderID}}
	if orderLineID != "" {
		query.Set("orderLineId", orderLineID)
	}
	u := &url.URL{Scheme: base.Scheme, Host: base.Host, Path: path, RawQuery: query.Encode()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if err := apig.Sign(req, nil, c.AK, c.SK, now()); err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tenantry-orderquery")
	return req, nil
}

// decode classifies an answer and turns a success into an Order. The result
// code wins over the HTTP status: the marketplace sends some permanent codes
// (MKT.0100) with HTTP 500.
func decode(status int, body []byte, orderLineID string) (*Order, error) {
	var env wireAnswer
	if err := json.Unmarshal(body, &env); err != nil || env.ResultCode == "" {
		e := &Error{HTTPStatus: status, Message: "answer is not a marketplace result", Err: err}
		// Without a result code the status is all we have: a gateway or
		// load balancer failing in front of the marketplace.
		e.Retryable = status >= 500 || status == http.StatusTooManyRequests
		e.unreachable = status >= 500
		return nil, e
	}

	switch env.ResultCode {
	case CodeSuccess:
	case CodeRateLimited, CodeInternal:
		return nil, &Error{Code: env.ResultCode, Message: env.ResultMsg, HTTPStatus: status, Retryable: true}
	case CodeInvalidInput:
		// The marketplace reports an order id it does not know as an input
		// failure; nothing else in a query built by this client can be invalid.
		return nil, &Error{Code: env.ResultCode, Message: env.ResultMsg, HTTPStatus: status, NotFound: true}
	default:
		return nil, &Error{Code: env.ResultCode, Message: env.ResultMsg, HTTPStatus: status, Retryable: status >= 500}
	}

	if status != http.StatusOK {
		return nil, &Error{Code: env.ResultCode, HTTPStatus: status, Message: "success code with a non-200 status", Retryable: status >= 500}
	}
	var info wireOrder
	if len(env.OrderInfo) > 0 && string(env.OrderInfo) != "null" {
		if err := json.Unmarshal(env.OrderInfo, &info); err != nil {
			return nil, &Error{Code: env.ResultCode, HTTPStatus: status, Message: "malformed order", Err: err}
		}
	}
	if info.OrderID == "" {
		return nil, &Error{Code: env.ResultCode, HTTPStatus: status, Message: "answer holds no order", NotFound: true}
	}
	order, err := info.toOrder()
	if err != nil {
		return nil, &Error{Code: env.ResultCode, HTTPStatus: status, Message: "malformed order", Err: err}
	}
	if orderLineID != "" {
		if _, ok := order.Line(orderLineID); !ok {
			return nil, &Error{Code: env.ResultCode, HTTPStatus: status, Message: fmt.Sprintf("order %q has no line %q", order.OrderID, orderLineID), NotFound: true}
		}
	}
	return order, nil
}

func resultOf(err error) string {
	if err == nil {
		return ResultSuccess
	}
	var e *Error
	if !errors.As(err, &e) {
		return ResultMalformed
	}
	switch {
	case e.NotFound:
		return ResultNotFound
	case e.Code == CodeRateLimited:
		return ResultRateLimited
	case e.Retryable && e.HTTPStatus == 0:
		return ResultTransport
	case e.Retryable:
		return ResultServerError
	case e.Code != "" && e.Code != CodeSuccess:
		return ResultRejected
	}
	return ResultMalformed
}

// ParseTime parses the marketplace's UTC timestamps, yyyyMMddHHmmss or
// yyyyMMddHHmmssSSS; docs/protocol.md §5 shows both forms in the wild.
func ParseTime(s string) (time.Time, error) {
	var layout string
	switch len(s) {
	case 14:
		layout = "20060102150405"
	case 17:
		layout = "20060102150405.000"
		s = s[:14] + "." + s[14:]
	default:
		return time.Time{}, fmt.Errorf("time %q is neither 14 nor 17 digits", s)
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' {
			return time.Time{}, fmt.Errorf("time %q is not all digits", s)
		}
	}
	t, err := time.ParseInLocation(layout, s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("parsing time %q: %w", s, err)
	}
	return t, nil
}

// flexString accepts a JSON string or number: the public samples show
// periodNumber and linearValue both ways.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("value %s is neither a string nor a number", b)
	}
	*f = flexString(n.String())
	return nil
}

type wireAnswer struct {
	ResultCode string          `json:"resultCode"`
	ResultMsg  string          `json:"resultMsg"`
	OrderInfo  json.RawMessage `json:"orderInfo"`
}

type wireOrder struct {
	OrderID    string          `json:"orderId"`
	OrderType  string          `json:"orderType"`
	CreateTime string          `json:"createTime"`
	BuyerInfo  *Buyer          `json:"buyerInfo"`
	OrderLine  []wireOrderLine `json:"orderLine"`
}

type wireOrderLine struct {
	OrderLineID  string        `json:"orderLineId"`
	ChargingMode string        `json:"chargingMode"`
	PeriodType   string        `json:"periodType"`
	PeriodNumber flexString    `json:"periodNumber"`
	ExpireTime   string        `json:"expireTime"`
	ProductInfo  []wireProduct `json:"productInfo"`
	ExtendParams []Param       `json:"extendParams"`
}

type wireProduct struct {
	ProductID   string     `json:"productId"`
	SkuCode     string     `json:"skuCode"`
	LinearValue flexString `json:"linearValue"`
}

func (w *wireOrder) toOrder() (*Order, error) {
	o := &Order{OrderID: w.OrderID, OrderType: w.OrderType, CreateTime: w.CreateTime}
	if w.BuyerInfo != nil {
		o.Buyer = *w.BuyerInfo
	}
	for _, wl := range w.OrderLine {
		if wl.OrderLineID == "" {
			return nil, fmt.Errorf("order %q has a line without an id", w.OrderID)
		}
		l := OrderLine{
			OrderLineID:  wl.OrderLineID,
			ChargingMode: wl.ChargingMode,
			PeriodType:   wl.PeriodType,
			ExpireTime:   wl.ExpireTime,
			ExtendParams: wl.ExtendParams,
		}
		if wl.PeriodNumber != "" {
			n, err := strconv.Atoi(string(wl.PeriodNumber))
			if err != nil {
				return nil, fmt.Errorf("line %q: period number %q: %w", wl.OrderLineID, wl.PeriodNumber, err)
			}
			l.PeriodNumber = n
		}
		// One-time and pay-per-use lines may carry no expiry.
		if wl.ExpireTime != "" {
			t, err := ParseTime(wl.ExpireTime)
			if err != nil {
				return nil, fmt.Errorf("line %q: expire time: %w", wl.OrderLineID, err)
			}
			l.ExpireAt = &t
		}
		for _, p := range wl.ProductInfo {
			l.Products = append(l.Products, Product{ProductID: p.ProductID, SkuCode: p.SkuCode, LinearValue: string(p.LinearValue)})
		}
		o.Lines = append(o.Lines, l)
	}
	return o, nil
}
