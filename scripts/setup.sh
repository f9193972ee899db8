#!/usr/bin/env bash
# Installs what simulacra needs on a Debian machine: the C++ toolchain and
# libraries from apt (only the missing ones), and with --python a virtual
# environment in .venv with the package built from this tree and PyTorch (CPU,
# pinned) for the tests that compare against it.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake ninja-build pkg-config libeigen3-dev libfmt-dev libgtest-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--python" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  # The extension, the CLI and the test extras; build tree kept for fast rebuilds.
  .venv/bin/python -m pip install -q -Cbuild-dir=build/python ".[test]"
  # PyTorch, CPU build, pinned: the reference of the transformer tests and
  # benchmarks only (the library never imports it). A plain `pip install
  # torch` would pull gigabytes of CUDA libraries.
  torch_version=2.13.0
  torch_wheel=/opt/wheels/torch-${torch_version}+cpu-cp311-cp311-manylinux_2_28_x86_64.whl
  if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '${torch_version}')" 2>/dev/null; then
    if [ -f "$torch_wheel" ] && .venv/bin/python -c "import sys; sys.exit(sys.version_info[:2] != (3, 11))"; then
      .venv/bin/python -m pip install -q "$torch_wheel"
    else
      # Pinned, from the package index (on this kind of machine pip takes the CPU wheel on disk).
      .venv/bin/python -m pip install -q "torch==${torch_version}"
    fi
  fi
fi
