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
	"crypto/tls"
	"net/http"
	"time"
)

// Defaults of HTTPLimits: what every listener of the bridge binary gets unless its flags say
// otherwise. The read timeouts are what cut a slow or stalled client off; a marketplace call is a
// few KiB sent at once, so they are generous for it and short for a client that trickles bytes.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 10 * time.Second
	DefaultWriteTimeout      = 15 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
)

// HTTPLimits are the limits of an http.Server; zero fields take the defaults above.
type HTTPLimits struct {
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	MaxHeaderBytes                                            int
}

// NewHTTPServer returns the http.Server for h on addr with l applied (TLS, when used, at least
// 1.2). The binary builds every listener with it, and the tests build theirs with it too, so
// what they show about slow clients holds for the binary.
func NewHTTPServer(addr string, h http.Handler, l HTTPLimits) *http.Server {
	or := func(v, def time.Duration) time.Duration {
		if v == 0 {
			return def
		}
		return v
	}
	maxHeader := l.MaxHeaderBytes
	if maxHeader == 0 {
		maxHeader = DefaultMaxHeaderBytes
	}
	return &http.Server{
		Addr: addr, Handler: h,
		ReadHeaderTimeout: or(l.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       or(l.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:      or(l.WriteTimeout, DefaultWriteTimeout),
		IdleTimeout:       or(l.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    maxHeader,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
	}
}
