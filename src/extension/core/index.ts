// Public API of the core: everything the extension host, the CLI, tests and the benchmark use.
// No `vscode` import anywhere under core/.

export * from '../../shared/types';
export * from './types';
export { UserError, isUserError, type UserErrorCode } from './errors';
export { ModelRuntime, MAX_DECODE_BATCH, decodeRuns, type LoadOptions } from './runtime';
export { inspect, inspectMany, inspectIndices, decodePlan, type InspectOptions, type ImageInput } from './inspect';
export { folderStats, listImages, type FolderOptions } from './folder';
export { IMAGE_EXTENSIONS, isImagePath } from './imageFiles';
export { loadImage, toTensor, fromTensor, DEFAULT_PIXEL_LIMIT, type ImageOptions, type PreparedImage } from './image';
export { encodePng, pngImage } from './png';
export { psnr, ssim, ssimReference, ssimAgainst, perplexity, branchUsage, PSNR_CAP } from './metrics';
export { codeColours, type Rgb } from './colours';
export { checkIndices, mixBranches, tokenMaps, scaleOffsets, scaleMask, progressiveMask, contributionMask, branchOnlyMask } from './tokens';
export { parseTokenFile, readTokenFile, isTokenFilePath, MAX_TOKEN_FILE_BYTES, type TokenFile } from './tokenFile';
export { exportNpy } from './npy';
export { captionBands, contactSheet, contactSheetCaptions, gridSheet, sheetLayout, swapSheetCaptions, type SheetCaptions, type SheetOptions } from './sheet';
export { readModelPackage, validateManifest, FORMAT_VERSION, type Manifest, type ModelPackage } from './packageReader';
export { availableProviders, candidates, gpuOrder, PROVIDERS } from './providers';
export { builtInModelDir } from './paths';
export * from './generate';
