// The scale stepper: first/previous/next/last, a slider, the scale's label, Play (steps through
// every scale on a timer) and the PSNR curve, whose points also pick a scale.

import type { ShownInspection } from './shownInspection';
import { h } from '../dom';
import { button, setDisabled } from '../toolkit';
import { psnrCurve } from './charts';

const PLAY_MS = 700;

export interface StepperActions {
  scale(): number;
  /** a scale the user picked: ends Play, as a pause would */
  pick(k: number): void;
  /** Play's next step */
  advance(k: number): void;
}

export class StepperView {
  readonly element: HTMLElement;
  private readonly slider: HTMLInputElement;
  private readonly label: HTMLElement;
  private readonly play: HTMLElement;
  private readonly curve: HTMLElement;
  private readonly toFirst: HTMLElement[];
  private readonly toLast: HTMLElement[];
  private playTimer: number | undefined;

  constructor(
    private readonly ins: ShownInspection,
    private readonly actions: StepperActions,
    /** gets data-playing while Play runs */
    private readonly root: HTMLElement,
  ) {
    const n = ins.progressive.length;
    this.slider = h('input', {
      type: 'range',
      min: '1',
      max: String(n),
      step: '1',
      testid: 'scale-slider',
      id: 'scale-slider',
      'aria-label': 'Number of scales',
    });
    this.slider.addEventListener('input', () => actions.pick(Number(this.slider.value) - 1));
    this.label = h('span', { testid: 'scale-label', class: 'scale-label' });
    this.play = button('Play', { testid: 'play', title: 'Step through all scales', onClick: () => this.togglePlay() });
    this.curve = h('div', { class: 'curve-box', testid: 'psnr-curve-box' });
    const first = button('«', { testid: 'scale-first', ariaLabel: 'First scale (Home)', appearance: 'icon', onClick: () => actions.pick(0) });
    const prev = button('‹', { testid: 'scale-prev', ariaLabel: 'Previous scale (Left)', appearance: 'icon', onClick: () => actions.pick(actions.scale() - 1) });
    const next = button('›', { testid: 'scale-next', ariaLabel: 'Next scale (Right)', appearance: 'icon', onClick: () => actions.pick(actions.scale() + 1) });
    const last = button('»', { testid: 'scale-last', ariaLabel: 'Last scale (End)', appearance: 'icon', onClick: () => actions.pick(n - 1) });
    this.toFirst = [first, prev];
    this.toLast = [next, last];
    const controls = h('div', { class: 'stepper-controls', role: 'group', 'aria-label': 'Scale stepper (Left/Right, Home/End)' }, first, prev, this.slider, next, last, this.play);
    this.element = h('section', { class: 'stepper', testid: 'stepper' }, h('div', { class: 'stepper-left' }, controls, this.label), this.curve);
  }

  /** Shows scale k (0-based). */
  update(k: number): void {
    const ins = this.ins;
    const n = ins.progressive.length;
    const side = ins.model.scales[k];
    this.slider.value = String(k + 1);
    this.slider.setAttribute('aria-valuetext', `${k + 1} of ${n} scales`);
    const offs = ins.model.scales.slice(0, k).reduce((a, s) => a + s * s, 0);
    this.label.textContent = `Scale ${k + 1} of ${n} · ${side}×${side} · tokens ${offs + 1}–${offs + side * side} of ${ins.model.tokensPerBranch}`;
    for (const b of this.toFirst) setDisabled(b, k === 0);
    for (const b of this.toLast) setDisabled(b, k === n - 1);
    this.curve.replaceChildren(psnrCurve(ins.psnrByScale, k, (i) => this.actions.pick(i)));
  }

  private togglePlay(): void {
    if (this.playTimer !== undefined) {
      this.stopPlay();
      return;
    }
    const n = this.ins.progressive.length;
    if (this.actions.scale() >= n - 1) this.actions.advance(0);
    this.play.textContent = 'Pause';
    this.root.dataset.playing = 'true';
    this.playTimer = window.setInterval(() => {
      if (this.actions.scale() >= n - 1) this.stopPlay();
      else this.actions.advance(this.actions.scale() + 1);
    }, PLAY_MS);
  }

  stopPlay(): void {
    if (this.playTimer !== undefined) window.clearInterval(this.playTimer);
    this.playTimer = undefined;
    this.play.textContent = 'Play';
    delete this.root.dataset.playing;
  }
}
