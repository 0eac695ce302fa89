#!/usr/bin/env bash
# Facts are gathered once per run and shared: under `ctest -j4`, the sandbox's nginx sees one
# request per endpoint, however many checks read it. A second ctest on the same run directory
# while the first holds it fails at once, clearly.
# usage: facts_shared_test.sh RUN_DIR   (needs the sandbox's nginx: DEPLOYCHECK_RUNTIME_ENV)
set -euo pipefail
run_dir=$1
script=$run_dir/ctest-tests.cmake
[[ -f $script ]] || { echo "FAIL: $script is missing"; exit 1; }
[[ -n ${DEPLOYCHECK_RUNTIME_ENV:-} ]] || { echo "FAIL: DEPLOYCHECK_RUNTIME_ENV is not set"; exit 1; }
access_log=$(sed -n 's/^SANDBOX_NGINX_ACCESS_LOG=//p' "$DEPLOYCHECK_RUNTIME_ENV")
[[ -f $access_log ]] || { echo "FAIL: no nginx access log at '$access_log'"; exit 1; }

work=$(mktemp -d /tmp/deploycheck-facts.XXXXXX)
trap 'rm -rf "$work"' EXIT
export FACTS_NONCE=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$work/ctest"
printf 'include("%s")\n' "$script" > "$work/ctest/CTestTestfile.cmake"
(cd "$work/ctest" && ctest -j4 --output-on-failure) > "$work/out.txt" 2>&1 ||
  { cat "$work/out.txt"; echo "FAIL: the facts environment's checks did not pass"; exit 1; }
checks=$(grep -c "facts:Monitoring\.Health.*Passed" "$work/out.txt" || true)
[[ $checks -eq 9 ]] || { cat "$work/out.txt"; echo "FAIL: expected 9 passing checks, saw $checks"; exit 1; }

for endpoint in a b c; do
  n=$(grep -c " /probe/$FACTS_NONCE/$endpoint " "$access_log" || true)
  [[ $n -eq 1 ]] || { echo "FAIL: nginx saw $n requests for endpoint $endpoint (3 checks read it): expected exactly 1"; exit 1; }
done

# A second ctest while a run holds the lock: Run.Open must refuse at once. (We hold the lock
# ourselves, as a first run's holder process would.)
exe=$(sed -n 's/^add_test(\[==\[facts:Run.Open\]==\] \[==\[\([^]]*\)\]==\].*/\1/p' "$script")
exec 9>"$run_dir/lock"
flock -n 9 || { echo "FAIL: could not take the run lock for the test"; exit 1; }
set +e
out=$("$exe" --deploycheck-run-open --deploycheck-run-dir="$run_dir" 2>&1); rc=$?
set -e
exec 9>&-
[[ $rc -ne 0 && $out == *"another ctest run of this build is in progress"* ]] ||
  { echo "FAIL: a second run was not refused (rc $rc): $out"; exit 1; }

# design.md: `ctest -j4 --repeat until-fail:3` stays green. ctest repeats each test in place,
# Run.Open included, inside the same ctest: that second Run.Open is no concurrent run.
(cd "$work/ctest" && ctest -j4 --repeat until-fail:3 --output-on-failure) > "$work/repeat.txt" 2>&1 ||
  { cat "$work/repeat.txt"; echo "FAIL: ctest --repeat until-fail:3 did not pass"; exit 1; }
echo "PASS: one request per endpoint for 9 checks under ctest -j4; a concurrent run is refused;" \
  "--repeat until-fail:3 passes"
