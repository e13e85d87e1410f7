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

// Package suite is what the Ginkgo suites on a local cluster (test/e2e, test/chaos) share: how
// `go test` runs them, which specs run when the command line selects none, and the reports they
// leave in the test-artifacts directory. It is kept apart from the framework so that the
// benchmark harness, which uses the framework, does not depend on Ginkgo.
package suite

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/tenantry/tenantry/test/e2e/framework"
)

// Unit labels the specs of a suite that need no cluster: the only ones a -short run runs.
const Unit = "unit"

// Run runs the suite's specs under go test; suiteLabels label every spec of the suite.
// defaultLabels is the label filter used when the
// command line (-ginkgo.label-filter) gives none (an empty one runs every spec); in -short mode
// that default is Unit instead. Unless -ginkgo.timeout is given, the suite's timeout is go test's
// -timeout less a minute, so that Ginkgo interrupts the suite, and deletes its cluster, before
// go test kills the binary.
func Run(t *testing.T, description string, suiteLabels ginkgo.Labels, defaultLabels string) {
	gomega.RegisterFailHandler(ginkgo.Fail)
	suiteConfig, reporterConfig := ginkgo.GinkgoConfiguration()
	if suiteConfig.LabelFilter == "" {
		suiteConfig.LabelFilter = defaultLabels
		if testing.Short() {
			suiteConfig.LabelFilter = Unit
		}
	}
	if deadline, ok := t.Deadline(); ok && !flagSet("ginkgo.timeout") {
		suiteConfig.Timeout = max(time.Until(deadline)-time.Minute, time.Minute)
	}
	ginkgo.RunSpecs(t, description, suiteLabels, suiteConfig, reporterConfig)
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// WriteReports writes the suite's report into the test-artifacts directory as JUnit XML
// (<name>.junit.xml) and as Ginkgo's JSON (<name>.ginkgo.json), unless no spec was to run (a
// -short run, for instance) or the run was a dry run, which leave the last real run's reports.
func WriteReports(report types.Report, name string) error {
	if report.PreRunStats.SpecsThatWillRun == 0 || report.SuiteConfig.DryRun {
		return nil
	}
	dir := framework.ArtifactsDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := reporters.GenerateJUnitReport(report, filepath.Join(dir, name+".junit.xml")); err != nil {
		return fmt.Errorf("writing the JUnit report: %w", err)
	}
	if err := reporters.GenerateJSONReport(report, filepath.Join(dir, name+".ginkgo.json")); err != nil {
		return fmt.Errorf("writing the JSON report: %w", err)
	}
	return nil
}
