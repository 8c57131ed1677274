# Installs what running the cluster and its tests needs; sourced by scripts/test.sh and scripts/cluster.sh.

# Debian packages: OpenBLAS (the engine's BLAS path), redis-server (Redis clustering), and for the
# operational endpoints' tests promtool (package prometheus: lints /metrics) and Chromium (renders the
# Orleans Dashboard headless).
install_debian_packages() {
  local packages=""
  ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\.0' || packages="$packages libopenblas0-pthread"
  command -v redis-server >/dev/null || packages="$packages redis-server"
  command -v promtool >/dev/null || packages="$packages prometheus"
  [ -x /usr/bin/chromium ] || packages="$packages chromium"
  [ -z "$packages" ] && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $packages >/dev/null \
    || { echo "could not install:$packages" >&2; return 1; }
}

# Azurite (the Azure Blob emulator) into .tools/. An npm install can finish "successfully" with a
# dependency missing, so the install counts only once azurite-blob starts far enough to print its
# version; a broken tree is wiped and installed again.
azurite_ok() { timeout 60 .tools/node_modules/.bin/azurite-blob --version >/dev/null 2>&1; }
install_azurite() {
  for attempt in 1 2 3; do
    azurite_ok && return 0
    rm -rf .tools/node_modules .tools/package.json .tools/package-lock.json
    npm install --prefix .tools --no-audit --no-fund --loglevel=error azurite@3.37.0 >/dev/null 2>&1
  done
  azurite_ok || { echo "could not install a working azurite@3.37.0 into .tools (npm install, 3 attempts)" >&2; return 1; }
}
