// Reads and validates a model package (docs/model-format.md). Every failure is a UserError that
// names the file and the field, because the user who points the extension at a folder needs to
// know exactly what is wrong with it. Nothing here creates an inference session: graph shapes come
// from parsing the ONNX files, so a broken package fails fast and sessions stay lazy.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BranchInfo, BranchRole } from '../../shared/types';
import { UserError } from './errors';
import { ELEM_FLOAT, ELEM_INT64, ELEM_NAMES, parseOnnx, type GraphSummary } from './onnxProto';

export const FORMAT = 'imagefolder-model';
export const FORMAT_VERSION = 1;
const REQUIRED = ['manifest.json', 'encoder.onnx', 'decoder.onnx', 'codebooks.bin'];
const OPTIONAL = ['eval.json', 'eval.md', 'contact-sheet.png', 'generator-sheet.png'];
// Operator domains onnxruntime implements itself; anything else needs a custom-op library.
const BUILTIN_DOMAINS = new Set(['', 'ai.onnx', 'ai.onnx.ml', 'com.microsoft']);

export interface GraphSpec {
  file: string;
  inputs: Record<string, number[]>;
  outputs: Record<string, number[]>;
  /**
   * decoder only: the graph also takes `indices` with batch 1 and decodes that one row under every
   * `scale_mask` row, computing the code maps once (docs/model-format.md)
   */
  sharedIndices?: boolean;
}

export interface Manifest {
  format: string;
  formatVersion: number;
  name: string;
  license: string;
  provenance: Record<string, unknown>;
  image: { size: number; mean: number[]; std: number[] };
  scales: number[];
  tokensPerBranch: number;
  branches: BranchInfo[];
  graphs: { encoder: GraphSpec; decoder: GraphSpec; [other: string]: GraphSpec };
  codebooks: { file: string; dtype: 'float32'; shape: [number, number, number] };
  evaluation?: Record<string, unknown>;
  classes?: string[];
  [extra: string]: unknown;
}

export interface ModelPackage {
  /** the package folder with symbolic links resolved (the folder every file is read from) */
  dir: string;
  manifest: Manifest;
  encoderPath: string;
  decoderPath: string;
  /** [P][V*D] raw code vectors */
  codebooks: Float32Array[];
  graphs: { encoder: GraphSummary; decoder: GraphSummary };
  /** the branch index of each role in a two-branch package; undefined for a one-branch package */
  roles?: BranchRoles;
}

export interface BranchRoles {
  detail: number;
  semantic: number;
}

function bad(field: string, why: string): UserError {
  return new UserError('MODEL_BAD_MANIFEST', `manifest.json: field '${field}' ${why}`);
}

const isInt = (v: unknown, min = 1): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const fmt = (s: number[]) => `[${s.join(',')}]`;

function plainFileName(field: string, v: unknown): string {
  if (typeof v !== 'string' || v === '' || v !== path.basename(v) || v === '.' || v === '..') {
    throw bad(field, 'must be a plain file name inside the package');
  }
  return v;
}

function checkGraphSpec(field: string, v: unknown): GraphSpec {
  if (!isObj(v)) throw bad(field, 'is missing or not an object');
  const file = plainFileName(`${field}.file`, v.file);
  const shapes = (k: 'inputs' | 'outputs'): Record<string, number[]> => {
    const o = v[k];
    if (!isObj(o)) throw bad(`${field}.${k}`, 'is missing or not an object');
    for (const [name, s] of Object.entries(o)) {
      if (!Array.isArray(s) || !s.every((d) => Number.isInteger(d) && (d as number) >= -1)) {
        throw bad(`${field}.${k}.${name}`, 'must be an array of integers (-1 = batch)');
      }
    }
    return o as Record<string, number[]>;
  };
  if (v.sharedIndices !== undefined && typeof v.sharedIndices !== 'boolean') throw bad(`${field}.sharedIndices`, 'must be true or false');
  return { file, inputs: shapes('inputs'), outputs: shapes('outputs'), ...(v.sharedIndices === true ? { sharedIndices: true } : {}) };
}

