// A small in-memory stand-in for the `vscode` module: just the API surface the extension host
// uses, with hooks so tests can play the user (dialog answers) and observe what happened.

import * as nodePath from 'node:path';

type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  event = (l: Listener<T>): Disposable => {
    this.listeners.push(l);
    return new Disposable(() => {
      this.listeners = this.listeners.filter((x) => x !== l);
    });
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Disposable {
  constructor(private readonly fn: () => unknown) {}
  static from(...ds: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => ds.forEach((d) => d.dispose()));
  }
  dispose(): void {
    this.fn();
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static file(p: string): Uri {
    return new Uri('file', nodePath.resolve(p));
  }
  static parse(s: string, strict = false): Uri {
    const m = /^([a-zA-Z][\w+.-]*):(?:\/\/[^/]*)?(.*)$/.exec(s);
    if (!m) {
      if (strict) throw new Error(`bad uri ${s}`);
      return new Uri('file', s);
    }
    return new Uri(m[1], decodeURIComponent(m[2]));
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, nodePath.posix.join(base.path, ...parts));
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${encodeURI(this.path).replace(/#/g, '%23').replace(/\?/g, '%3F')}`;
  }
  with(change: { scheme?: string; path?: string }): Uri {
    return new Uri(change.scheme ?? this.scheme, change.path ?? this.path);
  }
}

export class RelativePattern {
  constructor(
    readonly base: Uri | string,
    readonly pattern: string,
  ) {}
}

export class TabInputText {
  constructor(readonly uri: Uri) {}
}
export class TabInputCustom {
  constructor(
    readonly uri: Uri,
    readonly viewType: string,
  ) {}
}

export enum ViewColumn {
  Active = -1,
  Beside = -2,
  One = 1,
}
export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}
export enum ConfigurationTarget {
  Global = 1,
  Workspace = 2,
  WorkspaceFolder = 3,
}
export enum FileType {
  Unknown = 0,
  File = 1,
  Directory = 2,
  SymbolicLink = 64,
}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
  cancel(): void {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
}

// ------------------------------------------------------------------ recorded state and hooks

export class FakeWebview {
  html = '';
  options: Record<string, unknown> = {};
  cspSource = 'https://fake.vscode-cdn.net';
  readonly posted: unknown[] = [];
  readonly receive = new EventEmitter<unknown>();
  onDidReceiveMessage = this.receive.event;
  postMessage(m: unknown): Promise<boolean> {
    this.posted.push(JSON.parse(JSON.stringify(m)));
    return Promise.resolve(true);
  }
  asWebviewUri(u: Uri): Uri {
    return u.with({ scheme: 'https' });
  }
}

export class FakePanel {
  readonly webview = new FakeWebview();
  iconPath: unknown;
  active = true;
  disposed = false;
  private readonly disposeEmitter = new EventEmitter<void>();
  private readonly viewState = new EventEmitter<{ webviewPanel: FakePanel }>();
  onDidDispose = this.disposeEmitter.event;
  onDidChangeViewState = this.viewState.event;
  constructor(
    readonly viewType: string,
    public title: string,
    options: Record<string, unknown> = {},
  ) {
    this.webview.options = options;
  }
  reveal(): void {
    this.active = true;
    this.viewState.fire({ webviewPanel: this });
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeEmitter.fire();
  }
}

export class FakeWatcher {
  readonly changeE = new EventEmitter<Uri>();
  readonly createE = new EventEmitter<Uri>();
  readonly deleteE = new EventEmitter<Uri>();
  onDidChange = this.changeE.event;
  onDidCreate = this.createE.event;
  onDidDelete = this.deleteE.event;
  disposed = false;
  constructor(readonly pattern: RelativePattern) {}
  dispose(): void {
    this.disposed = true;
  }
}

export interface Answers {
  saveDialog?: (opts: { defaultUri?: Uri }) => Uri | undefined;
  openDialog?: (opts: Record<string, unknown>) => Uri[] | undefined;
  quickPick?: (items: { label: string; id?: string }[]) => unknown;
  warning?: (msg: string, items: string[]) => string | undefined;
  error?: (msg: string, items: string[]) => string | undefined;
  cancelProgress?: boolean;
}

export const state = {
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  executed: [] as { id: string; args: unknown[] }[],
  panels: [] as FakePanel[],
  watchers: [] as FakeWatcher[],
  messages: [] as { level: 'info' | 'warning' | 'error'; text: string; items: string[] }[],
  log: [] as string[],
  serializers: new Map<string, unknown>(),
  customEditors: new Map<string, unknown>(),
  config: new Map<string, { globalValue?: unknown; workspaceValue?: unknown; defaultValue?: unknown }>(),
  configUpdates: [] as { key: string; value: unknown; target: unknown }[],
  trusted: true,
  workspaceFolders: undefined as { uri: Uri; name: string; index: number }[] | undefined,
  answers: {} as Answers,
  activeTabUri: undefined as Uri | undefined,
  progressTitles: [] as string[],
  configEmitter: new EventEmitter<{ affectsConfiguration(s: string): boolean }>(),
  trustEmitter: new EventEmitter<void>(),
};

export function resetState(): void {
  state.commands.clear();
  state.executed.length = 0;
  state.panels.length = 0;
  state.watchers.length = 0;
  state.messages.length = 0;
  state.log.length = 0;
  state.serializers.clear();
  state.customEditors.clear();
  state.config.clear();
  state.configUpdates.length = 0;
  state.trusted = true;
  state.workspaceFolders = undefined;
  state.answers = {};
  state.activeTabUri = undefined;
  state.progressTitles.length = 0;
  state.configEmitter = new EventEmitter();
  state.trustEmitter = new EventEmitter();
}

function message(level: 'info' | 'warning' | 'error', text: string, rest: unknown[]): Promise<string | undefined> {
  const items = rest.filter((x): x is string => typeof x === 'string');
  state.messages.push({ level, text, items });
  const hook = level === 'warning' ? state.answers.warning : level === 'error' ? state.answers.error : undefined;
  return Promise.resolve(hook ? hook(text, items) : undefined);
}

function logChannel(name: string) {
  const push = (lvl: string) => (m: string) => state.log.push(`[${lvl}] ${m}`);
  return {
    name,
    info: push('info'),
    warn: push('warn'),
    error: push('error'),
    debug: push('debug'),
    trace: push('trace'),
    appendLine: push('line'),
    append: push('raw'),
    show: () => undefined,
    hide: () => undefined,
    clear: () => undefined,
    dispose: () => undefined,
  };
}

export const window = {
  createOutputChannel: (name: string) => logChannel(name),
  createWebviewPanel: (viewType: string, title: string, _col: unknown, options: Record<string, unknown>) => {
    const p = new FakePanel(viewType, title, options);
    state.panels.push(p);
    return p;
  },
  showInformationMessage: (t: string, ...rest: unknown[]) => message('info', t, rest),
  showWarningMessage: (t: string, ...rest: unknown[]) => message('warning', t, rest),
  showErrorMessage: (t: string, ...rest: unknown[]) => message('error', t, rest),
  showSaveDialog: (opts: { defaultUri?: Uri }) => Promise.resolve(state.answers.saveDialog?.(opts)),
  showOpenDialog: (opts: Record<string, unknown>) => Promise.resolve(state.answers.openDialog?.(opts)),
  showQuickPick: (items: { label: string; id?: string }[]) => Promise.resolve(state.answers.quickPick?.(items)),
  withProgress: <T>(opts: { title?: string }, task: (p: { report(v: unknown): void }, token: unknown) => Promise<T>): Promise<T> => {
    state.progressTitles.push(opts.title ?? '');
    const cts = new CancellationTokenSource();
    const r = task({ report: () => undefined }, cts.token);
    if (state.answers.cancelProgress) setTimeout(() => cts.cancel(), 0);
    return r;
  },
  registerWebviewPanelSerializer: (viewType: string, s: unknown) => {
    state.serializers.set(viewType, s);
    return new Disposable(() => state.serializers.delete(viewType));
  },
  registerCustomEditorProvider: (viewType: string, p: unknown) => {
    state.customEditors.set(viewType, p);
    return new Disposable(() => state.customEditors.delete(viewType));
  },
  get tabGroups() {
    return {
      activeTabGroup: { activeTab: state.activeTabUri ? { input: new TabInputText(state.activeTabUri) } : undefined },
    };
  },
  activeTextEditor: undefined,
};

export const workspace = {
  getConfiguration: (section: string) => ({
    inspect: (key: string) => {
      const v = state.config.get(`${section}.${key}`);
      return v ? { key: `${section}.${key}`, ...v } : { key: `${section}.${key}` };
    },
    get: (key: string, def?: unknown) => {
      const v = state.config.get(`${section}.${key}`);
      return v?.workspaceValue ?? v?.globalValue ?? v?.defaultValue ?? def;
    },
    update: (key: string, value: unknown, target: unknown) => {
      state.configUpdates.push({ key: `${section}.${key}`, value, target });
      const cur = state.config.get(`${section}.${key}`) ?? {};
      if (target === ConfigurationTarget.Global) cur.globalValue = value;
      else cur.workspaceValue = value;
      state.config.set(`${section}.${key}`, cur);
      return Promise.resolve();
    },
  }),
  get isTrusted() {
    return state.trusted;
  },
  get workspaceFolders() {
    return state.workspaceFolders;
  },
  onDidChangeConfiguration: (l: Listener<{ affectsConfiguration(s: string): boolean }>) => state.configEmitter.event(l),
  onDidGrantWorkspaceTrust: (l: Listener<void>) => state.trustEmitter.event(l),
  createFileSystemWatcher: (pattern: RelativePattern) => {
    const w = new FakeWatcher(pattern);
    state.watchers.push(w);
    return w;
  },
  fs: {
    stat: async (u: Uri) => {
      const fs = await import('node:fs/promises');
      const s = await fs.stat(u.fsPath);
      return { type: s.isDirectory() ? FileType.Directory : FileType.File, size: s.size, ctime: 0, mtime: 0 };
    },
  },
};

export const commands = {
  registerCommand: (id: string, fn: (...args: unknown[]) => unknown) => {
    if (state.commands.has(id)) throw new Error(`command ${id} registered twice`);
    state.commands.set(id, fn);
    return new Disposable(() => state.commands.delete(id));
  },
  executeCommand: async (id: string, ...args: unknown[]) => {
    state.executed.push({ id, args });
    const fn = state.commands.get(id);
    return fn ? fn(...args) : undefined;
  },
};

/** vscode.Memento over a Map; values go through JSON as in VS Code's storage. */
export class FakeMemento {
  readonly data = new Map<string, string>();
  get<T>(key: string): T | undefined {
    const v = this.data.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  update(key: string, value: unknown): Promise<void> {
    if (value === undefined) this.data.delete(key);
    else this.data.set(key, JSON.stringify(value));
    return Promise.resolve();
  }
  keys(): string[] {
    return [...this.data.keys()];
  }
}

/** workspaceState: pass the previous context's to model a window reload */
export function makeContext(extensionRoot: string, workspaceState = new FakeMemento()) {
  return {
    workspaceState,
    subscriptions: [] as { dispose(): unknown }[],
    extensionUri: Uri.file(extensionRoot),
    extensionPath: extensionRoot,
    extension: { packageJSON: { version: '0.0.0-test' } },
  };
}
