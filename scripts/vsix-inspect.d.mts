// Types of scripts/vsix-inspect.mjs for the TypeScript tests that use it.
export interface ZipEntry {
  size: number;
  head(bytes?: number): Buffer;
  bytes(): Buffer;
  text(): string;
}
export interface NativeKind {
  format: 'ELF' | 'Mach-O' | 'PE';
  archs: string[];
}
export function readZip(file: string): Map<string, ZipEntry>;
export function nativeKind(head: Buffer): NativeKind | undefined;
export function expectedFormat(target: string): { format: string; arch: string };
export const NATIVE_NAME: RegExp;
export function checkNativeFiles(entries: Map<string, ZipEntry>, target: string): { natives: ({ name: string } & NativeKind)[]; problems: string[] };
export const ORT_BACKENDS: string[];
/** What onnxruntime-web's Node wasm backend loads, relative to its package folder. */
export const ORT_WEB_RUNTIME: readonly string[];
export function bundledProviders(entries: Map<string, ZipEntry>, target: string): string[];
