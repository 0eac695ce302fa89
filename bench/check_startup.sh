#!/usr/bin/env bash
# What one check process costs: start-up plus loading the environment, and its peak memory.
# Every check is its own process under CTest, so this is paid per check. Release build.
#
#   bench/check_startup.sh            (writes bench/results/check_startup.md)
#
# Needs hyperfine (Debian package). Never run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install hyperfine)"; exit 1; }

cmake --preset release > /dev/null
cmake --build --preset release > /dev/null
exe=build-release/deploycheck-sandbox
state=$(mktemp -d /tmp/deploycheck-bench.XXXXXX)
trap 'build-release/tools/sandbox/deploycheck-sandboxctl down --state-dir "$state" >/dev/null; rm -rf "$state"' EXIT
build-release/tools/sandbox/deploycheck-sandboxctl up --state-dir "$state" ca nginx appenv > /dev/null
export DEPLOYCHECK_RUNTIME_ENV=$state/sandbox.env

mkdir -p bench/results
out=bench/results/check_startup.md
{
  echo "# One check process (Release, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
  echo
  hyperfine -N --warmup 20 --runs 300 --style none --export-markdown "$state/hyperfine.md" \
    -n 'no test (start-up + environment load)' "$exe --gtest_filter=None.None" \
    -n 'EnvVars.Required/DEBUG (reads the dotenv file)' "$exe --gtest_filter=EnvVars.Required/DEBUG" \
    -n 'EnvVars.Strong/DJANGO_SECRET_KEY' "$exe --gtest_filter=EnvVars.Strong/DJANGO_SECRET_KEY" \
    -n 'EnvVars.Url/DATABASE_URL (loads libcurl to parse the URL)' "$exe --gtest_filter=EnvVars.Url/DATABASE_URL" \
    -n 'Gather.HTTP/health_web (one HTTPS request)' "$exe --gtest_filter=Gather.HTTP/health_web" \
    > /dev/null 2>&1
  cat "$state/hyperfine.md"
  echo
  echo "| process | peak RSS (KiB, /usr/bin/time -f %M) |"
  echo "|---|---|"
  for filter in None.None EnvVars.Required/DEBUG EnvVars.Strong/DJANGO_SECRET_KEY EnvVars.Url/DATABASE_URL Gather.HTTP/health_web; do
    kib=$( { /usr/bin/time -f %M "$exe" --gtest_filter=$filter > /dev/null; } 2>&1 | tail -1)
    echo "| $filter | $kib |"
  done
} > "$out"
cat "$out"