/** Checks the manifest's own fields and their consistency with each other. */
export function validateManifest(raw: unknown): Manifest {
  if (!isObj(raw)) throw new UserError('MODEL_BAD_MANIFEST', 'manifest.json: not a JSON object');
  const m = raw;
  if (m.format !== FORMAT) throw bad('format', `must be "${FORMAT}" (got ${JSON.stringify(m.format)})`);
  if (m.formatVersion !== FORMAT_VERSION) {
    if (isInt(m.formatVersion)) {
      throw new UserError(
        'MODEL_UNSUPPORTED_VERSION',
        `manifest.json: formatVersion ${m.formatVersion} is not supported (this version of the inspector reads ${FORMAT_VERSION}); update the extension`,
      );
    }
    throw bad('formatVersion', `must be an integer (got ${JSON.stringify(m.formatVersion)})`);
  }
  if (typeof m.name !== 'string' || !m.name) throw bad('name', 'must be a non-empty string');
  if (typeof m.license !== 'string') throw bad('license', 'must be a string');
  if (m.provenance !== undefined && !isObj(m.provenance)) throw bad('provenance', 'must be an object');
  const img = m.image;
  if (!isObj(img)) throw bad('image', 'is missing or not an object');
  if (!isInt(img.size)) throw bad('image.size', 'must be a positive integer');
  for (const k of ['mean', 'std'] as const) {
    const a = img[k];
    if (!Array.isArray(a) || a.length !== 3 || !a.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw bad(`image.${k}`, 'must be an array of 3 numbers');
    }
  }
  if (!(img.std as number[]).every((x) => x > 0)) throw bad('image.std', 'must be positive');
  const scales = m.scales;
  if (!Array.isArray(scales) || scales.length === 0 || !scales.every((s) => isInt(s))) {
    throw bad('scales', 'must be a non-empty array of positive integers');
  }
  if (!isInt(m.tokensPerBranch)) throw bad('tokensPerBranch', 'must be a positive integer');
  const sumSq = (scales as number[]).reduce((a, s) => a + s * s, 0);
  if (sumSq !== m.tokensPerBranch) {
    throw new UserError(
      'MODEL_SHAPE_MISMATCH',
      `manifest.json: scales ${fmt(scales as number[])} give ${sumSq} tokens per branch (sum of squares) but tokensPerBranch is ${m.tokensPerBranch}`,
    );
  }
  if (!Array.isArray(m.branches) || m.branches.length === 0) throw bad('branches', 'must be a non-empty array');
  // One branch ('single', e.g. VAR) or two with one role each (ImageFolder's product quantization).
  const P = m.branches.length;
  if (P > 2) throw bad('branches', `must have 1 or 2 branches (got ${P})`);
  const allowed: BranchRole[] = P === 1 ? ['single'] : ['detail', 'semantic'];
  const roles = new Set<BranchRole>();
  m.branches.forEach((b: unknown, i: number) => {
    if (!isObj(b)) throw bad(`branches[${i}]`, 'must be an object');
    if (typeof b.name !== 'string') throw bad(`branches[${i}].name`, 'must be a string');
    if (!allowed.includes(b.role as BranchRole)) {
      throw bad(`branches[${i}].role`, P === 1 ? 'must be "single" in a one-branch package' : 'must be "detail" or "semantic" in a two-branch package');
    }
    if (roles.has(b.role as BranchRole)) throw bad(`branches[${i}].role`, `repeats role "${b.role as string}"`);
    roles.add(b.role as BranchRole);
    if (!isInt(b.codebookSize)) throw bad(`branches[${i}].codebookSize`, 'must be a positive integer');
    if (!isInt(b.codeDim)) throw bad(`branches[${i}].codeDim`, 'must be a positive integer');
    if (b.lookup !== undefined && b.lookup !== 'cosine' && b.lookup !== 'euclidean') {
      throw bad(`branches[${i}].lookup`, `must be "cosine" or "euclidean" (got ${JSON.stringify(b.lookup)})`);
    }
  });
  if (!isObj(m.graphs)) throw bad('graphs', 'is missing or not an object');
  const encoder = checkGraphSpec('graphs.encoder', m.graphs.encoder);
  const decoder = checkGraphSpec('graphs.decoder', m.graphs.decoder);
  const cb = m.codebooks;
  if (!isObj(cb)) throw bad('codebooks', 'is missing or not an object');
  plainFileName('codebooks.file', cb.file);
  if (cb.dtype !== 'float32') throw bad('codebooks.dtype', `must be "float32" (got ${JSON.stringify(cb.dtype)})`);
  if (!Array.isArray(cb.shape) || cb.shape.length !== 3 || !cb.shape.every((d) => isInt(d))) {
    throw bad('codebooks.shape', 'must be [P, V, D]');
  }
  const manifest = m as unknown as Manifest;
  manifest.provenance ??= {};
  manifest.graphs = { ...manifest.graphs, encoder, decoder };
  checkDeclaredShapes(manifest);
  return manifest;
}

