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

// Package kubeclient configures how a Tenantry process talks to the API server: one client-side
// rate limit for all its clients, its user agent, and whether responses are compressed.
package kubeclient

import (
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

// share makes every client built from cfg draw on one token bucket of qps requests per second
// with burst. Without it, client-go gives each REST client a bucket of its own, and
// controller-runtime builds a REST client per resource kind (the event recorder another), so
// --kube-api-qps would limit each kind separately and the whole component to many times that.
// A qps of zero or less turns client-side limiting off (client-go would otherwise apply its
// default of 5 per client); API Priority and Fairness still applies on the server.
func share(cfg *rest.Config, qps float32, burst int) {
	cfg.Burst = burst
	if qps <= 0 {
		cfg.QPS, cfg.RateLimiter = -1, nil
		return
	}
	cfg.QPS = qps
	cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(qps, burst)
}

// CompressionUsage is the help text of --kube-api-compression, which both binaries have.
const CompressionUsage = "Ask the API server to gzip large responses and the streams that fill the caches. Off, as kube-controller-manager runs: next to the API server, compressing costs both sides CPU to save bandwidth that is not short."

// Config returns a copy of base as a process's clients use it: every client sharing one token
// bucket of qps and burst (share), userAgent, and compression only when asked for. With client-go's
// watch-list the API server gzips every event of a stream that asks for it, so it is off unless
// the API server is far away.
func Config(base *rest.Config, userAgent string, qps float32, burst int, compression bool) *rest.Config {
	cfg := rest.CopyConfig(base)
	share(cfg, qps, burst)
	cfg.UserAgent = userAgent
	cfg.DisableCompression = !compression
	return cfg
}
