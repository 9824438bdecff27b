// Names shared by the pages and the background worker.

/** Protocol version this extension speaks (host/PROTOCOL.md section 3). */
export const PROTOCOL_VERSION = 1;

/** Page → worker message: forward one request to the native host. */
export const MSG_CALL = 'cpa-bridge/call';

/** Per-request timeouts (ms). The host can take a while for batch imports. */
export const DEFAULT_TIMEOUT_MS = 30_000;
export const BATCH_TIMEOUT_MS = 120_000;

/** Codes produced by the extension itself (not by the host). */
export const EXT_CODES = Object.freeze({
  HOST_NOT_FOUND: 'host_not_found',
  HOST_FORBIDDEN: 'host_forbidden',
  HOST_EXITED: 'host_exited',
  REQUEST_TIMEOUT: 'request_timeout',
  EXTENSION_ERROR: 'extension_error',
});

/** The host cannot be started at all: show the install banner. */
export const HOST_MISSING_CODES = new Set([
  EXT_CODES.HOST_NOT_FOUND,
  EXT_CODES.HOST_FORBIDDEN,
]);

/** Provider lists an import can target (PROTOCOL.md, `import`). */
export const PROVIDER_TYPES = Object.freeze([
  'openai-compatibility',
  'claude-api-key',
  'gemini-api-key',
  'codex-api-key',
  'xai-api-key',
  'vertex-api-key',
]);

/** The command that registers the host (run from the cpa-bridge checkout). */
export const INSTALL_COMMAND = 'python3 install/install.py';
