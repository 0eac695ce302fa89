#!/usr/bin/env bash
# An environment file given with -DDEPLOYCHECK_ENVIRONMENT_FILES that is broken stops `cmake`
# with "file:line:column: error:" printed verbatim.
# usage: configure_error_test.sh SOURCE_DIR
set -euo pipefail
src=$1
work=$(mktemp -d /tmp/deploycheck-configure.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/staging.yaml" <<'YAML'
name: staging
defaults:
  timeout: 5
YAML
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if cmake -S "$src" -B "$work/build" -G Ninja -DDEPLOYCHECK_BUILD_TESTS=OFF "${launcher[@]}" \
     "-DDEPLOYCHECK_ENVIRONMENT_FILES=$work/staging.yaml" > "$work/out.log" 2>&1; then
  echo "FAIL: configure accepted a broken environment file"; exit 1
fi
expected="$work/staging.yaml:3:12: error: defaults.timeout: expected a duration such as 500ms, 5s, 2m, 24h or 30d, found '5'"
grep -qF "$expected" "$work/out.log" || { cat "$work/out.log"; echo "FAIL: expected: $expected"; exit 1; }
echo "PASS: configure stopped with: $expected"
