// The Generate view: keeps its state (the model's generator, the form's values, the samples on
// screen), answers the host's messages, and lays out the form (form.ts), Generate / Cancel and the
// samples (samples.ts). All files are written by the host through a save dialog; the view only
// names a run and a sample.

import { paramsOfSummary, parseGenerateParams, type GenerateParams, type GenerateState, type GeneratorView, type SampleFormat } from '../../shared/protocol/generate';
import type { HostToWebview, PanelInfo } from '../../shared/protocol/messages';
import type { ViewHost } from '../channel';
import { h } from '../dom';
import { badge, button, progressRing, setDisabled } from '../toolkit';
import { FormView } from './form';
import { readForm, summaryText } from './logic';
import { SamplesView } from './samples';

/** The form's buttons and error line. */
interface Actions {
  generate: HTMLElement;
  cancel: HTMLElement;
  formError: HTMLElement;
}

export class GenerateApp {
  private info: PanelInfo | undefined;
  private view: GeneratorView | undefined;
  private params: GenerateParams | undefined;
  private run = 0;
  private readonly root: HTMLElement;
  private readonly status: HTMLElement;
  private readonly content: HTMLElement;
  private form: FormView | undefined;
  private actions: Actions | undefined;
  private readonly samples: SamplesView;
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
    this.samples = new SamplesView({ save: (i, format) => void this.save(i, format), inspect: (i) => void this.inspectSample(i) }, this.root);
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
        this.samples.start(m.run, m.count, m.scales);
        this.samples.summary.textContent = summaryText(m.summary);
        this.setState('busy', `Generating ${m.count} sample${m.count === 1 ? '' : 's'} of ${m.summary.className}…`);
        return;
      case 'generationScale':
        if (m.run === this.run) this.samples.showScale(m.scale, m.scales, m.previews, m.elapsedMs);
        return;
      case 'generationDone':
        if (m.run === this.run) {
          this.shown = paramsOfSummary(m.summary);
          this.persist();
          this.samples.finish(m.samples);
          this.setState('ready', `Generated ${m.samples.length} sample${m.samples.length === 1 ? '' : 's'} in ${(m.elapsedMs / 1000).toFixed(1)} s`);
        }
        return;
      case 'error':
        this.setState(m.code === 'CANCELLED' ? 'cancelled' : 'error', m.message);
        this.root.dataset.errorCode = m.code ?? '';
        // no usable generator: nothing to fill in, only the way to another model
        if (m.code?.startsWith('MODEL_')) this.content.replaceChildren(this.toolbar(), this.status);
        return;
      default:
        return; // the inspector's messages; responses are settled by the channel
    }
  }

  private setState(state: 'loading' | 'ready' | 'busy' | 'error' | 'cancelled', text: string): void {
    const busy = state === 'busy';
    this.root.dataset.state = state;
    this.root.setAttribute('aria-busy', String(busy));
    this.status.replaceChildren(...(busy ? [progressRing()] : []), h('span', {}, text));
    this.status.classList.toggle('error', state === 'error');
    if (this.actions) {
      setDisabled(this.actions.generate, busy);
      this.actions.cancel.hidden = !busy;
    }
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
    const prev = this.form ? this.formParams() : this.params;
    const start: GenerateParams = { ...view.defaults, ...(prev && prev.classId < view.classes.length ? { ...prev } : {}), force: view.defaults.force };
    start.count = Math.min(start.count, view.maxCount);
    this.params = start;
    this.form = new FormView(view, start, () => this.onFormChange());
    const generate = button('Generate', { testid: 'generate', appearance: 'primary', title: 'Generate samples with these settings', onClick: () => void this.generate() });
    const cancel = button('Cancel', { testid: 'cancel-generation', title: 'Stop this generation', onClick: () => void this.host.request({ type: 'cancel', target: 0 }) });
    cancel.hidden = true;
    const formError = h('p', { class: 'form-error', testid: 'form-error', role: 'alert' });
    this.actions = { generate, cancel, formError };
    // re-described (settings changed, another forcing branch): samples already shown stay
    this.samples.progressText.textContent = '';
    this.content.replaceChildren(
      this.toolbar(),
      this.status,
      view.note ? h('ul', { class: 'notes', testid: 'notes' }, h('li', {}, view.note)) : '',
      this.form.element,
      h('div', { class: 'gen-actions' }, generate, cancel, this.samples.newBar(view.scales.length), this.samples.progressText),
      formError,
      this.samples.summary,
      this.samples.element,
    );
  }

  private formParams(): GenerateParams | undefined {
    if (!this.form) return undefined;
    const r = readForm(this.form.texts(), this.view?.classes.length ?? 0, this.view?.maxCount ?? 1);
    return r.ok ? r.value : undefined;
  }

  private onFormChange(): void {
    if (!this.form || !this.actions) return;
    const r = readForm(this.form.texts(), this.view?.classes.length ?? 0, this.view?.maxCount ?? 1);
    this.actions.formError.textContent = r.ok ? '' : r.error;
    if (r.ok) {
      this.params = r.value;
      this.persist();
    }
  }

  private async generate(): Promise<void> {
    const { view, form, actions } = this;
    if (!view || !form || !actions) return;
    const r = readForm(form.texts(), view.classes.length, view.maxCount);
    if (!r.ok) {
      actions.formError.textContent = r.error;
      this.root.dataset.formError = 'true';
      return;
    }
    delete this.root.dataset.formError;
    actions.formError.textContent = '';
    this.params = r.value;
    this.persist();
    setDisabled(actions.generate, true);
    await this.requestGeneration(r.value);
    if (this.root.dataset.state !== 'busy') setDisabled(actions.generate, false);
  }

  private async requestGeneration(params: GenerateParams): Promise<void> {
    const res = await this.host.request({ type: 'generate', params });
    if (!res.ok && this.root.dataset.state !== 'cancelled' && this.root.dataset.state !== 'error') {
      // refused before it ran (e.g. a class this model does not have): say why
      this.setState('error', res.error ?? 'generation failed');
    }
  }

  // ------------------------------------------------------------------ samples

  private async save(sample: number, format: SampleFormat): Promise<void> {
    const r = await this.host.request({ type: 'saveSample', run: this.run, sample, format });
    if (!r.ok) this.setState('error', r.error ?? 'save failed');
  }

  private async inspectSample(sample: number): Promise<void> {
    const r = await this.host.request({ type: 'inspectSample', run: this.run, sample });
    if (!r.ok) this.setState('error', r.error ?? 'could not open an inspector');
  }
}
