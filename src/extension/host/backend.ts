// What the extension host needs from the model runtime. The real implementation (coreBackend.ts)
// wraps src/extension/core; unit tests use a fake. No `vscode` import here.

import type { InspectProgress } from '../core';
import type { BranchInfo, Inspection, PngImage, ProviderSetting, ResizeMode } from '../../shared/types';
import type { SamplingParams } from '../../shared/protocol/generate';
import type { FolderUsageView } from '../../shared/protocol/inspector';

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
  /** the inspection as it is decoded: its head with the full reconstruction, then each tile */
  onProgress?: (e: InspectProgress) => void;
}

export interface FolderProgress {
  done: number;
  total: number;
  current?: string;
}

export interface FolderOptions extends Omit<InspectOptions, 'onProgress'> {
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

/** A generated sample's tokens, to inspect like an image's. */
export interface TokenSource {
  /** [branch][token] */
  tokens: number[][];
  /** the model folder that generated them: its codebooks give the tokens their meaning */
  modelDir: string;
  /** shown as the inspection's image name */
  name: string;
  /** lines shown above the inspection (what was generated, with which settings) */
  notes: string[];
}

/** An image's tokens and the model that made them (what mixing two images' branches needs). */
export interface EncodedImage {
  image: string;
  /** [branch][token] */
  indices: number[][];
  model: { name: string; dir: string; branches: BranchInfo[] };
}

/** The configured model's generator, or why there is none. */
export interface GeneratorInfo {
  /** name of the model that would generate (the built-in one after a fallback) */
  model: string;
  dir: string;
  imageSize: number;
  scales: number[];
  /** set when this model cannot generate: no generator graphs, or broken ones */
  missing?: { code: string; message: string };
  classes: string[];
  /** the package's recommended sampling settings */
  defaults: { cfg: number; topK: number; topP: number; temperature: number };
  /** free-form facts from the manifest (depth, steps, hours) */
  about: Record<string, unknown>;
  /** set when the configured model failed and the built-in one was used instead */
  fallbackReason?: string;
}

export interface GenerateJob extends SamplingParams {
  settings: RuntimeSettings;
  classId: number;
  /** teacher forcing: this image's tokens of `force` are kept at every scale (encoded by the same model) */
  reference?: { imagePath: string; force: 'detail' | 'semantic' };
  signal: AbortSignal;
  /**
   * after each scale: decoded previews of scales 0..scale, one base64 PNG per sample. A returned
   * promise is awaited before the next scale (backpressure: the view keeps up, Cancel stays prompt).
   */
  onScale?: (p: { scale: number; scales: number; previews: string[]; elapsedMs: number }) => void | Promise<void>;
}

export interface GeneratedSet {
  /** dir: the model folder that generated the set (the built-in one after a fallback) */
  model: { name: string; dir: string; imageSize: number; scales: number[]; tokensPerBranch: number; branches: BranchInfo[] };
  /** the settings the run used, defaults filled in */
  settings: { classId: number; className: string; cfg: number; topK: number; topP: number; temperature: number; seed: number; count: number; forced?: 'detail' | 'semantic' };
  samples: { index: number; tokens: number[][]; png: PngImage }[];
  timingsMs: Record<string, number>;
}

export interface InspectorBackend {
  inspect(imagePath: string, options: InspectOptions): Promise<Inspection>;
  /** the images' tokens only (one encoder run, no decode), all by the same model */
  encode(imagePaths: string[], options: InspectOptions): Promise<EncodedImage[]>;
  folderUsage(folderPath: string, options: FolderOptions): Promise<FolderUsageView>;
  /** the inspection of token indices from the generator, on the model folder that generated them */
  inspectTokens(tokens: TokenSource, options: InspectOptions): Promise<Inspection>;
  /** load (or reuse) the model for these settings and describe it */
  describeModel(settings: RuntimeSettings): Promise<ModelSummary>;
  /** load (or reuse) the model for these settings and describe its generator (never throws for a missing one) */
  generatorInfo(settings: RuntimeSettings): Promise<GeneratorInfo>;
  /** class-conditional samples with per-scale previews; throws CANCELLED when `signal` aborts */
  generate(job: GenerateJob): Promise<GeneratedSet>;
  dispose(): void;
}

export function isCancellation(e: unknown): boolean {
  if (typeof e === 'object' && e !== null) {
    const o = e as { code?: unknown; name?: unknown };
    return o.code === 'CANCELLED' || o.name === 'AbortError';
  }
  return false;
}
