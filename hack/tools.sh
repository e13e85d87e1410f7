#!/usr/bin/env bash
# Copyright 2026 The Tenantry Authors.
# SPDX-License-Identifier: Apache-2.0
#
# tools.sh provides every binary the project's builds and tests use, pinned here and only here.
# Everything lands in bin/ (git-ignored), keyed by version, and is reused afterwards.
#
# The Kubernetes control-plane binaries are built from the Go module proxy: a throwaway module
# requires k8s.io/kubernetes and replaces each k8s.io staging module with its matching v0.x release,
# and the commands are built with their version stamped in k8s.io/component-base/version.
# etcd is built the same way from go.etcd.io/etcd/server/v3. A download through setup-envtest is
# tried first only when ENVTEST_SOURCE=download or when ENVTEST_SOURCE=auto finds the network reachable.
#
# Usage: hack/tools.sh <tool>...   (prints the path of what it provided on the last line)
#   envtest        kube-apiserver, etcd, kubectl for envtest; prints the KUBEBUILDER_ASSETS directory
#   cluster        envtest binaries plus kube-controller-manager, kube-scheduler, kwok, kwokctl
#   controller-gen | helm | golangci-lint | kwok | setup-envtest
#   versions       prints the pinned versions
set -euo pipefail

KUBERNETES_VERSION=${KUBERNETES_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.7.2}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
CONTROLLER_TOOLS_VERSION=${CONTROLLER_TOOLS_VERSION:-v0.23.0}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
GOLANGCI_LINT_VERSION=${GOLANGCI_LINT_VERSION:-v2.15.0}
SETUP_ENVTEST_VERSION=${SETUP_ENVTEST_VERSION:-release-0.25}
ENVTEST_SOURCE=${ENVTEST_SOURCE:-auto}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${LOCALBIN:-$ROOT/bin}
mkdir -p "$BIN"

log() { echo "tools: $*" >&2; }

# with_progress runs a long command and prints a line every 30 seconds so nobody wonders if it hung.
with_progress() {
  local what=$1; shift
  local start=$SECONDS
  "$@" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && log "still building $what ($((SECONDS - start))s so far)"
  done
  wait "$pid"
}

# go_tool installs a Go command at a pinned version into bin/<name>-<version>, linked as bin/<name>.
go_tool() {
  local name=$1 pkg=$2 version=$3
  local target="$BIN/$name-$version"
  if [ ! -x "$target" ]; then
    log "installing $name $version"
    local tmp; tmp=$(mktemp -d)
    GOBIN="$tmp" with_progress "$name" go install "$pkg@$version"
    mv "$tmp/$(basename "${pkg%%/v[0-9]*}" | sed 's/@.*//')" "$target" 2>/dev/null || mv "$tmp"/* "$target"
    rm -rf "$tmp"
  fi
  ln -sf "$(basename "$target")" "$BIN/$name"
  echo "$target"
}

k8s_dir() { echo "$BIN/k8s/$KUBERNETES_VERSION-linux-amd64"; }

# k8s_ldflags stamps the version that `--version` and the /version endpoint report.
k8s_ldflags() {
  local v=${KUBERNETES_VERSION#v} major minor
  major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
  local f=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    f+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "-s -w$f"
}

# k8s_module writes the throwaway module that builds Kubernetes commands from the module proxy.
k8s_module() {
  local dir=$1
  mkdir -p "$dir"
  local gomod
  gomod=$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  local staging_version="v0.${KUBERNETES_VERSION#v1.}"
  {
    echo "module tenantry.local/k8sbuild"
    echo
    echo "go $(go env GOVERSION | sed 's/^go//; s/\([0-9]*\.[0-9]*\).*/\1/')"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#replace \1 => \1 '"$staging_version"'#p' "$gomod"
  } >"$dir/go.mod"
  cat >"$dir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  (cd "$dir" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true)
  (cd "$dir" && GOFLAGS=-mod=mod go get "k8s.io/kubernetes@$KUBERNETES_VERSION" >/dev/null)
}

