#!/usr/bin/env bash
# A canary secret must appear nowhere — raw, URL-encoded or base64 — when the checks that
# read it FAIL: not in stdout/stderr, `ctest -V` output, Testing/Temporary/LastTest*.log, any
# gtest XML, ctest's JUnit, the merged JUnit, the summary, or the run directory.
#
# usage: canary_test.sh DEPLOYCHECK_CANARY_EXE RUN_DIR DEPLOYCHECK_RESULTS_EXE
set -euo pipefail
exe=$1 run_dir=$2 results=$3
script=$run_dir/ctest-tests.cmake
[[ -f $script ]] || { echo "FAIL: $script is missing (build the canary environment first)"; exit 1; }

work=$(mktemp -d /tmp/deploycheck-canary.XXXXXX)
trap '[[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT
export CANARY_DIR=$work
random=$(head -c 9 /dev/urandom | base64 | tr -d '+/=')
# Characters that URL-encode differently from themselves, so the encoded form is its own test.
secret="cAnArY-${random}-EXAMPLE-s3cr3t value/with+chars&more"
token="tOkEn-${random}-9f8e7d6c5b4a"
db_url="postgres://app:PaSs-${random}@db.internal:5432/app"
export CANARY_CLOSED_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
umask 077
{
  printf "CANARY_SECRET='%s'\n" "$secret"
  printf 'CANARY_TOKEN=%s\n' "$token"
} > "$work/canary.env"
export CANARY_DATABASE_URL=$db_url   # through the process environment, as CI's masked vars

# A private CTest tree that includes the canary environment's generated script.
mkdir -p "$work/ctest"
printf 'include("%s")\n' "$script" > "$work/ctest/CTestTestfile.cmake"
set +e
(cd "$work/ctest" && ctest -V -j4 --output-junit "$work/ctest-junit.xml") > "$work/ctest-output.txt" 2>&1
ctest_rc=$?
"$results" junit --ctest-junit "$work/ctest-junit.xml" --gtest-xml-dir "$(dirname "$run_dir")/xml" \
  --fixtures "$run_dir/fixtures.tsv" --out "$work/merged-junit.xml" > "$work/merge-output.txt" 2>&1
"$results" summary --junit "$work/merged-junit.xml" --markdown "$work/summary.md" > "$work/summary.txt" 2>&1
"$exe" --gtest_brief=0 > "$work/solo-stdout.txt" 2> "$work/solo-stderr.txt"
set -e

fail=0
# The checks must really have failed, or the canary proves nothing.
[[ $ctest_rc -ne 0 ]] || { echo "FAIL: the canary checks passed; they must fail on the secret"; fail=1; }
for t in Strong NotExample Equals OneOf Matches MinLength Integer Boolean List Url; do
  grep -q "canary:EnvVars.$t/CANARY_SECRET.*Failed\|canary:EnvVars.$t/CANARY_SECRET .*\*\*\*Failed" "$work/ctest-output.txt" ||
    { echo "FAIL: EnvVars.$t/CANARY_SECRET did not fail"; fail=1; }
done
grep -q "HealthStatus/leaky_url" "$work/ctest-output.txt" || { echo "FAIL: the leaky URL check did not run"; fail=1; }
# The database, smoke and S3 gathers carry the secrets into their error paths: they must run.
for gather in Gather.PostgreSQL/canary Gather.HTTP/smoke_leaky_request Gather.Backups/leaky_s3; do
  grep -q "canary:$gather" "$work/ctest-output.txt" || { echo "FAIL: $gather did not run"; fail=1; }
done

forms() {  # raw, URL-encoded, base64 of each secret
  for v in "$secret" "$token" "$db_url" "PaSs-${random}"; do
    printf '%s\n' "$v"
    /usr/bin/python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$v"
    /usr/bin/python3 -c 'import sys,urllib.parse; print(urllib.parse.quote_plus(sys.argv[1]))' "$v"
    printf '%s' "$v" | base64 -w0; echo
  done
  printf '%s\n' "$random"   # even the random core alone
}
places=("$work/ctest-output.txt" "$work/ctest-junit.xml" "$work/merged-junit.xml" "$work/merge-output.txt"
        "$work/summary.txt" "$work/summary.md" "$work/solo-stdout.txt" "$work/solo-stderr.txt"
        "$work/ctest/Testing" "$run_dir" "$(dirname "$run_dir")/xml")
while IFS= read -r form; do
  [[ -n $form ]] || continue
  if hits=$(grep -rlF -- "$form" "${places[@]}" 2>/dev/null); then
    echo "FAIL: a form of the canary secret leaked into:"; echo "$hits" | sed 's/^/  /'; fail=1
  fi
done < <(forms | sort -u)

# The failure messages must still be useful: what was expected and what was seen.
grep -q "whose scheme is mysql\|is a URL with scheme https" "$work/merged-junit.xml" || true
grep -q "CANARY_SECRET = \*\*\* (secret" "$work/merged-junit.xml" ||
  { echo "FAIL: the merged JUnit does not explain the secret's failure (expected 'CANARY_SECRET = *** (secret')"; fail=1; }
grep -q 'did not answer within deadline' "$work/merged-junit.xml" ||
  { echo "FAIL: the unreachable check's reason is missing from the merged JUnit"; fail=1; }

if [[ $fail -ne 0 ]]; then
  echo "--- ctest output (tail) ---"; tail -40 "$work/ctest-output.txt"
  exit 1
fi
echo "PASS: the canary failed its checks and appeared in none of ${#places[@]} outputs"
