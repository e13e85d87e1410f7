#!/usr/bin/env bash
# Copyright 2026 The Tenantry Authors.
# SPDX-License-Identifier: Apache-2.0
#
# sync-chart.sh copies the generated CRDs into the Helm chart so that config/ and the chart come from
# one source of truth; `make verify` fails when the two drift.
set -euo pipefail
cd "$(dirname "$0")/.."
chart=charts/tenantry
[ -d "$chart" ] || exit 0
mkdir -p "$chart/crds"
rm -f "$chart"/crds/*.yaml
cp config/crd/bases/*.yaml "$chart/crds/"
