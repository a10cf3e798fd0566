// What every message of the host <-> webview protocol shares: the version, the size limits, and the
// small checks the validators of each view (inspector.ts, generate.ts, messages.ts) are built from.
// Imports nothing.

export const PROTOCOL_VERSION = 1;

/** Upper bound for any message from the webview, measured as JSON length. Real ones are < 1 KB. */
export const MAX_WEBVIEW_MESSAGE_CHARS = 16 * 1024;
export const MAX_REQUEST_ID = 2 ** 31 - 1;
export const MAX_SCALES = 64;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export type Obj = Record<string, unknown>;

export function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

export function hasExactKeys(o: Obj, required: readonly string[], optional: readonly string[] = []): string | null {
  const keys = Object.keys(o);
  for (const k of required) if (!Object.prototype.hasOwnProperty.call(o, k)) return `missing "${k}"`;
  for (const k of keys) if (!required.includes(k) && !optional.includes(k)) return `unexpected key "${short(k)}"`;
  return null;
}

export function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

export function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export function short(s: string, n = 40): string {
  return s.length > n ? `${s.slice(0, n)}...` : s;
}

export function fail<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

/** Approximate JSON size without serialising hostile cyclic or huge structures in full. */
export function boundedJsonLength(v: unknown, limit: number): number {
  let total = 0;
  const stack: unknown[] = [v];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const x = stack.pop();
    if (total > limit) return total;
    if (typeof x === 'string') total += x.length + 2;
    else if (typeof x === 'number' || typeof x === 'boolean' || x === null || x === undefined) total += 5;
    else if (typeof x === 'object') {
      if (seen.has(x)) return Infinity;
      seen.add(x);
      if (Array.isArray(x)) {
        total += 2 + x.length;
        if (x.length > limit) return Infinity;
        for (const e of x) stack.push(e);
      } else {
        let keys: string[];
        try {
          keys = Object.keys(x);
        } catch {
          return Infinity;
        }
        if (keys.length > limit) return Infinity;
        for (const k of keys) {
          total += k.length + 4;
          let val: unknown;
          try {
            val = (x as Obj)[k];
          } catch {
            return Infinity;
          }
          stack.push(val);
        }
      }
    } else return Infinity; // functions, symbols, bigint: never valid
  }
  return total;
}
