// "Swap Branches of Two Images": the detail tokens of one image decoded with the semantic tokens
// of another, both ways. What each branch carries (layout and colour vs. category and gist, paper
// Fig. 6 and 8) shows directly in the two decodes. Pure: the command (commands.ts) encodes the
// images (the backend's `encode`: no inspection) and opens the inspectors.

import * as path from 'node:path';
import { UserError, mixBranches } from '../../core';
import type { EncodedImage, TokenSource } from '../backend';

export interface Mix {
  tokens: TokenSource;
  /** folder and file-name stem the mix's exports are offered under */
  exportPath: string;
}


const stem = (file: string) => path.basename(file, path.extname(file));

/** Why a one-branch model's images cannot swap branches (the panel's and the command's refusal). */
export function oneBranchSwap(model: string): string {
  return `Swapping branches needs a model with a detail and a semantic branch; "${model}" has one branch.`;
}

/**
 * The two mixes of encoded images a and b, which must come from the same model: a's detail with b's
 * semantic tokens, then b's detail with a's semantic tokens. Throws when the models differ (their
 * codes would mean different things).
 */
export function branchSwaps(a: EncodedImage, b: EncodedImage): [Mix, Mix] {
  if (path.resolve(a.model.dir) !== path.resolve(b.model.dir) || a.indices.length !== b.indices.length) {
    throw new Error(`the two images were tokenized by different models ("${a.model.name}", "${b.model.name}"): their codes cannot be mixed`);
  }
  if (a.model.branches.length < 2) throw new UserError('BAD_ARGUMENT', oneBranchSwap(a.model.name));
  // the package reader guarantees one branch of each role in a two-branch package
  const [detail, semantic] = (['detail', 'semantic'] as const).map((r) => a.model.branches.findIndex((b) => b.role === r));
  const mix = (d: EncodedImage, s: EncodedImage): Mix => {
    const tokens = mixBranches(semantic, d.indices, s.indices);
    const name = `${path.basename(d.image)} detail + ${path.basename(s.image)} semantic`;
    return {
      tokens: {
        tokens,
        modelDir: d.model.dir,
        name,
        notes: [
          `The detail tokens of ${path.basename(d.image)} with the semantic tokens of ${path.basename(s.image)}, both encoded by "${d.model.name}" (branches ${detail} and ${semantic}).`,
          'There is no input image: the full decode (all scales, both branches) stands in for it, and PSNR/SSIM say how close each reconstruction comes to it.',
        ],
      },
      exportPath: path.join(path.dirname(d.image), `${stem(d.image)}-detail+${stem(s.image)}-semantic`),
    };
  };
  return [mix(a, b), mix(b, a)];
}
