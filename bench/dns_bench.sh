#!/usr/bin/env bash
# The same 1,000 A records (host0001 ... host1000.bench.deploycheck.test, served by the sandbox's
# knot) resolved side by side, on loopback and through bench's latency proxy at 50 ms RTT:
#
#   deploycheck   deploycheck-bench-dns (dns::resolve_all, the probe the DNS suite gathers with)
#   dig per name  one `dig @127.0.0.1 -p P +short NAME A` process per name
#   dig -f        one dig process reading all 1,000 queries from a file
#   kdig -P16     xargs -P16 -n1 kdig @127.0.0.1 -p P +short A
#   adnshost      asynchronous; it only talks to port 53, so it runs inside `unshare --net` with
#                 its own knot (the same zone file) on 127.0.0.1:53 and the proxy on
#                 127.0.0.2:53; deploycheck runs there too, as a control
#
# Self-check first: `dig -f` on the 1,000 names through the proxy must cost 1,000 RTT ± 5%,
# or nothing else is measured. Each command runs --runs times (default 3) and the median is
# reported; every run's answers are compared with dig's (one dig per name on loopback, sorted)
# and its unanswered names counted. Root is needed (unshare, knot on port 53, the proxy's
# 4 MiB socket buffers).
#
#   bench/dns_bench.sh [--build-dir DIR] [--no-build] [--runs N] [--rtt-ms N] [--out FILE]
#                      [--max-seconds N] [--bench-dns EXE]
#
# --bench-dns measures another build of deploycheck-bench-dns (e.g. a changed probe) in the
# deploycheck rows.
#
# Writes a Markdown report (default bench/results/dns.md) and prints it. Takes about 8 minutes,
# bounded by --max-seconds (default 1800); every process it starts is stopped on exit. Exit
# status 1 when the self-check fails or deploycheck's answers differ from dig's or any of its
# queries timed out. Never run in CI.
set -euo pipefail
export LC_ALL=C
PATH=$PATH:/usr/sbin:/sbin

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
self="$repo/bench/dns_bench.sh"

die() {
  echo "dns_bench: $*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Measuring: every run of every command leaves WORK/runs/<row>.<path>.<k>.{out,err,rc,time}.

run_timeout=300  # seconds for one run of one command (one dig per name at 50 ms: ~70 s)

# timed ROW PATH K STDIN -- COMMAND...: runs COMMAND once with stdin from STDIN, wall-clock timed.
timed() {
  local row=$1 path=$2 k=$3 stdin=$4
  shift 5
  local base="$work/runs/$row.$path.$k" start end rc=0
  start=$EPOCHREALTIME
  timeout --kill-after=5 "$run_timeout" "$@" <"$stdin" >"$base.out" 2>"$base.err" || rc=$?
  end=$EPOCHREALTIME
  echo "$rc" >"$base.rc"
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f\n", b - a }' >"$base.time"
  if [[ $rc == 124 || $rc == 137 ]]; then
    echo "dns_bench: $row ($path, run $k) did not finish within $run_timeout s" >&2
  fi
}

# measure ROW PATH STDIN -- COMMAND...: --runs runs, one progress line.
measure() {
  local row=$1 path=$2 stdin=$3
  shift 3
  local k times=""
  for ((k = 1; k <= runs; k++)); do
    timed "$row" "$path" "$k" "$stdin" "$@"
    times+=" $(cat "$work/runs/$row.$path.$k.time")"
  done
  echo "  $row, $path:$times s" >&2
}

# Datagrams the server's UDP socket on IP:PORT dropped so far (its receive buffer was full),
# from the socket's skmem "d" counter; "?" when ss cannot tell.
server_drops() {
  ss -uanm "src $1:$2" 2>/dev/null | grep -o 'd[0-9]*)' | tr -d 'd)' | sed -n 1p | grep . || echo "?"
}

# run_row ROW PATH IP PORT: the row's command against IP:PORT, --runs times, noting how many of
# its queries the server dropped.
run_row() {
  local row=$1 path=$2 ip=$3 port=$4 server_port=${5:-$4} before after
  before=$(server_drops 127.0.0.1 "$server_port")
  run_command "$row" "$path" "$ip" "$port"
  after=$(server_drops 127.0.0.1 "$server_port")
  if [[ $before == "?" || $after == "?" ]]; then
    echo "$row $path ?" >>"$work/server-drops"
  else
    echo "$row $path $((after - before))" >>"$work/server-drops"
  fi
}

run_command() {
  local row=$1 path=$2 ip=$3 port=$4
  case $row in
    deploycheck)
      measure "$row" "$path" /dev/null -- "$bench_dns" --server "$ip:$port" --names "$names" ;;
    dig_each)
      measure "$row" "$path" "$names" -- bash -c \
        'while IFS= read -r name; do dig @"$1" -p "$2" +short "$name" A; done' dig-each "$ip" "$port" ;;
    dig_f)
      measure "$row" "$path" /dev/null -- dig @"$ip" -p "$port" +short -f "$queries" ;;
    kdig)
      measure "$row" "$path" /dev/null -- xargs -a "$names" -P16 -n1 kdig @"$ip" -p "$port" +short A ;;
    adnshost)
      measure "$row" "$path" "$names" -- adnshost --asynch --config "nameserver $ip" --type a --pipe ;;
    adnshost_200)
      measure "$row" "$path" /dev/null -- bash -c \
        'ip=$1; shift; for batch; do adnshost --asynch --config "nameserver $ip" --type a --pipe <"$batch"; done' \
        adnshost-batches "$ip" "$work"/batch.* ;;
    *) die "unknown row $row" ;;
  esac
}

