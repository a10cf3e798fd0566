import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readModelPackage, UserError, type UserErrorCode } from '../../../src/extension/core';
import { parseOnnx } from '../../../src/extension/core/onnxProto';
import { SMALL, onnxModel, smallEncoder, tmpDir, writeSmallPackage, type LooseJson } from './helpers';

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
    assert.deepEqual(pkg.roles, { detail: 0, semantic: 1 });
    assert.deepEqual(pkg.graphs.encoder.inputs[0], { name: 'image', elemType: 1, shape: [-1, 3, 16, 16] });
  });

  it('accepts a one-branch package (role "single"): no detail and semantic roles', () => {
    const { S, P, L, scales, V, D } = { ...SMALL, P: 1 };
    const dir = writeSmallPackage((m, files) => {
      m.branches = [{ name: 'vq', role: 'single', codebookSize: V, codeDim: D }];
      m.graphs.encoder.outputs.indices = [-1, P, L];
      m.graphs.decoder.inputs = { indices: [-1, P, L], scale_mask: [-1, P, scales.length] };
      m.codebooks.shape = [P, V, D];
      files['encoder.onnx'] = smallEncoder({ indices: { name: 'indices', elemType: 7, shape: ['batch', P, L] } });
      files['decoder.onnx'] = onnxModel(
        [
          { name: 'indices', elemType: 7, shape: ['batch', P, L] },
          { name: 'scale_mask', elemType: 1, shape: ['batch', P, scales.length] },
        ],
        [{ name: 'image', elemType: 1, shape: ['batch', 3, S, S] }],
      );
      files['codebooks.bin'] = Buffer.from(new Float32Array(P * V * D).fill(0.5).buffer);
    });
    const pkg = readModelPackage(dir);
    assert.equal(pkg.manifest.branches.length, 1);
    assert.equal(pkg.roles, undefined);
    assert.equal(pkg.codebooks.length, 1);
  });

  it('refuses a one-branch package whose branch has a two-branch role, naming the role to use', () =>
    rejects(
      writeSmallPackage((m) => (m.branches = [m.branches[0]])),
      'MODEL_BAD_MANIFEST',
      /field 'branches\[0\]\.role' must be "single" in a one-branch package/,
    ));

  it('refuses a lookup it cannot colour by, naming the two it knows', () =>
    rejects(
      writeSmallPackage((m) => (m.branches[1].lookup = 'hamming')),
      'MODEL_BAD_MANIFEST',
      /field 'branches\[1\]\.lookup' must be "cosine" or "euclidean" \(got "hamming"\)/,
    ));

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
    ['branches: "single" in a two-branch package', (m) => (m.branches[1].role = 'single'), /field 'branches\[1\]\.role' must be "detail" or "semantic" in a two-branch package/],
    ['branches: three', (m) => m.branches.push({ ...m.branches[0], role: 'single' }), /field 'branches' must have 1 or 2 branches \(got 3\)/],
    ['codebooks.dtype', (m) => (m.codebooks.dtype = 'float16'), /field 'codebooks\.dtype'/],
    ['graphs.encoder.file path', (m) => (m.graphs.encoder.file = '../elsewhere/encoder.onnx'), /field 'graphs\.encoder\.file' must be a plain file name/],
    ['graphs.decoder', (m) => delete m.graphs.decoder, /field 'graphs\.decoder'/],
    ['graphs.decoder.sharedIndices', (m) => (m.graphs.decoder.sharedIndices = 'yes'), /field 'graphs\.decoder\.sharedIndices' must be true or false/],
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