/** The graphs' declared shapes and the codebook shape must follow from image/scales/branches. */
function checkDeclaredShapes(m: Manifest): void {
  const P = m.branches.length;
  const L = m.tokensPerBranch;
  const N = m.scales.length;
  const S = m.image.size;
  const expect: Record<string, Record<string, Record<string, [number[], string]>>> = {
    encoder: {
      inputs: { image: [[-1, 3, S, S], 'image.size'] },
      outputs: { indices: [[-1, P, L], 'branches and tokensPerBranch'] },
    },
    decoder: {
      inputs: { indices: [[-1, P, L], 'branches and tokensPerBranch'], scale_mask: [[-1, P, N], 'branches and scales'] },
      outputs: { image: [[-1, 3, S, S], 'image.size'] },
    },
  };
  for (const g of ['encoder', 'decoder'] as const) {
    for (const k of ['inputs', 'outputs'] as const) {
      const declared = m.graphs[g][k];
      const want = expect[g][k];
      const field = `graphs.${g}.${k}`;
      const names = Object.keys(declared).sort().join(',');
      if (names !== Object.keys(want).sort().join(',')) {
        throw new UserError('MODEL_SHAPE_MISMATCH', `manifest.json: ${field} names are {${names}} but must be {${Object.keys(want).sort().join(',')}}`);
      }
      for (const [name, [shape, from]] of Object.entries(want)) {
        if (fmt(declared[name]) !== fmt(shape)) {
          throw new UserError(
            'MODEL_SHAPE_MISMATCH',
            `manifest.json: ${field}.${name} is ${fmt(declared[name])} but ${from} imply ${fmt(shape)}`,
          );
        }
      }
    }
  }
  const [cp, cv, cd] = m.codebooks.shape;
  m.branches.forEach((b, i) => {
    if (cp !== P || b.codebookSize !== cv || b.codeDim !== cd) {
      throw new UserError(
        'MODEL_SHAPE_MISMATCH',
        `manifest.json: codebooks.shape ${fmt(m.codebooks.shape)} disagrees with branches[${i}] (codebookSize ${b.codebookSize}, codeDim ${b.codeDim}, ${P} branches)`,
      );
    }
  });
}

const EXPECTED_TYPES: Record<string, number> = { image: ELEM_FLOAT, indices: ELEM_INT64, scale_mask: ELEM_FLOAT };

/** The ONNX file's real inputs/outputs must be the ones the manifest declares. */
export function checkGraph(file: string, spec: GraphSpec, g: GraphSummary): void {
  const custom = [...g.opsets.map((o) => o.domain), ...g.nodeDomains].filter((d) => !BUILTIN_DOMAINS.has(d));
  if (custom.length > 0) {
    throw new UserError('MODEL_CUSTOM_OP', `${file}: uses custom operator domain '${custom[0]}'; custom operator libraries are never loaded`);
  }
  for (const [k, values] of [
    ['inputs', g.inputs],
    ['outputs', g.outputs],
  ] as const) {
    const declared = spec[k];
    const actualNames = values.map((v) => v.name).sort().join(',');
    const declaredNames = Object.keys(declared).sort().join(',');
    if (actualNames !== declaredNames) {
      throw new UserError('MODEL_SHAPE_MISMATCH', `${file}: graph ${k} are {${actualNames}} but manifest.json declares {${declaredNames}}`);
    }
    for (const v of values) {
      const want = declared[v.name];
      const kind = k === 'inputs' ? 'input' : 'output';
      // Exporters often leave dims symbolic (-1 here); only a fixed dim can contradict the
      // manifest. The runtime checks the real output shapes on every run.
      const ok = v.shape.length === want.length && v.shape.every((d, i) => d === -1 || want[i] === -1 || d === want[i]);
      if (!ok) {
        throw new UserError(
          'MODEL_SHAPE_MISMATCH',
          `${file}: ${kind} '${v.name}' has shape ${fmt(v.shape)} but manifest.json declares ${fmt(want)}`,
        );
      }
      const type = EXPECTED_TYPES[v.name];
      if (type !== undefined && v.elemType !== type) {
        throw new UserError(
          'MODEL_SHAPE_MISMATCH',
          `${file}: ${kind} '${v.name}' is ${ELEM_NAMES[v.elemType] ?? `type ${v.elemType}`} but must be ${ELEM_NAMES[type]}`,
        );
      }
    }
  }
}

