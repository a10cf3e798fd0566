// Data shapes only the runtime, the CLI and the host use (the webview's are in src/shared/types.ts).

import type { BranchUsage, ModelInfo, ProviderReport } from '../../shared/types';

export interface FolderProgress {
  done: number;
  total: number;
  /** the image just processed */
  image: string;
}

export interface TopCode {
  code: number;
  count: number;
  /** images using the code most (up to 5), most uses first */
  images: string[];
}

export interface FolderStats {
  folder: string;
  model: ModelInfo;
  provider: ProviderReport;
  /** images tokenised */
  images: number;
  failed: { image: string; code: string; reason: string }[];
  /** aggregated over all images, one per branch */
  usage: BranchUsage[];
  /** per branch: codes no image used */
  deadCodes: number[][];
  /** per branch: the most used codes */
  topCodes: TopCode[][];
  timingsMs: Record<string, number>;
}
