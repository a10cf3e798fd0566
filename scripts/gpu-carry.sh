#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a bare Linux x64 GPU machine (no Node, no npm, no network)
# into one folder that stays under 64 MiB (docs/performance.md, "GPU"):
#   node.xz         this machine's Node binary
#   tree.tar.xz     dist/cli.js, out/bench/bench.js (pre-built), the built-in model's encoder/decoder
#                   package (no generator graphs: the check does not generate), samples/, gpu-check.sh,
#                   and node_modules with only onnxruntime-node (dist + the linux-x64 napi folder),
#                   onnxruntime-common and sharp with its linux-x64 packages
#   gl/*.deb        the Vulkan loader and glvnd libraries (apt-get download), unpacked there with dpkg -x
#   run.sh          unpacks all that and runs gpu-check.sh --require-gpu
# Usage: scripts/gpu-carry.sh [OUT_DIR]   (default out/gpu-carry). On the GPU machine: bash OUT_DIR/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-out/gpu-carry}"
LIMIT=$((64 * 1024 * 1024))
say() { printf '[gpu-carry] %s\n' "$*" >&2; }
[ "$(uname -sm)" = "Linux x86_64" ] || { say "build the carry on Linux x64 (it carries this machine's Node and linux-x64 binaries)"; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT/gl"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

say "build (dist/cli.js, out/bench/bench.js)"
npm run --silent build:cli >/dev/null
npx esbuild bench/bench.ts --bundle --platform=node --format=cjs --target=node20 --external:onnxruntime-node --external:sharp --outfile=out/bench/bench.js --log-level=warning

say "stage the tree"
mkdir -p "$stage/dist" "$stage/out/bench" "$stage/models/imagefolder-mini" "$stage/scripts" "$stage/node_modules"
cp dist/cli.js "$stage/dist/"
cp out/bench/bench.js "$stage/out/bench/"
cp models/imagefolder-mini/{manifest.json,encoder.onnx,decoder.onnx,codebooks.bin} "$stage/models/imagefolder-mini/"
cp -r samples "$stage/"
cp scripts/gpu-check.sh "$stage/scripts/"
cp package.json "$stage/"
nm() { mkdir -p "$stage/node_modules/$1"; (cd "node_modules/$1" && cp -r --parents "${@:2}" "$stage/node_modules/$1/"); }
nm onnxruntime-node package.json dist bin/napi-v6/linux/x64
nm onnxruntime-common package.json dist/cjs
nm sharp package.json lib dist
for p in sharp-linux-x64 sharp-libvips-linux-x64 colour; do nm "@img/$p" .; done
for p in detect-libc semver; do nm "$p" .; done
find "$stage/node_modules" \( -name '*.map' -o -name '*.d.ts' -o -name '*.h' -o -name '*.md' \) -delete

say "compress (xz)"
xz -T0 -6 -c "$(command -v node)" > "$OUT/node.xz"
tar -C "$stage" -cf - . | xz -T0 -6 > "$OUT/tree.tar.xz"

say "Debian packages for WebGPU on Vulkan (apt-get download)"
(cd "$OUT/gl" && apt-get download -q libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2) >&2

cat > "$OUT/run.sh" <<'EOF'
#!/bin/bash
# On the bare GPU machine: unpack the Vulkan loader and glvnd into /, Node and the tree into /tmp, run the check.
set -euo pipefail
cd "$(dirname "$0")"
for f in gl/*.deb; do dpkg -x "$f" /; done
ldconfig
# NVIDIA's container runtime puts its Vulkan ICD and EGL vendor file here (not in the default search paths)
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
[ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES="$egl"
xz -dc node.xz > /tmp/node && chmod +x /tmp/node
rm -rf /tmp/ifi && mkdir -p /tmp/ifi && tar -xJf tree.tar.xz -C /tmp/ifi
cd /tmp/ifi && NODE=/tmp/node bash scripts/gpu-check.sh --require-gpu "$@"
EOF
chmod +x "$OUT/run.sh"

total=$(du -cb "$OUT"/* "$OUT"/gl/* | tail -1 | cut -f1)
for f in "$OUT"/node.xz "$OUT"/tree.tar.xz "$OUT"/gl; do say "$(du -sh "$f" | cut -f1)  $f"; done
say "total $((total / 1024 / 1024)) MiB ($total bytes), limit 64 MiB"
[ "$total" -lt "$LIMIT" ] || { say "over the 64 MiB a device call carries"; exit 1; }
echo "$OUT"
