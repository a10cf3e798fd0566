// What a package's generator is (docs/model-format.md, "Generator graphs"): the class list, the
// null class, the cache layout and the default sampling settings, checked once per runtime. A
// package without the generator graphs gets one clear UserError (MODEL_NO_GENERATOR).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { checkGraph, readGraph, type GraphSpec } from '../packageReader';
import type { ModelRuntime } from '../runtime';
import type { SamplingSettings } from './sampling';

export interface GeneratorSpec {
  /** class labels; class id = index */
  classes: string[];
  /** class id of the unconditional half of guidance */
  nullClass: number;
  /** transformer blocks, attention heads and head dim: the KV cache is [depth, B, heads, T, headDim] */
  depth: number;
  heads: number;
  headDim: number;
  /** width of one next-scale input row (x_in's last dim) */
  inDim: number;
  /** codes per branch: logits rows are [detail V | semantic V] */
  vocab: number;
  /** the package's recommended settings (manifest generator.defaults) */
  defaults: SamplingSettings;
  /** free-form facts from the manifest (steps, hours, width) for display */
  about: Record<string, unknown>;
}

/** Used when a package's manifest gives no defaults (the extension's setting defaults). */
export const FALLBACK_DEFAULTS: SamplingSettings = { cfg: 3, topK: 0, topP: 0.95, temperature: 1 };

const fmt = (s: number[]) => `[${s.join(',')}]`;
const cache = new WeakMap<ModelRuntime, GeneratorSpec>();

/** True when the package declares the generator graphs (it may still be invalid: see generatorSpec). */
export function hasGenerator(rt: ModelRuntime): boolean {
  const g = rt.pkg.manifest.graphs;
  return g.generator !== undefined && g.nextInput !== undefined;
}

function names(spec: GraphSpec, k: 'inputs' | 'outputs', want: string[], field: string): void {
  const have = Object.keys(spec[k]).sort().join(',');
  if (have !== [...want].sort().join(',')) {
    throw new UserError('MODEL_SHAPE_MISMATCH', `manifest.json: ${field}.${k} names are {${have}} but must be {${[...want].sort().join(',')}}`);
  }
}

function shape(spec: GraphSpec, k: 'inputs' | 'outputs', name: string, want: (d: number[]) => boolean, field: string, why: string): number[] {
  const s = spec[k][name];
  if (!want(s)) throw new UserError('MODEL_SHAPE_MISMATCH', `manifest.json: ${field}.${k}.${name} is ${fmt(s)} but ${why}`);
  return s;
}

