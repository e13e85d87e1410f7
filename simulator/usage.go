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
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// The usage push (docs/protocol.md §7) as the simulator's marketplace serves it: a ledger of the
// records it took, keyed by metering_sn, so a test can see that every period was billed once.
const (
	// UsagePath is the usage push endpoint.
	UsagePath = "/api/mkp-openapi-public/global/v1/isv/usage-data"
	// AdminUsagePath lists the ledger (GET) and injects usage faults (POST, a Failure).
	AdminUsagePath = "/simulator/usage"
	// AdminUsageFaultsPath injects faults into the usage endpoint.
	AdminUsageFaultsPath = "/simulator/usage/faults"

	// Usage push result codes.
	MKTUsageAuth          = "MKT.0001"
	MKTUsageInvalidRecord = "MKT.9002"
	MKTUsageTooMany       = "MKT.9003"
	MKTUsageTooOld        = "MKT.9004"

	// MaxUsageRecords is the most records one push may carry.
	MaxUsageRecords = 100
	// MaxUsageAge is how old a record's begin_time may be.
	MaxUsageAge = 21 * 24 * time.Hour
	// UsageTimeSkew bounds the ts header against the server clock.
	UsageTimeSkew = 15 * time.Minute

	usageTimeLayout = "20060102T150405Z"
	maxUsageBody    = 1 << 20
)

var usageValuePattern = regexp.MustCompile(`^[0-9]{1,15}(\.[0-9]{1,4})?$`)

// UsageRecord is one record as pushed.
type UsageRecord struct {
	InstanceID        string `json:"instance_id"`
	RecordTime        string `json:"record_time"`
	BeginTime         string `json:"begin_time"`
	EndTime           string `json:"end_time"`
	UsageValue        string `json:"usage_value"`
	MeteringSN        string `json:"metering_sn"`
	RelatePkgInstance string `json:"relate_pkg_instance,omitempty"`
}

// UsageLedger is what the usage endpoint took: each record once, by metering_sn, and how many
// resends of a known sn it dropped.
type UsageLedger struct {
	Records    []UsageRecord `json:"records"`
	Duplicates int           `json:"duplicates"`
	Pushes     int           `json:"pushes"`
	Refused    int           `json:"refused"`
}

// Billed is each instance's total usage in the ledger, a decimal string.
func (l UsageLedger) Billed() map[string]string {
	totals := map[string]*big.Rat{}
	for _, r := range l.Records {
		v, ok := new(big.Rat).SetString(r.UsageValue)
		if !ok {
			continue
		}
		if totals[r.InstanceID] == nil {
			totals[r.InstanceID] = new(big.Rat)
		}
		totals[r.InstanceID].Add(totals[r.InstanceID], v)
	}
	out := map[string]string{}
	for id, t := range totals {
		out[id] = trimZeros(t.FloatString(4))
	}
	return out
}

