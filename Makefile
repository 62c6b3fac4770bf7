# exposure-operator Makefile (kubebuilder conventions).

# Tool versions: pinned here and nowhere else.
CONTROLLER_GEN_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION  ?= v2.15.0

export GOTOOLCHAIN := local
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

LOCALBIN  ?= $(CURDIR)/bin
TOOLS     ?= $(LOCALBIN)/tools
CONTROLLER_GEN ?= $(TOOLS)/controller-gen-$(CONTROLLER_GEN_VERSION)
GOLANGCI_LINT  ?= $(TOOLS)/golangci-lint-$(GOLANGCI_LINT_VERSION)

# The control plane the tests run against: built from source by
# hack/controlplane.sh, found by envtest through KUBEBUILDER_ASSETS.
KUBEBUILDER_ASSETS ?= $(LOCALBIN)/k8s/current
export KUBEBUILDER_ASSETS

# kubectl: the one on PATH, else built from source like the control plane.
KUBECTL ?= $(or $(shell command -v kubectl 2>/dev/null),$(LOCALBIN)/k8s/current/kubectl)

IMG ?= ghcr.io/exposure-operator/exposure-operator:v0.1.0
CONTAINER_TOOL ?= docker
GO_TEST_FLAGS ?= -count=1
# make bench: the number of Exposures.
N ?= 1000
FUZZTIME ?= 15s

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRD and RBAC from the API markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd:allowDangerousTypes=false paths="./api/..." paths="./controllers/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: verify-generated
verify-generated: generate manifests ## Fail if generated files are not committed.
	@git diff --exit-code -- api config || { echo "generated files are stale: run 'make generate manifests' and commit" >&2; exit 1; }

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint.
	$(GOLANGCI_LINT) run ./...

.PHONY: controlplane
controlplane: ## Build kube-apiserver and etcd from the Go module proxy into bin/k8s.
	hack/controlplane.sh kube-apiserver etcd

.PHONY: test
test: controlplane ## Unit and integration tests against a real kube-apiserver + etcd.
	@# The benchmark's smoke test (test/bench) runs on the local cluster.
	hack/controlplane.sh e2e >/dev/null
	@echo "make test: integration tests run against $$($(KUBEBUILDER_ASSETS)/kube-apiserver --version) and etcd $$($(KUBEBUILDER_ASSETS)/etcd --version | awk '/etcd Version/ {print $$3}') from $(KUBEBUILDER_ASSETS)"
	go test $(GO_TEST_FLAGS) $$(go list ./... | grep -v -e /test/e2e -e /test/reliability) 2>&1 | tee $(LOCALBIN)/test.log

.PHONY: test-reliability
test-reliability: controlplane ## Fault tests on a local cluster: SIGKILLs while converging, API server restart, leader failover, deletion, tenants.
	hack/controlplane.sh e2e
	go test $(GO_TEST_FLAGS) -v -timeout 20m ./test/reliability/ 2>&1 | tee $(LOCALBIN)/test-reliability.log

.PHONY: bench
bench: controlplane ## Benchmark on a local cluster: N Exposures (N ?= 1000) against a direct-apply baseline; table on stdout, JSON in bench/results/.
	hack/controlplane.sh e2e >/dev/null
	go run ./test/bench/cmd/bench -n $(N) -out bench/results

.PHONY: fuzz
fuzz: ## Short fuzz runs of render and the Multus network-status parser (FUZZTIME each).
	go test ./controllers/render/ -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME)
	go test ./controllers/observe/ -run '^$$' -fuzz '^FuzzParseNetworkStatus$$' -fuzztime $(FUZZTIME)

.PHONY: update-golden
update-golden: ## Rewrite the render golden files from the current code.
	go test ./controllers/render/ -run TestGolden -update

##@ Build

.PHONY: build
build: ## Build the manager binary (static, as the image holds it).
	CGO_ENABLED=0 go build -trimpath -o $(LOCALBIN)/manager ./cmd/manager

.PHONY: docker-build
docker-build: ## Build the manager image IMG with CONTAINER_TOOL (docker or podman).
	$(CONTAINER_TOOL) build -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the manager image IMG.
	$(CONTAINER_TOOL) push $(IMG)

.PHONY: run
run: ## With KUBECONFIG set: run the manager against that cluster. Without: start a local cluster, the operator and a sample, and print its addresses.
	@if [ -n "$$KUBECONFIG" ]; then go run ./cmd/manager; else go run ./hack/localrun; fi

