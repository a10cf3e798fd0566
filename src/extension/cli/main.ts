// CLI entry: picks the model, runs a command, maps errors to exit codes
// (0 ok, 2 bad input with a one-line reason, 1 internal error).

import * as path from 'node:path';
import { COMMANDS, parseCli, type CliArgs } from './args';
import { commandHelp, generalHelp } from './help';
import { errorLine } from './errorLine';
import { info, reconstruct, sheet, stats, swap, tokenize } from './commands';
import { generateCommand } from './generate';
import type { Io } from './io';
import { builtInModelDir, defaultChoiceCacheFile, fileChoiceCache, isUserError, ModelRuntime } from '../core';

declare const CLI_VERSION: string | undefined;

/** The package root: dist/cli.js -> .. ; when run from sources or tests, the caller passes it. */
export function defaultRoot(): string {
  return path.resolve(__dirname, '..');
}

export async function runCli(argv: string[], io: Io, root = defaultRoot()): Promise<number> {
  let runtime: ModelRuntime | undefined;
  try {
    const a: CliArgs = parseCli(argv);
    if (a.command === 'help') {
      io.out(a.helpFor ? commandHelp(a.helpFor) : generalHelp());
      return 0;
    }
    if (a.command === 'version') {
      io.out(typeof CLI_VERSION === 'string' ? CLI_VERSION : 'dev');
      return 0;
    }
    // `auto`'s measured choice is remembered in a file under the user's cache folder (README "GPU notes")
    const choiceCache = fileChoiceCache(defaultChoiceCacheFile());
    runtime = await ModelRuntime.load(a.model ?? builtInModelDir(root), { provider: a.provider, threads: a.threads, builtIn: a.model === undefined, choiceCache });
    const run = { tokenize, reconstruct, sheet, swap, stats, info, generate: generateCommand }[a.command];
    return await run(runtime, a, io);
  } catch (e) {
    if (isUserError(e)) {
      io.err(errorLine(e.message));
      return 2;
    }
    io.err(errorLine(`internal error: ${(e as Error).message ?? String(e)}`));
    if (process.env.IMAGEFOLDER_DEBUG) io.err(String((e as Error).stack));
    else io.err('(set IMAGEFOLDER_DEBUG=1 for details)');
    return 1;
  } finally {
    await runtime?.dispose();
  }
}

export { COMMANDS };