func trimZeros(s string) string {
	for len(s) > 1 && s[len(s)-1] == '0' && strings.Contains(s, ".") {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

type usageAnswer struct {
	ResultCode string `json:"resultCode"`
	ResultMsg  string `json:"resultMsg"`
}

// Usage returns a copy of the ledger, records in the order they were taken.
func (s *OrderServer) Usage() UsageLedger {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.usage
	out.Records = append([]UsageRecord(nil), s.usage.Records...)
	return out
}

// SetUsageFailure injects f into the following usage pushes (an outage: HTTPStatus 503; a
// refusal: a Code); the zero Failure clears it.
func (s *OrderServer) SetUsageFailure(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.usageFailure = f
}

func (s *OrderServer) serveUsage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	failure := s.usageFailure
	if failure.Times > 0 {
		s.usageFailure.Times--
		if s.usageFailure.Times == 0 {
			s.usageFailure = Failure{}
		}
	}
	s.mu.Unlock()
	if failure.Code != "" {
		status := failure.HTTPStatus
		if status == 0 {
			status = statusForCode(failure.Code)
		}
		writeJSON(w, status, usageAnswer{ResultCode: failure.Code, ResultMsg: "injected failure"})
		return
	}
	if failure.HTTPStatus != 0 {
		http.Error(w, http.StatusText(failure.HTTPStatus), failure.HTTPStatus)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxUsageBody+1))
	if err != nil || len(body) > maxUsageBody {
		s.refuseUsage(w, http.StatusBadRequest, MKTUsageInvalidRecord, "body unreadable or too large")
		return
	}
	now := s.cfg.Now()
	if err := s.verifyUsage(r, body, now); err != nil {
		s.refuseUsage(w, http.StatusUnauthorized, MKTUsageAuth, err.Error())
		return
	}
	var req struct {
		UsageRecords []UsageRecord `json:"usage_records"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.UsageRecords) == 0 {
		s.refuseUsage(w, http.StatusBadRequest, MKTUsageInvalidRecord, "usage_records missing or malformed")
		return
	}
	if len(req.UsageRecords) > MaxUsageRecords {
		s.refuseUsage(w, http.StatusBadRequest, MKTUsageTooMany, "more than "+strconv.Itoa(MaxUsageRecords)+" records")
		return
	}
	for _, rec := range req.UsageRecords {
		if code, why := checkUsageRecord(rec, now); code != "" {
			s.refuseUsage(w, http.StatusBadRequest, code, rec.MeteringSN+": "+why)
			return
		}
	}
	s.mu.Lock()
	s.usage.Pushes++
	for _, rec := range req.UsageRecords {
		if s.usageSNs[rec.MeteringSN] {
			s.usage.Duplicates++
			continue
		}
		s.usageSNs[rec.MeteringSN] = true
		s.usage.Records = append(s.usage.Records, rec)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, usageAnswer{ResultCode: MKTSuccess, ResultMsg: "success"})
}

func (s *OrderServer) refuseUsage(w http.ResponseWriter, status int, code, msg string) {
	s.mu.Lock()
	s.usage.Refused++
	s.mu.Unlock()
	writeJSON(w, status, usageAnswer{ResultCode: code, ResultMsg: msg})
}

var errUsageAuth = errors.New("usage signature invalid")

// verifyUsage checks the documented ts/nonce/signature headers with UsageKey (the signature
// recomputed over the body with its keys sorted, by the bridge's protocol package, an
// implementation independent of the operator's), and, when the request carries an
// Authorization header or the server requires it, the API-Gateway signature with AK/SK.
func (s *OrderServer) verifyUsage(r *http.Request, body []byte, now time.Time) error {
	ts, nonce, sig := r.Header.Get("ts"), r.Header.Get("nonce"), r.Header.Get("signature")
	if ts == "" || nonce == "" || sig == "" {
		return errUsageAuth
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errUsageAuth
	}
	if d := now.Sub(time.UnixMilli(ms)); d > UsageTimeSkew || d < -UsageTimeSkew {
		return errUsageAuth
	}
	want, err := protocol.SignUsagePush(s.cfg.UsageKey, ts, nonce, body)
	if err != nil || subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
		return errUsageAuth
	}
	if r.Header.Get("Authorization") != "" || s.cfg.UsageRequiresGateway {
		lookup := func(ak string) (string, bool) { return s.cfg.SK, ak == s.cfg.AK && ak != "" }
		if _, err := verifyGatewayRequest(r, body, lookup, now, s.cfg.MaxSkew); err != nil {
			return err
		}
	}
	return nil
}

// checkUsageRecord returns the code refusing rec, or "".
func checkUsageRecord(rec UsageRecord, now time.Time) (string, string) {
	if rec.InstanceID == "" || len(rec.InstanceID) > 64 || rec.MeteringSN == "" || len(rec.MeteringSN) > 64 {
		return MKTUsageInvalidRecord, "instance_id and metering_sn are required, at most 64 characters"
	}
	var times [3]time.Time
	for i, v := range []string{rec.BeginTime, rec.EndTime, rec.RecordTime} {
		t, err := time.Parse(usageTimeLayout, v)
		if err != nil {
			return MKTUsageInvalidRecord, "times must be yyyyMMdd'T'HHmmss'Z'"
		}
		times[i] = t
	}
	begin, end, recorded := times[0], times[1], times[2]
	if !begin.Before(end) || recorded.Before(end) || end.After(now.Add(UsageTimeSkew)) {
		return MKTUsageInvalidRecord, "begin_time must precede end_time, which may not be after record_time or in the future"
	}
	if !usageValuePattern.MatchString(rec.UsageValue) {
		return MKTUsageInvalidRecord, "usage_value must be a decimal with at most 4 decimals"
	}
	if v, _ := new(big.Rat).SetString(rec.UsageValue); v.Sign() <= 0 {
		return MKTUsageInvalidRecord, "usage_value must be greater than 0"
	}
	if now.Sub(begin) > MaxUsageAge {
		return MKTUsageTooOld, "begin_time is more than 21 days old"
	}
	return "", ""
}

func (s *OrderServer) serveGetUsage(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Usage())
}

func (s *OrderServer) serveSetUsageFaults(w http.ResponseWriter, r *http.Request) {
	var f Failure
	if err := decodeAdmin(r, &f); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	s.SetUsageFailure(f)
	writeJSON(w, http.StatusOK, f)
}

// BilledLines is the ledger as lines "instance total (records)", sorted by instance.
func (l UsageLedger) BilledLines() []string {
	billed := l.Billed()
	count := map[string]int{}
	for _, r := range l.Records {
		count[r.InstanceID]++
	}
	ids := make([]string, 0, len(billed))
	for id := range billed {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, id+" "+billed[id]+" ("+strconv.Itoa(count[id])+" records)")
	}
	return out
}
