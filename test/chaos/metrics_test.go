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

package chaos

import (
	"net/http"
	"time"
)

// scrapeClient reads the operators' and the bridge's /metrics (framework.Scrape).
var scrapeClient = &http.Client{Timeout: 2 * time.Second}

// Metric names read from the operator (controller-runtime's) and the bridge.
const (
	metricLeader          = "leader_election_master_status"
	metricReconciles      = "controller_runtime_reconcile_total"
	metricReconcileErrors = "controller_runtime_reconcile_errors_total"
	metricQueueDepth      = "workqueue_depth"
	metricActiveWorkers   = "controller_runtime_active_workers"
	metricRESTRequests    = "rest_client_requests_total"
	metricBridgeCalls     = "tenantry_bridge_calls_total"
	metricBridgeIgnored   = "tenantry_bridge_ignored_calls_total"
	metricBridgeShed      = "tenantry_bridge_shed_calls_total"
)

var tenantController = map[string]string{"controller": "tenantinstance"}
