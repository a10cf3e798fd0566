// Generation with a package's folded next-scale generator: sampling, the KV-cache loop, teacher
// forcing. No `vscode` import; see docs/core-api.md, "Generation".

export { generate, resolveGeneration, GeneratorGraphs } from './generate';
export type { GenerateOptions, GenerationResult, GenerationSettings, GeneratedSample, GenerationMode, ScaleProgress, ReferenceIndices } from './generate';
export { generatorSpec, hasGenerator, FALLBACK_DEFAULTS, type GeneratorSpec } from './spec';
export { RowSampler, PairSampler, guidanceWeight, checkSettings, kthLargest, topPThreshold, type SamplingSettings } from './sampling';
export { sampleStream, checkSeed, Xoshiro128ss, SplitMix64 } from './rng';
