#!/usr/bin/env node
// Builds a platform-specific VSIX: `npm run package` (this machine's platform) or
//   node scripts/package.mjs --target linux-x64|linux-arm64|darwin-arm64|win32-x64|win32-arm64
//        [--out FILE.vsix] [--no-build] [--allow-missing-model]
//
// The extension's JS is bundled by esbuild (dist/extension.js, dist/webview.js); onnxruntime-node and
// sharp are native N-API modules kept outside the bundle. They are copied with their runtime
// dependencies from node_modules into a staging folder (out/package/<target>/), where the native
// binaries of every other platform are removed (never from the real node_modules), and vsce 3.9
// packages that folder with the whitelist in .vscodeignore. The VSIX is then checked (the target's
// binaries are there, no other platform's are) and its size printed.
//
// Cross-packaging: sharp's binaries for another platform (@img/sharp-<platform>) are not installed
// by npm on this machine; they are fetched with `npm pack` from the registry into a cache.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** VS Code target -> onnxruntime-node bin folder and sharp platform package suffix. */
const TARGETS = {
  'linux-x64': { ort: 'linux/x64', sharp: 'linux-x64', libvips: true },
  'linux-arm64': { ort: 'linux/arm64', sharp: 'linux-arm64', libvips: true },
  'darwin-arm64': { ort: 'darwin/arm64', sharp: 'darwin-arm64', libvips: true },
  'win32-x64': { ort: 'win32/x64', sharp: 'win32-x64', libvips: false },
  'win32-arm64': { ort: 'win32/arm64', sharp: 'win32-arm64', libvips: false },
};
/** Dependencies that esbuild bundles into dist/webview.js: not shipped as node_modules. */
const BUNDLED = new Set(['@vscode/webview-ui-toolkit']);
/** Dependencies only used by a package's install script, not at run time. */
const INSTALL_ONLY = { 'onnxruntime-node': ['adm-zip', 'global-agent'] };
const MODEL_FILES = ['manifest.json', 'encoder.onnx', 'decoder.onnx', 'codebooks.bin'];
const SIZE_GOAL_MB = 60;

function parseArgs(argv) {
  const o = { target: undefined, out: undefined, build: true, allowMissingModel: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--target') o.target = argv[++i];
    else if (a.startsWith('--target=')) o.target = a.slice(9);
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--no-build') o.build = false;
    else if (a === '--allow-missing-model') o.allowMissingModel = true;
    else if (a === '-h' || a === '--help') {
      console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 15).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  o.target ??= `${process.platform}-${process.arch}`;
  if (!TARGETS[o.target]) throw new Error(`unsupported target ${o.target}; supported: ${Object.keys(TARGETS).join(', ')}`);
  return o;
}

const log = (m) => console.log(`[package] ${m}`);

function run(cmd, args, opts = {}) {
  execFileSync(cmd, args, { stdio: 'inherit', cwd: REPO, ...opts });
}

function readJson(f) {
  return JSON.parse(fs.readFileSync(f, 'utf8'));
}

function copy(from, to, filter) {
  fs.cpSync(from, to, { recursive: true, dereference: true, filter });
}

/** Finds an installed package the way Node would from `fromDir` (nested first, then hoisted). */
function findPackage(name, fromDir) {
  for (let d = fromDir; ; d = path.dirname(d)) {
    const p = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(p, 'package.json'))) return p;
    if (d === REPO || d === path.dirname(d)) return undefined;
  }
}

