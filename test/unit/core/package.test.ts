import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readModelPackage, UserError, type UserErrorCode } from '../../../src/extension/core';
import { parseOnnx } from '../../../src/extension/core/onnx-proto';
import { SMALL, onnxModel, smallEncoder, writeSmallPackage, type LooseJson } from './helpers';

function rejects(dir: string, code: UserErrorCode, pattern: RegExp): void {
  assert.throws(
    () => readModelPackage(dir),
    (e: unknown) => {
      assert.ok(e instanceof UserError, `expected UserError, got ${e}`);
      assert.equal(e.code, code, e.message);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

describe('model package validation', () => {
  it('accepts a well-formed package and reads its codebooks', () => {
    const pkg = readModelPackage(writeSmallPackage());
    assert.equal(pkg.manifest.name, 'tiny-test');
    assert.equal(pkg.codebooks.length, 2);
    assert.equal(pkg.codebooks[1].length, SMALL.V * SMALL.D);
    assert.ok(Math.abs(pkg.codebooks[0][0] - Math.sin(1)) < 1e-6);
    assert.equal(pkg.detailBranch, 0);
    assert.equal(pkg.semanticBranch, 1);
    assert.deepEqual(pkg.graphs.encoder.inputs[0], { name: 'image', elemType: 1, shape: [-1, 3, 16, 16] });
  });

  it('parses symbolic and fixed dims from ONNX protobuf', () => {
    const g = parseOnnx(onnxModel([{ name: 'a', elemType: 7, shape: ['n', 2, 5] }], [{ name: 'b', elemType: 1, shape: [4] }]));
    assert.deepEqual(g.inputs, [{ name: 'a', elemType: 7, shape: [-1, 2, 5] }]);
    assert.deepEqual(g.outputs, [{ name: 'b', elemType: 1, shape: [4] }]);
    assert.deepEqual(g.opsets, [{ domain: '', version: 17 }]);
  });

  it('names a missing folder', () => rejects('/nonexistent/model', 'MODEL_NOT_FOUND', /model folder not found: \/nonexistent\/model/));

  for (const f of ['manifest.json', 'encoder.onnx', 'decoder.onnx', 'codebooks.bin']) {
    it(`names a missing ${f}`, () => {
      const dir = writeSmallPackage();
      fs.rmSync(path.join(dir, f));
      rejects(dir, 'MODEL_MISSING_FILE', new RegExp(`^${f.replace('.', '\\.')} is missing`));
    });
  }

  it('rejects an extra file (e.g. a custom-op library)', () => {
    const dir = writeSmallPackage((_m, files) => (files['libcustom_ops.so'] = Buffer.from('x')));
    rejects(dir, 'MODEL_EXTRA_FILE', /^libcustom_ops\.so: unexpected file/);
  });

  it('rejects an extra folder', () => {
    const dir = writeSmallPackage();
    fs.mkdirSync(path.join(dir, 'weights'));
    rejects(dir, 'MODEL_EXTRA_FILE', /^weights: unexpected folder/);
  });

  it('allows the optional evaluation files', () => {
    const dir = writeSmallPackage((_m, files) => {
      files['eval.json'] = Buffer.from('{}');
      files['eval.md'] = Buffer.from('# eval');
      files['contact-sheet.png'] = Buffer.from('png');
    });
    assert.equal(readModelPackage(dir).manifest.name, 'tiny-test');
  });

  it('refuses a newer format version, naming it', () =>
    rejects(writeSmallPackage((m) => (m.formatVersion = 2)), 'MODEL_UNSUPPORTED_VERSION', /formatVersion 2 is not supported/));

  it('rejects invalid JSON', () => {
    const dir = writeSmallPackage();
    fs.writeFileSync(path.join(dir, 'manifest.json'), '{"format": ');
    rejects(dir, 'MODEL_BAD_MANIFEST', /^manifest\.json: invalid JSON/);
  });

  const fieldCases: [string, (m: LooseJson) => void, RegExp][] = [
    ['format', (m) => (m.format = 'other'), /field 'format'/],
    ['name', (m) => delete m.name, /field 'name'/],
    ['image.size', (m) => (m.image.size = 0), /field 'image\.size'/],
    ['image.mean', (m) => (m.image.mean = [0.5, 0.5]), /field 'image\.mean'/],
    ['image.std', (m) => (m.image.std = [0.5, 0, 0.5]), /field 'image\.std'/],
    ['scales', (m) => (m.scales = [1, 'two']), /field 'scales'/],
    ['branches[1].role', (m) => (m.branches[1].role = 'colour'), /field 'branches\[1\]\.role'/],
    ['branches duplicate role', (m) => (m.branches[1].role = 'detail'), /field 'branches\[1\]\.role' repeats role "detail"/],
    ['codebooks.dtype', (m) => (m.codebooks.dtype = 'float16'), /field 'codebooks\.dtype'/],
    ['graphs.encoder.file path', (m) => (m.graphs.encoder.file = '../elsewhere/encoder.onnx'), /field 'graphs\.encoder\.file' must be a plain file name/],
    ['graphs.decoder', (m) => delete m.graphs.decoder, /field 'graphs\.decoder'/],
  ];
  for (const [what, edit, pattern] of fieldCases) {
    it(`names the bad manifest field: ${what}`, () => rejects(writeSmallPackage(edit), 'MODEL_BAD_MANIFEST', pattern));
  }

  it('rejects scales whose squares do not sum to tokensPerBranch', () =>
    rejects(
      writeSmallPackage((m) => (m.scales = [1, 2, 4])),
      'MODEL_SHAPE_MISMATCH',
      /scales \[1,2,4\] give 21 tokens per branch .* tokensPerBranch is 14/,
    ));

  it('rejects declared graph shapes that disagree with image.size', () =>
    rejects(
      writeSmallPackage((m) => (m.graphs.encoder.inputs.image = [-1, 3, 32, 32])),
      'MODEL_SHAPE_MISMATCH',
      /graphs\.encoder\.inputs\.image is \[-1,3,32,32\] but image\.size imply \[-1,3,16,16\]/,
    ));

  it('rejects a scale_mask shape that disagrees with the number of scales', () =>
    rejects(
      writeSmallPackage((m) => (m.graphs.decoder.inputs.scale_mask = [-1, 2, 10])),
      'MODEL_SHAPE_MISMATCH',
      /graphs\.decoder\.inputs\.scale_mask is \[-1,2,10\] but branches and scales imply \[-1,2,3\]/,
    ));

  it('rejects codebooks.shape that disagrees with the branches', () =>
    rejects(writeSmallPackage((m) => (m.codebooks.shape = [2, 16, 4])), 'MODEL_SHAPE_MISMATCH', /codebooks\.shape \[2,16,4\] disagrees with branches\[0\]/));

  it('rejects a codebooks.bin of the wrong size', () =>
    rejects(
      writeSmallPackage((_m, f) => (f['codebooks.bin'] = Buffer.alloc(10))),
      'MODEL_BAD_CODEBOOKS',
      /codebooks\.bin: 10 bytes but codebooks\.shape \[2,8,4\] float32 needs 256/,
    ));

  it('rejects an encoder graph whose real input shape disagrees with the manifest', () =>
    rejects(
      writeSmallPackage((_m, f) => (f['encoder.onnx'] = smallEncoder({ image: { name: 'image', elemType: 1, shape: ['b', 3, 32, 32] } }))),
      'MODEL_SHAPE_MISMATCH',
      /^encoder\.onnx: input 'image' has shape \[-1,3,32,32\] but manifest\.json declares \[-1,3,16,16\]/,
    ));

  it('rejects an encoder graph whose output is named differently', () =>
    rejects(
      writeSmallPackage((_m, f) => (f['encoder.onnx'] = smallEncoder({ indices: { name: 'codes', elemType: 7, shape: ['b', 2, 14] } }))),
      'MODEL_SHAPE_MISMATCH',
      /^encoder\.onnx: graph outputs are \{codes\} but manifest\.json declares \{indices\}/,
    ));

  it('rejects indices of the wrong element type', () =>
    rejects(
      writeSmallPackage((_m, f) => (f['encoder.onnx'] = smallEncoder({ indices: { name: 'indices', elemType: 6, shape: ['b', 2, 14] } }))),
      'MODEL_SHAPE_MISMATCH',
      /output 'indices' is int32 but must be int64/,
    ));

  it('rejects a graph that is not ONNX', () =>
    rejects(writeSmallPackage((_m, f) => (f['decoder.onnx'] = Buffer.from('definitely not protobuf'))), 'MODEL_BAD_GRAPH', /^decoder\.onnx: not a valid ONNX model/));

  it('rejects custom operator domains', () =>
    rejects(
      writeSmallPackage(
        (_m, f) =>
          (f['encoder.onnx'] = smallEncoder({}, [{ op: 'Evil', inputs: ['image'], outputs: ['indices'], domain: 'com.example.custom' }], [
            { domain: '', version: 17 },
            { domain: 'com.example.custom', version: 1 },
          ])),
      ),
      'MODEL_CUSTOM_OP',
      /^encoder\.onnx: uses custom operator domain 'com\.example\.custom'/,
    ));
});
