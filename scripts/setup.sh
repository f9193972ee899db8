#!/usr/bin/env bash
# Installs what simulacra needs on a Debian machine: the C++ toolchain and
# libraries from apt (only the missing ones), and with --python a virtual
# environment in .venv with what building and testing the Python package
# need (pyproject.toml's build requirements and test extras) and PyTorch
# (CPU, pinned) for the tests that compare against it. The package itself is
# built and installed from build/ by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

apt_install g++ cmake ninja-build pkg-config libeigen3-dev libfmt-dev libgtest-dev

if [ "${1:-}" = "--python" ]; then
  # The browser of the trace explorer's test (tests/python/test_trace_html.py): about 70 s and 290 MB on a
  # fresh machine, mostly download and unpacking, so it runs while pip works (its output once it is done).
  chromium_log=$(mktemp)
  if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed"; then
    step "apt-get install chromium, in the background while pip works"
  fi
  apt_install chromium > "$chromium_log" 2>&1 &
  chromium_pid=$!
  step "Python: the virtual environment .venv"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install --upgrade pip
  step "Python: build requirements and test extras of pyproject.toml"
  mapfile -t requirements < <(.venv/bin/python - <<'PY'
import tomllib
with open("pyproject.toml", "rb") as f:
    project = tomllib.load(f)
print("\n".join(project["build-system"]["requires"] + project["project"]["dependencies"]
                + project["project"]["optional-dependencies"]["test"]))
PY
  )
  # The `kenlm` module has no wheel on the index: pip builds it from source (about a minute of one core), in
  # the background beside the other downloads. MAX_ORDER: up to order 8, for tests/python/test_arpa.py (its
  # default is 6). It needs nothing else installed, so the two pip runs touch different packages.
  others=()
  for r in "${requirements[@]}"; do [ "$r" = kenlm ] || others+=("$r"); done
  kenlm_log=$(mktemp)
  if ! .venv/bin/python -c "import kenlm" 2>/dev/null; then
    step "Python: building the kenlm module, in the background"
    MAX_ORDER=8 .venv/bin/python -m pip install --no-deps kenlm > "$kenlm_log" 2>&1 &
    kenlm_pid=$!
  fi
  .venv/bin/python -m pip install "${others[@]}"
  # PyTorch, CPU build, pinned: the reference of the transformer tests and
  # benchmarks only (the library never imports it). A plain `pip install
  # torch` would pull gigabytes of CUDA libraries.
  torch_version=2.13.0
  torch_wheel=/opt/wheels/torch-${torch_version}+cpu-cp311-cp311-manylinux_2_28_x86_64.whl
  if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '${torch_version}')" 2>/dev/null; then
    step "Python: PyTorch ${torch_version} (CPU)"
    if [ -f "$torch_wheel" ] && .venv/bin/python -c "import sys; sys.exit(sys.version_info[:2] != (3, 11))"; then
      .venv/bin/python -m pip install "$torch_wheel"
    else
      # Pinned, from the package index (on this kind of machine pip takes the CPU wheel on disk).
      .venv/bin/python -m pip install "torch==${torch_version}"
    fi
  fi
  if [ -n "${kenlm_pid:-}" ] && ! wait "$kenlm_pid"; then
    cat "$kenlm_log"
    echo "setup: pip install kenlm failed (above)" >&2
    exit 1
  fi
  rm -f "$kenlm_log"
  if ! wait "$chromium_pid"; then
    cat "$chromium_log"
    echo "setup: apt-get install chromium failed (above)" >&2
    exit 1
  fi
  grep -E "^== |^Setting up chromium " "$chromium_log" || true
  rm -f "$chromium_log"
fi
