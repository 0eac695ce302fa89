#!/usr/bin/env bash
# deploycheck's TLS probe of one endpoint (tls::probe: the default handshake plus every accepted
# protocol and cipher suite, as the TLS suite gathers it) side by side with sslscan and nmap's
# ssl-enum-ciphers, against the sandbox's nginx, on loopback and through bench's latency proxy
# (deploycheck-bench-latency-proxy) at 50 ms RTT:
#
#   deploycheck   deploycheck-bench-tls --host localhost --port P --connect 127.0.0.1 --ca CA
#   sslscan       sslscan --no-colour --sni-name=localhost 127.0.0.1:P
#   nmap          nmap -n --script ssl-enum-ciphers -p P 127.0.0.1
#   curl          one HTTPS GET, for reference
#
# each under `hyperfine -N --runs 5 --warmup 1`, on the healthy ECDSA endpoint; then 20
# deploycheck probes of it in parallel (20 endpoints' worth) against one (target: at most 2x).
#
# Self-check first: a plain HTTP GET (curl, the ECDSA endpoint's http twin) through the proxy
# must cost 2 RTT +- 5%, or nothing else is measured.
#
# Verdict agreement: on EVERY sandbox TLS endpoint, the set of accepted protocols and the set
# of accepted (protocol, cipher suite) pairs from deploycheck must equal sslscan's (both use
# OpenSSL names; sslscan's "TLSv1.0" is OpenSSL's "TLSv1"). Also checked: the 20 parallel
# probes through the proxy report exactly what one probe on loopback does.
#
#   bench/tls_bench.sh [--build-dir DIR] [--no-build] [--sandboxctl EXE] [--runs N]
#                      [--rtt-ms N] [--parallel N] [--out FILE] [--max-seconds N]
#
# Installs nothing: hyperfine, sslscan, nmap, curl and jq must be there (Debian:
# apt-get install hyperfine sslscan nmap curl jq). Writes a Markdown report (default
# bench/results/tls.md) and prints it. Takes about a minute, bounded by --max-seconds (default
# 900); every process it starts is stopped on exit. Exit status 1 when the self-check fails or
# any verdict differs. Never run in CI.
set -euo pipefail
export LC_ALL=C
PATH=$PATH:/usr/sbin:/sbin

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
self="$repo/bench/tls_bench.sh"

die() {
  echo "tls_bench: $*" >&2
  exit 1
}

build=$repo/build-bench
do_build=1
sandboxctl=""
runs=5
rtt_ms=50
parallel=20
out=$repo/bench/results/tls.md
max_seconds=900
while (($#)); do
  case $1 in
    --build-dir) build=$(realpath -m "$2"); shift 2 ;;
    --no-build) do_build=0; shift ;;
    --sandboxctl) sandboxctl=$(realpath "$2"); shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --rtt-ms) rtt_ms=$2; shift 2 ;;
    --parallel) parallel=$2; shift 2 ;;
    --out) out=$(realpath -m "$2"); shift 2 ;;
    --max-seconds) max_seconds=$2; shift 2 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$self"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs expects a positive integer"
[[ $parallel =~ ^[1-9][0-9]*$ ]] || die "--parallel expects a positive integer"
[[ $rtt_ms =~ ^[0-9]+$ && $((rtt_ms % 2)) == 0 && $rtt_ms -gt 0 ]] ||
  die "--rtt-ms expects an even number of milliseconds"
[[ $max_seconds =~ ^[1-9][0-9]*$ ]] || die "--max-seconds expects a positive integer"

# Bounded in time: the whole run again under timeout(1); its TERM reaches our EXIT trap, which
# stops everything we started.
if [[ -z ${TLS_BENCH_BOUNDED:-} ]]; then
  export TLS_BENCH_BOUNDED=1
  again=(--build-dir "$build" --runs "$runs" --rtt-ms "$rtt_ms" --parallel "$parallel"
    --out "$out" --max-seconds "$max_seconds")
  ((do_build)) || again+=(--no-build)
  [[ -z $sandboxctl ]] || again+=(--sandboxctl "$sandboxctl")
  exec timeout --kill-after=30 "$max_seconds" "$self" "${again[@]}"
fi

