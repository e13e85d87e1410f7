#!/usr/bin/env bash
# Copyright 2026 The Tenantry Authors.
# SPDX-License-Identifier: Apache-2.0
#
# test.sh is `make test`, the one command that runs every test on a fresh machine:
#   1. provides kube-apiserver, etcd and kubectl, and for the end-to-end tests kube-controller-manager,
#      kube-scheduler, kwok and helm (built from source the first time, cached in bin/),
#   2. runs every package's tests: unit tests, integration tests against a real API server, the
#      benchmark harness's unit tests, and end-to-end tests against a local kwok cluster with the
#      Helm chart installed,
#   3. runs every fuzz target for FUZZTIME (default 30s).
# It ends with go test's own summary lines, one per package and fuzz target, Ginkgo's per suite,
# and the count of them all ("N passed, N failed"). `hack/test.sh --summarize LOG` prints that
# summary for the saved output of a run (or of any go test run) without running anything.
set -euo pipefail
cd "$(dirname "$0")/.."

# summarize prints the summary of a run's output: go test's line per package (and fuzz target),
# Ginkgo's lines per suite, then "N passed, N failed" counting both packages and specs. Every
# "ok" line is a package passed and every "FAIL <package>" line one failed; every Ginkgo suite
# adds the specs of the line that ends its run, "SUCCESS! -- N Passed | N Failed | ..." or
# "FAIL! -- N Passed | N Failed | ..." (a failure reason, such as a timeout, may stand between
# "FAIL!" and the counts, or put them on the next line), so a suite's package counts once and
# each of its specs once more. A suite whose BeforeSuite failed ran no spec: its package's FAIL
# line counts it. Go test shows a passing package's output only with -v, which is why the suites
# run with it. Colours, if any, are stripped first.
summarize() {
  local clean
  clean=$(sed 's/\x1b\[[0-9;]*m//g' "$1")
  grep -E '^(ok|FAIL|---)|^Ran [0-9]+ of [0-9]+ Specs|^(SUCCESS|FAIL)!|[0-9]+ Passed \| [0-9]+ Failed' <<<"$clean" |
    grep -v -- '--- PASS' || true
  local packages_ok packages_failed specs
  packages_ok=$(grep -cE '^ok\s' <<<"$clean" || true)
  packages_failed=$(grep -cE '^FAIL\s' <<<"$clean" || true)
  specs=$(sed -nE 's/.*(^|[^0-9])([0-9]+) Passed \| ([0-9]+) Failed \|.*/\2 \3/p' <<<"$clean" |
    awk '{p += $1; f += $2} END {print p + 0, f + 0}')
  echo "$((packages_ok + ${specs% *})) passed, $((packages_failed + ${specs#* })) failed"
}

if [ "${1:-}" = --summarize ]; then
  summarize "${2:?--summarize needs the log of a run}"
  exit 0
fi

FUZZTIME=${FUZZTIME:-30s}

echo "==> Providing the Kubernetes test binaries (kube-apiserver, etcd, kubectl)"
KUBEBUILDER_ASSETS=$(hack/tools.sh envtest | tail -1)
export KUBEBUILDER_ASSETS
echo "    $KUBEBUILDER_ASSETS: $("$KUBEBUILDER_ASSETS/kube-apiserver" --version)"
echo "==> Providing the local cluster binaries (kube-controller-manager, kube-scheduler, kwok) and helm"
cluster_bin=$(hack/tools.sh cluster | tail -1)
helm_bin=$(hack/tools.sh helm | tail -1)
echo "    $cluster_bin, $helm_bin"

# The suspended page is checked in a real headless browser; install Debian's Chromium, and a small
# CJK font so that the page's Chinese text renders in the screenshot, when missing.
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
{ command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null)" ]; } || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> Installing ${need[*]} for the headless browser test"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null) ||
      echo "    could not install ${need[*]}; the browser test may fail"
  fi
fi
TENANTRY_BROWSER=$(command -v chromium || true)
export TENANTRY_BROWSER TENANTRY_REQUIRE_BROWSER=1
export TENANTRY_ARTIFACTS=${TENANTRY_ARTIFACTS:-$PWD/bin/test-artifacts}
# The whole output is kept: what is shown below is go test's summary lines and where each failure
# is, not the failure's message (a Gomega message spans several lines).
mkdir -p "$TENANTRY_ARTIFACTS"
log=$TENANTRY_ARTIFACTS/test.log
: >"$log"

status=0
# The Ginkgo suites that start a whole local cluster (test/e2e, test/chaos; not their framework,
# whose unit tests run with the others) run one at a time, after the others, so that two clusters
# never compete for the machine with each other and with envtest.
cluster_pkgs=$(go list ./... | grep -E '/test/(e2e|chaos)$' | tr '\n' ' ' || true)
other_pkgs=$(go list ./... | grep -vxF -f <(printf '%s\n' $cluster_pkgs) | tr '\n' ' ')
# Which of their specs run, by Ginkgo label: every end-to-end spec, the fault suite's ledger specs
# and its shortened scenarios (`make chaos` runs the full ones, label "full"). Each suite writes
# its JUnit and JSON reports to $TENANTRY_ARTIFACTS. -v lets go test show Ginkgo's summary of a
# passing suite (Ginkgo itself stays terse: a dot per passing spec).
ginkgo_flags=(-ginkgo.label-filter='e2e || unit || short' -ginkgo.no-color)
show() { tee -a "$log" | grep -E '^(ok|FAIL|---|panic|\s+\S+_test\.go:[0-9]+:)|^Ran [0-9]+ of [0-9]+ Specs|^(SUCCESS|FAIL)! -- |^\s*\[(FAIL|PANICKED|TIMEDOUT|INTERRUPTED)\]' || true; }

echo "==> Unit and integration tests"
go test -count=1 -timeout 30m ${GOTEST_FLAGS:-} $other_pkgs 2>&1 | show || status=1
echo "==> The benchmark harness's unit tests (bench/, a module of its own)"
(cd bench && go test -count=1 -timeout 10m ${GOTEST_FLAGS:-} ./...) 2>&1 | show || status=1
echo "==> End-to-end and fault tests on a local cluster"
rm -f "$TENANTRY_ARTIFACTS"/*.junit.xml "$TENANTRY_ARTIFACTS"/*.ginkgo.json
go test -count=1 -v -timeout 40m -p 1 ${GOTEST_FLAGS:-} $cluster_pkgs "${ginkgo_flags[@]}" 2>&1 | show || status=1
grep -qE '^(FAIL|panic)' "$log" && status=1

echo "==> Fuzz targets, $FUZZTIME each"
hack/fuzz.sh "$FUZZTIME" 2>&1 | tee -a "$log" || status=1

echo
echo "==> Summary"
echo "artifact: $log (the whole output)"
for a in "$TENANTRY_ARTIFACTS"/*.png "$TENANTRY_ARTIFACTS"/*.junit.xml "$TENANTRY_ARTIFACTS"/*.ginkgo.json; do
  [ -f "$a" ] && echo "artifact: $a"
done
summarize "$log"
exit $status
