// Command-line parsing: node's util.parseArgs in strict mode, with every mistake turned into a
// UserError (exit code 2, one line) instead of a TypeError with a stack.

import { parseArgs } from 'node:util';
import { DEFAULT_PIXEL_LIMIT, PROVIDERS, UserError, type BranchSelection, type ProviderSetting, type ResizeMode } from '../core';
import { GENERATE_OPTIONS, parseGenerateOptions, type GenerateCliOptions } from './generateArgs';
import { COMMANDS, COMMAND_SPECS, GLOBAL_OPTIONS, IMAGE_OPTION_NAMES, type Command } from './help';

export { COMMANDS, type Command };

export interface CliArgs {
  command: Command | 'help' | 'version';
  /** for 'help': the command whose help to print (general help when absent) */
  helpFor?: Command;
  positionals: string[];
  /** the options given on the command line (the others have their defaults) */
  given: ReadonlySet<string>;
  json: boolean;
  model?: string;
  provider: ProviderSetting;
  threads?: number;
  resize: ResizeMode;
  background: string;
  pixelLimit: number;
  scales?: number;
  branch: BranchSelection;
  out?: string;
  /** generate's options (command 'generate' only) */
  generate?: GenerateCliOptions;
}

/** parseArgs' table: every option of every command (help.ts says which command takes which). */
export const CLI_OPTIONS = {
  json: { type: 'boolean' },
  model: { type: 'string' },
  provider: { type: 'string' },
  threads: { type: 'string' },
  resize: { type: 'string' },
  background: { type: 'string' },
  'max-mp': { type: 'string' },
  scales: { type: 'string' },
  branch: { type: 'string' },
  out: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  ...GENERATE_OPTIONS,
} as const;

function bad(message: string): UserError {
  return new UserError('BAD_ARGUMENT', message);
}

function positiveNumber(name: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw bad(`--${name} must be a positive ${integer ? 'integer' : 'number'} (got '${v}')`);
  }
  return n;
}

/** --scales: an integer here; its range (1 to the model's number of scales) is checked once the model is known. */
function integer(name: string, v: string | undefined, range: string): number | undefined {
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isInteger(n)) throw bad(`--${name} must be an integer ${range} (got '${v}')`);
  return n;
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) throw bad(`--${name} must be one of ${allowed.join('|')} (got '${v}')`);
  return v as T;
}

/**
 * `--scales -1`: parseArgs takes a value starting with '-' for an option and calls it "ambiguous".
 * A negative number is a value (whose range is then checked and explained), so it is joined to
 * its option as `--scales=-1`.
 */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)$/.exec(argv[i]);
    const spec = m ? (CLI_OPTIONS as Record<string, { type: string }>)[m[1]] : undefined;
    if (spec?.type === 'string' && i + 1 < argv.length && /^-(\d|\.\d|Infinity)/.test(argv[i + 1])) {
      out.push(`${argv[i]}=${argv[i + 1]}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

export function parseCli(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv), options: CLI_OPTIONS, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw bad((e as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, ''));
  }
  const v = parsed.values;
  const given = new Set(parsed.tokens.flatMap((t) => (t.kind === 'option' ? [t.name] : [])));
  const [first, ...rest] = parsed.positionals;
  const isCommand = (c: string | undefined): c is Command => c !== undefined && (COMMANDS as readonly string[]).includes(c);
  if (v.version) return { ...defaults(rest, given), command: 'version' };
  if (v.help || first === undefined || first === 'help') {
    const of = first === 'help' ? rest[0] : first;
    return { ...defaults(rest, given), command: 'help', helpFor: isCommand(of) ? of : undefined };
  }
  if (!isCommand(first)) throw bad(`unknown command '${first}' (expected ${COMMANDS.join(', ')})`);
  // Every option a command does not use is refused, so none is accepted and then silently ignored.
  const allowed = new Set<string>([...GLOBAL_OPTIONS, ...COMMAND_SPECS[first].options]);
  for (const o of given) {
    if (!allowed.has(o)) {
      const hint = o === 'out' ? ': it prints to stdout (redirect it: --json > FILE)' : '';
      throw bad(`${first} does not take --${o}${hint} (its options: imagefolder-inspector ${first} --help)`);
    }
  }
  const args: CliArgs = {
    ...defaults(rest, given),
    command: first,
    json: v.json ?? false,
    model: v.model,
    provider: oneOf<ProviderSetting>('provider', v.provider, ['auto', ...PROVIDERS], 'auto'),
    threads: positiveNumber('threads', v.threads, true),
    resize: oneOf<ResizeMode>('resize', v.resize, ['crop', 'letterbox'], 'crop'),
    background: v.background ?? '#ffffff',
    pixelLimit: Math.round((positiveNumber('max-mp', v['max-mp'], false) ?? DEFAULT_PIXEL_LIMIT / 1e6) * 1e6),
    scales: integer('scales', v.scales, "from 1 to the model's number of scales (10 for the built-in model)"),
    branch: oneOf<BranchSelection>('branch', v.branch, ['both', 'detail', 'semantic'], 'both'),
    out: v.out,
  };
  switch (args.command) {
    case 'tokenize':
      if (rest.length === 0) throw bad('tokenize needs at least one image');
      break;
    case 'reconstruct':
      if (rest.length !== 1) throw bad('reconstruct needs exactly one image or token file');
      if (args.scales === undefined) throw bad('reconstruct needs --scales K');
      if (!args.out) throw bad('reconstruct needs --out FILE.png');
      break;
    case 'sheet':
      if (rest.length !== 1) throw bad('sheet needs exactly one image or token file');
      if (!args.out) throw bad('sheet needs --out FILE.png');
      break;
    case 'swap':
      if (rest.length !== 2) throw bad(`swap needs exactly two images (got ${rest.length})`);
      if (!args.out) throw bad('swap needs --out FILE.png');
      break;
    case 'stats':
      if (rest.length !== 1) throw bad('stats needs exactly one folder');
      break;
    case 'info':
      if (rest.length !== 0) throw bad(`info takes no arguments (got '${rest[0]}')`);
      break;
    case 'generate':
      if (rest.length !== 0) throw bad(`generate takes no positional arguments (got '${rest[0]}')`);
      args.generate = parseGenerateOptions(v);
      if (!args.generate.listClasses && !args.out) throw bad('generate needs --out FILE.png');
      break;
  }
  return args;
}

/** Image options given where no image is read (a token file, say) would be silently ignored: refused. */
export function refuseImageOptions(a: CliArgs, why: string): void {
  const o = IMAGE_OPTION_NAMES.find((n) => a.given.has(n));
  if (o) throw bad(`--${o} does not apply: ${why}`);
}

function defaults(positionals: string[], given: ReadonlySet<string>): Omit<CliArgs, 'command'> {
  return { positionals, given, json: false, provider: 'auto', resize: 'crop', background: '#ffffff', pixelLimit: DEFAULT_PIXEL_LIMIT, branch: 'both' };
}