/** Reads and checks the generator part of the package; throws MODEL_NO_GENERATOR without one. */
export function generatorSpec(rt: ModelRuntime): GeneratorSpec {
  const cached = cache.get(rt);
  if (cached) return cached;
  const { manifest: m, dir } = rt.pkg;
  if (!hasGenerator(rt)) {
    throw new UserError(
      'MODEL_NO_GENERATOR',
      `this model has no generator: ${m.name} (${dir}) has no generator graphs (graphs.generator and graphs.nextInput, docs/model-format.md)`,
    );
  }
  const gen = m.graphs.generator;
  const nxt = m.graphs.nextInput;
  for (const [field, g] of [
    ['graphs.generator', gen],
    ['graphs.nextInput', nxt],
  ] as const) {
    if (typeof g !== 'object' || g === null || typeof g.file !== 'string' || typeof g.inputs !== 'object' || typeof g.outputs !== 'object') {
      throw new UserError('MODEL_BAD_MANIFEST', `manifest.json: field '${field}' must be { file, inputs, outputs }`);
    }
    if (!fs.existsSync(path.join(dir, g.file))) throw new UserError('MODEL_MISSING_FILE', `${g.file} is missing from ${dir}`);
  }
  const classes = m.classes;
  if (!Array.isArray(classes) || classes.length === 0 || !classes.every((c) => typeof c === 'string' && c !== '')) {
    throw new UserError('MODEL_BAD_MANIFEST', "manifest.json: field 'classes' must be a non-empty array of class names when the package has a generator");
  }
  const info = m.generator as Record<string, unknown> | undefined;
  if (typeof info !== 'object' || info === null) throw new UserError('MODEL_BAD_MANIFEST', "manifest.json: field 'generator' is missing or not an object");
  const nullClass = info.nullClass;
  if (typeof nullClass !== 'number' || !Number.isInteger(nullClass) || nullClass < classes.length) {
    throw new UserError('MODEL_BAD_MANIFEST', `manifest.json: field 'generator.nullClass' must be an integer >= ${classes.length} (the number of classes)`);
  }

  names(gen, 'inputs', ['class_id', 'x_in', 'positions', 'past_keys', 'past_values'], 'graphs.generator');
  names(gen, 'outputs', ['logits', 'present_keys', 'present_values'], 'graphs.generator');
  names(nxt, 'inputs', ['indices', 'scale_mask'], 'graphs.nextInput');
  names(nxt, 'outputs', ['next_input'], 'graphs.nextInput');
  const cacheShape = (d: number[]) => d.length === 5 && d[0] > 0 && d[1] === -1 && d[2] > 0 && d[3] === -1 && d[4] > 0;
  const [depth, , heads, , headDim] = shape(gen, 'inputs', 'past_keys', cacheShape, 'graphs.generator', 'must be [depth, -1, heads, -1, headDim]');
  for (const [k, n] of [
    ['inputs', 'past_values'],
    ['outputs', 'present_keys'],
    ['outputs', 'present_values'],
  ] as const) {
    shape(gen, k, n, (d) => fmt(d) === fmt([depth, -1, heads, -1, headDim]), 'graphs.generator', `must equal past_keys ${fmt([depth, -1, heads, -1, headDim])}`);
  }
  const [, , inDim] = shape(gen, 'inputs', 'x_in', (d) => d.length === 3 && d[2] > 0, 'graphs.generator', 'must be [-1, -1, inDim]');
  const V = m.branches[0].codebookSize;
  if (!m.branches.every((b) => b.codebookSize === V) || m.branches.length !== 2) {
    throw new UserError('MODEL_SHAPE_MISMATCH', 'manifest.json: the generator needs two branches with the same codebookSize');
  }
  shape(gen, 'outputs', 'logits', (d) => d.length === 3 && d[2] === 2 * V, 'graphs.generator', `two branches of ${V} codes imply [-1, -1, ${2 * V}]`);
  const P = m.branches.length;
  const L = m.tokensPerBranch;
  const N = m.scales.length;
  shape(nxt, 'inputs', 'indices', (d) => fmt(d) === fmt([-1, P, L]), 'graphs.nextInput', `branches and tokensPerBranch imply ${fmt([-1, P, L])}`);
  shape(nxt, 'inputs', 'scale_mask', (d) => fmt(d) === fmt([-1, P, N]), 'graphs.nextInput', `branches and scales imply ${fmt([-1, P, N])}`);
  shape(nxt, 'outputs', 'next_input', (d) => fmt(d) === fmt([-1, L - 1, inDim]), 'graphs.nextInput', `tokensPerBranch and x_in imply ${fmt([-1, L - 1, inDim])}`);
  // The ONNX files must have the declared inputs/outputs and no custom operators.
  checkGraph(gen.file, gen, readGraph(dir, gen.file));
  checkGraph(nxt.file, nxt, readGraph(dir, nxt.file));

  const d = (typeof info.defaults === 'object' && info.defaults !== null ? info.defaults : {}) as Record<string, unknown>;
  const num = (k: keyof SamplingSettings) => (typeof d[k] === 'number' && Number.isFinite(d[k]) ? (d[k] as number) : FALLBACK_DEFAULTS[k]);
  const about: Record<string, unknown> = {};
  for (const k of ['depth', 'heads', 'width', 'steps', 'hours']) if (info[k] !== undefined) about[k] = info[k];
  const spec: GeneratorSpec = {
    classes: [...classes],
    nullClass,
    depth,
    heads,
    headDim,
    inDim,
    vocab: V,
    defaults: { cfg: num('cfg'), topK: num('topK'), topP: num('topP'), temperature: num('temperature') },
    about,
  };
  cache.set(rt, spec);
  return spec;
}