/** What a directory entry that is not a regular file is, for messages. */
function kindOf(st: fs.Stats | fs.Dirent): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return st.isFile() ? 'a file' : 'not a regular file';
}

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | null)?.code;

/**
 * The model folder, with symbolic links resolved. A folder reached through a link is read as the
 * folder it points to (the user chose the path; in an untrusted workspace a workspace-level model
 * path is ignored before it gets here), and every file is then read from that real folder.
 */
function resolveModelDir(dir: string): string {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') throw new UserError('MODEL_NOT_FOUND', `model folder not found: ${dir}`);
    throw new UserError('MODEL_NOT_FOUND', `model folder cannot be read: ${dir} (${errno(e) ?? (e as Error).message})`);
  }
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch (e) {
    const target = st.isSymbolicLink() ? fs.readlinkSync(dir) : '';
    if (errno(e) === 'ELOOP') throw new UserError('MODEL_NOT_FOUND', `model folder ${dir} is a symbolic link loop`);
    if (st.isSymbolicLink() && errno(e) === 'ENOENT') {
      throw new UserError('MODEL_NOT_FOUND', `model folder ${dir} is a dangling symbolic link (to ${target}, which does not exist)`);
    }
    throw new UserError('MODEL_NOT_FOUND', `model folder cannot be read: ${dir} (${errno(e) ?? (e as Error).message})`);
  }
  const target = fs.statSync(real);
  if (!target.isDirectory()) {
    const via = st.isSymbolicLink() ? ` (a symbolic link to ${real}, which is ${kindOf(target)})` : ` (it is ${kindOf(target)})`;
    throw new UserError('MODEL_NOT_FOUND', `model folder ${dir} is not a folder${via}`);
  }
  return real;
}

/**
 * A package file that is a symbolic link is refused, whatever it points to: the package is
 * validated and then handed to onnxruntime by path, so a link could point the validated name at
 * any file the user can read (and be re-pointed after validation). The message says where it goes.
 */
function symlinkError(realDir: string, shownDir: string, name: string): UserError {
  const p = path.join(realDir, name);
  let target = '?';
  try {
    target = fs.readlinkSync(p);
  } catch {
    // raced away; the message still names the file
  }
  const refused = 'refused (package files must be regular files, not symbolic links; docs/model-format.md)';
  let real: string;
  try {
    real = fs.realpathSync(p);
  } catch (e) {
    if (errno(e) === 'ELOOP') return new UserError('MODEL_SYMLINK', `${name} in ${shownDir} is a symbolic link loop (${name} -> ${target}): ${refused}`);
    return new UserError('MODEL_SYMLINK', `${name} in ${shownDir} is a dangling symbolic link (to ${target}, which does not exist): ${refused}`);
  }
  const inside = path.dirname(real) === realDir;
  const to = inside || target === real ? target : `${target}, i.e. ${real}`;
  return new UserError('MODEL_SYMLINK', `${name} in ${shownDir} is a symbolic link to ${to}, ${inside ? 'inside' : 'outside'} the package: ${refused}`);
}

/**
 * Reads one package file without following a link and without blocking on a named pipe swapped
 * in after the directory scan (O_NOFOLLOW | O_NONBLOCK where the platform has them).
 */