# Waits until a DNS server on IP PORT answers for the bench zone (knot: ~25 ms after start).
wait_for_dns() {
  local ip=$1 port=$2 i
  for ((i = 0; i < 100; i++)); do
    if dig @"$ip" -p "$port" +time=1 +tries=1 +short host0001.bench.deploycheck.test A 2>/dev/null |
      grep -qx '127.0.0.1'; then
      return 0
    fi
    sleep 0.05
  done
  die "no answer for host0001.bench.deploycheck.test from $ip:$port after 5 s"
}

# start_proxy LISTEN_IP PORT UPSTREAM LOG: sets proxy_pid and proxy_port.
start_proxy() {
  local listen=$1 port=$2 upstream=$3 log=$4 i
  local port_args=()
  [[ $port == 0 ]] || port_args=(--port "$port")
  "$proxy" --listen "$listen" "${port_args[@]}" --upstream "$upstream" \
    --delay-ms $((rtt_ms / 2)) >"$log.port" 2>"$log" &
  proxy_pid=$!
  for ((i = 0; i < 100; i++)); do
    proxy_port=$(sed -n 1p "$log.port" 2>/dev/null || true)
    [[ -n $proxy_port ]] && return 0
    kill -0 "$proxy_pid" 2>/dev/null || die "the latency proxy exited: $(cat "$log")"
    sleep 0.05
  done
  die "the latency proxy printed no port within 5 s"
}

# The proxy's counters for what ran since the previous call (SIGUSR1), appended to its log.
proxy_counters() {
  local log=$1 lines
  lines=$(wc -l <"$log")
  kill -USR1 "$proxy_pid"
  for ((i = 0; i < 40; i++)); do
    (($(wc -l <"$log") > lines)) && break
    sleep 0.05
  done
  tail -n1 "$log"
}

# ---------------------------------------------------------------------------------------------
# Inside `unshare --net --pid`: lo, a knot on 127.0.0.1:53, the proxy on 127.0.0.2:53.

netns_part() {
  work=$1 runs=$2 rtt_ms=$3 bench_dns=$4 proxy=$5
  names=$work/names queries=$work/queries
  # Globals, not locals: the EXIT trap runs after this function has returned.
  dir=$work/netns knot_pid="" proxy_pid=""
  netns_cleanup() {
    local pid
    for pid in $proxy_pid $knot_pid; do
      kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    true
  }
  trap netns_cleanup EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT

  ip link set lo up
  cat >"$dir/knot.conf" <<EOF
# knot for the adnshost comparison: the sandbox's bench zone on 127.0.0.1:53, configured as the
# sandbox's own knot instances are (environments/sandbox/dns/knot.conf.in).
server:
    rundir: "$dir"
    listen: 127.0.0.1@53
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$dir"
log:
  - target: stderr
    any: info
template:
  - id: default
    storage: "$dir"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: bench.deploycheck.test
EOF
  /usr/sbin/knotd -c "$dir/knot.conf" >"$dir/knotd.log" 2>&1 &
  knot_pid=$!
  wait_for_dns 127.0.0.1 53
  start_proxy 127.0.0.2 53 127.0.0.1:53 "$dir/proxy.log"

  echo "inside unshare --net: knot on 127.0.0.1:53, proxy on 127.0.0.2:53 (+$((rtt_ms / 2)) ms each way)" >&2
  local row
  for row in adnshost adnshost_200 deploycheck; do
    run_row "$row" netns_loopback 127.0.0.1 53
  done
  for row in adnshost adnshost_200 deploycheck; do
    run_row "$row" netns_rtt 127.0.0.2 53 53
    echo "$row: $(proxy_counters "$dir/proxy.log")" >>"$work/proxy-counters"
  done
}

