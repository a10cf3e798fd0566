// Pure helpers of the Generate view (no DOM): reading the form into checked parameters, and the
// captions. Unit-tested in test/unit/webview.

import type { Parsed } from '../../shared/protocol/common';
import { parseGenerateParams, type ForceBranch, type GenerateParams, type GenerationSummary } from '../../shared/protocol/generate';

/** The form's raw field texts, as the inputs hold them. */
export interface FormFields {
  classId: string;
  cfg: string;
  topK: string;
  topP: string;
  temperature: string;
  seed: string;
  count: string;
  force: string;
}

function toNumber(text: string): number {
  const t = text.trim();
  // Number('') is 0: an empty field must fail the range check, not silently mean 0
  return t === '' ? NaN : Number(t);
}

/**
 * The form as GenerateParams, checked with the protocol's own rules (the host checks again), so
 * the view names the bad field before anything is sent. `maxCount` is the view's cap.
 */
export function readForm(f: FormFields, classes: number, maxCount: number): Parsed<GenerateParams> {
  const params = {
    classId: toNumber(f.classId),
    cfg: toNumber(f.cfg),
    topK: toNumber(f.topK),
    topP: toNumber(f.topP),
    temperature: toNumber(f.temperature),
    seed: toNumber(f.seed),
    count: toNumber(f.count),
    force: f.force as ForceBranch,
  };
  const r = parseGenerateParams(params, classes);
  if (!r.ok) return { ok: false, error: r.error.replace(/^generate: /, '') };
  if (r.value.count > maxCount) return { ok: false, error: `count must be at most ${maxCount} here` };
  return r;
}

export function summaryText(s: GenerationSummary): string {
  const forced = s.forced ? ` · ${s.forced} tokens of ${s.reference ?? 'the reference'}` : '';
  return `${s.className} · cfg ${s.cfg} · top-k ${s.topK === 0 ? 'off' : s.topK} · top-p ${s.topP} · temperature ${s.temperature} · seed ${s.seed}${forced}`;
}

/** A fresh seed for the "New seed" button (the host accepts 0..2^53-1; 2^31 keeps it short). */
export function randomSeed(rand: () => number = Math.random): number {
  return Math.floor(rand() * 2 ** 31);
}
