// Which files are images: the formats the image pipeline (sharp's prebuilt libvips) decodes. The
// one list: folder statistics, the commands, the open dialogs and the file watcher use it, and a
// host test checks package.json's menus and custom-editor selectors against it. (HEIC and JPEG XL
// are not here: the prebuilt sharp reads neither.)

import * as path from 'node:path';

/** lower-case, without the dot */
export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'avif', 'gif', 'tif', 'tiff', 'svg'] as const;

export function isImagePath(p: string): boolean {
  const ext = path.extname(p).slice(1).toLowerCase();
  return (IMAGE_EXTENSIONS as readonly string[]).includes(ext);
}