build_k8s() {
  local out; out=$(k8s_dir)
  local want=("$@") missing=()
  for c in "${want[@]}"; do [ -x "$out/$c" ] || missing+=("$c"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  mkdir -p "$out"
  local work="$BIN/k8s/.build-$KUBERNETES_VERSION"
  log "building ${missing[*]} $KUBERNETES_VERSION from source (first time only; ~15 minutes on 2 cores)"
  k8s_module "$work"
  local pkgs=()
  for c in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  (cd "$work" && CGO_ENABLED=0 GOFLAGS=-mod=mod with_progress "${missing[*]}" \
    go build -trimpath -ldflags "$(k8s_ldflags)" -o "$out/" "${pkgs[@]}")
}

build_etcd() {
  local out; out=$(k8s_dir)
  [ -x "$out/etcd" ] && return 0
  mkdir -p "$out"
  local work="$BIN/k8s/.build-etcd-$ETCD_VERSION"
  mkdir -p "$work"
  log "building etcd $ETCD_VERSION from source (first time only)"
  cat >"$work/go.mod" <<MOD
module tenantry.local/etcdbuild

go $(go env GOVERSION | sed 's/^go//; s/\([0-9]*\.[0-9]*\).*/\1/')

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
  cat >"$work/main.go" <<'GO'
// Command etcd is etcd's own main, built from go.etcd.io/etcd/server/v3.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$work" && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 && CGO_ENABLED=0 GOFLAGS=-mod=mod \
    with_progress etcd go build -trimpath -ldflags "-s -w" -o "$out/etcd" .)
}

# try_download fetches the envtest binaries with setup-envtest, giving up quickly without a network.
try_download() {
  case "$ENVTEST_SOURCE" in
    build) return 1 ;;
    auto) timeout 5 bash -c 'exec 3<>/dev/tcp/github.com/443' 2>/dev/null || return 1 ;;
  esac
  local out; out=$(k8s_dir)
  local se; se=$(go_tool setup-envtest sigs.k8s.io/controller-runtime/tools/setup-envtest "$SETUP_ENVTEST_VERSION") || return 1
  local dir
  dir=$(timeout 120 "$se" use "${KUBERNETES_VERSION#v}" --bin-dir "$BIN/k8s/download" -p path 2>/dev/null) || return 1
  mkdir -p "$out"
  for c in kube-apiserver etcd kubectl; do [ -x "$out/$c" ] || cp "$dir/$c" "$out/$c"; done
}

envtest() {
  local out; out=$(k8s_dir)
  if [ ! -x "$out/kube-apiserver" ] || [ ! -x "$out/etcd" ] || [ ! -x "$out/kubectl" ]; then
    try_download || { build_k8s kube-apiserver kubectl; build_etcd; }
  fi
  echo "$out"
}

cluster() {
  envtest >/dev/null
  build_k8s kube-apiserver kube-controller-manager kube-scheduler kubectl
  build_etcd
  local out; out=$(k8s_dir)
  for c in kwok kwokctl; do
    [ -x "$out/$c" ] || cp "$(go_tool "$c" "sigs.k8s.io/kwok/cmd/$c" "$KWOK_VERSION")" "$out/$c"
  done
  echo "$out"
}

for t in "$@"; do
  case "$t" in
    envtest) envtest ;;
    cluster) cluster ;;
    controller-gen) go_tool controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen "$CONTROLLER_TOOLS_VERSION" ;;
    helm) go_tool helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" ;;
    golangci-lint) go_tool golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint "$GOLANGCI_LINT_VERSION" ;;
    kwok) go_tool kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION"; go_tool kwokctl sigs.k8s.io/kwok/cmd/kwokctl "$KWOK_VERSION" ;;
    setup-envtest) go_tool setup-envtest sigs.k8s.io/controller-runtime/tools/setup-envtest "$SETUP_ENVTEST_VERSION" ;;
    versions) printf 'kubernetes %s\netcd %s\nkwok %s\ncontroller-tools %s\nhelm %s\ngolangci-lint %s\n' \
      "$KUBERNETES_VERSION" "$ETCD_VERSION" "$KWOK_VERSION" "$CONTROLLER_TOOLS_VERSION" "$HELM_VERSION" "$GOLANGCI_LINT_VERSION" ;;
    *) echo "tools: unknown tool $t" >&2; exit 2 ;;
  esac
done
