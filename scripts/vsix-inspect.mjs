// Reads a VSIX (a zip file) without unpacking it, and identifies native binaries from their headers.
// Used by scripts/package.mjs to check what it built and by the VSIX tests (test/e2e/vsix-contents.test.ts,
// `npm run test:vsix`). No dependency: the zip central directory and the executable headers are
// small fixed layouts.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';

/**
 * The entries of a zip file: name -> { size, head(n), text() }. head(n) inflates only the start of
 * the entry (enough for an executable header) so checking a 45 MB library costs a few KB.
 */
export function readZip(file) {
  const buf = fs.readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip file`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries = new Map();
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad zip central directory`);
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const n = buf.readUInt16LE(p + 28);
    const x = buf.readUInt16LE(p + 30);
    const c = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + n).toString('utf8');
    p += 46 + n + x + c;
    const data = () => {
      if (buf.readUInt32LE(local) !== 0x04034b50) throw new Error(`${file}: bad local header for ${name}`);
      const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
      return buf.subarray(start, start + compressed);
    };
    const inflate = (raw, partial) => (method === 0 ? raw : method === 8 ? zlib.inflateRawSync(raw, partial ? { finishFlush: zlib.constants.Z_SYNC_FLUSH } : {}) : unsupported(method, name));
    entries.set(name, {
      size,
      head: (bytes = 4096) => {
        const raw = data();
        // deflate rarely shrinks machine code below 1/8: 8x the wanted bytes of input is plenty
        return method === 0 ? raw.subarray(0, bytes) : inflate(raw.subarray(0, Math.min(raw.length, bytes * 8 + 1024)), true).subarray(0, bytes);
      },
      bytes: () => inflate(data(), false),
      text: () => inflate(data(), false).toString('utf8'),
    });
  }
  return entries;
}

function unsupported(method, name) {
  throw new Error(`${name}: zip compression method ${method} is not supported`);
}

const ELF_MACHINE = { 0x3e: 'x64', 0xb7: 'arm64', 0x03: 'ia32', 0x28: 'arm' };
const MACHO_CPU = { 0x01000007: 'x64', 0x0100000c: 'arm64', 7: 'ia32', 12: 'arm' };
const PE_MACHINE = { 0x8664: 'x64', 0xaa64: 'arm64', 0x14c: 'ia32', 0x1c4: 'arm' };

/**
 * The executable format and architecture(s) from a file's first bytes, or undefined when it is not a
 * native binary: ELF (e_machine), Mach-O (cputype; a universal binary lists each slice), PE (COFF Machine).
 * Architectures are named as Node names them (process.arch).
 */
export function nativeKind(head) {
  if (head.length < 64) return undefined;
  if (head.readUInt32BE(0) === 0x7f454c46) {
    const le = head[5] === 1;
    const m = le ? head.readUInt16LE(18) : head.readUInt16BE(18);
    return { format: 'ELF', archs: [ELF_MACHINE[m] ?? `e_machine 0x${m.toString(16)}`] };
  }
  const magicLE = head.readUInt32LE(0);
  if (magicLE === 0xfeedfacf || magicLE === 0xfeedface) {
    const cpu = head.readUInt32LE(4);
    return { format: 'Mach-O', archs: [MACHO_CPU[cpu] ?? `cputype 0x${cpu.toString(16)}`] };
  }
  if (head.readUInt32BE(0) === 0xcafebabe && head.readUInt32BE(4) < 20) {
    // universal ("fat") Mach-O: big-endian slice table (a Java class file has a version > 20 here)
    const n = head.readUInt32BE(4);
    const archs = [];
    for (let i = 0; i < n && 8 + i * 20 + 4 <= head.length; i++) {
      const cpu = head.readUInt32BE(8 + i * 20);
      archs.push(MACHO_CPU[cpu] ?? `cputype 0x${cpu.toString(16)}`);
    }
    return { format: 'Mach-O', archs };
  }
  if (head[0] === 0x4d && head[1] === 0x5a) {
    const pe = head.readUInt32LE(0x3c);
    if (pe + 6 <= head.length && head.readUInt32BE(pe) === 0x50450000) {
      const m = head.readUInt16LE(pe + 4);
      return { format: 'PE', archs: [PE_MACHINE[m] ?? `machine 0x${m.toString(16)}`] };
    }
  }
  return undefined;
}

