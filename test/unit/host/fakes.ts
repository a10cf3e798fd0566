// Fake runtime backend and fake HostUi for host-logic tests.
import type { Inspection, TileUpdate } from '../../../src/shared/types';
import type { EncodedImage, FolderOptions, GeneratedSet, GeneratorInfo, InspectOptions, InspectorBackend, ModelSummary, RuntimeSettings, TokenSource } from '../../../src/extension/host/backend';
import type { FolderUsageView } from '../../../src/shared/protocol/inspector';
import type { HostUi, Logger, ProgressReporter } from '../../../src/extension/host/hostUi';
import type { ErrorAction } from '../../../src/extension/host/errors';
import { resolveSettings, type ResolvedSettings } from '../../../src/extension/host/settings';
import { syntheticInspection } from '../../fixtures/syntheticInspection';

export class FakeBackend implements InspectorBackend {
  calls: { op: string; path: string; settings: RuntimeSettings }[] = [];
  delayMs = 0;
  fail: Error | undefined;
  disposed = false;
  /** the model has one branch (role 'single'), like a converted VAR tokenizer */
  oneBranch = false;
  /** report the head and every tile through onProgress before the result, as the core does */
  stream = false;
  inspect(imagePath: string, o: InspectOptions): Promise<Inspection> {
    this.calls.push({ op: 'inspect', path: imagePath, settings: o.settings });
    return this.after(o.signal, () => {
      const ins = syntheticInspection({ image: imagePath, seed: this.calls.length });
      const r = this.oneBranch ? oneBranchInspection(ins) : ins;
      if (this.stream) streamTiles(r, o);
      return r;
    });
  }
  /** each image's tokens are those of its synthetic inspection, seeded by call order like inspect's */
  encode(imagePaths: string[], o: InspectOptions): Promise<EncodedImage[]> {
    const seeds = imagePaths.map((p) => {
      this.calls.push({ op: 'encode', path: p, settings: o.settings });
      return this.calls.length;
    });
    return this.after(o.signal, () =>
      imagePaths.map((image, i) => {
        const { indices, model } = syntheticInspection({ image, seed: seeds[i] });
        return { image, indices, model };
      }),
    );
  }
  inspectTokens(src: TokenSource, o: InspectOptions): Promise<Inspection> {
    this.calls.push({ op: 'inspectTokens', path: src.modelDir, settings: o.settings });
    return this.after(o.signal, () => ({ ...syntheticInspection({ image: src.name, seed: this.calls.length }), source: 'tokens' as const, indices: src.tokens, notes: src.notes }));
  }
  folderUsage(folderPath: string, o: FolderOptions): Promise<FolderUsageView> {
    this.calls.push({ op: 'folder', path: folderPath, settings: o.settings });
    o.onProgress?.({ done: 1, total: 2, current: `${folderPath}/a.png` });
    return this.after(o.signal, () => ({
      folder: folderPath,
      images: 2,
      failedTotal: 0,
      failed: [],
      branches: [0, 1].map((b) => ({ branch: b, histogram: [1, 0, 3], used: 2, utilisation: 2 / 3, perplexity: 1.8, dead: 1 })),
    }));
  }
  describeModel(settings: RuntimeSettings): Promise<ModelSummary> {
    this.calls.push({ op: 'describe', path: settings.modelDir, settings });
    if (this.fail) return Promise.reject(this.fail);
    return Promise.resolve({ name: 'fake', dir: settings.modelDir, builtIn: false, provider: 'cpu' });
  }
  /** the fake model has no generator (generation is tested against the real tiny package) */
  generatorInfo(settings: RuntimeSettings): Promise<GeneratorInfo> {
    this.calls.push({ op: 'generatorInfo', path: settings.modelDir, settings });
    return Promise.resolve({
      model: 'fake',
      dir: settings.modelDir,
      imageSize: 64,
      scales: [1, 2],
      classes: [],
      defaults: { cfg: 0, topK: 0, topP: 1, temperature: 1 },
      about: {},
      missing: { code: 'MODEL_NO_GENERATOR', message: 'the model "fake" has no generator' },
    });
  }
  generate(): Promise<GeneratedSet> {
    this.calls.push({ op: 'generate', path: '', settings: defaultSettings().runtime });
    return Promise.reject(Object.assign(new Error('the model "fake" has no generator'), { code: 'MODEL_NO_GENERATOR', name: 'UserError' }));
  }
  dispose(): void {
    this.disposed = true;
  }
  private after<T>(signal: AbortSignal, make: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        if (signal.aborted) reject(Object.assign(new Error('cancelled'), { code: 'CANCELLED', name: 'UserError' }));
        else if (this.fail) reject(this.fail);
        else resolve(make());
      };
      if (this.delayMs <= 0) queueMicrotask(done);
      else {
        const t = setTimeout(done, this.delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          done();
        });
      }
    });
  }
}

