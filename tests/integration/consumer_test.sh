#!/usr/bin/env bash
# A separate CMake project builds its own checks against the installed package and runs them
# under its environments' labels; the installed validator stops its configure on a bad file.
# usage: consumer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d /tmp/deploycheck-consumer.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log" || { cat "$work/install.log"; fail "install"; }
cp -r "$src/tests/consumer" "$work/consumer"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$work/consumer" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" "${launcher[@]}" \
  > "$work/configure.log" 2>&1 || { cat "$work/configure.log"; fail "configure against the installed package"; }
cmake --build "$work/build" > "$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "build"; }

listing=$(ctest --test-dir "$work/build" -N -L '^consumer$' --no-tests=error)
for t in "consumer:MyChecks.PlainTestJoinsEveryEnvironment" "consumer:MyEnvironmentChecks.SeesItsOwnEnvironment"; do
  grep -qF "$t" <<<"$listing" || fail "$t is not registered: $listing"
done
# (Listings go to variables first: grep -q closing a pipe early would fail it under pipefail.)
all=$(ctest --test-dir "$work/build" -N)
grep -qF "consumer_staging:MyChecks.PlainTestJoinsEveryEnvironment" <<<"$all" ||
  fail "the suite did not join the second environment"
# The suite's default labels (post, high) and the per-test override (pre, critical).
post_high=$(ctest --test-dir "$work/build" -N -L '^consumer:post$' -L '^high$')
grep -qF "MyChecks.PlainTestJoinsEveryEnvironment" <<<"$post_high" ||
  fail "deploycheck_add_suite's PHASE/SEVERITY labels are missing: $post_high"
pre_critical=$(ctest --test-dir "$work/build" -N -L '^consumer:pre$' -L '^critical$')
grep -qF "SeesItsOwnEnvironment" <<<"$pre_critical" ||
  fail "DEPLOYCHECK_LABELS did not override the labels: $pre_critical"
ctest --test-dir "$work/build" -L '^consumer$' --no-tests=error --output-on-failure > "$work/run.log" 2>&1 ||
  { cat "$work/run.log"; fail "the consumer's checks did not pass"; }
CONSUMER_GREETING=hello ctest --test-dir "$work/build" -L '^consumer_staging$' --no-tests=error \
  --output-on-failure > "$work/run2.log" 2>&1 || { cat "$work/run2.log"; fail "consumer_staging did not pass"; }
# Without the variable, EnvVars.Required must fail: the consumer's run is real.
if ctest --test-dir "$work/build" -L '^consumer_staging$' > "$work/run3.log" 2>&1; then
  fail "consumer_staging passed without CONSUMER_GREETING"
fi

# A broken environment file stops the consumer's configure, pointing at the mistake.
printf 'name: consumer\nenv_vars:\n  requird: [X]\n' > "$work/consumer/consumer.yaml"
if cmake -S "$work/consumer" -B "$work/build-bad" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/bad.log" 2>&1; then
  fail "configure accepted a broken environment file"
fi
grep -qF "consumer.yaml:3:3: error: env_vars.requird: unknown key 'requird'; did you mean 'required'?" "$work/bad.log" ||
  { cat "$work/bad.log"; fail "the configure error does not point at file:line:column"; }
echo "PASS: the consumer built, registered and ran its own checks against the installed package"
