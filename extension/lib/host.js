// The native-messaging connection, owned by the background worker. This is
// the only module that calls connectNative. One port is shared by every page;
// requests carry ids, each has a timeout, and a port that disconnects fails
// its pending requests with a clear error. The next request opens a new port.

import { api } from './browser.js';
import { DEFAULT_TIMEOUT_MS, EXT_CODES, PROTOCOL_VERSION } from './messages.js';

/** Native host name (the manifest written by install/install.py). */
export const HOST_NAME = 'io.cpabridge.host';

const MAX_TIMEOUT_MS = 10 * 60_000;

let port = null;
let nextId = 1;
/** id → {resolve, timer}; insertion order = send order (the host answers in order). */
const pending = new Map();

function errorReply(id, code, message, details = {}) {
  return { v: PROTOCOL_VERSION, id, ok: false, error: { code, message, details } };
}

/** Map the browser's disconnect text to an extension error code. */
export function classifyDisconnect(message) {
  const text = String(message || '');
  // Chromium: "Specified native messaging host not found."
  // Firefox: "No such native application io.cpabridge.host"
  if (/not found|no such native application/i.test(text)) {
    return EXT_CODES.HOST_NOT_FOUND;
  }
  // Chromium: "Access to the specified native messaging host is forbidden."
  // Firefox: "... does not have permission to use native application ..."
  if (/forbidden|not have permission|not allowed/i.test(text)) {
    return EXT_CODES.HOST_FORBIDDEN;
  }
  return EXT_CODES.HOST_EXITED;
}

function settle(id, reply) {
  const entry = pending.get(id);
  if (!entry) return; // already timed out: drop the late reply
  pending.delete(id);
  clearTimeout(entry.timer);
  entry.resolve(reply);
}

function onPortMessage(reply) {
  if (!reply || typeof reply !== 'object') return;
  if (pending.has(reply.id)) {
    settle(reply.id, reply);
    return;
  }
  // A reply without a usable id (bad_frame / too_large before parsing)
  // answers the oldest request, because the host answers in order.
  if (reply.id === null && reply.ok === false) {
    const oldest = pending.keys().next();
    if (!oldest.done) settle(oldest.value, { ...reply, id: oldest.value });
  }
}

function onPortDisconnect(disconnected) {
  // Chromium reports through runtime.lastError (read it, or it is logged as
  // unchecked); Firefox through port.error.
  const lastError = api.runtime.lastError;
  const message =
    disconnected?.error?.message || lastError?.message || 'Native host has exited.';
  if (port === disconnected) port = null;
  const code = classifyDisconnect(message);
  for (const id of [...pending.keys()]) {
    settle(id, errorReply(id, code, message));
  }
}

function ensurePort() {
  if (port) return port;
  const created = api.runtime.connectNative(HOST_NAME);
  created.onMessage.addListener(onPortMessage);
  created.onDisconnect.addListener(onPortDisconnect);
  port = created;
  return created;
}

function clampTimeout(timeoutMs) {
  const value = Number(timeoutMs);
  if (!Number.isFinite(value) || value <= 0) return DEFAULT_TIMEOUT_MS;
  return Math.min(value, MAX_TIMEOUT_MS);
}

/**
 * Send one request to the host. Always resolves with a reply envelope
 * (`{ok: true, result}` or `{ok: false, error: {code, message, details}}`).
 */
export function request(type, params = {}, { timeoutMs } = {}) {
  const id = `r-${nextId++}`;
  const limit = clampTimeout(timeoutMs);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      settle(
        id,
        errorReply(id, EXT_CODES.REQUEST_TIMEOUT, `no reply from the host within ${limit / 1000} s`, {
          timeout_s: limit / 1000,
        }),
      );
    }, limit);
    pending.set(id, { resolve, timer });
    try {
      ensurePort().postMessage({ v: PROTOCOL_VERSION, id, type, params });
    } catch (error) {
      // connectNative or postMessage can throw when the port is already gone.
      port = null;
      settle(id, errorReply(id, classifyDisconnect(error?.message), String(error?.message || error)));
    }
  });
}
