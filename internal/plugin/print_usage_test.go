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

package plugin

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenantryv1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func TestPrintStoryShowsUsage(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 30, 0, 0, time.UTC)
	start := metav1.NewTime(now.Add(-3 * time.Hour))
	through := metav1.NewTime(now.Add(-2 * time.Hour))
	open := metav1.NewTime(now.Add(-30 * time.Minute))
	s := InstanceStory{Name: "i-1", Created: now.Add(-5 * time.Hour)}
	s.Status.Metering = &tenantryv1alpha1.MeteringStatus{Cumulative: "12.5", ReportedThrough: &through, PeriodStart: &open,
		Pending: []tenantryv1alpha1.UsageRecord{{Start: start, End: through, Value: "1"}}}
	var out bytes.Buffer
	if err := PrintStory(&out, s, now, false); err != nil {
		t.Fatal(err)
	}
	want := "12.5 reported through 2026-01-01T10:30:00Z; 1 period(s) waiting, the oldest from 2026-01-01T09:30:00Z; open period from 2026-01-01T12:00:00Z"
	if !strings.Contains(out.String(), want) {
		t.Errorf("describe lacks %q:\n%s", want, out.String())
	}
	s.Status.Metering = nil
	out.Reset()
	if err := PrintStory(&out, s, now, false); err != nil || strings.Contains(out.String(), "Usage:") {
		t.Errorf("an unmetered instance shows usage: %v\n%s", err, out.String())
	}
}
