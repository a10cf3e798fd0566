// One Generate panel's host-side logic: answers its webview's requests, describes the model's
// generator, runs generations with per-scale previews and cancellation, saves samples through a
// confirmed save dialog. No `vscode` import: panels.ts supplies HostUi, `post` and the
// settings, so this unit-tests with the real backend on the tiny test package.

import * as path from 'node:path';
import { MAX_GENERATE_COUNT } from '../../../shared/limits';
import { parseGenerateParams, type GenerateParams, type GenerationSummary, type GeneratorView, type SampleFormat, type SamplingParams } from '../../../shared/protocol/generate';
import type { HostToWebview, PanelInfo, Request } from '../../../shared/protocol/messages';
import type { GeneratedSet, GeneratorInfo, InspectorBackend, TokenSource } from '../backend';
import { planSampleExport, sampleStem } from '../exporter';
import { saveThroughDialog } from '../saveFlow';
import type { ResolvedSettings } from '../settings';
import { WebviewChannel, type ChannelDeps, type Responder, type ViewHandlers } from '../webviewChannel';

/** The image whose tokens can be teacher-forced, when the view was opened from an inspector. */
export interface ReferenceImage {
  path: string;
  /** file URI string, kept in the webview state so a restored panel has the same reference */
  resource: string;
}

/** The channel's post, log and UI, and what this view's own work needs. */
export interface GenerateControllerDeps extends ChannelDeps {
  backend: InspectorBackend;
  settings: () => ResolvedSettings;
  /** folder the save dialog starts in (the reference's folder is preferred) */
  defaultSaveDir: () => string;
  /**
   * Opens an inspector on a sample's tokens; `exportPath` is the folder and file-name stem its
   * exports are offered under. Absent where inspectors cannot be opened (tests).
   */
  openInspector?: (tokens: TokenSource, exportPath: string) => void;
  now?: () => number;
}

/** The notification text for "Generate Images" on a model without a (usable) generator. */
export function generatorMissingMessage(info: Pick<GeneratorInfo, 'model' | 'missing' | 'fallbackReason'>): string {
  const why = info.missing?.message ?? `the model "${info.model}" has no generator`;
  const fallback = info.fallbackReason ? ` (${info.fallbackReason})` : '';
  return `ImageFolder: cannot generate images: ${why}${fallback}. Choose a model package with generator graphs (docs/model-format.md, "Generator graphs") with "ImageFolder: Select Model".`;
}

function aboutText(about: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof about.depth === 'number') parts.push(`depth ${about.depth}`);
  if (typeof about.width === 'number') parts.push(`width ${about.width}`);
  if (typeof about.steps === 'number') parts.push(`${about.steps} training steps`);
  if (typeof about.hours === 'number') parts.push(`${about.hours} h`);
  return parts.join(', ');
}

/** The form's starting values: what the user set explicitly, else the package's recommendation. */
export function formDefaults(info: GeneratorInfo, s: ResolvedSettings, force: GenerateParams['force']): GenerateParams {
  const set = new Set(s.generationUserSet);
  const pick = <K extends 'cfg' | 'topK' | 'topP' | 'temperature'>(k: K): number => (set.has(k) ? s.generation[k] : info.defaults[k]);
  return {
    classId: 0,
    cfg: pick('cfg'),
    topK: pick('topK'),
    topP: pick('topP'),
    temperature: pick('temperature'),
    seed: s.generation.seed,
    count: Math.min(s.generation.count, MAX_GENERATE_COUNT),
    force,
  };
}

interface Run {
  id: number;
  ac: AbortController;
}

export class GenerateController {
  private running: Run | undefined;
  private runSeq = 0;
  private last: { run: number; set: GeneratedSet } | undefined;
  private info: GeneratorInfo | undefined;
  private readonly channel: WebviewChannel;
  private readonly view: ViewHandlers = {
    info: () => this.panelInfo,
    ready: async () => void (await this.describe()),
    request: (req, answer) => this.handleRequest(req, answer),
  };
  private disposed = false;
  private force: GenerateParams['force'];

  constructor(
    readonly reference: ReferenceImage | undefined,
    private readonly deps: GenerateControllerDeps,
    force: GenerateParams['force'] = reference ? 'detail' : 'none',
  ) {
    this.force = reference ? force : 'none';
    this.channel = new WebviewChannel(deps, 'Generate view');
  }

  get panelInfo(): PanelInfo {
    return { title: this.reference ? `Generate: ${path.basename(this.reference.path)}` : 'Generate', resource: this.reference?.resource ?? '', mode: 'generate' };
  }

  get rejectedMessages(): number {
    return this.channel.rejected;
  }

