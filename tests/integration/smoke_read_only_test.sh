#!/usr/bin/env bash
# Read-only by default: the sandbox environment's Smoke and StaticAssets checks (its signup flow
# is not allowed to write, so it is skipped) leave the web app's database exactly as they found
# it — the same rows in every table before and after.
# usage: smoke_read_only_test.sh SANDBOX_EXE   (needs the sandbox: DEPLOYCHECK_RUNTIME_ENV)
set -euo pipefail
exe=$1
[[ -n ${DEPLOYCHECK_RUNTIME_ENV:-} ]] || { echo "FAIL: DEPLOYCHECK_RUNTIME_ENV is not set"; exit 1; }
admin_url=$(sed -n 's/^SANDBOX_POSTGRES_ADMIN_URL=//p' "$DEPLOYCHECK_RUNTIME_ENV")
[[ -n $admin_url ]] || { echo "FAIL: no SANDBOX_POSTGRES_ADMIN_URL in the sandbox"; exit 1; }
# The admin URL names the postgres database; the web app's is `webapp` on the same server.
webapp_url=$(sed 's#/postgres?#/webapp?#' <<<"$admin_url")

# One line per table: "<table> <rows>", exact counts.
row_counts() {
  local tables
  tables=$(psql "$webapp_url" -Atc \
    "select quote_ident(schemaname) || '.' || quote_ident(tablename) from pg_tables
     where schemaname = 'public' order by 1")
  for t in $tables; do echo "$t $(psql "$webapp_url" -Atc "select count(*) from $t")"; done
}

before=$(row_counts)
[[ $(wc -l <<<"$before") -ge 10 ]] || { echo "FAIL: expected the web app's tables, found: $before"; exit 1; }
work=$(mktemp -d /tmp/deploycheck-readonly.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Smoke.RateLimited/* is left out only because the sandbox run beside this test bursts the same
# rate limit; its failed logins write nothing either (Django's login is stateless here).
"$exe" --gtest_filter='Smoke.*:Smoke/*.*:StaticAssets.*:StaticAssets/*.*:-Smoke.RateLimited*' \
  > "$work/out.txt" 2>&1 || { tail -40 "$work/out.txt"; echo "FAIL: the sandbox Smoke/StaticAssets checks did not pass"; exit 1; }
grep -q "Smoke.Flow/signup" "$work/out.txt" || { echo "FAIL: the signup flow was not registered"; exit 1; }
after=$(row_counts)
if [[ $before != "$after" ]]; then
  diff <(echo "$before") <(echo "$after") || true
  echo "FAIL: the read-only Smoke/StaticAssets checks changed the database (above: before < > after)"
  exit 1
fi
echo "PASS: $(wc -l <<<"$before") tables, the same rows before and after Smoke and StaticAssets"
