// Execution-provider choice. 'auto' tries the GPU providers this platform's onnxruntime-node build
// can offer, best first, and falls back to CPU; every provider that was passed over is reported
// with the reason so the user can see why a GPU is not used. Nothing is ever downloaded: a
// provider whose binaries are absent simply fails to load and is reported as skipped. Where
// onnxruntime-node itself cannot load (native.ts), the CPU is onnxruntime-web's 'wasm' instead.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { PROVIDERS, type ProviderName, type ProviderSetting } from '../../shared/types';
import { loadOrt, nativeUnavailable } from './native';

/** GPU providers in the order worth trying on each platform (native APIs before WebGPU). */
export function gpuOrder(platform: NodeJS.Platform = process.platform): ProviderName[] {
  if (platform === 'win32') return ['cuda', 'dml', 'webgpu'];
  if (platform === 'darwin') return ['coreml', 'webgpu'];
  return ['cuda', 'webgpu'];
}

/**
 * Providers this onnxruntime-node build knows about (bundled or installable), and 'wasm'
 * (onnxruntime-web) when it is installed; only 'wasm' where onnxruntime-node cannot load.
 */
export function availableProviders(): ProviderName[] {
  if (nativeUnavailable()) return ['wasm'];
  const listed = [...(loadOrt().listSupportedBackends?.() ?? [{ name: 'cpu', bundled: true }])];
  if (webInstalled()) listed.push({ name: 'wasm', bundled: true });
  return PROVIDERS.filter((p) => listed.some((b) => b.name === p));
}

function webInstalled(): boolean {
  try {
    require.resolve('onnxruntime-web');
    return true;
  } catch {
    return false; // the VSIXes with onnxruntime-node leave it out (scripts/package.mjs)
  }
}

/** The report line for a CPU that runs on WebAssembly, e.g. "WebAssembly CPU: onnxruntime-node has no binary for darwin-x64". */
export function wasmReason(nativeMissing: string): string {
  return `WebAssembly CPU (wasm, slower) instead: ${nativeMissing}`;
}

function notBundled(): Set<string> {
  if (nativeUnavailable()) return new Set();
  const listed = loadOrt().listSupportedBackends?.() ?? [];
  return new Set(listed.filter((b) => !b.bundled).map((b) => b.name));
}

export interface Candidate {
  provider: ProviderName;
  /** set when the provider is passed over without trying it */
  skipReason?: string;
}

/**
 * Whether the Vulkan loader that WebGPU (Dawn) needs on Linux is installed: the folders the dynamic
 * loader searches (LD_LIBRARY_PATH, /etc/ld.so.conf.d, the usual system folders). Without it
 * Dawn prints "Couldn't load Vulkan" on stderr, bypassing onnxruntime's log level, and then fails.
 */
