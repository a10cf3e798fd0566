// `auto` keeps the provider that measured faster: the choice logic with fake providers and a fake
// clock; the real path on this GPU-less machine (only the CPU can run: chosen without timing, the
// GPU providers' reasons name what to install); real timings of the built-in model on the CPU.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { choiceKey, defaultChoiceCacheFile, fileChoiceCache, onlyChoice, pickFastest, timeProviders } from '../../../src/extension/core/providerChoice';
import { failureReason, forgetProviderFailures, VULKAN_PACKAGES } from '../../../src/extension/core/providers';
import { ModelRuntime } from '../../../src/extension/core/runtime';
import { OrtWorker } from '../../../src/extension/core/ortWorker';
import { sessionOptions } from '../../../src/extension/core/providers';
import type { ProviderName } from '../../../src/shared/types';
import { TEST_MODEL, tmpDir } from './helpers';

/** Fake providers: each run advances a fake clock by the provider's cost; first runs also pay a warm-up. */
function fakeProviders(cost: Record<string, { encoder: number; decoder: number; warmup?: number }>) {
  let clock = 0;
  const runs: string[] = [];
  const seen = new Set<string>();
  return {
    now: () => clock,
    runs,
    run: async (p: ProviderName, g: 'encoder' | 'decoder') => {
      runs.push(`${p}:${g}`);
      clock += cost[p][g] + (seen.has(`${p}:${g}`) ? 0 : (cost[p].warmup ?? 0));
      seen.add(`${p}:${g}`);
    },
  };
}