// Symbolic links and other non-regular files in and around a package, made for real in temporary
// folders (docs/model-format.md, "Files"): a package file that is a link is refused whatever it
// points to, with a message saying where it points; a model folder reached through a link is read
// as the folder it points to.
describe('model package: symbolic links and non-regular files', () => {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let canLink = true;
  before(() => {
    const d = tmpDir('ifi-linkprobe-');
    try {
      fs.symlinkSync(path.join(d, 'nowhere'), path.join(d, 'probe'));
    } catch {
      canLink = false; // e.g. Windows without the symlink privilege
    }
    fs.rmSync(d, { recursive: true, force: true });
  });
  beforeEach(function () {
    if (!canLink) this.skip();
  });
  /** A small package whose `name` is replaced by a symbolic link to `target` (string as written). */
  function withLink(name: string, target: (dir: string) => string): string {
    const dir = writeSmallPackage();
    const t = target(dir);
    fs.rmSync(path.join(dir, name), { force: true });
    fs.symlinkSync(t, path.join(dir, name));
    return dir;
  }

  it('a graph that is a link to a file outside the package is refused, naming the target', () => {
    const other = writeSmallPackage();
    const target = path.join(other, 'encoder.onnx');
    const dir = withLink('encoder.onnx', () => target);
    rejects(dir, 'MODEL_SYMLINK', new RegExp(`^encoder\\.onnx in ${esc(dir)} is a symbolic link to ${esc(target)}, outside the package: refused \\(package files must be regular files, not symbolic links`));
  });

  it('a relative link out of the package shows the link text and where it resolves', () => {
    const other = writeSmallPackage();
    const dir = withLink('codebooks.bin', (d) => path.relative(d, path.join(other, 'codebooks.bin')));
    const real = fs.realpathSync(path.join(other, 'codebooks.bin'));
    rejects(dir, 'MODEL_SYMLINK', new RegExp(`^codebooks\\.bin in .* is a symbolic link to \\.\\.[/\\\\].*codebooks\\.bin, i\\.e\\. ${esc(real)}, outside the package: refused`));
  });

  it('a dangling link is refused as dangling, not reported as missing', () => {
    const dir = withLink('decoder.onnx', () => '/nonexistent/ifi/decoder.onnx');
    rejects(dir, 'MODEL_SYMLINK', /^decoder\.onnx in .* is a dangling symbolic link \(to \/nonexistent\/ifi\/decoder\.onnx, which does not exist\): refused/);
  });

  it('a link to another file inside the package is refused too (links are never followed)', () => {
    const dir = withLink('decoder.onnx', () => 'encoder.onnx');
    rejects(dir, 'MODEL_SYMLINK', /^decoder\.onnx in .* is a symbolic link to encoder\.onnx, inside the package: refused/);
  });

  it('a link loop is named as a loop', () => {
    const dir = withLink('encoder.onnx', () => 'encoder.onnx');
    rejects(dir, 'MODEL_SYMLINK', /^encoder\.onnx in .* is a symbolic link loop \(encoder\.onnx -> encoder\.onnx\): refused/);
  });

  it('a manifest.json that is a link is refused before it is read', () => {
    const elsewhere = tmpDir('ifi-manifest-');
    const target = path.join(elsewhere, 'manifest.json');
    const dir = writeSmallPackage();
    fs.renameSync(path.join(dir, 'manifest.json'), target);
    fs.symlinkSync(target, path.join(dir, 'manifest.json'));
    rejects(dir, 'MODEL_SYMLINK', new RegExp(`^manifest\\.json in .* is a symbolic link to ${esc(target)}, outside the package: refused`));
  });

  it('an optional file (eval.json) or an unlisted name that is a link is refused as a link', () => {
    const other = writeSmallPackage();
    rejects(withLink('eval.json', () => path.join(other, 'manifest.json')), 'MODEL_SYMLINK', /^eval\.json in .* is a symbolic link to .*manifest\.json, outside the package/);
    const lib = path.join(tmpDir('ifi-lib-'), 'libcustom_ops.so');
    fs.writeFileSync(lib, 'not really a library');
    rejects(withLink('libcustom_ops.so', () => lib), 'MODEL_SYMLINK', new RegExp(`^libcustom_ops\\.so in .* is a symbolic link to ${esc(lib)}, outside the package`));
  });

  it('a model folder reached through a link is read from the folder it points to', () => {
    const real = writeSmallPackage();
    const link = path.join(tmpDir('ifi-dirlink-'), 'current');
    fs.symlinkSync(real, link, 'dir');
    const pkg = readModelPackage(link);
    assert.equal(pkg.manifest.name, 'tiny-test');
    assert.equal(pkg.dir, fs.realpathSync(real));
    assert.equal(pkg.encoderPath, path.join(fs.realpathSync(real), 'encoder.onnx'));
  });

  it('a dangling model-folder link and a link to a file say so', () => {
    const base = tmpDir('ifi-dirlink-');
    const dangling = path.join(base, 'model');
    fs.symlinkSync(path.join(base, 'gone'), dangling, 'dir');
    rejects(dangling, 'MODEL_NOT_FOUND', new RegExp(`^model folder ${esc(dangling)} is a dangling symbolic link \\(to ${esc(path.join(base, 'gone'))}, which does not exist\\)$`));
    const file = path.join(base, 'model.txt');
    fs.writeFileSync(file, 'x');
    const toFile = path.join(base, 'model2');
    fs.symlinkSync(file, toFile);
    rejects(toFile, 'MODEL_NOT_FOUND', new RegExp(`^model folder ${esc(toFile)} is not a folder \\(a symbolic link to .*model\\.txt, which is a file\\)$`));
    rejects(file, 'MODEL_NOT_FOUND', new RegExp(`^model folder ${esc(file)} is not a folder \\(it is a file\\)$`));
  });

  it('a required file that is a folder is named as a folder, not as missing', () => {
    const dir = writeSmallPackage();
    fs.rmSync(path.join(dir, 'encoder.onnx'));
    fs.mkdirSync(path.join(dir, 'encoder.onnx'));
    rejects(dir, 'MODEL_NOT_A_FILE', /^encoder\.onnx in .* is a folder, not a regular file$/);
  });

  it('a manifest.json that is a named pipe is refused at once (reading it would block forever)', function () {
    const dir = writeSmallPackage();
    fs.rmSync(path.join(dir, 'manifest.json'));
    const r = spawnSync('mkfifo', [path.join(dir, 'manifest.json')]);
    if (r.status !== 0) this.skip(); // no mkfifo on this platform
    rejects(dir, 'MODEL_NOT_A_FILE', /^manifest\.json in .* is a named pipe, not a regular file$/);
  });
});
