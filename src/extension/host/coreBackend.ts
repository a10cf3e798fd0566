// The real InspectorBackend over src/extension/core. One ModelRuntime is kept per (model folder,
// provider, threads) and reused by every panel; it is replaced when the settings change. A
// replaced runtime is disposed only once the work running on it has finished. When a configured
// (non built-in) model cannot be loaded, the built-in model is used and the reason is shown as a
// note in the inspector and logged.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ModelRuntime,
  folderStats,
  generate,
  generatorSpec,
  hasGenerator,
  inspect,
  inspectIndices,
  encodeImages,
  pngImage,
  UserError,
  type ChoiceCache,
  type FolderStats,
  type Inspection,
} from '../core';
import type { ProviderChoice } from '../../shared/types';
import { MAX_FAILED_LISTED, type FolderUsageView } from '../../shared/protocol/inspector';
import { stripFilePrefix } from './errors';
import type {
  EncodedImage,
  FolderOptions,
  GeneratedSet,
  GenerateJob,
  GeneratorInfo,
  InspectOptions,
  InspectorBackend,
  ModelSummary,
  RuntimeSettings,
  TokenSource,
} from './backend';
import type { Logger } from './hostUi';

interface Loaded {
  runtime: Promise<ModelRuntime>;
  /** jobs running on it now */
  users: number;
  /** replaced: dispose when the last user is done */
  retired: boolean;
}

/** The folder as the package reader sees it (its real path), so one model folder is one runtime
 * however it is spelled (a generated sample names its model by the runtime's own folder). */
function canonical(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}

function keyOf(dir: string, s: RuntimeSettings): string {
  return JSON.stringify([canonical(dir), s.provider, s.threads]);
}

function disposeLoaded(l: Loaded): void {
  void l.runtime.then((r) => r.dispose()).catch(() => undefined);
}

function isModelError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('MODEL_');
}

export function folderUsageView(stats: FolderStats): FolderUsageView {
  return {
    folder: stats.folder,
    images: stats.images,
    failedTotal: stats.failed.length,
    // the reason without its leading "<path>: ", which the page shows as the image's name
    failed: stats.failed.slice(0, MAX_FAILED_LISTED).map((f) => ({ image: f.image, reason: stripFilePrefix(f.reason, path.basename(f.image)) })),
    branches: stats.usage.map((u, b) => ({
      branch: u.branch,
      histogram: u.histogram,
      used: u.used,
      utilisation: u.utilisation,
      perplexity: u.perplexity,
      dead: stats.deadCodes[b]?.length ?? u.histogram.filter((c) => c === 0).length,
      top: (stats.topCodes[b] ?? []).slice(0, 8).map((t) => ({ code: t.code, count: t.count, images: t.images.slice(0, 3).map((i) => path.basename(i)) })),
    })),
  };
}

export class CoreBackend implements InspectorBackend {
  private readonly loaded = new Map<string, Loaded>();

  constructor(
    private readonly log: Logger,
    /** where `auto` remembers measured provider choices (the extension's global storage) */
    private readonly choiceCache?: ChoiceCache,
  ) {}

  /** Runs `job` on the runtime for (dir, settings), loading it if needed; the runtime is not
   * disposed while the job runs, even if other settings replace it meanwhile. */
  private async withRuntime<T>(dir: string, s: RuntimeSettings, job: (r: ModelRuntime) => Promise<T>): Promise<T> {
    const l = this.entry(dir, s);
    l.users++;
    try {
      return await job(await l.runtime);
    } finally {
      l.users--;
      if (l.retired && l.users === 0) disposeLoaded(l);
    }
  }

  private entry(dir: string, s: RuntimeSettings): Loaded {
    const key = keyOf(dir, s);
    const hit = this.loaded.get(key);
    if (hit) return hit;
    // keep at most the built-in runtime plus the one for the current settings
    for (const [k, l] of this.loaded) {
      if (k !== keyOf(s.builtInModelDir, s)) {
        this.loaded.delete(k);
        l.retired = true;
        if (l.users === 0) disposeLoaded(l);
      }
    }
    const t0 = performance.now();
    const builtIn = path.resolve(dir) === path.resolve(s.builtInModelDir);
    const runtime = ModelRuntime.load(dir, { provider: s.provider, threads: s.threads > 0 ? s.threads : undefined, builtIn, choiceCache: this.choiceCache }).then(
      (r) => {
        this.log.info(`model "${r.info().name}" loaded from ${dir} (provider setting ${s.provider}) in ${Math.round(performance.now() - t0)} ms`);
        return r;
      },
      (e: unknown) => {
        if (this.loaded.get(key) === entry) this.loaded.delete(key);
        throw e;
      },
    );
    const entry: Loaded = { runtime, users: 0, retired: false };
    this.loaded.set(key, entry);
    return entry;
  }

