// Shared test helpers: paths, temporary folders, a tiny ONNX writer (graphs whose inputs and
// outputs are declared but which need not compute anything) and hand-made model packages.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Tests are bundled to out/test/core/<suite>/x.test.js; the repository root is four levels up. */
export const REPO = path.resolve(__dirname, '..', '..', '..', '..');
export const BUILT_IN = path.join(REPO, 'models', 'imagefolder-mini');
export const GOLDEN = path.join(REPO, 'test', 'fixtures', 'golden');
/** The model and golden fixtures the real-behaviour tests use (overridable to try another export). */
export const TEST_MODEL = process.env.IFI_TEST_MODEL ?? BUILT_IN;
export const TEST_GOLDEN = process.env.IFI_TEST_GOLDEN ?? GOLDEN;
export const CLI = path.join(REPO, 'dist', 'cli.js');

/** What 'auto' reports for WebGPU on these GPU-less machines: passed over without a Vulkan loader, else no adapter. */
export function webgpuSkipPattern(vulkan: boolean): RegExp {
  return vulkan ? /No supported adapters/ : /no Vulkan loader \(libvulkan\.so\.1\)/;
}

export function hasRealModel(): boolean {
  return ['manifest.json', 'encoder.onnx', 'decoder.onnx', 'codebooks.bin'].every((f) => fs.existsSync(path.join(TEST_MODEL, f)));
}

const made: string[] = [];

/**
 * A new empty folder under the system's temporary folder, removed when the run ends (a root-level
 * mocha hook, once per test bundle), so test runs leave nothing in /tmp.
 */
export function tmpDir(prefix = 'ifi-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

// registered at load, outside any describe: runs after every suite of the run
if (typeof after === 'function') {
  after(() => {
    for (const dir of made.splice(0)) {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // e.g. a folder a test made unreadable: left, rather than failing the run
      }
    }
  });
}

// --- protobuf writing (just what ONNX ModelProto needs) ---
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const fieldVarint = (f: number, n: number) => [...varint(f * 8), ...varint(n)];
function fieldBytes(f: number, bytes: number[] | Uint8Array): number[] {
  return [...varint(f * 8 + 2), ...varint(bytes.length), ...bytes];
}
const fieldString = (f: number, s: string) => fieldBytes(f, [...Buffer.from(s, 'utf8')]);

export interface FakeValue {
  name: string;
  elemType: number; // 1 float, 7 int64
  shape: (number | string)[];
}

function valueInfo(v: FakeValue): number[] {
  const dims = v.shape.flatMap((d) => fieldBytes(1, typeof d === 'number' && d >= 0 ? fieldVarint(1, d) : fieldString(2, typeof d === 'string' ? d : 'batch')));
  const tensor = [...fieldVarint(1, v.elemType), ...fieldBytes(2, dims)];
  return [...fieldString(1, v.name), ...fieldBytes(2, fieldBytes(1, tensor))];
}

export interface FakeNode {
  op: string;
  inputs: string[];
  outputs: string[];
  domain?: string;
}

export function onnxModel(inputs: FakeValue[], outputs: FakeValue[], nodes: FakeNode[] = [], opsets: { domain: string; version: number }[] = [{ domain: '', version: 17 }]): Buffer {
  const graph = [
    ...nodes.flatMap((n) =>
      fieldBytes(1, [
        ...n.inputs.flatMap((i) => fieldString(1, i)),
        ...n.outputs.flatMap((o) => fieldString(2, o)),
        ...fieldString(4, n.op),
        ...(n.domain ? fieldString(7, n.domain) : []),
      ]),
    ),
    ...fieldString(2, 'g'),
    ...inputs.flatMap((v) => fieldBytes(11, valueInfo(v))),
    ...outputs.flatMap((v) => fieldBytes(12, valueInfo(v))),
  ];
  return Buffer.from([
    ...fieldVarint(1, 8),
    ...fieldString(2, 'ifi-tests'),
    ...fieldBytes(7, graph),
    ...opsets.flatMap((o) => fieldBytes(8, [...fieldString(1, o.domain), ...fieldVarint(2, o.version)])),
  ]);
}

// --- hand-made model packages ---
/** Tests break manifests field by field, so the manifest is deliberately untyped here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LooseJson = Record<string, any>;

export const SMALL = { S: 16, scales: [1, 2, 3], L: 14, P: 2, V: 8, D: 4 };

export function smallManifest(): LooseJson {
  const { S, scales, L, P, V, D } = SMALL;
  return {
    format: 'imagefolder-model',
    formatVersion: 1,
    name: 'tiny-test',
    license: 'MIT',
    provenance: { notes: 'hand-made for tests' },
    image: { size: S, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    scales,
    tokensPerBranch: L,
    branches: [
      { name: 'detail', role: 'detail', codebookSize: V, codeDim: D },
      { name: 'semantic', role: 'semantic', codebookSize: V, codeDim: D },
    ],
    graphs: {
      encoder: { file: 'encoder.onnx', inputs: { image: [-1, 3, S, S] }, outputs: { indices: [-1, P, L] } },
      decoder: { file: 'decoder.onnx', inputs: { indices: [-1, P, L], scale_mask: [-1, P, scales.length] }, outputs: { image: [-1, 3, S, S] } },
    },
    codebooks: { file: 'codebooks.bin', dtype: 'float32', shape: [P, V, D] },
  };
}

export function smallEncoder(overrides: Partial<{ image: FakeValue; indices: FakeValue }> = {}, extra: Parameters<typeof onnxModel>[2] = [], opsets?: Parameters<typeof onnxModel>[3]): Buffer {
  const { S, P, L } = SMALL;
  return onnxModel(
    [overrides.image ?? { name: 'image', elemType: 1, shape: ['batch', 3, S, S] }],
    [overrides.indices ?? { name: 'indices', elemType: 7, shape: ['batch', P, L] }],
    extra,
    opsets,
  );
}

export function smallDecoder(): Buffer {
  const { S, P, L, scales } = SMALL;
  return onnxModel(
    [
      { name: 'indices', elemType: 7, shape: ['batch', P, L] },
      { name: 'scale_mask', elemType: 1, shape: ['batch', P, scales.length] },
    ],
    [{ name: 'image', elemType: 1, shape: ['batch', 3, S, S] }],
  );
}

/** Writes a valid small package; `edit` may change the manifest or the files before writing. */
export function writeSmallPackage(edit: (m: LooseJson, files: Record<string, Buffer | null>) => void = () => {}): string {
  const dir = tmpDir('ifi-pkg-');
  const m = smallManifest();
  const { P, V, D } = SMALL;
  const cb = new Float32Array(P * V * D).map((_, i) => Math.sin(i + 1));
  const files: Record<string, Buffer | null> = {
    'encoder.onnx': smallEncoder(),
    'decoder.onnx': smallDecoder(),
    'codebooks.bin': Buffer.from(cb.buffer),
  };
  edit(m, files);
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
  for (const [name, bytes] of Object.entries(files)) if (bytes) fs.writeFileSync(path.join(dir, name), bytes);
  return dir;
}

/** A runnable graph: y = Identity(x), float [-1, 3]. */
export function identityModel(): Buffer {
  return onnxModel(
    [{ name: 'x', elemType: 1, shape: ['batch', 3] }],
    [{ name: 'y', elemType: 1, shape: ['batch', 3] }],
    [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
  );
}
