// The one Chromium set-up of the browser suites (webview harness and e2e): the Debian binary,
// no sandbox (containers), no GPU, nothing that reaches the network on its own.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** IMAGEFOLDER_CHROMIUM overrides the browser binary. */
export function chromiumPath(): string {
  return process.env.IMAGEFOLDER_CHROMIUM || '/usr/bin/chromium';
}
