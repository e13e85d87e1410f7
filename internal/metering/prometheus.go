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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// QueryData is what a Prometheus query template may use.
type QueryData struct {
	// InstanceID is the TenantInstance's name (the marketplace instanceId).
	InstanceID string
	// Namespace is the tenant namespace.
	Namespace string
	// Period is the period as a PromQL duration in seconds, e.g. 3600s.
	Period string
}

// RenderQuery fills a plan's query template.
func RenderQuery(query string, data QueryData) (string, error) {
	t, err := template.New("query").Option("missingkey=error").Parse(query)
	if err != nil {
		return "", fmt.Errorf("parsing spec.metering.query: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("filling spec.metering.query: %w", err)
	}
	return b.String(), nil
}

// Prometheus evaluates instant queries through the Prometheus HTTP API (/api/v1/query).
type Prometheus struct {
	// URL is the server's base URL.
	URL string
	// HTTP sends the requests; a client with a 10 s timeout when nil.
	HTTP *http.Client
}

// Query evaluates query at t and returns the sum of the samples of a vector result, or the value
// of a scalar one; an empty vector is zero. NaN and infinities are errors.
func (p *Prometheus) Query(ctx context.Context, query string, t time.Time) (*big.Rat, error) {
	if p == nil || p.URL == "" {
		return nil, fmt.Errorf("no Prometheus URL is configured (--metering-prometheus-url)")
	}
	form := url.Values{"query": {query}, "time": {strconv.FormatInt(t.Unix(), 10)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(p.URL, "/")+"/api/v1/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := p.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("querying Prometheus: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("reading Prometheus answer: %w", err)
	}
	var answer struct {
		Status    string `json:"status"`
		Error     string `json:"error"`
		ErrorType string `json:"errorType"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return nil, fmt.Errorf("decoding Prometheus answer (HTTP %d): %w", resp.StatusCode, err)
	}
	if answer.Status != "success" {
		return nil, fmt.Errorf("prometheus answered %s: %s %s", answer.Status, answer.ErrorType, answer.Error)
	}
	total := new(big.Rat)
	switch answer.Data.ResultType {
	case "vector":
		var samples []struct {
			Value [2]json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(answer.Data.Result, &samples); err != nil {
			return nil, fmt.Errorf("decoding Prometheus vector: %w", err)
		}
		for _, s := range samples {
			v, err := sampleValue(s.Value[1])
			if err != nil {
				return nil, err
			}
			total.Add(total, v)
		}
	case "scalar":
		var s [2]json.RawMessage
		if err := json.Unmarshal(answer.Data.Result, &s); err != nil {
			return nil, fmt.Errorf("decoding Prometheus scalar: %w", err)
		}
		v, err := sampleValue(s[1])
		if err != nil {
			return nil, err
		}
		total.Add(total, v)
	default:
		return nil, fmt.Errorf("prometheus answered a %q; the query must give a vector or a scalar", answer.Data.ResultType)
	}
	return total, nil
}

func sampleValue(raw json.RawMessage) (*big.Rat, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("decoding a Prometheus sample value: %w", err)
	}
	v, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("prometheus sample value %q is not a finite number", s)
	}
	return v, nil
}
