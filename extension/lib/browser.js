// The one place that picks the WebExtension namespace: Firefox has `browser`
// (promise-based), Chromium-family browsers have `chrome` (promise-based in MV3).
export const api = globalThis.browser ?? globalThis.chrome;
