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

package outcome

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
	"time"
)

func TestConstructorsAndMessages(t *testing.T) {
	s := Stallf("HostConflict", "host %s is held by %q", "a.example.com", "t2")
	if s.Reason != "HostConflict" || s.Message != `host a.example.com is held by "t2"` || s.Error() != s.Message || s.RequeueAfter != 0 {
		t.Errorf("Stallf = %+v, Error() %q", *s, s.Error())
	}
	w := Waitf("Progressing", "namespace %s is being deleted", "tenant-t1")
	if w.Reason != "Progressing" || w.Message != "namespace tenant-t1 is being deleted" || w.Error() != w.Message || w.Proceed || w.RequeueAfter != 0 {
		t.Errorf("Waitf = %+v, Error() %q", *w, w.Error())
	}
}

func TestSplit(t *testing.T) {
	stall := &Stalling{Reason: "NamespaceConflict", Message: "not ours", RequeueAfter: time.Minute}
	later := &Stalling{Reason: "HostConflict", Message: "held"}
	wait := &Waiting{Reason: "Progressing", Message: "secret not found", Proceed: true}
	boom := errors.New("applying ingress: boom")
	notExist := fmt.Errorf("reading: %w", fs.ErrNotExist)
	for _, tc := range []struct {
		name     string
		err      error
		stalling *Stalling
		waiting  *Waiting
		failure  string // "" for none
	}{
		{"nil", nil, nil, nil, ""},
		{"a failure", boom, nil, nil, "applying ingress: boom"},
		{"a Stalling", stall, stall, nil, ""},
		{"a Waiting", wait, nil, wait, ""},
		{"a wrapped Stalling", fmt.Errorf("checking host: %w", stall), stall, nil, ""},
		{"a Stalling and a failure", errors.Join(stall, boom), stall, nil, "applying ingress: boom"},
		{"a nil joined with a Stalling", errors.Join(nil, stall), stall, nil, ""},
		{"both outcomes", errors.Join(wait, stall), stall, wait, ""},
		{"the last Stalling wins", errors.Join(stall, later), later, nil, ""},
		{"nested joins", errors.Join(errors.Join(stall, boom), notExist), stall, nil, "applying ingress: boom\nreading: file does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, w, f := Split(tc.err)
			if s != tc.stalling || w != tc.waiting {
				t.Errorf("Split = %v, %v; want %v, %v", s, w, tc.stalling, tc.waiting)
			}
			got := ""
			if f != nil {
				got = f.Error()
			}
			if got != tc.failure {
				t.Errorf("failure = %q, want %q", got, tc.failure)
			}
		})
	}
}

// A lone failure comes back as it was returned: what it wraps is still found.
func TestSplitKeepsALoneFailureIntact(t *testing.T) {
	wrapped := fmt.Errorf("reading: %w", fs.ErrNotExist)
	_, _, f := Split(errors.Join(&Stalling{Reason: "R"}, wrapped))
	if f != wrapped || !errors.Is(f, fs.ErrNotExist) { //nolint:errorlint // the very error, not one it wraps
		t.Errorf("failure = %#v, want the wrapped error itself", f)
	}
}

func TestIsStalling(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("x"), false},
		{&Waiting{}, false},
		{&Stalling{}, true},
		{fmt.Errorf("wrapped: %w", &Stalling{}), true},
	} {
		if got := IsStalling(tc.err); got != tc.want {
			t.Errorf("IsStalling(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
