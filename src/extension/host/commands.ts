// The commands. Most find their target (Explorer selection, active editor tab or a dialog) and hand
// it to the inspector or Generate panels; Select Model also checks the chosen package before it
// writes the setting, and Swap Branches encodes both images before it opens the mixes.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { isCancellation, type InspectorBackend } from './backend';
import { branchSwaps } from './inspector/branchSwap';
import { describeError } from './errors';
import type { GeneratePanels } from './generate/panels';
import { IMAGE_EXTENSIONS, isImagePath } from '../core';
import type { InspectorPanels } from './inspector/panels';
import type { ExportFormat } from '../../shared/protocol/inspector';
import type { Logger } from './hostUi';
import { SECTION, type ResolvedSettings } from './settings';
import { COMMANDS } from './vscodeUi';

const MAX_MULTI_OPEN = 8;

function activeTabUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom) return input.uri;
  return vscode.window.activeTextEditor?.document.uri;
}

async function pickImage(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Inspect',
    title: 'ImageFolder: choose an image',
    filters: { Images: [...IMAGE_EXTENSIONS] },
  });
  return picked?.[0];
}

function imageUris(uri: unknown, uris: unknown): vscode.Uri[] {
  const list = Array.isArray(uris) && uris.length > 0 ? uris : uri ? [uri] : [];
  return list
    .filter((u): u is vscode.Uri => u instanceof vscode.Uri)
    .filter((u) => u.scheme === 'file' && isImagePath(u.fsPath))
    .slice(0, MAX_MULTI_OPEN);
}

export interface CommandDeps {
  manager: InspectorPanels;
  generatePanels: GeneratePanels;
  backend: InspectorBackend;
  log: Logger;
  channel: vscode.OutputChannel;
  settings: () => ResolvedSettings;
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { manager } = deps;

  async function targetImages(uri: unknown, uris: unknown): Promise<vscode.Uri[]> {
    const given = imageUris(uri, uris);
    if (given.length > 0) return given;
    if (uri instanceof vscode.Uri) {
      void vscode.window.showWarningMessage(
        `ImageFolder: "${path.basename(uri.fsPath)}" is not an image this extension reads (${IMAGE_EXTENSIONS.join(', ')}).`,
      );
      return [];
    }
    const active = activeTabUri();
    if (active && active.scheme === 'file' && isImagePath(active.fsPath)) return [active];
    const picked = await pickImage();
    return picked ? [picked] : [];
  }

  const tokenize = async (uri?: unknown, uris?: unknown): Promise<void> => {
    for (const u of await targetImages(uri, uris)) manager.open('image', u, true);
  };

  const openInspector = async (uri?: unknown, uris?: unknown): Promise<void> => {
    for (const u of await targetImages(uri, uris)) manager.open('image', u, false);
  };

