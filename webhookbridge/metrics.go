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

package webhookbridge

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The bridge's metrics. Every label has a bounded set of values: activities and kit names are
// fixed by the protocol (anything else is "unverified" or "unknown"), codes by docs/protocol.md §6.1,
// reasons by the protocol package and this one.
var (
	callsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantry_bridge_calls_total",
		Help: "Marketplace calls answered, by activity and result code.",
	}, []string{"activity", "code"})

	verificationFailuresTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantry_bridge_verification_failures_total",
		Help: "Marketplace calls refused before any field was acted on, by reason (bad-signature, stale-timestamp, replayed-nonce, ...).",
	}, []string{"reason"})

	callDurationSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tenantry_bridge_call_duration_seconds",
		Help:    "Time to answer a marketplace call, by activity. The marketplace gives up after 5 s.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5},
	}, []string{"activity"})

	callOwnDurationSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tenantry_bridge_call_own_duration_seconds",
		Help:    "The bridge's own part of answering a marketplace call, by activity: tenantry_bridge_call_duration_seconds less the time during which a request to the API server or to Order Query was in flight (from sending it to its response read) or the call queued for a read permit or call slot. It is verifying, deciding, encoding and signing, and waiting for CPU, the client-side API rate limit (--kube-api-qps) and conflict backoffs.",
		Buckets: []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 3},
	}, []string{"activity"})

	// The buckets are finer around the default --queue-wait (250ms), the most a call waits: with
	// a bucket boundary at 0.5 next, a p99 estimated from the buckets read about 490 ms for calls
	// that waited 250 ms.
	callQueuedDurationSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tenantry_bridge_call_queued_duration_seconds",
		Help:    "Time a marketplace call waited for a read permit and a call slot (--max-concurrent-reads, --max-in-flight), by activity (\"unverified\" for calls shed unread). A call waits at most --queue-wait in all.",
		Buckets: []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 1, 3},
	}, []string{"activity"})

	orderQueryDurationSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tenantry_bridge_order_query_duration_seconds",
		Help:    "Time of Order Query requests to the marketplace, by result (success, not_found, rate_limited, server_error, transport_error, rejected, malformed; fallback_<result> for the retry at the fallback host).",
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10},
	}, []string{"result"})

	previousKeyTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantry_bridge_key_rotation_previous_key_total",
		Help: "Calls verified with a previous (rotated-out) key, by family (basic, kit, v1); retire the key once this stops growing.",
	}, []string{"family"})

	planLookupFailuresTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantry_bridge_plan_lookup_failures_total",
		Help: "Purchases and upgrades answered 000005 because no TenantPlan (unknown_sku) or several (ambiguous_sku) list the SKU.",
	}, []string{"reason"})

	ignoredCallsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantry_bridge_ignored_calls_total",
		Help: "State-changing calls answered 000000 without a change, by activity and reason: already_applied (an order applied before, even when newer orders came since), out_of_order (sent before the call that last set the same aspect), stale_freeze (a FREEZE sent within the resend horizon after a renewal).",
	}, []string{"activity", "reason"})

	preflightFindingsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantry_bridge_preflight_findings_total",
		Help: "Debug calls (testFlag=1) answered as on success although the real call would have been refused, by reason (order_not_found, unknown_sku, instance_not_found, ...): what a real purchase would hit.",
	}, []string{"reason"})

	shedCallsTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tenantry_bridge_shed_calls_total",
		Help: "Calls answered 000005 at once, unread, because every call slot was busy (see --max-in-flight).",
	})

	registerOnce sync.Once
)

// registerMetrics puts the collectors on controller-runtime's registry, which the bridge's main
// serves on /metrics. It runs once per process, so tests can build many Servers.
func registerMetrics() {
	registerOnce.Do(func() {
		ctrlmetrics.Registry.MustRegister(shedCallsTotal, callsTotal, verificationFailuresTotal, callDurationSeconds,
			callOwnDurationSeconds, callQueuedDurationSeconds, orderQueryDurationSeconds, previousKeyTotal, planLookupFailuresTotal, ignoredCallsTotal, preflightFindingsTotal)
	})
}

// ObserveOrderQuery records one Order Query request. It has the signature of
// orderquery.Client.Observe, which the bridge's main sets to it.
func ObserveOrderQuery(result string, d time.Duration) {
	registerMetrics()
	orderQueryDurationSeconds.WithLabelValues(result).Observe(d.Seconds())
}

// Label values of the bridge's own reasons.
const (
	reasonUnknownSKU   = "unknown_sku"
	reasonAmbiguousSKU = "ambiguous_sku"
	reasonOutOfOrder   = "out_of_order"
	reasonStaleFreeze  = "stale_freeze"
)
