// The Generate view: a form (class, cfg, top-k, top-p, temperature, seed, count, teacher forcing),
// Generate / Cancel, and one card per sample that fills in scale by scale (the decoded preview of
// the scales sampled so far, plus a strip with every scale), then the final image with Save buttons.
// All files are written by the host through a save dialog; the view only names a run and a sample.

import { paramsOfSummary, parseGenerateParams, type GenerateParams, type GenerateState, type GeneratorView, type SampleFormat } from '../../shared/protocol/generate';
import type { HostToWebview, PanelInfo } from '../../shared/protocol/messages';
import type { ViewHost } from '../channel';
import { h, pngSrc } from '../dom';
import { randomSeed, readForm, summaryText, type FormFields } from './logic';
import { badge, button, progressRing, setDisabled } from '../toolkit';

interface Card {
  main: HTMLImageElement;
  strip: HTMLElement;
  thumbs: HTMLImageElement[];
  fig: HTMLElement;
  /** Inspect and the save buttons: enabled once the sample is final */
  saves: HTMLElement[];
}

const NUMBER_FIELDS: { key: Exclude<keyof FormFields, 'classId' | 'force'>; label: string; testid: string; step: string; min?: string; max?: string; title: string }[] = [
  { key: 'cfg', label: 'cfg', testid: 'cfg', step: '0.5', min: '0', title: 'Classifier-free guidance scale (0 = none), ramped up over the scales' },
  { key: 'topK', label: 'top-k', testid: 'top-k', step: '1', min: '0', title: 'Keep the k most likely codes (0 = off)' },
  { key: 'topP', label: 'top-p', testid: 'top-p', step: '0.01', min: '0', max: '1', title: 'Keep the most likely codes up to this probability mass, in (0, 1] (1 = off)' },
  { key: 'temperature', label: 'temperature', testid: 'temperature', step: '0.05', min: '0', title: 'Sampling temperature (> 0)' },
  { key: 'seed', label: 'seed', testid: 'seed', step: '1', min: '0', title: 'Random seed: the same seed and settings give the same samples' },
  { key: 'count', label: 'count', testid: 'count', step: '1', min: '1', title: 'Number of samples' },
];

export class GenerateApp {
  private info: PanelInfo | undefined;
  private view: GeneratorView | undefined;
  private params: GenerateParams | undefined;
  private run = 0;
  private cards: Card[] = [];
  private readonly root: HTMLElement;
  private readonly status: HTMLElement;
  private readonly content: HTMLElement;
  private readonly fields = new Map<keyof FormFields, HTMLInputElement | HTMLSelectElement>();
  private els: Record<string, HTMLElement> = {};
  /** settings of the samples on screen (persisted: a restored view generates them again) */
  private shown: GenerateParams | null;
  /** restored with samples on screen: generate them again once the model is described */
  private replay: boolean;

  constructor(
    private readonly host: ViewHost<GenerateState>,
    restored: GenerateState | undefined,
  ) {
    this.params = restored?.params;
    this.shown = restored?.shown ?? null;
    this.replay = this.shown !== null;
    const app = document.getElementById('app');
    if (!app) throw new Error('#app missing');
    this.root = app;
    this.root.dataset.mode = 'generate';
    this.root.replaceChildren();
    this.status = h('p', { id: 'status', testid: 'status', role: 'status', 'aria-live': 'polite' }, 'Waiting for the extension…');
    this.content = h('div', { id: 'content', class: 'content' });
    this.root.append(this.status, this.content);
  }

