// Turns runtime errors into actionable notification text (no `vscode` import).

import { isCancellation } from './backend';

export type ErrorAction = 'Show Log' | 'Select Model' | 'Open Settings';

export interface DescribedError {
  message: string;
  code: string;
  actions: ErrorAction[];
  /** true for problems the user can fix (bad image, bad model); false for bugs */
  user: boolean;
  cancelled: boolean;
}

function codeOf(e: unknown): string {
  if (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string') {
    return (e as { code: string }).code;
  }
  return 'INTERNAL';
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  return 'unknown error';
}

/** Drops a leading "<file>: " (or "<path>/<file>: ") from a runtime message already named by the subject. */
export function stripFilePrefix(msg: string, file: string | undefined): string {
  if (!file) return msg;
  const i = msg.indexOf(`${file}: `);
  if (i < 0) return msg;
  const before = msg.slice(0, i);
  if (before !== '' && !/[\\/]$/.test(before)) return msg;
  return msg.slice(i + file.length + 2);
}

export function describeError(e: unknown, subject: string, file?: string): DescribedError {
  if (isCancellation(e)) {
    return { message: `${subject}: cancelled.`, code: 'CANCELLED', actions: [], user: true, cancelled: true };
  }
  const code = codeOf(e);
  const msg = stripFilePrefix(messageOf(e).replace(/\s+/g, ' ').trim(), file).slice(0, 500);
  const user = (e as { name?: unknown } | null)?.name === 'UserError' || code !== 'INTERNAL';
  let hint = '';
  let actions: ErrorAction[] = ['Show Log'];
  if (code.startsWith('MODEL_')) {
    hint = ' Choose another model with "ImageFolder: Select Model", or clear imagefolderInspector.modelPath to use the built-in model.';
    actions = ['Select Model', 'Open Settings', 'Show Log'];
  } else if (code === 'IMAGE_TOO_LARGE') {
    hint = ' Raise imagefolderInspector.pixelLimit if you trust this image.';
    actions = ['Open Settings', 'Show Log'];
  } else if (code.startsWith('IMAGE_')) {
    hint = ' Check that the file is a complete PNG, JPEG, WebP, AVIF, GIF, TIFF or SVG image.';
  } else if (code === 'PROVIDER_UNAVAILABLE') {
    hint = ' Set imagefolderInspector.provider to "auto" or "cpu".';
    actions = ['Open Settings', 'Show Log'];
  } else if (!user) {
    hint = ' This looks like a bug; details are in the "ImageFolder" output channel.';
  }
  return { message: `${subject}: ${msg}${msg.endsWith('.') ? '' : '.'}${hint}`, code, actions, user, cancelled: false };
}
