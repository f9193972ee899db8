# Sourced by the scripts: a line per step (with the time since the script
# started), apt installs of what is missing, and the one build tree (build/)
# with the settings every script configures it with, so that no script
# recompiles what another built.

tree=build
# What every compiled object depends on; the scripts add only targets to build.
tree_defines=(CMAKE_BUILD_TYPE=Release SIMULACRA_NATIVE=ON SIMULACRA_WERROR=ON)

step() {
  printf '\n== [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"
}

# apt_install PACKAGE...: install those of the Debian packages that are missing.
apt_install() {
  local p missing=() sudo_cmd=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  step "apt-get install ${missing[*]}"
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}"
}

# configure_tree [NAME=VALUE...]: configure build/ with tree_defines and these.
# A second call keeps what an earlier one set (cmake's cache).
configure_tree() {
  local d args=()
  for d in "${tree_defines[@]}" "$@"; do args+=("-D$d"); done
  step "configure $tree/ (cmake)"
  cmake -S . -B "$tree" -G Ninja "${args[@]}"
}

# build_tree [TARGET...]: build these targets of build/ (all without one).
build_tree() {
  step "build ${*:-everything} in $tree/ (ninja)"
  local targets=()
  (($#)) && targets=(--target "$@")
  cmake --build "$tree" "${targets[@]}"
}