describe('auto provider choice', function () {
  this.timeout(120_000);

  it('keeps the CPU when a GPU provider is slower per run (small model, batch 1)', async () => {
    // the H200 numbers for the built-in model at batch 1: webgpu 25.3 / 19.5 ms, cpu 11.7 / 7.2 ms
    const f = fakeProviders({ webgpu: { encoder: 25.3, decoder: 19.5, warmup: 900 }, cpu: { encoder: 11.7, decoder: 7.2 } });
    const timings = await timeProviders(['webgpu', 'cpu'], f.run, f.now);
    assert.deepEqual(timings.map((t) => [t.provider, +t.encoderMs.toFixed(6), +t.decoderMs.toFixed(6)]), [['webgpu', 25.3, 19.5], ['cpu', 11.7, 7.2]], 'warm-up runs are not timed');
    assert.deepEqual(f.runs, ['webgpu:encoder', 'webgpu:encoder', 'webgpu:decoder', 'webgpu:decoder', 'cpu:encoder', 'cpu:encoder', 'cpu:decoder', 'cpu:decoder']);
    const c = pickFastest(timings, 7);
    assert.equal(c.provider, 'cpu');
    assert.equal(c.reason, 'cpu 7.2 ms vs webgpu 20 ms per 7-tile decoder run (encoder 12 ms vs 25 ms): cpu kept');
  });

  it('keeps the GPU when it is faster (batch 8 / real-size model)', async () => {
    const f = fakeProviders({ cpu: { encoder: 42.3, decoder: 33.8 }, webgpu: { encoder: 27.3, decoder: 20.8, warmup: 900 } });
    const c = pickFastest(await timeProviders(['webgpu', 'cpu'], f.run, f.now), 7);
    assert.equal(c.provider, 'webgpu');
    assert.match(c.reason, /^webgpu 21 ms vs cpu 34 ms per 7-tile decoder run .*: webgpu kept$/);
    // a tie keeps the first listed (the GPU: it leaves the editor's cores free)
    assert.equal(pickFastest([{ provider: 'webgpu', encoderMs: 5, decoderMs: 5 }, { provider: 'cpu', encoderMs: 5, decoderMs: 5 }], 7).provider, 'webgpu');
    assert.match(onlyChoice('cpu', ['webgpu', 'cuda']).reason, /^cpu is the only provider .* \(webgpu, cuda cannot run here/);
  });

  it('remembers a measurement per model, onnxruntime version and providers; changed graphs invalidate it', async () => {
    const dir = tmpDir();
    const enc = path.join(dir, 'encoder.onnx');
    const dec = path.join(dir, 'decoder.onnx');
    fs.writeFileSync(enc, 'a');
    fs.writeFileSync(dec, 'b');
    const k = choiceKey([enc, dec], '1.30.0', ['webgpu', 'cpu'], 16);
    assert.equal(choiceKey([enc, dec], '1.30.0', ['cpu', 'webgpu'], 16), k, 'stable');
    assert.notEqual(choiceKey([enc, dec], '1.31.1', ['webgpu', 'cpu'], 16), k, 'onnxruntime version');
    assert.notEqual(choiceKey([enc, dec], '1.30.0', ['cuda', 'cpu'], 16), k, 'providers');
    assert.notEqual(choiceKey([enc, dec], '1.30.0', ['webgpu', 'cpu'], 2), k, 'threads');
    fs.writeFileSync(dec, 'bb'); // a re-exported graph: size and mtime change
    assert.notEqual(choiceKey([enc, dec], '1.30.0', ['webgpu', 'cpu'], 16), k, 'graph file');

    const file = path.join(dir, 'cache', 'provider-choice.json');
    const cache = fileChoiceCache(file);
    assert.equal(cache.get(k), undefined);
    const choice = pickFastest([{ provider: 'webgpu', encoderMs: 3, decoderMs: 4 }, { provider: 'cpu', encoderMs: 30, decoderMs: 40 }], 7);
    await cache.set(k, choice);
    assert.deepEqual(fileChoiceCache(file).get(k), choice);
    fs.writeFileSync(file, '{not json');
    assert.equal(fileChoiceCache(file).get(k), undefined, 'a damaged cache is a miss, not an error');
    assert.equal(defaultChoiceCacheFile({ XDG_CACHE_HOME: '/x' }, '/home/u'), '/x/imagefolder-inspector/provider-choice.json');
    assert.equal(defaultChoiceCacheFile({}, '/home/u'), '/home/u/.cache/imagefolder-inspector/provider-choice.json');
  });

  it('WebGPU failures on Linux name the Debian packages; CUDA says bring your own', () => {
    const noAdapter = new Error('Failed to get a WebGPU adapter: No supported adapters');
    for (const vulkan of [false, true]) {
      const r = failureReason('webgpu', noAdapter, 'linux', () => vulkan);
      assert.match(r, /^No supported adapters/);
      assert.ok(r.includes(`apt install ${VULKAN_PACKAGES.join(' ')}`), r);
      assert.equal(VULKAN_PACKAGES.join(' '), 'libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2');
    }
    assert.doesNotMatch(failureReason('webgpu', noAdapter, 'win32', () => false), /apt install/);
  });

  it('on this CPU-only machine auto chooses the CPU without timing, and says why the GPU providers cannot run', async () => {
    forgetProviderFailures();
    const cacheFile = path.join(tmpDir(), 'choice.json');
    const rt = await ModelRuntime.load(TEST_MODEL, { provider: 'auto', threads: 2, choiceCache: fileChoiceCache(cacheFile) });
    try {
      const report = await rt.ready();
      assert.deepEqual(report.chosen, { encoder: 'cpu', decoder: 'cpu' });
      assert.ok(report.choice, 'the choice is reported');
      assert.equal(report.choice.provider, 'cpu');
      assert.match(report.choice.reason, /^cpu is the only provider that can run this model here/);
      assert.deepEqual(report.choice.timings, [], 'nothing to compare: nothing timed');
      assert.ok(!fs.existsSync(cacheFile), 'nothing measured, nothing remembered');
      const webgpu = report.skipped.find((s) => s.provider === 'webgpu');
      if (webgpu) assert.match(webgpu.reason, /libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2/);
      const cuda = report.skipped.find((s) => s.provider === 'cuda');
      if (cuda) assert.match(cuda.reason, /not bundled with onnxruntime-node from npm: bring your own/);
      // the probe sessions are released: the runtime's own sessions run the graphs
      const [idx] = await rt.encode(new Float32Array(3 * rt.imageSize ** 2));
      assert.equal(idx.length, rt.branchCount);
    } finally {
      await rt.dispose();
    }
    // forced: no choice to report
    const forced = await ModelRuntime.load(TEST_MODEL, { provider: 'cpu', threads: 2 });
    try {
      assert.equal((await forced.ready()).choice, undefined);
    } finally {
      await forced.dispose();
    }
  });

  it("the runtime's measurement path: times both providers, remembers the choice, measures again when a graph changes", async () => {
    // a stand-in "GPU" whose sessions run on the CPU (measureWith): the path a GPU machine takes
    const dir = tmpDir();
    for (const f of ['manifest.json', 'encoder.onnx', 'decoder.onnx', 'codebooks.bin']) fs.copyFileSync(path.join(TEST_MODEL, f), path.join(dir, f));
    const cacheFile = path.join(tmpDir(), 'choice.json');
    const load = async () => {
      forgetProviderFailures();
      const rt = await ModelRuntime.load(dir, {
        provider: 'auto',
        threads: 2,
        choiceCache: fileChoiceCache(cacheFile),
        measureWith: { candidates: () => [{ provider: 'webgpu' }, { provider: 'cpu' }], sessionOptions: (_p, threads) => sessionOptions('cpu', threads) },
      });
      try {
        const report = await rt.ready();
        const [idx] = await rt.encode(new Float32Array(3 * rt.imageSize ** 2)); // the probe sessions were released, the real ones run
        assert.equal(idx.length, rt.branchCount);
        return report.choice!;
      } finally {
        await rt.dispose();
      }
    };
    const first = await load();
    assert.deepEqual(first.timings.map((t) => t.provider), ['webgpu', 'cpu']);
    assert.ok(first.timings.every((t) => t.encoderMs > 0 && t.decoderMs > 0), JSON.stringify(first.timings));
    assert.match(first.reason, /^(webgpu|cpu) [\d.]+ ms vs (webgpu|cpu) [\d.]+ ms per 7-tile decoder run \(encoder .*\): (webgpu|cpu) kept$/);
    assert.equal(first.cached, false);
    const again = await load();
    assert.equal(again.cached, true, 'remembered');
    assert.deepEqual(again.timings, first.timings);
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(dir, 'decoder.onnx'), later, later); // a re-exported graph
    const remeasured = await load();
    assert.equal(remeasured.cached, false, 'measured again');
    forgetProviderFailures();
  });

  it('times real encoder and decoder runs of the built-in model on the CPU', async () => {
    const worker = new OrtWorker(() => undefined);
    try {
      const S = 64;
      for (const g of ['encoder', 'decoder'] as const) await worker.create(g, path.join(TEST_MODEL, `${g}.onnx`), sessionOptions('cpu', 2));
      const m = JSON.parse(fs.readFileSync(path.join(TEST_MODEL, 'manifest.json'), 'utf8')) as { tokensPerBranch: number; scales: number[]; branches: unknown[] };
      const P = m.branches.length;
      const feeds = {
        encoder: () => ({ image: { type: 'float32' as const, dims: [1, 3, S, S], data: new Float32Array(3 * S * S) } }),
        decoder: () => ({
          indices: { type: 'int64' as const, dims: [1, P, m.tokensPerBranch], data: new BigInt64Array(P * m.tokensPerBranch) },
          scale_mask: { type: 'float32' as const, dims: [7, P, m.scales.length], data: new Float32Array(7 * P * m.scales.length).fill(1) },
        }),
      };
      const timings = await timeProviders(['cpu'], async (_p, g) => {
        await worker.run(g, feeds[g]());
      });
      assert.equal(timings.length, 1);
      assert.ok(timings[0].encoderMs > 0 && timings[0].encoderMs < 5000, `encoder ${timings[0].encoderMs} ms`);
      assert.ok(timings[0].decoderMs > 0 && timings[0].decoderMs < 5000, `decoder ${timings[0].decoderMs} ms`);
      assert.match(pickFastest(timings, 7).reason, /^cpu \d+(\.\d)? ms per 7-tile decoder run \(encoder \d+(\.\d)? ms\): cpu kept$/);
    } finally {
      await worker.terminate();
    }
  });
});
