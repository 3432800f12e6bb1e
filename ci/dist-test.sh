#!/usr/bin/env bash
# Usage: bash ci/dist-test.sh   (after ci/dist.sh; GOLDEN=case-a folder, BENCH_MODEL=DIR, PP/TG token counts optional)
# Unpacks the bundle archive into a fresh folder and runs it from a clean environment (env -i) with PoCL.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST="$ROOT/target/dist"
T="${BUNDLE_TEST_DIR:-/tmp/gptoss-bundle-test}"
rm -rf "$T" && mkdir -p "$T"
cd "$T"
if ls "$DIST"/*.tar.gz.part-* >/dev/null 2>&1; then cat "$DIST"/*.tar.gz.part-* | tar xz; else tar xzf "$DIST"/*.tar.gz; fi
B="$(ls -d "$T"/gptoss-tornado-*)"
G="${GOLDEN:-$ROOT/testdata/golden/case-a}"
PROMPT=0,2714,2597,3328,6295,8191,7377,0,98,6108,5786,5385,6990,7735,2469,1571,213,4211,5219,6361,4497,5263,1702,7491
run() { env -i POCL_DEVICES=pthread "$B/bin/gptoss" "$@"; }
echo "== devices"; run devices
echo "== golden logits"; run logits --backend tornado --model "$G" --tokens "$PROMPT" --out "$T/logits.npy" --router-trace "$T/trace.jsonl" 2>&1 | tail -2
echo "== golden greedy"; run generate --backend tornado --model "$G" --tokens "$PROMPT" --max-tokens 16 --temperature 0 --print-ids 2>/dev/null | tail -1 > "$T/greedy.txt"
python3 - <<PY
import numpy as np, json
g = np.load("$G/golden/logits_prompt_f32.npy"); l = np.load("$T/logits.npy")
d = float(np.abs(g.reshape(l.shape) - l).max()); print("max |logit - golden| =", d); assert d <= 1e-3
exp = np.load("$G/golden/greedy_tokens.npy").tolist()
got = [int(t) for t in open("$T/greedy.txt").read().replace(",", " ").split()]
print("greedy tokens equal:", got == exp, got[:4]); assert got == exp
ids = np.load("$G/golden/router_topk_ids_prompt.npy")
tr = [json.loads(x) for x in open("$T/trace.jsonl")]
ok = all(ids[r["layer"], r["pos"]].tolist() == r["experts"] for r in tr)
print("router choices equal:", ok, len(tr), "decisions"); assert ok
PY
echo "== profile heatmaps (java.desktop, headless, without the X11 libraries)"
echo "{\"tokens\": [$PROMPT]}" > "$T/prompts.jsonl"
run profile --model "$G" --input "$T/prompts.jsonl" --out "$T/profile" --max-tokens 2 2>&1 | tail -1
file "$T/profile/load-heatmap.png" | grep -q "PNG image" && echo "load-heatmap.png: a PNG"
echo "== bench"; run bench --backend tornado --model "${BENCH_MODEL:-$G}" --prompt-tokens "${PP:-32}" --gen-tokens "${TG:-16}" --repetitions 1 --json --profile-kernels
