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

package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// NewWorkDir makes a suite's work directory (binaries, keys, kubeconfigs) and names its log
// directory: $TENANTRY_ARTIFACTS/<suite>, emptied of an earlier run's logs, or logs/ inside the
// work directory. CleanWorkDir removes them.
func NewWorkDir(suite string) (workDir, logDir string, err error) {
	if workDir, err = os.MkdirTemp("", "tenantry-"+suite+"-"); err != nil {
		return "", "", err
	}
	logDir = filepath.Join(workDir, "logs")
	if dir := os.Getenv("TENANTRY_ARTIFACTS"); dir != "" {
		logDir = filepath.Join(dir, suite)
		_ = os.RemoveAll(logDir)
	}
	return workDir, logDir, nil
}

// CleanWorkDir removes a suite's work directory, keeping logDir (inside it) when the run failed;
// suite names the suite in the message saying where those logs are.
func CleanWorkDir(workDir, logDir, suite string, passed bool) {
	if workDir == "" {
		return
	}
	entries, _ := os.ReadDir(workDir)
	for _, e := range entries {
		if passed || filepath.Join(workDir, e.Name()) != logDir {
			_ = os.RemoveAll(filepath.Join(workDir, e.Name()))
		}
	}
	if passed || logDir != filepath.Join(workDir, "logs") {
		_ = os.Remove(workDir)
		return
	}
	fmt.Fprintf(os.Stderr, "%s: the logs of the operators and bridges are in %s\n", suite, logDir)
}

// ReapClusters deletes the clusters named prefix<pid> whose test binary (testBinary, e.g.
// "e2e.test") is gone: killed by the test timeout, for instance, which skips every deferred
// cleanup. suite prefixes the messages.
func ReapClusters(ctx context.Context, prefix, testBinary, suite string) {
	names, err := ListClusters(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, suite+":", err)
		return
	}
	owned := regexp.MustCompile("^" + regexp.QuoteMeta(prefix) + `(\d+)$`)
	for _, n := range names {
		m := owned.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		if pid, _ := strconv.Atoi(m[1]); pid == os.Getpid() || ProcessAlive(pid, testBinary) {
			continue
		}
		fmt.Fprintln(os.Stderr, suite+": deleting cluster", n, "left by an earlier run")
		if err := DownCluster(ctx, n, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, suite+":", err)
		}
	}
}

// ArtifactsDir is where the suites leave what outlives a run (reports, failed runs' logs,
// screenshots): $TENANTRY_ARTIFACTS, or bin/test-artifacts in the repository.
func ArtifactsDir() string {
	if dir := os.Getenv("TENANTRY_ARTIFACTS"); dir != "" {
		return dir
	}
	return filepath.Join(Root(), "bin", "test-artifacts")
}
