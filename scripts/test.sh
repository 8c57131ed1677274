#!/usr/bin/env bash
# The one test command (README "Quick start"; .ci/run calls it): installs what the tests need,
# builds the solution, runs every test project and ends with one summary line over all of them.
set -uo pipefail
cd "$(dirname "$0")/.."

# Debian packages (OpenBLAS, redis-server, promtool, Chromium), Azurite in .tools/: the real components the tests start;
# and Tux Paint's stamps in .tools/tuxpaint/, the real images and captions of the dataset builder's tests.
. scripts/deps.sh
install_debian_packages || exit 1
install_azurite || exit 1
install_tuxpaint_stamps || exit 1

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Deployment: renders every k8s/ overlay and validates it against the Kubernetes schemas and the
# silo invariants, and proves the validator rejects broken renders (tests/Deploy/validate.sh).
bash tests/Deploy/validate.sh || exit 1
# Guard rails: every analyzer and code-style warning is an error here, and the tree must already be formatted.
dotnet build Cluster.sln -c Release -nologo -v quiet -clp:ErrorsOnly -p:TreatWarningsAsErrors=true || exit 1
dotnet format Cluster.sln --verify-no-changes -v quiet || { echo "dotnet format would change files: run 'dotnet format Cluster.sln'" >&2; exit 1; }

rm -rf TestResults
status=0
# Every scratch folder the tests and their silo processes make lands in one folder, removed at the end.
TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/prh-tests-XXXXXX"); export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
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
