// The panel's metrics against imagefolder/metrics.py's on the pairs check_metrics.py wrote: the same
// bytes from the same model output (image.ts fromTensor), PSNR and SSIM equal to 1e-9.
// usage: node training/tests/check_metrics.js <pairs.json> <dir with esbuild bundles metrics.js, image.js>
const fs = require('fs');
const path = require('path');

const [file, core] = process.argv.slice(2);
const { psnr, ssim } = require(path.resolve(core, 'metrics.js'));
const { fromTensor } = require(path.resolve(core, 'image.js'));
const { pairs } = JSON.parse(fs.readFileSync(file, 'utf8'));
let worst = 0;
for (const [i, p] of pairs.entries()) {
  const ref = Uint8Array.from(p.ref);
  let b = Uint8Array.from(p.bytes);
  if (p.model) {
    const rgb = fromTensor(Float32Array.from(p.model), p.width, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
    const diff = rgb.findIndex((v, j) => v !== b[j]);
    if (diff >= 0) throw new Error(`pair ${i}: byte ${diff} is ${rgb[diff]} in the panel, ${b[diff]} in Python`);
    b = rgb;
  }
  const d = Math.max(Math.abs(psnr(ref, b) - p.psnr), Math.abs(ssim(ref, b, p.width, p.height) - p.ssim));
  if (!(d < 1e-9)) throw new Error(`pair ${i} (${p.width}x${p.height}): PSNR ${psnr(ref, b)} vs ${p.psnr}, SSIM ${ssim(ref, b, p.width, p.height)} vs ${p.ssim}`);
  worst = Math.max(worst, d);
}
console.log(`metrics: ${pairs.length} pairs, panel and evaluate.py agree (max difference ${worst.toExponential(1)})`);