/** Fetches name@version from the npm registry into a cache (for another platform's binaries). */
function fetchPackage(name, version) {
  const cache = path.join(process.env.IMAGEFOLDER_TOOLS || path.join(os.homedir(), '.cache', 'imagefolder-inspector', 'tools'), 'npm-packs');
  const dir = path.join(cache, `${name.replace('/', '+')}@${version}`);
  if (!fs.existsSync(path.join(dir, 'package', 'package.json'))) {
    fs.mkdirSync(dir, { recursive: true });
    log(`npm pack ${name}@${version} (not installed on this platform)`);
    const file = execFileSync('npm', ['pack', `${name}@${version}`, '--silent', '--pack-destination', dir], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop();
    execFileSync('tar', ['-xzf', path.join(dir, file), '-C', dir]);
  }
  return path.join(dir, 'package');
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const t = TARGETS[opts.target];
  const pkg = readJson(path.join(REPO, 'package.json'));
  const out = path.resolve(opts.out ?? path.join(REPO, `${pkg.name}-${pkg.version}-${opts.target}.vsix`));
  const t0 = Date.now();

  if (opts.build) {
    log('building the extension (npm run build)');
    run('npm', ['run', '--silent', 'build']);
  }
  for (const f of ['dist/extension.js', 'dist/webview.js']) {
    if (!fs.existsSync(path.join(REPO, f))) throw new Error(`${f} is missing: run npm run build`);
  }
  const modelDir = path.join(REPO, 'models', 'imagefolder-mini');
  const missingModel = MODEL_FILES.filter((f) => !fs.existsSync(path.join(modelDir, f)));
  if (missingModel.length > 0) {
    const msg = `the built-in model is incomplete (${missingModel.join(', ')} missing in models/imagefolder-mini)`;
    if (!opts.allowMissingModel) throw new Error(`${msg}; pass --allow-missing-model to package anyway`);
    log(`WARNING: ${msg}; the VSIX has no working built-in model`);
  }

  // ---- staging folder
  const stage = path.join(REPO, 'out', 'package', opts.target);
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  const manifest = { ...pkg };
  delete manifest.devDependencies;
  delete manifest.scripts; // no vscode:prepublish: the build ran above
  delete manifest.bin; // the CLI ships through npm, not in the VSIX
  manifest.dependencies = Object.fromEntries(Object.entries(pkg.dependencies ?? {}).filter(([n]) => !BUNDLED.has(n)));
  fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const f of ['README.md', 'CHANGELOG.md', 'LICENSE', 'LICENSE.md', 'ThirdPartyNotices.txt', '.vscodeignore']) {
    if (fs.existsSync(path.join(REPO, f))) fs.copyFileSync(path.join(REPO, f), path.join(stage, f));
  }
  if (!fs.existsSync(path.join(stage, '.vscodeignore'))) throw new Error('.vscodeignore (the whitelist) is missing');
  fs.mkdirSync(path.join(stage, 'dist'));
  for (const f of ['extension.js', 'webview.js']) fs.copyFileSync(path.join(REPO, 'dist', f), path.join(stage, 'dist', f));
  if (fs.existsSync(path.join(REPO, 'media'))) copy(path.join(REPO, 'media'), path.join(stage, 'media'));
  const shots = path.join(REPO, 'docs', 'screenshots');
  if (fs.existsSync(shots)) copy(shots, path.join(stage, 'docs', 'screenshots'));
  if (fs.existsSync(modelDir)) copy(modelDir, path.join(stage, 'models', 'imagefolder-mini'));

  // ---- runtime dependencies (closure), this target's binaries only
  const shipped = new Map(); // name -> version
  const queue = Object.keys(manifest.dependencies).map((name) => ({ name, from: REPO, range: manifest.dependencies[name] }));
  const platformPkgs = [`@img/sharp-${t.sharp}`, ...(t.libvips ? [`@img/sharp-libvips-${t.sharp}`] : [])];
  while (queue.length > 0) {
    const { name, from } = queue.shift();
    if (shipped.has(name)) continue;
    let src = findPackage(name, from);
    let meta = src ? readJson(path.join(src, 'package.json')) : undefined;
    if (!src) throw new Error(`dependency ${name} is not installed (npm ci)`);
    const dest = path.join(stage, 'node_modules', name);
    copy(src, dest, (f) => !path.relative(src, f).split(path.sep).includes('node_modules'));
    shipped.set(name, meta.version);
    const drop = new Set(INSTALL_ONLY[name] ?? []);
    for (const dep of Object.keys(meta.dependencies ?? {})) if (!drop.has(dep)) queue.push({ name: dep, from: src });
    if (name === 'sharp') {
      for (const p of platformPkgs) {
        const version = meta.optionalDependencies?.[p];
        if (!version) throw new Error(`sharp ${meta.version} has no optional dependency ${p}`);
        const local = findPackage(p, src);
        if (local && readJson(path.join(local, 'package.json')).version === version) queue.unshift({ name: p, from: src });
        else {
          const fetched = fetchPackage(p, version);
          copy(fetched, path.join(stage, 'node_modules', p));
          shipped.set(p, version);
        }
      }
    }
    if (drop.size > 0 || meta.scripts) {
      // The staged copy is already installed: no install scripts, no install-only dependencies.
      const m = readJson(path.join(dest, 'package.json'));
      delete m.scripts;
      for (const d of drop) delete m.dependencies?.[d];
      fs.writeFileSync(path.join(dest, 'package.json'), `${JSON.stringify(m, null, 2)}\n`);
    }
  }
  // onnxruntime-node: keep bin/napi-v*/<os>/<arch> of the target only
  const ortBin = path.join(stage, 'node_modules', 'onnxruntime-node', 'bin');
  let ortFound = false;
  for (const napi of fs.readdirSync(ortBin)) {
    for (const osName of fs.readdirSync(path.join(ortBin, napi))) {
      for (const arch of fs.readdirSync(path.join(ortBin, napi, osName))) {
        if (`${osName}/${arch}` === t.ort) ortFound = true;
        else fs.rmSync(path.join(ortBin, napi, osName, arch), { recursive: true, force: true });
      }
      if (fs.readdirSync(path.join(ortBin, napi, osName)).length === 0) fs.rmSync(path.join(ortBin, napi, osName), { recursive: true });
    }
  }
  if (!ortFound) throw new Error(`onnxruntime-node has no binaries for ${t.ort}`);
  log(`runtime dependencies: ${[...shipped].map(([n, v]) => `${n}@${v}`).join(', ')}`);

  // ---- vsce
  fs.rmSync(out, { force: true });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const vsce = path.join(REPO, 'node_modules', '@vscode', 'vsce', 'vsce');
  // README images are relative (docs/screenshots/, shipped): keep the links relative, no repository URL.
  const vsceArgs = [vsce, 'package', '--target', opts.target, '--out', out, '--allow-missing-repository', '--allow-star-activation', '--no-rewrite-relative-links'];
  if (!['LICENSE', 'LICENSE.md'].some((f) => fs.existsSync(path.join(stage, f)))) vsceArgs.push('--skip-license');
  log(`vsce ${vsceArgs.slice(1).join(' ')} (in ${path.relative(REPO, stage)})`);
  run(process.execPath, vsceArgs, { cwd: stage, env: { ...process.env, npm_config_loglevel: 'error' } });

  // ---- check the VSIX
  const entries = listZip(out);
  const must = [
    'extension/package.json',
    'extension/dist/extension.js',
    'extension/dist/webview.js',
    `extension/node_modules/onnxruntime-node/bin/napi-v6/${t.ort}/onnxruntime_binding.node`,
    `extension/node_modules/@img/sharp-${t.sharp}/package.json`,
    ...[...shipped.keys()].map((n) => `extension/node_modules/${n}/package.json`),
    ...(missingModel.length === 0 ? MODEL_FILES.map((f) => `extension/models/imagefolder-mini/${f}`) : []),
  ];
  const missing = must.filter((m) => !entries.has(m));
  if (missing.length > 0) throw new Error(`the VSIX lacks ${missing.join(', ')} (check .vscodeignore)`);
  const foreign = [...entries].filter(
    (e) =>
      (/onnxruntime-node\/bin\/napi-v\d+\//.test(e) && !e.includes(`/${t.ort}/`)) ||
      (/node_modules\/@img\/sharp-(libvips-)?[a-z0-9]+-[a-z0-9]+\//.test(e) && !e.includes(`sharp-${t.sharp}/`) && !e.includes(`sharp-libvips-${t.sharp}/`)),
  );
  if (foreign.length > 0) throw new Error(`the VSIX holds other platforms' binaries: ${foreign.slice(0, 5).join(', ')}`);
  const mb = fs.statSync(out).size / 1024 / 1024;
  log(`${path.relative(process.cwd(), out) || out}: ${mb.toFixed(1)} MB, ${entries.size} files, target ${opts.target} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  if (mb >= SIZE_GOAL_MB) log(`WARNING: the VSIX is over the ${SIZE_GOAL_MB} MB goal`);
}

/** Names of the entries of a zip file (reads the central directory; no dependency). */
function listZip(file) {
  const buf = fs.readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip file`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const names = new Set();
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('bad zip central directory');
    const n = buf.readUInt16LE(p + 28);
    const x = buf.readUInt16LE(p + 30);
    const c = buf.readUInt16LE(p + 32);
    names.add(buf.subarray(p + 46, p + 46 + n).toString('utf8'));
    p += 46 + n + x + c;
  }
  return names;
}

try {
  main();
} catch (e) {
  console.error(`[package] error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
