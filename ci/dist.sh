#!/usr/bin/env bash
# The bundle for GPU machines: a folder and archive that run `gptoss` (devices, generate, bench --backend tornado)
# on a Linux x86-64 machine with only a GPU driver (OpenCL ICD, or the NVIDIA driver for PTX) -- no Java, Maven or
# TornadoVM installed. It holds:
#   runtime/   a jlink'd Java 25 runtime with only the modules used (ours, TornadoVM's, Graal's JIT, JVMCI)
#   tornadovm/ the parts of a TornadoVM SDK used at run time: its backend jars and native library, Graal's compiler
#              jars, its configuration and an argfile template (no tests, benchmarks, examples, CUDA-library glue)
#   lib/       the gptoss jars and their dependencies
#   bin/gptoss the launcher
# Usage: bash ci/dist.sh [TORNADOVM_SDK_DIR]   (default: $TORNADOVM_HOME, else the first SDK under /opt/*/dist/)
# Writes target/dist/gptoss-tornado-VERSION-linux-amd64/ and target/dist/gptoss-tornado-VERSION-linux-amd64.tar.gz,
# split into parts of at most 60 MiB (…tar.gz.part-aa, -ab, …; `cat PARTS > X.tar.gz` joins them) when larger.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
TVM="${1:-${TORNADOVM_HOME:-}}"
if [[ -z "$TVM" ]]; then
  ARGFILE="$({ find /opt -maxdepth 6 -path '*/dist/*' -name tornado-argfile -print 2>/dev/null || true; } | sort | head -n 1)"
  [[ -n "$ARGFILE" ]] && TVM="$(dirname "$ARGFILE")"
fi
if [[ -z "$TVM" || ! -f "$TVM/tornado-argfile.template" ]]; then
  echo "error: no TornadoVM SDK found (pass its folder, the one holding tornado-argfile.template, or set TORNADOVM_HOME)" >&2
  exit 1
fi
VERSION="$(grep -m1 '<version>' pom.xml | sed 's:.*<version>\(.*\)</version>.*:\1:')"
BACKENDS="$(sed -n 's/^tornado.backends=//p' "$TVM/etc/tornado.backend" 2>/dev/null || echo opencl-backend)"
NAME="gptoss-tornado-$VERSION-linux-amd64"
OUT="$ROOT/target/dist/$NAME"
echo "== building the jars (-Ptornado package, no tests)"
./mvnw -B -q -Ptornado package -DskipTests -Dmaven.javadoc.skip=true -pl cli,tornado-kernels -am
rm -rf "$ROOT/target/dist"
mkdir -p "$OUT/bin" "$OUT/lib" "$OUT/tornadovm/share/java/tornado" "$OUT/tornadovm/share/java/graalJars" "$OUT/tornadovm/etc"

echo "== Java runtime (jlink)"
# Ours (jdeps: java.base, java.desktop for the profile heatmaps, java.sql for Jackson's date types, jdk.incubator.vector,
# jdk.management, jdk.unsupported), TornadoVM's and Graal's (java.logging, java.management, jdk.internal.vm.ci).
# Left out of java.desktop: the X11 toolkit, splash screen, sound and JPEG libraries (the heatmaps draw headless PNGs).
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.desktop,java.sql,java.logging,java.management,jdk.management,jdk.unsupported,jdk.incubator.vector,jdk.internal.vm.ci \
  --strip-debug --no-header-files --no-man-pages --compress zip-9 --vm server \
  --exclude-files '**/libawt_xawt.so,**/libsplashscreen.so,**/libjsound.so,**/libjavajpeg.so' --output "$OUT/runtime"
# The JDK's native libraries carry full symbol tables (libjvm.so: 5 MB of its 30); the dynamic symbols stay, so
# they still link and a crash report still names exported functions.
if command -v strip >/dev/null; then
  find "$OUT/runtime" -name '*.so' -exec strip --strip-unneeded {} +
else
  echo "note: no strip (binutils) found; the runtime's native libraries keep their symbol tables"
fi

