// End-to-end harness: a real VS Code (code-server 4.100.3 = VS Code 1.100.3) with the extension
// installed in a fresh extensions folder, driven by playwright-core in Debian's Chromium.
//
//   const vs = await startCodeServer({ extension: { kind: 'folder', dir: REPO } });
//   const wb = await openWorkbench(vs);            // browser page with the sample workspace
//   await wb.waitForExtensionMenu('cat-face.png', /Tokenize Image/);
//   await wb.contextMenu('cat-face.png', /Tokenize Image/);
//   const web = wb.webview();                      // FrameLocator of the inspector's document
//
// Environment:
//   IMAGEFOLDER_TOOLS        where scripts/install-code-server.sh put code-server
//   IMAGEFOLDER_CHROMIUM     browser binary (default /usr/bin/chromium)
//   IMAGEFOLDER_E2E_HEADED=1 show the browser (needs a display)
//   IMAGEFOLDER_E2E_MODEL    a model package folder installed as the extension's built-in model in
//                            the test copy (only for developing the tests before the real one exists)

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from '../support/chromium';

/** Tests are bundled to out/test/e2e/x.test.js; the repository root is three levels up. */
export const REPO = path.resolve(__dirname, '..', '..', '..');
export const SAMPLES = path.join(REPO, 'samples');
export const RESULTS = path.join(REPO, 'test-results', 'e2e');
export const CODE_SERVER_VERSION = '4.100.3';
/**
 * Upper bound for slow steps (workbench load, extension scan). Generous: on a 2-core machine
 * shared with other work, loading the workbench has taken 2+ minutes. Only failures wait this long.
 */
export const SLOW_MS = Number(process.env.IMAGEFOLDER_E2E_SLOW_MS) || 300_000;
/** How long a reloaded window may take to start its extension host before the harness reloads again. */
const RELOAD_HOST_MS = 120_000;