  receive(m: HostToWebview): void {
    switch (m.kind) {
      case 'init':
        this.info = m.info;
        document.title = m.info.title;
        return;
      case 'generator':
        this.view = m.view;
        this.renderForm(m.view);
        this.persist();
        this.setState('ready', `${m.view.model} · ${m.view.classes.length} classes · ${m.view.scales.length} scales`);
        if (this.replay) {
          this.replay = false;
          this.regenerateShown(m.view);
        }
        return;
      case 'generationStart':
        this.run = m.run;
        this.shown = null; // the previous samples are cleared
        this.persist();
        this.startRun(m.count, m.scales);
        if (this.els.summary) this.els.summary.textContent = summaryText(m.summary);
        this.setState('busy', `Generating ${m.count} sample${m.count === 1 ? '' : 's'} of ${m.summary.className}…`);
        return;
      case 'generationScale':
        if (m.run === this.run) this.showScale(m.scale, m.scales, m.previews, m.elapsedMs);
        return;
      case 'generationDone':
        if (m.run === this.run) {
          this.shown = paramsOfSummary(m.summary);
          this.persist();
          this.finish(m.samples);
          this.setState('ready', `Generated ${m.samples.length} sample${m.samples.length === 1 ? '' : 's'} in ${(m.elapsedMs / 1000).toFixed(1)} s`);
        }
        return;
      case 'error':
        this.setState(m.code === 'CANCELLED' ? 'cancelled' : 'error', m.message);
        this.root.dataset.errorCode = m.code ?? '';
        // no usable generator: nothing to fill in, only the way to another model
        if (m.code?.startsWith('MODEL_')) this.content.replaceChildren(this.toolbar(), this.status);
        return;
      case 'inspection':
      case 'folderUsage':
      case 'busy':
      case 'response':
        return; // not this view's messages
    }
  }

  private setState(state: 'loading' | 'ready' | 'busy' | 'error' | 'cancelled', text: string): void {
    const busy = state === 'busy';
    this.root.dataset.state = state;
    this.root.setAttribute('aria-busy', String(busy));
    this.status.replaceChildren(...(busy ? [progressRing()] : []), h('span', {}, text));
    this.status.classList.toggle('error', state === 'error');
    if (this.els.generate) setDisabled(this.els.generate, busy);
    if (this.els.cancel) this.els.cancel.hidden = !busy;
  }

  private persist(): void {
    const p = this.params;
    if (!p || !parseGenerateParams(p).ok) return;
    this.host.saveState({ view: 'generate', params: p, reference: this.info?.resource ? this.info.resource : null, shown: this.shown });
  }

  /**
   * After a window reload: the samples that were on screen, generated again from their settings
   * (not from the form, which may have been edited since). Skipped when they no longer apply: a
   * class this model lacks, or teacher forcing whose reference image did not come back.
   */
  private regenerateShown(view: GeneratorView): void {
    const s = this.shown;
    if (!s || s.classId >= view.classes.length || s.count > view.maxCount || (s.force !== 'none' && !this.info?.resource)) {
      this.shown = null;
      this.persist();
      return;
    }
    void this.requestGeneration(s);
  }

  // ------------------------------------------------------------------ form

  private toolbar(): HTMLElement {
    return h(
      'header',
      { class: 'toolbar' },
      h('h1', { testid: 'title' }, this.info?.title ?? 'Generate'),
      this.view ? badge(this.view.model, 'model-name') : null,
      this.view?.about ? h('span', { class: 'muted', testid: 'generator-about' }, `generator: ${this.view.about}`) : null,
      h('span', { class: 'spacer' }),
      button('Model…', { testid: 'select-model', title: 'Select the model', onClick: () => void this.host.request({ type: 'selectModel' }) }),
    );
  }

