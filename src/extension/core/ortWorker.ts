// One onnxruntime host in a worker thread. onnxruntime-node runs a session synchronously on the
// calling thread, so on the extension host's thread every decoder run would freeze the editor's
// extensions for its whole duration (~40 ms a run of tiles); in a worker the host's event loop stays
// free. Two workers with a single-threaded decoder each also beat one two-threaded session on
// these small graphs: tiles run side by side without onnxruntime's per-operator thread hand-offs
// (docs/performance.md, "Session 6").

import { Worker } from 'node:worker_threads';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { backendFor, ortModulePath, wasmDir, WASM_THREADS, type OrtBackend } from './native';

/** A tensor as it crosses the thread boundary (structured clone; output buffers are transferred). */
export interface WireTensor {
  type: Tensor.Type;
  dims: readonly number[];
  data: Tensor.DataType;
}

type Request =
  | { id: number; kind: 'create'; key: string; file: string; options: InferenceSession.SessionOptions; backend: OrtBackend }
  | { id: number; kind: 'run'; key: string; feeds: Record<string, WireTensor> }
  | { id: number; kind: 'release'; key: string };

type Reply = { id: number; ok: true; outputs?: Record<string, WireTensor> } | { id: number; ok: false; message: string };

// The worker's program, as source text rather than a file: every bundle that includes the core
// (extension, CLI, tests, benchmark) then carries it, with no second entry point to build and find.
// Each backend (native.ts: onnxruntime-node, or onnxruntime-web for the 'wasm' provider) is required
// on first use by the absolute path the parent resolved, so that the worker loads the same installed
// copy whatever its working directory; a session remembers the backend that made it. The web
// backend is given the model's bytes (it has no file loader in Node) and the installed wasm files.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const backends = new Map();
function backend(name) {
  let ort = backends.get(name);
  if (!ort) {
    ort = require(workerData.paths[name]);
    if (!workerData.debug) ort.env.logLevel = 'fatal';
    if (name === 'web') {
      ort.env.wasm.wasmPaths = workerData.wasmDir;
      ort.env.wasm.numThreads = workerData.wasmThreads;
    }
    backends.set(name, ort);
  }
  return ort;
}
const sessions = new Map();
async function handle(m) {
  if (m.kind === 'create') {
    const ort = backend(m.backend);
    const model = m.backend === 'web' ? require('node:fs').readFileSync(m.file) : m.file;
    sessions.set(m.key, { ort, session: await ort.InferenceSession.create(model, m.options) });
    return {};
  }
  const entry = sessions.get(m.key);
  if (!entry) throw new Error('no session ' + m.key + ' in this worker');
  const { ort, session: s } = entry;
  if (m.kind === 'release') {
    sessions.delete(m.key);
    await s.release();
    return {};
  }
  const feeds = {};
  for (const k of Object.keys(m.feeds)) feeds[k] = new ort.Tensor(m.feeds[k].type, m.feeds[k].data, m.feeds[k].dims);
  const out = await s.run(feeds);
  const outputs = {};
  for (const k of Object.keys(out)) outputs[k] = { type: out[k].type, dims: out[k].dims, data: out[k].data };
  return { outputs };
}
parentPort.on('message', (m) => {
  handle(m).then(
    (r) => {
      const reply = Object.assign({ id: m.id, ok: true }, r);
      const buffers = r.outputs ? [...new Set(Object.values(r.outputs).map((t) => t.data.buffer))] : [];
      try {
        parentPort.postMessage(reply, buffers);
      } catch {
        parentPort.postMessage(reply); // a buffer that cannot be transferred is copied
      }
    },
    (e) => parentPort.postMessage({ id: m.id, ok: false, message: String((e && e.message) || e) }),
  );
});
`;

/** The worker thread ended (crashed, exited or was terminated): not a fault of the model or input. */
export class OrtWorkerGone extends Error {
  override name = 'OrtWorkerGone';
}

/**
 * The parent's handle on one worker: sessions by key, each request answered by id. The worker is
 * unref'd while nothing is pending, so it never keeps a finished CLI run alive. If the thread dies,
 * every pending request fails with the reason and `onExit` lets the owner start afresh.
 */
export class OrtWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private dead: Error | undefined;

  constructor(onExit: (reason: Error) => void) {
    // a backend's path is resolved only if that backend can be used here (a darwin-x64 VSIX has no onnxruntime-node)
    const paths: Partial<Record<OrtBackend, string>> = {};
    for (const b of ['node', 'web'] as const) {
      try {
        paths[b] = ortModulePath(b);
      } catch {
        // not installed: sessions are never asked of it (backendFor)
      }
    }
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { paths, wasmDir: paths.web ? wasmDir() : '', wasmThreads: WASM_THREADS, debug: !!process.env.IMAGEFOLDER_DEBUG },
    });
    this.worker.unref();
    this.worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) this.worker.unref();
      p.resolve(r);
    });
    const died = (reason: Error) => {
      if (this.stop(reason)) onExit(reason);
    };
    this.worker.on('error', (e) => died(new OrtWorkerGone(`onnxruntime worker thread failed: ${e.message}`)));
    this.worker.on('exit', (code) => died(new OrtWorkerGone(`onnxruntime worker thread exited (code ${code})`)));
  }

  /** Fails every pending request with the reason; false if the worker had already stopped. */
  private stop(reason: Error): boolean {
    if (this.dead) return false;
    this.dead = reason;
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
    return true;
  }

  private request(req: Request, what: string, transfer: ArrayBuffer[] = []): Promise<Reply & { ok: true }> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise<Reply>((resolve, reject) => {
      try {
        this.worker.postMessage(req, transfer); // throws at once for data that cannot be cloned
      } catch (e) {
        reject(e);
        return;
      }
      this.pending.set(req.id, { resolve, reject });
      this.worker.ref();
    }).then((r) => {
      if (!r.ok) throw new Error(r.message || `${what} failed`);
      return r;
    });
  }

  /** Rejects with onnxruntime's own message when the session cannot be created. The backend follows the provider (native.ts). */
  async create(key: string, file: string, options: InferenceSession.SessionOptions): Promise<void> {
    const ep = options.executionProviders?.[0] ?? 'cpu';
    const provider = typeof ep === 'string' ? ep : ep.name;
    await this.request({ id: this.nextId++, kind: 'create', key, file, options, backend: backendFor(provider) }, 'session creation');
  }

  /** transfer: buffers of `feeds` that move to the worker instead of being copied (detached here). */
  async run(key: string, feeds: Record<string, WireTensor>, transfer: ArrayBuffer[] = []): Promise<Record<string, WireTensor>> {
    const r = await this.request({ id: this.nextId++, kind: 'run', key, feeds }, 'run', transfer);
    return r.outputs ?? {};
  }

  async release(key: string): Promise<void> {
    await this.request({ id: this.nextId++, kind: 'release', key }, 'release');
  }

  /** Ends the thread (and with it every session it holds); requests still pending fail. */
  async terminate(): Promise<void> {
    this.stop(new OrtWorkerGone('onnxruntime worker thread terminated'));
    await this.worker.terminate();
  }
}
