// The Generate view's samples: one card per sample that fills in scale by scale (the decoded
// preview of the scales sampled so far, and a strip with every scale), then the final image with
// Inspect and Save buttons; above them, the run's progress and settings.

import type { SampleFormat } from '../../shared/protocol/generate';
import { h, pngSrc } from '../dom';
import { button, setDisabled } from '../toolkit';

interface Card {
  main: HTMLImageElement;
  strip: HTMLElement;
  thumbs: HTMLImageElement[];
  fig: HTMLElement;
  /** Inspect and the save buttons: enabled once the sample is final */
  saves: HTMLElement[];
}

export interface SampleActions {
  save(sample: number, format: SampleFormat): void;
  inspect(sample: number): void;
}

export class SamplesView {
  /** the settings of the samples shown */
  readonly summary: HTMLElement;
  readonly element: HTMLElement;
  readonly progressText: HTMLElement;
  /** made again with each form (its maximum is the model's scale count) */
  bar: HTMLProgressElement;
  private cards: Card[] = [];

  constructor(
    private readonly actions: SampleActions,
    /** gets the run's data-* (scales, scale progress, samples) */
    private readonly root: HTMLElement,
  ) {
    this.summary = h('p', { testid: 'generation-summary', class: 'muted' });
    this.element = h('section', { class: 'samples', testid: 'samples', 'aria-label': 'Generated samples' });
    this.progressText = h('span', { testid: 'generation-progress', class: 'muted' });
    this.bar = this.newBar(1);
  }

  /** A fresh progress bar for a model of `scales` scales (the form places it). */
  newBar(scales: number): HTMLProgressElement {
    this.bar = h('progress', { testid: 'generation-progress-bar', max: String(scales), value: '0' });
    return this.bar;
  }

  /** A run of `count` samples over `scales` scales started: empty cards. */
  start(run: number, count: number, scales: number): void {
    Object.assign(this.root.dataset, { run: String(run), scales: String(scales), scaleProgress: '0', samples: '0' });
    delete this.root.dataset.errorCode;
    this.bar.max = scales;
    this.bar.value = 0;
    this.progressText.textContent = `scale 0 of ${scales}`;
    this.cards = [];
    for (let i = 0; i < count; i++) {
      const main = h('img', { testid: `generated-sample-${i}`, class: 'pic sample-pic', alt: `sample ${i + 1}`, draggable: 'false' });
      const strip = h('div', { class: 'scale-strip', testid: `generated-sample-${i}-scales`, 'aria-label': `sample ${i + 1}, scale by scale` });
      const save = (format: SampleFormat, label: string, testid: string): HTMLElement => {
        const b = button(label, { testid: `${testid}-${i}`, title: `Save sample ${i + 1} (${label}) where you choose`, onClick: () => this.actions.save(i, format) });
        setDisabled(b, true);
        return b;
      };
      const inspect = button('Inspect', {
        testid: `inspect-sample-${i}`,
        title: `Open an inspector on sample ${i + 1}'s tokens: its scales, branches and codes`,
        onClick: () => this.actions.inspect(i),
      });
      setDisabled(inspect, true);
      // disabled together until the sample is final
      const saves = [inspect, save('png', 'PNG', 'save-png'), save('tokens-json', 'Tokens .json', 'save-json'), save('tokens-npy', 'Tokens .npy', 'save-npy')];
      const fig = h('figure', { class: 'sample', testid: `generated-sample-${i}-card` }, main, h('figcaption', {}, `Sample ${i + 1}`), strip, h('div', { class: 'sample-actions' }, ...saves));
      fig.dataset.scale = '0';
      this.cards.push({ main, strip, thumbs: [], fig, saves });
    }
    this.element.replaceChildren(...this.cards.map((c) => c.fig));
  }

  /** Scale `scale` (0-based) of every sample is sampled: its previews. */
  showScale(scale: number, scales: number, previews: string[], elapsedMs: number): void {
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
    this.bar.value = scale + 1;
    this.progressText.textContent = `scale ${scale + 1} of ${scales} · ${(elapsedMs / 1000).toFixed(1)} s`;
  }

  /** The final images: Inspect and Save become available. */
  finish(samples: string[]): void {
    samples.forEach((b64, i) => {
      const c = this.cards[i];
      if (!c) return;
      c.main.src = pngSrc(b64);
      c.fig.dataset.final = 'true';
      for (const b of c.saves) setDisabled(b, false);
    });
    this.root.dataset.samples = String(samples.length);
  }
}