export function log(msg: string): void {
  if (process.env.IMAGEFOLDER_E2E_QUIET !== '1') console.log(`      [e2e ${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

// ------------------------------------------------------------------------------------------------
// code-server

export function codeServerEntry(): string {
  const tools = process.env.IMAGEFOLDER_TOOLS || path.join(os.homedir(), '.cache', 'imagefolder-inspector', 'tools');
  const dir = path.join(tools, `code-server-${CODE_SERVER_VERSION}`);
  const entry = path.join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (!fs.existsSync(path.join(dir, '.imagefolder-installed')) || !fs.existsSync(entry)) {
    throw new Error(`code-server ${CODE_SERVER_VERSION} is not installed in ${dir}: run scripts/install-code-server.sh first`);
  }
  return entry;
}

interface PackageJson {
  name: string;
  publisher: string;
  version: string;
}

export function readPackageJson(dir = REPO): PackageJson {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
}

export function extensionId(dir = REPO): string {
  const p = readPackageJson(dir);
  return `${p.publisher}.${p.name}`;
}

export type ExtensionSource =
  /** the development folder (the repository), linked as publisher.name-version */
  | { kind: 'folder'; dir: string }
  /** a VSIX installed with `code-server --install-extension` */
  | { kind: 'vsix'; file: string };

export interface StartOptions {
  extension: ExtensionSource;
  /** folder copied into a fresh temporary workspace (default: samples/) */
  workspaceFrom?: string;
  /** extra user settings */
  settings?: Record<string, unknown>;
}

export interface CodeServer {
  url: string;
  root: string;
  workspace: string;
  userDataDir: string;
  extensionsDir: string;
  /** where the extension ended up in the extensions folder */
  extensionDir: string;
  logFile: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

const BASE_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.colorTheme': 'Default Dark Modern',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'files.hotExit': 'off',
  'window.confirmBeforeClose': 'never',
  'git.enabled': false,
  'npm.autoDetect': 'off',
};

function copyDir(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true, dereference: false });
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

/** Thrown inside a waitFor callback to stop waiting at once (e.g. the server process died). */
export class FatalError extends Error {}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (e instanceof FatalError) throw e;
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function installFolder(src: string, extensionsDir: string): string {
  const p = readPackageJson(src);
  const dest = path.join(extensionsDir, `${p.publisher}.${p.name}-${p.version}`);
  fs.mkdirSync(extensionsDir, { recursive: true });
  // A link keeps the test on the exact development folder (dist/, media/, models/, node_modules/).
  fs.symlinkSync(src, dest, 'dir');
  return dest;
}

function installVsix(entry: string, vsix: string, userDataDir: string, extensionsDir: string, logFile: string): string {
  const r = spawnSync(
    process.execPath,
    [entry, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix, '--force'],
    { encoding: 'utf8', timeout: 180_000 },
  );
  fs.appendFileSync(logFile, `--install-extension ${vsix}\n${r.stdout}\n${r.stderr}\n`);
  if (r.status !== 0) throw new Error(`code-server --install-extension failed (${r.status}): ${r.stdout}${r.stderr}`);
  const id = extensionId(REPO).toLowerCase();
  const dir = fs.readdirSync(extensionsDir).find((d) => d.toLowerCase().startsWith(`${id}-`));
  if (!dir) throw new Error(`the VSIX did not install into ${extensionsDir}: ${fs.readdirSync(extensionsDir).join(', ')}`);
  return path.join(extensionsDir, dir);
}

/** Installs a model override (IMAGEFOLDER_E2E_MODEL) as the built-in model of a copied extension. */
function applyModelOverride(extensionDir: string, source: ExtensionSource): string {
  const override = process.env.IMAGEFOLDER_E2E_MODEL;
  if (!override) return extensionDir;
  log(`IMAGEFOLDER_E2E_MODEL: using ${override} as the built-in model of the test copy`);
  const dir = extensionDir;
  if (fs.lstatSync(dir).isSymbolicLink()) {
    // Replace the link by a folder of links so the repository's models/ stays untouched.
    const target = fs.realpathSync(dir);
    fs.unlinkSync(dir);
    fs.mkdirSync(dir);
    for (const e of fs.readdirSync(target)) if (e !== 'models') fs.symlinkSync(path.join(target, e), path.join(dir, e));
  } else if (source.kind === 'vsix') {
    fs.rmSync(path.join(dir, 'models'), { recursive: true, force: true });
  }
  fs.mkdirSync(path.join(dir, 'models'), { recursive: true });
  copyDir(override, path.join(dir, 'models', 'imagefolder-mini'));
  return dir;
}

export async function startCodeServer(opts: StartOptions): Promise<CodeServer> {
  const entry = codeServerEntry();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ifi-e2e-'));
  const userDataDir = path.join(root, 'user-data');
  const extensionsDir = path.join(root, 'extensions');
  const workspace = path.join(root, 'workspace');
  const logFile = path.join(root, 'code-server.log');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...(opts.settings ?? {}) }, null, 2));
  copyDir(opts.workspaceFrom ?? SAMPLES, workspace);
  fs.writeFileSync(logFile, '');

  let extensionDir =
    opts.extension.kind === 'folder'
      ? installFolder(opts.extension.dir, extensionsDir)
      : installVsix(entry, opts.extension.file, userDataDir, extensionsDir, logFile);
  extensionDir = applyModelOverride(extensionDir, opts.extension);
  log(`extension at ${extensionDir}`);

  const out = fs.openSync(logFile, 'a');
  // scripts/code-server-launch.js runs the server without entry.js's parent/child handshake,
  // which times out after 10 s on a busy machine.
  const proc = spawn(
    process.execPath,
    [
      path.join(REPO, 'scripts', 'code-server-launch.js'),
      path.resolve(path.dirname(entry), '..', '..'),
      '--auth', 'none',
      '--bind-addr', '127.0.0.1:0',
      '--config', path.join(root, 'config.yaml'),
      '--user-data-dir', userDataDir,
      '--extensions-dir', extensionsDir,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
      workspace,
    ],
    { stdio: ['ignore', out, out], env: { ...process.env, VSCODE_PROXY_URI: '' } },
  );
  fs.closeSync(out);
  let exited: string | undefined;
  proc.on('exit', (code, sig) => (exited = `code-server exited (${code ?? sig})`));

  const url = await waitFor(
    'code-server to listen',
    async () => {
      if (exited) throw new FatalError(`${exited}; log:\n${fs.readFileSync(logFile, 'utf8')}`);
      const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(fs.readFileSync(logFile, 'utf8'));
      if (!m) return undefined;
      const health = await httpGet(`${m[1]}/healthz`);
      return health.status === 200 ? m[1] : undefined;
    },
    SLOW_MS,
  ).catch((e: unknown) => {
    proc.kill('SIGKILL');
    throw e;
  });
  log(`code-server ${CODE_SERVER_VERSION} at ${url} (log ${logFile})`);

  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(t);
    }
    if (process.env.IMAGEFOLDER_E2E_KEEP === '1') {
      log(`kept ${root}`);
      return;
    }
    // Keep the server log next to the screenshots, then clean up.
    try {
      fs.mkdirSync(RESULTS, { recursive: true });
      fs.copyFileSync(logFile, path.join(RESULTS, `code-server-${path.basename(root)}.log`));
      copyExtensionHostLogs(userDataDir, path.join(RESULTS, `logs-${path.basename(root)}`));
    } catch {
      /* best effort */
    }
    fs.rmSync(root, { recursive: true, force: true });
  };
  return { url, root, workspace, userDataDir, extensionsDir, extensionDir, logFile, proc, stop };
}

/** Copies the extension host logs and the "ImageFolder" output channel log (if any). */
function copyExtensionHostLogs(userDataDir: string, dest: string): void {
  const logs = path.join(userDataDir, 'logs');
  if (!fs.existsSync(logs)) return;
  const walk = (d: string): string[] =>
    fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
  for (const f of walk(logs)) {
    if (!/exthost|ImageFolder|remoteagent|imagefolder/i.test(f)) continue;
    const to = path.join(dest, path.relative(logs, f));
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(f, to);
  }
}

/** How many extension hosts of this server (one per window load) have activated their startup extensions. */
export function extensionHostsStarted(vs: CodeServer): number {
  const logs = path.join(vs.userDataDir, 'logs');
  if (!fs.existsSync(logs)) return 0;
  let n = 0;
  for (const session of fs.readdirSync(logs)) {
    const dir = path.join(logs, session);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const host of fs.readdirSync(dir).filter((d) => d.startsWith('exthost'))) {
      const f = path.join(dir, host, 'remoteexthost.log');
      if (fs.existsSync(f) && /Eager extensions activated/.test(fs.readFileSync(f, 'utf8'))) n++;
    }
  }
  return n;
}

/** True once an extension host of this server has activated its startup extensions. */
export function extensionHostStarted(vs: CodeServer): boolean {
  return extensionHostsStarted(vs) > 0;
}

/** Text of the extension's "ImageFolder" output channel as the server wrote it to disk. */
export function outputChannelLog(vs: CodeServer): string {
  const logs = path.join(vs.userDataDir, 'logs');
  if (!fs.existsSync(logs)) return '';
  const walk = (d: string): string[] =>
    fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
  return walk(logs)
    .filter((f) => /ImageFolder/.test(path.basename(f)))
    .map((f) => fs.readFileSync(f, 'utf8'))
    .join('\n');
}

// ------------------------------------------------------------------------------------------------
// Browser and workbench

export interface ConsoleEntry {
  type: string;
  text: string;
  url: string;
  line: number;
  column: number;
  /** true when the message comes from a webview document (the inspector) */
  webview: boolean;
}

export class Workbench {
  readonly console: ConsoleEntry[] = [];
  readonly pageErrors: string[] = [];
  private shot = 0;

  constructor(
    readonly vs: CodeServer,
    readonly browser: Browser,
    readonly context: BrowserContext,
    readonly page: Page,
    readonly label: string,
  ) {
    page.on('console', (m: ConsoleMessage) => this.onConsole(m));
    page.on('pageerror', (e: Error) => this.pageErrors.push(`${e.name}: ${e.message}`));
  }

  private onConsole(m: ConsoleMessage): void {
    const loc = m.location();
    const url = loc?.url ?? '';
    const webview = /\/webview\/browser\/pre\/|vscode-webview|vscode-resource|vscode-cdn/.test(url);
    this.console.push({ type: m.type(), text: m.text(), url, line: loc?.lineNumber ?? 0, column: loc?.columnNumber ?? 0, webview });
  }

  /** Console errors that are CSP violations, anywhere on the page (the workbench or a webview). */
  cspViolations(): ConsoleEntry[] {
    return this.console.filter((c) => /Content Security Policy|securitypolicyviolation|CSP violation/i.test(c.text));
  }

  /** Errors logged by webview documents (the inspector): uncaught exceptions and console.error. */
  webviewErrors(): ConsoleEntry[] {
    // A failed resource load counts when it is this extension's: VS Code's own image preview loads
    // workspace files through the webview service worker, whose misses after a reload are code-server's.
    const foreignLoad = (c: ConsoleEntry): boolean => /Failed to load resource/.test(c.text) && !/imagefolder-inspector/.test(c.url);
    return this.console.filter((c) => c.webview && (c.type === 'error' || /Uncaught/.test(c.text)) && !foreignLoad(c));
  }

  /** Saves a screenshot as test-results/e2e/<label>-NN-<name>.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(RESULTS, { recursive: true });
    const file = path.join(RESULTS, `${this.label}-${String(++this.shot).padStart(2, '0')}-${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
    await this.page.screenshot({ path: file }).catch((e: unknown) => log(`screenshot ${name} failed: ${String(e)}`));
    return file;
  }

  /** A row of the explorer tree, by file name. */
  explorerRow(name: string): Locator {
    return this.page.locator(`.explorer-folders-view .monaco-list-row[aria-label^="${name}"]`).first();
  }

  async waitForExplorer(name: string, timeoutMs = SLOW_MS): Promise<void> {
    await this.explorerRow(name).waitFor({ state: 'visible', timeout: timeoutMs });
  }

  /** Opens the explorer context menu of a file and returns the labels of its items. */
  async openContextMenu(name: string): Promise<string[]> {
    await this.closeMenus();
    const row = this.explorerRow(name);
    await row.scrollIntoViewIfNeeded();
    await row.click({ button: 'right' });
    const menu = this.page.locator('.monaco-menu').last();
    await menu.waitFor({ state: 'visible', timeout: 10_000 });
    return (await menu.locator('.action-label').allTextContents()).map((t) => t.trim()).filter((t) => t.length > 0);
  }

  async waitForMenusClosed(): Promise<void> {
    await waitFor('the menu to close', async () => (await this.page.locator('.monaco-menu').count()) === 0, 10_000, 100).catch(() => this.closeMenus());
  }

  /**
   * Picks an explorer context-menu item and waits for its effect; on a loaded machine a click on a
   * menu that is still being laid out can be lost, so the pick is retried once if nothing happens.
   */
  async contextMenuWithEffect(name: string, item: RegExp, effect: () => Promise<boolean>, effectTimeoutMs = 60_000): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.contextMenu(name, item);
      const ok = await waitFor(`the effect of ${String(item)} on ${name}`, async () => effect(), effectTimeoutMs, 500).then(
        () => true,
        () => false,
      );
      if (ok) return;
      if (attempt >= 2) throw new Error(`${String(item)} on ${name} had no effect after ${attempt} attempts`);
      log(`${String(item)} on ${name}: no effect after ${effectTimeoutMs} ms, picking it again`);
      await this.screenshot(`retry-${name}`);
    }
  }

  async closeMenus(): Promise<void> {
    for (let i = 0; i < 3 && (await this.page.locator('.monaco-menu').count()) > 0; i++) {
      await this.page.keyboard.press('Escape');
      await this.page.waitForTimeout(100);
    }
  }

  /**
   * Waits until the extension's contributions are in the workbench: the explorer context menu of
   * `name` lists an item matching `item` (polls the real menu; no fixed sleep).
   */
  async waitForExtensionMenu(name: string, item: RegExp, timeoutMs = SLOW_MS): Promise<void> {
    await this.waitForExplorer(name, timeoutMs);
    // The menu entry comes from the scanned manifest (renderer side); commands only run once the
    // extension host is up. Its log says so: wait for that line rather than sleeping.
    const t0 = Date.now();
    await waitFor('the extension host to finish starting', async () => extensionHostStarted(this.vs), timeoutMs, 1000);
    log(`extension host ready after ${((Date.now() - t0) / 1000).toFixed(1)} s more`);
    let seen: string[] = [];
    await waitFor(
      `the explorer menu of ${name} to offer ${String(item)} (last seen: ${seen.join(' | ')})`,
      async () => {
        seen = await this.openContextMenu(name);
        const ok = seen.some((l) => item.test(l));
        await this.closeMenus();
        return ok;
      },
      timeoutMs,
      1000,
    );
  }

  /** Right-clicks an explorer row and picks a menu item (optionally through a submenu). */
  async contextMenu(name: string, item: RegExp, submenuItem?: RegExp): Promise<void> {
    const labels = await this.openContextMenu(name);
    if (!labels.some((l) => item.test(l))) throw new Error(`no menu item ${String(item)} for ${name}: ${labels.join(' | ')}`);
    const menu = this.page.locator('.monaco-menu').last();
    const entry = menu.locator('.action-item', { has: this.page.locator('.action-label', { hasText: item }) }).first();
    if (!submenuItem) {
      // Keyboard activation: a mouse click on a menu entry is sometimes dropped by the workbench
      // (the menu closes, no command runs; seen in CI for the first pick after start-up). Hovering
      // focuses the entry, Enter runs it; a click remains the fallback if the entry did not take focus.
      await entry.hover();
      const focused = await entry.evaluate((el) => el.classList.contains('focused') || el.matches(':focus-within')).catch(() => false);
      if (focused) await this.page.keyboard.press('Enter');
      else await entry.click();
      await this.waitForMenusClosed();
      return;
    }
    await entry.hover();
    await entry.click();
    const sub = this.page.locator('.monaco-menu').last();
    await sub.locator('.action-label', { hasText: submenuItem }).first().click();
  }

  /** Runs a command through the command palette (F1), by its visible title. */
  async runCommand(title: string): Promise<void> {
    await this.closeMenus();
    await this.page.locator('.monaco-workbench').click({ position: { x: 600, y: 5 } }).catch(() => undefined);
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input.input');
    try {
      await input.waitFor({ state: 'visible', timeout: 30_000 });
      await input.fill(`>${title}`);
      const row = this.page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
      await row.waitFor({ state: 'visible', timeout: 30_000 });
      await this.page.keyboard.press('Enter');
    } catch (e) {
      await this.page.keyboard.press('Escape'); // never leave the palette open
      throw e;
    }
  }

  /** Answers a quick pick by the text of an entry. */
  async pickQuickPick(text: string | RegExp): Promise<void> {
    const row = this.page.locator('.quick-input-widget .monaco-list-row', { hasText: text }).first();
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    await row.click();
  }

  /**
   * The document of the webview whose page title (or `[data-testid=title]`) is `title`, e.g. the
   * inspector of one image when several are open side by side. Polls until found.
   */
  async webviewFor(title: string, timeoutMs = 60_000): Promise<FrameLocator> {
    const frames = this.page.locator('iframe.webview.ready');
    const name = await waitFor(
      `a webview titled ${title}`,
      async () => {
        for (const n of await frames.evaluateAll((els) => els.map((e) => e.getAttribute('name') ?? ''))) {
          if (!n) continue;
          const fl = this.page.frameLocator(`iframe.webview.ready[name="${n}"]`).frameLocator('#active-frame');
          const t = await fl
            .locator('#app')
            .evaluate((el) => {
              const doc = (el as unknown as { ownerDocument: { title: string; querySelector(s: string): { textContent: string | null } | null } }).ownerDocument;
              return [doc.title, doc.querySelector('[data-testid="title"]')?.textContent ?? ''];
            }, undefined, { timeout: 1000 })
            .catch(() => [] as string[]);
          if (t.some((x) => x.trim() === title)) return n;
        }
        return undefined;
      },
      timeoutMs,
      500,
    );
    return this.page.frameLocator(`iframe.webview.ready[name="${name}"]`).frameLocator('#active-frame');
  }

  /** The document of the visible webview (the inspector): outer iframe, then VS Code's inner frame. */
  webview(): FrameLocator {
    return this.page.locator('iframe.webview.ready:visible').last().contentFrame().frameLocator('#active-frame');
  }

  /** Titles of the editor tabs. */
  async tabTitles(): Promise<string[]> {
    return (await this.page.locator('.tabs-container .tab .label-name').allTextContents()).map((t) => t.trim());
  }

  /** Texts of the visible notification toasts. */
  async notifications(): Promise<string[]> {
    return (await this.page.locator('.notification-toast .notification-list-item-message').allTextContents()).map((t) => t.trim());
  }

  async waitForNotification(text: RegExp, timeoutMs = 60_000): Promise<string> {
    return waitFor(
      `a notification matching ${String(text)}`,
      async () => (await this.notifications()).find((n) => text.test(n)),
      timeoutMs,
    );
  }

  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications').catch(() => undefined);
    await this.closeMenus();
  }

  /** Reloads the whole window (Developer: Reload Window) and waits for the workbench again. */
  async reloadWindow(waitForFile: string): Promise<void> {
    const before = extensionHostsStarted(this.vs);
    await this.runCommand('Developer: Reload Window');
    await this.page.waitForLoadState('domcontentloaded');
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: SLOW_MS });
    await this.waitForExplorer(waitForFile);
    // code-server 4.100 under heavy load sometimes starts the new extension host and then never
    // sends it anything: not even vscode.git activates, and every webview stays blank (seen in CI
    // and locally, with no line from this extension). That is the workbench's failure, not the
    // panels': reload once more, as a user would, and say so in the log.
    const t0 = Date.now();
    const started = async (): Promise<boolean> => extensionHostsStarted(this.vs) > before;
    try {
      await waitFor('the extension host to start after the reload', started, RELOAD_HOST_MS, 1000);
    } catch {
      log(`no extension host activity ${RELOAD_HOST_MS / 1000} s after the reload (code-server stall); reloading once more`);
      await this.screenshot('stalled-reload');
      await this.page.reload({ waitUntil: 'domcontentloaded', timeout: SLOW_MS });
      await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: SLOW_MS });
      await this.waitForExplorer(waitForFile);
      await waitFor('the extension host to start after the second reload', started, SLOW_MS, 1000);
    }
    log(`extension host restarted ${((Date.now() - t0) / 1000).toFixed(1)} s after the reload`);
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
    await this.browser.close().catch(() => undefined);
  }
}

export async function openWorkbench(vs: CodeServer, label: string, firstFile = 'cat-face.png'): Promise<Workbench> {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: process.env.IMAGEFOLDER_E2E_HEADED !== '1',
    args: CHROMIUM_ARGS,
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const wb = new Workbench(vs, browser, context, page, label);
  try {
    const t0 = Date.now();
    await page.goto(`${vs.url}/?folder=${encodeURIComponent(vs.workspace)}`, { waitUntil: 'domcontentloaded', timeout: SLOW_MS });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: SLOW_MS });
    await wb.waitForExplorer(firstFile);
    log(`workbench loaded (${label}, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return wb;
  } catch (e) {
    // Leave evidence, and never leave a browser running (it would keep mocha alive).
    await wb.screenshot('FAILED-open-workbench');
    await wb.close();
    throw e;
  }
}
