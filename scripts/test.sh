#!/usr/bin/env bash
# The one test command (README "Quick start"; .ci/run calls it): installs what the tests need,
# builds the solution, runs every test project and ends with one summary line over all of them.
set -uo pipefail
cd "$(dirname "$0")/.."

# Debian packages: OpenBLAS (the engine's BLAS path, tested against the managed fallback) and
# redis-server (the silo processes' clustering in tests/Cluster.Tests).
packages=""
ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\.0' || packages="$packages libopenblas0-pthread"
command -v redis-server >/dev/null || packages="$packages redis-server"
if [ -n "$packages" ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $packages >/dev/null \
    || { echo "could not install:$packages" >&2; exit 1; }
fi

# Azurite: the real blob service the blob-store tests run against (tests/Cluster.Tests/Storage).
# An npm install can finish "successfully" with a dependency missing, so the install counts only
# once azurite-blob starts far enough to print its version; a broken tree is wiped and installed again.
azurite_ok() { timeout 60 .tools/node_modules/.bin/azurite-blob --version >/dev/null 2>&1; }
for attempt in 1 2 3; do
  azurite_ok && break
  rm -rf .tools/node_modules .tools/package.json .tools/package-lock.json
  npm install --prefix .tools --no-audit --no-fund --loglevel=error azurite@3.37.0 >/dev/null 2>&1
done
azurite_ok || { echo "could not install a working azurite@3.37.0 into .tools (npm install, 3 attempts)" >&2; exit 1; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Deployment: renders every k8s/ overlay and validates it against the Kubernetes schemas and the
# silo invariants, and proves the validator rejects broken renders (tests/Deploy/validate.sh).
bash tests/Deploy/validate.sh || exit 1
dotnet build Cluster.sln -c Release -nologo -v quiet -clp:ErrorsOnly || exit 1

rm -rf TestResults
status=0
for project in Alignment Cluster Extraction; do
  name=$(echo "$project" | tr '[:upper:]' '[:lower:]')
  dotnet test "tests/$project.Tests" -c Release --no-build --results-directory TestResults \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" || status=1
  # A run that died before writing its results must not look like zero failures.
  [ -f "TestResults/$name.trx" ] || { echo "no results from tests/$project.Tests" >&2; status=1; }
done

# The plain summary line, added up from the runners' own result files.
passed=0; failed=0; skipped=0
for trx in TestResults/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { v=$(echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"); echo "${v:-0}"; }
  passed=$(( passed + $(get passed) )); failed=$(( failed + $(get failed) ))
  skipped=$(( skipped + $(get total) - $(get executed) ))
done
echo "Tests: $passed passed, $failed failed, $skipped skipped"
exit $status
