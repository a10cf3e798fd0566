// onnxruntime-node and sharp are native N-API modules: they must stay outside any esbuild bundle
// (the bundles mark them external) and are required lazily so that importing the core (e.g. at
// extension activation) does not load ~100 MB of native code until a model or image is used.

import type * as OrtModule from 'onnxruntime-node';
import type SharpModule from 'sharp';

export type Ort = typeof OrtModule;
export type Sharp = typeof SharpModule;

let ort: Ort | undefined;
let sharp: Sharp | undefined;

export function loadOrt(): Ort {
  if (!ort) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const o = require('onnxruntime-node') as Ort;
    // Probing GPU providers that are absent makes onnxruntime log native errors to stderr; the
    // reasons are reported through ProviderReport instead, so keep its own log to fatal errors.
    if (!process.env.IMAGEFOLDER_DEBUG) o.env.logLevel = 'fatal';
    ort = o;
  }
  return ort;
}

/** Where onnxruntime-node is installed, for worker threads to load the same copy (ortWorker.ts). */
export function ortModulePath(): string {
  return require.resolve('onnxruntime-node');
}

export function loadSharp(): Sharp {
  if (!sharp) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const s = require('sharp') as Sharp;
    // The extension host and CLI handle one image at a time; a small libvips cache avoids holding
    // decoded megapixel images after use.
    s.cache({ memory: 64, files: 0, items: 20 });
    sharp = s;
  }
  return sharp;
}
