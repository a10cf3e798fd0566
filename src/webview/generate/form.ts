// The Generate view's form: class, the sampling numbers (with "New seed"), and which branch of the
// reference image, if any, is teacher-forced. It holds the field texts; generate/logic.ts reads
// them into checked parameters.

import { MAX_CFG, MAX_GENERATE_SEED, MAX_TEMPERATURE, MAX_TOP_K } from '../../shared/limits';
import type { GenerateParams, GeneratorView } from '../../shared/protocol/generate';
import { h } from '../dom';
import { button } from '../toolkit';
import { randomSeed, type FormFields } from './logic';

const NUMBER_FIELDS: { key: Exclude<keyof FormFields, 'classId' | 'force'>; label: string; testid: string; step: string; min?: string; max?: string; title: string }[] = [
  { key: 'cfg', label: 'cfg', testid: 'cfg', step: '0.5', min: '0', max: String(MAX_CFG), title: 'Classifier-free guidance scale (0 = none), ramped up over the scales' },
  { key: 'topK', label: 'top-k', testid: 'top-k', step: '1', min: '0', max: String(MAX_TOP_K), title: 'Keep the k most likely codes (0 = off)' },
  { key: 'topP', label: 'top-p', testid: 'top-p', step: '0.01', min: '0', max: '1', title: 'Keep the most likely codes up to this probability mass, in (0, 1] (1 = off)' },
  { key: 'temperature', label: 'temperature', testid: 'temperature', step: '0.05', min: '0', max: String(MAX_TEMPERATURE), title: 'Sampling temperature (> 0)' },
  { key: 'seed', label: 'seed', testid: 'seed', step: '1', min: '0', max: String(MAX_GENERATE_SEED), title: 'Random seed: the same seed and settings give the same samples' },
  { key: 'count', label: 'count', testid: 'count', step: '1', min: '1', title: 'Number of samples' },
];

export class FormView {
  readonly element: HTMLElement;
  private readonly fields = new Map<keyof FormFields, HTMLInputElement | HTMLSelectElement>();

  /** start: the values shown; onChange: after any field changed */
  constructor(view: GeneratorView, start: GenerateParams, onChange: () => void) {
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
                onChange();
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
    for (const el of this.fields.values()) el.addEventListener('change', onChange);
    this.element = h('section', { class: 'gen-form', 'aria-label': 'Generation settings', role: 'group' }, ...controls);
  }

  /** The fields' texts as typed. */
  texts(): FormFields {
    const v = (k: keyof FormFields): string => this.fields.get(k)?.value ?? '';
    return { classId: v('classId'), cfg: v('cfg'), topK: v('topK'), topP: v('topP'), temperature: v('temperature'), seed: v('seed'), count: v('count'), force: v('force') };
  }
}
