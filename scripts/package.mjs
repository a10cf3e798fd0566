#!/usr/bin/env node
// Builds platform-specific VSIXes:
//   npm run package                       this machine's platform
//   npm run package -- --all-targets      linux-x64, linux-arm64, darwin-arm64, darwin-x64, win32-x64
//   node scripts/package.mjs --target linux-x64|linux-arm64|darwin-arm64|darwin-x64|win32-x64|win32-arm64
//        [--out FILE.vsix | --out-dir DIR] [--no-build] [--allow-missing-model]
//
// The extension's JS is bundled by esbuild (dist/extension.js, dist/webview.js); onnxruntime-node and
// sharp are native N-API modules kept outside the bundle. They are copied with their runtime
// dependencies from node_modules into a staging folder (out/package/<target>/), where the native
// binaries of every other platform are removed (never from the real node_modules), and vsce 3.9
// packages that folder with the whitelist in .vscodeignore. Each VSIX is then checked: the target's
// binaries are there, every native file's header (ELF / Mach-O / PE) names the target's format and
// architecture, no other platform's binaries, LICENSE present, every relative link of the shipped
// Markdown resolves inside the VSIX; and its size is printed.
//
// Cross-packaging: onnxruntime-node's npm package carries every platform's binaries. sharp's
// binaries for another platform (@img/sharp-<platform>, @img/sharp-libvips-<platform>) are not
// installed on this machine, and the shared node_modules is never touched: they are fetched with
// `npm pack <name>@<version pinned by sharp>` from the npm registry into a cache
// (~/.cache/imagefolder-inspector/tools/npm-packs; IMAGEFOLDER_TOOLS moves it) and unpacked there.
//
// darwin-x64: onnxruntime-node 1.24 and later ship no Intel-Mac binaries (microsoft/onnxruntime#27961).
// A target without them ships onnxruntime-web instead (src/extension/core/native.ts falls back to its
// 'wasm' provider, CPU via WebAssembly): its Node entry (dist/ort.node.min.js) and the one wasm/mjs
// pair that entry loads (ort-wasm-simd-threaded), not the 136 MB dist folder. The targets with
// onnxruntime-node binaries leave onnxruntime-web out: it would only help where the native binding
// fails to load, and VS Code's own floor (glibc 2.28, macOS 11, Windows 10) is at or above
// onnxruntime-node's, so that is not worth ~14 MB in every VSIX.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkNativeFiles, ORT_WEB_RUNTIME, readZip } from './vsix-inspect.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** VS Code target -> onnxruntime-node bin folder and sharp platform package suffix. */
const TARGETS = {
  'linux-x64': { ort: 'linux/x64', sharp: 'linux-x64', libvips: true },
  'linux-arm64': { ort: 'linux/arm64', sharp: 'linux-arm64', libvips: true },
  'darwin-arm64': { ort: 'darwin/arm64', sharp: 'darwin-arm64', libvips: true },
  'darwin-x64': { ort: 'darwin/x64', sharp: 'darwin-x64', libvips: true },
  'win32-x64': { ort: 'win32/x64', sharp: 'win32-x64', libvips: false },
  'win32-arm64': { ort: 'win32/arm64', sharp: 'win32-arm64', libvips: false },
};
/** Dependencies that esbuild bundles into dist/webview.js: not shipped as node_modules. */
const BUNDLED = new Set(['@vscode/webview-ui-toolkit']);
/** Dependencies only used by a package's install script, not at run time. */
const INSTALL_ONLY = {
  'onnxruntime-node': ['adm-zip', 'global-agent'],
  // onnxruntime-web's Node entry is a bundle that requires only onnxruntime-common
  'onnxruntime-web': ['flatbuffers', 'guid-typescript', 'long', 'platform', 'protobufjs'],
};
/** The files of onnxruntime-web that its Node entry and wasm backend load (native.ts). */
export const ORT_WEB_FILES = ['package.json', ...ORT_WEB_RUNTIME];
/** What --all-targets builds: the platforms VS Code users run on. */
export const ALL_TARGETS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'darwin-x64', 'win32-x64'];
const MODEL_FILES = ['manifest.json', 'encoder.onnx', 'decoder.onnx', 'codebooks.bin'];
const SIZE_GOAL_MB = 60;

