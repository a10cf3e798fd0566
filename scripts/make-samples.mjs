#!/usr/bin/env node
// Regenerates the sample workspace in samples/ (committed; run this only to change it).
//   node scripts/make-samples.mjs [path/to/emoji-datasource-google-16.0.0.tgz]
// Noto Emoji PNGs come from the npm package emoji-datasource-google@16.0.0 (images: Apache-2.0);
// the other images are drawn here from scratch with sharp (no third-party content).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'samples');
fs.mkdirSync(out, { recursive: true });

// ---- Noto Emoji (Apache-2.0), 64x64 RGBA
const EMOJI = { '1f431': 'cat-face.png', '1f34e': 'red-apple.png', '1f680': 'rocket.png', '1f33b': 'sunflower.png' };
let tgz = process.argv[2];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samples-'));
if (!tgz) {
  execFileSync('npm', ['pack', 'emoji-datasource-google@16.0.0', '--pack-destination', tmp], { stdio: 'inherit' });
  tgz = path.join(tmp, 'emoji-datasource-google-16.0.0.tgz');
}
for (const [code, name] of Object.entries(EMOJI)) {
  execFileSync('tar', ['-xzf', tgz, '-C', tmp, `package/img/google/64/${code}.png`]);
  // Re-encode losslessly with maximum compression (pixels unchanged).
  await sharp(path.join(tmp, 'package/img/google/64', `${code}.png`)).png({ compressionLevel: 9 }).toFile(path.join(out, name));
}
fs.rmSync(tmp, { recursive: true, force: true });

// ---- drawn here: a 128x128 JPEG photo-like scene and a 96x96 PNG of flat shapes
const scene = `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128">
  <defs>
    <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#2b5fa8"/><stop offset="1" stop-color="#f4c27a"/></linearGradient>
    <radialGradient id="sun" cx="0.5" cy="0.5" r="0.5"><stop offset="0" stop-color="#fff6c8"/><stop offset="1" stop-color="#f7a93b"/></radialGradient>
  </defs>
  <rect width="128" height="128" fill="url(#sky)"/>
  <circle cx="88" cy="62" r="18" fill="url(#sun)"/>
  <path d="M0 92 L30 64 L52 84 L78 56 L128 96 L128 128 L0 128 Z" fill="#3d5a3a"/>
  <path d="M0 108 Q40 96 70 110 T128 106 L128 128 L0 128 Z" fill="#24402a"/>
  <rect x="16" y="96" width="6" height="16" fill="#5a3b22"/><circle cx="19" cy="92" r="9" fill="#2f6b35"/>
</svg>`;
await sharp(Buffer.from(scene)).jpeg({ quality: 90 }).toFile(path.join(out, 'landscape.jpg'));
const shapes = `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96">
  <rect width="96" height="96" fill="#f3efe6"/>
  <rect x="8" y="8" width="36" height="36" fill="#d1495b"/>
  <circle cx="68" cy="26" r="18" fill="#00798c"/>
  <polygon points="26,54 46,88 6,88" fill="#edae49"/>
  <rect x="54" y="54" width="34" height="34" rx="8" fill="#30638e"/>
  <path d="M8 50 H88" stroke="#003d5b" stroke-width="2"/>
</svg>`;
await sharp(Buffer.from(shapes)).png({ compressionLevel: 9 }).toFile(path.join(out, 'shapes.png'));

// ---- a corrupt image (end-to-end test 5): a real PNG signature and IHDR, then garbage
const good = await sharp(path.join(out, 'shapes.png')).toBuffer();
const bad = Buffer.concat([good.subarray(0, 33), Buffer.from('this is not image data, the rest of the file is missing\n')]);
fs.writeFileSync(path.join(out, 'corrupt.png'), bad);

for (const f of fs.readdirSync(out).sort()) console.log(`${f}\t${fs.statSync(path.join(out, f)).size} B`);
