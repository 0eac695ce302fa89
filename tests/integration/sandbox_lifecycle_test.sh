#!/usr/bin/env bash
# Lifecycle of deploycheck-sandboxctl: `up` every module and `down` again, twice in a row in fresh
# state dirs, then once more tied to a watched pid that exits. After each stop nothing may be
# left: no supervisor, no service process (by recorded pid, by process group, and by `pgrep -f`
# on the state and data dir paths), no listening port, no data dir. sandbox.env must be 0600.
#
# usage: sandbox_lifecycle_test.sh PATH/TO/deploycheck-sandboxctl [TEMPLATES_DIR]
set -euo pipefail

tool=${1:?usage: $0 PATH/TO/deploycheck-sandboxctl [TEMPLATES_DIR]}
templates_args=()
if [[ $# -ge 2 ]]; then templates_args=(--templates "$2"); fi
[[ -x $tool ]] || { echo "FAIL: $tool is not an executable (expected the built deploycheck-sandboxctl)" >&2; exit 1; }

work=$(mktemp -d /tmp/deploycheck-lifecycle.XXXXXX)
state_dirs=()
cleanup() {
  # Leave nothing behind even when an assertion failed halfway.
  for dir in "${state_dirs[@]}"; do "$tool" down --state-dir "$dir" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Values of sandbox.env without sourcing it (it holds secrets in later modules: never print it).
env_value() { sed -n "s/^$2=//p" "$1" | head -n1; }

port_is_free() {
  if command -v ss >/dev/null; then
    [[ -z $(ss -Hltn "sport = :$1") ]]
  else
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# Whether pid $1 still runs. A zombie does not count: it holds nothing, and a detached
# supervisor's zombie waits for init (not us) to reap it.
is_running() {
  local stat
  stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $stat != Z* ]]
}

# Waits up to $2 seconds for pid $1 to stop running.
wait_gone() {
  local pid=$1 deadline=$((SECONDS + $2))
  while is_running "$pid"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# Everything the sandbox had must be gone: pids, process groups, processes naming our paths,
# ports, and the data dir.
assert_nothing_left() {
  local what=$1 state=$2 data=$3 pids=$4 pgid=$5 ports=$6
  for pid in $pids; do
    is_running "$pid" && fail "$what: pid $pid ($(ps -o cmd= -p "$pid")) still runs after stop"
  done
  local left="" pid
  for pid in $(pgrep -g "$pgid" || true); do
    if is_running "$pid"; then left+=" $pid"; fi
  done
  [[ -z $left ]] || fail "$what: process group $pgid still has pids:$left"
  left=$(pgrep -f -- "$state" || true)
  [[ -z $left ]] || fail "$what: processes still name $state: $(ps -o pid=,cmd= -p "${left//$'\n'/,}")"
  left=$(pgrep -f -- "$data" || true)
  [[ -z $left ]] || fail "$what: processes still name $data: $(ps -o pid=,cmd= -p "${left//$'\n'/,}")"
  for port in $ports; do port_is_free "$port" || fail "$what: port $port is still listening"; done
  [[ ! -e $data ]] || fail "$what: the data dir $data still exists"
  [[ ! -e $state/data && ! -e $state/sandbox.env ]] || fail "$what: $state still points at data"
}

one_round() {
  local round=$1 state="$work/round$1/state" out
  state_dirs+=("$state")
  out=$("$tool" up --state-dir "$state" "${templates_args[@]}" ca nginx appenv) ||
    fail "round $round: up exited $? (expected 0)"
  echo "$out" | sed "s/^/  round $round: /"
  grep -q '^nginx ready on 127.0.0.1:[0-9]* (https), 127.0.0.1:[0-9]* (http) in [0-9]* ms$' <<<"$out" ||
    fail "round $round: expected 'nginx ready on ... in N ms' in up's output"

  local env_path
  env_path=$("$tool" env --state-dir "$state") || fail "round $round: env exited non-zero"
  [[ $env_path == "$state/sandbox.env" ]] || fail "round $round: env printed '$env_path'"
  [[ -f $env_path ]] || fail "round $round: $env_path is not a file"
  local mode
  mode=$(stat -L -c %a "$env_path")
  [[ $mode == 600 ]] || fail "round $round: sandbox.env has mode $mode, expected 600"

  local data https http
  data=$(env_value "$env_path" SANDBOX_DIR)
  https=$(env_value "$env_path" SANDBOX_NGINX_HTTPS_PORT)
  http=$(env_value "$env_path" SANDBOX_NGINX_HTTP_PORT)
  for key in SANDBOX_CA_FILE SANDBOX_NGINX_ACCESS_LOG SANDBOX_APPENV_DIR; do
    [[ -n $(env_value "$env_path" $key) ]] || fail "round $round: sandbox.env lacks $key"
  done
  [[ $data == /tmp/deploycheck.* && -d $data ]] || fail "round $round: SANDBOX_DIR='$data'"
  mode=$(stat -c %a "$data")
  [[ $mode == 711 ]] || fail "round $round: data dir mode $mode, expected 711"
  [[ $(readlink "$state/data") == "$data" ]] || fail "round $round: $state/data does not point at $data"
  # The state dir holds pointers, pid files and locks only.
  local stray
  stray=$(find "$state" -mindepth 1 -type f ! -name lock ! -name started ! -name '*.pid')
  [[ -z $stray ]] || fail "round $round: unexpected files in the state dir: $stray"
  for file in "$data"/*.env; do
    mode=$(stat -c %a "$file")
    case $file in
      *.public.env) [[ $mode == 644 ]] || fail "round $round: $file has mode $mode, expected 644" ;;
      *) [[ $mode == 600 ]] || fail "round $round: $file has mode $mode, expected 600" ;;
    esac
  done

  if command -v curl >/dev/null; then
    local body
    body=$(curl -sS --max-time 5 --cacert "$(env_value "$env_path" SANDBOX_CA_FILE)" \
      "https://localhost:$https/health") || fail "round $round: curl https://localhost:$https/health failed"
    [[ $body == '{"status":"healthy"}' ]] || fail "round $round: /health answered '$body'"
  fi

  local record supervisor service
  record=$(cat "$state/nginx.pid")
  supervisor=$(sed -n 's/.*supervisor=\([0-9]*\).*/\1/p' <<<"$record")
  service=$(sed -n 's/.*service=\([0-9]*\).*/\1/p' <<<"$record")
  [[ $supervisor -gt 0 && $service -gt 0 ]] || fail "round $round: bad pid record '$record'"
  [[ $(ps -o pgid= -p "$service" | tr -d ' ') == "$service" ]] ||
    fail "round $round: nginx (pid $service) does not lead its own process group"
  local pids="$supervisor $(pgrep -g "$service" | tr '\n' ' ')"

  out=$("$tool" up --state-dir "$state" "${templates_args[@]}" nginx) ||
    fail "round $round: a second up exited non-zero"
  grep -q "^nginx already running (supervisor pid $supervisor)" <<<"$out" ||
    fail "round $round: a second up did not find nginx running: $out"

  "$tool" status --state-dir "$state" >/dev/null || fail "round $round: status exited non-zero"
  "$tool" down --state-dir "$state" | sed "s/^/  round $round: /"
  assert_nothing_left "round $round" "$state" "$data" "$pids" "$service" "$https $http"
  "$tool" down --state-dir "$state" >/dev/null || fail "round $round: a second down exited non-zero"
  echo "  round $round: up, down and a second down left nothing behind"
}

watched_round() {
  local state="$work/watched/state"
  state_dirs+=("$state")
  sleep 300 &
  local watched=$!
  "$tool" up --state-dir "$state" --watch-pid "$watched" "${templates_args[@]}" ca nginx >/dev/null ||
    fail "watched: up exited non-zero"
  local env_path data https http record supervisor service pids
  env_path=$("$tool" env --state-dir "$state")
  data=$(env_value "$env_path" SANDBOX_DIR)
  https=$(env_value "$env_path" SANDBOX_NGINX_HTTPS_PORT)
  http=$(env_value "$env_path" SANDBOX_NGINX_HTTP_PORT)
  record=$(cat "$state/nginx.pid")
  supervisor=$(sed -n 's/.*supervisor=\([0-9]*\).*/\1/p' <<<"$record")
  service=$(sed -n 's/.*service=\([0-9]*\).*/\1/p' <<<"$record")
  pids="$supervisor $(pgrep -g "$service" | tr '\n' ' ')"
  kill "$watched"
  wait "$watched" 2>/dev/null || true
  wait_gone "$supervisor" 10 || fail "watched: the supervisor (pid $supervisor) still runs 10 s after the watched pid exited"
  assert_nothing_left "watched" "$state" "$data" "$pids" "$service" "$https $http"
  echo "  watched: the services stopped and the data dir went away when the watched pid exited"
}

echo "sandbox lifecycle as $(id -un), tool $tool"
one_round 1
one_round 2
watched_round
echo "PASS: sandbox lifecycle"
