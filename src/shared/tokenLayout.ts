// The token layout of docs/model-format.md, shared by the core and the webview: per branch,
// scales coarse to fine, row-major inside a scale.

/** Index of the first token of each scale within a branch's flat index list. */
export function scaleOffsets(scales: readonly number[]): number[] {
  const out: number[] = [];
  let t = 0;
  for (const pn of scales) {
    out.push(t);
    t += pn * pn;
  }
  return out;
}
