// The ONLY module that touches @vscode/webview-ui-toolkit (deprecated upstream: replacing it, e.g.
// with @vscode-elements/elements or plain elements, must only change this file). Everything else
// asks for controls through these factories and treats them as plain HTMLElements.
// CSP notes: FAST reads the nonce for its one <style> probe from <meta property="csp-nonce">
// (html.ts emits it); components whose templates use inline style attributes (badge, determinate
// progress ring) are not used.

import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeProgressRing,
} from '@vscode/webview-ui-toolkit';

let registered = false;

export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeButton(),
    vsCodeDivider(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodeProgressRing(),
  );
}

export interface ButtonOptions {
  testid: string;
  title?: string;
  appearance?: 'primary' | 'secondary' | 'icon';
  ariaLabel?: string;
  onClick: () => void;
}

export function button(label: string, o: ButtonOptions): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  b.dataset.testid = o.testid;
  b.setAttribute('appearance', o.appearance ?? 'secondary');
  if (o.title) b.title = o.title;
  b.setAttribute('aria-label', o.ariaLabel ?? o.title ?? label);
  b.addEventListener('click', () => {
    if (!isDisabled(b)) o.onClick();
  });
  return b;
}

export function setDisabled(el: HTMLElement, disabled: boolean): void {
  el.toggleAttribute('disabled', disabled);
}

export function isDisabled(el: HTMLElement): boolean {
  return el.hasAttribute('disabled');
}

export interface DropdownHandle {
  element: HTMLElement;
  value(): string;
}

export function dropdown(options: { value: string; label: string }[], testid: string, ariaLabel: string): DropdownHandle {
  const d = document.createElement('vscode-dropdown');
  d.dataset.testid = testid;
  d.setAttribute('aria-label', ariaLabel);
  for (const o of options) {
    const opt = document.createElement('vscode-option');
    opt.setAttribute('value', o.value);
    opt.textContent = o.label;
    d.appendChild(opt);
  }
  return {
    element: d,
    value: () => (d as HTMLElement & { value?: string }).value || options[0].value,
  };
}

export function divider(): HTMLElement {
  const d = document.createElement('vscode-divider');
  d.setAttribute('role', 'separator');
  return d;
}

/** A plain styled span: the toolkit's <vscode-badge> sets an inline style attribute in its shadow
 * template, which the strict CSP (no 'unsafe-inline' styles) blocks. */
export function badge(text: string, testid?: string): HTMLElement {
  const b = document.createElement('span');
  b.className = 'badge';
  b.textContent = text;
  if (testid) b.dataset.testid = testid;
  return b;
}

export function progressRing(): HTMLElement {
  const r = document.createElement('vscode-progress-ring');
  r.setAttribute('aria-label', 'Working');
  return r;
}