export function vulkanLoaderFound(env: NodeJS.ProcessEnv = process.env, exists: (f: string) => boolean = fs.existsSync, confDir = '/etc/ld.so.conf.d'): boolean {
  const dirs = (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  try {
    for (const f of fs.readdirSync(confDir)) {
      if (!f.endsWith('.conf')) continue;
      for (const line of fs.readFileSync(path.join(confDir, f), 'utf8').split('\n')) if (line.trim().startsWith('/')) dirs.push(line.trim());
    }
  } catch {
    // no ld.so.conf.d: the usual folders below still count
  }
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  dirs.push(`/usr/lib/${arch}-linux-gnu`, `/lib/${arch}-linux-gnu`, '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib');
  return dirs.some((d) => exists(path.join(d, 'libvulkan.so.1')));
}

// Looked up once per process: the answer does not change while it runs, and candidates() is
// consulted for every graph a model loads.
let vulkanFound: boolean | undefined;
const hasVulkanLoader = (): boolean => (vulkanFound ??= vulkanLoaderFound());

/**
 * The providers to try, in order, for a setting; CPU always last as the fallback. With 'auto' on
 * Linux, WebGPU is passed over without trying when there is no Vulkan loader (asked for by name,
 * it is still tried: the user wants to see it fail). 'wasm' is tried only when asked for, or as the
 * CPU where onnxruntime-node cannot load (`nativeMissing`: why): `auto` never prefers it to a
 * working native CPU.
 */
export function candidates(
  setting: ProviderSetting,
  available: readonly ProviderName[],
  platform: NodeJS.Platform = process.platform,
  hasVulkan: () => boolean = hasVulkanLoader,
  nativeMissing: string | undefined = nativeUnavailable(),
): Candidate[] {
  if (setting === 'wasm') {
    // the VSIXes with onnxruntime-node binaries leave onnxruntime-web out (scripts/package.mjs)
    return available.includes('wasm') ? [{ provider: 'wasm' }] : [{ provider: 'wasm', skipReason: 'onnxruntime-web is not part of this build (only the darwin-x64 VSIX carries it)' }, { provider: 'cpu' }];
  }
  if (nativeMissing) {
    // the GPU providers live in onnxruntime-node too: only a provider asked for by name is reported
    const asked: Candidate[] = setting === 'auto' || setting === 'cpu' ? [] : [{ provider: setting, skipReason: nativeMissing }];
    return [...asked, { provider: 'cpu', skipReason: wasmReason(nativeMissing) }, { provider: 'wasm' }];
  }
  const wanted = setting === 'auto' ? gpuOrder(platform) : setting === 'cpu' ? [] : [setting];
  const out: Candidate[] = wanted.map((p) =>
    !available.includes(p)
      ? { provider: p, skipReason: `not offered by onnxruntime-node on ${platform}-${process.arch}` }
      : setting === 'auto' && p === 'webgpu' && platform === 'linux' && !hasVulkan()
        ? { provider: p, skipReason: `no Vulkan loader (libvulkan.so.1) on this machine; WebGPU on Linux runs on Vulkan (${VULKAN_PACKAGES_HINT})` }
        : { provider: p },
  );
  out.push({ provider: 'cpu' });
  return out;
}

/**
 * What WebGPU on Linux needs besides the GPU driver: the Vulkan loader, and for NVIDIA's driver the
 * glvnd libraries (with libvulkan1 alone its ICD fails: "Found no drivers", then "No supported
 * adapters"; measured on an H200, docs/performance.md "GPU").
 */
export const VULKAN_PACKAGES = ['libvulkan1', 'libglvnd0', 'libglx0', 'libgl1', 'libegl1', 'libopengl0', 'libgles2'];
const VULKAN_PACKAGES_HINT = `with a GPU, on Debian/Ubuntu: apt install ${VULKAN_PACKAGES.join(' ')}`;

/**
 * The reason a provider could not create a session, for the user: onnxruntime's message shortened,
 * plus what to do about it where that is known (CUDA not bundled; WebGPU on Linux without Vulkan).
 */
export function failureReason(provider: ProviderName, error: unknown, platform: NodeJS.Platform = process.platform, hasVulkan: () => boolean = hasVulkanLoader): string {
  let reason = shortReason((error as Error)?.message ?? String(error));
  if (notBundled().has(provider)) {
    reason += provider === 'cuda'
      ? ' (not bundled with onnxruntime-node from npm: bring your own CUDA provider libraries, README "GPU notes")'
      : ' (its binaries are not bundled with onnxruntime-node and were not installed)';
  }
  if (provider === 'webgpu' && platform === 'linux' && /No supported adapters/.test(reason)) {
    reason += hasVulkan()
      ? ` (no GPU, or no Vulkan driver for it: an NVIDIA GPU also needs glvnd; ${VULKAN_PACKAGES_HINT})`
      : ` (no Vulkan loader, libvulkan.so.1: ${VULKAN_PACKAGES_HINT})`;
  }
  return reason;
}

/** Turns onnxruntime's multi-line native error into the part a user can read. */
export function shortReason(message: string): string {
  const first = message.split('\n').find((l) => l.trim() !== '') ?? message;
  const m = /(Failed to get a WebGPU adapter: )?(No supported adapters.*)$/.exec(first) ?? /(Failed to .*)$/.exec(first);
  const text = m ? m[m.length - 1] : first.replace(/^\S*onnxruntime_src\S*\s*/, '');
  return text.trim().slice(0, 200);
}

export interface SessionOptions {
  threads?: number;
}

// A provider that failed once in this process will fail again (missing driver, no adapter):
// remember why, so later graphs and later models do not pay for the attempt again.
const failedProviders = new Map<ProviderName, string>();

export function forgetProviderFailures(): void {
  failedProviders.clear();
}

/** Why a provider failed earlier in this process, if it did. */
export function rememberedFailure(provider: ProviderName): string | undefined {
  return failedProviders.get(provider);
}

/** Records a provider's failure (reason from failureReason) so that it is not tried again. */
export function rememberFailure(provider: ProviderName, reason: string): void {
  failedProviders.set(provider, reason);
}

export interface CreatedSession<S = InferenceSession> {
  session: S;
  provider: ProviderName;
  skipped: { provider: ProviderName; reason: string }[];
}

/** onnxruntime session options for one provider (the runtime's workers create theirs with these). */
export function sessionOptions(provider: ProviderName, threads = 0): InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // Probing a missing GPU provider logs a native error; the reason is reported instead.
    logSeverityLevel: 4,
    // Idle worker threads would otherwise spin waiting for work, burning a core that the
    // editor (and, here, a training run) needs; the latency cost is small for these graphs.
    extra: { session: { intra_op: { allow_spinning: process.env.IFI_SPIN ?? '0' } } },
  };
}

/** Creates a session from a file with given options: in this thread by default, or in a worker. */
export type SessionMaker<S> = (modelPath: string, options: InferenceSession.SessionOptions) => Promise<S>;

export async function createSession<S = InferenceSession>(
  modelPath: string,
  setting: ProviderSetting,
  options: SessionOptions = {},
  make: SessionMaker<S> = (file, o) => loadOrt().InferenceSession.create(file, o) as Promise<S>,
): Promise<CreatedSession<S>> {
  const skipped: { provider: ProviderName; reason: string }[] = [];
  const list = candidates(setting, availableProviders());
  for (const c of list) {
    const remembered = failedProviders.get(c.provider);
    if (c.skipReason || remembered) {
      skipped.push({ provider: c.provider, reason: c.skipReason ?? remembered! });
      continue;
    }
    try {
      const session = await make(modelPath, sessionOptions(c.provider, options.threads));
      return { session, provider: c.provider, skipped };
    } catch (e) {
      if (c === list[list.length - 1]) throw e; // the CPU (native or wasm) failing means a broken graph or install
      const reason = failureReason(c.provider, e);
      failedProviders.set(c.provider, reason);
      skipped.push({ provider: c.provider, reason });
    }
  }
  throw new Error('unreachable: a CPU is always the last candidate');
}