/** The executable format each VS Code target's native files must have. */
export function expectedFormat(target) {
  const [platform, arch] = target.split('-');
  return { format: platform === 'linux' ? 'ELF' : platform === 'darwin' ? 'Mach-O' : 'PE', arch };
}

/** File names that must be native binaries (a library or addon under another name is found by its header). */
export const NATIVE_NAME = /\.(node|so(\.\d+)*|dylib|dll|exe)$/;

/**
 * Every native binary in a VSIX with its format and architectures, and the problems for `target`:
 * a binary of another format or architecture, or a file named like a library that is not one.
 */
export function checkNativeFiles(entries, target) {
  const want = expectedFormat(target);
  const natives = [];
  const problems = [];
  for (const [name, e] of entries) {
    if (e.size < 64) continue;
    const kind = nativeKind(e.head(4096));
    if (!kind) {
      if (NATIVE_NAME.test(name)) problems.push(`${name}: named like a native library but has no ELF/Mach-O/PE header`);
      continue;
    }
    natives.push({ name, ...kind });
    if (kind.format !== want.format || !kind.archs.includes(want.arch) || kind.archs.length !== 1) {
      problems.push(`${name}: ${kind.format} ${kind.archs.join('+')}, not ${want.format} ${want.arch}`);
    }
  }
  return { natives, problems };
}

/** What onnxruntime-web's Node wasm backend loads (src/extension/core/native.ts). */
export const ORT_WEB_RUNTIME = ['dist/ort.node.min.js', 'dist/ort-wasm-simd-threaded.mjs', 'dist/ort-wasm-simd-threaded.wasm'];

/** Provider names onnxruntime-node's binding can list (listSupportedBackends), as the binding spells them. */
export const ORT_BACKENDS = ['cpu', 'webgpu', 'dml', 'coreml', 'cuda', 'tensorrt', 'qnn'];

/**
 * The execution providers a target's onnxruntime binding offers ready to run: the backend names
 * compiled into onnxruntime_binding.node (its listSupportedBackends table), less CUDA and TensorRT
 * when their provider library (libonnxruntime_providers_<name>) is not shipped beside it: those
 * are listed by the binding but not bundled in the npm package.
 */
export function bundledProviders(entries, target) {
  const names = [...entries.keys()];
  const binding = names.find((n) => /onnxruntime-node\/bin\/napi-v\d+\/[^/]+\/[^/]+\/onnxruntime_binding\.node$/.test(n));
  // a target without onnxruntime-node binaries ships onnxruntime-web: CPU via WebAssembly only (scripts/package.mjs)
  if (!binding && ORT_WEB_RUNTIME.every((f) => names.includes(`extension/node_modules/onnxruntime-web/${f}`))) return ['wasm'];
  if (!binding) throw new Error(`no onnxruntime_binding.node (nor onnxruntime-web's wasm runtime) in the VSIX for ${target}`);
  // printable runs, as strings(1) finds them
  const strings = new Set(entries.get(binding).bytes().toString('latin1').split(/[^\x20-\x7e]+/));
  const dir = binding.slice(0, binding.lastIndexOf('/') + 1);
  return ORT_BACKENDS.filter((p) => strings.has(p)).filter(
    (p) => !['cuda', 'tensorrt'].includes(p) || names.some((n) => n.startsWith(dir) && new RegExp(`onnxruntime_providers_${p}\\.(so|dll)$`).test(n)),
  );
}
