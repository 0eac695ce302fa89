#!/usr/bin/env bash
# Backup integrity of a ~1 GB `pg_dump -Fc` archive: deploycheck's integrity gather
# (deploycheck-bench-backup-integrity: list the directory, `pg_restore --list` the newest archive
# under a deadline, count its entries) side by side with `pg_restore --list` alone, under
# `hyperfine -N`. Target: within 10% of pg_restore alone.
#
# The archive is real: the sandbox's PostgreSQL (deploycheck-sandboxctl up postgres, a private
# state dir) gets a database `bench_backup` with one table of --megabytes of rows, dumped with
# `pg_dump -Fc -Z0` (uncompressed, so the archive is as large as the data). Verdict agreement:
# both must report the same number of table-of-contents entries.
#
#   bench/backups_bench.sh [--build-dir DIR] [--no-build] [--megabytes N] [--runs N] [--out FILE]
#
# Installs nothing: hyperfine, pg_dump, pg_restore and psql must be there. Writes a Markdown
# report (default bench/results/backups.md) and prints it. Never run in CI.
set -euo pipefail
export LC_ALL=C

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$repo/build-bench
do_build=1
megabytes=1024
runs=50
out=$repo/bench/results/backups.md
die() {
  echo "backups_bench: $*" >&2
  exit 1
}
while (($#)); do
  case $1 in
    --build-dir) build=$(realpath -m "$2"); shift 2 ;;
    --no-build) do_build=0; shift ;;
    --megabytes) megabytes=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --out) out=$(realpath -m "$2"); shift 2 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
for tool in hyperfine pg_dump pg_restore psql; do
  command -v "$tool" >/dev/null || die "missing $tool (apt-get install hyperfine postgresql-client-15)"
done

if ((do_build)); then
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEPLOYCHECK_BUILD_TESTS=OFF \
    -DDEPLOYCHECK_BUILD_BENCH=ON >/dev/null
  ninja -C "$build" deploycheck-bench-backup-integrity deploycheck-sandboxctl >&2
fi
bench=$build/bench/deploycheck-bench-backup-integrity
sandboxctl=$build/tools/sandbox/deploycheck-sandboxctl
[[ -x $bench && -x $sandboxctl ]] || die "build $bench and $sandboxctl first (or drop --no-build)"

work=$(mktemp -d /tmp/deploycheck-backupbench.XXXXXX)
state=$work/state
cleanup() {
  local rc=$?
  set +e
  timeout 60 "$sandboxctl" down --state-dir "$state" >/dev/null 2>&1
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM

"$sandboxctl" up --state-dir "$state" postgres >&2
admin_url=$(sed -n 's/^SANDBOX_POSTGRES_ADMIN_URL=//p' "$state/sandbox.env")
# The password goes to libpq through PGPASSWORD, never a command line.
[[ $admin_url =~ ^(postgres(ql)?://[^:/@]+):([^@]*)@(.*)$ ]] || die "unexpected admin URL shape"
export PGPASSWORD=${BASH_REMATCH[3]}
base="${BASH_REMATCH[1]}@${BASH_REMATCH[4]}"
bench_url=${base/\/postgres\?//bench_backup?}

rows=$((megabytes * 1024 * 1024 / 1000))
echo "backups_bench: $rows rows of ~1000 bytes into bench_backup" >&2
psql -X -q -v ON_ERROR_STOP=1 -d "$base" -c "CREATE DATABASE bench_backup"
psql -X -q -v ON_ERROR_STOP=1 -d "$bench_url" \
  -c "CREATE TABLE blob AS SELECT g AS id, repeat(md5(g::text), 31) AS payload FROM generate_series(1, $rows) g"
mkdir -p "$work/backups"
archive=$work/backups/bench.dump
pg_dump --format=custom --compress=0 --file="$archive" --dbname="$bench_url"
size=$(stat -c %s "$archive")
echo "backups_bench: archive $size bytes" >&2

ours=$("$bench" "$work/backups" '*.dump')
theirs=$(pg_restore --list "$archive" | grep -vc '^;')
[[ $ours == "$theirs" ]] || die "verdicts differ: deploycheck counted $ours entries, pg_restore --list $theirs"

hyperfine -N --warmup 5 --runs "$runs" --style none --export-markdown "$work/hyperfine.md" \
  -n "deploycheck integrity gather" "$bench $work/backups *.dump" \
  -n "pg_restore --list" "pg_restore --list $archive" >&2

mkdir -p "$(dirname "$out")"
{
  echo "# Backup integrity of a $((size / 1000000)) MB pg_dump -Fc archive"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(pg_restore --version), $(hyperfine --version)," \
    "archive $size bytes, $ours table-of-contents entries (both agree)."
  echo
  cat "$work/hyperfine.md"
} >"$out"
cat "$out"
