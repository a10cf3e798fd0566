#!/usr/bin/env node
// Bundled to dist/cli.js (package.json bin: imagefolder-inspector).

import { runCli } from './main';

// A closed pipe (`... | head`) is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
});

runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  errIsTty: Boolean(process.stderr.isTTY),
  writeErrRaw: (text) => process.stderr.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`imagefolder-inspector: internal error: ${(e as Error)?.message ?? e}\n`);
    process.exitCode = 1;
  },
);
