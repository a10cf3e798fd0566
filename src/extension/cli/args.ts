// Command-line parsing: node's util.parseArgs in strict mode, with every mistake turned into a
// UserError (exit code 2, one line) instead of a TypeError with a stack.

import { parseArgs } from 'node:util';
import { UserError } from '../core/errors';
import { PROVIDERS } from '../core/providers';
import type { BranchSelection, ProviderSetting, ResizeMode } from '../../shared/types';
import { GENERATE_OPTIONS, GENERATE_USAGE, parseGenerateOptions, type GenerateCliOptions } from './generateArgs';

export const COMMANDS = ['tokenize', 'reconstruct', 'sheet', 'swap', 'stats', 'info', 'generate'] as const;
export type Command = (typeof COMMANDS)[number];

export interface CliArgs {
  command: Command | 'help' | 'version';
  positionals: string[];
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

export const USAGE = `usage: imagefolder-inspector <command> [options]

commands:
  tokenize <image...> [--json]       indices, PSNR/SSIM per scale and code usage of each image
  reconstruct <image | FILE.tokens.json> --scales K --out FILE.png [--branch detail|semantic|both]
                                     decode from the first K scales (of an image, or of
                                     tokens the extension saved)
  sheet <image | FILE.tokens.json> --out FILE.png
                                     contact sheet: the input, every scale's reconstruction
                                     and contribution, both branch ablations
  swap <imageA> <imageB> --out FILE.png
                                     2x2 sheet: A and B decoded, then A's detail tokens with
                                     B's semantic tokens, and B's detail with A's semantic
  stats <folder> [--json]            code usage over every image in a folder (and subfolders)
  info [--json]                      model, graphs, execution providers available and chosen
${GENERATE_USAGE}

options:
  --model DIR              model package folder (default: the built-in model)
  --provider P             auto|cpu|cuda|dml|coreml|webgpu (default auto)
  --threads N              inference threads (default: one per core)
  --resize crop|letterbox  how non-square images are fitted (default crop)
  --background COLOUR      behind transparency and letterbox bars (default #ffffff)
  --max-mp N               refuse images over N megapixels (default 100)
  -h, --help, --version

exit status: 0 success, 2 bad input (reason on stderr), 1 internal error`;

const options = {
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

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v)) throw bad(`--${name} must be one of ${allowed.join('|')} (got '${v}')`);
  return v as T;
}

export function parseCli(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw bad((e as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, ''));
  }
  const v = parsed.values;
  const [first, ...rest] = parsed.positionals;
  const base = {
    positionals: rest,
    json: v.json ?? false,
    model: v.model,
    provider: oneOf<ProviderSetting>('provider', v.provider, ['auto', ...PROVIDERS], 'auto'),
    threads: positiveNumber('threads', v.threads, true),
    resize: oneOf<ResizeMode>('resize', v.resize, ['crop', 'letterbox'], 'crop'),
    background: v.background ?? '#ffffff',
    pixelLimit: Math.round((positiveNumber('max-mp', v['max-mp'], false) ?? 100) * 1e6),
    scales: positiveNumber('scales', v.scales, true),
    branch: oneOf<BranchSelection>('branch', v.branch, ['both', 'detail', 'semantic'], 'both'),
    out: v.out,
  };
  if (v.version) return { ...base, command: 'version' };
  if (v.help || first === undefined || first === 'help') return { ...base, command: 'help' };
  if (!(COMMANDS as readonly string[]).includes(first)) throw bad(`unknown command '${first}' (expected ${COMMANDS.join(', ')})`);
  const args: CliArgs = { ...base, command: first as Command };
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
      if (!args.out) throw bad('generate needs --out FILE.png');
      break;
  }
  return args;
}
