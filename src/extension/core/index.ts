// Public API of the core: everything the extension host, the CLI and the benchmark use, and
// their only way in (eslint.config.mjs forbids deep imports from them; tests may reach further).
// No `vscode` import anywhere under core/.

export * from '../../shared/types';
export * from './types';
export * from '../../shared/limits';
export { UserError, isUserError, type UserErrorCode } from './errors';
export { ModelRuntime, MAX_DECODE_BATCH, LARGE_DECODER_BYTES, decodeRuns, type LoadOptions } from './runtime';
export { inspect, inspectMany, inspectIndices, encodeImages, resolveImageOptions, decodePlan, type InspectOptions, type InspectProgress, type PlannedTile, type ImageInput, type EncodedImages } from './inspect';
export { folderStats, listImages, type FolderOptions } from './folder';
export { IMAGE_EXTENSIONS, isImagePath } from './imageFiles';
export { loadImage, toTensor, fromTensor, DEFAULT_PIXEL_LIMIT, type ImageOptions, type PreparedImage } from './image';
export { encodePng, pngImage } from './png';
export { psnr, ssim, ssimReference, ssimAgainst, perplexity, branchUsage, PSNR_CAP } from './metrics';
export { codeColours, type Rgb } from './colours';
export { checkIndices, mixBranches, tokenMaps, scaleOffsets, scaleMask, progressiveMask, contributionMask, branchOnlyMask } from './tokens';
export { parseTokenFile, readTokenFile, isTokenFilePath, tokenFileJson, MAX_TOKEN_FILE_BYTES, TOKEN_FILE_FORMAT, TOKEN_FILE_VERSION, type TokenFile, type TokenFileJson, type TokenFileModel } from './tokenFile';
export { exportNpy } from './npy';
export { captionBands, contactSheet, contactSheetCaptions, gridSheet, sheetLayout, swapSheetCaptions, type SheetCaptions, type SheetOptions } from './sheet';
export { readModelPackage, validateManifest, FORMAT_VERSION, type Manifest, type ModelPackage, type BranchRoles } from './packageReader';
export { availableProviders, candidates, gpuOrder } from './providers';
export { defaultChoiceCacheFile, fileChoiceCache, type ChoiceCache } from './providerChoice';
export { builtInModelDir } from './paths';
export * from './generate';