export class FakeUi implements HostUi {
  saveAnswer: string | undefined;
  overwriteAnswer = false;
  cancelProgress = false;
  saveDialogs: { defaultPath: string }[] = [];
  overwritePrompts: string[] = [];
  errors: { message: string; actions: ErrorAction[] }[] = [];
  infos: string[] = [];
  progress: string[] = [];
  selectModelResult = false;
  withProgress<T>(title: string, task: (report: ProgressReporter, signal: AbortSignal) => Promise<T>): Promise<T> {
    this.progress.push(title);
    const ac = new AbortController();
    if (this.cancelProgress) setTimeout(() => ac.abort(), 1);
    return task(() => undefined, ac.signal);
  }
  showSaveDialog(o: { defaultPath: string }): Promise<string | undefined> {
    this.saveDialogs.push(o);
    return Promise.resolve(this.saveAnswer);
  }
  confirmOverwrite(p: string): Promise<boolean> {
    this.overwritePrompts.push(p);
    return Promise.resolve(this.overwriteAnswer);
  }
  showError(message: string, actions: ErrorAction[]): void {
    this.errors.push({ message, actions });
  }
  showInfo(m: string): void {
    this.infos.push(m);
  }
  selectModel(): Promise<boolean> {
    return Promise.resolve(this.selectModelResult);
  }
}

export class MemLog implements Logger {
  lines: string[] = [];
  info(m: string): void {
    this.lines.push(`info ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error ${m}`);
  }
}

export function defaultSettings(): ResolvedSettings {
  return resolveSettings({ read: () => undefined, trusted: true, extensionRoot: '/ext' });
}

/** The inspection of a one-branch model: branch 0 alone, role 'single', no ablation. */
export function oneBranchInspection(ins: Inspection): Inspection {
  const { ablation: _a, ablationMetrics: _m, ...rest } = ins;
  return {
    ...rest,
    model: { ...ins.model, name: 'one-branch-model', branches: [{ ...ins.model.branches[0], name: 'single', role: 'single' }] },
    indices: [ins.indices[0]],
    tokenMaps: ins.tokenMaps.filter((m) => m.branch === 0),
    codeColours: [ins.codeColours[0]],
    usage: [ins.usage[0]],
  };
}

/** What the core's onProgress reports for `ins`: the head with the full reconstruction, then the other tiles. */
export function streamTiles(ins: Inspection, o: Pick<InspectOptions, 'onProgress'>): void {
  const N = ins.progressive.length;
  const q = (k: number) => ({ psnr: ins.psnrByScale[k], ssim: ins.ssimByScale[k] });
  const tiles: TileUpdate[] = [
    { kind: 'progressive', scale: N - 1, png: ins.progressive[N - 1], quality: q(N - 1) },
    ...ins.progressive.slice(0, -1).map((png, k): TileUpdate => ({ kind: 'progressive', scale: k, png, quality: q(k) })),
    ...ins.contribution.slice(1).map((png, k): TileUpdate => ({ kind: 'contribution', scale: k + 1, png })),
  ];
  if (ins.ablation && ins.ablationMetrics) {
    tiles.push({ kind: 'ablation-semantic', scale: N - 1, png: ins.ablation.semantic, quality: ins.ablationMetrics.semantic });
    tiles.push({ kind: 'ablation-detail', scale: N - 1, png: ins.ablation.detail, quality: ins.ablationMetrics.detail });
  }
  const { progressive: _p, contribution: _c, psnrByScale: _ps, ssimByScale: _ss, ablation: _a, ablationMetrics: _am, ...head } = ins;
  tiles.forEach((tile, i) => {
    const e = { item: 0, tile, done: i + 1, total: tiles.length };
    o.onProgress?.(i === 0 ? { kind: 'head', head, ...e } : { kind: 'tile', ...e });
  });
}
