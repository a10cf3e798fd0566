// scripts/vsix-inspect.mjs: the executable-header reader behind the VSIX tests, on real binaries of
// this machine and on minimal headers of the other formats (the layouts the VSIXes' files use).

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundledProviders, expectedFormat, nativeKind, ORT_WEB_RUNTIME, type ZipEntry } from '../../../scripts/vsix-inspect.mjs';
import { repoRoot } from '../../support/repo';

const head = (f: string) => {
  const fd = fs.openSync(f, 'r');
  const b = Buffer.alloc(4096);
  fs.readSync(fd, b, 0, b.length, 0);
  fs.closeSync(fd);
  return b;
};

describe('native binary headers (vsix-inspect)', () => {
  it("reads this machine's Node and onnxruntime binaries as ELF of this architecture", function () {
    if (process.platform !== 'linux') this.skip();
    const ort = path.join(repoRoot(), 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux');
    assert.deepEqual(nativeKind(head(process.execPath)), { format: 'ELF', archs: [process.arch] });
    assert.deepEqual(nativeKind(head(path.join(ort, 'x64', 'libonnxruntime.so.1'))), { format: 'ELF', archs: ['x64'] });
    assert.deepEqual(nativeKind(head(path.join(ort, 'arm64', 'onnxruntime_binding.node'))), { format: 'ELF', archs: ['arm64'] });
    assert.equal(nativeKind(head(path.join(repoRoot(), 'package.json'))), undefined);
  });

  it('reads Mach-O (thin and universal) and PE headers', () => {
    const macho = Buffer.alloc(64);
    macho.writeUInt32LE(0xfeedfacf, 0);
    macho.writeUInt32LE(0x0100000c, 4);
    assert.deepEqual(nativeKind(macho), { format: 'Mach-O', archs: ['arm64'] });
    const fat = Buffer.alloc(64);
    fat.writeUInt32BE(0xcafebabe, 0);
    fat.writeUInt32BE(2, 4);
    fat.writeUInt32BE(0x01000007, 8);
    fat.writeUInt32BE(0x0100000c, 28);
    assert.deepEqual(nativeKind(fat), { format: 'Mach-O', archs: ['x64', 'arm64'] });
    const pe = Buffer.alloc(256);
    pe.write('MZ', 0, 'latin1');
    pe.writeUInt32LE(0x80, 0x3c);
    pe.writeUInt32BE(0x50450000, 0x80);
    pe.writeUInt16LE(0xaa64, 0x84);
    assert.deepEqual(nativeKind(pe), { format: 'PE', archs: ['arm64'] });
    assert.deepEqual(expectedFormat('win32-x64'), { format: 'PE', arch: 'x64' });
    assert.deepEqual(expectedFormat('darwin-arm64'), { format: 'Mach-O', arch: 'arm64' });
  });

  it("a VSIX without onnxruntime-node's binding but with onnxruntime-web's wasm runtime offers wasm only", () => {
    const entry = {} as ZipEntry;
    const web = new Map(ORT_WEB_RUNTIME.map((f) => [`extension/node_modules/onnxruntime-web/${f}`, entry] as [string, ZipEntry]));
    assert.deepEqual(bundledProviders(web, 'darwin-x64'), ['wasm']);
    web.delete('extension/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm');
    assert.throws(() => bundledProviders(web, 'darwin-x64'), /no onnxruntime_binding\.node \(nor onnxruntime-web's wasm runtime\)/);
  });
});