  /** Runs `job` on the configured model, falling back to the built-in one on model errors. */
  private async withModel<T>(s: RuntimeSettings, job: (r: ModelRuntime) => Promise<T>): Promise<{ value: T; fallback?: string }> {
    const custom = path.resolve(s.modelDir) !== path.resolve(s.builtInModelDir);
    try {
      return { value: await this.withRuntime(s.modelDir, s, job) };
    } catch (e) {
      if (!custom || !isModelError(e)) throw e;
      const reason = `The model at ${s.modelDir} could not be used (${(e as Error).message}); the built-in model was used instead.`;
      this.log.warn(reason);
      return { value: await this.withRuntime(s.builtInModelDir, s, job), fallback: reason };
    }
  }

  async inspect(imagePath: string, o: InspectOptions): Promise<Inspection> {
    const s = o.settings;
    const r = await this.withModel(s, (rt) =>
      inspect(rt, imagePath, { resize: s.resize, background: s.background, pixelLimit: s.pixelLimit, signal: o.signal, onProgress: o.onProgress }),
    );
    // The core checks the signal between steps; a cancel that lands during the last decoder run
    // (or while it waits behind other panels' runs) must still end with no result.
    if (o.signal.aborted) throw new UserError('CANCELLED', 'cancelled');
    if (r.fallback) r.value.notes = [r.fallback, ...r.value.notes];
    return r.value;
  }

  async encode(imagePaths: string[], o: InspectOptions): Promise<EncodedImage[]> {
    const s = o.settings;
    const r = await this.withModel(s, async (rt) => {
      const { indices } = await encodeImages(rt, imagePaths, { resize: s.resize, background: s.background, pixelLimit: s.pixelLimit, signal: o.signal });
      const { name, dir, branches } = rt.info();
      return imagePaths.map((image, i) => ({ image, indices: indices[i], model: { name, dir, branches } }));
    });
    if (o.signal.aborted) throw new UserError('CANCELLED', 'cancelled');
    return r.value;
  }

  async inspectTokens(src: TokenSource, o: InspectOptions): Promise<Inspection> {
    // no fallback: tokens mean something only with the codebooks of the model that generated them
    const ins = await this.withRuntime(src.modelDir, o.settings, (rt) => inspectIndices(rt, src.tokens, { name: src.name, notes: src.notes, signal: o.signal, onProgress: o.onProgress }));
    if (o.signal.aborted) throw new UserError('CANCELLED', 'cancelled');
    return ins;
  }

  async folderUsage(folderPath: string, o: FolderOptions): Promise<FolderUsageView> {
    const s = o.settings;
    const r = await this.withModel(s, (rt) =>
      folderStats(rt, folderPath, {
        resize: s.resize,
        background: s.background,
        pixelLimit: s.pixelLimit,
        signal: o.signal,
        onProgress: (p) => o.onProgress?.({ done: p.done, total: p.total, current: p.image }),
      }),
    );
    for (const f of r.value.failed.slice(0, 20)) this.log.warn(`folder usage: ${f.image}: ${f.code} ${f.reason}`);
    return folderUsageView(r.value);
  }

  async describeModel(s: RuntimeSettings): Promise<ModelSummary> {
    const rt = await ModelRuntime.load(s.modelDir, { provider: s.provider, threads: s.threads > 0 ? s.threads : undefined, choiceCache: this.choiceCache });
    try {
      const report = await rt.ready();
      const info = rt.info();
      return {
        name: info.name,
        dir: info.dir,
        builtIn: path.resolve(s.modelDir) === path.resolve(s.builtInModelDir),
        provider: [...new Set(Object.values(report.chosen))].join('+') || 'n/a',
      };
    } finally {
      await rt.dispose();
    }
  }

