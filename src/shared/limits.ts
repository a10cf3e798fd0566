// Generation limits: the core enforces them (core/generate), and the protocol, the settings and
// the CLI check them early with the same numbers. Here, not in the core, because the webview
// bundle validates its form with them and must not pull in the core.

/** samples in one generation */
export const MAX_GENERATE_COUNT = 64;
/** seeds are integers 0..this (exact in a double, so they survive JSON) */
export const MAX_GENERATE_SEED = Number.MAX_SAFE_INTEGER;
/** classifier-free guidance scales are 0..this */
export const MAX_CFG = 100;
/** top-k is an integer 0..this (0 = off); more than any codebook here */
export const MAX_TOP_K = 1 << 20;
/** temperatures are > 0 and at most this */
export const MAX_TEMPERATURE = 100;