function readPackageFile(realDir: string, shownDir: string, name: string): Buffer {
  const p = path.join(realDir, name);
  const c = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(p, c.O_RDONLY | (c.O_NOFOLLOW ?? 0) | (c.O_NONBLOCK ?? 0));
  } catch (e) {
    if (errno(e) === 'ELOOP' || errno(e) === 'EMLINK') throw symlinkError(realDir, shownDir, name);
    if (errno(e) === 'ENOENT') throw new UserError('MODEL_MISSING_FILE', `${name} is missing from ${shownDir}`);
    throw new UserError('MODEL_NOT_A_FILE', `${name} in ${shownDir} cannot be read (${errno(e) ?? (e as Error).message})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new UserError('MODEL_NOT_A_FILE', `${name} in ${shownDir} is ${kindOf(st)}, not a regular file`);
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function readGraph(dir: string, file: string, shownDir = dir): GraphSummary {
  const bytes = readPackageFile(dir, shownDir, file);
  try {
    return parseOnnx(bytes);
  } catch (e) {
    throw new UserError('MODEL_BAD_GRAPH', `${file}: not a valid ONNX model (${(e as Error).message})`);
  }
}

export function readModelPackage(dirIn: string): ModelPackage {
  const shown = path.resolve(dirIn);
  const dir = resolveModelDir(shown);
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new UserError('MODEL_NOT_FOUND', `model folder cannot be read: ${shown} (${errno(e) ?? (e as Error).message})`);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)); // the first problem reported is the same everywhere
  // Links first, whatever their name: a link is refused even where a regular file would be allowed.
  const link = entries.find((e) => e.isSymbolicLink());
  if (link) throw symlinkError(dir, shown, link.name);
  const notRegular = (e: fs.Dirent | undefined, name: string): UserError | undefined =>
    e && !e.isFile() ? new UserError('MODEL_NOT_A_FILE', `${name} in ${shown} is ${kindOf(e)}, not a regular file`) : undefined;
  const manifestEntry = entries.find((e) => e.name === 'manifest.json');
  if (!manifestEntry) throw new UserError('MODEL_MISSING_FILE', `manifest.json is missing from ${shown}`);
  const manifestProblem = notRegular(manifestEntry, 'manifest.json');
  if (manifestProblem) throw manifestProblem;
  let raw: unknown;
  const manifestBytes = readPackageFile(dir, shown, 'manifest.json');
  try {
    raw = JSON.parse(manifestBytes.toString('utf8'));
  } catch (e) {
    throw new UserError('MODEL_BAD_MANIFEST', `manifest.json: invalid JSON (${(e as Error).message})`);
  }
  const manifest = validateManifest(raw);
  const graphFiles = Object.values(manifest.graphs).map((g) => (isObj(g) && typeof g.file === 'string' ? g.file : ''));
  const required = new Set([...REQUIRED, manifest.graphs.encoder.file, manifest.graphs.decoder.file, manifest.codebooks.file]);
  for (const f of required) {
    const e = entries.find((x) => x.name === f);
    if (!e) throw new UserError('MODEL_MISSING_FILE', `${f} is missing from ${shown}`);
    const problem = notRegular(e, f);
    if (problem) throw problem;
  }
  const allowed = new Set([...required, ...OPTIONAL, ...graphFiles]);
  for (const e of entries) {
    if (!allowed.has(e.name)) {
      throw new UserError(
        'MODEL_EXTRA_FILE',
        `${e.name}: unexpected ${e.isDirectory() ? 'folder' : 'file'} in model package ${shown} (a package holds only the files docs/model-format.md lists)`,
      );
    }
    const problem = notRegular(e, e.name);
    if (problem) throw problem;
  }
  const encoder = readGraph(dir, manifest.graphs.encoder.file, shown);
  checkGraph(manifest.graphs.encoder.file, manifest.graphs.encoder, encoder);
  const decoder = readGraph(dir, manifest.graphs.decoder.file, shown);
  checkGraph(manifest.graphs.decoder.file, manifest.graphs.decoder, decoder);
  const codebooks = readCodebooks(dir, shown, manifest);
  return {
    dir,
    manifest,
    encoderPath: path.join(dir, manifest.graphs.encoder.file),
    decoderPath: path.join(dir, manifest.graphs.decoder.file),
    codebooks,
    graphs: { encoder, decoder },
    ...(manifest.branches.length === 2
      ? { roles: { detail: manifest.branches.findIndex((b) => b.role === 'detail'), semantic: manifest.branches.findIndex((b) => b.role === 'semantic') } }
      : {}),
  };
}

function readCodebooks(dir: string, shownDir: string, m: Manifest): Float32Array[] {
  const [P, V, D] = m.codebooks.shape;
  const bytes = readPackageFile(dir, shownDir, m.codebooks.file);
  const want = P * V * D * 4;
  if (bytes.length !== want) {
    throw new UserError(
      'MODEL_BAD_CODEBOOKS',
      `${m.codebooks.file}: ${bytes.length} bytes but codebooks.shape ${fmt(m.codebooks.shape)} float32 needs ${want}`,
    );
  }
  // Copy into aligned little-endian floats (the Buffer may be unaligned and the host big-endian).
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out: Float32Array[] = [];
  for (let p = 0; p < P; p++) {
    const a = new Float32Array(V * D);
    for (let i = 0; i < V * D; i++) a[i] = view.getFloat32((p * V * D + i) * 4, true);
    if (!a.every(Number.isFinite)) throw new UserError('MODEL_BAD_CODEBOOKS', `${m.codebooks.file}: the ${m.branches[p].role} branch's codebook holds NaN or infinite values`);
    out.push(a);
  }
  return out;
}
