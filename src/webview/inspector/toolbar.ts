// The inspector's header: title, model and provider, the buttons that ask the host for work, and
// Export with its choices (each choice the request it sends).

import type { InspectionHead } from '../../shared/types';
import type { PanelInfo, Request } from '../../shared/protocol/messages';
import { badge, button, dropdown, setDisabled } from '../toolkit';
import { h } from '../dom';

interface ExportChoice {
  /** the dropdown's value (stable: tests and the e2e suite pick choices by it) */
  id: string;
  label: string;
  /** the export request at the selected scale */
  request(scale: number): Request;
}

const png = (target: 'progressive' | 'contribution' | 'ablation-semantic' | 'ablation-detail' | 'input') => (scale: number): Request => ({ type: 'export', format: 'png', target, scale });

const EXPORT_CHOICES: readonly ExportChoice[] = [
  { id: 'tokens-json', label: 'Tokens (.json)', request: () => ({ type: 'export', format: 'tokens-json' }) },
  { id: 'tokens-npy', label: 'Tokens (.npy)', request: () => ({ type: 'export', format: 'tokens-npy' }) },
  { id: 'png', label: 'Reconstruction at this scale (.png)', request: png('progressive') },
  { id: 'png-contribution', label: "This scale's contribution (.png)", request: png('contribution') },
  { id: 'png-ablation-semantic', label: 'Semantic-only reconstruction (.png)', request: png('ablation-semantic') },
  { id: 'png-ablation-detail', label: 'Detail-only reconstruction (.png)', request: png('ablation-detail') },
  { id: 'png-input', label: 'Model input (.png)', request: png('input') },
  { id: 'sheet', label: 'Contact sheet: every scale and branch (.png)', request: () => ({ type: 'export', format: 'sheet' }) },
];

/** The choices for a model with `branches` branches: one branch has no ablations to export. */
function exportChoices(branches: number): readonly ExportChoice[] {
  if (branches >= 2) return EXPORT_CHOICES;
  return EXPORT_CHOICES.filter((c) => !c.id.startsWith('png-ablation')).map((c) => (c.id === 'sheet' ? { ...c, label: 'Contact sheet: every scale (.png)' } : c));
}

export function toolbar(info: Pick<PanelInfo, 'title' | 'mode'> | undefined, ins: Pick<InspectionHead, 'image' | 'model' | 'provider'> | undefined, request: (r: Request) => void, scale: () => number): HTMLElement {
  const generated = info?.mode === 'generated';
  // one branch (e.g. VAR): no ablations, nothing to swap or teacher-force
  const two = !ins || ins.model.branches.length >= 2;
  const choices = exportChoices(ins?.model.branches.length ?? 2);
  const fmt = dropdown(
    choices.map((c) => ({ value: c.id, label: c.label })),
    'export-format',
    'Export format',
  );
  const exp = button('Export…', {
    testid: 'export',
    title: 'Save tokens or the reconstruction to a file you choose',
    onClick: () => {
      const choice = choices.find((c) => c.id === fmt.value()) ?? choices[0];
      request(choice.request(scale()));
    },
  });
  // teacher forcing and swapping start from an image: a folder or a generated sample has none
  const fromImage = ins && info?.mode !== 'folder' && !generated;
  return h(
    'header',
    { class: 'toolbar' },
    h('h1', { testid: 'title' }, info?.title ?? (ins ? ins.image.split(/[\\/]/).pop() ?? '' : '')),
    ins ? badge(`${ins.model.name}`, 'model-name') : null,
    ins ? h('span', { class: 'muted', testid: 'provider' }, `provider: ${Object.entries(ins.provider.chosen).map(([g, p]) => `${g} ${p}`).join(', ')}`) : null,
    h('span', { class: 'spacer' }),
    button('Re-run', { testid: 'reinspect', title: 'Tokenize the image again', onClick: () => request({ type: 'reinspect' }) }),
    // a generated sample has no folder
    generated
      ? null
      : button('Folder usage', {
          testid: 'folder-usage-button',
          title: 'Codebook usage aggregated over every image in this folder',
          onClick: () => request({ type: 'folderUsage' }),
        }),
    button('Model…', { testid: 'select-model', title: 'Select the tokenizer model', onClick: () => request({ type: 'selectModel' }) }),
    // teacher forcing from this image (paper Fig. 8): the host checks the model has a generator
    fromImage && two
      ? button('Generate with detail tokens', {
          testid: 'generate-from-detail',
          title: "Open the Generate view with this image's detail tokens kept at every scale (the semantic ones are sampled)",
          onClick: () => request({ type: 'generateFrom', force: 'detail' }),
        })
      : null,
    fromImage && two
      ? button('… semantic tokens', {
          testid: 'generate-from-semantic',
          title: "Open the Generate view with this image's semantic tokens kept at every scale (the detail ones are sampled)",
          onClick: () => request({ type: 'generateFrom', force: 'semantic' }),
        })
      : null,
    fromImage ? swapButton(two, ins.model.name, request) : null,
    fmt.element,
    exp,
  );
}

/** Swap needs two branches: with one, the button stays (disabled) and says why. */
function swapButton(two: boolean, model: string, request: (r: Request) => void): HTMLElement {
  const b = button('Swap branches with…', {
    testid: 'swap-branches',
    title: two
      ? "Decode this image's detail tokens with another image's semantic tokens, and the reverse (asks for the other image)"
      : `Swapping branches needs a model with a detail and a semantic branch; "${model}" has one branch.`,
    onClick: () => request({ type: 'swapWith' }),
  });
  setDisabled(b, !two);
  return b;
}

/** Notes about this image (and a provider the user named but did not get); provider details are folded away. */
export function notes(ins: Pick<InspectionHead, 'notes'>): HTMLElement {
  const el = h('ul', { class: 'notes', testid: 'notes' }, ...ins.notes.map((t) => h('li', {}, t)));
  el.hidden = ins.notes.length === 0;
  return el;
}

/**
 * One folded line about the execution provider: which one runs and, unfolded, why (`auto`'s
 * measurement or the only provider that can run) and why each other provider was passed over.
 * A CPU-only user sees one quiet line, not the GPU providers' reasons on every inspection.
 */
export function providerDetails(ins: Pick<InspectionHead, 'provider'>): HTMLElement {
  const r = ins.provider;
  const used = [...new Set(Object.values(r.chosen))].join('+') || 'n/a';
  const lines = [
    ...(r.choice ? [`${r.choice.reason}${r.choice.cached ? ' (measured earlier on this machine)' : ''}`] : []),
    ...r.skipped.map((s) => `${s.provider} not used: ${s.reason}`),
  ];
  const el = h(
    'details',
    { class: 'provider-details', testid: 'provider-details' },
    h('summary', {}, `Runs on ${used}${lines.length > 0 ? ': why' : ''}`),
    h('ul', {}, ...lines.map((t) => h('li', {}, t))),
  );
  el.hidden = lines.length === 0;
  return el;
}
