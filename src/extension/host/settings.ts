// Pure settings resolution (no `vscode` import): the boundary passes in what
// `WorkspaceConfiguration.inspect()` returns, whether the workspace is trusted, and paths.

import * as path from 'node:path';
import * as os from 'node:os';
import { builtInModelDir, DEFAULT_PIXEL_LIMIT, FALLBACK_DEFAULTS, MAX_CFG, MAX_GENERATE_COUNT, MAX_GENERATE_SEED, MAX_TEMPERATURE, MAX_TOP_K, PROVIDERS } from '../core';
import type { ProviderSetting, ResizeMode } from '../../shared/types';
import type { SamplingParams } from '../../shared/protocol/generate';
import type { RuntimeSettings } from './backend';

export const SECTION = 'imagefolderInspector';

export interface Inspected<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

export type ConfigReader = (key: string) => Inspected<unknown> | undefined;

export type GenerationDefaults = SamplingParams;

export interface ResolvedSettings {
  runtime: RuntimeSettings;
  generation: GenerationDefaults;
  /** generation settings the user set explicitly (they override the model package's defaults) */
  generationUserSet: (keyof GenerationDefaults)[];
  /** workspace-level model path present but ignored because the workspace is untrusted */
  modelPathIgnored: boolean;
  /** the configured model path could not be used (empty string when fine) */
  modelPathProblem: string;
}

const PROVIDER_SETTINGS: readonly ProviderSetting[] = ['auto', ...PROVIDERS];
const RESIZE: readonly ResizeMode[] = ['crop', 'letterbox'];

function effective<T>(v: Inspected<T> | undefined, trusted: boolean): T | undefined {
  if (!v) return undefined;
  if (trusted) return v.workspaceFolderValue ?? v.workspaceValue ?? v.globalValue ?? v.defaultValue;
  return v.globalValue ?? v.defaultValue;
}

function num(v: unknown, def: number, min: number, max: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) return def;
  return integer ? Math.round(v) : v;
}

export interface ResolveContext {
  read: ConfigReader;
  trusted: boolean;
  extensionRoot: string;
  /** first workspace folder, used for relative model paths (trusted workspaces only) */
  workspaceRoot?: string;
  home?: string;
}

export function resolveModelPath(
  raw: unknown,
  ctx: Pick<ResolveContext, 'trusted' | 'workspaceRoot' | 'home'>,
): { dir: string | null; problem: string } {
  if (raw === undefined || raw === null) return { dir: null, problem: '' };
  if (typeof raw !== 'string') return { dir: null, problem: 'imagefolderInspector.modelPath must be a string' };
  const p = raw.trim();
  if (p === '') return { dir: null, problem: '' };
  if (p.includes('\0')) return { dir: null, problem: 'imagefolderInspector.modelPath contains a NUL character' };
  if (p === '~' || p.startsWith('~/') || p.startsWith('~\\')) {
    return { dir: path.join(ctx.home ?? os.homedir(), p.slice(1)), problem: '' };
  }
  if (path.isAbsolute(p)) return { dir: path.normalize(p), problem: '' };
  if (ctx.trusted && ctx.workspaceRoot) return { dir: path.resolve(ctx.workspaceRoot, p), problem: '' };
  return { dir: null, problem: `imagefolderInspector.modelPath "${p}" is relative and there is no workspace folder to resolve it against` };
}

export function resolveSettings(ctx: ResolveContext): ResolvedSettings {
  const get = (k: string): unknown => effective(ctx.read(k), ctx.trusted);
  const builtIn = builtInModelDir(ctx.extensionRoot);

  const mp = ctx.read('modelPath');
  const wsModel = mp?.workspaceFolderValue ?? mp?.workspaceValue;
  const modelPathIgnored = !ctx.trusted && typeof wsModel === 'string' && wsModel.trim() !== '';
  const { dir, problem } = resolveModelPath(effective(mp, ctx.trusted), ctx);

  const provider = get('provider');
  const resize = get('resize');
  const background = get('background');

  const runtime: RuntimeSettings = {
    modelDir: dir ?? builtIn,
    builtInModelDir: builtIn,
    provider: PROVIDER_SETTINGS.includes(provider as ProviderSetting) ? (provider as ProviderSetting) : 'auto',
    threads: num(get('threads'), 0, 0, 256, true),
    resize: RESIZE.includes(resize as ResizeMode) ? (resize as ResizeMode) : 'crop',
    background: typeof background === 'string' && /^#[0-9a-fA-F]{6}$/.test(background) ? background.toLowerCase() : '#ffffff',
    pixelLimit: num(get('pixelLimit'), DEFAULT_PIXEL_LIMIT, 1, 2_000_000_000, true),
  };
  // cfg, top-k, top-p and temperature default to null in package.json: "the model's recommendation"
  // (generationUserSet leaves them out, so the package's generator.defaults apply); the numbers here
  // only fill the type and are never shown for a package with defaults.
  const d = FALLBACK_DEFAULTS;
  const generation: GenerationDefaults = {
    // the bounds the Generate form's messages are checked against (shared/limits.ts), so a value
    // accepted here is never refused there; package.json's minimum/maximum state the same numbers
    cfg: num(get('generation.cfg'), d.cfg, 0, MAX_CFG),
    topK: num(get('generation.topK'), d.topK, 0, MAX_TOP_K, true),
    // top-p or temperature 0 would keep nothing / divide by zero (the core requires > 0): invalid
    topP: num(get('generation.topP'), d.topP, Number.MIN_VALUE, 1),
    temperature: num(get('generation.temperature'), d.temperature, Number.MIN_VALUE, MAX_TEMPERATURE),
    seed: num(get('generation.seed'), 0, 0, MAX_GENERATE_SEED, true),
    count: num(get('generation.count'), 4, 1, MAX_GENERATE_COUNT, true),
  };
  const generationUserSet = (Object.keys(generation) as (keyof GenerationDefaults)[]).filter((k) => {
    const v = ctx.read(`generation.${k}`);
    const set = v?.globalValue !== undefined || (ctx.trusted && (v?.workspaceValue !== undefined || v?.workspaceFolderValue !== undefined));
    // an invalid value fell back to the default above: not a choice to honour
    return set && generation[k] === effective(v, ctx.trusted);
  });
  return { runtime, generation, generationUserSet, modelPathIgnored, modelPathProblem: problem };
}
