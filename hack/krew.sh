#!/usr/bin/env bash
# Copyright 2026 The Tenantry Authors.
# SPDX-License-Identifier: Apache-2.0
#
# krew.sh VERSION builds the kubectl plugin's release archives and its krew manifest:
#
#   dist/kubectl-tenantry_<VERSION>_<os>_<arch>.tar.gz   one per platform, the binary inside
#   dist/tenantry.yaml                                    the krew Plugin manifest, with each
#                                                         archive's URL and sha256
#
# Install from the manifest with `kubectl krew install --manifest=dist/tenantry.yaml
# --archive=dist/kubectl-tenantry_<VERSION>_<os>_<arch>.tar.gz`, or publish the archives at
# KREW_BASE_URL (default: the GitHub release of VERSION) and submit the manifest to an index.
# KREW_PLATFORMS narrows the platforms (e.g. "linux/amd64"); DIST changes the output directory.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:?usage: hack/krew.sh VERSION (e.g. v0.1.0)}
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || { echo "krew.sh: VERSION must look like v1.2.3, not $version" >&2; exit 2; }
platforms=${KREW_PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64}
base=${KREW_BASE_URL:-https://github.com/tenantry/tenantry/releases/download/$version}
dist=${DIST:-dist}
mkdir -p "$dist"

entries=""
for p in $platforms; do
  os=${p%/*} arch=${p#*/}
  bin=kubectl-tenantry
  [ "$os" = windows ] && bin=kubectl-tenantry.exe
  work=$(mktemp -d)
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags="-s -w" -o "$work/$bin" ./cmd/kubectl-tenantry
  archive=kubectl-tenantry_${version}_${os}_${arch}.tar.gz
  # Reproducible: fixed owner, mode and time, so the sha256 depends on the binary only.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00Z' -C "$work" -cf - "$bin" | gzip -n > "$dist/$archive"
  rm -rf "$work"
  sum=$(sha256sum "$dist/$archive" | cut -d' ' -f1)
  entries+="  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $base/$archive
    sha256: $sum
    bin: $bin
"
done

cat > "$dist/tenantry.yaml" <<MANIFEST
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: tenantry
spec:
  version: $version
  homepage: https://github.com/tenantry/tenantry
  shortDescription: Inspect Tenantry marketplace tenants and check an installation
  description: |
    kubectl tenantry shows a Tenantry fleet at a glance (status: tenants by state,
    SKU and lifecycle, expiring, stalled, ELB listener headroom), one tenant's story
    (describe: the marketplace calls that changed it, conditions, children, URLs,
    pending changes) and checks an installation (doctor: CRDs, operator and bridge,
    plans, ingress classes, TLS sources, cert-manager issuers, listener capacity,
    pull secrets, NetworkPolicy enforcement). -o json for scripts.
  platforms:
${entries%$'\n'}
MANIFEST
echo "krew.sh: wrote $dist/tenantry.yaml and $(wc -w <<<"$platforms") archive(s)"
