// The real fallback path on these machines: onnxruntime-node offers WebGPU, but session creation
// fails with "No supported adapters"; CUDA is listed but its binaries are not installed.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { availableProviders, candidates, createSession, forgetProviderFailures, vulkanLoaderFound } from '../../../src/extension/core/providers';
import { identityModel, tmpDir, webgpuSkipPattern } from './helpers';

describe('execution provider fallback', function () {
  this.timeout(60_000);
  let model: string;
  before(() => {
    model = path.join(tmpDir(), 'identity.onnx');
    fs.writeFileSync(model, identityModel());
  });
  beforeEach(() => forgetProviderFailures());

  it('lists the providers this onnxruntime-node build offers', () => {
    const a = availableProviders();
    assert.ok(a.includes('cpu'));
    assert.ok(a.every((p) => ['cpu', 'cuda', 'dml', 'coreml', 'webgpu', 'wasm'].includes(p)));
    assert.ok(a.includes('wasm'), 'onnxruntime-web is installed in development');
  });

  it('auto falls back to CPU and reports every skipped provider with its reason', async function () {
    if (!availableProviders().includes('webgpu')) this.skip();
    const r = await createSession(model, 'auto');
    assert.equal(r.provider, 'cpu');
    const webgpu = r.skipped.find((s) => s.provider === 'webgpu');
    assert.ok(webgpu, JSON.stringify(r.skipped));
    // Without a Vulkan loader (these machines) auto does not even try WebGPU; with one, Dawn finds no adapter.
    assert.match(webgpu.reason, webgpuSkipPattern(vulkanLoaderFound()));
    await r.session.release();
  });

  it('auto passes over WebGPU on Linux without a Vulkan loader; by name it is still tried', () => {
    const all: ('cpu' | 'cuda' | 'webgpu')[] = ['cpu', 'cuda', 'webgpu'];
    const none = () => false;
    assert.match(candidates('auto', all, 'linux', none).find((c) => c.provider === 'webgpu')!.skipReason!, /no Vulkan loader/);
    assert.equal(candidates('auto', all, 'linux', () => true).find((c) => c.provider === 'webgpu')!.skipReason, undefined);
    assert.equal(candidates('webgpu', all, 'linux', none)[0].skipReason, undefined);
    assert.equal(candidates('auto', all, 'win32', none).find((c) => c.provider === 'webgpu')!.skipReason, undefined);
  });

  it('finds libvulkan.so.1 on LD_LIBRARY_PATH, in ld.so.conf.d folders and in the system folders', () => {
    const conf = tmpDir();
    fs.writeFileSync(path.join(conf, 'vendor.conf'), '# comment\n/opt/vendor/lib\n');
    const at = (dir: string) => (f: string) => f === path.join(dir, 'libvulkan.so.1');
    assert.equal(vulkanLoaderFound({ LD_LIBRARY_PATH: '/a:/b' }, at('/b'), conf), true);
    assert.equal(vulkanLoaderFound({}, at('/opt/vendor/lib'), conf), true);
    assert.equal(vulkanLoaderFound({}, at('/usr/lib64'), conf), true);
    assert.equal(vulkanLoaderFound({ LD_LIBRARY_PATH: '/a' }, at('/elsewhere'), conf), false);
  });

  it('an explicitly requested but failing provider also falls back to CPU, with the reason', async function () {
    if (!availableProviders().includes('webgpu')) this.skip();
    const r = await createSession(model, 'webgpu');
    assert.equal(r.provider, 'cpu');
    assert.deepEqual(r.skipped.map((s) => s.provider), ['webgpu']);
    await r.session.release();
  });

  it('remembers a failed provider instead of probing it again', async function () {
    if (!availableProviders().includes('webgpu')) this.skip();
    (await createSession(model, 'webgpu')).session.release();
    const t = performance.now();
    const r = await createSession(model, 'webgpu');
    assert.ok(performance.now() - t < 1000);
    assert.match(r.skipped[0].reason, /No supported adapters/);
    await r.session.release();
  });

  it('a provider this platform does not offer is skipped without trying', async () => {
    const r = await createSession(model, process.platform === 'win32' ? 'coreml' : 'dml');
    assert.equal(r.provider, 'cpu');
    assert.match(r.skipped[0].reason, /not offered by onnxruntime-node/);
    await r.session.release();
  });

  it('cpu runs the graph', async () => {
    const r = await createSession(model, 'cpu');
    assert.deepEqual(r.skipped, []);
    const ort = await import('onnxruntime-node');
    const out = await r.session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [1, 3]) });
    assert.deepEqual([...(out.y.data as Float32Array)], [1, 2, 3]);
    await r.session.release();
  });
});
