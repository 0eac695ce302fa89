#!/usr/bin/env bash
# Editing an environment file without rebuilding makes the run refuse, saying to rebuild;
# restoring it lets the run start again.
# usage: stale_environment_test.sh DEPLOYCHECK_EXE ENVIRONMENT_YAML
set -euo pipefail
exe=$1 yaml=$2
backup=$(mktemp)
cp -p "$yaml" "$backup"
trap 'cp -p "$backup" "$yaml"; rm -f "$backup"' EXIT

set +e
"$exe" --gtest_list_tests > /dev/null 2>&1; listed=$?
echo "# an edit nobody rebuilt" >> "$yaml"
out=$("$exe" 2>&1); rc=$?
listing=$("$exe" --gtest_list_tests 2>&1); list_rc=$?
set -e
cp -p "$backup" "$yaml"

[[ $rc -eq 2 ]] || { echo "FAIL: expected exit status 2 from a stale environment, got $rc: $out"; exit 1; }
[[ $out == *"$yaml changed since the build: run cmake --build"* ]] ||
  { echo "FAIL: the refusal does not say what to do: $out"; exit 1; }
[[ $listed -eq 0 && $list_rc -eq 0 ]] ||
  { echo "FAIL: listing tests must work without reading the file (rc $listed/$list_rc): $listing"; exit 1; }
echo "PASS: refused with: $out"
