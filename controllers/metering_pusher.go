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

package controllers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/metering"
)

var (
	meteringRecords = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantry_metering_records_total",
		Help: "Usage records pushed to the marketplace, by result: accepted (taken, or dropped as a resend of a known metering_sn), retry (a push that failed and will be sent again), refused (the marketplace refused the record; it stays unreported).",
	}, []string{"result"})
	meteringBacklog = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "tenantry_metering_backlog_periods",
		Help: "Periods of pay-per-use instances that ended and have not been acknowledged by the marketplace.",
	})
	meteringOldest = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "tenantry_metering_oldest_unreported_seconds",
		Help: "How long ago the oldest unreported period ended; 0 when every period that ended was reported.",
	})
	meteringNearLimitGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "tenantry_metering_near_limit_periods",
		Help: "Unreported periods that began more than 20 days ago: the marketplace refuses a begin_time older than 21 days.",
	})
	meteringUnreportedAtRelease = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tenantry_metering_unreported_at_release_total",
		Help: "Periods a release let go of unreported after the flush timeout (each named in a UsageNotReported Event).",
	})
)

// acknowledgeParallelism is how many instances' acknowledgements are written at once.
const acknowledgeParallelism = 8

func init() {
	metrics.Registry.MustRegister(meteringRecords, meteringBacklog, meteringOldest, meteringNearLimitGauge, meteringUnreportedAtRelease)
}

// NeedLeaderElection makes the pusher run on the leader only.
func (m *Metering) NeedLeaderElection() bool { return true }

// Start runs the pusher until ctx ends: every SyncInterval, or as soon as a period closes, it
// looks at every metered instance (their periods close even when nothing else happens to
// them) and pushes what is pending; after a failed push it waits longer each time, up to 5
// minutes, then goes on where it stopped.
func (m *Metering) Start(ctx context.Context) error {
	m.init()
	log := logf.FromContext(ctx).WithName("metering")
	backoff := time.Duration(0)
	for {
		wait := m.SyncInterval
		if backoff > 0 {
			wait = backoff
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
			m.resyncAll(ctx)
		case <-m.kick:
			t.Stop()
		}
		if err := m.PushAll(ctx); err != nil {
			backoff = min(max(2*backoff, m.MaxBackoff/300), m.MaxBackoff)
			log.Error(err, "Usage push failed; retrying", "in", backoff)
			continue
		}
		backoff = 0
	}
}

// resyncAll asks the controller to look at every pay-per-use instance (the index holds no other).
func (m *Metering) resyncAll(ctx context.Context) {
	list := &tenantryv1alpha1.TenantInstanceList{}
	// Read-only: the events carry the cached objects, of which only the names are used.
	if err := m.Client.List(ctx, list, onDemandOnly, client.UnsafeDisableDeepCopy); err != nil {
		return
	}
	for i := range list.Items {
		select {
		case m.resync <- event.GenericEvent{Object: &list.Items[i]}:
		case <-ctx.Done():
			return
		}
	}
}

type pendingRecord struct {
	instance string
	mode     tenantryv1alpha1.ChargingMode
	record   tenantryv1alpha1.UsageRecord
}

// PushAll pushes every pending record of every instance, oldest first, in batches of at most
// 100, then acknowledges what the marketplace took on the instances' status: one write per
// instance with records taken, however many batches they were sent in. It stops at the first
// push that may succeed later (the marketplace unreachable), acknowledges what was taken before
// it and returns its error; a refused record stays pending, with a Warning Event on its
// instance. A crash between a push and its acknowledgement resends the same metering_sn, which
// the marketplace drops.
func (m *Metering) PushAll(ctx context.Context) error {
	m.init()
	list := &tenantryv1alpha1.TenantInstanceList{}
	// Pay-per-use instances only (the index holds no other). Read-only: at 10,000 tenants a deep
	// copy of every instance each round would cost more than the round itself. Nothing below
	// writes to these objects.
	if err := m.Client.List(ctx, list, onDemandOnly, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing instances: %w", err)
	}
	now := m.Clock.Now()
	meters, err := m.meters(ctx)
	if err != nil {
		return err
	}
	var all []pendingRecord
	backlog, nearLimit := 0, 0
	var oldest time.Time
	byName := map[string]*tenantryv1alpha1.TenantInstance{}
	for i := range list.Items {
		ti := &list.Items[i]
		st := ti.Status.Metering
		if st == nil {
			continue
		}
		byName[ti.Name] = ti
		for _, r := range st.Pending {
			all = append(all, pendingRecord{instance: ti.Name, mode: ti.Spec.Order.ChargingMode, record: r})
			backlog++
			if oldest.IsZero() || r.End.Time.Before(oldest) {
				oldest = r.End.Time
			}
			if now.Sub(r.Start.Time) > meteringNearLimit {
				nearLimit++
				m.warn(ti, "UsageNearLimit", "Push",
					"The usage of the period from %s is not reported yet and the marketplace refuses periods older than 21 days (metering_sn %s)",
					r.Start.UTC().Format(time.RFC3339), metering.SN(ti.Name, r.Start.Time))
			}
		}
		// A period that ended but could not be closed (its sample failed, the backlog is full)
		// is unreported too.
		if meter, ok := meters[ti.Spec.SKU]; ok && !st.Closed && st.PeriodStart != nil {
			if end := metering.PeriodEnd(st.PeriodStart.Time, meter.Period); !end.After(now) {
				backlog++
				if oldest.IsZero() || end.Before(oldest) {
					oldest = end
				}
			}
		}
	}
	meteringBacklog.Set(float64(backlog))
	meteringNearLimitGauge.Set(float64(nearLimit))
	if oldest.IsZero() {
		meteringOldest.Set(0)
	} else {
		meteringOldest.Set(max(now.Sub(oldest).Seconds(), 0))
	}
	if m.Push == nil || len(all) == 0 {
		return nil
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].record.Start.Before(&all[j].record.Start) })
	_, err = m.pushAndAcknowledge(ctx, all, byName)
	return err
}

