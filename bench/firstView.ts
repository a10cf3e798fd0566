// npm run bench -- --model DIR (a package other than the built-in one, e.g. a converted ImageFolder
// or VAR tokenizer): how soon an inspection shows something and how long it takes in all.
// "First view" is the moment the panel can show the tokens with the full reconstruction
// (inspect's 'head' event); the other tiles stream in after it. Cold: a fresh runtime, so the
// sessions are created on the way (the first inspection after selecting a model); warm: the
// sessions exist (every later inspection). Cancel: an inspection aborted at its first view, and
// how long until it has stopped (the tile running then finishes; queued ones are dropped).

import * as os from 'node:os';
import { ModelRuntime, UserError, inspect, type InspectProgress } from '../src/extension/core';

interface Sample {
  /** ms from the call to the head event, and to the end */
  firstView: number;
  total: number;
  /** CPU ms of this process (all threads) by those two moments */
  firstViewCpu: number;
  totalCpu: number;
}

export interface FirstViewBench {
  model: string;
  tiles: number;
  largeDecoder: boolean;
  parallelism: { decoderWorkers: number; decoderThreads: number; threads: number };
  loadMs: number;
  cold: Sample;
  warm: Sample[];
  /** ms from abort (at the first view) until the inspection's promise settled */
  cancelMs: number;
  loadAverage: number;
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

async function once(rt: ModelRuntime, image: string): Promise<{ sample: Sample; tiles: number }> {
  const c = process.cpuUsage();
  const t = performance.now();
  let first: { wall: number; cpu: number } | undefined;
  let tiles = 0;
  const onProgress = (e: InspectProgress) => {
    tiles = e.total;
    if (e.kind === 'head') first = { wall: performance.now() - t, cpu: cpuMs(c) };
  };
  await inspect(rt, image, { onProgress });
  if (!first) throw new Error('no first view reported');
  return { sample: { firstView: first.wall, firstViewCpu: first.cpu, total: performance.now() - t, totalCpu: cpuMs(c) }, tiles };
}

async function cancelAtFirstView(rt: ModelRuntime, image: string): Promise<number> {
  const ac = new AbortController();
  let aborted = 0;
  const run = inspect(rt, image, {
    signal: ac.signal,
    onProgress: (e) => {
      if (e.kind === 'head') {
        aborted = performance.now();
        ac.abort();
      }
    },
  });
  try {
    await run;
    throw new Error('the inspection finished although it was cancelled');
  } catch (e) {
    if (!(e instanceof UserError && e.code === 'CANCELLED')) throw e;
  }
  return performance.now() - aborted;
}

export async function benchFirstView(modelDir: string, image: string, repeat: number, threads: number): Promise<FirstViewBench> {
  const t = performance.now();
  const rt = await ModelRuntime.load(modelDir, { provider: 'cpu', threads });
  const loadMs = performance.now() - t;
  try {
    const cold = await once(rt, image);
    const warm: Sample[] = [];
    for (let i = 0; i < repeat; i++) warm.push((await once(rt, image)).sample);
    const cancelMs = await cancelAtFirstView(rt, image);
    return {
      model: rt.info().name,
      tiles: cold.tiles,
      largeDecoder: rt.largeDecoder,
      parallelism: rt.parallelism(),
      loadMs,
      cold: cold.sample,
      warm,
      cancelMs,
      loadAverage: os.loadavg()[0],
    };
  } finally {
    await rt.dispose();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export function printFirstView(b: FirstViewBench): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`.padStart(9);
  const p = b.parallelism;
  console.log(
    `${b.model}: ${b.tiles} tiles an inspection; ${b.largeDecoder ? 'large decoder' : 'small decoder'}: decoder runs on ${p.decoderWorkers} worker(s) of ${p.decoderThreads} thread(s); package read in ${s(b.loadMs).trim()}`,
  );
  console.log('                     first view  (CPU)      all tiles  (CPU)');
  const row = (what: string, x: Sample) => console.log(`${what.padEnd(20)} ${s(x.firstView)}  ${s(x.firstViewCpu)}  ${s(x.total)}  ${s(x.totalCpu)}`);
  row('cold (new sessions)', b.cold);
  row(`warm (median of ${b.warm.length})`, {
    firstView: median(b.warm.map((w) => w.firstView)),
    firstViewCpu: median(b.warm.map((w) => w.firstViewCpu)),
    total: median(b.warm.map((w) => w.total)),
    totalCpu: median(b.warm.map((w) => w.totalCpu)),
  });
  console.log(`cancelled at the first view: stopped ${s(b.cancelMs).trim()} later; load average ${b.loadAverage.toFixed(1)} on ${os.cpus().length} cores`);
}
