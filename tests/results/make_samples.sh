#!/usr/bin/env bash
# Regenerates tests/results/data/<scenario>/ from real ctest and gtest runs of
# sample_project/. After running it, review the diff of data/ and regenerate the
# expected outputs with: run_tests.sh TOOL FAKE_CHECKS --update
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d /tmp/deploycheck-results-samples.XXXXXX)"
trap 'rm -rf "$work"' EXIT

for scenario in all_passed gather_failed run_open_failed; do
  build="$work/$scenario"
  cmake -S "$here/sample_project" -B "$build" -G Ninja -DSCENARIO="$scenario" >/dev/null
  cmake --build "$build" >/dev/null
  if [[ $scenario == gather_failed ]]; then
    # An earlier run in which Smoke.Checkout finished: its XML stays behind, and the
    # real run below times out before writing a new one (a stale file).
    SAMPLE_EARLIER_RUN=1 ctest --test-dir "$build" -R "Smoke.Checkout" >/dev/null 2>&1 || true
    sleep 1.2
  fi
  (cd "$build" && ctest --output-junit junit.xml >/dev/null 2>&1) || true
  out="$here/data/$scenario"
  rm -rf "$out"
  mkdir -p "$out/gtest-xml"
  cp "$build/junit.xml" "$out/ctest-junit.xml"
  cp "$build"/gtest-xml/*.xml "$out/gtest-xml/"
done

# Derived (not a real run): the same JUnit without ctest's "Failed test dependencies"
# lines, to exercise the --fixtures fallback.
sed 's/Failed test dependencies: [^<]*//' "$here/data/run_open_failed/ctest-junit.xml" \
  >"$here/data/run_open_failed/ctest-junit-no-deps.xml"
# What the CTest script writes for --fixtures: TESTNAME<TAB>required setup tests.
printf '%s\t%s\n' \
  'sandbox:Gather.TLS/api_443' 'sandbox:Run.Open' \
  'sandbox:Gather.TLS/app_443' 'sandbox:Run.Open' \
  'sandbox:TLS.CertValidFor_api_443' 'sandbox:Gather.TLS/api_443;sandbox:Gather.TLS/app_443' \
  'sandbox:TLS.CertValidFor_app_443' 'sandbox:Gather.TLS/app_443' \
  >"$here/data/run_open_failed/fixtures.tsv"
echo "wrote $here/data"