  get lastGeneration(): GeneratedSet | undefined {
    return this.last?.set;
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Posts to the webview; resolves once delivered (never rejects: a closed panel just drops it). */
  private post(m: HostToWebview): Promise<void> {
    return this.channel.post(m);
  }

  /** Entry point for every message the webview sends (the channel validates it); never throws. */
  handleMessage(raw: unknown): Promise<void> {
    return this.channel.receive(raw, this.view);
  }

  /** (Re)describes the configured model's generator to the webview; false when it has none. */
  async describe(): Promise<boolean> {
    let info: GeneratorInfo;
    try {
      info = await this.deps.backend.generatorInfo(this.deps.settings().runtime);
    } catch (e) {
      this.report(e, 'Could not load the model');
      return false;
    }
    if (this.disposed) return false;
    this.info = info;
    if (info.missing) {
      const message = generatorMissingMessage(info);
      this.deps.log.warn(message);
      void this.post({ kind: 'error', message, code: info.missing.code });
      return false;
    }
    const view: GeneratorView = {
      model: info.model,
      imageSize: info.imageSize,
      scales: info.scales,
      classes: info.classes,
      defaults: formDefaults(info, this.deps.settings(), this.force),
      maxCount: MAX_GENERATE_COUNT,
      reference: this.reference ? { title: path.basename(this.reference.path) } : null,
      about: aboutText(info.about),
      ...(info.fallbackReason ? { note: info.fallbackReason } : {}),
    };
    void this.post({ kind: 'generator', view });
    return true;
  }

  /** Opened again from an inspector with another branch to force: the form follows. */
  async setForce(force: 'detail' | 'semantic'): Promise<void> {
    if (!this.reference) return;
    this.force = force;
    if (!this.running) await this.describe();
  }

  private async handleRequest(req: Request, { ok, err }: Responder): Promise<void> {
    switch (req.type) {
      case 'generate': {
        const problem = await this.generate(req.params);
        if (problem) err(problem);
        else ok();
        return;
      }
      case 'cancel':
        if (this.running && (req.target === 0 || req.target === this.running.id)) this.running.ac.abort();
        ok('cancelled');
        return;
      case 'saveSample': {
        const r = await this.saveSample(req.run, req.sample, req.format);
        if (r.error) err(r.error);
        else ok(r.result);
        return;
      }
      case 'inspectSample': {
        const r = this.inspectSample(req.run, req.sample);
        if (r.error) err(r.error);
        else ok(r.result);
        return;
      }
      case 'selectModel': {
        const changed = await this.deps.ui.selectModel();
        if (changed && !this.running) await this.describe();
        ok(changed ? 'changed' : 'unchanged');
        return;
      }
      case 'reinspect':
      case 'export':
      case 'folderUsage':
      case 'generateFrom':
      case 'swapWith':
        err(`${req.type} is not available in the Generate view.`);
        return;
    }
  }

  /**
   * Runs one generation; resolves to an error text for the request's response (undefined on
   * success). Progress goes to the webview as generationStart / generationScale / generationDone.
   */
  async generate(raw: GenerateParams): Promise<string | undefined> {
    if (this.running) return 'A generation is already running in this panel: wait for it or cancel it.';
    const info = this.info ?? ((await this.describe()) ? this.info : undefined);
    if (!info || info.missing) return info ? generatorMissingMessage(info) : 'The model could not be loaded.';
    // the protocol checked the ranges; only the host knows how many classes this model has
    const checked = parseGenerateParams(raw, info.classes.length);
    if (!checked.ok) return checked.error;
    const p = checked.value;
    if (p.force !== 'none' && !this.reference) return 'Teacher forcing needs a reference image: open the Generate view from an inspector.';
    const run: Run = { id: ++this.runSeq, ac: new AbortController() };
    this.running = run;
    const settings = this.deps.settings();
    const now = this.deps.now ?? Date.now;
    const t0 = now();
    const forced = p.force === 'none' ? null : p.force;
    const sampling: SamplingParams = { cfg: p.cfg, topK: p.topK, topP: p.topP, temperature: p.temperature, seed: p.seed, count: p.count };
    const summary: GenerationSummary = {
      classId: p.classId,
      className: info.classes[p.classId],
      ...sampling,
      forced,
      reference: forced && this.reference ? path.basename(this.reference.path) : null,
    };
    const N = info.scales.length;
    void this.post({ kind: 'generationStart', run: run.id, count: p.count, scales: N, summary });
    const what = `${p.count} ${summary.className} sample${p.count === 1 ? '' : 's'}`;
    try {
      const set = await this.deps.ui.withProgress(`ImageFolder: generating ${what}`, (report, signal) => {
        if (signal.aborted) run.ac.abort();
        else signal.addEventListener('abort', () => run.ac.abort(), { once: true });
        return this.deps.backend.generate({
          settings: settings.runtime,
          classId: p.classId,
          ...sampling,
          ...(forced && this.reference ? { reference: { imagePath: this.reference.path, force: forced } } : {}),
          signal: run.ac.signal,
          onScale: (s) => {
            if (run.ac.signal.aborted) return undefined;
            report(`scale ${s.scale + 1} of ${s.scales}`, 100 / s.scales);
            // wait for delivery before the next scale: previews never pile up behind a Cancel
            return this.post({ kind: 'generationScale', run: run.id, scale: s.scale, scales: s.scales, previews: s.previews, elapsedMs: Math.round(s.elapsedMs) });
          },
        });
      });
      if (this.disposed) return undefined;
      this.last = { run: run.id, set };
      const ms = Math.round(now() - t0);
      const timings = Object.entries(set.timingsMs)
        .map(([k, v]) => `${k} ${Math.round(v)} ms`)
        .join(', ');
      this.deps.log.info(
        `generated ${what} with model "${set.model.name}" (seed ${set.settings.seed}, cfg ${set.settings.cfg}, top-k ${set.settings.topK}, top-p ${set.settings.topP}, temperature ${set.settings.temperature}${forced ? `, ${forced} tokens of ${summary.reference}` : ''}) in ${ms} ms; ${timings}`,
      );
      void this.post({ kind: 'generationDone', run: run.id, samples: set.samples.map((s) => s.png.pngBase64), summary, elapsedMs: ms });
      return undefined;
    } catch (e) {
      if (this.disposed) return undefined;
      const d = this.report(e, `Could not generate ${what}`);
      return d;
    } finally {
      if (this.running === run) this.running = undefined;
    }
  }

  /** Where a sample's files are offered: next to the reference image, else the default folder. */
  private saveDir(): string {
    return this.reference ? path.dirname(this.reference.path) : this.deps.defaultSaveDir();
  }

  /** The latest generation's sample `sample` of run `run`, or why there is none. */
  private sampleOf(run: number, sample: number): { set: GeneratedSet; error?: undefined } | { error: string } {
    const last = this.last;
    if (!last || last.run !== run) return { error: 'That generation is no longer available (a newer one replaced it, or the panel was reloaded): generate again.' };
    if (sample >= last.set.samples.length) return { error: `This generation has ${last.set.samples.length} sample(s); there is no sample ${sample + 1}.` };
    return { set: last.set };
  }

  /** Opens an inspector on one sample's tokens: its scales, branches and codes, as for an image. */
  inspectSample(run: number, sample: number): { result?: string; error?: string } {
    const found = this.sampleOf(run, sample);
    if (found.error !== undefined) return { error: found.error };
    if (!this.deps.openInspector) return { error: 'Inspectors cannot be opened from here.' };
    const { set } = found;
    const g = set.settings;
    const s = set.samples[sample];
    const forced = g.forced && this.reference ? `, ${g.forced} tokens of ${path.basename(this.reference.path)} kept` : '';
    const name = `${g.className}, seed ${g.seed}, sample ${s.index + 1}`;
    const notes = [
      `Generated by "${set.model.name}": ${name} (cfg ${g.cfg}, top-k ${g.topK}, top-p ${g.topP}, temperature ${g.temperature}${forced}).`,
      'There is no input image: the full decode (all scales, both branches) stands in for it, and PSNR/SSIM say how close each reconstruction comes to it.',
    ];
    this.deps.openInspector({ tokens: s.tokens.map((row) => [...row]), modelDir: set.model.dir, name, notes }, path.join(this.saveDir(), sampleStem(set, sample)));
    this.deps.log.info(`opened an inspector on a generated sample (${name})`);
    return { result: 'opened' };
  }

  /** Saves one sample of the latest generation where the user chooses. */
  async saveSample(run: number, sample: number, format: SampleFormat): Promise<{ result?: string; error?: string }> {
    const found = this.sampleOf(run, sample);
    if (found.error !== undefined) return { error: found.error };
    const plan = planSampleExport(found.set, sample, format, this.reference ? path.basename(this.reference.path) : null);
    const what = format === 'png' ? 'image' : 'tokens';
    const r = await saveThroughDialog(this.deps.ui, plan, {
      defaultDir: this.saveDir(),
      title: `Save the ${what} of generated sample ${sample + 1}`,
    });
    if ('failed' in r) return { error: this.report(r.failed, `Could not save to ${r.path}`) };
    if ('cancelled' in r) return { result: 'cancelled' };
    this.deps.log.info(`saved generated sample ${sample + 1} (${format}, ${plan.bytes.length} bytes) to ${r.written}`);
    this.deps.ui.showInfo(`ImageFolder: saved ${path.basename(r.written)}`);
    return { result: `saved ${path.basename(r.written)}` };
  }

  /** Posts the error to the webview (and a notification unless cancelled); returns its text. */
  private report(e: unknown, subject: string): string {
    return this.channel.report(e, subject);
  }

  /** Settings changed (model path): describe the new model's generator unless a run is going. */
  async refresh(): Promise<void> {
    if (!this.running) await this.describe();
  }

  dispose(): void {
    this.disposed = true;
    this.channel.close();
    this.running?.ac.abort();
  }
}
