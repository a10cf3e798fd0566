// The WebAssembly fallback (core/native.ts): onnxruntime-web's 'wasm' provider runs the same graphs
// where onnxruntime-node cannot load (darwin-x64: no binaries since 1.24). On linux it is exercised
// by asking for it (provider 'wasm') and, for the fallback itself, in a CLI process with
// IMAGEFOLDER_ORT_BACKEND=web, which makes the native backend count as unavailable.

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import sharp from 'sharp';
import { ModelRuntime, inspect, type Inspection } from '../../../src/extension/core';
import { nativeLoadError } from '../../../src/extension/core/native';
import { candidates } from '../../../src/extension/core/providers';
import { CLI, REPO, TEST_MODEL, hasRealModel, tmpDir } from './helpers';

const CAT = path.join(REPO, 'samples', 'cat-face.png');

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args, '--model', TEST_MODEL], { cwd: REPO, encoding: 'utf8', timeout: 180_000, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('WebAssembly backend (onnxruntime-web, provider wasm)', function () {
  this.timeout(240_000);

  it('says why onnxruntime-node did not load, in one line', () => {
    assert.equal(nativeLoadError("Cannot find module '../bin/napi-v6/darwin/x64/onnxruntime_binding.node'\nRequire stack:\n- x", 'darwin', 'x64'), 'onnxruntime-node has no binary for darwin-x64');
    assert.equal(nativeLoadError("Cannot find module 'onnxruntime-node'", 'darwin', 'x64'), 'onnxruntime-node has no binary for darwin-x64');
    assert.match(nativeLoadError('/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38\' not found\nmore', 'linux', 'x64'), /^onnxruntime-node cannot load on linux-x64: .*GLIBC_2\.38' not found$/);
  });

  it('without onnxruntime-node every setting runs on wasm, and the CPU line says why; auto never prefers wasm to a native CPU', () => {
    const why = 'onnxruntime-node has no binary for darwin-x64';
    const auto = candidates('auto', ['wasm'], 'darwin', () => false, why);
    assert.deepEqual(auto.map((c) => c.provider), ['cpu', 'wasm']);
    assert.equal(auto[0].skipReason, `WebAssembly CPU (wasm, slower) instead: ${why}`);
    assert.equal(auto[1].skipReason, undefined);
    assert.deepEqual(candidates('coreml', ['wasm'], 'darwin', () => false, why).map((c) => [c.provider, c.skipReason]), [
      ['coreml', why],
      ['cpu', `WebAssembly CPU (wasm, slower) instead: ${why}`],
      ['wasm', undefined],
    ]);
    assert.deepEqual(candidates('wasm', ['cpu', 'wasm'], 'linux', () => false, undefined), [{ provider: 'wasm' }]);
    const noWeb = candidates('wasm', ['cpu', 'webgpu'], 'linux', () => false, undefined);
    assert.deepEqual(noWeb.map((c) => c.provider), ['wasm', 'cpu']);
    assert.match(noWeb[0].skipReason!, /onnxruntime-web is not part of this build/);
    const native = candidates('auto', ['cpu', 'webgpu', 'wasm'], 'linux', () => false, undefined);
    assert.equal(native[native.length - 1].provider, 'cpu');
    assert.ok(!native.some((c) => c.provider === 'wasm'));
  });

  it('inspects samples/cat-face.png on wasm with the same indices as the native CPU and PSNR within 0.01 dB', async function () {
    if (!hasRealModel()) this.skip();
    const run = async (provider: 'cpu' | 'wasm'): Promise<{ r: Inspection; chosen: Record<string, string> }> => {
      const rt = await ModelRuntime.load(TEST_MODEL, { provider, threads: 2 });
      try {
        const r = await inspect(rt, CAT, { resize: 'crop', background: '#ffffff', pixelLimit: 100e6 });
        return { r, chosen: rt.providerReport().chosen };
      } finally {
        await rt.dispose();
      }
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    assert.deepEqual(cpu.chosen, { encoder: 'cpu', decoder: 'cpu' });
    assert.deepEqual(wasm.chosen, { encoder: 'wasm', decoder: 'wasm' });
    assert.deepEqual(wasm.r.indices, cpu.r.indices);
    assert.equal(wasm.r.psnrByScale.length, cpu.r.psnrByScale.length);
    wasm.r.psnrByScale.forEach((p, i) => assert.ok(Math.abs(p - cpu.r.psnrByScale[i]) < 0.01, `scale ${i}: wasm ${p} dB vs cpu ${cpu.r.psnrByScale[i]} dB`));
    for (const b of ['semantic', 'detail'] as const) assert.ok(Math.abs(wasm.r.ablationMetrics![b].psnr - cpu.r.ablationMetrics![b].psnr) < 0.01, b);
  });

  it('CLI: with onnxruntime-node unavailable, info reports wasm and why, and tokenize matches the native CPU', () => {
    const env = { IMAGEFOLDER_ORT_BACKEND: 'web' };
    const info = cli(['info'], env);
    assert.equal(info.code, 0, info.err);
    assert.match(info.out, /^providers available: wasm$/m);
    assert.match(info.out, /^providers chosen: +encoder=wasm, decoder=wasm$/m);
    assert.match(info.out, /^provider skipped: +cpu: WebAssembly CPU \(wasm, slower\) instead: IMAGEFOLDER_ORT_BACKEND=web$/m);
    assert.match(info.out, /^threads +1 thread for the encoder; decoder runs shared by 2 workers of 1 thread$/m);
    const web = cli(['tokenize', CAT, '--json'], env);
    const native = cli(['tokenize', CAT, '--json', '--provider', 'cpu']);
    assert.equal(web.code, 0, web.err);
    assert.equal(native.code, 0, native.err);
    const a = JSON.parse(web.out);
    const b = JSON.parse(native.out);
    assert.equal(a.provider, 'wasm');
    assert.equal(b.provider, 'cpu');
    assert.match(JSON.stringify(a.providers.skipped), /IMAGEFOLDER_ORT_BACKEND=web/);
    assert.ok(a.indices.length > 0);
    assert.deepEqual(a.indices, b.indices);
    a.psnrByScale.forEach((p: number, i: number) => assert.ok(Math.abs(p - b.psnrByScale[i]) <= 0.01, `scale ${i}`));
  });

  it('CLI: tokenize --provider wasm runs on wasm next to a working native runtime', () => {
    const r = cli(['tokenize', CAT, '--provider', 'wasm']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /provider: encoder=wasm, decoder=wasm/);
  });

  it('CLI: generate runs its graphs on wasm too, with the sample the native CPU draws', async function () {
    if (!hasRealModel()) this.skip();
    const list = cli(['generate', '--list-classes']);
    if (list.code !== 0) this.skip(); // a model without a generator
    const cls = list.out.trim().split('\n')[0].split(/\s+/)[0];
    const dir = tmpDir('ifi-wasm-');
    const out = (p: string) => path.join(dir, `${p}.png`);
    for (const p of ['cpu', 'wasm']) {
      const r = cli(['generate', '--class', cls, '--seed', '3', '--out', out(p), '--provider', p]);
      assert.equal(r.code, 0, r.err);
    }
    const px = async (p: string) => sharp(out(p)).raw().toBuffer();
    const [a, b] = [await px('cpu'), await px('wasm')];
    assert.equal(a.length, b.length);
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff += Math.abs(a[i] - b[i]);
    // identical here (the same tokens are sampled); the bound leaves room for float-level differences
    assert.ok(diff / a.length < 1, `mean abs pixel difference ${diff / a.length}`);
  });
});
