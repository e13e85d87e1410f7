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

package chaos

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	. "github.com/onsi/ginkgo/v2"
)

// figure is one number a scenario measured. Figures are reported, never asserted as limits
// (speed is measured by make bench, never asserted in tests).
type figure struct {
	scenario, name, value string
}

var (
	figuresMu sync.Mutex
	figures   []figure
)

// report logs a figure of the scenario, adds it to the spec's report (Ginkgo's JSON report has
// it) and keeps it for the summary table.
func report(t *scenarioT, name, format string, args ...any) {
	t.Helper()
	v := fmt.Sprintf(format, args...)
	t.Logf("figure: %s: %s", name, v)
	AddReportEntry("figure: "+name, v, ReportEntryVisibilityFailureOrVerbose)
	figuresMu.Lock()
	defer figuresMu.Unlock()
	figures = append(figures, figure{scenario: t.Name(), name: name, value: v})
}

// seconds formats a duration as seconds with one decimal.
func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

// printFigures writes the summary table of every figure.
func printFigures(w io.Writer, total time.Duration) {
	figuresMu.Lock()
	defer figuresMu.Unlock()
	if len(figures) == 0 {
		return
	}
	fmt.Fprintf(w, "\nChaos suite figures (%s, %s in all)\n", cfg, total.Round(time.Second))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tFIGURE\tVALUE")
	last := ""
	for _, f := range figures {
		s := f.scenario
		if s == last {
			s = ""
		} else {
			last = s
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s, f.name, strings.ReplaceAll(f.value, "\t", " "))
	}
	_ = tw.Flush()
}
