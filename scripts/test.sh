#!/usr/bin/env bash
# The one test command (README "Quick start"; .ci/run calls it): installs what the tests need,
# builds the solution, runs every test and ends with the runner's summary line.
set -uo pipefail
cd "$(dirname "$0")/.."

# OpenBLAS: the engine's BLAS path, tested against the managed fallback.
if ! ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\.0'; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libopenblas0-pthread >/dev/null \
    || { echo "could not install libopenblas0-pthread" >&2; exit 1; }
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Cluster.sln -c Release -nologo -v quiet -clp:ErrorsOnly || exit 1

rm -rf TestResults
dotnet test tests/Alignment.Tests -c Release --no-build --results-directory TestResults \
  --logger "trx;LogFileName=alignment.trx" --logger "console;verbosity=minimal"
status=$?

# The plain summary line, from the runner's own result file.
trx=TestResults/alignment.trx
if [ -f "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$(get total); executed=$(get executed); passed=$(get passed); failed=$(get failed)
  echo "Tests: ${passed:-0} passed, ${failed:-0} failed, $(( ${total:-0} - ${executed:-0} )) skipped"
fi
exit $status