echo "== TornadoVM run-time parts from $TVM ($BACKENDS)"
cp -r "$TVM/lib" "$OUT/tornadovm/"
cp "$TVM/etc/tornado.properties" "$TVM/etc/tornado.backend" "$TVM/etc/tornado.release" "$OUT/tornadovm/etc/" 2>/dev/null || true
cp "$TVM"/LICENSE_* "$OUT/tornadovm/" 2>/dev/null || true
# The modules TornadoVM's runtime, annotation, common and backend drivers require (module-info), nothing else.
for jar in "$TVM"/share/java/tornado/*.jar; do
  case "$(basename "$jar")" in
    tornado-api-*|tornado-runtime-*|tornado-annotation-*|tornado-drivers-*|asm-*|commons-math3-*|snmp4j-*|collections-*|word-*) cp "$jar" "$OUT/tornadovm/share/java/tornado/" ;;
  esac
done
# Graal's JIT compiler and what it requires (not Truffle's API or the polyglot API).
for jar in "$TVM"/share/java/graalJars/*.jar; do
  case "$(basename "$jar")" in
    compiler-*|truffle-compiler-*|collections-*|word-*) cp "$jar" "$OUT/tornadovm/share/java/graalJars/" ;;
  esac
done
# The argfile with the SDK's path left as a placeholder and "." dropped from the module path; the launcher fills it in.
sed -e 's#--module-path \.:#--module-path #' -e 's#:\.$##' "$TVM/tornado-argfile.template" > "$OUT/tornadovm/tornado-argfile.template"

echo "== gptoss jars"
cp cli/target/gptoss-cli.jar tornado-kernels/target/gptoss-tornado-kernels.jar "$OUT/lib/"
cp -n cli/target/lib/*.jar tornado-kernels/target/lib/*.jar "$OUT/lib/"
# A library TornadoVM's module path already holds is read from there (a named module hides the class-path copy).
for jar in "$OUT"/tornadovm/share/java/tornado/*.jar; do rm -f "$OUT/lib/$(basename "$jar")"; done
cp README.md "$OUT/"

cat > "$OUT/bin/gptoss" <<'LAUNCHER'
#!/usr/bin/env bash
# gptoss from the bundle: its own Java runtime and TornadoVM; needs only a GPU driver (OpenCL ICD, or NVIDIA's for PTX).
set -euo pipefail
HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
export TORNADOVM_HOME="$HERE/tornadovm"
# PoCL links kernels with the system linker, found on PATH (also from a clean environment, env -i).
export PATH="${PATH:-/usr/local/bin:/usr/bin:/bin}"
JAVA="$HERE/runtime/bin/java"
# TornadoVM's argfile names its own folder: written once per bundle location (the bundle folder if writable).
ARGFILE="$TORNADOVM_HOME/tornado-argfile"
if [[ ! -f "$ARGFILE" ]] || ! grep -qF -- "$TORNADOVM_HOME/lib" "$ARGFILE"; then
  if ! { sed "s#\${TORNADOVM_HOME}#$TORNADOVM_HOME#g" "$TORNADOVM_HOME/tornado-argfile.template" > "$ARGFILE"; } 2>/dev/null; then
    ARGFILE="${TMPDIR:-/tmp}/gptoss-tornado-argfile-$(id -u)-$(printf '%s' "$HERE" | cksum | cut -d' ' -f1)"
    sed "s#\${TORNADOVM_HOME}#$TORNADOVM_HOME#g" "$TORNADOVM_HOME/tornado-argfile.template" > "$ARGFILE"
  fi
fi
# OpenCL drivers built on LLVM (PoCL) replace the JVM's signal handlers; the JVM's chaining library keeps them.
[[ -f "$HERE/runtime/lib/libjsig.so" ]] && export LD_PRELOAD="$HERE/runtime/lib/libjsig.so${LD_PRELOAD:+:$LD_PRELOAD}"
# shellcheck disable=SC2086
exec "$JAVA" "@$ARGFILE" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dtornado.recover.bailout=False -Djava.awt.headless=true \
  ${GPTOSS_JAVA_OPTS:-} -cp "$HERE/lib/*" gptoss.cli.Main "$@"
LAUNCHER
chmod +x "$OUT/bin/gptoss"

echo "== archive"
tar -C "$ROOT/target/dist" -czf "$OUT.tar.gz" "$NAME"
LIMIT=$((60 * 1024 * 1024))
SIZE=$(stat -c %s "$OUT.tar.gz")
if (( SIZE > LIMIT )); then
  split -b "$LIMIT" -d "$OUT.tar.gz" "$OUT.tar.gz.part-"
  rm "$OUT.tar.gz"
fi
printf "folder  %s  %s\n" "$(du -sh "$OUT" | cut -f1)" "$OUT"
for f in "$OUT".tar.gz*; do printf "archive %s  %s\n" "$(du -h "$f" | cut -f1)" "$f"; done
