# Tenantry — build, test and run everything from here. Every tool comes from hack/tools.sh into bin/.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

TOOLS := hack/tools.sh
CONTROLLER_GEN = $(shell $(TOOLS) controller-gen | tail -1)
GOLANGCI_LINT = $(shell $(TOOLS) golangci-lint | tail -1)
HELM = $(shell $(TOOLS) helm | tail -1)

# FUZZTIME is how long each fuzz target runs in `make test` (the issue asks for at least 30s each).
FUZZTIME ?= 30s
# GOTEST_FLAGS are passed to every go test invocation.
GOTEST_FLAGS ?=

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate CRDs and RBAC (config/ and the chart) from the Go markers.
	$(CONTROLLER_GEN) crd paths="./api/..." output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=tenantry-manager paths="./controllers/..." output:rbac:dir=config/rbac
	$(CONTROLLER_GEN) rbac:roleName=tenantry-webhookbridge paths="./webhookbridge" output:rbac:dir=config/rbac/bridge
	@mv config/rbac/bridge/role.yaml config/rbac/bridge_role.yaml && rmdir config/rbac/bridge
	@hack/sync-chart.sh

.PHONY: generate
generate: ## Generate deepcopy code from the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## gofmt the tree.
	gofmt -s -w $$(git ls-files '*.go')

.PHONY: tidy
tidy: ## go mod tidy the operator's module and the benchmark's.
	go mod tidy
	cd bench && go mod tidy

.PHONY: vet
vet: ## go vet.
	go vet ./...

.PHONY: lint
lint: ## golangci-lint with the project's configuration.
	$(GOLANGCI_LINT) run ./...

.PHONY: helm-lint
helm-lint: ## helm lint --strict the chart with each of its ci/*-values.yaml.
	@for f in charts/tenantry/ci/*-values.yaml; do echo "helm lint --strict -f $$f"; $(HELM) lint --strict charts/tenantry -f "$$f"; done

.PHONY: verify
verify: generate manifests tidy fmt vet lint ## Regenerate everything, tidy, vet and lint; fail if the tree changed.
	@if [ -n "$$(git status --porcelain)" ]; then \
		echo "verify: generated or formatted files are out of date:"; git status --porcelain; git --no-pager diff --stat; exit 1; fi

##@ Test

.PHONY: test
test: ## Run every test: unit, fuzz (FUZZTIME each), chart, integration against a real API server, end-to-end on a local cluster, faults (shortened).
	@hack/test.sh

.PHONY: test-unit
test-unit: ## Unit tests only (no API server).
	go test $(GOTEST_FLAGS) -short ./...

# The end-to-end and fault suites are Ginkgo suites run by go test. FOCUS runs only the specs whose
# text matches this regular expression (-ginkgo.focus), e.g. make chaos FOCUS="API server outage";
# LABELS narrows the specs further by label (-ginkgo.label-filter, combined with the target's own).
FOCUS ?=
LABELS ?=
ginkgo_select = $(if $(FOCUS),-ginkgo.focus="$(FOCUS)") -ginkgo.label-filter="$(1)$(if $(LABELS), && ($(LABELS)))"

.PHONY: test-e2e
test-e2e: ## End-to-end suite only (test/e2e, label e2e): a kwok cluster, the Helm chart, tenants driven by signed marketplace calls.
	go test -count=1 -v -timeout 20m $(GOTEST_FLAGS) ./test/e2e/ $(call ginkgo_select,e2e)

# CHAOS_FUZZTIME is how long each fuzz target runs after the full fault-injection suite.
CHAOS_FUZZTIME ?= 5m

.PHONY: chaos
chaos: ## Full fault scenarios (test/chaos, label full: kills, leader election, API server/etcd outages, storm, upgrade, replay), then, without FOCUS, fuzz CHAOS_FUZZTIME each.
	@status=0; go test -count=1 -v -timeout 4h $(GOTEST_FLAGS) ./test/chaos/ $(call ginkgo_select,full) -ginkgo.v || status=1; \
		$(if $(FOCUS),,hack/fuzz.sh $(CHAOS_FUZZTIME) || status=1;) exit $$status

.PHONY: envtest
envtest: ## Provide kube-apiserver, etcd and kubectl in bin/ (built from source the first time).
	@$(TOOLS) envtest

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME.
	@hack/fuzz.sh $(FUZZTIME)

##@ Local cluster

# CLUSTER_NAME is the cluster cluster-up and cluster-down manage; KEEP=1 leaves the demo running.
CLUSTER_NAME ?= tenantry
KEEP ?=

.PHONY: demo
demo: ## Local cluster, Helm chart, one tenant bought → frozen → upgraded → released (KEEP=1 keeps it up).
	go run ./hack/demo $(if $(filter 1 true yes,$(KEEP)),--keep)

.PHONY: demo-down
demo-down: ## Stop what `make demo KEEP=1` left running and delete its cluster.
	go run ./hack/demo down

.PHONY: cluster-up
cluster-up: ## Start (or reuse) the kwok cluster CLUSTER_NAME; `hack/cluster.sh env` sets up a shell for it.
	@hack/cluster.sh up --name $(CLUSTER_NAME)

.PHONY: cluster-down
cluster-down: ## Delete the kwok cluster CLUSTER_NAME.
	@hack/cluster.sh down --name $(CLUSTER_NAME)

##@ Benchmarks

# BENCH_FLAGS are passed to the harness (bench/, its own Go module); `cd bench && go run . -h` lists them.
BENCH_FLAGS ?=

.PHONY: bench
bench: ## Full benchmark on local kwok clusters (N=1,000 and 5,000, 10,000 tenants; about 2 hours on 2 cores); report in bench/results/.
	cd bench && go run . $(BENCH_FLAGS)

.PHONY: bench-quick
bench-quick: ## The same scenarios with small N and short phases (about 7 minutes); report in bench/results/.
	cd bench && go run . -quick $(BENCH_FLAGS)

##@ Build

.PHONY: krew
krew: ## Release archives and the krew manifest of the kubectl plugin into dist/ (VERSION=v1.2.3).
	hack/krew.sh $(VERSION)

.PHONY: build
build: ## Build the binaries into bin/ with the flags the Dockerfile uses.
	CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o bin/ ./cmd/...

.PHONY: run
run: ## Run the operator against the current kubeconfig.
	go run ./cmd/manager

.PHONY: install
install: manifests ## Install the CRDs into the current kubeconfig's cluster.
	kubectl apply --server-side -f config/crd/bases
