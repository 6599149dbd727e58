# RAVE Station. `make run` builds and starts the workstation; `make test`
# runs go vet and every test, the concurrent packages again under the race
# detector, the core tests again on arm64 under emulation, and the Windows
# and macOS cross-builds. Both install missing system packages first.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# deps.sh installs what is missing and prints a folder to put first on PATH
# when it had to fetch a Go toolchain (empty when the system Go is new
# enough). $(shell) ignores a command's exit status, so a failure is
# turned into a word that stops make here; deps.sh has said why on stderr.
DEPS_OUT := $(shell bash .ci/deps.sh || echo DEPS-FAILED)
ifneq ($(filter DEPS-FAILED,$(DEPS_OUT)),)
$(error .ci/deps.sh could not install what the build needs (its message is above); fix that and run make again)
endif
export PATH := $(if $(DEPS_OUT),$(DEPS_OUT):,)$(PATH)
GO ?= go
RAVE_BIN ?= $(shell $(GO) env GOPATH)/bin/rave
ARGS ?=
# CROSS lists the GOOS/GOARCH pairs test-cross builds and vets without cgo.
CROSS ?= windows/amd64 darwin/arm64

.PHONY: run build test vet test-native test-race test-arm64 test-cross test-interop race fuzz bench bench-kernels lint fixtures clean

run: build
	@"$(RAVE_BIN)" $(ARGS)

build:
	$(GO) build -o "$(RAVE_BIN)" .

test: vet test-native test-race test-arm64 test-cross

vet:
	$(GO) vet ./...

# RAVE_TEST_TOOLS=required: a test that needs a tool .ci/deps.sh installs
# (sox) fails rather than skips when the tool is missing. The tests that
# need PyTorch (TestTorchJIT…) are test-interop's.
test-native:
	RAVE_TEST_TOOLS=required $(GO) test -skip '^TestTorchJIT' ./...

# test-interop checks the TorchScript files against the real runtime:
# .ci/deps-torch.sh installs Debian's python3-torch (PyTorch 1.13) when it
# is missing, then core/interop's tests run with RAVE_TEST_TOOLS=required,
# so that the ones loading our exports with torch.jit.load fail rather
# than skip without it.
test-interop:
	bash .ci/deps-torch.sh
	RAVE_TEST_TOOLS=required $(GO) test -count=1 ./core/interop/...

# test-race runs, in short mode under the race detector, the packages whose
# goroutines meet (playback and the live track, training jobs and their
# watchers, the TUI, the split training step, the unpickler's time limit,
# the CLI) and, of the numeric packages, only the tests that run their
# kernels on several threads (RACE_KERNEL_TESTS): the race detector makes
# the rest 5–10 times slower. `make race` runs every package.
RACE_PKGS ?= . ./audio/... ./sessions/... ./tui/... ./train/... ./core/internal/par ./core/interop/... ./core/bench
RACE_KERNEL_PKGS ?= ./core ./core/dsp ./core/stream ./core/internal/sgemm ./core/internal/panel
RACE_KERNEL_TESTS ?= Concurrent|Threads|Parts|PartColumns|Deterministic

test-race:
	$(GO) test -race -short $(RACE_PKGS)
	$(GO) test -race -short -run '$(RACE_KERNEL_TESTS)' $(RACE_KERNEL_PKGS)

# test-arm64 runs core's kernel and model tests cross-compiled for arm64
# under qemu-aarch64-static, in short mode (.ci/test-arm64.sh).
test-arm64:
	GO="$(GO)" bash .ci/test-arm64.sh

# test-cross builds rave and vets every package for each pair of CROSS,
# with CGO_ENABLED=0 (how a Windows or macOS binary is built from here).
test-cross:
	@for t in $(CROSS); do \
		echo "cross: $$t"; \
		GOOS=$${t%/*} GOARCH=$${t#*/} CGO_ENABLED=0 $(GO) build -o /dev/null . ; \
		GOOS=$${t%/*} GOARCH=$${t#*/} CGO_ENABLED=0 $(GO) vet ./... ; \
	done

race:
	$(GO) test -race -short ./...

# fuzz runs every fuzz target of every package for FUZZTIME each (not part
# of `make test`, which runs their seed corpora as plain tests). The
# targets that write files stall in Go's default 60 s minimisation of each
# new input, hence -fuzzminimizetime 1s.
FUZZTIME ?= 20s
fuzz:
	@for p in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz' || true); do \
			echo "fuzz: $$p $$f ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s $$p || exit 1; \
		done; \
	done

# bench runs the speed benchmarks (not part of `make test`).
bench:
	$(GO) test -run '^$$' -bench 'Sgemm|Conv1d' -benchtime 2s ./core/...
	$(GO) test -run '^$$' -bench LiveDemoBlock ./tui/

bench-kernels: build
	"$(RAVE_BIN)" bench kernels

clean:
	$(GO) clean -testcache
