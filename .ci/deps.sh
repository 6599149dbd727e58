#!/usr/bin/env bash
# Installs what building and testing RAVE Station needs on a Debian or Ubuntu
# machine, only when it is missing: a C compiler and ALSA headers (cgo, audio
# playback through oto), pkg-config, tmux (end-to-end TUI tests), sox (a WAV
# round-trip test), qemu-user-static (the arm64 tests under emulation), and a
# Go toolchain new enough for go.mod (fetched through the Go module proxy).
#
# Standard output is only the folder to put first on PATH when it fetched a
# Go toolchain (the Makefile reads it); messages go to standard error. Any
# failure exits non-zero with a message saying what to do, and the Makefile
# stops there.
set -euo pipefail

die() {
	echo "deps: $*" >&2
	exit 1
}

need_pkgs=()
command -v gcc >/dev/null 2>&1 || need_pkgs+=(gcc libc6-dev)
command -v pkg-config >/dev/null 2>&1 || need_pkgs+=(pkg-config)
dpkg -s libasound2-dev >/dev/null 2>&1 || need_pkgs+=(libasound2-dev)
command -v tmux >/dev/null 2>&1 || need_pkgs+=(tmux)
command -v sox >/dev/null 2>&1 || need_pkgs+=(sox)
command -v qemu-aarch64-static >/dev/null 2>&1 || need_pkgs+=(qemu-user-static)
command -v go >/dev/null 2>&1 || need_pkgs+=(golang-go)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl ca-certificates)
command -v unzip >/dev/null 2>&1 || need_pkgs+=(unzip)

# apt_get (with the wait for another package manager) is in apt.sh.
source "$(dirname "$0")/apt.sh"

if ((${#need_pkgs[@]})); then
	echo "deps: installing ${need_pkgs[*]}" >&2
	apt_install deps "make again" "${need_pkgs[@]}" || exit 1
	# What the build needs must be there now.
	dpkg -s libasound2-dev >/dev/null 2>&1 || die "libasound2-dev is still missing after apt-get install"
	for c in gcc pkg-config tmux sox qemu-aarch64-static go curl unzip; do
		command -v "$c" >/dev/null 2>&1 || die "$c is still missing after apt-get install"
	done
fi

# Go: go.mod asks for 1.26. Go ≥ 1.21 fetches that toolchain by itself
# (GOTOOLCHAIN=auto); an older distribution Go cannot, so fetch the toolchain
# module from the Go module proxy into ~/.cache and put it first on PATH.
want=$(awk '/^go /{print $2; exit}' "$(dirname "$0")/../go.mod")
have=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
minor=$(echo "${have:-0.0}" | cut -d. -f2)
if [[ -z $have || $minor -lt 21 ]]; then
	tc=go1.26.8
	dir="${XDG_CACHE_HOME:-$HOME/.cache}/rave-station/$tc"
	if [[ ! -x $dir/bin/go ]]; then
		echo "deps: fetching Go toolchain $tc from the module proxy (found ${have:-none}, need $want)" >&2
		proxy=$(go env GOPROXY 2>/dev/null | cut -d, -f1); proxy=${proxy:-https://proxy.golang.org}
		[[ $proxy == off || $proxy == direct ]] && proxy=https://proxy.golang.org
		arch=$(uname -m); case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
		tmp=$(mktemp -d)
		curl -fsSL "$proxy/golang.org/toolchain/@v/v0.0.1-$tc.linux-$arch.zip" -o "$tmp/tc.zip" ||
			die "could not fetch the Go toolchain from $proxy; install Go $want or newer, then make again"
		unzip -q "$tmp/tc.zip" -d "$tmp"
		mkdir -p "$(dirname "$dir")"
		mv "$tmp/golang.org/toolchain@v0.0.1-$tc.linux-$arch" "$dir"
		chmod -R u+w "$dir"
		rm -rf "$tmp"
	fi
	echo "$dir/bin"
fi
