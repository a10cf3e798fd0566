// A captioned picture of the inspector (input, reconstruction, contribution, ablations), and the
// one way its image is set (only when it changed: no flicker while stepping scales).

import type { PngImage } from '../../shared/types';
import { h, pngSrc } from '../dom';

export interface Figure {
  fig: HTMLElement;
  img: HTMLImageElement;
}

/**
 * regions: when given, the picture also gets an overlay outlining a hovered token's cell, added
 * to that list (CompareView.showTokenRegion moves them).
 */
export function figure(testid: string, caption: HTMLElement, alt: string, regions?: HTMLElement[]): Figure {
  const img = h('img', { testid, alt, class: 'pic', draggable: 'false' });
  if (!regions) return { fig: h('figure', {}, img, h('figcaption', {}, caption)), img };
  const region = h('div', { class: 'token-region', testid: `token-region-${testid}`, 'aria-hidden': 'true' });
  region.hidden = true;
  regions.push(region);
  return { fig: h('figure', {}, h('div', { class: 'pic-box' }, img, region), h('figcaption', {}, caption)), img };
}

/** a transparent 1x1 GIF: a tile not decoded yet shows its frame (CSS .pending), not a broken-image icon */
const PENDING_SRC = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';

/** p undefined: the tile is still being decoded (a placeholder of the model's size, `size`). */
export function setImage(img: HTMLImageElement, p: PngImage | undefined, size = 0): void {
  img.classList.toggle('pending', !p);
  if (!p) {
    if (img.getAttribute('src') !== PENDING_SRC) img.src = PENDING_SRC;
    img.width = size;
    img.height = size;
    return;
  }
  const src = pngSrc(p.pngBase64);
  if (img.getAttribute('src') !== src) img.src = src;
  img.width = p.width;
  img.height = p.height;
}