function parseArgs(argv) {
  const o = { target: undefined, out: undefined, outDir: undefined, all: false, build: true, allowMissingModel: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--target') o.target = argv[++i];
    else if (a.startsWith('--target=')) o.target = a.slice(9);
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--out-dir') o.outDir = argv[++i];
    else if (a === '--all-targets') o.all = true;
    else if (a === '--no-build') o.build = false;
    else if (a === '--allow-missing-model') o.allowMissingModel = true;
    else if (a === '-h' || a === '--help') {
      console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 25).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (o.all && (o.target || o.out)) throw new Error('--all-targets builds every target: use --out-dir, not --target/--out');
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

/** A target whose VSIX cannot be built from the installed packages (not a fault of this script). */
class Unavailable extends Error {}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const pkg = readJson(path.join(REPO, 'package.json'));
  if (opts.build) {
    log('building the extension (npm run build)');
    run('npm', ['run', '--silent', 'build']);
  }
  for (const f of ['dist/extension.js', 'dist/webview.js']) {
    if (!fs.existsSync(path.join(REPO, f))) throw new Error(`${f} is missing: run npm run build`);
  }
  const name = (target) => `${pkg.name}-${pkg.version}-${target}.vsix`;
  if (!opts.all) {
    packageTarget(opts.target, path.resolve(opts.out ?? path.join(opts.outDir ?? REPO, name(opts.target))), pkg, opts);
    return;
  }
  const dir = path.resolve(opts.outDir ?? path.join(REPO, 'out', 'vsix'));
  const built = [];
  const unavailable = [];
  for (const target of ALL_TARGETS) {
    const file = path.join(dir, name(target));
    try {
      packageTarget(target, file, pkg, opts);
      built.push(path.relative(process.cwd(), file) || file);
    } catch (e) {
      if (!(e instanceof Unavailable)) throw e;
      fs.rmSync(file, { force: true });
      unavailable.push(`${target}: ${e.message}`);
    }
  }
  log(`built ${built.length} of ${ALL_TARGETS.length} targets: ${built.join(', ')}`);
  for (const u of unavailable) log(`NOT BUILT ${u}`);
}

function packageTarget(target, out, pkg, opts) {
  const t = TARGETS[target];
  const t0 = Date.now();
  log(`---- ${target}`);
  const modelDir = path.join(REPO, 'models', 'imagefolder-mini');
  const missingModel = MODEL_FILES.filter((f) => !fs.existsSync(path.join(modelDir, f)));
  if (missingModel.length > 0) {
    const msg = `the built-in model is incomplete (${missingModel.join(', ')} missing in models/imagefolder-mini)`;
    if (!opts.allowMissingModel) throw new Error(`${msg}; pass --allow-missing-model to package anyway`);
    log(`WARNING: ${msg}; the VSIX has no working built-in model`);
  }
  const ortVersion = readJson(path.join(REPO, 'node_modules', 'onnxruntime-node', 'package.json')).version;
  const ortTarget = fs.readdirSync(path.join(REPO, 'node_modules', 'onnxruntime-node', 'bin')).some((napi) => fs.existsSync(path.join(REPO, 'node_modules', 'onnxruntime-node', 'bin', napi, t.ort)));
  // the ONNX runtime this VSIX ships: onnxruntime-node where it has the target's binaries, else onnxruntime-web
  const ortPkg = ortTarget ? 'onnxruntime-node' : 'onnxruntime-web';
  if (!ortTarget) {
    log(
      `onnxruntime-node ${ortVersion} ships no ${t.ort} binaries${target === 'darwin-x64' ? ' (Microsoft stopped Intel-Mac builds with 1.24: microsoft/onnxruntime#27961)' : ''}: this VSIX runs on onnxruntime-web's WebAssembly CPU`,
    );
  }

  // ---- staging folder
  const stage = path.join(REPO, 'out', 'package', target);
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  const manifest = { ...pkg };
  delete manifest.devDependencies;
  delete manifest.scripts; // no vscode:prepublish: the build ran above
  delete manifest.bin; // the CLI ships through npm, not in the VSIX
  const otherOrt = ortPkg === 'onnxruntime-node' ? 'onnxruntime-web' : 'onnxruntime-node';
  manifest.dependencies = Object.fromEntries(Object.entries(pkg.dependencies ?? {}).filter(([n]) => !BUNDLED.has(n) && n !== otherOrt));
  fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const f of ['CHANGELOG.md', 'LICENSE', 'ThirdPartyNotices.txt', '.vscodeignore']) {
    if (fs.existsSync(path.join(REPO, f))) fs.copyFileSync(path.join(REPO, f), path.join(stage, f));
  }
  if (!fs.existsSync(path.join(stage, '.vscodeignore'))) throw new Error('.vscodeignore (the whitelist) is missing');
  if (!fs.existsSync(path.join(stage, 'LICENSE'))) throw new Error('LICENSE is missing (package.json declares a licence; the VSIX carries its text)');
  fs.mkdirSync(path.join(stage, 'dist'));
  for (const f of ['extension.js', 'webview.js']) fs.copyFileSync(path.join(REPO, 'dist', f), path.join(stage, 'dist', f));
  if (fs.existsSync(path.join(REPO, 'media'))) copy(path.join(REPO, 'media'), path.join(stage, 'media'));
  const shots = path.join(REPO, 'docs', 'screenshots');
  if (fs.existsSync(shots)) copy(shots, path.join(stage, 'docs', 'screenshots'));
  // the built-in model: the files its manifest names, not the evaluation sheets beside them
  if (fs.existsSync(path.join(modelDir, 'manifest.json'))) {
    fs.mkdirSync(path.join(stage, 'models', 'imagefolder-mini'), { recursive: true });
    for (const f of modelFiles(modelDir)) fs.copyFileSync(path.join(modelDir, f), path.join(stage, 'models', 'imagefolder-mini', f));
  }
  // README and the Markdown it links to; links to files the VSIX leaves out become plain text
  const markdown = shipMarkdown(stage);

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
    copy(src, dest, name === 'onnxruntime-web' ? (f) => f === src || ORT_WEB_FILES.some((w) => path.join(src, w) === f || path.join(src, w).startsWith(f + path.sep)) : keepRuntimeFile(src));
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
          copy(fetched, path.join(stage, 'node_modules', p), keepRuntimeFile(fetched));
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
  let ortFound = ortPkg === 'onnxruntime-web';
  for (const napi of ortPkg === 'onnxruntime-node' ? fs.readdirSync(ortBin) : []) {
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
  // The README's links are relative and their targets ship in the VSIX (shipMarkdown): keep them relative.
  const vsceArgs = [vsce, 'package', '--target', target, '--out', out, '--allow-missing-repository', '--allow-star-activation', '--no-rewrite-relative-links'];
  log(`vsce ${vsceArgs.slice(1).join(' ')} (in ${path.relative(REPO, stage)})`);
  run(process.execPath, vsceArgs, { cwd: stage, env: { ...process.env, npm_config_loglevel: 'error' } });

  // ---- check the VSIX
  const zip = readZip(out);
  const entries = new Set(zip.keys());
  const must = [
    'extension/package.json',
    'extension/LICENSE.txt', // vsce's names for LICENSE and README.md
    ...markdown.map(vsixName),
    'extension/dist/extension.js',
    'extension/dist/webview.js',
    ...(ortPkg === 'onnxruntime-node'
      ? [`extension/node_modules/onnxruntime-node/bin/napi-v6/${t.ort}/onnxruntime_binding.node`]
      : ORT_WEB_FILES.map((f) => `extension/node_modules/onnxruntime-web/${f}`)),
    `extension/node_modules/@img/sharp-${t.sharp}/package.json`,
    ...[...shipped.keys()].map((n) => `extension/node_modules/${n}/package.json`),
    ...(missingModel.length === 0 ? MODEL_FILES.map((f) => `extension/models/imagefolder-mini/${f}`) : []),
  ];
  const missing = must.filter((m) => !entries.has(m));
  if (missing.length > 0) throw new Error(`the VSIX lacks ${missing.join(', ')} (check .vscodeignore)`);
  const foreign = [...entries].filter(
    (e) =>
      (/onnxruntime-node\/bin\/napi-v\d+\//.test(e) && !e.includes(`/${t.ort}/`)) ||
      e.includes(`node_modules/${otherOrt}/`) ||
      (/node_modules\/@img\/sharp-(libvips-)?[a-z0-9]+-[a-z0-9]+\//.test(e) && !e.includes(`sharp-${t.sharp}/`) && !e.includes(`sharp-libvips-${t.sharp}/`)),
  );
  if (foreign.length > 0) throw new Error(`the VSIX holds other platforms' binaries: ${foreign.slice(0, 5).join(', ')}`);
  const { natives, problems } = checkNativeFiles(zip, target);
  if (problems.length > 0) throw new Error(`native files that do not fit ${target}: ${problems.slice(0, 5).join('; ')}`);
  const stray = [...entries].filter((e) => /\.(h|hpp|map|ts)$/.test(e) || (/^extension\/(docs|training|models)\/.*\.md$/.test(e) && !markdown.some((m) => e === vsixName(m))));
  if (stray.length > 0) throw new Error(`the VSIX holds files nothing uses: ${stray.slice(0, 5).join(', ')}`);
  const mb = fs.statSync(out).size / 1024 / 1024;
  log(`${path.relative(process.cwd(), out) || out}: ${mb.toFixed(1)} MB, ${entries.size} files (${natives.length} native, all ${natives[0]?.format} ${target.split('-')[1]}), target ${target} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  if (mb >= SIZE_GOAL_MB) log(`WARNING: the VSIX is over the ${SIZE_GOAL_MB} MB goal`);
}

/** Where vsce puts a staged file in the VSIX (it renames the README). */
const vsixName = (f) => `extension/${f === 'README.md' ? 'readme.md' : f}`;

/** The model package's files: its manifest and the graphs and codebooks it names (docs/model-format.md). */
function modelFiles(dir) {
  const m = readJson(path.join(dir, 'manifest.json'));
  const files = new Set(['manifest.json', m.codebooks?.file ?? 'codebooks.bin']);
  for (const g of Object.values(m.graphs ?? {})) if (g?.file) files.add(g.file);
  return [...files].filter((f) => fs.existsSync(path.join(dir, f)));
}

/**
 * Copy filter for a runtime dependency: no nested node_modules (their own dependencies are staged
 * separately), no C headers (libvips ships glib's glibconfig.h for building against it, not for running).
 */
function keepRuntimeFile(src) {
  return (f) => {
    const rel = path.relative(src, f).split(path.sep);
    return !rel.includes('node_modules') && !/\.(h|hpp)$/.test(f);
  };
}

/** Markdown links: [text](target) and ![alt](target); the target up to the first space or ')'. */
const MD_LINK = /(!?)\[([^\]]*)\]\(([^)\s]+)(\s+"[^"]*")?\)/g;
const isRelative = (target) => !/^([a-z][a-z0-9+.-]*:|#|\/)/i.test(target);

/**
 * Stages README.md and the Markdown files it links to (repository-relative paths), so the links
 * work on the extension's details page, which resolves them inside the installed extension. In
 * every staged Markdown file, a link whose target the VSIX does not hold (an evaluation sheet, a
 * source file) becomes its text plus the path in the source repository. Returns the staged files.
 */
function shipMarkdown(stage) {
  const files = ['README.md'];
  for (const m of fs.readFileSync(path.join(REPO, 'README.md'), 'utf8').matchAll(MD_LINK)) {
    const target = m[3].split('#')[0];
    if (m[1] || !isRelative(target) || !target.endsWith('.md')) continue;
    const rel = path.posix.normalize(target);
    if (!rel.startsWith('..') && fs.existsSync(path.join(REPO, rel)) && !files.includes(rel)) files.push(rel);
  }
  for (const f of files) {
    const dir = path.posix.dirname(f);
    const text = fs.readFileSync(path.join(REPO, f), 'utf8').replace(MD_LINK, (all, bang, label, target) => {
      if (!isRelative(target)) return all;
      const rel = path.posix.normalize(path.posix.join(dir, target.split('#')[0]));
      if (fs.existsSync(path.join(stage, rel)) || files.includes(rel)) return all;
      return bang ? `*(${label || 'image'}: \`${rel}\` in the source repository)*` : `${label} (\`${rel}\` in the source repository)`;
    });
    fs.mkdirSync(path.join(stage, dir), { recursive: true });
    fs.writeFileSync(path.join(stage, f), text);
  }
  return files;
}

try {
  main();
} catch (e) {
  console.error(`[package] error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