if [[ ${1:-} == --netns-part ]]; then
  shift
  netns_part "$@"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# The comparison.

build=$repo/build-bench
do_build=1
bench_dns=""
runs=3
rtt_ms=50
out=$repo/bench/results/dns.md
max_seconds=1800
while (($#)); do
  case $1 in
    --build-dir) build=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --runs) runs=$2; shift 2 ;;
    --rtt-ms) rtt_ms=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --max-seconds) max_seconds=$2; shift 2 ;;
    --bench-dns) bench_dns=$(realpath "$2"); shift 2 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$self"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs expects a positive integer"
[[ $rtt_ms =~ ^[0-9]+$ && $((rtt_ms % 2)) == 0 && $rtt_ms -gt 0 ]] ||
  die "--rtt-ms expects an even number of milliseconds"
[[ $max_seconds =~ ^[1-9][0-9]*$ ]] || die "--max-seconds expects a positive integer"

# Bounded in time: the whole run again under timeout(1), which sends TERM to our process group;
# the EXIT trap below then stops everything we started.
if [[ -z ${DNS_BENCH_BOUNDED:-} ]]; then
  export DNS_BENCH_BOUNDED=1
  again=(--build-dir "$build" --runs "$runs" --rtt-ms "$rtt_ms" --out "$out" --max-seconds "$max_seconds")
  ((do_build)) || again+=(--no-build)
  [[ -z ${bench_dns:-} ]] || again+=(--bench-dns "$bench_dns")
  exec timeout --kill-after=30 "$max_seconds" "$self" "${again[@]}"
fi

((EUID == 0)) || die "run as root: adnshost needs its own network namespace with knot on port 53"
for tool in dig kdig adnshost knotd unshare ip timeout xargs awk; do
  command -v "$tool" >/dev/null ||
    die "$tool is missing (Debian: bind9-dnsutils knot-dnsutils adns-tools knot util-linux iproute2)"
done

if ((do_build)); then
  if [[ ! -f $build/CMakeCache.txt ]]; then
    cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEPLOYCHECK_BUILD_TESTS=OFF \
      -DDEPLOYCHECK_BUILD_BENCH=ON >/dev/null
  fi
  cmake --build "$build" --target deploycheck-bench-dns deploycheck-bench-latency-proxy \
    deploycheck-sandboxctl >/dev/null