  private renderForm(view: GeneratorView): void {
    // keep what the user typed (or the restored state) when the host re-describes the model
    const prev = this.fields.size > 0 ? this.formParams() : this.params;
    const start: GenerateParams = { ...view.defaults, ...(prev && prev.classId < view.classes.length ? { ...prev } : {}), force: view.defaults.force };
    start.count = Math.min(start.count, view.maxCount);
    this.params = start;
    this.fields.clear();

    const cls = h('select', { testid: 'class-picker', id: 'class-picker', 'aria-label': 'Class' });
    view.classes.forEach((c, i) => cls.append(h('option', { value: String(i) }, c)));
    cls.value = String(start.classId);
    this.fields.set('classId', cls);
    const controls: HTMLElement[] = [h('label', { class: 'field' }, h('span', {}, 'class'), cls)];
    for (const f of NUMBER_FIELDS) {
      const input = h('input', { type: 'number', testid: f.testid, id: `field-${f.testid}`, step: f.step, min: f.min, max: f.key === 'count' ? String(view.maxCount) : f.max, title: f.title });
      input.value = String(start[f.key]);
      this.fields.set(f.key, input);
      const extra =
        f.key === 'seed'
          ? button('New seed', {
              testid: 'new-seed',
              title: 'A random seed',
              onClick: () => {
                input.value = String(randomSeed());
                this.onFormChange();
              },
            })
          : null;
      controls.push(h('label', { class: 'field', title: f.title }, h('span', {}, f.label), input, extra));
    }
    const force = h('select', { testid: 'force', id: 'field-force', 'aria-label': 'Teacher forcing' });
    force.append(h('option', { value: 'none' }, 'none: sample both branches'));
    if (view.reference) {
      force.append(
        h('option', { value: 'detail' }, `detail tokens of ${view.reference.title} (sample the semantic ones)`),
        h('option', { value: 'semantic' }, `semantic tokens of ${view.reference.title} (sample the detail ones)`),
      );
    }
    force.value = view.reference ? start.force : 'none';
    this.fields.set('force', force);
    controls.push(h('label', { class: 'field field-wide' }, h('span', {}, 'teacher forcing'), force));
    for (const el of this.fields.values()) el.addEventListener('change', () => this.onFormChange());

    const generate = button('Generate', { testid: 'generate', appearance: 'primary', title: 'Generate samples with these settings', onClick: () => void this.generate() });
    const cancel = button('Cancel', { testid: 'cancel-generation', title: 'Stop this generation', onClick: () => void this.host.request({ type: 'cancel', target: 0 }) });
    cancel.hidden = true;
    const formError = h('p', { class: 'form-error', testid: 'form-error', role: 'alert' });
    const progressText = h('span', { testid: 'generation-progress', class: 'muted' });
    const bar = h('progress', { testid: 'generation-progress-bar', max: String(view.scales.length), value: '0' });
    // re-described (settings changed, another forcing branch): samples already shown stay
    const summary = this.els.summary ?? h('p', { testid: 'generation-summary', class: 'muted' });
    const samples = this.els.samples ?? h('section', { class: 'samples', testid: 'samples', 'aria-label': 'Generated samples' });
    this.els = { generate, cancel, formError, progressText, bar, summary, samples };
    this.content.replaceChildren(
      this.toolbar(),
      this.status,
      view.note ? h('ul', { class: 'notes', testid: 'notes' }, h('li', {}, view.note)) : '',
      h('section', { class: 'gen-form', 'aria-label': 'Generation settings', role: 'group' }, ...controls),
      h('div', { class: 'gen-actions' }, generate, cancel, bar, progressText),
      formError,
      summary,
      samples,
    );
  }

  private fieldTexts(): FormFields {
    const v = (k: keyof FormFields): string => this.fields.get(k)?.value ?? '';
    return { classId: v('classId'), cfg: v('cfg'), topK: v('topK'), topP: v('topP'), temperature: v('temperature'), seed: v('seed'), count: v('count'), force: v('force') };
  }

  private formParams(): GenerateParams | undefined {
    const r = readForm(this.fieldTexts(), this.view?.classes.length ?? 0, this.view?.maxCount ?? 1);
    return r.ok ? r.value : undefined;
  }

  private onFormChange(): void {
    const r = readForm(this.fieldTexts(), this.view?.classes.length ?? 0, this.view?.maxCount ?? 1);
    this.els.formError.textContent = r.ok ? '' : r.error;
    if (r.ok) {
      this.params = r.value;
      this.persist();
    }
  }

  private async generate(): Promise<void> {
    const view = this.view;
    if (!view) return;
    const r = readForm(this.fieldTexts(), view.classes.length, view.maxCount);
    if (!r.ok) {
      this.els.formError.textContent = r.error;
      this.root.dataset.formError = 'true';
      return;
    }
    delete this.root.dataset.formError;
    this.els.formError.textContent = '';
    this.params = r.value;
    this.persist();
    setDisabled(this.els.generate, true);
    await this.requestGeneration(r.value);
    if (this.root.dataset.state !== 'busy') setDisabled(this.els.generate, false);
  }

