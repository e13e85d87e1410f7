#!/usr/bin/env bash
# Copyright 2026 The Tenantry Authors.
# SPDX-License-Identifier: Apache-2.0
#
# cluster.sh runs a local Kubernetes cluster for the demo and the end-to-end tests: a real
# kube-apiserver, etcd, kube-controller-manager and kube-scheduler as local processes, started by
# kwokctl, and kwok nodes on which Pods are scheduled and reported Running without containers.
# The binaries come from `hack/tools.sh cluster` (built from source once, cached in bin/); kwokctl
# keeps its state under $KWOK_WORKDIR (default bin/clusters) and the cluster's kubeconfig is a file of
# its own, so ~/.kube/config is never read or written. Every component listens on 127.0.0.1 only
# (hack/kwokctl.yaml); a cluster created before that was set keeps its addresses until it is
# deleted (down) and created again. kwok runs its default stages plus one: pods of the image
# registry.example.com/tenantry/never-ready:1.0 run but never become Ready
# (hack/kwok/stages-never-ready.yaml; likewise only for clusters created since).
#
# Usage: hack/cluster.sh up|down|kubeconfig|env|status|list [--name NAME] [--nodes N]
#   up          create the cluster, or start it again if it exists, and scale it to N kwok nodes
#               (default 3); prints the kubeconfig path on the last line
#   down        delete the cluster and its kubeconfig (nothing to do when it does not exist)
#   kubeconfig  print the kubeconfig path
#   env         print shell lines setting KUBECONFIG and putting kubectl on PATH:
#               eval "$(hack/cluster.sh env)"
#   status      say whether the cluster exists and answers
#   list        print the names of every cluster under $KWOK_WORKDIR
# NAME defaults to $CLUSTER_NAME, else "tenantry".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export KWOK_WORKDIR=${KWOK_WORKDIR:-$ROOT/bin/clusters}

usage() { sed -n '/^# Usage:/,/^# NAME/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 1 ] || usage
cmd=$1; shift
name=${CLUSTER_NAME:-tenantry}
nodes=${CLUSTER_NODES:-3}
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=${2:?--name needs a value}; shift 2 ;;
    --name=*) name=${1#--name=}; shift ;;
    --nodes) nodes=${2:?--nodes needs a value}; shift 2 ;;
    --nodes=*) nodes=${1#--nodes=}; shift ;;
    -h|--help) usage ;;
    *) echo "cluster: unknown argument $1" >&2; usage ;;
  esac
done
[[ $name =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || { echo "cluster: --name must be a DNS label" >&2; exit 2; }
[[ $nodes =~ ^[0-9]+$ ]] || { echo "cluster: --nodes must be a number" >&2; exit 2; }

mkdir -p "$KWOK_WORKDIR"
kubeconfig=$KWOK_WORKDIR/$name.kubeconfig
logfile=$KWOK_WORKDIR/$name.log

log() { echo "cluster: $*" >&2; }

# binaries provides the version-stamped control-plane binaries, kubectl, kwok and kwokctl.
binaries() { "$ROOT/hack/tools.sh" cluster | tail -1; }

# quiet runs a kwokctl command with its JSON log going to $logfile, shown only when it fails.
quiet() {
  if ! "$@" >>"$logfile" 2>&1; then
    log "'$*' failed; its log ($logfile) ends with:"
    tail -n 30 "$logfile" >&2
    return 1
  fi
}

# grep reads the whole list (no -q): an early exit would fail the pipeline with SIGPIPE.
exists() { "$1/kwokctl" get clusters 2>/dev/null | grep -x "$name" >/dev/null; }

answers() { [ -f "$kubeconfig" ] && "$1/kubectl" --kubeconfig "$kubeconfig" get --raw /readyz >/dev/null 2>&1; }

up() {
  local bin; bin=$(binaries)
  : >"$logfile"
  if exists "$bin" && answers "$bin"; then
    log "reusing cluster $name"
  else
    # create also starts an existing cluster whose processes are gone (after a reboot).
    log "starting cluster $name (kube-apiserver, etcd, kube-controller-manager, kube-scheduler, kwok)"
    quiet "$bin/kwokctl" --config "$ROOT/hack/kwokctl.yaml" --config "$ROOT/hack/kwok/stages-never-ready.yaml" create cluster --name "$name" --runtime binary \
      --kube-apiserver-binary "$bin/kube-apiserver" \
      --etcd-binary "$bin/etcd" \
      --kube-controller-manager-binary "$bin/kube-controller-manager" \
      --kube-scheduler-binary "$bin/kube-scheduler" \
      --kwok-controller-binary "$bin/kwok" \
      --kubeconfig "$kubeconfig" \
      --wait 2m
    # An existing cluster whose kubeconfig file was removed gets it written again.
    [ -s "$kubeconfig" ] || "$bin/kwokctl" get kubeconfig --name "$name" >"$kubeconfig"
    chmod 600 "$kubeconfig"
  fi
  quiet "$bin/kwokctl" scale node --name "$name" --replicas "$nodes"
  if [ "$nodes" -gt 0 ]; then
    "$bin/kubectl" --kubeconfig "$kubeconfig" wait --for=condition=Ready node --all --timeout=2m >/dev/null
  fi
  log "cluster $name is up with $nodes kwok nodes; kubeconfig: $kubeconfig"
  echo "$kubeconfig"
}

down() {
  local bin; bin=$(binaries)
  if exists "$bin"; then
    log "deleting cluster $name"
    : >"$logfile"
    quiet "$bin/kwokctl" delete cluster --name "$name" --kubeconfig "$kubeconfig"
  fi
  rm -f "$kubeconfig" "$logfile"
}

case "$cmd" in
  up) up ;;
  down) down ;;
  kubeconfig) echo "$kubeconfig" ;;
  env)
    bin=$(binaries)
    printf 'export KUBECONFIG=%q\nexport PATH=%q:"$PATH"\n' "$kubeconfig" "$bin"
    ;;
  status)
    bin=$(binaries)
    if ! exists "$bin"; then echo "cluster $name does not exist"; exit 1; fi
    if answers "$bin"; then echo "cluster $name is running; kubeconfig: $kubeconfig"; else echo "cluster $name exists but does not answer (hack/cluster.sh up --name $name starts it)"; exit 1; fi
    ;;
  list) "$(binaries)/kwokctl" get clusters ;;
  *) usage ;;
esac