fi
bench_dns=${bench_dns:-$build/bench/deploycheck-bench-dns}
proxy=$build/bench/deploycheck-bench-latency-proxy
sandboxctl=$build/tools/sandbox/deploycheck-sandboxctl
for exe in "$bench_dns" "$proxy" "$sandboxctl"; do
  [[ -x $exe ]] || die "$exe is missing: configure with -DDEPLOYCHECK_BUILD_BENCH=ON and build"
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d /tmp/deploycheck-dnsbench.XXXXXX)
state=$work/state
proxy_pid=""
netns_pid=""
cleanup() {
  local rc=$?
  set +e
  local pid
  for pid in $netns_pid $proxy_pid; do
    kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  [[ ! -d $state ]] || "$sandboxctl" down --state-dir "$state" >/dev/null 2>&1
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
mkdir -p "$work/runs" "$work/netns"

echo "dns_bench: starting the sandbox's dns_primary (knot)" >&2
"$sandboxctl" up --state-dir "$state" dns_primary >&2
env_file=$state/sandbox.env
port=$(sed -n 's/^SANDBOX_DNS_PRIMARY_PORT=//p' "$env_file")
data=$(sed -n 's/^SANDBOX_DIR=//p' "$env_file")
zone=$data/knot/dns_primary/bench.deploycheck.test.zone
[[ -n $port && -f $zone ]] || die "sandbox.env has no SANDBOX_DNS_PRIMARY_PORT or $zone is missing"
cp "$zone" "$work/netns/"

names=$work/names
queries=$work/queries
for ((i = 1; i <= 1000; i++)); do printf 'host%04d.bench.deploycheck.test\n' "$i"; done >"$names"
sed 's/$/ A/' "$names" >"$queries"
split -l 200 "$names" "$work/batch."
wait_for_dns 127.0.0.1 "$port"

start_proxy 127.0.0.1 0 "127.0.0.1:$port" "$work/proxy.log"
echo "dns_bench: knot on 127.0.0.1:$port, latency proxy on 127.0.0.1:$proxy_port (RTT $rtt_ms ms)" >&2

echo "loopback:" >&2
for row in deploycheck dig_each dig_f kdig; do
  run_row "$row" loopback 127.0.0.1 "$port"
done

# The reference: one dig per name, on loopback, first run, as `name address` lines.
reference=$work/reference
paste -d' ' "$names" <(grep -v '^;' "$work/runs/dig_each.loopback.1.out") | awk 'NF == 2' |
  sort >"$reference"
(($(wc -l <"$reference") == 1000)) || die "dig itself did not answer all 1,000 names on loopback"

echo "$rtt_ms ms RTT (self-check first: dig -f = 1,000 RTT ± 5%):" >&2
proxy_counters "$work/proxy.log" >/dev/null
drops_before=$(server_drops 127.0.0.1 "$port")
timed dig_f rtt 1 /dev/null -- dig @127.0.0.1 -p "$proxy_port" +short -f "$queries"
self_check=$(cat "$work/runs/dig_f.rtt.1.time")
expected=$(awk -v r="$rtt_ms" 'BEGIN { printf "%.1f", 1000 * r / 1000 }')
awk -v t="$self_check" -v e="$expected" 'BEGIN { exit !(t >= 0.95 * e && t <= 1.05 * e) }' ||
  die "self-check failed: dig -f on 1,000 names through the proxy took $self_check s, expected $expected s ± 5%"
echo "  self-check: dig -f took $self_check s for 1,000 × $rtt_ms ms = $expected s: within 5%" >&2
for ((k = 2; k <= runs; k++)); do
  timed dig_f rtt "$k" /dev/null -- dig @127.0.0.1 -p "$proxy_port" +short -f "$queries"
done
echo "  dig_f, rtt: $(cat "$work"/runs/dig_f.rtt.*.time | tr '\n' ' ')s" >&2
echo "dig_f: $(proxy_counters "$work/proxy.log")" >>"$work/proxy-counters"
drops_after=$(server_drops 127.0.0.1 "$port")
if [[ $drops_before == "?" || $drops_after == "?" ]]; then
  echo "dig_f rtt ?" >>"$work/server-drops"
else
  echo "dig_f rtt $((drops_after - drops_before))" >>"$work/server-drops"
fi
for row in deploycheck dig_each kdig; do
  run_row "$row" rtt 127.0.0.1 "$proxy_port" "$port"
  echo "$row: $(proxy_counters "$work/proxy.log")" >>"$work/proxy-counters"
done

echo "adnshost (unshare --net --pid):" >&2
unshare --net --pid --fork --kill-child -- "$self" --netns-part "$work" "$runs" "$rtt_ms" \
  "$bench_dns" "$proxy" &
netns_pid=$!
wait "$netns_pid" || die "the network-namespace part failed (exit $?)"
netns_pid=""

# ---------------------------------------------------------------------------------------------
# Judging and the report.

# normalised ROW FILE: the run's answers as sorted `name address` lines; sorted addresses alone
# when the output cannot tell which name an address answers (kdig's parallel output, or a
# sequential dig output with a line missing or extra).
normalised() {
  local row=$1 file=$2
  case $row in
    deploycheck) awk 'NF >= 2 { for (i = 2; i <= NF; i++) print $1, $i }' "$file" | sort ;;
    dig_each | dig_f)
      # In the names' order, one address each (every bench name has exactly one A record).
      if (($(grep -cv '^;' "$file" || true) == 1000)); then
        paste -d' ' "$names" <(grep -v '^;' "$file") | sort
      else
        grep -v '^;' "$file" | sort
      fi
      ;;
    kdig) grep -E '^[0-9.]+$' "$file" | sort ;;
    adnshost*) awk '$2 == "A" { print $1, $3 }' "$file" | sort ;;
  esac
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# cell_time ROW PATH: the median seconds, or "—" when not measured.
cell_time() {
  local files=("$work/runs/$1.$2".*.time)
  [[ -f ${files[0]} ]] || { echo "—"; return; }
  cat "${files[@]}" | median | awk '{ printf($1 < 1 ? "%.3f" : "%.2f", $1) }'
}

