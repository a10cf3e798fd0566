// onnxruntime and sharp are native N-API modules: they must stay outside any esbuild bundle
// (the bundles mark them external) and are required lazily so that importing the core (e.g. at
// extension activation) does not load ~100 MB of native code until a model or image is used.
//
// The ONNX runtime has two backends with one typed API: onnxruntime-node (native, GPU providers)
// and, where its binding cannot load (no binaries for the platform: darwin-x64 since 1.24; or a
// load error such as a too-old glibc), onnxruntime-web's WebAssembly CPU build, which runs the same
// graphs in Node (provider 'wasm', ~8x slower, docs/performance.md). Its .wasm/.mjs pair is read from
// the installed package: nothing is downloaded.

import * as path from 'node:path';
import type * as OrtModule from 'onnxruntime-node';
import type SharpModule from 'sharp';

export type Ort = typeof OrtModule;
export type Sharp = typeof SharpModule;

export type OrtBackend = 'node' | 'web';

let native: { ort?: Ort; error?: string } | undefined;
let web: Ort | undefined;
let sharp: Sharp | undefined;

/**
 * One wasm thread per session: the runtime already runs sessions side by side in worker threads,
 * and on a loaded 2-core machine the built-in encoder took 95 ms a run with 1 thread, 229 ms with 2
 * and 189 ms with the default (Node 20, onnxruntime-web 1.30).
 */
export const WASM_THREADS = 1;

/** The folder holding onnxruntime-web's ort-wasm-simd-threaded.{wasm,mjs} (the pair Node loads). */
export function wasmDir(): string {
  return path.dirname(require.resolve('onnxruntime-web')) + path.sep;
}

/** onnxruntime-node, or why it cannot be used in this process (then the web backend runs). */
function loadNative(): { ort?: Ort; error?: string } {
  if (!native) {
    if (process.env.IMAGEFOLDER_ORT_BACKEND === 'web') {
      native = { error: 'IMAGEFOLDER_ORT_BACKEND=web' };
    } else {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const o = require('onnxruntime-node') as Ort;
        // Probing GPU providers that are absent makes onnxruntime log native errors to stderr; the
        // reasons are reported through ProviderReport instead, so keep its own log to fatal errors.
        if (!process.env.IMAGEFOLDER_DEBUG) o.env.logLevel = 'fatal';
        native = { ort: o };
      } catch (e) {
        native = { error: nativeLoadError((e as Error).message) };
      }
    }
  }
  return native;
}

/** The reason onnxruntime-node did not load, in one line a user can act on. */
export function nativeLoadError(message: string, platform: string = process.platform, arch: string = process.arch): string {
  const where = `${platform}-${arch}`;
  if (/Cannot find module/.test(message)) return `onnxruntime-node has no binary for ${where}`;
  return `onnxruntime-node cannot load on ${where}: ${message.split('\n')[0].slice(0, 200)}`;
}

/** Why the native backend is not used (undefined when it is). */
export function nativeUnavailable(): string | undefined {
  return loadNative().error;
}

/** onnxruntime-web set to run from the installed files, with WASM_THREADS threads. */
export function loadWebOrt(): Ort {
  if (!web) {
    let o: Ort & { env: { wasm: { wasmPaths?: string; numThreads?: number } } };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      o = require('onnxruntime-web') as typeof o;
    } catch (e) {
      // the VSIXes with onnxruntime-node binaries do not carry it (scripts/package.mjs)
      throw new Error(`${nativeUnavailable() ?? 'the wasm provider was asked for'}, and onnxruntime-web (the WebAssembly fallback) is not installed: ${(e as Error).message.split('\n')[0]}`);
    }
    o.env.wasm.wasmPaths = wasmDir();
    o.env.wasm.numThreads = WASM_THREADS;
    if (!process.env.IMAGEFOLDER_DEBUG) o.env.logLevel = 'fatal';
    web = o;
  }
  return web;
}

/** The backend that runs a provider's sessions: 'wasm' is onnxruntime-web, the others native. */
export function backendFor(provider: string): OrtBackend {
  return provider === 'wasm' || nativeUnavailable() ? 'web' : 'node';
}

/** The ONNX runtime for tensors and sessions in this thread: native where it loads, else web. */
export function loadOrt(): Ort {
  return loadNative().ort ?? loadWebOrt();
}

/** Where a backend is installed, for worker threads to load the same copy (ortWorker.ts). */
export function ortModulePath(backend: OrtBackend = 'node'): string {
  return require.resolve(backend === 'web' ? 'onnxruntime-web' : 'onnxruntime-node');
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
