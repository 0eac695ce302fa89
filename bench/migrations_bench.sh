#!/usr/bin/env bash
# Migration status of a Django project with 1,000 migrations (plus Django's own auth and
# contenttypes), all but the last --pending applied, against the sandbox's PostgreSQL:
#
#   deploycheck   DATABASE_URL=... deploycheck-bench-migrations DIRS...   (the Migrations gather)
#   django        DATABASE_URL=... /usr/bin/python3 manage.py showmigrations --plan
#
# each under `hyperfine -N`. The two pending lists must be equal, in order, or nothing is
# reported (exit 1). The database URL (with its password) travels in the environment only.
#
#   bench/migrations_bench.sh [--build-dir DIR] [--no-build] [--count N] [--pending K]
#                             [--runs N] [--out FILE]
#
# Needs hyperfine, Debian's python3-django and psycopg2, psql. Builds deploycheck-bench-migrations
# (configuring DIR with -DDEPLOYCHECK_BUILD_BENCH=ON; default build/), starts its own sandbox
# postgres in a private state dir and stops it on exit. Writes a Markdown report (default
# bench/results/migrations.md) and prints it. Never run in CI.
set -euo pipefail
export LC_ALL=C

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$repo/build
do_build=1
count=1000
pending=10
runs=10
out=$repo/bench/results/migrations.md

die() {
  echo "migrations_bench: $*" >&2
  exit 1
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --build-dir) build=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --count) count=$2; shift 2 ;;
    --pending) pending=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) die "unknown argument $1" ;;
  esac
done
((pending < count)) || die "--pending must be below --count"
for tool in hyperfine psql /usr/bin/python3; do command -v "$tool" >/dev/null || die "$tool is missing"; done

if ((do_build)); then
  cmake -S "$repo" -B "$build" -DDEPLOYCHECK_BUILD_BENCH=ON >/dev/null
  cmake --build "$build" -j2 --target deploycheck-bench-migrations deploycheck-sandboxctl >/dev/null
fi
bench_exe=$build/bench/deploycheck-bench-migrations
sandboxctl=$build/tools/sandbox/deploycheck-sandboxctl
[[ -x $bench_exe && -x $sandboxctl ]] || die "build $bench_exe and $sandboxctl first"

