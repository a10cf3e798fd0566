#!/usr/bin/env bash
# GPU check in one command, on a machine with a GPU (docs/performance.md, "GPU", has the recipe for a
# bare machine):
#   1. `info`: the providers onnxruntime-node offers, which one `auto` chose and why
#   2. tokenize the sample images with --provider webgpu and with --provider cpu
#   3. parity: identical indices, PSNR per scale within 0.01 dB
#   4. the providers side by side: `npm run bench -- --provider cpu,webgpu`
# Without a WebGPU adapter it says so in one line ("no GPU adapter: <reason>") and stops, exit 0;
# with --require-gpu that is exit 3. Other failures: exit 1.
# Environment: NODE (default node), PROVIDER (default webgpu; e.g. cuda once its libraries are in),
# BENCH_ARGS (default "--repeat 10 --rounds 3").
set -euo pipefail
cd "$(dirname "$0")/.."
NODE="${NODE:-node}"
GPU="${PROVIDER:-webgpu}"
REQUIRE=0
[ "${1:-}" = "--require-gpu" ] && REQUIRE=1
say() { printf '\n[gpu-check] %s\n' "$*"; }

if [ ! -f dist/cli.js ]; then
  say "building (npm run build)"
  npm run --silent build
fi
CLI=("$NODE" dist/cli.js)
mapfile -t SAMPLES < <(ls samples/* | grep -E '\.(png|jpe?g|webp)$' | grep -v corrupt | sort) # corrupt.png is there to show an error

say "node $("$NODE" --version), $(uname -sm)"
"${CLI[@]}" info

# Does the provider get an adapter? (the runtime falls back to CPU and says why when it does not)
probe=$("${CLI[@]}" info --provider "$GPU" --json)
why=$(printf '%s' "$probe" | "$NODE" -e '
  const r = JSON.parse(require("fs").readFileSync(0, "utf8")).providers;
  const p = process.argv[1];
  if (r.chosen.encoder === p && r.chosen.decoder === p) process.stdout.write("");
  else process.stdout.write((r.skipped.find((s) => s.provider === p) || { reason: "ran on " + r.chosen.decoder }).reason);
' "$GPU")
if [ -n "$why" ]; then
  say "no GPU adapter: $GPU cannot run here: $why"
  say "RESULT: nothing was checked on a GPU"
  exit $(( REQUIRE ? 3 : 0 ))
fi

say "tokenize ${#SAMPLES[@]} samples on $GPU and on cpu"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${CLI[@]}" tokenize --json --provider "$GPU" "${SAMPLES[@]}" > "$tmp/gpu.jsonl"
"${CLI[@]}" tokenize --json --provider cpu "${SAMPLES[@]}" > "$tmp/cpu.jsonl"

say "parity $GPU vs cpu (indices identical, PSNR within 0.01 dB at every scale)"
"$NODE" -e '
  const fs = require("fs");
  const read = (f) => fs.readFileSync(f, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const [gpu, cpu] = [read(process.argv[1]), read(process.argv[2])];
  let bad = 0;
  gpu.forEach((g, i) => {
    const c = cpu[i];
    const used = JSON.stringify(g.provider);
    let differ = 0, total = 0;
    g.indices.forEach((row, p) => row.forEach((v, t) => { total++; if (v !== c.indices[p][t]) differ++; }));
    const dPsnr = Math.max(...g.psnrByScale.map((x, k) => Math.abs(x - c.psnrByScale[k])));
    const ok = differ === 0 && dPsnr <= 0.01 && used.includes(process.argv[3]);
    if (!ok) bad++;
    console.log(`${ok ? "ok  " : "FAIL"} ${g.image}: provider ${used}, ${differ} of ${total} indices differ, max PSNR difference ${dPsnr.toFixed(4)} dB`);
  });
  if (bad) { console.log(`${bad} image(s) differ`); process.exit(1); }
' "$tmp/gpu.jsonl" "$tmp/cpu.jsonl" "$GPU"

say "bench: cpu and $GPU side by side"
# shellcheck disable=SC2086
if [ -x node_modules/.bin/esbuild ]; then
  npm run --silent bench -- --provider "cpu,$GPU" ${BENCH_ARGS:---repeat 10 --rounds 3}
else
  "$NODE" out/bench/bench.js --provider "cpu,$GPU" ${BENCH_ARGS:---repeat 10 --rounds 3} # carried pre-built
fi
say "RESULT: $GPU checked"
