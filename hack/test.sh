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
# It ends with go test's own summary lines, one per package and fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-30s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

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

status=0
# Packages that start a whole local cluster run one at a time, after the others, so that two
# clusters never compete for the machine with each other and with envtest.
cluster_pkgs=$(go list ./... | grep -E '/test/(e2e|chaos)(/|$)' | tr '\n' ' ' || true)
other_pkgs=$(go list ./... | grep -vxF -f <(printf '%s\n' $cluster_pkgs) | tr '\n' ' ')
show() { tee -a "$log" | grep -E '^(ok|FAIL|---|panic|\s+\S+_test\.go:[0-9]+:)' || true; }

echo "==> Unit and integration tests"
go test -count=1 -timeout 30m ${GOTEST_FLAGS:-} $other_pkgs 2>&1 | show || status=1
echo "==> The benchmark harness's unit tests (bench/, a module of its own)"
(cd bench && go test -count=1 -timeout 10m ${GOTEST_FLAGS:-} ./...) 2>&1 | show || status=1
echo "==> End-to-end and fault tests on a local cluster"
go test -count=1 -timeout 40m -p 1 ${GOTEST_FLAGS:-} $cluster_pkgs 2>&1 | show || status=1
grep -qE '^(FAIL|panic)' "$log" && status=1

echo "==> Fuzz targets, $FUZZTIME each"
hack/fuzz.sh "$FUZZTIME" 2>&1 | tee -a "$log" || status=1

echo
echo "==> Summary"
grep -E '^(ok|FAIL|---)' "$log" | grep -v -- '--- PASS' || true
for a in "$TENANTRY_ARTIFACTS"/*.png; do [ -f "$a" ] && echo "artifact: $a"; done
passed=$(grep -cE '^ok ' "$log" || true)
failed=$(grep -cE '^FAIL\s' "$log" || true)
echo "$passed passed, $failed failed"
exit $status
