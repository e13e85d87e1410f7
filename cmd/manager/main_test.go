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

package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/rest"

	"github.com/tenantry/tenantry/internal/testenv"
)

func TestParseNamespaces(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr bool
	}{
		// None is an empty list, not nil: nil would mean every namespace to the reconciler.
		{in: "", want: []string{}},
		{in: "  ", want: []string{}},
		{in: "certs", want: []string{"certs"}},
		{in: "certs, other ,certs", want: []string{"certs", "other"}},
		{in: "certs,", wantErr: true},
		{in: "Certs", wantErr: true},
		{in: "a/b", wantErr: true},
	} {
		got, err := parseNamespaces(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseNamespaces(%q) error %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if tc.wantErr {
			continue
		}
		if got == nil {
			t.Errorf("parseNamespaces(%q) = nil, want a non-nil list", tc.in)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("parseNamespaces(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestMeteringFlags(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte("usage-key\nprevious-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := meteringFlags{syncInterval: time.Minute, flushTimeout: time.Minute}
	m, err := ok.newMetering()
	if err != nil || m.Push != nil || m.Prometheus != nil {
		t.Errorf("no URL: %+v, %v", m, err)
	}
	withURL := ok
	withURL.url, withURL.accessKeyFile, withURL.period, withURL.prometheusURL = "http://127.0.0.1:8090", key, time.Minute, "http://prometheus:9090"
	m, err = withURL.newMetering()
	if err != nil || m.Push == nil || m.Push.AccessKey != "usage-key" || m.Push.AK != "" || m.PeriodOverride != time.Minute || m.Prometheus == nil {
		t.Errorf("with URL: %+v, %v", m, err)
	}
	for name, f := range map[string]func(*meteringFlags){
		"no access key":      func(f *meteringFlags) { f.accessKeyFile = "" },
		"missing key file":   func(f *meteringFlags) { f.accessKeyFile = filepath.Join(dir, "none") },
		"AK without SK":      func(f *meteringFlags) { f.akFile = key },
		"bad URL":            func(f *meteringFlags) { f.url = "mkt.example.com" },
		"bad Prometheus URL": func(f *meteringFlags) { f.prometheusURL = "ftp://x" },
		"fractional period":  func(f *meteringFlags) { f.period = 1500 * time.Millisecond },
		"no sync interval":   func(f *meteringFlags) { f.syncInterval = 0 },
	} {
		bad := withURL
		f(&bad)
		if _, err := bad.newMetering(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestClientsAskForCompressionOnlyWhenTold(t *testing.T) {
	base := &rest.Config{Host: "https://api.invalid"}
	for _, tc := range []struct {
		compression bool
		want        string
	}{
		{compression: false, want: ""},
		{compression: true, want: "gzip"},
	} {
		cfg := config{qps: 200, burst: 400, compression: tc.compression}.clientConfig(base)
		got, err := testenv.AcceptedEncoding(cfg)
		if err != nil {
			t.Fatalf("compression %v: %v", tc.compression, err)
		}
		if got != tc.want {
			t.Errorf("compression %v: Accept-Encoding %q, want %q", tc.compression, got, tc.want)
		}
		if cfg.UserAgent != "tenantry-operator" || cfg.RateLimiter == nil {
			t.Errorf("compression %v: user agent %q, rate limiter %v: want the operator's, shared", tc.compression, cfg.UserAgent, cfg.RateLimiter)
		}
	}
	if base.DisableCompression || base.UserAgent != "" {
		t.Errorf("the base config was changed: %+v", base)
	}
}