missing=()
for tool in hyperfine sslscan nmap curl jq timeout awk xargs; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
((${#missing[@]} == 0)) ||
  die "missing: ${missing[*]}; this script installs nothing: apt-get install -y hyperfine sslscan nmap curl jq"

if ((do_build)); then
  if [[ ! -f $build/CMakeCache.txt ]]; then
    cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEPLOYCHECK_BUILD_TESTS=OFF \
      -DDEPLOYCHECK_BUILD_BENCH=ON >/dev/null
  fi
  targets=(deploycheck-bench-tls deploycheck-bench-latency-proxy)
  [[ -n $sandboxctl ]] || targets+=(deploycheck-sandboxctl)
  ninja -C "$build" "${targets[@]}" >&2
fi
bench=$build/bench/deploycheck-bench-tls
proxy=$build/bench/deploycheck-bench-latency-proxy
[[ -n $sandboxctl ]] || sandboxctl=$build/tools/sandbox/deploycheck-sandboxctl
for exe in "$bench" "$proxy" "$sandboxctl"; do
  [[ -x $exe ]] || die "$exe is missing (build it, or drop --no-build)"
done

work=$(mktemp -d /tmp/deploycheck-tlsbench.XXXXXX)
state=$work/state
proxy_pids=()
cleanup() {
  local rc=$?
  set +e
  local pid
  for pid in "${proxy_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  [[ ! -d $state ]] || timeout 60 "$sandboxctl" down --state-dir "$state" >/dev/null 2>&1
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
mkdir -p "$work/runs" "$work/verdicts"

echo "tls_bench: starting the sandbox (ca, tls)" >&2
timeout 120 "$sandboxctl" up --state-dir "$state" ca tls >&2
env_file=$state/sandbox.env
env_value() { sed -n "s/^$1=//p" "$env_file"; }
ca=$(env_value SANDBOX_CA_FILE)
ecdsa_port=$(env_value SANDBOX_TLS_ECDSA_PORT)
http_port=$(env_value SANDBOX_TLS_ECDSA_HTTP_PORT)
[[ -f $ca && -n $ecdsa_port && -n $http_port ]] ||
  die "sandbox.env lacks SANDBOX_CA_FILE, SANDBOX_TLS_ECDSA_PORT or SANDBOX_TLS_ECDSA_HTTP_PORT"
# Every TLS endpoint: NAME PORT (SANDBOX_TLS_<NAME>_PORT, not the *_HTTP_PORT twins).
mapfile -t endpoints < <(sed -n 's/^SANDBOX_TLS_\([A-Z0-9_]*\)_PORT=\([0-9]*\)$/\1 \2/p' "$env_file" |
  grep -v '_HTTP ')
((${#endpoints[@]} > 0)) || die "sandbox.env lists no SANDBOX_TLS_*_PORT"

# The sandbox's one nginx has a fixed number of connections (worker_connections, listening
# sockets included); past it nginx closes connections that have not sent their first bytes yet
# ("reusing connections"), which a probe cannot tell from a refusal. So the parallel probes share
# what is left: each gets at most that share of handshakes in flight (the probe's default is 16).
data_dir=$(env_value SANDBOX_DIR)
nginx_conf=$data_dir/tls/nginx.conf
worker_connections=$(sed -n 's/^ *worker_connections \([0-9]*\);/\1/p' "$nginx_conf" 2>/dev/null | sed -n 1p)
listeners=$(grep -c '^ *listen ' "$nginx_conf" 2>/dev/null || true)
per_probe=16
if [[ -n $worker_connections ]]; then
  # Two thirds: a connection the probe has closed still holds its nginx slot until the close has
  # crossed the proxy (half a round trip later). 20 x 11 in flight was measured to overflow 256.
  share=$(((worker_connections - ${listeners:-0}) * 2 / 3 / parallel))
  ((share >= per_probe)) || per_probe=$((share < 1 ? 1 : share))
fi
parallel_note="each of the $parallel parallel probes with --parallel $per_probe (at most $per_probe handshakes in flight; the default, as for the single probe, is 16): the sandbox nginx has worker_connections ${worker_connections:-unknown} and ${listeners:-?} listening sockets"

# start_proxy UPSTREAM_PORT: sets proxy_port; the proxy adds rtt/2 each way. Not in a command
# substitution: the proxy exits with its parent (PR_SET_PDEATHSIG), which must be this shell.
start_proxy() {
  local upstream=$1 log=$work/proxy.$1 i
  "$proxy" --upstream "127.0.0.1:$upstream" --delay-ms $((rtt_ms / 2)) >"$log.port" 2>"$log" &
  proxy_pids+=($!)
  for ((i = 0; i < 100; i++)); do
    proxy_port=$(sed -n 1p "$log.port" 2>/dev/null || true)
    [[ -n $proxy_port ]] && return 0
    kill -0 "${proxy_pids[-1]}" 2>/dev/null || die "the latency proxy exited: $(cat "$log")"
    sleep 0.05
  done
  die "the latency proxy printed no port within 5 s"
}
start_proxy "$http_port"
http_proxy_port=$proxy_port
start_proxy "$ecdsa_port"
tls_proxy_port=$proxy_port

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---------------------------------------------------------------------------------------------
# Self-check: a plain HTTP GET through the proxy costs 2 RTT (connect + request/response).

echo "tls_bench: self-check, plain HTTP GET through the proxy" >&2
selfcheck_times=()
for ((k = 0; k < 5; k++)); do
  selfcheck_times+=("$(curl -sS -o /dev/null --max-time 10 -w '%{time_total}' "http://127.0.0.1:$http_proxy_port/")")
done
selfcheck_median=$(printf '%s\n' "${selfcheck_times[@]}" | median)
expected=$(awk -v r="$rtt_ms" 'BEGIN { printf "%.4f", 2 * r / 1000 }')
selfcheck_ok=$(awk -v m="$selfcheck_median" -v e="$expected" 'BEGIN { print (m >= 0.95 * e && m <= 1.05 * e) ? 1 : 0 }')
selfcheck_line="plain HTTP GET through the proxy: median $selfcheck_median s over 5 (${selfcheck_times[*]}), expected 2 RTT = $expected s +- 5%: $( ((selfcheck_ok)) && echo OK || echo FAILED)"
echo "tls_bench: $selfcheck_line" >&2
((selfcheck_ok)) || die "self-check failed: the proxy does not add the round trips it should"

# ---------------------------------------------------------------------------------------------
# Timing: every tool under hyperfine, on loopback and through the proxy.

q() { printf '%q' "$1"; }
commands_for() {  # PORT: "name<TAB>command" lines
  local p=$1
  printf 'deploycheck\t%s\n' "$(q "$bench") --host localhost --port $p --connect 127.0.0.1 --ca $(q "$ca")"
  printf 'sslscan\t%s\n' "sslscan --no-colour --sni-name=localhost 127.0.0.1:$p"
  printf 'nmap\t%s\n' "nmap -n --script ssl-enum-ciphers -p $p 127.0.0.1"
  printf 'curl (one HTTPS GET)\t%s\n' "curl -sS -o /dev/null --cacert $(q "$ca") --resolve localhost:$p:127.0.0.1 https://localhost:$p/"
  printf 'deploycheck --parallel %s\t%s\n' "$per_probe" \
    "$(q "$bench") --host localhost --port $p --connect 127.0.0.1 --ca $(q "$ca") --parallel $per_probe"
  printf 'deploycheck x%s in parallel\t%s\n' "$parallel" \
    "xargs -a $(q "$work/parallel.list") -P $parallel -I@ $(q "$bench") --host localhost --port $p --connect 127.0.0.1 --ca $(q "$ca") --parallel $per_probe"
}
seq "$parallel" >"$work/parallel.list"

# hyperfine_path PATH PORT: writes $work/hyperfine.PATH.json.
hyperfine_path() {
  local path=$1 port=$2 args=() name command
  while IFS=$'\t' read -r name command; do
    args+=(--command-name "$name" "$command")
  done < <(commands_for "$port")
  echo "tls_bench: hyperfine on $path (port $port)" >&2
  hyperfine -N --runs "$runs" --warmup 1 --style basic --export-json "$work/hyperfine.$path.json" \
    "${args[@]}" >&2
}
hyperfine_path loopback "$ecdsa_port"
hyperfine_path rtt "$tls_proxy_port"

# ---------------------------------------------------------------------------------------------
# Verdicts: deploycheck vs sslscan on every endpoint (loopback).

deploycheck_verdicts() {  # PORT -> "protocol P" and "suite P NAME" lines, sorted
  "$bench" --host localhost --port "$1" --connect 127.0.0.1 --ca "$ca" --print-verdicts 2>/dev/null |
    grep -E '^(protocol|suite) ' | sort
}
sslscan_verdicts() {  # PORT -> the same form from sslscan's output
  sslscan --no-colour --sni-name=localhost "127.0.0.1:$1" | awk '
    function proto(p) { return p == "TLSv1.0" ? "TLSv1" : p }
    /^(SSLv2|SSLv3|TLSv1\.[0-3]) +enabled/ { print "protocol " proto($1) }
    /^(Preferred|Accepted) +(SSLv2|SSLv3|TLSv1\.[0-3]) / { print "suite " proto($2) " " $5 }' | sort
}
# differences A B: "-x" for lines only in deploycheck, "+x" for lines only in sslscan.
differences() {
  comm -3 "$1" "$2" | awk -F'\t' '{ if ($1 != "") printf "only deploycheck: %s; ", $1; else printf "only sslscan: %s; ", $2 }' |
    sed 's/; $//'
}

echo "tls_bench: verdicts on ${#endpoints[@]} endpoints" >&2
verdict_rows=()
verdicts_agree=1
for entry in "${endpoints[@]}"; do
  read -r name port <<<"$entry"
  d=$work/verdicts/$name.deploycheck s=$work/verdicts/$name.sslscan
  deploycheck_verdicts "$port" >"$d"
  sslscan_verdicts "$port" >"$s"
  protocols_match=yes suites_match=yes
  cmp -s <(grep '^protocol' "$d") <(grep '^protocol' "$s") || protocols_match=no
  cmp -s <(grep '^suite' "$d") <(grep '^suite' "$s") || suites_match=no
  [[ $protocols_match == yes && $suites_match == yes ]] || verdicts_agree=0
  diffs=$(differences "$d" "$s")
  protocols=$(grep '^protocol' "$d" | cut -d' ' -f2 | paste -sd' ')
  nsuites=$(grep -c '^suite' "$d" || true)
  verdict_rows+=("| $name | $port | $protocols | $nsuites | $protocols_match | $suites_match | ${diffs:-none} |")
done

# The parallel probes through the proxy must each report what one probe on loopback does.
echo "tls_bench: verdicts of $parallel parallel probes through the proxy" >&2
probe_pids=()
for ((k = 1; k <= parallel; k++)); do
  { "$bench" --host localhost --port "$tls_proxy_port" --connect 127.0.0.1 --ca "$ca" --parallel "$per_probe" --print-verdicts \
    2>"$work/verdicts/parallel.$k.err" | grep -E '^(protocol|suite) ' | sort >"$work/verdicts/parallel.$k"; } &
  probe_pids+=($!)
done
wait_failed=0
for pid in "${probe_pids[@]}"; do wait "$pid" || wait_failed=1; done
parallel_same=0
for ((k = 1; k <= parallel; k++)); do
  cmp -s "$work/verdicts/parallel.$k" "$work/verdicts/ECDSA.deploycheck" && parallel_same=$((parallel_same + 1))
done
((wait_failed == 0 && parallel_same == parallel)) || verdicts_agree=0

# ---------------------------------------------------------------------------------------------
# Report.

stat_of() {  # PATH NAME FIELD
  jq -r --arg n "$2" --arg f "$3" '.results[] | select(.command == $n) | .[$f]' "$work/hyperfine.$1.json"
}
fmt() { awk -v v="$1" 'BEGIN { printf "%.3f", v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

d_loop=$(stat_of loopback deploycheck median) d_rtt=$(stat_of rtt deploycheck median)
par_name="deploycheck x$parallel in parallel"
p_loop=$(stat_of loopback "$par_name" median) p_rtt=$(stat_of rtt "$par_name" median)
one_name="deploycheck --parallel $per_probe"
o_loop=$(stat_of loopback "$one_name" median) o_rtt=$(stat_of rtt "$one_name" median)
s_rtt=$(stat_of rtt sslscan median) n_rtt=$(stat_of rtt nmap median)
verdict() { awk -v c="$1" 'BEGIN { print c ? "met" : "NOT met" }'; }

sslscan_version=$(sslscan --version | sed 's/\x1b\[[0-9;]*m//g' | awk 'NF { $1 = $1; print }' | paste -sd';' | sed 's/;/, /')
nmap_version=$(nmap --version | sed -n 1p)
openssl_version=$(openssl version)
hyperfine_version=$(hyperfine --version)
curl_version=$(curl --version | sed -n 1p | cut -d' ' -f1-2)

{
  echo "# TLS bench: deploycheck vs sslscan vs nmap"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) CPUs; sandbox nginx ($(nginx -v 2>&1 | sed 's/.*: //' || echo "version unknown"))."
  echo "Tools: deploycheck-bench-tls (this tree, Release, $openssl_version); sslscan $sslscan_version;"
  echo "$nmap_version; $hyperfine_version; $curl_version."
  echo
  echo "Self-check: $selfcheck_line."
  echo
  echo "## Wall time, healthy ECDSA endpoint (median of $runs, \`hyperfine -N --runs $runs --warmup 1\`)"
  echo
  echo "| command | loopback | ${rtt_ms} ms RTT (proxy) | min-max at ${rtt_ms} ms | deploycheck faster by (${rtt_ms} ms) |"
  echo "|---|---|---|---|---|"
  while IFS=$'\t' read -r name command; do
    l=$(stat_of loopback "$name" median) r=$(stat_of rtt "$name" median)
    mn=$(stat_of rtt "$name" min) mx=$(stat_of rtt "$name" max)
    echo "| $name | $(fmt "$l") s | $(fmt "$r") s | $(fmt "$mn")-$(fmt "$mx") s | $(ratio "$r" "$d_rtt")x |"
  done < <(commands_for PORT)
  echo
  echo "Targets (issue 4):"
  echo
  echo "- one endpoint under 0.3 s at ${rtt_ms} ms RTT: $(fmt "$d_rtt") s, $(verdict "$(awk -v d="$d_rtt" 'BEGIN { print (d < 0.3) }')")"
  echo "- at least 30x faster than sslscan: $(ratio "$s_rtt" "$d_rtt")x, $(verdict "$(awk -v s="$s_rtt" -v d="$d_rtt" 'BEGIN { print (s / d >= 30) }')")"
  echo "- at least 6x faster than nmap: $(ratio "$n_rtt" "$d_rtt")x, $(verdict "$(awk -v n="$n_rtt" -v d="$d_rtt" 'BEGIN { print (n / d >= 6) }')")"
  echo "- $parallel endpoints' worth ($parallel probes of the ECDSA endpoint in parallel) within 2x one" \
    "(one with the same --parallel $per_probe): loopback $(ratio "$p_loop" "$o_loop")x, ${rtt_ms} ms RTT" \
    "$(ratio "$p_rtt" "$o_rtt")x, $(verdict "$(awk -v a="$p_rtt" -v b="$o_rtt" 'BEGIN { print (a / b <= 2) }')") at ${rtt_ms} ms RTT;" \
    "against one default probe: loopback $(ratio "$p_loop" "$d_loop")x, ${rtt_ms} ms RTT $(ratio "$p_rtt" "$d_rtt")x"
  echo "  ($parallel_note)"
  echo "- the $parallel parallel probes through the proxy each reported the loopback verdicts: $parallel_same of $parallel$( ((wait_failed)) && echo ', some FAILED')"
  echo
  echo "## Verdicts: deploycheck vs sslscan, every sandbox TLS endpoint (loopback)"
  echo
  echo "Sets compared: accepted protocols, and accepted (protocol, OpenSSL suite name) pairs; sslscan's"
  echo "\"TLSv1.0\" is read as OpenSSL's \"TLSv1\". deploycheck's protocols and suite count are shown."
  echo
  echo "| endpoint | port | protocols (deploycheck) | suites | protocols match | suites match | differences |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${verdict_rows[@]}"
  echo
  echo "Not checked by deploycheck (this libssl cannot offer them; sslscan, linked to the same"
  echo "OpenSSL, reports none of them either):"
  echo
  "$bench" --host localhost --port "$ecdsa_port" --connect 127.0.0.1 --ca "$ca" --print-verdicts 2>/dev/null |
    sed -n 's/^not-checked\(-suites\)\{0,1\} /- /p'
  echo
  echo "## Commands"
  echo
  echo "P is the endpoint's port on loopback, or the proxy's port (\`deploycheck-bench-latency-proxy"
  echo "--upstream 127.0.0.1:P --delay-ms $((rtt_ms / 2))\`) for the ${rtt_ms} ms rows; CA is the sandbox CA."
  echo
  echo '```'
  commands_for P | sed -e "s|$(q "$ca")|CA|g" -e "s|$(q "$bench")|deploycheck-bench-tls|g" \
    -e "s|$(q "$work/parallel.list")|LIST|g" -e 's/^\([^\t]*\)\t\(.*\)$/# \1\n\2/'
  echo '```'
  echo
  echo "LIST holds $parallel lines; xargs -P $parallel -I@ starts one probe per line, all at once."
  echo "Verdicts: \`deploycheck-bench-tls ... --print-verdicts\` vs \`sslscan --no-colour --sni-name=localhost 127.0.0.1:P\`."
  echo "Reproduce: \`bench/tls_bench.sh\` (root not needed; about a minute)."
} >"$work/report.md"

mkdir -p "$(dirname "$out")"
cp "$work/report.md" "$out"
cat "$out"
echo "tls_bench: report written to $out" >&2
((verdicts_agree)) || die "verdicts differ (see the table above)"
