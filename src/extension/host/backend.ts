// What the extension host needs from the model runtime. The real implementation (coreBackend.ts)
// wraps src/extension/core; unit tests use a fake. No `vscode` import here.

import type { Inspection, ProviderSetting, ResizeMode } from '../core/types';
import type { FolderUsageView } from '../../shared/protocol';

export interface RuntimeSettings {
  /** absolute model folder */
  modelDir: string;
  builtInModelDir: string;
  provider: ProviderSetting;
  threads: number;
  resize: ResizeMode;
  background: string;
  pixelLimit: number;
}

export interface InspectOptions {
  settings: RuntimeSettings;
  signal: AbortSignal;
}

export interface FolderProgress {
  done: number;
  total: number;
  current?: string;
}

export interface FolderOptions extends InspectOptions {
  onProgress?: (p: FolderProgress) => void;
}

export interface ModelSummary {
  name: string;
  dir: string;
  builtIn: boolean;
  provider: string;
  /** set when the configured model failed and the built-in one was used instead */
  fallbackReason?: string;
}

export interface InspectorBackend {
  inspect(imagePath: string, options: InspectOptions): Promise<Inspection>;
  folderUsage(folderPath: string, options: FolderOptions): Promise<FolderUsageView>;
  /** load (or reuse) the model for these settings and describe it */
  describeModel(settings: RuntimeSettings): Promise<ModelSummary>;
  dispose(): void;
}

export class CancelledError extends Error {
  readonly code = 'CANCELLED';
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export function isCancellation(e: unknown): boolean {
  if (e instanceof CancelledError) return true;
  if (typeof e === 'object' && e !== null) {
    const o = e as { code?: unknown; name?: unknown };
    return o.code === 'CANCELLED' || o.name === 'AbortError';
  }
  return false;
}
