// The frame every page shares. A page marks the places, lib/page-shell.js draws them:
//   <header class="app-header" data-page="keys.html"></header>   name and navigation
//   <div id="host-banner" class="banner banner-error" role="alert" hidden></div>
// Text comes from data-i18n attributes, filled by localizeDocument like the rest of the page.

import { wireDialog } from './dialogs.js';
import { $, $$, el } from './dom.js';
import { localizeDocument } from './i18n.js';

/** The navigation, in order: [page, message name]. */
const PAGES = [
  ['keys.html', 'nav_keys'],
  ['providers.html', 'nav_providers'],
  ['history.html', 'nav_history'],
  ['options.html', 'nav_options'],
];

function renderHeader(header) {
  const current = header.dataset.page;
  header.replaceChildren(
    el('div', { className: 'brand' }, [
      el('img', { attrs: { src: 'icons/icon-32.png', alt: '', width: 24, height: 24 } }),
      el('span', { dataset: { i18n: 'app_name' } }),
    ]),
    el(
      'nav',
      { className: 'app-nav', dataset: { i18nAriaLabel: 'nav_label' } },
      PAGES.map(([href, name]) =>
        el('a', { attrs: { href, 'aria-current': href === current ? 'page' : false }, dataset: { i18n: name } }),
      ),
    ),
  );
}

/** The parts lib/host-banner.js fills in when the host is missing, too old or broken. */
function renderHostBanner(banner) {
  banner.replaceChildren(
    el('p', { className: 'banner-title', attrs: { id: 'host-banner-title' } }),
    el('p', { attrs: { id: 'host-banner-text' } }),
    el('div', { className: 'banner-install', attrs: { id: 'host-banner-install' } }, [
      el('code', { className: 'command', attrs: { id: 'host-banner-command' } }),
      el('button', {
        className: 'button button-small',
        attrs: { id: 'host-banner-copy', type: 'button' },
        dataset: { i18n: 'copy_command' },
      }),
    ]),
    el('p', { className: 'banner-hint', attrs: { id: 'host-banner-hint' } }),
  );
}

/** Draw the shared header and host banner, wire the page's dialogs and localise the page. */
export function initPage(titleKey) {
  renderHeader($('.app-header'));
  renderHostBanner($('#host-banner'));
  for (const dialog of $$('dialog')) wireDialog(dialog);
  localizeDocument(titleKey);
}
