#!/usr/bin/env bash
# Verifying many static assets: deploycheck's fetch_many (as the StaticAssets suite does it)
# versus `xargs -P 16 -n 1 curl -sI` (every asset) and `wget --spider -i` (the first 1,000: it is
# sequential), against an nginx serving N files over TLS + HTTP/2 with a certificate from the
# sandbox CA, on loopback and through bench's latency proxy (deploycheck-bench-latency-proxy, TCP)
# at --rtt-ms round-trip time. Each side under `hyperfine -N`; verdicts (status per URL) must be
# identical, including the few files deleted on purpose (404).
#
#   bench/assets_bench.sh [--build-dir DIR] [--assets N] [--rtt-ms N] [--runs N] [--out FILE]
#
# Needs a build with -DDEPLOYCHECK_BUILD_BENCH=ON (targets deploycheck-bench-assets,
# deploycheck-bench-latency-proxy, deploycheck-sandboxctl), nginx, curl, wget, hyperfine.
# Writes a Markdown table (default bench/results/assets.md) and prints it. Never run in CI.
set -euo pipefail
export LC_ALL=C
PATH=$PATH:/usr/sbin:/sbin
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$repo/build
assets=10000
rtt_ms=50
runs=3
out=$repo/bench/results/assets.md
while (($#)); do
  case $1 in
    --build-dir) build=$(realpath "$2"); shift 2 ;;
    --assets) assets=$2; shift 2 ;;
    --rtt-ms) rtt_ms=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --out) out=$(realpath -m "$2"); shift 2 ;;
    *) echo "assets_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
bench=$build/bench/deploycheck-bench-assets
proxy=$build/bench/deploycheck-bench-latency-proxy
sandboxctl=$build/tools/sandbox/deploycheck-sandboxctl
for exe in "$bench" "$proxy" "$sandboxctl"; do
  [[ -x $exe ]] || { echo "assets_bench: $exe is not built (-DDEPLOYCHECK_BUILD_BENCH=ON)" >&2; exit 1; }
done
for tool in nginx curl wget hyperfine; do
  command -v $tool >/dev/null || { echo "assets_bench: $tool is missing" >&2; exit 1; }
done

work=$(mktemp -d /tmp/deploycheck-assets-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  "$sandboxctl" down --state-dir "$work/state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"$sandboxctl" up --state-dir "$work/state" ca >/dev/null
data=$(readlink "$work/state/data")
ca=$data/ca/ca.pem
# N files of 1-2 kB with hashed names, as collectstatic would write them; 3 deleted afterwards.
mkdir -p "$work/root/static"
for ((i = 0; i < assets; i++)); do
  printf '/* asset %d */\n%*s\n' "$i" $((1000 + i % 1000)) '' >"$work/root/static/a$i.0123456789ab.css"
done
names=()
for ((i = 0; i < assets; i++)); do names+=("a$i.0123456789ab.css"); done
rm "$work/root/static/${names[7]}" "$work/root/static/${names[assets / 2]}" "$work/root/static/${names[assets - 1]}"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx/tmp"
cat >"$work/nginx/nginx.conf" <<CONF
$([[ $(id -u) == 0 ]] && echo "user nobody nogroup;")
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$port ssl http2;
    ssl_certificate $data/ca/server-chain.pem;
    ssl_certificate_key $data/ca/server.key;
    root $work/root;
  }
}
CONF
chmod -R o+rX "$work"
nginx -p "$work/nginx/" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null --cacert "$ca" "https://localhost:$port/" && break; sleep 0.1; done

"$proxy" --upstream "127.0.0.1:$port" --delay-ms $((rtt_ms / 2)) >"$work/proxy.port" &
pids+=($!)
for _ in $(seq 50); do [[ -s $work/proxy.port ]] && break; sleep 0.1; done
proxied=$(head -1 "$work/proxy.port")

mkdir -p "$(dirname "$out")"
{
  echo "| where | tool | assets | mean time | verdicts |"
  echo "|---|---|---|---|---|"
} >"$work/table.md"

measure() {  # where port
  local where=$1 p=$2 list="$work/urls-$1.txt" first="$work/first-$1.txt"
  printf "https://localhost:$p/static/%s\n" "${names[@]}" >"$list"
  head -1000 "$list" >"$first"
  # Verdicts once each, then compared.
  "$bench" --list "$list" --out "$work/dc-$where.txt" --ca "$ca" 2>/dev/null
  xargs -P 16 -n 1 -a "$list" curl -sI --cacert "$ca" -o /dev/null -w '%{http_code} %{url}\n' >"$work/curl-$where.txt" || true
  local same=identical
  diff <(sort "$work/dc-$where.txt") <(sort "$work/curl-$where.txt") >/dev/null || same=DIFFERENT
  # The peers take minutes per run on 10,000 assets: one run each (hyperfine still times it).
  local peer_runs=1
  hyperfine -N --runs "$runs" --warmup 1 --export-json "$work/h-dc-$where.json" \
    "$bench --list $list --out $work/dc-run.txt --ca $ca" >/dev/null
  hyperfine -N --runs "$peer_runs" --export-json "$work/h-curl-$where.json" \
    "xargs -P 16 -n 1 -a $list curl -sI --cacert $ca -o /dev/null" >/dev/null
  hyperfine -N --runs "$peer_runs" -i --export-json "$work/h-wget-$where.json" \
    "wget -q --spider --ca-certificate=$ca -i $first" >/dev/null
  local dc curl wget
  dc=$(python3 -c "import json;print('%.2f s' % json.load(open('$work/h-dc-$where.json'))['results'][0]['mean'])")
  curl=$(python3 -c "import json;print('%.2f s' % json.load(open('$work/h-curl-$where.json'))['results'][0]['mean'])")
  local n_first
  n_first=$(wc -l <"$first")
  wget=$(python3 -c "import json;r=json.load(open('$work/h-wget-$where.json'))['results'][0]['mean'];print('%.2f s (%.1f ms per asset)' % (r, 1000 * r / $n_first))")
  {
    echo "| $where | deploycheck (fetch_many, HTTP/2) | $assets | $dc | $same to curl's |"
    echo "| $where | xargs -P 16 -n 1 curl -sI | $assets | $curl | (reference) |"
    echo "| $where | wget --spider -i | $n_first | $wget | not compared |"
  } >>"$work/table.md"
}
measure loopback "$port"
measure "rtt${rtt_ms}ms" "$proxied"
{
  echo "Static assets: $assets files over TLS + HTTP/2 (nginx $(nginx -v 2>&1 | sed 's/.*nginx\///')), $(curl --version | head -1 | cut -d' ' -f1-2), $(wget --version | head -1 | cut -d' ' -f1-3), hyperfine $(hyperfine --version | cut -d' ' -f2)"
  echo
  cat "$work/table.md"
} >"$out"
cat "$out"
