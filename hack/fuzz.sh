#!/usr/bin/env bash
# Copyright 2026 The Tenantry Authors.
# SPDX-License-Identifier: Apache-2.0
#
# fuzz.sh runs every fuzz target of the module for the given time (default 30s) each.
# A crasher is saved under the package's testdata/fuzz and becomes a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-30s}
status=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  targets=$(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' "$dir"/*_test.go 2>/dev/null | sed -E 's/^func (Fuzz[A-Za-z0-9_]+).*/\1/' || true)
  for t in $targets; do
    echo "fuzz: $pkg $t ($fuzztime)"
    go test -run '^$' -fuzz "^${t}\$" -fuzztime "$fuzztime" -parallel 2 "$pkg" 2>&1 | grep -vE '^fuzz: elapsed' || status=1
  done
done
exit $status
