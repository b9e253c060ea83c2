// Debian's chromium as the browser tests drive it through playwright-core.

/** Chromium off the network: no QUIC, no background fetches, no component or sync updates. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
