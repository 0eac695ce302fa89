#!/usr/bin/env bash
# The gate presets refuse an empty selection: with no production environment configured,
# `ctest --preset production-pre` must fail, never report "0 tests, all passed".
# usage: presets_test.sh SOURCE_DIR
set -uo pipefail
cd "$1"
for preset in production-pre production-post; do
  out=$(ctest --preset "$preset" 2>&1); rc=$?
  if [[ -f environments/production.yaml ]]; then
    echo "SKIP-CHECK: environments/production.yaml exists, so $preset selects tests"; continue
  fi
  [[ $rc -ne 0 ]] || { echo "FAIL: ctest --preset $preset exited 0 on an empty selection: $out"; exit 1; }
  grep -q "No tests were found" <<<"$out" || { echo "FAIL: $preset did not say why: $out"; exit 1; }
done
# And the documented shell form anchors labels the same way.
out=$(ctest --test-dir build -L '^production$' -L '^pre$' --no-tests=error 2>&1); rc=$?
[[ -f environments/production.yaml || $rc -ne 0 ]] || { echo "FAIL: the documented gate passed with no tests: $out"; exit 1; }
echo "PASS: empty gate selections fail"
