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

package metering

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
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

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/apig"
)

// UsagePath is the usage push's path, relative to the endpoint.
const UsagePath = "/api/mkp-openapi-public/global/v1/isv/usage-data"

// Marketplace result codes of the usage push (docs/protocol.md §7).
const (
	CodeSuccess       = "MKT.0000"
	CodeAuth          = "MKT.0001"
	CodeInvalidRecord = "MKT.9002"
	CodeTooMany       = "MKT.9003"
	CodeTooOld        = "MKT.9004"
)

// Record is one usage record as the marketplace takes it. Its fields are declared in the byte
// order of their JSON names, so that encoding/json emits the body the signature covers (keys
// sorted) without re-sorting it.
type Record struct {
	BeginTime         string `json:"begin_time"`
	EndTime           string `json:"end_time"`
	InstanceID        string `json:"instance_id"`
	MeteringSN        string `json:"metering_sn"`
	RecordTime        string `json:"record_time"`
	RelatePkgInstance string `json:"relate_pkg_instance,omitempty"`
	UsageValue        string `json:"usage_value"`
}

// Body is the usage push's request body.
type Body struct {
	UsageRecords []Record `json:"usage_records"`
}

// RecordOf is the wire record of an instance's pending period. record_time is the period's end,
// so that every resend of the record is the same record. An ON_DEMAND_PKG instance is the
// package its usage debits (relate_pkg_instance).
func RecordOf(instanceID string, mode tenantryv1alpha1.ChargingMode, r tenantryv1alpha1.UsageRecord) Record {
	rec := Record{
		BeginTime:  r.Start.UTC().Format(TimeFormat),
		EndTime:    r.End.UTC().Format(TimeFormat),
		InstanceID: instanceID,
		MeteringSN: SN(instanceID, r.Start.Time),
		RecordTime: r.End.UTC().Format(TimeFormat),
		UsageValue: r.Value,
	}
	if mode == tenantryv1alpha1.ChargingOnDemandPkg {
		rec.RelatePkgInstance = instanceID
	}
	return rec
}

// Batches splits records into pushes of at most size records, in order.
func Batches(records []Record, size int) [][]Record {
	if size <= 0 {
		size = MaxBatch
	}
	var out [][]Record
	for len(records) > 0 {
		n := min(size, len(records))
		out = append(out, records[:n:n])
		records = records[n:]
	}
	return out
}

// EncodeBody is the compact JSON body of a push, keys sorted, without HTML escaping.
func EncodeBody(records []Record) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(Body{UsageRecords: records}); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Sign is the usage push's signature header: base64(HMAC-SHA256(accessKey,
// "ts=<ts>&nonce=<nonce>&body=<body>")), body being the bytes sent, keys sorted (EncodeBody).
func Sign(accessKey, ts, nonce string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(accessKey))
	mac.Write([]byte("ts=" + ts + "&nonce=" + nonce + "&body="))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Client pushes usage records to the marketplace. It is safe for concurrent use.
type Client struct {
	// Endpoint is the marketplace base URL (the simulator's in tests); UsagePath is appended.
	Endpoint string
	// AccessKey signs the documented ts/nonce/signature headers.
	AccessKey string
	// AK and SK, when both set, also sign the request by the API-Gateway scheme.
	AK, SK string
	// HTTP sends the requests; a client with a 10 s timeout when nil.
	HTTP *http.Client
	// Now is the signing time; time.Now when nil.
	Now func() time.Time
}

// Error is a push that failed. Retryable failures (no answer, HTTP 5xx, rate limiting) may
// succeed unchanged later; a refusal (a result code for the records) will not.
type Error struct {
	Code       string
	Message    string
	HTTPStatus int
	Retryable  bool
	Err        error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("usage push failed")
	if e.Code != "" {
		fmt.Fprintf(&b, ": marketplace answered %q", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, " (%s)", e.Message)
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " with HTTP status %d", e.HTTPStatus)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap exposes the transport error.
func (e *Error) Unwrap() error { return e.Err }

// Refused reports whether err is a push the marketplace refused for what the records say.
func Refused(err error) bool {
	var e *Error
	return errors.As(err, &e) && !e.Retryable
}

// CheckEndpoint validates a usage endpoint URL.
func CheckEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("usage endpoint %q is not an http(s) URL", endpoint)
	}
	return nil
}

// Push sends one batch of at most MaxBatch records, once.
func (c *Client) Push(ctx context.Context, records []Record) error {
	if len(records) == 0 {
		return nil
	}
	if len(records) > MaxBatch {
		return fmt.Errorf("a push carries at most %d records, not %d", MaxBatch, len(records))
	}
	if err := CheckEndpoint(c.Endpoint); err != nil {
		return err
	}
	body, err := EncodeBody(records)
	if err != nil {
		return err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	t := now()
	ts := strconv.FormatInt(t.UnixMilli(), 10)
	nb := make([]byte, 16)
	if _, err := rand.Read(nb); err != nil {
		return err
	}
	nonce := hex.EncodeToString(nb)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.Endpoint, "/")+UsagePath, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("ts", ts)
	req.Header.Set("nonce", nonce)
	req.Header.Set("signature", Sign(c.AccessKey, ts, nonce, body))
	req.Header.Set("User-Agent", "tenantry-metering")
	if c.AK != "" && c.SK != "" {
		if err := apig.Sign(req, body, c.AK, c.SK, t); err != nil {
			return err
		}
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &Error{Retryable: true, Err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &Error{Retryable: true, HTTPStatus: resp.StatusCode, Err: err}
	}
	var answer struct {
		ResultCode string `json:"resultCode"`
		ResultMsg  string `json:"resultMsg"`
	}
	_ = json.Unmarshal(raw, &answer)
	switch {
	case answer.ResultCode == CodeSuccess && resp.StatusCode < 300:
		return nil
	case answer.ResultCode == "" || resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || answer.ResultCode == "MKT.0250":
		return &Error{Code: answer.ResultCode, Message: answer.ResultMsg, HTTPStatus: resp.StatusCode, Retryable: true}
	default:
		return &Error{Code: answer.ResultCode, Message: answer.ResultMsg, HTTPStatus: resp.StatusCode}
	}
}
