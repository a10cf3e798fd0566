import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { ModelRuntime, UserError, folderStats, inspect, listImages } from '../../../src/extension/core';
import { TEST_MODEL, hasRealModel, tmpDir } from './helpers';

describe('folder statistics', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    dir = tmpDir('ifi-folder-');
    fs.mkdirSync(path.join(dir, 'cats'));
    fs.mkdirSync(path.join(dir, '.hidden'));
    await sharp({ create: { width: 20, height: 20, channels: 3, background: '#ff0000' } }).png().toFile(path.join(dir, 'red.png'));
    await sharp({ create: { width: 30, height: 20, channels: 3, background: '#00aa00' } }).jpeg().toFile(path.join(dir, 'cats', 'green.jpg'));
    await sharp({ create: { width: 20, height: 20, channels: 3, background: '#0000ff' } }).webp().toFile(path.join(dir, 'cats', 'blue.webp'));
    fs.writeFileSync(path.join(dir, 'broken.png'), 'garbage');
    fs.writeFileSync(path.join(dir, 'readme.txt'), 'not an image');
    fs.writeFileSync(path.join(dir, '.hidden', 'x.png'), 'hidden');
  });

  it('lists images recursively, skipping hidden folders and other files', async () => {
    const files = (await listImages(dir)).map((f) => path.relative(dir, f));
    assert.deepEqual(files, ['broken.png', 'cats/blue.webp', 'cats/green.jpg', 'red.png']);
    assert.deepEqual((await listImages(dir, false)).map((f) => path.basename(f)), ['broken.png', 'red.png']);
  });

  it('rejects a missing or empty folder', async () => {
    await assert.rejects(listImages('/nonexistent/dir'), (e: unknown) => e instanceof UserError && e.code === 'FOLDER_NOT_FOUND');
  });

  describe('with the real model', () => {
    let rt: ModelRuntime;
    before(async function () {
      if (!hasRealModel()) this.skip();
      rt = await ModelRuntime.load(TEST_MODEL, { provider: 'cpu' });
    });
    after(async () => rt?.dispose());

    it('aggregates usage, dead codes and top codes, with progress', async () => {
      const progress: number[] = [];
      const s = await folderStats(rt, dir, { batchSize: 2, onProgress: (p) => progress.push(p.done) });
      assert.equal(s.images, 3);
      assert.deepEqual(progress, [1, 2, 3, 4]);
      assert.equal(s.failed.length, 1);
      assert.equal(s.failed[0].image, 'broken.png');
      assert.equal(s.failed[0].code, 'IMAGE_UNSUPPORTED');
      const L = rt.pkg.manifest.tokensPerBranch;
      s.usage.forEach((u, p) => {
        assert.equal(u.histogram.reduce((a, c) => a + c, 0), 3 * L);
        assert.equal(s.deadCodes[p].length, rt.info().branches[p].codebookSize - u.used);
        assert.ok(s.topCodes[p].length > 0);
        const top = s.topCodes[p][0];
        assert.equal(top.count, Math.max(...u.histogram));
        assert.ok(top.images.length >= 1 && top.images.length <= 3);
      });
      // The aggregate equals the sum of single-image inspections.
      const red = await inspect(rt, path.join(dir, 'red.png'), {});
      const code = red.indices[0][0];
      assert.ok(s.usage[0].histogram[code] >= red.usage[0].histogram[code]);
    });

    it('stops when cancelled', async () => {
      const ac = new AbortController();
      const run = folderStats(rt, dir, { signal: ac.signal, batchSize: 1, onProgress: () => ac.abort() });
      await assert.rejects(run, (e: unknown) => e instanceof UserError && e.code === 'CANCELLED');
    });
  });
});
