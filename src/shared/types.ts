// The data shapes the webview shows, shared by the runtime (which makes them), the CLI, the
// extension host and (through the protocol) the webview. The ground floor: imports nothing. Data
// only, no behaviour: everything must survive JSON/postMessage.

/** 'single': the one branch of a P = 1 package (e.g. VAR's tokenizer); P = 2 packages have one detail and one semantic branch. */
export type BranchRole = 'detail' | 'semantic' | 'single';
export type BranchSelection = 'both' | 'detail' | 'semantic';
/** the ONNX Runtime execution providers this extension knows (the provider setting adds 'auto') */
// 'wasm': onnxruntime-web's WebAssembly CPU build, where onnxruntime-node cannot load (core/native.ts)
export const PROVIDERS = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu', 'wasm'] as const;
export type ProviderName = (typeof PROVIDERS)[number];
export type ProviderSetting = 'auto' | ProviderName;
export type ResizeMode = 'crop' | 'letterbox';

export interface BranchInfo {
  name: string;
  role: BranchRole;
  codebookSize: number;
  codeDim: number;
  /** how the graphs pick a code (docs/model-format.md); the token-map colours follow it. Absent: cosine */
  lookup?: CodeLookup;
}

export type CodeLookup = 'cosine' | 'euclidean';

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

/** Everything an inspection shows except the decoded tiles (the first thing a streamed inspection sends). */
export interface InspectionHead {
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
  tokenMaps: TokenMap[];
  /** colour per code per branch, [branch][code] = [r, g, b] 0..255 (PCA of the normalised codebook) */
  codeColours: [number, number, number][][];
  usage: BranchUsage[];
  timingsMs: Record<string, number>;
}

/** The decoded tiles of an inspection with their quality against the input. */
export interface InspectionTiles {
  /** progressive[k] = reconstruction from scales 0..k, all branches */
  progressive: PngImage[];
  /** contribution[k] = scale k alone, all branches */
  contribution: PngImage[];
  psnrByScale: number[];
  ssimByScale: number[];
  /** each branch alone, all scales: only for a two-branch (detail + semantic) model */
  ablation?: { semantic: PngImage; detail: PngImage };
  ablationMetrics?: { semantic: { psnr: number; ssim: number }; detail: { psnr: number; ssim: number } };
}

export interface Inspection extends InspectionHead, InspectionTiles {}

/** Which decoded tile: a scale's progressive reconstruction or contribution, or one branch alone. */
export type TileKind = 'progressive' | 'contribution' | 'ablation-semantic' | 'ablation-detail';

/** One tile of a streamed inspection, as soon as it is decoded. */
export interface TileUpdate {
  kind: TileKind;
  /** the scale (0-based) of a progressive or contribution tile; the last scale for an ablation */
  scale: number;
  png: PngImage;
  /** against the input: progressive and ablation tiles only */
  quality?: { psnr: number; ssim: number };
}