// pushAndAcknowledge pushes records in batches of at most 100 and then acknowledges, with one
// status write per instance (up to acknowledgeParallelism at once), every record the marketplace took,
// also when a later batch failed or another instance's acknowledgement failed.
// It returns the instances as acknowledged (read back from the API server).
func (m *Metering) pushAndAcknowledge(ctx context.Context, all []pendingRecord, byName map[string]*tenantryv1alpha1.TenantInstance) (map[string]*tenantryv1alpha1.TenantInstance, error) {
	taken := map[string][]time.Time{}
	var pushErr error
	for start := 0; start < len(all) && pushErr == nil; start += metering.MaxBatch {
		pushErr = m.pushBatch(ctx, all[start:min(start+metering.MaxBatch, len(all))], byName, taken)
	}
	names := make([]string, 0, len(taken))
	for name := range taken {
		names = append(names, name)
	}
	sort.Strings(names)
	// Each instance is its own write, so they go in parallel: one after the other, 10,000
	// acknowledgements (a read and a write each) take longer than a one-minute period.
	var (
		mu      sync.Mutex
		out     = map[string]*tenantryv1alpha1.TenantInstance{}
		ackErrs []error
	)
	g := &errgroup.Group{}
	g.SetLimit(acknowledgeParallelism)
	for _, name := range names {
		g.Go(func() error {
			ti, err := m.acknowledge(ctx, name, taken[name])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				ackErrs = append(ackErrs, fmt.Errorf("acknowledging usage of %s: %w", name, err))
			} else if ti != nil {
				out[name] = ti
			}
			return nil
		})
	}
	_ = g.Wait()
	return out, errors.Join(append([]error{pushErr}, ackErrs...)...)
}

// pushInstance pushes one instance's pending records (the release's flush).
func (m *Metering) pushInstance(ctx context.Context, ti *tenantryv1alpha1.TenantInstance) error {
	var all []pendingRecord
	for _, r := range ti.Status.Metering.Pending {
		all = append(all, pendingRecord{instance: ti.Name, mode: ti.Spec.Order.ChargingMode, record: r})
	}
	byName := map[string]*tenantryv1alpha1.TenantInstance{ti.Name: ti}
	acked, err := m.pushAndAcknowledge(ctx, all, byName)
	if fresh := acked[ti.Name]; fresh != nil {
		ti.ResourceVersion, ti.Status.Metering = fresh.ResourceVersion, fresh.Status.Metering
	}
	if err != nil {
		return err
	}
	if ti.Status.Metering != nil && len(ti.Status.Metering.Pending) > 0 {
		return errors.New("the marketplace refused records")
	}
	return nil
}

// pushBatch sends one batch and adds the starts of the records the marketplace took to taken,
// by instance; it writes nothing. A refused batch of several records is sent again one record
// at a time, so one bad record does not hold back the others. byName is only read.
func (m *Metering) pushBatch(ctx context.Context, batch []pendingRecord, byName map[string]*tenantryv1alpha1.TenantInstance, taken map[string][]time.Time) error {
	wire := make([]metering.Record, len(batch))
	for i, p := range batch {
		wire[i] = metering.RecordOf(p.instance, p.mode, p.record)
	}
	err := m.Push.Push(ctx, wire)
	switch {
	case err == nil:
		meteringRecords.WithLabelValues("accepted").Add(float64(len(batch)))
	case metering.Refused(err) && len(batch) > 1:
		for i := range batch {
			if err := m.pushBatch(ctx, batch[i:i+1], byName, taken); err != nil {
				return err
			}
		}
		return nil
	case metering.Refused(err):
		meteringRecords.WithLabelValues("refused").Inc()
		if ti := byName[batch[0].instance]; ti != nil {
			m.warn(ti, "UsageRefused", "Push", "The marketplace refused the usage of the period from %s (metering_sn %s, usage %s): %v; it stays unreported",
				batch[0].record.Start.UTC().Format(time.RFC3339), wire[0].MeteringSN, wire[0].UsageValue, err)
		}
		return nil
	default:
		meteringRecords.WithLabelValues("retry").Add(float64(len(batch)))
		return err
	}
	for _, p := range batch {
		taken[p.instance] = append(taken[p.instance], p.record.Start.Time)
	}
	return nil
}
