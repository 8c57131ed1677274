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
if [ ! -x .tools/node_modules/.bin/azurite-blob ]; then
  npm install --prefix .tools --no-audit --no-fund --loglevel=error azurite@3.37.0 >/dev/null \
    || { echo "could not install azurite@3.37.0 into .tools (npm install failed)" >&2; exit 1; }
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Cluster.sln -c Release -nologo -v quiet -clp:ErrorsOnly || exit 1

rm -rf TestResults
status=0
for project in Alignment Cluster; do
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
