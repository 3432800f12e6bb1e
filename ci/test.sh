#!/usr/bin/env bash
# The project's CI: the README's test command, with Java 25; then the TornadoVM backend's tests when a TornadoVM
# installation is found (TORNADOVM_HOME, else a tornado-argfile under /opt/*/dist/), skipped with a note otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
# The README's test command runs in a fresh clone in an empty temporary folder, so nothing outside the repository
# (a shared/ folder beside the checkout, files left by earlier builds) can make it pass. A work tree with
# uncommitted changes (a developer's) is tested in place instead, since a clone would miss those changes.
if [[ -z "$(git status --porcelain 2>/dev/null)" ]] && git rev-parse HEAD >/dev/null 2>&1; then
  CLONE_PARENT="$(mktemp -d "${TMPDIR:-/tmp}/gptoss-ci.XXXXXX")"
  trap 'rm -rf "$CLONE_PARENT"' EXIT
  git clone --quiet --no-hardlinks "$PWD" "$CLONE_PARENT/gptoss-tornado"
  echo "== unit, golden and CLI tests (./mvnw -B verify) in a fresh clone: $CLONE_PARENT/gptoss-tornado"
  (cd "$CLONE_PARENT/gptoss-tornado" && ./mvnw -B verify)
  cd "$CLONE_PARENT/gptoss-tornado"   # the TornadoVM tests below run in the same clone
else
  echo "== unit, golden and CLI tests (./mvnw -B verify) in place (uncommitted changes: no fresh clone)"
  ./mvnw -B verify
fi

find_tornado_argfile() {
  if [[ -n "${TORNADOVM_HOME:-}" ]]; then
    [[ -f "$TORNADOVM_HOME/tornado-argfile" ]] && { echo "$TORNADOVM_HOME/tornado-argfile"; return; }
    echo "warning: TORNADOVM_HOME=$TORNADOVM_HOME has no tornado-argfile" >&2
  fi
  { find /opt -maxdepth 6 -path '*/dist/*' -name tornado-argfile -print 2>/dev/null || true; } | sort | head -n 1
}
ARGFILE_SOURCE="$(find_tornado_argfile || true)"
if [[ -z "$ARGFILE_SOURCE" ]]; then
  echo "== TornadoVM backend tests SKIPPED: no TornadoVM installation found (TORNADOVM_HOME is unset and there is no"
  echo "   tornado-argfile under /opt/*/dist/); the tornado-kernels module is built and tested only with one"
  exit 0
fi
# TornadoVM's argfile puts "." on the module path: the copy leaves it out, so stray jars are never taken for modules.
ARGFILE="$PWD/tornado-kernels/target/ci-tornado-argfile"
mkdir -p "$(dirname "$ARGFILE")"
sed -e 's#--module-path \.:#--module-path #' -e 's#:\.$##' "$ARGFILE_SOURCE" > "$ARGFILE"
echo "== TornadoVM backend tests on $(dirname "$ARGFILE_SOURCE") (./mvnw -B -Ptornado verify -pl tornado-kernels -am,"
echo "   JVM @tornado-argfile -Dtornado.recover.bailout=False; the other modules' tests ran above)"
# PoCL then exposes two CPU OpenCL devices, so the multi-device test runs too.
export POCL_DEVICES="${POCL_DEVICES:-pthread pthread}"
./mvnw -B -Ptornado verify -pl tornado-kernels -am -Dtornado.argfile="$ARGFILE" \
  -Dtest='gptoss.tornado.**' -Dsurefire.failIfNoSpecifiedTests=false
