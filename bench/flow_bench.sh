#!/usr/bin/env bash
# The 002 signup journey as a Smoke flow (register, login, GET /api/v1/users/me, then the cleanup
# DELETE: 4 requests), on loopback and at 50 ms RTT through bench's latency proxy, under
# `hyperfine -N`. The difference between the two rows, divided by the RTT, is the number of
# round trips the flow costs: a new connection per step would be 3 each (TCP, TLS 1.3, request),
# 12 in all; on one kept connection it is 3 + 1 + 1 + 1 = 6.
#
#   bench/flow_bench.sh [--build-dir DIR] [--proxy EXE] [--runs N]
#
# Runs sandbox_broken's `Smoke.Flow/signup` (writes are allowed there for it) against the
# sandbox web app's broken site, whose login and API behave like the healthy one's. Needs
# hyperfine; starts a private sandbox (ca, nginx, appenv, postgres, webapp). Not run by .ci/run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$repo/build
proxy=$repo/build-bench/bench/deploycheck-bench-latency-proxy
runs=5
rtt_ms=50
while (($#)); do
  case $1 in
    --build-dir) build=$(realpath -m "$2"); shift 2 ;;
    --proxy) proxy=$(realpath -m "$2"); shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "flow_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
exe=$build/deploycheck-sandbox_broken
sandboxctl=$build/tools/sandbox/deploycheck-sandboxctl
for f in "$exe" "$sandboxctl" "$proxy"; do [[ -x $f ]] || { echo "flow_bench: $f is not built" >&2; exit 1; }; done

work=$(mktemp -d /tmp/deploycheck-flow-bench.XXXXXX)
state=$work/state
cleanup() {
  "$sandboxctl" down --state-dir "$state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
# appenv: the environment file reads its dotenv sources at run time.
"$sandboxctl" up --state-dir "$state" ca nginx appenv webapp >&2
env_file=$state/sandbox.env
https_port=$(sed -n 's/^SANDBOX_WEBAPP_BROKEN_HTTPS_PORT=//p' "$env_file")

"$proxy" --upstream "127.0.0.1:$https_port" --delay-ms $((rtt_ms / 2)) > "$work/proxy.port" 2> "$work/proxy.log" &
for ((i = 0; i < 100; i++)); do
  proxy_port=$(sed -n 1p "$work/proxy.port" 2>/dev/null || true)
  [[ -n $proxy_port ]] && break
  sleep 0.05
done
[[ -n ${proxy_port:-} ]] || { echo "flow_bench: the latency proxy printed no port" >&2; exit 1; }
sed "s#^SANDBOX_WEBAPP_BROKEN_URL=.*#SANDBOX_WEBAPP_BROKEN_URL=https://localhost:$proxy_port#" \
  "$env_file" > "$work/rtt.env"

filter='--gtest_filter=Smoke.Flow/signup:Smoke.FlowCleanup/signup'
for env in "$env_file" "$work/rtt.env"; do  # both must pass before anything is timed
  DEPLOYCHECK_RUNTIME_ENV=$env "$exe" "$filter" > "$work/check.txt" 2>&1 ||
    { cat "$work/check.txt"; echo "flow_bench: the flow failed with $env" >&2; exit 1; }
done
hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/times.json" \
  -n loopback "env DEPLOYCHECK_RUNTIME_ENV=$env_file $exe $filter" \
  -n "50 ms RTT" "env DEPLOYCHECK_RUNTIME_ENV=$work/rtt.env $exe $filter" >&2
/usr/bin/python3 - "$work/times.json" "$rtt_ms" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
rtt = int(sys.argv[2]) / 1000
loop, far = (r["median"] for r in results)
print("| run | median |\n|---|---|")
print(f"| loopback | {loop:.3f} s |\n| {int(rtt*1000)} ms RTT | {far:.3f} s |")
print(f"\nround trips the 4 requests cost: ({far:.3f} - {loop:.3f}) / {rtt:.3f} = {(far - loop) / rtt:.1f}"
      " (one kept connection: 6; a new connection per request: 12)")
PY
