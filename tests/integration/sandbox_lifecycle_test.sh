#!/usr/bin/env bash
# Lifecycle of deploycheck-sandboxctl: `up` every module and `down` again, twice in a row in fresh
# state dirs, then once more tied to a watched pid that exits. After each stop nothing may be
# left: no supervisor, no service process (by recorded pid, by process group, and by `pgrep -f`
# on the state and data dir paths), no listening port, no data dir. sandbox.env must be 0600.
# The DNS servers are checked with dig: the knot instances answer with their zones (primary and
# secondary alike, diverged with its own `www`), and dns_silent never answers, on UDP or TCP.
# PostgreSQL is checked with psql: a TLS session for the app role, the migrated seed rows, and no
# plain-text login.
# The tls endpoints are checked with openssl s_client and curl: a few properties of the healthy
# ones and of the broken ones (expired, TLS 1.0, RSA-1024, no HSTS, the http redirect).
#
# usage: sandbox_lifecycle_test.sh PATH/TO/deploycheck-sandboxctl [TEMPLATES_DIR]
set -euo pipefail

tool=${1:?usage: $0 PATH/TO/deploycheck-sandboxctl [TEMPLATES_DIR]}
templates_args=()
if [[ $# -ge 2 ]]; then templates_args=(--templates "$2"); fi
[[ -x $tool ]] || { echo "FAIL: $tool is not an executable (expected the built deploycheck-sandboxctl)" >&2; exit 1; }
command -v dig >/dev/null || { echo "FAIL: dig is missing (expected Debian's dnsutils: run scripts/setup-debian)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "FAIL: openssl is missing (expected Debian's openssl: run scripts/setup-debian)" >&2; exit 1; }

services=(ca nginx tls appenv dns_primary dns_secondary dns_diverged dns_silent smtp smtp_plain)
services+=(postgres postgres_broken postgres_plain)
services+=(webapp_gunicorn webapp_ws webapp)
# The services that run a process, each with a pid file in the state dir.
processes=(nginx tls dns_primary dns_secondary dns_diverged dns_silent)
processes+=(postgres)
processes+=(webapp_gunicorn webapp_ws webapp)

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

# Free for TCP and UDP (DNS holds both); without ss only TCP is checked.
port_is_free() {
  if command -v ss >/dev/null; then
    [[ -z $(ss -Hltun "sport = :$1") ]]
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
  local what=$1 state=$2 data=$3 pids=$4 pgids=$5 ports=$6
  for pid in $pids; do
    is_running "$pid" && fail "$what: pid $pid ($(ps -o cmd= -p "$pid")) still runs after stop"
  done
  local left pid pgid
  for pgid in $pgids; do
    left=""
    for pid in $(pgrep -g "$pgid" || true); do
      if is_running "$pid"; then left+=" $pid"; fi
    done
    [[ -z $left ]] || fail "$what: process group $pgid still has pids:$left"
  done
  left=$(pgrep -f -- "$state" || true)
  [[ -z $left ]] || fail "$what: processes still name $state: $(ps -o pid=,cmd= -p "${left//$'\n'/,}")"
  left=$(pgrep -f -- "$data" || true)
  [[ -z $left ]] || fail "$what: processes still name $data: $(ps -o pid=,cmd= -p "${left//$'\n'/,}")"
  for port in $ports; do port_is_free "$port" || fail "$what: port $port is still listening"; done
  # The blackhole's command line names its port, not our paths.
  for port in $ports; do
    left=$(pgrep -f -- "blackhole --port $port\$" || true)
    [[ -z $left ]] || fail "$what: the blackhole on port $port still runs (pids $left)"
  done
  [[ ! -e $data ]] || fail "$what: the data dir $data still exists"
  [[ ! -e $state/data && ! -e $state/sandbox.env ]] || fail "$what: $state still points at data"
}

# `dig +short` against a sandbox server; fails the test when dig itself fails.
dig_short() {
  local what=$1 port=$2 name=$3 type=$4 answer
  answer=$(dig @127.0.0.1 -p "$port" +time=2 +tries=1 +short "$name" "$type") ||
    fail "$what: dig @127.0.0.1 -p $port $name $type exited $?"
  echo "$answer"
}

expect_answer() {
  local what=$1 port=$2 name=$3 type=$4 expected=$5 answer
  answer=$(dig_short "$what" "$port" "$name" "$type")
  [[ $answer == "$expected" ]] ||
    fail "$what: 127.0.0.1:$port answered '$answer' for $name $type, expected '$expected'"
}

# The knot servers answer with their zones; dns_silent times out on UDP and on TCP.
check_dns() {
  local what=$1 env_path=$2 primary secondary diverged silent
  primary=$(env_value "$env_path" SANDBOX_DNS_PRIMARY_PORT)
  secondary=$(env_value "$env_path" SANDBOX_DNS_SECONDARY_PORT)
  diverged=$(env_value "$env_path" SANDBOX_DNS_DIVERGED_PORT)
  silent=$(env_value "$env_path" SANDBOX_DNS_SILENT_PORT)
  expect_answer "$what (primary)" "$primary" www.sandbox.deploycheck.test A 127.0.0.11
  expect_answer "$what (secondary)" "$secondary" www.sandbox.deploycheck.test A 127.0.0.11
  expect_answer "$what (diverged)" "$diverged" www.sandbox.deploycheck.test A 127.0.0.66
  expect_answer "$what (primary)" "$primary" app.sandbox.deploycheck.test CNAME api.sandbox.deploycheck.test.
  expect_answer "$what (primary)" "$primary" www.broken.deploycheck.test A 127.0.0.99
  expect_answer "$what (primary)" "$primary" host0001.bench.deploycheck.test A 127.0.0.1
  expect_answer "$what (primary)" "$primary" host0500.bench.deploycheck.test A 127.0.1.250
  expect_answer "$what (primary)" "$primary" host1000.bench.deploycheck.test A 127.0.3.250

  # The DKIM record: several character-strings that join into one RSA-2048 key, the same on
  # every server.
  local name=sel1._domainkey.sandbox.deploycheck.test dkim joined port
  dkim=$(dig_short "$what (primary)" "$primary" $name TXT)
  [[ $(grep -o '" "' <<<"$dkim" | wc -l) -ge 2 ]] ||
    fail "$what: expected $name TXT in several character-strings, got: $dkim"
  joined=$(sed 's/" "//g; s/"//g' <<<"$dkim")
  [[ $joined == "v=DKIM1; k=rsa; p="* ]] || fail "$what: $name TXT is '$joined'"
  base64 -d <<<"${joined#v=DKIM1; k=rsa; p=}" >"$work/dkim.der" ||
    fail "$what: the p= of $name is not base64: $joined"
  if command -v openssl >/dev/null; then
    openssl pkey -pubin -inform DER -in "$work/dkim.der" -noout -text | grep -q 'Public-Key: (2048 bit)' ||
      fail "$what: the p= of $name is not an RSA-2048 public key"
  fi
  for port in "$secondary" "$diverged"; do
    [[ $(dig_short "$what" "$port" $name TXT) == "$dkim" ]] ||
      fail "$what: 127.0.0.1:$port serves another $name than the primary"
  done

  # Never answers: dig gives up after its 1 s and exits 9 ("no reply from server"). UDP and TCP
  # run side by side to keep the round short.
  local start=$SECONDS udp_rc=0 tcp_rc=0
  dig @127.0.0.1 -p "$silent" +time=1 +tries=1 www.sandbox.deploycheck.test A >"$work/silent-udp.out" &
  local udp_pid=$!
  dig @127.0.0.1 -p "$silent" +tcp +time=1 +tries=1 www.sandbox.deploycheck.test A >"$work/silent-tcp.out" || tcp_rc=$?
  wait "$udp_pid" || udp_rc=$?
  [[ $udp_rc -eq 9 ]] || fail "$what: dig over UDP to the silent port $silent exited $udp_rc, expected 9 (timeout): $(cat "$work/silent-udp.out")"
  [[ $tcp_rc -eq 9 ]] || fail "$what: dig over TCP to the silent port $silent exited $tcp_rc, expected 9 (timeout): $(cat "$work/silent-tcp.out")"
  grep -q 'timed out' "$work/silent-udp.out" || fail "$what: dig over UDP to $silent did not time out: $(cat "$work/silent-udp.out")"
  ((SECONDS - start <= 5)) || fail "$what: the timeouts against the silent port took $((SECONDS - start)) s, expected about 1 s"
  echo "  $what: dig got the zones from the knot servers and a timeout from dns_silent"
}

# `openssl s_client` against a tls endpoint, SNI and verified name localhost; prints its output.
s_client() {
  local port=$1 ca=$2
  shift 2
  echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername localhost \
    -verify_hostname localhost -CAfile "$ca" "$@" 2>&1 || true
}

# A few properties of the tls endpoints, each the one its endpoint is about.
check_tls() {
  local what=$1 env_path=$2 ca out port
  ca=$(env_value "$env_path" SANDBOX_CA_FILE)
  tls_port() { env_value "$env_path" "SANDBOX_TLS_$1_PORT"; }

  out=$(s_client "$(tls_port ECDSA)" "$ca")
  grep -q 'Verify return code: 0 (ok)' <<<"$out" || fail "$what: ecdsa does not verify against $ca: $out"
  grep -q 'Server public key is 256 bit' <<<"$out" || fail "$what: ecdsa's key is not 256 bits: $out"
  out=$(s_client "$(tls_port RSA)" "$ca")
  grep -q 'Verify return code: 0 (ok)' <<<"$out" || fail "$what: rsa does not verify against $ca: $out"
  grep -q 'Server public key is 2048 bit' <<<"$out" || fail "$what: rsa's key is not 2048 bits: $out"
  out=$(s_client "$(tls_port EXPIRED)" "$ca")
  grep -q 'Verify return code: 10 (certificate has expired)' <<<"$out" ||
    fail "$what: expired did not fail verification with 'certificate has expired': $out"
  # The client must go down to security level 0 itself to offer TLS 1.0.
  out=$(s_client "$(tls_port TLS10)" "$ca" -tls1 -cipher 'DEFAULT:@SECLEVEL=0')
  grep -q 'Protocol *: TLSv1$' <<<"$out" || fail "$what: tls10 did not accept TLS 1.0: $out"
  out=$(s_client "$(tls_port ECDSA)" "$ca" -tls1 -cipher 'DEFAULT:@SECLEVEL=0')
  grep -q 'alert protocol version' <<<"$out" || fail "$what: ecdsa did not refuse TLS 1.0: $out"
  out=$(s_client "$(tls_port RSA1024)" "$ca")
  grep -q 'Server public key is 1024 bit' <<<"$out" || fail "$what: rsa1024's key is not 1024 bits: $out"
  out=$(s_client "$(tls_port STAPLED)" "$ca" -status)
  grep -q 'Cert Status: good' <<<"$out" || fail "$what: stapled did not staple a good OCSP response: $out"
  out=$(s_client "$(tls_port ECDSA)" "$ca" -status)
  grep -q 'OCSP response: no response sent' <<<"$out" || fail "$what: ecdsa stapled an OCSP response: $out"

  if command -v curl >/dev/null; then
    out=$(curl -sS --max-time 5 --cacert "$ca" -o /dev/null -D - "https://localhost:$(tls_port ECDSA)/") ||
      fail "$what: curl https://localhost:$(tls_port ECDSA)/ failed"
    grep -qi '^Strict-Transport-Security: max-age=31536000; includeSubDomains' <<<"$out" ||
      fail "$what: ecdsa sent no HSTS header of a year: $out"
    out=$(curl -sS --max-time 5 --cacert "$ca" -o /dev/null -D - "https://localhost:$(tls_port NOHSTS)/") ||
      fail "$what: curl https://localhost:$(tls_port NOHSTS)/ failed"
    grep -qi '^Strict-Transport-Security' <<<"$out" && fail "$what: nohsts sent an HSTS header: $out"
    port=$(tls_port ECDSA_HTTP)
    out=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code} %{redirect_url}' "http://localhost:$port/a?b=1") ||
      fail "$what: curl http://localhost:$port/ failed"
    [[ $out == "301 https://localhost:$(tls_port ECDSA)/a?b=1" ]] ||
      fail "$what: ecdsa's http twin answered '$out', expected a 301 to https://localhost:$(tls_port ECDSA)/a?b=1"
    port=$(tls_port NOREDIRECT_HTTP)
    out=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://localhost:$port/") ||
      fail "$what: curl http://localhost:$port/ failed"
    [[ $out == 200 ]] || fail "$what: noredirect's http twin answered $out, expected 200"
  fi
  echo "  $what: tls endpoints verify, expire, refuse and accept TLS 1.0, staple and redirect as meant"
}

# psql as the app role of SANDBOX_DATABASE_URL (a secret: it goes to psql in PG* variables, never
# on a command line, and is never printed).
app_psql() {
  local env_path=$1 url rest
  shift
  url=$(env_value "$env_path" SANDBOX_DATABASE_URL)
  rest=${url#postgres://}
  PGUSER=${rest%%:*} PGPASSWORD=$(sed 's/^[^:]*:\([^@]*\)@.*/\1/' <<<"$rest") \
    PGHOST=$(env_value "$env_path" SANDBOX_POSTGRES_HOST) PGPORT=$(env_value "$env_path" SANDBOX_POSTGRES_PORT) \
    PGDATABASE=webapp PGSSLROOTCERT=$(env_value "$env_path" SANDBOX_CA_FILE) PGCONNECT_TIMEOUT=5 \
    psql -XAt "$@" 2>&1
}

check_postgres() {
  local what=$1 env_path=$2 out
  command -v psql >/dev/null || fail "$what: psql is missing (expected Debian's postgresql-client)"
  [[ $(env_value "$env_path" SANDBOX_DATABASE_URL) == postgres://webapp:*@127.0.0.1:*/webapp\?sslmode=verify-full\&sslrootcert=* ]] ||
    fail "$what: SANDBOX_DATABASE_URL is not a verify-full URL for role webapp (value not shown)"
  out=$(PGSSLMODE=verify-full app_psql "$env_path" -c "select ssl, version from pg_stat_ssl where pid = pg_backend_pid()") ||
    fail "$what: psql as webapp over TLS failed: $out"
  [[ $out == 't|TLSv1.'[23] ]] || fail "$what: the app session is not TLS 1.2+: $out"
  out=$(PGSSLMODE=verify-full app_psql "$env_path" -c "select (select count(*) from billing_plan), (select count(*) from billing_package), (select count(*) from auth_user where username = 'admin' and is_superuser), (select count(*) from django_migrations where app = 'billing')")
  [[ $out == '6|5|1|4' ]] || fail "$what: expected 6 plans, 5 packages, 1 admin, 4 billing migrations; got $out"
  out=$(PGSSLMODE=disable app_psql "$env_path" -c "select 1") &&
    fail "$what: a plain-text login as webapp was accepted"
  grep -q 'no encryption' <<<"$out" || fail "$what: a plain-text login failed otherwise than by pg_hba: $out"
  [[ $(ps -o user= -p "$(sed -n 's/.*service=\([0-9]*\).*/\1/p' "$3")") == postgres || $(id -u) != 0 ]] ||
    fail "$what: the postmaster does not run as the postgres user"
  # postgres_broken: its database is there, one migration short, and its role gets no TLS.
  [[ $(env_value "$env_path" SANDBOX_BROKEN_DATABASE_URL) == postgres://webapp_broken:*@127.0.0.1:*/webapp_broken ]] ||
    fail "$what: SANDBOX_BROKEN_DATABASE_URL is not a URL for role webapp_broken (value not shown)"
  local broken rest
  broken=$(env_value "$env_path" SANDBOX_BROKEN_DATABASE_URL)
  rest=${broken#postgres://webapp_broken:}
  out=$(PGUSER=webapp_broken PGPASSWORD=${rest%%@*} PGHOST=127.0.0.1 PGPORT=$(env_value "$env_path" SANDBOX_POSTGRES_PORT) \
    PGDATABASE=webapp_broken PGSSLMODE=prefer PGCONNECT_TIMEOUT=5 psql -XAt -c \
    "select (select ssl from pg_stat_ssl where pid = pg_backend_pid()), (select count(*) from django_migrations where app = 'billing')" 2>&1) ||
    fail "$what: psql as webapp_broken failed: $out"
  [[ $out == 'f|3' ]] || fail "$what: expected a plain session and 3 billing migrations in webapp_broken, got $out"
  echo "  $what: postgres serves webapp over TLS only, migrated and seeded; webapp_broken is broken as meant"
}

# Every port the tls module wrote to sandbox.env.
tls_ports() { sed -n 's/^SANDBOX_TLS_[A-Z0-9_]*_PORT=//p' "$1" | tr '\n' ' '; }

# The web app answers through its nginx: Django's /health over TLS, plain http redirected.
check_webapp() {
  local what=$1 env_path=$2 url body
  command -v curl >/dev/null || return 0
  url=$(env_value "$env_path" SANDBOX_WEBAPP_URL)
  body=$(curl -sS --max-time 5 --cacert "$(env_value "$env_path" SANDBOX_CA_FILE)" "$url/health") ||
    fail "$what: curl $url/health failed"
  [[ $body == '{"status": "ok"}' ]] || fail "$what: $url/health answered '$body'"
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$(env_value "$env_path" SANDBOX_WEBAPP_HTTP_URL)/health") == 301 ]] ||
    fail "$what: the web app's http listener does not redirect"
  echo "  $what: the web app answers /health through nginx (TLS) and redirects http"
}

one_round() {
  local round=$1 state="$work/round$1/state" out
  state_dirs+=("$state")
  out=$("$tool" up --state-dir "$state" "${templates_args[@]}" "${services[@]}") ||
    fail "round $round: up exited $? (expected 0)"
  echo "$out" | sed "s/^/  round $round: /"
  grep -q '^nginx ready on 127.0.0.1:[0-9]* (https), 127.0.0.1:[0-9]* (http) in [0-9]* ms$' <<<"$out" ||
    fail "round $round: expected 'nginx ready on ... in N ms' in up's output"
  for dns in dns_primary dns_secondary dns_diverged dns_silent; do
    grep -q "^$dns ready on 127.0.0.1:[0-9]* (udp, tcp)" <<<"$out" ||
      fail "round $round: expected '$dns ready on 127.0.0.1:PORT (udp, tcp)' in up's output"
  done

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
  for key in SANDBOX_CA_FILE SANDBOX_NGINX_ACCESS_LOG SANDBOX_APPENV_DIR SANDBOX_DNS_PRIMARY_PORT \
    SANDBOX_DNS_SECONDARY_PORT SANDBOX_DNS_DIVERGED_PORT SANDBOX_DNS_SILENT_PORT; do
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

  check_dns "round $round" "$env_path"
  check_tls "round $round" "$env_path"
  check_postgres "round $round" "$env_path" "$state/postgres.pid"
  check_webapp "round $round" "$env_path"

  local name record supervisor service pids="" pgids="" nginx_supervisor=""
  for name in "${processes[@]}"; do
    record=$(cat "$state/$name.pid")
    supervisor=$(sed -n 's/.*supervisor=\([0-9]*\).*/\1/p' <<<"$record")
    service=$(sed -n 's/.*service=\([0-9]*\).*/\1/p' <<<"$record")
    [[ $supervisor -gt 0 && $service -gt 0 ]] || fail "round $round: bad $name pid record '$record'"
    [[ $(ps -o pgid= -p "$service" | tr -d ' ') == "$service" ]] ||
      fail "round $round: $name (pid $service) does not lead its own process group"
    pids+=" $supervisor $(pgrep -g "$service" | tr '\n' ' ')"
    pgids+=" $service"
    [[ $name == nginx ]] && nginx_supervisor=$supervisor
  done
  local dns_ports
  dns_ports=$(for key in PRIMARY SECONDARY DIVERGED SILENT; do env_value "$env_path" "SANDBOX_DNS_${key}_PORT"; done)
  dns_ports+=" $(env_value "$env_path" SANDBOX_POSTGRES_PORT)"
  for key in HTTPS HTTP BROKEN_HTTPS BROKEN_HTTP GUNICORN WS; do
    dns_ports+=" $(env_value "$env_path" "SANDBOX_WEBAPP_${key}_PORT")"
  done
  local tls_port_list
  tls_port_list=$(tls_ports "$env_path")
  [[ $(wc -w <<<"$tls_port_list") -eq 20 ]] ||
    fail "round $round: expected 20 SANDBOX_TLS_*_PORT keys (17 https, 3 http), got: $tls_port_list"

  out=$("$tool" up --state-dir "$state" "${templates_args[@]}" nginx) ||
    fail "round $round: a second up exited non-zero"
  grep -q "^nginx already running (supervisor pid $nginx_supervisor)" <<<"$out" ||
    fail "round $round: a second up did not find nginx running: $out"

  "$tool" status --state-dir "$state" >/dev/null || fail "round $round: status exited non-zero"
  "$tool" down --state-dir "$state" | sed "s/^/  round $round: /"
  assert_nothing_left "round $round" "$state" "$data" "$pids" "$pgids" "$https $http $dns_ports $tls_port_list"
  [[ -z $(pgrep -f -- "knotd -c $data" || true) ]] || fail "round $round: a knotd still runs"
  "$tool" down --state-dir "$state" >/dev/null || fail "round $round: a second down exited non-zero"
  echo "  round $round: up, down and a second down left nothing behind"
}

watched_round() {
  local state="$work/watched/state"
  state_dirs+=("$state")
  sleep 300 &
  local watched=$!
  "$tool" up --state-dir "$state" --watch-pid "$watched" "${templates_args[@]}" ca nginx tls dns_primary \
    dns_silent >/dev/null || fail "watched: up exited non-zero"
  local env_path data ports name record supervisor service supervisors="" pids="" pgids=""
  env_path=$("$tool" env --state-dir "$state")
  data=$(env_value "$env_path" SANDBOX_DIR)
  ports=$(for key in NGINX_HTTPS NGINX_HTTP DNS_PRIMARY DNS_SILENT; do env_value "$env_path" "SANDBOX_${key}_PORT"; done)
  ports+=" $(tls_ports "$env_path")"
  for name in nginx tls dns_primary dns_silent; do
    record=$(cat "$state/$name.pid")
    supervisor=$(sed -n 's/.*supervisor=\([0-9]*\).*/\1/p' <<<"$record")
    service=$(sed -n 's/.*service=\([0-9]*\).*/\1/p' <<<"$record")
    supervisors+=" $supervisor"
    pids+=" $supervisor $(pgrep -g "$service" | tr '\n' ' ')"
    pgids+=" $service"
  done
  kill "$watched"
  wait "$watched" 2>/dev/null || true
  for supervisor in $supervisors; do
    wait_gone "$supervisor" 10 || fail "watched: the supervisor (pid $supervisor) still runs 10 s after the watched pid exited"
  done
  assert_nothing_left "watched" "$state" "$data" "$pids" "$pgids" "$ports"
  echo "  watched: the services stopped and the data dir went away when the watched pid exited"
}

echo "sandbox lifecycle as $(id -un), tool $tool"
one_round 1
one_round 2
watched_round
echo "PASS: sandbox lifecycle"
