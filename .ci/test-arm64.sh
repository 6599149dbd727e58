#!/usr/bin/env bash
# Runs core's tests on arm64 under emulation: each package's test binary is
# cross-compiled for linux/arm64 (GOARCH=arm64 go test -c, no cgo) and run
# by qemu-aarch64-static in short mode from the package's folder (tests find
# ../shared/fixtures from there, as under go test). The kernel and model
# packages (ARM64_PKGS) run on the path the CPU picks (neon); the kernel
# packages (ARM64_GENERIC_PKGS) run again with RAVE_KERNELS=generic.
# Packages without tests are skipped, and whatever tests exist run, so it
# works before and after arm64 kernels land. Emulation is 10–40 times
# slower than the host: the other core packages (dsp, prior, ...) hold no
# architecture-specific code and are left to the native run.
#
#   .ci/test-arm64.sh
#   ARM64_PKGS=./core/internal/sgemm ARM64_GENERIC_PKGS= .ci/test-arm64.sh
set -euo pipefail
cd "$(dirname "$0")/.."

qemu=$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)
if [[ -z $qemu ]]; then
	echo "test-arm64: qemu-aarch64-static not found; install qemu-user-static (bash .ci/deps.sh does)" >&2
	exit 1
fi
GO=${GO:-go}
read -r -a pkgs <<<"${ARM64_PKGS-./core ./core/internal/... ./core/model ./core/stream}"
read -r -a generic <<<"${ARM64_GENERIC_PKGS-./core/internal/...}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# tested lists "import-path folder" for each package with tests among $@.
tested() {
	(($#)) || return 0
	GOOS=linux GOARCH=arm64 "$GO" list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' "$@"
}

began=$SECONDS
mapfile -t runs < <(tested "${pkgs[@]}" | sed 's/^/default /'; tested "${generic[@]}" | sed 's/^/generic /')
declare -A built=()
for run in "${runs[@]}"; do
	read -r _ pkg _ <<<"$run"
	[[ -n ${built[$pkg]-} ]] && continue
	bin="$out/$(echo "$pkg" | tr / _).test"
	if ! GOOS=linux GOARCH=arm64 CGO_ENABLED=0 "$GO" test -c -o "$bin" "$pkg"; then
		echo "test-arm64: building the arm64 tests of $pkg failed" >&2
		exit 1
	fi
	built[$pkg]=$bin
done
echo "test-arm64: built ${#built[@]} test binaries in $((SECONDS - began)) s" >&2

failed=()
for run in "${runs[@]}"; do
	read -r kernels pkg dir <<<"$run"
	t0=$SECONDS
	if [[ $kernels == default ]]; then
		env=(env -u RAVE_KERNELS)
		label="${dir#"$PWD"/} (default path)"
	else
		env=(env RAVE_KERNELS="$kernels")
		label="${dir#"$PWD"/} (RAVE_KERNELS=$kernels)"
	fi
	if (cd "$dir" && "${env[@]}" "$qemu" "${built[$pkg]}" -test.short -test.timeout 8m >"$out/log" 2>&1); then
		echo "ok    $label $((SECONDS - t0)) s" >&2
	else
		echo "FAIL  $label $((SECONDS - t0)) s" >&2
		tail -n 40 "$out/log" >&2
		failed+=("$label")
	fi
done
echo "test-arm64: $((SECONDS - began)) s in all" >&2
if ((${#failed[@]})); then
	printf 'test-arm64: failed: %s\n' "${failed[@]}" >&2
	exit 1
fi
