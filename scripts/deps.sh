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

# Tux Paint's stamps (Debian's tuxpaint-stamps-default, GPL-2: fetched here, never committed): real PNG
# images with English captions for the dataset builder's tests, unpacked under .tools/tuxpaint/. The
# package is unpacked beside its final place and moved there whole, so a half-done run is redone.
install_tuxpaint_stamps() {
  [ -d .tools/tuxpaint/usr/share/tuxpaint/stamps ] && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  local work; work=$(mktemp -d) || return 1
  ( cd "$work" && { apt-get download -qq tuxpaint-stamps-default >/dev/null 2>&1 \
      || { $sudo apt-get update -qq && apt-get download -qq tuxpaint-stamps-default >/dev/null 2>&1; }; } ) \
    && mkdir -p .tools && rm -rf .tools/tuxpaint.partial \
    && dpkg-deb -x "$work"/tuxpaint-stamps-default_*.deb .tools/tuxpaint.partial \
    && [ -d .tools/tuxpaint.partial/usr/share/tuxpaint/stamps ] \
    && rm -rf .tools/tuxpaint && mv .tools/tuxpaint.partial .tools/tuxpaint
  local status=$?
  rm -rf "$work" .tools/tuxpaint.partial
  [ $status -eq 0 ] || { echo "could not install tuxpaint-stamps-default into .tools/tuxpaint (apt-get download, dpkg-deb -x)" >&2; return 1; }
}