  private async requestGeneration(params: GenerateParams): Promise<void> {
    const res = await this.host.request({ type: 'generate', params });
    if (!res.ok && this.root.dataset.state !== 'cancelled' && this.root.dataset.state !== 'error') {
      // refused before it ran (e.g. a class this model does not have): say why
      this.setState('error', res.error ?? 'generation failed');
    }
  }

  // ------------------------------------------------------------------ samples

  private startRun(count: number, scales: number): void {
    this.root.dataset.run = String(this.run);
    this.root.dataset.scales = String(scales);
    this.root.dataset.scaleProgress = '0';
    this.root.dataset.samples = '0';
    delete this.root.dataset.errorCode;
    (this.els.bar as HTMLProgressElement).max = scales;
    (this.els.bar as HTMLProgressElement).value = 0;
    this.els.progressText.textContent = `scale 0 of ${scales}`;
    this.cards = [];
    for (let i = 0; i < count; i++) {
      const main = h('img', { testid: `generated-sample-${i}`, class: 'pic sample-pic', alt: `sample ${i + 1}`, draggable: 'false' });
      const strip = h('div', { class: 'scale-strip', testid: `generated-sample-${i}-scales`, 'aria-label': `sample ${i + 1}, scale by scale` });
      const save = (format: SampleFormat, label: string, testid: string): HTMLElement => {
        const b = button(label, { testid: `${testid}-${i}`, title: `Save sample ${i + 1} (${label}) where you choose`, onClick: () => void this.save(i, format) });
        setDisabled(b, true);
        return b;
      };
      const inspect = button('Inspect', {
        testid: `inspect-sample-${i}`,
        title: `Open an inspector on sample ${i + 1}'s tokens: its scales, branches and codes`,
        onClick: () => void this.inspectSample(i),
      });
      setDisabled(inspect, true);
      // disabled together until the sample is final
      const saves = [inspect, save('png', 'PNG', 'save-png'), save('tokens-json', 'Tokens .json', 'save-json'), save('tokens-npy', 'Tokens .npy', 'save-npy')];
      const fig = h(
        'figure',
        { class: 'sample', testid: `generated-sample-${i}-card` },
        main,
        h('figcaption', {}, `Sample ${i + 1}`),
        strip,
        h('div', { class: 'sample-actions' }, ...saves),
      );
      fig.dataset.scale = '0';
      this.cards.push({ main, strip, thumbs: [], fig, saves });
    }
    this.els.samples.replaceChildren(...this.cards.map((c) => c.fig));
  }

  private showScale(scale: number, scales: number, previews: string[], elapsedMs: number): void {
    previews.forEach((b64, i) => {
      const c = this.cards[i];
      if (!c) return;
      const src = pngSrc(b64);
      c.main.src = src;
      c.fig.dataset.scale = String(scale + 1);
      const thumb = h('img', { testid: `generated-sample-${i}-scale-${scale + 1}`, class: 'scale-thumb', alt: `sample ${i + 1} after scale ${scale + 1}`, title: `scales 1–${scale + 1}`, draggable: 'false' });
      thumb.src = src;
      c.thumbs[scale] = thumb;
      c.strip.append(thumb);
    });
    this.root.dataset.scaleProgress = String(scale + 1);
    (this.els.bar as HTMLProgressElement).value = scale + 1;
    this.els.progressText.textContent = `scale ${scale + 1} of ${scales} · ${(elapsedMs / 1000).toFixed(1)} s`;
  }

  private finish(samples: string[]): void {
    samples.forEach((b64, i) => {
      const c = this.cards[i];
      if (!c) return;
      c.main.src = pngSrc(b64);
      c.fig.dataset.final = 'true';
      for (const b of c.saves) setDisabled(b, false);
    });
    this.root.dataset.samples = String(samples.length);
  }

  private async save(sample: number, format: SampleFormat): Promise<void> {
    const r = await this.host.request({ type: 'saveSample', run: this.run, sample, format });
    if (!r.ok) this.setState('error', r.error ?? 'save failed');
  }

  private async inspectSample(sample: number): Promise<void> {
    const r = await this.host.request({ type: 'inspectSample', run: this.run, sample });
    if (!r.ok) this.setState('error', r.error ?? 'could not open an inspector');
  }
}
