#!/usr/bin/env bash
# Installs what `make test-interop` needs on a Debian or Ubuntu machine, only
# when it is missing: Debian's PyTorch 1.13 for the system Python
# (python3-torch, and python3-numpy for the test script), with which the
# TorchScript exports are loaded by torch.jit.load. Messages go to standard
# error; a failure exits non-zero saying what to do.
set -euo pipefail

die() {
	echo "deps-torch: $*" >&2
	exit 1
}

need_pkgs=()
dpkg -s python3-torch >/dev/null 2>&1 || need_pkgs+=(python3-torch)
dpkg -s python3-numpy >/dev/null 2>&1 || need_pkgs+=(python3-numpy)
((${#need_pkgs[@]})) || exit 0

command -v apt-get >/dev/null 2>&1 || die "no apt-get: install PyTorch 1.13 and NumPy for python3 by hand (pip install torch==1.13.1 numpy), then make test-interop again"
source "$(dirname "$0")/apt.sh"

echo "deps-torch: installing ${need_pkgs[*]} (PyTorch is a large download)" >&2
apt_install deps-torch "make test-interop again" "${need_pkgs[@]}" || exit 1
for p in "${need_pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || die "$p is still missing after apt-get install"
done
