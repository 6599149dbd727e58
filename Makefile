# RAVE Station. `make run` builds and starts the workstation; `make test`
# runs go vet and every test. Both install missing system packages first.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# deps prints a folder to put first on PATH when it had to fetch a Go
# toolchain; it is empty when the system Go is new enough.
GOPATHX := $(shell bash .ci/deps.sh)
export PATH := $(if $(GOPATHX),$(GOPATHX):,)$(PATH)
GO ?= go
RAVE_BIN ?= $(shell $(GO) env GOPATH)/bin/rave
ARGS ?=

.PHONY: run build test vet race bench bench-kernels lint fixtures clean

run: build
	@"$(RAVE_BIN)" $(ARGS)

build:
	$(GO) build -o "$(RAVE_BIN)" .

test: vet
	$(GO) test ./...

vet:
	$(GO) vet ./...

race:
	$(GO) test -race -short ./...

# bench runs the speed benchmarks (not part of `make test`).
bench:
	$(GO) test -run '^$$' -bench 'Sgemm|Conv1d' -benchtime 2s ./core/...

bench-kernels: build
	"$(RAVE_BIN)" bench kernels

clean:
	$(GO) clean -testcache
