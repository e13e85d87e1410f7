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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// OrdersAdmin talks to the admin endpoint of an OrderServer running in
// another process (marketplace-simulator serve-orders), so the CLI and
// end-to-end tests can register orders and inject faults.
type OrdersAdmin struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:8090.
	URL string
	// HTTP sends the requests; http.DefaultClient when nil.
	HTTP *http.Client
}

// RegisterOrder creates an order on the server.
func (a *OrdersAdmin) RegisterOrder(ctx context.Context, spec OrderSpec) (RegisteredOrder, error) {
	var out RegisteredOrder
	err := a.do(ctx, http.MethodPost, AdminOrdersPath, spec, http.StatusCreated, &out)
	return out, err
}

// Order reads a stored or mock order.
func (a *OrdersAdmin) Order(ctx context.Context, id string) (RegisteredOrder, error) {
	var out RegisteredOrder
	err := a.do(ctx, http.MethodGet, AdminOrdersPath+"/"+url.PathEscape(id), nil, http.StatusOK, &out)
	return out, err
}

// SetFaults replaces the server's injected faults; the zero Faults clears them.
func (a *OrdersAdmin) SetFaults(ctx context.Context, f Faults) (Faults, error) {
	var out Faults
	err := a.do(ctx, http.MethodPost, AdminFaultsPath, f, http.StatusOK, &out)
	return out, err
}

// Usage reads the server's usage ledger.
func (a *OrdersAdmin) Usage(ctx context.Context) (UsageLedger, error) {
	var out UsageLedger
	err := a.do(ctx, http.MethodGet, AdminUsagePath, nil, http.StatusOK, &out)
	return out, err
}

// SetUsageFaults replaces the usage endpoint's injected fault; the zero Failure clears it.
func (a *OrdersAdmin) SetUsageFaults(ctx context.Context, f Failure) (Failure, error) {
	var out Failure
	err := a.do(ctx, http.MethodPost, AdminUsageFaultsPath, f, http.StatusOK, &out)
	return out, err
}

func (a *OrdersAdmin) do(ctx context.Context, method, path string, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	u := strings.TrimSuffix(a.URL, "/") + path
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("building request for %q: %w", u, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := a.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("calling order server: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminBody))
	if err != nil {
		return fmt.Errorf("reading order server answer: %w", err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("order server answered %q to %s %q: %q", resp.Status, method, path, strings.TrimSpace(string(b)))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decoding order server answer: %w", err)
	}
	return nil
}
