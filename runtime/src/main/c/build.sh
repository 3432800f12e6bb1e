#!/usr/bin/env bash
# Compiles the native kernels (every .c file of this folder) into one library, OUT_DIR/libgptoss_kernels.so, where
# this is Linux on x86-64 with a C compiler (CC, else cc or gcc). Anything else is not an error: the engine then
# runs the Java Vector API kernels, which compute the same results. Called by the runtime module's Maven build.
set -uo pipefail
SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC=("$SRC_DIR"/*.c)
OUT_DIR="${1:?usage: build.sh OUT_DIR}"
LIB="$OUT_DIR/libgptoss_kernels.so"
rm -f "$LIB"
if [[ "${GPTOSS_NATIVE_BUILD:-on}" == off ]]; then
  echo "native kernels: not built (GPTOSS_NATIVE_BUILD=off); the Java kernels run"
  exit 0
fi
if [[ "$(uname -s)" != Linux || "$(uname -m)" != x86_64 ]]; then
  echo "native kernels: not built on $(uname -s) $(uname -m) (Linux x86-64 only); the Java kernels run"
  exit 0
fi
CC_CMD="${CC:-}"
if [[ -z "$CC_CMD" ]]; then
  for c in cc gcc clang; do command -v "$c" >/dev/null 2>&1 && { CC_CMD="$c"; break; }; done
fi
if [[ -z "$CC_CMD" ]]; then
  echo "native kernels: no C compiler found (set CC); the Java kernels run"
  exit 0
fi
mkdir -p "$OUT_DIR"
# -O2 without -ffast-math: the kernels must keep fp32 semantics (no reassociation beyond what the source writes).
if "$CC_CMD" -O2 -std=gnu11 -shared -fPIC -fno-fast-math -Wall -Wextra -o "$LIB" "${SRC[@]}"; then
  echo "native kernels: built $LIB with $CC_CMD"
else
  rm -f "$LIB"
  echo "native kernels: $CC_CMD failed to compile ${SRC[*]}; the Java kernels run" >&2
fi
exit 0
