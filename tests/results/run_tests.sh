#!/usr/bin/env bash
# Tests of deploycheck-results against real ctest/gtest XML (data/, made by
# make_samples.sh) and the fake_checks program.
#
# usage: run_tests.sh TOOL FAKE_CHECKS [--update]
#   --update rewrites expected/ from the current tool's output; review the diff.
set -uo pipefail

if (($# < 2)); then
  echo "usage: $0 path/to/deploycheck-results path/to/deploycheck-results-fake-checks [--update]" >&2
  exit 2
fi
tool="$(realpath "$1")"
fake="$(realpath "$2")"
update="${3:-}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="$here/data"
expected="$here/expected"
work="$(mktemp -d /tmp/deploycheck-results-test.XXXXXX)"
trap 'rm -rf "$work"' EXIT
unset FAKE_CHECKS NO_COLOR

failed=0
ran=0

# run CMD...: output in $work/out (stdout) and $work/err, exit status in $status.
run() {
  "$@" >"$work/out" 2>"$work/err"
  status=$?
}

fail() {
  echo "    $*"
  return 1
}

expect_status() {
  ((status == $1)) || fail "exit status $status, expected $1; stderr: $(head -c 2000 "$work/err")"
}

expect_out() {  # FIXED-STRING [FILE]
  grep -qF -- "$1" "${2:-$work/out}" || fail "output lacks: $1"
}

expect_no_out() {  # FIXED-STRING [FILE]
  ! grep -qF -- "$1" "${2:-$work/out}" || fail "output unexpectedly has: $1"
}

last_line_is() {
  local last
  last="$(tail -n 1 "$work/out")"
  [[ $last == "$1" ]] || fail "last line is '$last', expected '$1'"
}

# golden ACTUAL NAME: compare with expected/NAME, or rewrite it with --update.
golden() {
  if [[ $update == --update ]]; then
    cp "$1" "$expected/$2"
    return 0
  fi
  diff -u "$expected/$2" "$1" >"$work/diff" || fail "differs from expected/$2:$(echo; head -n 40 "$work/diff")"
}

# --- junit -------------------------------------------------------------------

test_merge_fills_failure_messages() {
  (cd "$data/gather_failed" &&
    "$tool" junit --ctest-junit ctest-junit.xml --gtest-xml-dir gtest-xml --out "$work/gf.xml") ||
    fail "junit exited $?" || return 1
  golden "$work/gf.xml" gather_failed.merged.xml &&
    expect_out 'Expected: has variable &quot;REDIS_URL&quot;' "$work/gf.xml" &&
    expect_out 'second failure with markup &lt;&amp;&gt; "quoted"</failure>' "$work/gf.xml" &&
    expect_out '<property name="checklist" value="012 §SSL/TLS: Certificate valid for 30 days" />' "$work/gf.xml" &&
    expect_out 'failures="8"' "$work/gf.xml" && expect_out 'skipped="2"' "$work/gf.xml" &&
    expect_no_out '<failure message="" />' "$work/gf.xml"
}

test_merge_not_run_names_failed_prerequisite() {
  (cd "$data/gather_failed" &&
    "$tool" junit --ctest-junit ctest-junit.xml --gtest-xml-dir gtest-xml --out "$work/gf.xml") || return 1
  expect_out '<failure message="not run: prerequisite sandbox:Gather.TLS/api_443 failed: cannot reach 127.0.0.1:44301 within 500ms x 2 attempts: connection refused">' "$work/gf.xml"
}

test_merge_not_run_chain_reaches_root_cause() {
  (cd "$data/run_open_failed" &&
    "$tool" junit --ctest-junit ctest-junit.xml --gtest-xml-dir gtest-xml --out "$work/rf.xml") || return 1
  golden "$work/rf.xml" run_open_failed.merged.xml &&
    expect_out 'not run: prerequisite sandbox:Run.Open failed (via sandbox:Gather.TLS/api_443, sandbox:Gather.TLS/app_443): run directory build/run is locked' "$work/rf.xml" &&
    expect_out 'not run: Unable to find executable: /nonexistent/deploycheck-migrations' "$work/rf.xml" &&
    expect_out '<skipped message="Disabled" />' "$work/rf.xml"
}

test_merge_fixtures_file_fallback() {
  (cd "$data/run_open_failed" &&
    "$tool" junit --ctest-junit ctest-junit-no-deps.xml --gtest-xml-dir gtest-xml \
      --fixtures fixtures.tsv --out "$work/fx.xml") || return 1
  golden "$work/fx.xml" run_open_failed.fixtures.merged.xml &&
    expect_out 'not run: prerequisite sandbox:Run.Open failed (via sandbox:Gather.TLS/app_443): run directory' "$work/fx.xml"
}

test_merge_without_any_prerequisite_info() {
  (cd "$data/run_open_failed" &&
    "$tool" junit --ctest-junit ctest-junit-no-deps.xml --gtest-xml-dir gtest-xml --out "$work/nd.xml") || return 1
  expect_out '<failure message="not run: a prerequisite failed">' "$work/nd.xml"
}

test_merge_crash_timeout_and_stale_xml() {
  (cd "$data/gather_failed" &&
    "$tool" junit --ctest-junit ctest-junit.xml --gtest-xml-dir gtest-xml --out "$work/gf.xml") || return 1
  expect_out 'no gtest XML (gtest-xml/sandbox_Smoke.Login.xml): the check crashed or hit its CTest TIMEOUT; see ctest output' "$work/gf.xml" &&
    expect_out 'POST https://127.0.0.1:44302/login' "$work/gf.xml" &&
    expect_out 'gtest XML gtest-xml/sandbox_Smoke.Checkout.xml is from an earlier run' "$work/gf.xml" &&
    expect_out 'records no failure: the process exited non-zero after the check ran' "$work/gf.xml"
}

test_merge_usage_errors() {
  run "$tool" junit --ctest-junit x.xml --gtest-xml-dir . && expect_status 2 &&
    expect_out 'missing required option --out' "$work/err" || return 1
  echo '<testsuite><testcase' >"$work/bad.xml"
  run "$tool" junit --ctest-junit "$work/bad.xml" --gtest-xml-dir . --out "$work/o.xml" &&
    expect_status 2 && expect_out "cannot read XML file $work/bad.xml" "$work/err" || return 1
  run "$tool" frobnicate && expect_status 2 && expect_out "unknown subcommand 'frobnicate'" "$work/err"
}

# --- summary -----------------------------------------------------------------

summarize() {  # SCENARIO: merge then summarize into $work/out
  (cd "$data/$1" &&
    "$tool" junit --ctest-junit ctest-junit.xml --gtest-xml-dir gtest-xml --out "$work/$1.xml") || return 1
  (cd "$work" && run "$tool" summary --junit "$1.xml" --markdown "$1.md" --color never
    cp "$work/out" "$work/$1.summary.txt"
    echo "$status" >"$work/$1.status")
  status=$(cat "$work/$1.status")
  cp "$work/$1.summary.txt" "$work/out"
}

test_summary_gather_failed() {
  summarize gather_failed || return 1
  expect_status 1 && golden "$work/out" gather_failed.summary.txt &&
    golden "$work/gather_failed.md" gather_failed.md &&
    last_line_is '4 passed, 8 failed, 2 skipped' &&
    expect_out '8 failed (1 not run)' &&
    expect_out 'EnvVars          1       1        0        0' &&
    expect_out '- [ ] 000 §Environment Variables: All required environment variables configured — `sandbox:EnvVars.Required/REDIS_URL`: **failed** (critical)' "$work/gather_failed.md" &&
    expect_out '- [x] 000 §Environment Variables: All required environment variables configured — `sandbox:EnvVars.Required/DATABASE_URL`: passed (critical)' "$work/gather_failed.md"
}

test_summary_run_open_failed() {
  summarize run_open_failed || return 1
  expect_status 1 && golden "$work/out" run_open_failed.summary.txt &&
    golden "$work/run_open_failed.md" run_open_failed.md &&
    last_line_is '1 passed, 6 failed, 1 skipped' && expect_out '6 failed (5 not run)'
}

test_summary_all_passed_exits_zero() {
  summarize all_passed || return 1
  expect_status 0 && golden "$work/out" all_passed.summary.txt &&
    last_line_is '4 passed, 0 failed, 1 skipped' &&
    expect_out 'not attested: run deploycheck attest Attest.StakeholdersNotified'
}

test_summary_of_unmerged_ctest_junit_counts_not_run_as_failed() {
  run "$tool" summary --junit "$data/run_open_failed/ctest-junit.xml" --color never
  expect_status 1 && last_line_is '1 passed, 6 failed, 1 skipped' &&
    expect_out 'Failed test dependencies: sandbox:Run.Open'
}

test_summary_empty_selection_is_not_a_pass() {
  printf '<?xml version="1.0"?>\n<testsuite name="(empty)" tests="0"/>\n' >"$work/empty.xml"
  run "$tool" summary --junit "$work/empty.xml" --color never
  expect_status 1 && last_line_is '0 passed, 0 failed, 0 skipped' && expect_out 'nothing was checked'
}

test_summary_color() {
  summarize gather_failed || return 1
  run "$tool" summary --junit "$work/gather_failed.xml" --color always
  expect_out $'\033[1;31mFAILED (7)\033[0m' && last_line_is '4 passed, 8 failed, 2 skipped' || return 1
  run "$tool" summary --junit "$work/gather_failed.xml" --color never
  expect_no_out $'\033[' || return 1
  run "$tool" summary --junit "$work/gather_failed.xml" --color sometimes
  expect_status 2 && expect_out "--color expects auto, always or never, saw 'sometimes'" "$work/err"
}

# --- selftest ----------------------------------------------------------------

selftest() {  # MODE [extra tool args...]
  local mode=$1
  shift
  if [[ -n $mode ]]; then export FAKE_CHECKS=$mode; else unset FAKE_CHECKS; fi
  run "$tool" selftest --exe "$fake" --suite Fake --expected "$here/fake_checks.expected" \
    --xml "$work/selftest.xml" "$@"
  unset FAKE_CHECKS
}

test_selftest_exact() {
  selftest exact
  expect_status 0 && expect_out 'selftest Fake: caught exactly: 2/2' &&
    expect_out 'selftest Fake: 4 tests ran, 2 failed, 0 skipped' && expect_no_out 'FakeOther'
}

test_selftest_missing() {
  selftest missing
  expect_status 1 && expect_out 'NOT exact: caught 1/2' &&
    expect_out 'Fake.Broken/two  passed: the defect went unnoticed'
}

test_selftest_extra() {
  selftest extra
  expect_status 1 && expect_out 'extra (failed but not expected):' &&
    expect_out 'Fake.Fine/one: unexpected: DNS answer differs'
}

test_selftest_wrong_message() {
  selftest wrong
  expect_status 1 && expect_out 'wrong message:' &&
    expect_out 'expected a message containing: defect one: certificate expires' &&
    expect_out 'actual first line: Expected: certificate valid'
}

test_selftest_skipped() {
  selftest skip
  expect_status 1 && expect_out 'skipped (a self-test may not skip):' &&
    expect_out 'Fake.Fine/two: not configured: smoke.base_url'
}

test_selftest_crash() {
  echo '<testsuites><testsuite name="Fake"/></testsuites>' >"$work/selftest.xml"  # stale
  selftest crash
  expect_status 1 && expect_out 'crashed: killed by signal 6' &&
    expect_out "no gtest XML at $work/selftest.xml"
}

test_selftest_odd_exit_status() {
  selftest exit3
  expect_status 1 && expect_out 'exited with status 3 (a gtest run exits 0 or 1)'
}

test_selftest_passes_extra_args() {
  selftest "" -- --fake-mode=extra
  expect_status 1 && expect_out '--gtest_output=xml:'"$work"'/selftest.xml --fake-mode=extra' &&
    expect_out 'Fake.Fine/one: unexpected: DNS answer differs'
}

test_selftest_unknown_suite_or_test() {
  run "$tool" selftest --exe "$fake" --suite Nope --expected "$here/fake_checks.expected" \
    --xml "$work/selftest.xml"
  expect_status 1 && expect_out 'no test ran: --gtest_filter=Nope.*:Nope/*.* matched nothing' || return 1
  printf 'Fake.Broken/one\tdefect one\nFake.Broken/two\tTLSv1.0\nFake.Typo/x\tanything\n' >"$work/typo.expected"
  run "$tool" selftest --exe "$fake" --suite Fake --expected "$work/typo.expected" --xml "$work/selftest.xml"
  expect_status 1 && expect_out "Fake.Typo/x  did not run: no such test in the XML; check the name at $work/typo.expected:3"
}

test_selftest_bad_input() {
  printf 'Fake.Broken/one defect one\n' >"$work/bad.expected"
  run "$tool" selftest --exe "$fake" --suite Fake --expected "$work/bad.expected" --xml "$work/s.xml"
  expect_status 2 && expect_out "$work/bad.expected:1: expected 'Suite.Test/param<TAB>substring of its message'" "$work/err" || return 1
  run "$tool" selftest --exe /nonexistent/exe --suite Fake --expected "$here/fake_checks.expected" --xml "$work/s.xml"
  expect_status 1 && expect_out 'cannot execute /nonexistent/exe: No such file or directory'
}

for test in $(declare -F | awk '$3 ~ /^test_/ {print $3}'); do
  ((ran++))
  if output="$($test 2>&1)"; then
    echo "PASS ${test#test_}"
  else
    echo "FAIL ${test#test_}"
    [[ -n $output ]] && echo "$output"
    ((failed++))
  fi
done
echo "$((ran - failed))/$ran passed"
((failed == 0))
