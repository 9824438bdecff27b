// Background worker (Chromium service worker / Firefox background script).
// Relays page requests to the native host over the one port in lib/host.js and
// opens the key-management page from the toolbar button. Listeners are
// registered at the top level so a restarted worker still receives events.

import { api } from './lib/browser.js';
import { request } from './lib/host.js';
import { EXT_CODES, MSG_CALL } from './lib/messages.js';

const TYPE_PATTERN = /^[a-z][a-z_.]{0,63}$/;

/** Only our own extension pages may use the host. */
function isOwnPage(sender) {
  if (!sender || sender.id !== api.runtime.id) return false;
  const origin = api.runtime.getURL('');
  return typeof sender.url === 'string' && sender.url.startsWith(origin);
}

function isCall(message) {
  return (
    message !== null &&
    typeof message === 'object' &&
    message.kind === MSG_CALL &&
    typeof message.type === 'string' &&
    TYPE_PATTERN.test(message.type) &&
    (message.params === undefined ||
      (message.params !== null && typeof message.params === 'object' && !Array.isArray(message.params)))
  );
}

api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (!isOwnPage(sender) || !isCall(message)) return false; // dropped
  request(message.type, message.params ?? {}, { timeoutMs: message.timeoutMs })
    .then(sendResponse)
    .catch((error) =>
      sendResponse({
        ok: false,
        error: { code: EXT_CODES.EXTENSION_ERROR, message: String(error?.message || error), details: {} },
      }),
    );
  return true; // the reply is sent asynchronously
});

api.action.onClicked.addListener(() => {
  api.tabs.create({ url: api.runtime.getURL('keys.html') });
});
