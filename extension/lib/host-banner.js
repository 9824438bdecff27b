// The banner every page shows when the native host is missing or too old.

import { call, onHostMissing } from './api.js';
import { $, show } from './dom.js';
import { t } from './i18n.js';
import { EXT_CODES, HOST_MISSING_CODES, INSTALL_COMMAND, PROTOCOL_VERSION } from './messages.js';

/** Show the banner in `state` ('missing', 'outdated', 'broken') with its title and text. */
function showBanner(state, title, text) {
  const banner = $('#host-banner');
  if (!banner) return;
  $('#host-banner-title', banner).textContent = title;
  $('#host-banner-text', banner).textContent = text;
  $('#host-banner-command', banner).textContent = INSTALL_COMMAND;
  $('#host-banner-hint', banner).textContent = t('banner_host_missing_hint');
  banner.dataset.state = state;
  show(banner, true);
}

function showMissing(error) {
  const forbidden = error.code === EXT_CODES.HOST_FORBIDDEN;
  showBanner(
    'missing',
    t(forbidden ? 'banner_host_forbidden_title' : 'banner_host_missing_title'),
    t('banner_host_missing_text'),
  );
}

function showOutdated(ping) {
  showBanner(
    'outdated',
    t('banner_host_outdated_title'),
    t('banner_host_outdated_text', [ping.host_version ?? '?', PROTOCOL_VERSION]),
  );
}

function showBroken(error) {
  showBanner('broken', t('banner_host_broken_title'), t('banner_host_broken_text', [error.message || error.code]));
}

/**
 * Ping the host once and keep the banner up to date.
 * Resolves with {ping} when the host answers, else {error}.
 */
export async function initHostBanner() {
  const copy = $('#host-banner-copy');
  copy?.addEventListener('click', () => navigator.clipboard?.writeText(INSTALL_COMMAND).catch(() => {}));
  onHostMissing(showMissing);
  try {
    const ping = await call('ping', {}, { timeoutMs: 15_000 });
    if (typeof ping.protocol !== 'number' || ping.protocol < PROTOCOL_VERSION) {
      showOutdated(ping);
    } else {
      show($('#host-banner'), false);
    }
    return { ping };
  } catch (error) {
    // A missing host is shown by the onHostMissing listener; a host that is
    // registered but dies or hangs gets its own banner.
    if (!HOST_MISSING_CODES.has(error.code)) showBroken(error);
    return { error };
  }
}
