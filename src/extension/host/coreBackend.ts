// The real InspectorBackend over src/extension/core. One ModelRuntime is kept per (model folder,
// provider, threads) and reused by every panel; it is replaced when the settings change. When a
// configured (non built-in) model cannot be loaded, the built-in model is used and the reason is
// shown as a note in the inspector and logged.

import * as path from 'node:path';
import { ModelRuntime, folderStats, inspect, type FolderStats, type Inspection } from '../core';
import type { FolderUsageView } from '../../shared/protocol';
import type { FolderOptions, InspectOptions, InspectorBackend, ModelSummary, RuntimeSettings } from './backend';
import type { Logger } from './session';

interface Loaded {
  key: string;
  runtime: Promise<ModelRuntime>;
}

function keyOf(dir: string, s: RuntimeSettings): string {
  return JSON.stringify([path.resolve(dir), s.provider, s.threads]);
}

function isModelError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('MODEL_');
}

export function folderUsageView(stats: FolderStats): FolderUsageView {
  return {
    folder: stats.folder,
    images: stats.images,
    failed: stats.failed.length,
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

  constructor(private readonly log: Logger) {}

  private runtime(dir: string, s: RuntimeSettings): Promise<ModelRuntime> {
    const key = keyOf(dir, s);
    const hit = this.loaded.get(key);
    if (hit) return hit.runtime;
    // keep at most the built-in runtime plus the one for the current settings
    for (const [k, l] of this.loaded) {
      if (k !== keyOf(s.builtInModelDir, s)) {
        this.loaded.delete(k);
        void l.runtime.then((r) => r.dispose()).catch(() => undefined);
      }
    }
    const t0 = performance.now();
    const builtIn = path.resolve(dir) === path.resolve(s.builtInModelDir);
    const runtime = ModelRuntime.load(dir, { provider: s.provider, threads: s.threads > 0 ? s.threads : undefined, builtIn }).then(
      (r) => {
        this.log.info(`model "${r.info().name}" loaded from ${dir} (provider setting ${s.provider}) in ${Math.round(performance.now() - t0)} ms`);
        return r;
      },
      (e: unknown) => {
        this.loaded.delete(key);
        throw e;
      },
    );
    this.loaded.set(key, { key, runtime });
    return runtime;
  }

  /** Runs `job` on the configured model, falling back to the built-in one on model errors. */
  private async withModel<T>(s: RuntimeSettings, job: (r: ModelRuntime) => Promise<T>): Promise<{ value: T; fallback?: string }> {
    const custom = path.resolve(s.modelDir) !== path.resolve(s.builtInModelDir);
    try {
      return { value: await job(await this.runtime(s.modelDir, s)) };
    } catch (e) {
      if (!custom || !isModelError(e)) throw e;
      const reason = `The model at ${s.modelDir} could not be used (${(e as Error).message}); the built-in model was used instead.`;
      this.log.warn(reason);
      return { value: await job(await this.runtime(s.builtInModelDir, s)), fallback: reason };
    }
  }

  async inspect(imagePath: string, o: InspectOptions): Promise<Inspection> {
    const s = o.settings;
    const r = await this.withModel(s, (rt) =>
      inspect(rt, imagePath, { resize: s.resize, background: s.background, pixelLimit: s.pixelLimit, signal: o.signal }),
    );
    if (r.fallback) r.value.notes = [r.fallback, ...r.value.notes];
    return r.value;
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
    const rt = await ModelRuntime.load(s.modelDir, { provider: s.provider, threads: s.threads > 0 ? s.threads : undefined });
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

  dispose(): void {
    for (const l of this.loaded.values()) void l.runtime.then((r) => r.dispose()).catch(() => undefined);
    this.loaded.clear();
  }
}

export function createBackend(log: Logger): InspectorBackend {
  return new CoreBackend(log);
}
