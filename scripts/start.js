#!/usr/bin/env node
// `npm start`: builds the extension and opens it on the sample images in samples/.
//   - desktop VS Code (`code --extensionDevelopmentPath=<repo> samples/`) when `code` is on PATH;
//   - otherwise code-server 4.100.3 (installed into the tools cache by scripts/install-code-server.sh
//     if needed) at a printed http://127.0.0.1:PORT/ URL; Ctrl+C stops it.
// Environment: IMAGEFOLDER_START=code-server forces code-server; PORT picks its port (default: the
// first free one from 8080).
'use strict';
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { linePrefixer, mergeSettings } = require('./start-lib');

const REPO = path.resolve(__dirname, '..');
const SAMPLES = path.join(REPO, 'samples');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));

function log(m) {
  console.log(`[start] ${m}`);
}

function onPath(cmd) {
  const r = spawnSync(process.platform === 'win32' ? 'where' : 'which', [cmd], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split(/\r?\n/)[0].trim() : undefined;
}

function freePort(from) {
  return new Promise((resolve, reject) => {
    const tryPort = (p) => {
      if (p > from + 100) return reject(new Error(`no free port in ${from}-${from + 100}`));
      const s = net.createServer();
      s.once('error', () => tryPort(p + 1));
      s.listen(p, '127.0.0.1', () => s.close(() => resolve(p)));
    };
    tryPort(from);
  });
}

async function main() {
  log('building the extension (npm run build)');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'inherit', shell: process.platform === 'win32' });

  const code = process.env.IMAGEFOLDER_START === 'code-server' ? undefined : onPath('code');
  // code-server's own terminal puts a `code` shim for its remote CLI on PATH: that one opens files
  // in the running code-server and cannot load a development extension, so treat it as absent.
  if (code && !process.env.VSCODE_IPC_HOOK_CLI) {
    log(`opening desktop VS Code: ${code} --extensionDevelopmentPath=${REPO} ${SAMPLES}`);
    const child = spawn(code, ['--new-window', `--extensionDevelopmentPath=${REPO}`, SAMPLES], {
      stdio: 'inherit',
      detached: true,
      shell: process.platform === 'win32',
    });
    child.unref();
    log('right-click an image in the Explorer > "Tokenize Image"');
    return;
  }

  if (process.platform === 'win32') throw new Error('`code` is not on PATH; install VS Code (code-server is set up on Linux/macOS only)');
  log('`code` is not on PATH: using code-server');
  const entry = execFileSync('bash', [path.join(REPO, 'scripts', 'install-code-server.sh')], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n')
    .pop();

  // Persistent profile for npm start (kept between runs), with the repository linked in as the
  // installed extension so a rebuild + window reload picks up changes.
  const base = path.join(process.env.IMAGEFOLDER_TOOLS ? path.dirname(process.env.IMAGEFOLDER_TOOLS) : path.join(os.homedir(), '.cache', 'imagefolder-inspector'), 'start');
  const userData = path.join(base, 'user-data');
  const extensions = path.join(base, 'extensions');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.mkdirSync(extensions, { recursive: true });
  const settings = path.join(userData, 'User', 'settings.json');
  const merged = mergeSettings(fs.existsSync(settings) ? fs.readFileSync(settings, 'utf8') : undefined);
  if (merged) fs.writeFileSync(settings, merged);
  const prefix = `${pkg.publisher}.${pkg.name}-`.toLowerCase();
  for (const d of fs.readdirSync(extensions)) if (d.toLowerCase().startsWith(prefix)) fs.rmSync(path.join(extensions, d), { recursive: true, force: true });
  fs.symlinkSync(REPO, path.join(extensions, `${pkg.publisher}.${pkg.name}-${pkg.version}`), 'dir');
  // the extensions manifest of an earlier run may name another version: let code-server rescan
  fs.rmSync(path.join(extensions, 'extensions.json'), { force: true });

  const port = process.env.PORT ? Number(process.env.PORT) : await freePort(8080);
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(SAMPLES)}`;
  const server = spawn(
    process.execPath,
    [path.join(__dirname, 'code-server-launch.js'), path.resolve(path.dirname(entry), '..', '..'), '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--config', path.join(base, 'config.yaml'), '--user-data-dir', userData, '--extensions-dir', extensions, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', SAMPLES],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let shown = false;
  // one prefixer per stream: a line half-written on stdout must not take in stderr's text
  const streams = [server.stdout, server.stderr].map((stream) => {
    const lines = linePrefixer('[code-server] ', (line) => process.stderr.write(line));
    stream.on('data', (d) => onData(d, lines));
    return lines;
  });
  function onData(d, lines) {
    const text = d.toString();
    lines.push(text);
    if (!shown && /HTTP server listening/.test(text)) {
      shown = true;
      console.log(`\n  ImageFolder Inspector is running in code-server (VS Code ${'1.100.3'}):\n\n    ${url}\n\n  Open it in a browser, right-click an image in the Explorer > "Tokenize Image". Ctrl+C stops it.\n`);
    }
  }
  const stop = () => server.kill('SIGTERM');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  server.on('exit', (c, s) => {
    for (const lines of streams) lines.flush();
    process.exit(c ?? (s ? 0 : 1));
  });
}

main().catch((e) => {
  console.error(`[start] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
