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

package simulator_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/internal/metering"
	"github.com/tenantry/tenantry/simulator"
)

func usageServer(t *testing.T, now time.Time, requireGateway bool) (*simulator.OrderServer, *httptest.Server) {
	t.Helper()
	s := simulator.NewOrderServer(simulator.OrderServerConfig{AK: "ak", SK: "sk", UsageKey: "usage-key",
		UsageRequiresGateway: requireGateway, Now: func() time.Time { return now }})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func record(sn, begin, end, value string) metering.Record {
	return metering.Record{InstanceID: "inst-1", MeteringSN: sn, BeginTime: begin, EndTime: end, RecordTime: end, UsageValue: value}
}

// The ledger takes each metering_sn once, refuses invalid pushes with the documented codes and
// changes nothing when it refuses.
func TestUsageLedgerDropsResendsAndRefusesInvalidRecords(t *testing.T) {
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	s, srv := usageServer(t, now, false)
	c := &metering.Client{Endpoint: srv.URL, AccessKey: "usage-key", Now: func() time.Time { return now }}
	ctx := context.Background()
	a := record("sn-a", "20260110T080000Z", "20260110T090000Z", "1.5")
	b := record("sn-b", "20260110T090000Z", "20260110T100000Z", "0.25")
	if err := c.Push(ctx, []metering.Record{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := c.Push(ctx, []metering.Record{a}); err != nil {
		t.Fatalf("a resend was refused: %v", err)
	}
	for _, tc := range []struct {
		name string
		recs []metering.Record
		code string
	}{
		{"zero", []metering.Record{record("sn-z", "20260110T080000Z", "20260110T090000Z", "0")}, simulator.MKTUsageInvalidRecord},
		{"five decimals", []metering.Record{record("sn-d", "20260110T080000Z", "20260110T090000Z", "0.00001")}, simulator.MKTUsageInvalidRecord},
		{"end before begin", []metering.Record{record("sn-e", "20260110T090000Z", "20260110T080000Z", "1")}, simulator.MKTUsageInvalidRecord},
		{"bad time", []metering.Record{record("sn-t", "2026-01-10 08:00", "20260110T090000Z", "1")}, simulator.MKTUsageInvalidRecord},
		{"no sn", []metering.Record{record("", "20260110T080000Z", "20260110T090000Z", "1")}, simulator.MKTUsageInvalidRecord},
		{"older than 21 days", []metering.Record{record("sn-o", "20251219T110000Z", "20251219T120000Z", "1")}, simulator.MKTUsageTooOld},
	} {
		err := c.Push(ctx, tc.recs)
		if err == nil || !metering.Refused(err) || !strings.Contains(err.Error(), tc.code) {
			t.Errorf("%s: %v, want a refusal %s", tc.name, err, tc.code)
		}
	}
	bad := &metering.Client{Endpoint: srv.URL, AccessKey: "other-key", Now: func() time.Time { return now }}
	if err := bad.Push(ctx, []metering.Record{record("sn-k", "20260110T080000Z", "20260110T090000Z", "1")}); err == nil || !strings.Contains(err.Error(), simulator.MKTUsageAuth) {
		t.Errorf("wrong key: %v", err)
	}
	stale := &metering.Client{Endpoint: srv.URL, AccessKey: "usage-key", Now: func() time.Time { return now.Add(-time.Hour) }}
	if err := stale.Push(ctx, []metering.Record{record("sn-s", "20260110T080000Z", "20260110T090000Z", "1")}); err == nil || !strings.Contains(err.Error(), simulator.MKTUsageAuth) {
		t.Errorf("stale ts: %v", err)
	}
	l := s.Usage()
	if len(l.Records) != 2 || l.Duplicates != 1 || l.Refused != 8 || l.Billed()["inst-1"] != "1.75" {
		t.Errorf("ledger %+v billed %v", l, l.Billed())
	}
	if got := l.BilledLines(); len(got) != 1 || got[0] != "inst-1 1.75 (2 records)" {
		t.Errorf("lines %v", got)
	}
}

func TestUsageLedgerVerifiesTheGatewaySignatureAndFaults(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	s, srv := usageServer(t, now, true)
	ctx := context.Background()
	rec := record("sn-1", now.Add(-2*time.Hour).Format(metering.TimeFormat), now.Add(-time.Hour).Format(metering.TimeFormat), "1")
	unsigned := &metering.Client{Endpoint: srv.URL, AccessKey: "usage-key"}
	if err := unsigned.Push(ctx, []metering.Record{rec}); err == nil {
		t.Error("a push without the gateway signature was taken")
	}
	wrongSK := &metering.Client{Endpoint: srv.URL, AccessKey: "usage-key", AK: "ak", SK: "nope"}
	if err := wrongSK.Push(ctx, []metering.Record{rec}); err == nil {
		t.Error("a push with a wrong SK was taken")
	}
	signed := &metering.Client{Endpoint: srv.URL, AccessKey: "usage-key", AK: "ak", SK: "sk"}
	s.SetUsageFailure(simulator.Failure{HTTPStatus: 503, Times: 1})
	if err := signed.Push(ctx, []metering.Record{rec}); err == nil || metering.Refused(err) {
		t.Errorf("outage: %v, want a retryable failure", err)
	}
	if err := signed.Push(ctx, []metering.Record{rec}); err != nil {
		t.Errorf("signed push after the outage: %v", err)
	}
	too := make([]metering.Record, simulator.MaxUsageRecords+1)
	for i := range too {
		too[i] = rec
	}
	// The client refuses to send more than 100; the server refuses them too.
	if err := signed.Push(ctx, too); err == nil {
		t.Error("101 records were sent")
	}
	if got := s.Usage(); len(got.Records) != 1 {
		t.Errorf("ledger %+v", got)
	}
}