  const folderUsage = async (uri?: unknown): Promise<void> => {
    let folder = uri instanceof vscode.Uri && uri.scheme === 'file' ? uri : undefined;
    if (folder) {
      const stat = await vscode.workspace.fs.stat(folder).then(
        (s) => s,
        () => undefined,
      );
      if (!stat || (stat.type & vscode.FileType.Directory) === 0) folder = vscode.Uri.joinPath(folder, '..');
    } else {
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: 'Compute codebook usage',
        title: 'ImageFolder: choose a folder of images',
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      });
      folder = picked?.[0];
    }
    if (folder) manager.open('folder', folder, false);
  };

  const selectModel = async (): Promise<boolean> => {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const current = deps.settings();
    const builtIn = current.runtime.modelDir === current.runtime.builtInModelDir;
    const items: (vscode.QuickPickItem & { id: 'builtin' | 'browse' })[] = [
      { id: 'builtin', label: '$(package) Built-in model', description: builtIn ? 'current' : '', detail: current.runtime.builtInModelDir },
      { id: 'browse', label: '$(folder-opened) Choose a model folder…', description: builtIn ? '' : `current: ${current.runtime.modelDir}` },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'ImageFolder: select the tokenizer model' });
    if (!pick) return false;
    const inspected = cfg.inspect<string>('modelPath');
    const trusted = vscode.workspace.isTrusted;
    const cfgTarget =
      trusted && (inspected?.workspaceValue !== undefined)
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
    if (pick.id === 'builtin') {
      await cfg.update('modelPath', '', cfgTarget);
      deps.log.info('model: built-in selected');
      return !builtIn;
    }
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: 'Use this model',
      title: 'ImageFolder: choose a model package folder (manifest.json, encoder.onnx, decoder.onnx, codebooks.bin)',
    });
    const dir = picked?.[0];
    if (!dir || dir.scheme !== 'file') return false;
    try {
      const summary = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'ImageFolder: checking the model', cancellable: false },
        () => deps.backend.describeModel({ ...current.runtime, modelDir: dir.fsPath }),
      );
      if (summary.fallbackReason) throw Object.assign(new Error(summary.fallbackReason), { code: 'MODEL_BAD_MANIFEST' });
      await cfg.update('modelPath', dir.fsPath, cfgTarget);
      deps.log.info(`model: ${summary.name} at ${summary.dir} (provider ${summary.provider})`);
      void vscode.window.showInformationMessage(`ImageFolder: using model "${summary.name}".`);
      return true;
    } catch (e) {
      const d = describeError(e, `"${dir.fsPath}" is not a usable model`);
      deps.log.error(d.message);
      void vscode.window.showErrorMessage(d.message);
      return false;
    }
  };

  const exportTokens = async (uri?: unknown): Promise<void> => {
    let session = uri instanceof vscode.Uri ? manager.controllerFor(uri) : manager.activeController();
    if (!session && uri instanceof vscode.Uri && isImagePath(uri.fsPath)) {
      session = manager.open('image', uri, false);
      await session.refresh();
    } else if (session && !session.lastInspection) {
      await session.idle();
    }
    if (!session || !session.lastInspection) {
      void vscode.window.showInformationMessage('ImageFolder: tokenize an image first ("ImageFolder: Tokenize Image"), then export its tokens.');
      return;
    }
    const items: (vscode.QuickPickItem & { id: ExportFormat })[] = [
      { id: 'tokens-json', label: 'Tokens as JSON', description: '.json: indices per branch and per scale, PSNR/SSIM' },
      { id: 'tokens-npy', label: 'Tokens as NumPy array', description: '.npy: int64 [branches, tokens]' },
      { id: 'png', label: 'Reconstruction as PNG', description: 'all scales, both branches' },
      { id: 'sheet', label: 'Contact sheet as PNG', description: 'the input, every scale and its contribution, both branch ablations' },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'ImageFolder: export' });
    if (!pick) return;
    try {
      await session.exportAs(pick.id);
    } catch (e) {
      const d = describeError(e, 'Export failed');
      deps.log.error(d.message);
      void vscode.window.showErrorMessage(d.message);
    }
  };

  // Two images (the Explorer's selection, or chosen in a dialog) tokenized with the current
  // settings, then one inspector per mix of their branches (branchSwap.ts).
  const swapBranches = async (uri?: unknown, uris?: unknown): Promise<void> => {
    let images = imageUris(uri, uris);
    if (images.length < 2) {
      const picked = await vscode.window.showOpenDialog({
        canSelectMany: true,
        openLabel: 'Swap branches',
        title: images.length === 1 ? `ImageFolder: choose the image to swap branches with ${path.basename(images[0].fsPath)}` : 'ImageFolder: choose two images',
        filters: { Images: [...IMAGE_EXTENSIONS] },
      });
      images = [...images, ...imageUris(undefined, picked)];
    }
    if (images.length !== 2) {
      void vscode.window.showInformationMessage(`ImageFolder: Swap Branches takes two images (${images.length} given): select two in the Explorer, or choose them in the dialog.`);
      return;
    }
    const settings = deps.settings().runtime;
    const names = images.map((u) => path.basename(u.fsPath)).join(' and ');
    let encoded;
    try {
      encoded = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `ImageFolder: tokenizing ${names}`, cancellable: true },
        (_progress, token) => {
          const ac = new AbortController();
          token.onCancellationRequested(() => ac.abort());
          return deps.backend.encode([images[0].fsPath, images[1].fsPath], { settings, signal: ac.signal });
        },
      );
    } catch (e) {
      if (isCancellation(e)) return;
      throw e;
    }
    for (const m of branchSwaps(encoded[0], encoded[1])) manager.openGenerated(m.tokens, m.exportPath);
    deps.log.info(`swapped the branches of ${names}`);
  };

  // Opens the Generate view when the active model has a generator; otherwise a message naming the
  // model (GeneratePanels.openChecked). Plain generation: teacher forcing starts from an inspector.
  const generate = async (): Promise<void> => {
    await deps.generatePanels.openChecked();
  };

  const wrap =
    <A extends unknown[]>(name: string, fn: (...args: A) => unknown) =>
    async (...args: A): Promise<void> => {
      try {
        await fn(...args);
      } catch (e) {
        const d = describeError(e, `ImageFolder: ${name} failed`);
        deps.log.error(`${d.message}${e instanceof Error && e.stack ? `\n${e.stack}` : ''}`);
        void vscode.window.showErrorMessage(d.message, 'Show Log').then((c) => c && deps.channel.show(true));
      }
    };

  return [
    vscode.commands.registerCommand(COMMANDS.tokenize, wrap('Tokenize Image', tokenize)),
    vscode.commands.registerCommand(COMMANDS.openInspector, wrap('Open Inspector', openInspector)),
    vscode.commands.registerCommand(COMMANDS.generate, wrap('Generate Images', generate)),
    vscode.commands.registerCommand(COMMANDS.folderUsage, wrap('Show Codebook Usage for Folder', folderUsage)),
    vscode.commands.registerCommand(COMMANDS.selectModel, async () => {
      try {
        return await selectModel();
      } catch (e) {
        deps.log.error(`Select Model failed: ${String(e)}`);
        return false;
      }
    }),
    vscode.commands.registerCommand(COMMANDS.exportTokens, wrap('Export Tokens', exportTokens)),
    vscode.commands.registerCommand(COMMANDS.swapBranches, wrap('Swap Branches of Two Images', swapBranches)),
  ];
}