.PHONY: test-e2e
test-e2e: ## End-to-end suite: against KUBECONFIG's cluster, or a local one it starts (real kube-controller-manager, kwok, MetalLB, Traefik).
	hack/controlplane.sh e2e
	go test $(GO_TEST_FLAGS) -timeout 30m -v ./test/e2e/ 2>&1 | tee $(LOCALBIN)/test-e2e.log

##@ Deployment

.PHONY: install
install: manifests $(KUBECTL) ## Install the CRD into the current kubeconfig's cluster.
	$(KUBECTL) apply --server-side --field-manager=exposure-operator-install -f config/crd/bases

.PHONY: uninstall
uninstall: $(KUBECTL) ## Remove the CRD (and with it every Exposure) from the current kubeconfig's cluster.
	$(KUBECTL) delete --ignore-not-found -f config/crd/bases

##@ Tools

$(CONTROLLER_GEN):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(TOOLS)/controller-gen $@

$(LOCALBIN)/k8s/current/kubectl:
	hack/controlplane.sh kubectl

$(GOLANGCI_LINT):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(TOOLS)/golangci-lint $@

##@ Delivery
# The installer and the OLM bundle, built by hack/kustomizebuild with
# sigs.k8s.io/kustomize/api: no kustomize or operator-sdk binary is needed.

# The release: the CSV is exposure-operator.v$(VERSION) and runs $(IMG).
VERSION ?= 0.1.0
# The CSV's createdAt: a fixed setting, never the clock, so that running
# `make bundle` twice gives no diff. Set it when cutting a release.
BUNDLE_CREATED_AT ?= 2026-11-22T00:00:00Z
BUNDLE_CHANNELS ?= stable,candidate
BUNDLE_DEFAULT_CHANNEL ?= stable
# The Kubernetes version the bundle's deprecated-API check targets (the
# CSV's minKubeVersion).
BUNDLE_K8S_VERSION ?= 1.31.0
KUSTOMIZEBUILD ?= go run ./hack/kustomizebuild
BUNDLE_FLAGS = -version $(VERSION) -image $(IMG) -created-at $(BUNDLE_CREATED_AT) -channels $(BUNDLE_CHANNELS) -default-channel $(BUNDLE_DEFAULT_CHANNEL)
# undeploy: set to true to ignore objects that are already gone.
ignore-not-found ?= false
# undeploy: how long to wait for the operator to finalize the Exposures.
UNDEPLOY_TIMEOUT ?= 5m

.PHONY: build-installer
build-installer: manifests ## Write dist/install.yaml (CRD, RBAC, manager, policy, metrics Service) from config/default for IMG.
	$(KUSTOMIZEBUILD) build -image $(IMG) -o dist/install.yaml config/default

.PHONY: deploy
deploy: manifests $(KUBECTL) ## Install the operator (config/default, image IMG) into the current kubeconfig's cluster.
	$(KUSTOMIZEBUILD) build -image $(IMG) config/default | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: $(KUBECTL) ## Remove the operator, its CRD and with it every Exposure from the current kubeconfig's cluster.
	@# Exposures first, while the operator still runs to finalize them
	@# (operator-made MetalLB pools live outside their namespace).
	if $(KUBECTL) get crd exposures.exposure.dev >/dev/null 2>&1; then \
		$(KUBECTL) delete exposures.exposure.dev --all --all-namespaces --wait --timeout=$(UNDEPLOY_TIMEOUT); \
	fi
	$(KUSTOMIZEBUILD) build -image $(IMG) config/default | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: bundle
bundle: manifests ## Generate the OLM bundle (bundle/, bundle.Dockerfile) from config/manifests and the samples, then validate it.
	$(KUSTOMIZEBUILD) bundle $(BUNDLE_FLAGS)
	$(KUSTOMIZEBUILD) validate -k8s-version $(BUNDLE_K8S_VERSION) bundle

.PHONY: verify-bundle
verify-bundle: ## Fail if bundle/ or dist/install.yaml differ from a fresh build, or the bundle has any validation error or warning.
	$(KUSTOMIZEBUILD) bundle -check $(BUNDLE_FLAGS)
	$(KUSTOMIZEBUILD) build -image $(IMG) config/default | diff -u dist/install.yaml - || { echo "dist/install.yaml is stale: run 'make build-installer' and commit" >&2; exit 1; }
	$(KUSTOMIZEBUILD) validate -k8s-version $(BUNDLE_K8S_VERSION) bundle
