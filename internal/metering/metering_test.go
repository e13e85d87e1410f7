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
	"context"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func hourly(t *testing.T, source tenantryv1alpha1.MeteringSource) Meter {
	t.Helper()
	m, err := FromPlan(&tenantryv1alpha1.Metering{Source: source}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func pending(st *tenantryv1alpha1.MeteringStatus) []string {
	out := []string{}
	for _, r := range st.Pending {
		out = append(out, r.Start.UTC().Format("15:04")+"-"+r.End.UTC().Format("15:04")+"="+r.Value)
	}
	return out
}

func TestSNIsDeterministicAndDistinct(t *testing.T) {
	a := SN("inst-1", at("2026-01-01T08:00:00Z"))
	if a != SN("inst-1", at("2026-01-01T08:00:00Z").In(time.FixedZone("x", 3600))) {
		t.Error("the same period in another zone gives another sn")
	}
	if len(a) != 42 || !strings.HasPrefix(a, "tm") {
		t.Errorf("sn %q: want tm + 40 hex", a)
	}
	for _, other := range []string{SN("inst-1", at("2026-01-01T09:00:00Z")), SN("inst-2", at("2026-01-01T08:00:00Z"))} {
		if other == a {
			t.Errorf("distinct periods share sn %s", a)
		}
	}
}

func TestPeriodEndIsAligned(t *testing.T) {
	for _, c := range []struct {
		t      string
		period time.Duration
		want   string
	}{
		{"2026-01-01T08:30:12Z", time.Hour, "2026-01-01T09:00:00Z"},
		{"2026-01-01T09:00:00Z", time.Hour, "2026-01-01T10:00:00Z"},
		{"2026-01-01T08:30:12Z", time.Minute, "2026-01-01T08:31:00Z"},
		{"2026-01-01T08:30:12Z", 24 * time.Hour, "2026-01-02T00:00:00Z"},
	} {
		if got := PeriodEnd(at(c.t), c.period); !got.Equal(at(c.want)) {
			t.Errorf("PeriodEnd(%s, %s) = %s, want %s", c.t, c.period, got, c.want)
		}
	}
}

func TestRound(t *testing.T) {
	for _, c := range []struct {
		v        *big.Rat
		decimals int
		mode     tenantryv1alpha1.MeteringRounding
		want     string
	}{
		{big.NewRat(1, 3), 4, tenantryv1alpha1.RoundUp, "0.3334"},
		{big.NewRat(1, 3), 4, tenantryv1alpha1.RoundNearest, "0.3333"},
		{big.NewRat(2, 3), 4, tenantryv1alpha1.RoundNearest, "0.6667"},
		{big.NewRat(2, 3), 4, tenantryv1alpha1.RoundDown, "0.6666"},
		{big.NewRat(1, 2), 0, tenantryv1alpha1.RoundNearest, "1"},
		{big.NewRat(3, 2), 2, tenantryv1alpha1.RoundUp, "1.5"},
		{big.NewRat(2, 1), 4, tenantryv1alpha1.RoundUp, "2"},
		{big.NewRat(1, 100000), 4, tenantryv1alpha1.RoundDown, "0"},
		{big.NewRat(1, 100000), 4, tenantryv1alpha1.RoundUp, "0.0001"},
		{new(big.Rat), 4, tenantryv1alpha1.RoundUp, "0"},
	} {
		if got := Round(c.v, c.decimals, c.mode); got != c.want {
			t.Errorf("Round(%s, %d, %s) = %s, want %s", c.v.RatString(), c.decimals, c.mode, got, c.want)
		}
	}
	if s, err := Sum("1.5", "", "0.0001", "2"); err != nil || s != "3.5001" {
		t.Errorf("Sum = %q, %v", s, err)
	}
	if _, err := Sum("x"); err == nil {
		t.Error("Sum of a non-decimal succeeded")
	}
}

func TestFromPlanRefusesWhatItCannotMeter(t *testing.T) {
	bad := []*tenantryv1alpha1.Metering{
		nil,
		{Source: "Bytes"},
		{Source: tenantryv1alpha1.MeteringPrometheus},
		{Source: tenantryv1alpha1.MeteringActiveHours, UnitScale: "-1"},
		{Source: tenantryv1alpha1.MeteringActiveHours, Period: &metav1.Duration{Duration: 1500 * time.Millisecond}},
	}
	for _, m := range bad {
		if _, err := FromPlan(m, 0); err == nil {
			t.Errorf("FromPlan(%+v) succeeded", m)
		}
	}
	m, err := FromPlan(&tenantryv1alpha1.Metering{Source: tenantryv1alpha1.MeteringActiveHours}, time.Minute)
	if err != nil || m.Period != time.Minute || m.Rounding != tenantryv1alpha1.RoundUp || m.Decimals != 4 {
		t.Errorf("override: %+v, %v", m, err)
	}
}

// The accounting of an accumulating source: Active hours, a freeze recorded at the send time of
// the call that set it, periods closed at hour boundaries, a zero period skipped.
func TestActiveHoursDoNotBillFrozenTime(t *testing.T) {
	m := hourly(t, tenantryv1alpha1.MeteringActiveHours)
	st := &tenantryv1alpha1.MeteringStatus{}
	ctx := context.Background()
	created := at("2026-01-01T08:30:00Z")
	if _, err := m.Advance(ctx, st, created, at("2026-01-01T09:40:00Z"), Observation{Rate: 1}, nil); err != nil {
		t.Fatal(err)
	}
	// Frozen at 10:15, seen at 12:00.
	if _, err := m.Advance(ctx, st, created, at("2026-01-01T12:00:00Z"), Observation{Rate: 0, RateSince: at("2026-01-01T10:15:00Z")}, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"08:30-09:00=0.5", "09:00-10:00=1", "10:00-11:00=0.25"}
	if got := pending(st); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("pending = %v, want %v", got, want)
	}
	if st.PeriodStart.Time != at("2026-01-01T12:00:00Z") || st.Accumulated != 0 {
		t.Errorf("open period %s acc %d", st.PeriodStart, st.Accumulated)
	}
}

// Advancing often (an operator that reconciles every minute) and advancing once after a long
// outage give the same records: nothing depends on process memory or on how often it ran.
func TestAdvanceIsIndependentOfHowOftenItRuns(t *testing.T) {
	m := hourly(t, tenantryv1alpha1.MeteringReadyReplicaHours)
	m.Scale = big.NewRat(1, 2)
	ctx := context.Background()
	created := at("2026-01-01T08:10:00Z")
	often := &tenantryv1alpha1.MeteringStatus{}
	for now := created; !now.After(at("2026-01-01T14:00:00Z")); now = now.Add(7 * time.Minute) {
		if _, err := m.Advance(ctx, often, created, now, Observation{Rate: 3}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Advance(ctx, often, created, at("2026-01-01T14:00:00Z"), Observation{Rate: 3}, nil); err != nil {
		t.Fatal(err)
	}
	once := &tenantryv1alpha1.MeteringStatus{}
	if _, err := m.Advance(ctx, once, created, created, Observation{Rate: 3}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Advance(ctx, once, created, at("2026-01-01T14:00:00Z"), Observation{Rate: 3}, nil); err != nil {
		t.Fatal(err)
	}
	if a, b := strings.Join(pending(often), " "), strings.Join(pending(once), " "); a != b {
		t.Errorf("often %s\nonce  %s", a, b)
	}
	if got := pending(once); len(got) != 6 || got[0] != "08:10-09:00=1.25" || got[1] != "09:00-10:00=1.5" {
		t.Errorf("pending = %v", got)
	}
}

func TestCloseReportsThePartialPeriodOnce(t *testing.T) {
	m := hourly(t, tenantryv1alpha1.MeteringActiveHours)
	ctx := context.Background()
	st := &tenantryv1alpha1.MeteringStatus{}
	created := at("2026-01-01T08:00:00Z")
	deleted := at("2026-01-01T09:45:00Z")
	// The release is handled later than it was asked: accounting ends at the deletion.
	if err := m.Close(ctx, st, created, deleted, Observation{Rate: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(ctx, st, created, deleted, Observation{Rate: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if changed, _ := m.Advance(ctx, st, created, at("2026-01-01T15:00:00Z"), Observation{Rate: 1}, nil); changed {
		t.Error("a closed meter advanced")
	}
	if got := strings.Join(pending(st), " "); got != "08:00-09:00=1 09:00-09:45=0.75" || !st.Closed {
		t.Errorf("pending = %s closed=%v", got, st.Closed)
	}
}

func TestSampledSourceAndBacklogLimit(t *testing.T) {
	m := hourly(t, tenantryv1alpha1.MeteringDirectoryUsers)
	ctx := context.Background()
	st := &tenantryv1alpha1.MeteringStatus{}
	created := at("2026-01-01T08:00:00Z")
	var ends []time.Time
	sample := func(_ context.Context, _, end time.Time) (*big.Rat, error) {
		ends = append(ends, end)
		if end.Hour() == 11 {
			return nil, errors.New("directory unreadable")
		}
		return big.NewRat(int64(end.Hour()), 1), nil
	}
	_, err := m.Advance(ctx, st, created, at("2026-01-01T12:30:00Z"), Observation{}, sample)
	if err == nil {
		t.Fatal("a failed sample was not reported")
	}
	if got := strings.Join(pending(st), " "); got != "08:00-09:00=9 09:00-10:00=10" {
		t.Errorf("pending = %s", got)
	}
	if !st.PeriodStart.Time.Equal(at("2026-01-01T10:00:00Z")) {
		t.Errorf("the failed period did not stay open: %s", st.PeriodStart)
	}

	full := &tenantryv1alpha1.MeteringStatus{}
	for i := range tenantryv1alpha1.MaxPendingUsageRecords {
		full.Pending = append(full.Pending, tenantryv1alpha1.UsageRecord{Value: "1", Start: metav1.NewTime(created.Add(time.Duration(i) * time.Second))})
	}
	ok := func(context.Context, time.Time, time.Time) (*big.Rat, error) { return big.NewRat(1, 1), nil }
	if _, err := m.Advance(ctx, full, created, at("2026-01-01T12:00:00Z"), Observation{}, ok); !errors.Is(err, ErrBacklogFull) {
		t.Errorf("full backlog: %v", err)
	}
}

func TestAcknowledge(t *testing.T) {
	st := &tenantryv1alpha1.MeteringStatus{Cumulative: "2", Pending: []tenantryv1alpha1.UsageRecord{
		{Start: metav1.NewTime(at("2026-01-01T08:00:00Z")), End: metav1.NewTime(at("2026-01-01T09:00:00Z")), Value: "0.5"},
		{Start: metav1.NewTime(at("2026-01-01T09:00:00Z")), End: metav1.NewTime(at("2026-01-01T10:00:00Z")), Value: "1.25"},
	}}
	changed, err := Acknowledge(st, []time.Time{at("2026-01-01T08:00:00Z")})
	if err != nil || !changed || st.Cumulative != "2.5" || len(st.Pending) != 1 || !st.ReportedThrough.Time.Equal(at("2026-01-01T09:00:00Z")) {
		t.Errorf("first ack: %v %v %+v", changed, err, st)
	}
	if changed, _ := Acknowledge(st, []time.Time{at("2026-01-01T08:00:00Z")}); changed || st.Cumulative != "2.5" {
		t.Error("a second acknowledgement of the same record counted twice")
	}
	if _, err := Acknowledge(st, []time.Time{at("2026-01-01T09:00:00Z")}); err != nil || st.Cumulative != "3.75" || st.Pending != nil {
		t.Errorf("second ack: %v %+v", err, st)
	}
}

// Vector 7 of docs/protocol.md §8: the body EncodeBody emits for its record, and its signature.
func TestSignatureMatchesTheProtocolVector(t *testing.T) {
	body, err := EncodeBody([]Record{{BeginTime: "20220809T080000Z", EndTime: "20220809T090000Z",
		InstanceID: "7f141bf1-aec8-4859-8323-fb3a8ad50721", MeteringSN: "sn-0001", RecordTime: "20220809T091000Z", UsageValue: "99"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"usage_records":[{"begin_time":"20220809T080000Z","end_time":"20220809T090000Z","instance_id":"7f141bf1-aec8-4859-8323-fb3a8ad50721","metering_sn":"sn-0001","record_time":"20220809T091000Z","usage_value":"99"}]}`
	if string(body) != want {
		t.Fatalf("body\n%s\nwant\n%s", body, want)
	}
	if got := Sign("example-access-key-for-test-vectors-only", "1680508066618", "abc123", body); got != "ZfLKJ3Al0+DwHPWq/XJaktX+vyKklhgANlPUreW7bX4=" {
		t.Errorf("signature %s", got)
	}
}

func TestBatchesAndRecordOf(t *testing.T) {
	recs := make([]Record, 250)
	b := Batches(recs, MaxBatch)
	if len(b) != 3 || len(b[0]) != 100 || len(b[1]) != 100 || len(b[2]) != 50 {
		t.Errorf("batches of %d", len(b))
	}
	if Batches(nil, MaxBatch) != nil {
		t.Error("no records gave a batch")
	}
	r := tenantryv1alpha1.UsageRecord{Start: metav1.NewTime(at("2026-01-01T08:00:00Z")), End: metav1.NewTime(at("2026-01-01T09:00:00Z")), Value: "1.5"}
	pkg := RecordOf("i-1", tenantryv1alpha1.ChargingOnDemandPkg, r)
	if pkg.RelatePkgInstance != "i-1" || pkg.MeteringSN != SN("i-1", r.Start.Time) || pkg.BeginTime != "20260101T080000Z" || pkg.RecordTime != pkg.EndTime {
		t.Errorf("package record %+v", pkg)
	}
	if RecordOf("i-1", tenantryv1alpha1.ChargingOnDemand, r).RelatePkgInstance != "" {
		t.Error("an ON_DEMAND record names a package")
	}
}

func TestPushSendsSignedHeadersAndClassifiesAnswers(t *testing.T) {
	var answer string
	var status int
	var gotAuth, gotSig string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != UsagePath {
			t.Errorf("path %s", r.URL.Path)
		}
		gotSig = r.Header.Get("signature")
		if want := Sign("key", r.Header.Get("ts"), r.Header.Get("nonce"), body); gotSig != want {
			t.Errorf("signature %s, want %s", gotSig, want)
		}
		gotAuth = r.Header.Get("Authorization")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	defer srv.Close()
	c := &Client{Endpoint: srv.URL, AccessKey: "key", AK: "ak", SK: "sk"}
	recs := []Record{{InstanceID: "i", MeteringSN: "s", UsageValue: "1"}}
	for _, tc := range []struct {
		status    int
		answer    string
		ok, retry bool
	}{
		{200, `{"resultCode":"MKT.0000"}`, true, false},
		{200, `{"resultCode":"MKT.9002","resultMsg":"invalid record"}`, false, false},
		{500, `{"resultCode":"MKT.0999"}`, false, true},
		{502, `bad gateway`, false, true},
		{200, `{"resultCode":"MKT.0250"}`, false, true},
	} {
		status, answer = tc.status, tc.answer
		err := c.Push(context.Background(), recs)
		if (err == nil) != tc.ok || (err != nil && Refused(err) == tc.retry) {
			t.Errorf("%d %s: err %v", tc.status, tc.answer, err)
		}
	}
	if !strings.HasPrefix(gotAuth, "SDK-HMAC-SHA256 Access=ak") {
		t.Errorf("Authorization %q", gotAuth)
	}
	if err := c.Push(context.Background(), make([]Record, MaxBatch+1)); err == nil {
		t.Error("a push of 101 records was sent")
	}
	srv.Close()
	if err := c.Push(context.Background(), recs); err == nil || Refused(err) {
		t.Errorf("unreachable: %v", err)
	}
}

// A small fake of the Prometheus HTTP API.
func TestPrometheusSource(t *testing.T) {
	var gotQuery, gotTime string
	var answer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		gotQuery, gotTime = r.Form.Get("query"), r.Form.Get("time")
		_, _ = io.WriteString(w, answer)
	}))
	defer srv.Close()
	q, err := RenderQuery(`sum(increase(http_requests_total{namespace="{{.Namespace}}",instance_id="{{.InstanceID}}"}[{{.Period}}]))`,
		QueryData{InstanceID: "i-1", Namespace: "tenant-i-1", Period: "3600s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RenderQuery("{{.Nope}}", QueryData{}); err == nil {
		t.Error("an unknown template field rendered")
	}
	p := &Prometheus{URL: srv.URL}
	end := at("2026-01-01T09:00:00Z")
	for _, c := range []struct {
		answer string
		want   string
	}{
		{`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767258000,"12.5"]},{"metric":{},"value":[1767258000,"1"]}]}}`, "27/2"},
		{`{"status":"success","data":{"resultType":"vector","result":[]}}`, "0"},
		{`{"status":"success","data":{"resultType":"scalar","result":[1767258000,"3"]}}`, "3"},
	} {
		answer = c.answer
		v, err := p.Query(context.Background(), q, end)
		if err != nil || v.RatString() != c.want {
			t.Errorf("%s: %v %v", c.answer, v, err)
		}
	}
	if gotQuery != `sum(increase(http_requests_total{namespace="tenant-i-1",instance_id="i-1"}[3600s]))` || gotTime != "1767258000" {
		t.Errorf("query %q time %q", gotQuery, gotTime)
	}
	for _, bad := range []string{
		`{"status":"error","errorType":"bad_data","error":"parse error"}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"NaN"]}]}}`,
		`{"status":"success","data":{"resultType":"matrix","result":[]}}`,
		`not json`,
	} {
		answer = bad
		if _, err := p.Query(context.Background(), q, end); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	var none *Prometheus
	if _, err := none.Query(context.Background(), q, end); err == nil {
		t.Error("no URL: no error")
	}
}

// BenchmarkHourOf10000Tenants is the pure cost of one hour at 10,000 metered tenants: closing
// each one's period and encoding and signing the 100 pushes that carry the records.
func BenchmarkHourOf10000Tenants(b *testing.B) {
	m, err := FromPlan(&tenantryv1alpha1.Metering{Source: tenantryv1alpha1.MeteringActiveHours}, 0)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	created := at("2026-01-01T08:00:00Z")
	for b.Loop() {
		recs := make([]Record, 0, 10000)
		for i := range 10000 {
			st := &tenantryv1alpha1.MeteringStatus{}
			if _, err := m.Advance(ctx, st, created, created.Add(time.Hour), Observation{Rate: 1}, nil); err != nil {
				b.Fatal(err)
			}
			recs = append(recs, RecordOf("inst-"+strconv.Itoa(i), tenantryv1alpha1.ChargingOnDemand, st.Pending[0]))
		}
		for _, batch := range Batches(recs, MaxBatch) {
			body, err := EncodeBody(batch)
			if err != nil {
				b.Fatal(err)
			}
			_ = Sign("key", "1", "n", body)
		}
	}
}

// Looking again within a period, at the same rate, changes nothing (and so costs no write); the
// period's end, or a new rate, does.
func TestAdvanceChangesNothingWithinAPeriodAtTheSameRate(t *testing.T) {
	m := hourly(t, tenantryv1alpha1.MeteringActiveHours)
	ctx := context.Background()
	st := &tenantryv1alpha1.MeteringStatus{}
	created := at("2026-01-01T08:30:00Z")
	if changed, err := m.Advance(ctx, st, created, created, Observation{Rate: 1}, nil); err != nil || !changed {
		t.Fatalf("opening the first period: changed=%v err=%v", changed, err)
	}
	for _, now := range []string{"2026-01-01T08:31:00Z", "2026-01-01T08:45:00Z", "2026-01-01T08:59:59Z"} {
		if changed, err := m.Advance(ctx, st, created, at(now), Observation{Rate: 1}, nil); err != nil || changed {
			t.Errorf("at %s within the period: changed=%v err=%v", now, changed, err)
		}
	}
	if changed, err := m.Advance(ctx, st, created, at("2026-01-01T09:00:00Z"), Observation{Rate: 1}, nil); err != nil || !changed {
		t.Errorf("at the period's end: changed=%v err=%v", changed, err)
	}
	if changed, err := m.Advance(ctx, st, created, at("2026-01-01T09:20:00Z"), Observation{Rate: 0}, nil); err != nil || !changed {
		t.Errorf("a new rate: changed=%v err=%v", changed, err)
	}
	if changed, err := m.Advance(ctx, st, created, at("2026-01-01T10:00:00Z"), Observation{Rate: 0}, nil); err != nil || !changed {
		t.Errorf("the end of a period with usage: changed=%v err=%v", changed, err)
	}
	if got := strings.Join(pending(st), " "); got != "08:30-09:00=0.5 09:00-10:00=0.3334" {
		t.Errorf("pending = %s", got)
	}
}