work=$(mktemp -d /tmp/deploycheck-migbench.XXXXXX)
state=$work/state
cleanup() {
  "$sandboxctl" down --state-dir "$state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"$sandboxctl" up --state-dir "$state" --templates "$repo/environments/sandbox" postgres >/dev/null ||
  die "the sandbox postgres did not start"
env_value() { sed -n "s/^$1=//p" "$state/sandbox.env" | head -n1; }
admin=$(env_value SANDBOX_POSTGRES_ADMIN_URL)
# The superuser's URL for a fresh database "migbench" (never printed).
export DATABASE_URL=${admin/\/postgres\?//migbench?}
rest=${admin#postgres://postgres:}
PGPASSWORD=${rest%%@*} PGSSLMODE=verify-full PGSSLROOTCERT=$(env_value SANDBOX_CA_FILE) \
  psql -XAtq -h 127.0.0.1 -p "$(env_value SANDBOX_POSTGRES_PORT)" -U postgres -d postgres \
  -c "create database migbench" || die "could not create the database"

# A project with one app of $count migrations: a model, then RunSQL steps, each depending on
# the one before (what a long-lived project's history looks like to the reader).
project=$work/project
mkdir -p "$project/benchsite" "$project/bench/migrations"
cp "$repo/environments/sandbox/webapp/manage.py" "$project/"
sed -i 's/webapp.settings/benchsite.settings/' "$project/manage.py"
touch "$project/benchsite/__init__.py" "$project/bench/__init__.py" "$project/bench/migrations/__init__.py"
cat >"$project/benchsite/settings.py" <<EOF
import os, sys
sys.path.insert(0, "$repo/environments/sandbox/webapp")
from webapp.settings import database_from_url
SECRET_KEY = "bench"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "bench"]
DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
EOF
echo 'from django.db import models

class Item(models.Model):
    name = models.CharField(max_length=50)' >"$project/bench/models.py"
name_of() { printf '%04d_step' "$1"; }
echo 'from django.db import migrations, models

class Migration(migrations.Migration):
    initial = True
    dependencies = [("auth", "__first__")]
    operations = [migrations.CreateModel(name="Item", fields=[("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")), ("name", models.CharField(max_length=50))])]' \
  >"$project/bench/migrations/$(name_of 1).py"
for ((i = 2; i <= count; i++)); do
  printf 'from django.db import migrations\n\nclass Migration(migrations.Migration):\n    dependencies = [("bench", "%s")]\n    operations = [migrations.RunSQL("SELECT %d", "SELECT 1")]\n' \
    "$(name_of $((i - 1)))" "$i" >"$project/bench/migrations/$(name_of "$i").py"
done
manage() { (cd "$project" && PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 manage.py "$@"); }
echo "migrations_bench: applying $((count - pending)) of $count migrations with Django..." >&2
start=$SECONDS
manage migrate --no-input auth >/dev/null
manage migrate --no-input contenttypes >/dev/null
manage migrate --no-input bench "$(name_of $((count - pending)))" >/dev/null
apply_seconds=$((SECONDS - start))

dirs=("$project/bench/migrations" /usr/lib/python3/dist-packages/django/contrib/auth/migrations
  /usr/lib/python3/dist-packages/django/contrib/contenttypes/migrations)
"$bench_exe" "${dirs[@]}" >"$work/deploycheck.txt" || die "deploycheck-bench-migrations failed"
manage showmigrations --plan | sed -n 's/^\[ \]  //p' >"$work/django.txt"
if ! diff -u "$work/django.txt" "$work/deploycheck.txt" >"$work/diff.txt"; then
  cat "$work/diff.txt" >&2
  die "the pending lists differ (django first, deploycheck second)"
fi
[[ $(wc -l <"$work/django.txt") -eq $pending ]] || die "expected $pending pending, Django says $(wc -l <"$work/django.txt")"

hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/hyperfine.json" \
  -n deploycheck "$bench_exe ${dirs[*]}" \
  -n django "bash -c 'cd $project && PYTHONDONTWRITEBYTECODE=1 exec /usr/bin/python3 manage.py showmigrations --plan'" \
  >"$work/hyperfine.txt"
mean() { /usr/bin/python3 -c "import json,sys; r=[x for x in json.load(open('$work/hyperfine.json'))['results'] if x['command']=='$1'][0]; print('%.1f' % (1000*r['mean']), '%.1f' % (1000*r['stddev']))"; }
read -r dc_mean dc_sd < <(mean deploycheck)
read -r dj_mean dj_sd < <(mean django)
ratio=$(/usr/bin/python3 -c "print('%.1f' % ($dj_mean / $dc_mean))")

mkdir -p "$(dirname "$out")"
cat >"$out" <<EOF
## Migrations: Django status of $count migrations versus \`manage.py showmigrations --plan\`

$(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL $(psql --version | awk '{print $3}') (sandbox, TLS on loopback),
Django $(/usr/bin/python3 -c 'import django; print(django.get_version())') (Debian), deploycheck $(git -C "$repo" rev-parse --short HEAD).
Project: one app of $count migrations (a model, then RunSQL steps in a chain) plus Django's auth and
contenttypes; $((count - pending)) applied by Django (${apply_seconds} s), $pending pending. Both lists equal, in order.

| command | mean | ± |
|---|---|---|
| \`deploycheck-bench-migrations DIRS\` (the Migrations gather: one connection, catalog + history queries, files parsed statically) | $dc_mean ms | $dc_sd ms |
| \`/usr/bin/python3 manage.py showmigrations --plan\` | $dj_mean ms | $dj_sd ms |

deploycheck is ${ratio}× faster. Command: \`bench/migrations_bench.sh --count $count --pending $pending --runs $runs\`
(\`hyperfine -N --warmup 1 --runs $runs\`).
EOF
cat "$out"
