// The CLI's commands and options in one table: which options each command takes (args.ts refuses
// the others, so no option is parsed and then silently ignored) and the help text, for the
// general `--help` and for `COMMAND --help`.

import { DEFAULT_PIXEL_LIMIT, MAX_CFG, MAX_GENERATE_COUNT, MAX_TEMPERATURE, MAX_TOP_K } from '../core';

export const COMMANDS = ['tokenize', 'reconstruct', 'sheet', 'swap', 'stats', 'info', 'generate'] as const;
export type Command = (typeof COMMANDS)[number];

/** Options every command takes. */
export const GLOBAL_OPTIONS = ['model', 'provider', 'threads', 'help'] as const;
/** How an image is read: only for commands that read images. */
const IMAGE_OPTIONS = ['resize', 'background', 'max-mp'] as const;
const GENERATE_ONLY = ['class', 'list-classes', 'seed', 'cfg', 'top-k', 'top-p', 'temperature', 'count', 'force-detail', 'force-semantic', 'joint'] as const;
export const IMAGE_OPTION_NAMES: readonly string[] = IMAGE_OPTIONS;

export const OPTION_HELP: Record<string, string> = {
  json: '--json                   print JSON on stdout, one line per result',
  out: '-o, --out FILE.png       the PNG to write (nothing else is written)',
  scales: "--scales K               decode from the first K scales: 1 to the model's number of scales (10 for the built-in model)",
  branch: '--branch B               detail|semantic|both (default both)',
  resize: '--resize crop|letterbox  how non-square images are fitted (default crop)',
  background: '--background COLOUR      behind transparency and letterbox bars (default #ffffff)',
  'max-mp': `--max-mp N               refuse images over N megapixels (default ${DEFAULT_PIXEL_LIMIT / 1e6})`,
  model: '--model DIR              model package folder (default: the built-in model)',
  provider: '--provider P             auto|cpu|cuda|dml|coreml|webgpu (default auto)',
  threads: '--threads N              inference threads, a positive integer (default: one per core)',
  help: "-h, --help               this help (after a command: that command's help)",
  class: "--class NAME             the class to sample (see --list-classes; case-insensitive)",
  'list-classes': "--list-classes           print the model's classes, one per line (--json: an array), and exit",
  seed: '--seed N                 random seed, an integer >= 0 (default 0)',
  cfg: `--cfg X                  classifier-free guidance scale, 0 to ${MAX_CFG} (default: the model's recommendation)`,
  'top-k': `--top-k K                keep the K most likely codes, an integer 0 to ${MAX_TOP_K}, 0 = all (default: the model's)`,
  'top-p': "--top-p P                nucleus sampling, > 0 and <= 1 (default: the model's)",
  temperature: `--temperature T          > 0 and <= ${MAX_TEMPERATURE} (default: the model's)`,
  count: `--count C                samples, 1 to ${MAX_GENERATE_COUNT}, in a grid (default 1)`,
  'force-detail': "--force-detail IMAGE     keep IMAGE's detail tokens at every scale (teacher forcing)",
  'force-semantic': "--force-semantic IMAGE   keep IMAGE's semantic tokens at every scale",
  joint: '--joint                  experimental: top-k/top-p over (detail, semantic) pairs',
};

export interface CommandSpec {
  usage: string;
  summary: string;
  /** the options it takes besides GLOBAL_OPTIONS */
  options: readonly string[];
}

export const COMMAND_SPECS: Record<Command, CommandSpec> = {
  tokenize: { usage: 'tokenize <image...> [--json]', summary: 'indices, PSNR/SSIM per scale and code usage of each image', options: ['json', ...IMAGE_OPTIONS] },
  reconstruct: {
    usage: 'reconstruct <image | FILE.tokens.json> --scales K --out FILE.png [--branch detail|semantic|both]',
    summary: 'decode from the first K scales (of an image, or of tokens the extension saved)',
    options: ['scales', 'branch', 'out', ...IMAGE_OPTIONS],
  },
  sheet: {
    usage: 'sheet <image | FILE.tokens.json> --out FILE.png',
    summary: "contact sheet: the input, every scale's reconstruction and contribution, both branch ablations",
    options: ['out', ...IMAGE_OPTIONS],
  },
  swap: {
    usage: 'swap <imageA> <imageB> --out FILE.png',
    summary: "2x2 sheet: A and B decoded, then A's detail tokens with B's semantic tokens, and B's detail with A's semantic",
    options: ['out', ...IMAGE_OPTIONS],
  },
  stats: { usage: 'stats <folder> [--json]', summary: 'code usage over every image in a folder (and subfolders)', options: ['json', ...IMAGE_OPTIONS] },
  info: { usage: 'info [--json]', summary: 'model, graphs, execution providers available and chosen', options: ['json'] },
  generate: {
    usage: 'generate --class NAME --out FILE.png [--seed N] [--cfg X] [--top-k K] [--top-p P] [--temperature T] [--count C]\n           [--force-detail IMAGE | --force-semantic IMAGE] [--joint] [--json]\n       generate --list-classes [--json]',
    summary: 'class-conditional samples (a grid when C > 1); --json prints the settings and every sample\'s tokens',
    options: ['out', 'json', ...GENERATE_ONLY, ...IMAGE_OPTIONS],
  },
};

export const EXIT_STATUS = `exit status (every command): 0 every input read and every output written; 2 bad input: a bad
  argument, or an input that cannot be read (one line on stderr naming it; the other inputs are still
  processed); 1 internal error`;

const PROG = 'imagefolder-inspector';
const indent = (s: string, n: number) => s.split('\n').map((l) => ' '.repeat(n) + l).join('\n');

export function generalHelp(): string {
  const cmds = COMMANDS.map((c) => `${indent(COMMAND_SPECS[c].usage, 2)}\n${indent(COMMAND_SPECS[c].summary, 6)}`).join('\n');
  return `usage: ${PROG} <command> [options]   (${PROG} <command> --help: its options)

commands:
${cmds}

options of every command:
${GLOBAL_OPTIONS.map((o) => indent(OPTION_HELP[o], 2)).join('\n')}
  --version

${EXIT_STATUS}`;
}

export function commandHelp(c: Command): string {
  const s = COMMAND_SPECS[c];
  return `usage: ${PROG} ${s.usage}

${s.summary}

options:
${[...s.options, ...GLOBAL_OPTIONS].map((o) => indent(OPTION_HELP[o], 2)).join('\n')}

${EXIT_STATUS}`;
}
