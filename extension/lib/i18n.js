// Localised strings from _locales/<lang>/messages.json. Page text is set with
// textContent (never innerHTML) from data-i18n* attributes.

import { api } from './browser.js';

/** The message for `key`, or '' when there is none. */
export function message(key, substitutions) {
  try {
    return api.i18n.getMessage(key, substitutions) || '';
  } catch {
    return '';
  }
}

/** The message for `key`; falls back to the key itself so gaps are visible. */
export function t(key, substitutions) {
  const subs = substitutions === undefined ? undefined : [].concat(substitutions).map(String);
  return message(key, subs) || key;
}

const ATTRIBUTES = [
  ['i18nPlaceholder', 'placeholder'],
  ['i18nTitle', 'title'],
  ['i18nAriaLabel', 'aria-label'],
];

/** Fill every data-i18n / data-i18n-placeholder / -title / -aria-label under `root`. */
export function applyI18n(root = document) {
  for (const node of root.querySelectorAll('[data-i18n]')) {
    node.textContent = t(node.dataset.i18n);
  }
  for (const [dataKey, attribute] of ATTRIBUTES) {
    const selector = `[data-${dataKey.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}]`;
    for (const node of root.querySelectorAll(selector)) {
      node.setAttribute(attribute, t(node.dataset[dataKey]));
    }
  }
}

/** Set <html lang> and the document title from the UI language. */
export function localizeDocument(titleKey) {
  const lang = api.i18n.getUILanguage?.() || 'en';
  document.documentElement.lang = lang;
  if (titleKey) document.title = t(titleKey);
  applyI18n(document);
}

export function formatNumber(value) {
  return new Intl.NumberFormat(document.documentElement.lang || undefined).format(value);
}

/** A message name for an id that may contain '-' (names allow only [A-Za-z0-9_]). */
export function keyFor(prefix, id) {
  return `${prefix}_${String(id).replace(/[^A-Za-z0-9_]/g, '_')}`;
}
