// Issue 7 soak: many inspections on one runtime (the built-in model, CPU), printing RSS over time
// so a leak shows as a rising line. Usage: npm run soak [-- runs] (default 2000; IFI_SOAK_RUNS too).
// Exits 1 if RSS in the last tenth exceeds the level after warm-up by more than IFI_SOAK_MAX_GROWTH_MB
// (default 200) or if results change.

import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const core = require(path.join(root, 'dist', 'core.js'));
const sharp = require('sharp');

const runs = Number(process.argv[2] ?? process.env.IFI_SOAK_RUNS ?? 2000);
const maxGrowth = Number(process.env.IFI_SOAK_MAX_GROWTH_MB ?? 200);
const model = process.env.IFI_TEST_MODEL ?? path.join(root, 'models', 'imagefolder-mini');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ifi-soak-'));
const mb = () => Math.round(process.memoryUsage().rss / 2 ** 20);

try {
  const images = [];
  for (let k = 0; k < 4; k++) {
    const raw = Buffer.alloc(48 * 48 * 3);
    for (let i = 0; i < 48 * 48; i++) raw.set([(i * (k + 1)) % 256, (i % 48) * 5, Math.floor(i / 48) * 5], i * 3);
    const f = path.join(dir, `img${k}.png`);
    await sharp(raw, { raw: { width: 48, height: 48, channels: 3 } }).png().toFile(f);
    images.push(f);
  }
  const rt = await core.ModelRuntime.load(model, { provider: 'cpu', threads: Number(process.env.IFI_SOAK_THREADS ?? 0) });
  const first = new Map();
  for (const f of images) first.set(f, JSON.stringify((await core.inspect(rt, f)).indices));
  const t0 = Date.now();
  const every = Math.max(1, Math.round(runs / 40));
  const samples = [];
  console.log(`soak: ${runs} inspections of ${images.length} images, model ${path.basename(model)}; RSS ${mb()} MB after warm-up`);
  for (let i = 0; i < runs; i++) {
    const f = images[i % images.length];
    // Every 10th run is cancelled mid-way and must say so; the others must give the same tokens.
    if (i % 10 === 9) {
      const ac = new AbortController();
      const p = core.inspect(rt, f, { signal: ac.signal });
      ac.abort();
      await p.then(
        () => { throw new Error(`run ${i}: cancelled run resolved`); },
        (e) => { if (e?.code !== 'CANCELLED') throw e; },
      );
    } else {
      const r = await core.inspect(rt, f);
      if (JSON.stringify(r.indices) !== first.get(f)) throw new Error(`run ${i}: tokens changed for ${path.basename(f)}`);
    }
    if ((i + 1) % every === 0 || i === runs - 1) {
      samples.push(mb());
      console.log(`${String(i + 1).padStart(7)}  ${((Date.now() - t0) / 1000).toFixed(1).padStart(7)} s  RSS ${String(samples.at(-1)).padStart(5)} MB  heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MB`);
    }
  }
  await rt.dispose();
  const warm = samples[Math.min(samples.length - 1, Math.floor(samples.length / 4))];
  const tail = samples.slice(-Math.max(1, Math.floor(samples.length / 10)));
  const growth = Math.max(...tail) - warm;
  console.log(`soak: RSS ${warm} MB after a quarter of the runs, max ${Math.max(...tail)} MB at the end (growth ${growth} MB, limit ${maxGrowth})`);
  if (growth > maxGrowth) {
    console.error('soak: RSS keeps growing: a leak?');
    process.exitCode = 1;
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
