// Keeps generated samples' tokens in the workspace's storage so their inspector panels come back
// after a window reload. The webview state only holds an opaque id: the tokens and the model folder
// stay on the host side (a webview never names a model folder).

import type { TokenSource } from '../backend';

/** The slice of vscode.Memento this needs (tests pass a Map-backed one). */
export interface KeyValueStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

export interface StoredSample {
  tokens: TokenSource;
  /** the folder and file-name stem its exports are offered under */
  exportPath: string;
}

const KEY = 'imagefolderInspector.generatedInspectors';
/** Entries older than the newest MAX_KEPT are dropped: stale ones only cost a few kB each. */
export const MAX_KEPT = 16;

type Stored = [id: string, sample: StoredSample][];

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

/** Workspace storage is ours, but a downgrade or a hand edit could leave anything there. */
function isStoredSample(v: unknown): v is StoredSample {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as { tokens?: Partial<TokenSource>; exportPath?: unknown };
  const t = s.tokens;
  return (
    typeof s.exportPath === 'string' &&
    typeof t === 'object' &&
    t !== null &&
    typeof t.modelDir === 'string' &&
    typeof t.name === 'string' &&
    isStringArray(t.notes) &&
    Array.isArray(t.tokens) &&
    t.tokens.every((row) => Array.isArray(row) && row.every((x) => Number.isInteger(x)))
  );
}

export class GeneratedStore {
  constructor(private readonly store: KeyValueStore) {}

  private entries(): Stored {
    const raw = this.store.get<unknown>(KEY);
    if (!Array.isArray(raw)) return [];
    return raw.filter((e): e is Stored[number] => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && isStoredSample(e[1]));
  }

  async remember(id: string, sample: StoredSample): Promise<void> {
    const kept = this.entries().filter(([k]) => k !== id);
    kept.push([id, sample]);
    await this.store.update(KEY, kept.slice(-MAX_KEPT));
  }

  recall(id: string): StoredSample | undefined {
    return this.entries().find(([k]) => k === id)?.[1];
  }

  async forget(id: string): Promise<void> {
    const all = this.entries();
    const kept = all.filter(([k]) => k !== id);
    if (kept.length !== all.length) await this.store.update(KEY, kept);
  }
}
