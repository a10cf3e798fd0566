// The data shapes the webview shows, shared by the runtime (which makes them), the CLI, the
// extension host and (through the protocol) the webview. The ground floor: imports nothing. Data
// only, no behaviour: everything must survive JSON/postMessage.

export type BranchRole = 'detail' | 'semantic';
export type BranchSelection = 'both' | 'detail' | 'semantic';
/** the ONNX Runtime execution providers this extension knows (the provider setting adds 'auto') */
export const PROVIDERS = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;
export type ProviderName = (typeof PROVIDERS)[number];
export type ProviderSetting = 'auto' | ProviderName;
export type ResizeMode = 'crop' | 'letterbox';

export interface BranchInfo {
  name: string;
  role: BranchRole;
  codebookSize: number;
  codeDim: number;
}

export interface ModelInfo {
  name: string;
  dir: string;
  builtIn: boolean;
  imageSize: number;
  scales: number[];
  tokensPerBranch: number;
  branches: BranchInfo[];
  license: string;
  provenance: Record<string, unknown>;
}

export interface ProviderReport {
  /** provider that runs each graph, e.g. { encoder: 'cpu', decoder: 'cpu' } */
  chosen: Record<string, ProviderName>;
  /** providers tried and skipped, with the reason (e.g. webgpu: "No supported adapters") */
  skipped: { provider: ProviderName; reason: string }[];
  available: ProviderName[];
  /** with the setting `auto`, once made: the provider every graph uses and why (core/providerChoice.ts) */
  choice?: ProviderChoice;
}

/** One provider's measured time for one encoder run and one decoder run (core/providerChoice.ts). */
export interface ProviderTiming {
  provider: ProviderName;
  encoderMs: number;
  decoderMs: number;
}

/** `auto`'s choice: the provider, a sentence saying why, the timings behind it, and whether it was remembered. */
export interface ProviderChoice {
  provider: ProviderName;
  reason: string;
  timings: ProviderTiming[];
  cached: boolean;
}

/** An RGB image as PNG bytes, base64 (what the webview shows). */
export interface PngImage {
  width: number;
  height: number;
  pngBase64: string;
}

export interface TokenMap {
  branch: number;
  scale: number;
  side: number;
  /** indices row-major, length side*side */
  indices: number[];
}

export interface BranchUsage {
  branch: number;
  /** count per code over all scales, length codebookSize */
  histogram: number[];
  /** per scale: count per code (sparse: [code, count] pairs) */
  perScale: [number, number][][];
  used: number;
  utilisation: number;
  perplexity: number;
}

export interface Inspection {
  image: string;
  model: ModelInfo;
  provider: ProviderReport;
  notes: string[];
  /**
   * 'tokens': inspected from token indices (a generated sample, inspectIndices), not an image:
   * `input` is then the full decode and PSNR/SSIM compare with it. Absent for images.
   */
  source?: 'tokens';
  input: PngImage;
  /** indices[branch] has length tokensPerBranch */
  indices: number[][];
  /** progressive[k] = reconstruction from scales 0..k, both branches */
  progressive: PngImage[];
  /** contribution[k] = scale k alone, both branches */
  contribution: PngImage[];
  /** ablation: semantic only and detail only, all scales */
  ablation: { semantic: PngImage; detail: PngImage };
  psnrByScale: number[];
  ssimByScale: number[];
  ablationMetrics: { semantic: { psnr: number; ssim: number }; detail: { psnr: number; ssim: number } };
  tokenMaps: TokenMap[];
  /** colour per code per branch, [branch][code] = [r, g, b] 0..255 (PCA of the normalised codebook) */
  codeColours: [number, number, number][][];
  usage: BranchUsage[];
  timingsMs: Record<string, number>;
}
