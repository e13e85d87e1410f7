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

// Package apig signs requests to the marketplace's APIs with the seller account's AK/SK by
// Huawei's API-Gateway scheme (docs/protocol.md §7). Both binaries call those APIs: the bridge
// Order Query, the operator the usage push. The Huawei Cloud SDK's signer does the
// canonicalisation, so it agrees with the gateway's by construction.
package apig

import (
	"fmt"
	"net/http"
	"reflect"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
)

// Sign adds X-Sdk-Date and Authorization to req, a request whose body is body (nil for none),
// signed at now with ak and sk. The Host header and, when set, Content-Type are signed.
func Sign(req *http.Request, body []byte, ak, sk string, now time.Time) error {
	b := request.NewHttpRequestBuilder().
		WithMethod(req.Method).
		WithEndpoint(req.URL.Scheme+"://"+req.URL.Host).
		WithPath(req.URL.Path).
		// Signing Host binds the signature to the marketplace host, as the published request
		// example shows it among the signed headers.
		AddHeaderParam("Host", req.URL.Host).
		AddHeaderParam(signer.HeaderXDate, now.UTC().Format(signer.BasicDateFormat))
	for k, vs := range req.URL.Query() {
		if len(vs) > 0 {
			// The signer only canonicalises query values wrapped in reflect.Value, as the SDK's
			// generated clients pass them.
			b.AddQueryParam(k, reflect.ValueOf(vs[0]))
		}
	}
	if ct := req.Header.Get("Content-Type"); ct != "" {
		b.AddHeaderParam("Content-Type", ct)
	}
	if body != nil {
		// A string body is hashed exactly as given.
		b.WithBody("", string(body))
	}
	signed, err := signer.Sign(b.Build(), ak, sk)
	if err != nil {
		return fmt.Errorf("signing request: %w", err)
	}
	req.Host = req.URL.Host
	for k, v := range signed {
		req.Header.Set(k, v)
	}
	return nil
}
