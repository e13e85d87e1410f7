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
	"testing"

	"github.com/google/go-cmp/cmp"
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
