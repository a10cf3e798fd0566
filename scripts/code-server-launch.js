#!/usr/bin/env node
// Runs code-server in this one process:
//   node scripts/code-server-launch.js <path to node_modules/code-server> [code-server arguments...]
// code-server's own entry.js spawns a child process and gives it 10 s to answer a handshake; on a
// small machine busy with other work the child can take longer and code-server exits with
// "error timed out". This launcher does what the child does (parse arguments, read the config file,
// start the server) without the parent/child pair. Used by the e2e harness and `npm start`.
'use strict';
const path = require('node:path');

const root = process.argv[2];
if (!root) {
  console.error('usage: code-server-launch.js <code-server package dir> [args...]');
  process.exit(2);
}
const cli = require(path.join(root, 'out', 'node', 'cli'));
const main = require(path.join(root, 'out', 'node', 'main'));

(async () => {
  const cliArgs = cli.parse(process.argv.slice(3));
  const configArgs = await cli.readConfigFile(cliArgs.config);
  const args = await cli.setDefaults(cliArgs, configArgs);
  const server = await main.runCodeServer(args);
  const stop = () => {
    Promise.resolve(server.dispose()).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
})().catch((e) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});
