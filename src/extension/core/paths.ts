// Where the built-in model lives relative to the installed extension / package root.

import * as path from 'node:path';

export const BUILT_IN_MODEL = 'imagefolder-mini';

/** root: the extension or npm package folder (the one holding package.json). */
export function builtInModelDir(root: string): string {
  return path.join(root, 'models', BUILT_IN_MODEL);
}