# judge ROW PATHS...: sets answers_match ("yes" when every run of every path gave dig's
# answers, else which runs differed and how many answers were missing or wrong) and unanswered
# (the per-run counts of names without an answer; deploycheck: its own timeouts). What a
# differing run printed besides answers goes to WORK/differences for the report.
deploycheck_ok=1
judge() {
  local row=$1
  shift
  local path f got want differ=() counts=()
  for path in "$@"; do
    for f in "$work/runs/$row.$path".*.out; do
      [[ -f $f ]] || continue
      local k=${f%.out}
      k=${k##*.}
      got=$(normalised "$row" "$f")
      if [[ $(sed -n 1p <<<"$got" | awk '{ print NF }') == 2 ]]; then
        want=$(cat "$reference")
      else
        want=$(awk '{ print $2 }' "$reference" | sort)
      fi
      if [[ $got != "$want" ]]; then
        local missing wrong
        missing=$(comm -23 <(echo "$want") <(echo "$got") | wc -l)
        wrong=$(comm -13 <(echo "$want") <(echo "$got") | grep -c . || true)
        differ+=("$path run $k: $missing missing, $wrong not dig's")
        {
          echo "$row, $path, run $k: $missing of dig's answers missing, $wrong not dig's; besides answers it printed:"
          grep '^;' "$f" | sed -n '1,5p'
          sed -n '1,5p' "${f%.out}.err"
        } >>"$work/differences"
      fi
      if [[ $row == deploycheck ]]; then
        counts+=("$(sed -n 's/^timeouts: //p' "${f%.out}.err")")
      else
        counts+=("$((1000 - $(wc -l <<<"$got")))")
      fi
    done
  done
  unanswered=$(printf '%s\n' "${counts[@]}" | sort -un | tr '\n' ' ' | sed 's/ $//; s/ /, /g')
  if ((${#differ[@]} == 0)); then
    answers_match="yes"
  else
    answers_match="no ($(IFS=';'; echo "${differ[*]}" | sed 's/;/; /g'))"
  fi
  if [[ $row == deploycheck ]]; then
    [[ $answers_match == yes && $unanswered == 0 ]] || deploycheck_ok=0
  fi
}

version() { "$@" 2>&1 | sed -n 1p; }
dig_version=$(version dig -v)
kdig_version=$(version kdig -V)
knot_version=$(version knotd -V)
adns_version=$(version adnshost --version)
cares_version=$(pkg-config --modversion libcares 2>/dev/null || echo "?")
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo "?")
dirty=$(git -C "$repo" status --porcelain -- probes/dns 2>/dev/null | wc -l)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

rows=(
  "deploycheck|deploycheck-bench-dns (dns::resolve_all)|loopback|rtt"
  "dig_each|one \`dig +short NAME A\` per name|loopback|rtt"
  "dig_f|\`dig -f\` (one process)|loopback|rtt"
  "kdig|\`xargs -P16 -n1 kdig +short A\`|loopback|rtt"
  "adnshost|adnshost --asynch (netns, port 53)|netns_loopback|netns_rtt"
  "adnshost_200|adnshost, 5 batches of 200 (netns)|netns_loopback|netns_rtt"
)
# deploycheck again in the namespace, against the same knot as adnshost: the control.
control="deploycheck|deploycheck-bench-dns (netns, port 53: control)|netns_loopback|netns_rtt"

dc_loopback=$(cell_time deploycheck loopback)
dc_rtt=$(cell_time deploycheck rtt)
target_met() {
  awk -v l="$dc_loopback" -v r="$dc_rtt" 'BEGIN { exit !(l < 0.05 && r < 0.15) }'
}

report() {
  echo "# DNS: 1,000 A records, side by side"
  echo
  echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) by \`bench/dns_bench.sh\` (median of $runs run(s); the"
  echo "self-check run counts as the first \`dig -f\` run at $rtt_ms ms). Machine: $(nproc) cores,"
  echo "${cpu:-unknown CPU}, Linux $(uname -r); load average $load_before before, $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "after (other work on the machine shows here). deploycheck $commit, probes/dns"
  echo "$( ((dirty)) && echo "with uncommitted changes" || echo "as committed"), Release build, c-ares $cares_version; the deploycheck rows ran"
  echo "\`$bench_dns\`."
  echo
  echo "Server: knot ($knot_version), one UDP worker, the sandbox's zone bench.deploycheck.test"
  echo "(\`deploycheck-sandboxctl up dns_primary\`). $rtt_ms ms RTT: bench's latency proxy"
  echo "(\`deploycheck-bench-latency-proxy --delay-ms $((rtt_ms / 2))\`, each datagram sent at its kernel"
  echo "arrival time + $((rtt_ms / 2)) ms each way, 4 MiB socket buffers). Peers: $dig_version;"
  echo "$kdig_version; $adns_version."
  echo
  echo "| tool | loopback s | $rtt_ms ms RTT s | answers match dig | timeouts |"
  echo "|---|---:|---:|---|---:|"
  local line row label lo rt
  for line in "${rows[@]:0:4}" "$control" "${rows[@]:4}"; do
    IFS='|' read -r row label lo rt <<<"$line"
    judge "$row" "$lo" "$rt"
    echo "| $label | $(cell_time "$row" "$lo") | $(cell_time "$row" "$rt") | $answers_match | $unanswered |"
  done
  echo
  echo "Timeouts: deploycheck's own count of queries that got no reply within timeout × attempts;"
  echo "for the other tools, names left without an answer. Answers: every run's answers, sorted, equal"
  echo "to one dig per name on loopback (kdig's parallel output has no names: its addresses are"
  echo "compared). The adnshost rows and the control row run inside \`unshare --net --pid\` against"
  echo "a knot with the same zone on 127.0.0.1:53 and the proxy on 127.0.0.2:53."
  echo
  if target_met; then
    echo "Target (issue 5: under 0.05 s on loopback, under 0.15 s at 50 ms RTT): **met** ($dc_loopback s, $dc_rtt s)."
  else
    echo "Target (issue 5: under 0.05 s on loopback, under 0.15 s at 50 ms RTT): **missed** ($dc_loopback s, $dc_rtt s)."
  fi
  echo
  echo "Self-check: \`dig -f\` on 1,000 names through the proxy took $self_check s (1,000 × $rtt_ms ms = $expected s ± 5%)."
  echo
  echo "## Commands"
  echo
  echo '```'
  echo "bench/dns_bench.sh --runs $runs --rtt-ms $rtt_ms"
  echo "# P = knot's port (loopback) or the proxy's port ($rtt_ms ms RTT); NAMES = host0001 ... host1000"
  echo "deploycheck-bench-dns --server 127.0.0.1:P --names NAMES"
  echo 'while read -r name; do dig @127.0.0.1 -p P +short "$name" A; done < NAMES'
  echo "dig @127.0.0.1 -p P +short -f QUERIES        # lines \"hostNNNN.bench.deploycheck.test A\""
  echo "xargs -a NAMES -P16 -n1 kdig @127.0.0.1 -p P +short A"
  echo "adnshost --asynch --config 'nameserver 127.0.0.1' --type a --pipe < NAMES   # 127.0.0.2 = proxy"
  echo '```'
  echo
  echo "## Per run (seconds)"
  echo
  local f
  for f in "$work"/runs/*.1.time; do
    local key=${f##*/}
    key=${key%.1.time}
    echo "- $key: $(cat "$work/runs/$key".*.time | tr '\n' ' ')"
  done
  echo
  echo "## deploycheck's own account (stderr of each run)"
  echo
  echo '```'
  for f in "$work"/runs/deploycheck.*.err; do
    echo "${f##*/}: $(head -n1 "$f")"
  done
  echo '```'
  echo
  echo "## Latency proxy counters, per row at $rtt_ms ms"
  echo
  echo '```'
  cat "$work/proxy-counters"
  echo '```'
  if [[ -s $work/differences ]]; then
    echo
    echo "## Runs whose answers differ from dig's"
    echo
    echo '```'
    cat "$work/differences"
    echo '```'
  fi
  echo
  echo "## Queries knot dropped (its UDP receive buffer full), all runs of a row"
  echo
  echo '```'
  cat "$work/server-drops"
  echo '```'
}

mkdir -p "$(dirname "$out")"
report >"$work/report.md"
cp "$work/report.md" "$out"
cat "$out"
echo "dns_bench: wrote $out" >&2
((deploycheck_ok)) || die "deploycheck's answers differ from dig's or some of its queries timed out (see the table)"
