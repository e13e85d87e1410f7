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

// Package ratelimit gives a component one client-side rate limit towards the API server.
package ratelimit

import (
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

// Share makes every client built from cfg draw on one token bucket of qps requests per second
// with burst. Without it, client-go gives each REST client a bucket of its own, and
// controller-runtime builds a REST client per resource kind (the event recorder another), so
// --kube-api-qps would limit each kind separately and the whole component to many times that.
// A qps of zero or less turns client-side limiting off (client-go would otherwise apply its
// default of 5 per client); API Priority and Fairness still applies on the server.
func Share(cfg *rest.Config, qps float32, burst int) {
	cfg.Burst = burst
	if qps <= 0 {
		cfg.QPS, cfg.RateLimiter = -1, nil
		return
	}
	cfg.QPS = qps
	cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(qps, burst)
}
