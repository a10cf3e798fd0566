// The options only `generate` takes: their parseArgs table (merged into args.ts's), usage lines and
// checks. Kept apart from generate.ts so that args.ts does not import the command it parses for.

import { MAX_CFG, MAX_GENERATE_COUNT, MAX_GENERATE_SEED, MAX_TEMPERATURE, MAX_TOP_K, UserError } from '../core';

export interface GenerateCliOptions {
  className?: string;
  seed: number;
  cfg?: number;
  topK?: number;
  topP?: number;
  temperature?: number;
  count: number;
  forceDetail?: string;
  forceSemantic?: string;
  /** experiment: joint top-k/top-p over (detail, semantic) pairs */
  joint: boolean;
  /** print the model's classes instead of sampling */
  listClasses: boolean;
}

/** The parseArgs options only `generate` takes (merged into args.ts's table). */
export const GENERATE_OPTIONS = {
  class: { type: 'string' },
  seed: { type: 'string' },
  cfg: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  temperature: { type: 'string' },
  count: { type: 'string' },
  'force-detail': { type: 'string' },
  'force-semantic': { type: 'string' },
  joint: { type: 'boolean' },
  'list-classes': { type: 'boolean' },
} as const;

type Values = Partial<Record<Exclude<keyof typeof GENERATE_OPTIONS, 'joint' | 'list-classes'>, string>> & { joint?: boolean; 'list-classes'?: boolean };

function bad(message: string): UserError {
  return new UserError('BAD_ARGUMENT', message);
}

function num(name: string, v: string | undefined, o: { integer?: boolean; min: number; max?: number; minExclusive?: boolean }): number | undefined {
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? NaN : Number(v);
  const low = o.minExclusive ? n <= o.min : n < o.min;
  if (!Number.isFinite(n) || low || (o.max !== undefined && n > o.max) || (o.integer && !Number.isInteger(n))) {
    const range = `${o.minExclusive ? '>' : '>='} ${o.min}${o.max !== undefined ? ` and <= ${o.max}` : ''}`;
    throw bad(`--${name} must be ${o.integer ? 'an integer' : 'a number'} ${range} (got '${v}')`);
  }
  return n;
}

/** Checks the generate options' syntax and ranges (the class is checked against the model later). */
export function parseGenerateOptions(v: Values): GenerateCliOptions {
  if (v['list-classes']) {
    const other = Object.keys(v).find((k) => k in GENERATE_OPTIONS && k !== 'list-classes' && v[k as keyof Values] !== undefined);
    if (other) throw bad(`--list-classes takes no sampling options (got --${other})`);
    return { seed: 0, count: 1, joint: false, listClasses: true };
  }
  if (v.class === undefined || v.class === '') throw bad('generate needs --class NAME');
  if (v['force-detail'] !== undefined && v['force-semantic'] !== undefined) throw bad('use --force-detail or --force-semantic, not both');
  return {
    className: v.class,
    seed: num('seed', v.seed, { integer: true, min: 0, max: MAX_GENERATE_SEED }) ?? 0,
    cfg: num('cfg', v.cfg, { min: 0, max: MAX_CFG }),
    topK: num('top-k', v['top-k'], { integer: true, min: 0, max: MAX_TOP_K }),
    topP: num('top-p', v['top-p'], { min: 0, max: 1, minExclusive: true }),
    temperature: num('temperature', v.temperature, { min: 0, minExclusive: true, max: MAX_TEMPERATURE }),
    count: num('count', v.count, { integer: true, min: 1, max: MAX_GENERATE_COUNT }) ?? 1,
    forceDetail: v['force-detail'],
    forceSemantic: v['force-semantic'],
    joint: v.joint ?? false,
    listClasses: false,
  };
}
