import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_CFG, MAX_GENERATE_SEED, MAX_TEMPERATURE, MAX_TOP_K } from '../../../src/extension/core';
import { resolveSettings, type Inspected } from '../../../src/extension/host/settings';
import { repoRoot } from './tinyModel';

function reader(values: Record<string, Inspected<unknown>>) {
  return (k: string) => values[k];
}

describe('host settings', () => {
  it('defaults to the built-in model next to the extension, auto provider, crop, white, 100 MP', () => {
    const s = resolveSettings({ read: () => undefined, trusted: true, extensionRoot: '/ext' });
    assert.equal(s.runtime.modelDir, path.join('/ext', 'models', 'imagefolder-mini'));
    assert.equal(s.runtime.builtInModelDir, s.runtime.modelDir);
    assert.equal(s.runtime.provider, 'auto');
    assert.equal(s.runtime.resize, 'crop');
    assert.equal(s.runtime.background, '#ffffff');
    assert.equal(s.runtime.pixelLimit, 100_000_000);
    assert.equal(s.modelPathIgnored, false);
  });

  it('uses a workspace model path only in trusted workspaces', () => {
    const read = reader({ modelPath: { defaultValue: '', workspaceValue: '/ws/evil-model' } });
    const trusted = resolveSettings({ read, trusted: true, extensionRoot: '/ext' });
    assert.equal(trusted.runtime.modelDir, '/ws/evil-model');
    const untrusted = resolveSettings({ read, trusted: false, extensionRoot: '/ext' });
    assert.equal(untrusted.runtime.modelDir, path.join('/ext', 'models', 'imagefolder-mini'));
    assert.equal(untrusted.modelPathIgnored, true);
  });

  it('keeps a user-level (global) model path in untrusted workspaces', () => {
    const read = reader({ modelPath: { globalValue: '/home/me/model', workspaceFolderValue: '/ws/other' } });
    const s = resolveSettings({ read, trusted: false, extensionRoot: '/ext' });
    assert.equal(s.runtime.modelDir, '/home/me/model');
    assert.equal(s.modelPathIgnored, true);
  });

  it('resolves ~ and relative model paths, refusing relative ones without a workspace', () => {
    const home = resolveSettings({ read: reader({ modelPath: { globalValue: '~/m' } }), trusted: true, extensionRoot: '/ext', home: '/home/u' });
    assert.equal(home.runtime.modelDir, '/home/u/m');
    const rel = resolveSettings({ read: reader({ modelPath: { workspaceValue: 'models/x' } }), trusted: true, extensionRoot: '/ext', workspaceRoot: '/ws' });
    assert.equal(rel.runtime.modelDir, '/ws/models/x');
    const none = resolveSettings({ read: reader({ modelPath: { globalValue: 'models/x' } }), trusted: true, extensionRoot: '/ext' });
    assert.equal(none.runtime.modelDir, none.runtime.builtInModelDir);
    assert.match(none.modelPathProblem, /relative/);
  });

  it('replaces invalid values by defaults', () => {
    const read = reader({
      provider: { globalValue: 'quantum' },
      resize: { globalValue: 'stretch' },
      background: { globalValue: 'red; }' },
      pixelLimit: { globalValue: -5 },
      threads: { globalValue: 1e9 },
      'generation.topP': { globalValue: 7 },
    });
    const s = resolveSettings({ read, trusted: true, extensionRoot: '/ext' });
    assert.equal(s.runtime.provider, 'auto');
    assert.equal(s.runtime.resize, 'crop');
    assert.equal(s.runtime.background, '#ffffff');
    assert.equal(s.runtime.pixelLimit, 100_000_000);
    assert.equal(s.runtime.threads, 0);
    assert.equal(s.generation.topP, 0.95);
  });

  it("generation cfg/top-k/top-p/temperature default to the model's recommendation, and say so in Settings (issue 17, item 5)", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8'));
    const props = pkg.contributes.configuration.properties;
    for (const k of ['cfg', 'topK', 'topP', 'temperature']) {
      const p = props[`imagefolderInspector.generation.${k}`];
      assert.equal(p.default, null, k); // shown empty in the Settings editor, not as a number the Generate view does not use
      assert.ok(Array.isArray(p.type) && p.type.includes('null'), k);
      assert.match(p.markdownDescription, /Empty \(the default\): the model's recommendation/, k);
    }
    // what VS Code reports for those defaults (null), or a value cleared back to null: not a user choice
    const read = reader({ 'generation.cfg': { defaultValue: null }, 'generation.topK': { defaultValue: null, globalValue: null }, 'generation.topP': { defaultValue: null, globalValue: 0.5 } });
    const s = resolveSettings({ read, trusted: true, extensionRoot: '/ext' });
    assert.deepEqual(s.generationUserSet, ['topP']);
    assert.equal(s.generation.topP, 0.5);
  });

  it("takes generation values up to the protocol's bounds and no further (shared/limits.ts)", () => {
    const at = reader({ 'generation.cfg': { globalValue: MAX_CFG }, 'generation.topK': { globalValue: MAX_TOP_K }, 'generation.temperature': { globalValue: 0.001 }, 'generation.seed': { globalValue: 2 ** 40 } });
    const a = resolveSettings({ read: at, trusted: true, extensionRoot: '/ext' }).generation;
    assert.deepEqual([a.cfg, a.topK, a.temperature, a.seed], [MAX_CFG, MAX_TOP_K, 0.001, 2 ** 40]);
    const over = reader({ 'generation.cfg': { globalValue: MAX_CFG + 1 }, 'generation.topK': { globalValue: MAX_TOP_K + 1 }, 'generation.temperature': { globalValue: MAX_TEMPERATURE * 2 }, 'generation.seed': { globalValue: MAX_GENERATE_SEED + 2 } });
    const o = resolveSettings({ read: over, trusted: true, extensionRoot: '/ext' });
    assert.equal(o.generation.seed, 0);
    assert.deepEqual(o.generationUserSet, [], 'out-of-range values are not user choices');
  });

  it('passes valid values through', () => {
    const read = reader({ provider: { globalValue: 'webgpu' }, resize: { workspaceValue: 'letterbox' }, background: { globalValue: '#00FF00' }, pixelLimit: { globalValue: 5000 } });
    const s = resolveSettings({ read, trusted: true, extensionRoot: '/ext' });
    assert.deepEqual([s.runtime.provider, s.runtime.resize, s.runtime.background, s.runtime.pixelLimit], ['webgpu', 'letterbox', '#00ff00', 5000]);
  });
});
