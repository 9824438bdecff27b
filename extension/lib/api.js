// Page side of the host connection: call(type, params) → result, or throws a
// HostError with the host's (or the extension's) error code and details.
// Pages never talk to the native host directly; the background worker does.

import { api } from './browser.js';
import {
  DEFAULT_TIMEOUT_MS,
  EXT_CODES,
  HOST_MISSING_CODES,
  MSG_CALL,
} from './messages.js';

export class HostError extends Error {
  constructor(code, message, details = {}) {
    super(message || code);
    this.name = 'HostError';
    this.code = code;
    this.details = details && typeof details === 'object' ? details : {};
  }
}

const missingListeners = new Set();

/** Run `listener(error)` whenever a call finds the host not installed. */
export function onHostMissing(listener) {
  missingListeners.add(listener);
  return () => missingListeners.delete(listener);
}

/** Send one request to the host through the background worker. */
export async function call(type, params = {}, { timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
  let reply;
  try {
    reply = await api.runtime.sendMessage({ kind: MSG_CALL, type, params, timeoutMs });
  } catch (error) {
    throw new HostError(EXT_CODES.EXTENSION_ERROR, String(error?.message || error));
  }
  if (!reply || typeof reply !== 'object') {
    throw new HostError(EXT_CODES.EXTENSION_ERROR, 'no reply from the background worker');
  }
  if (reply.ok) return reply.result ?? {};
  const { code, message, details } = reply.error ?? {};
  const error = new HostError(code || EXT_CODES.EXTENSION_ERROR, message, details);
  if (HOST_MISSING_CODES.has(error.code)) {
    for (const listener of missingListeners) listener(error);
  }
  throw error;
}

/** Drop undefined, null and '' values: the host refuses unknown or wrong fields. */
export function compact(params) {
  return Object.fromEntries(
    Object.entries(params).filter(([, value]) => value !== undefined && value !== null && value !== ''),
  );
}