  async generatorInfo(s: RuntimeSettings): Promise<GeneratorInfo> {
    // Loading falls back to the built-in model like an inspection; the generator is checked
    // afterwards so that a broken generator is reported as such, not hidden by the fallback.
    // (Only the package's manifest is read after the job: no session of the runtime is used.)
    const r = await this.withModel(s, (rt) => Promise.resolve(rt));
    const rt = r.value;
    const info = rt.info();
    const base = { model: info.name, dir: info.dir, imageSize: info.imageSize, scales: info.scales, ...(r.fallback ? { fallbackReason: r.fallback } : {}) };
    const none = { classes: [], defaults: { cfg: 0, topK: 0, topP: 1, temperature: 1 }, about: {} };
    if (!hasGenerator(rt)) {
      return { ...base, ...none, missing: { code: 'MODEL_NO_GENERATOR', message: `the model "${info.name}" has no generator (its package has no graphs.generator and graphs.nextInput)` } };
    }
    try {
      const spec = generatorSpec(rt);
      return { ...base, classes: spec.classes, defaults: spec.defaults, about: spec.about };
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      return { ...base, ...none, missing: { code: typeof code === 'string' ? code : 'MODEL_BAD_MANIFEST', message: `the generator of the model "${info.name}" cannot be used: ${(e as Error).message}` } };
    }
  }

  async generate(job: GenerateJob): Promise<GeneratedSet> {
    const s = job.settings;
    // Only loading may fall back to the built-in model (as generatorInfo reported); a failure of
    // the generator itself is reported as it is, so generation runs outside withModel's fallback.
    const loaded = await this.withModel(s, (r) => Promise.resolve(r));
    return this.withRuntime(loaded.fallback ? s.builtInModelDir : s.modelDir, s, (rt) => this.generateOn(rt, job));
  }

  private async generateOn(rt: ModelRuntime, job: GenerateJob): Promise<GeneratedSet> {
    const s = job.settings;
    let reference: number[][] | undefined;
    if (job.reference) {
      // the reference is encoded by the generating model, so its indices are this model's codes
      [reference] = (await encodeImages(rt, [job.reference.imagePath], { resize: s.resize, background: s.background, pixelLimit: s.pixelLimit, signal: job.signal })).indices;
    }
    const S = rt.imageSize;
    const res = await generate(rt, {
      classId: job.classId,
      cfg: job.cfg,
      topK: job.topK,
      topP: job.topP,
      temperature: job.temperature,
      seed: job.seed,
      count: job.count,
      ...(job.reference?.force === 'detail' ? { forceDetailFrom: reference } : {}),
      ...(job.reference?.force === 'semantic' ? { forceSemanticFrom: reference } : {}),
      signal: job.signal,
      previews: job.onScale !== undefined,
      onScale: (scale, previews, p) =>
        job.onScale?.({ scale, scales: p.scales, previews: (previews ?? []).map((rgb) => pngImage(rgb, S, S).pngBase64), elapsedMs: p.elapsedMs }),
    });
    const info = rt.info();
    const set: GeneratedSet = {
      model: { name: info.name, dir: info.dir, imageSize: S, scales: info.scales, tokensPerBranch: info.tokensPerBranch, branches: info.branches },
      settings: {
        classId: res.settings.classId,
        className: res.settings.className,
        cfg: res.settings.cfg,
        topK: res.settings.topK,
        topP: res.settings.topP,
        temperature: res.settings.temperature,
        seed: res.settings.seed,
        count: res.settings.count,
        ...(res.settings.forced ? { forced: res.settings.forced } : {}),
      },
      samples: res.samples.map((x) => {
        if (!x.rgb) throw new Error('generate returned no final image');
        return { index: x.index, tokens: x.tokens, png: pngImage(x.rgb, S, S) };
      }),
      timingsMs: { ...res.timingsMs },
    };
    return set;
  }

  dispose(): void {
    for (const l of this.loaded.values()) void l.runtime.then((r) => r.dispose()).catch(() => undefined);
    this.loaded.clear();
  }
}

export function createBackend(log: Logger, choiceCache?: ChoiceCache): InspectorBackend {
  return new CoreBackend(log, choiceCache);
}

/** The part of vscode.Memento the choice cache uses (kept structural: this file imports no vscode). */
export interface MementoLike {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

export const CHOICE_STORAGE_KEY = 'imagefolderInspector.providerChoices';

/** `auto`'s measured choices in the extension's global storage (per machine), the newest `keep`. */
export function mementoChoiceCache(memento: MementoLike, keep = 32): ChoiceCache {
  const all = () => memento.get<Record<string, ProviderChoice>>(CHOICE_STORAGE_KEY) ?? {};
  return {
    get: (key) => all()[key],
    set: (key, choice) => memento.update(CHOICE_STORAGE_KEY, Object.fromEntries(Object.entries({ ...all(), [key]: choice }).slice(-keep))),
  };
}
