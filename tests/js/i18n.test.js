// Every message the extension asks for exists in en, zh_CN and ja, through the
// real lib/i18n.js and lib/errors.js, with chrome.i18n.getMessage played by the
// locale files (placeholders resolved as Chromium does).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';

const EXT = new URL('../../extension/', import.meta.url);
const LOCALES = ['en', 'zh_CN', 'ja'];
const messages = Object.fromEntries(
  LOCALES.map((locale) => [locale, JSON.parse(readFileSync(new URL(`_locales/${locale}/messages.json`, EXT), 'utf8'))]),
);

let current = 'en';

/** chrome.i18n.getMessage over messages[current]: $NAME$ → placeholder content → $1… substitutions. */
function getMessage(name, substitutions) {
  const entry = messages[current][name];
  if (!entry) return '';
  const subs = [].concat(substitutions ?? []).map(String);
  const placeholders = Object.fromEntries(
    Object.entries(entry.placeholders ?? {}).map(([key, value]) => [key.toLowerCase(), value.content]),
  );
  const fill = (text) => text.replace(/\$(\d)/g, (_, n) => subs[Number(n) - 1] ?? '');
  return entry.message
    .replace(/\$([A-Za-z0-9_@]+)\$/g, (match, key) =>
      key.toLowerCase() in placeholders ? fill(placeholders[key.toLowerCase()]) : match)
    .replace(/\$\$/g, '$');
}

globalThis.chrome = { i18n: { getMessage, getUILanguage: () => current } };
const { t, keyFor } = await import('../../extension/lib/i18n.js');
const { describeError } = await import('../../extension/lib/errors.js');
const { PROVIDER_TYPES, EXT_CODES } = await import('../../extension/lib/messages.js');

function filesUnder(url, suffix) {
  return readdirSync(url, { recursive: true })
    .filter((name) => name.endsWith(suffix) && !name.startsWith('_locales'))
    .map((name) => readFileSync(new URL(name, url), 'utf8'));
}

/** Message names written literally in the scripts, pages and manifest. */
function usedNames() {
  const used = new Set();
  const add = (text, pattern) => {
    for (const match of text.matchAll(pattern)) used.add(match[1]);
  };
  for (const text of filesUnder(EXT, '.js')) {
    add(text, /\b(?:t|message)\(\s*'([A-Za-z0-9_]+)'/g);
    add(text, /\bt\(\s*[\w.]+ \? '([A-Za-z0-9_]+)' : '[A-Za-z0-9_]+'/g);
    add(text, /\bt\(\s*[\w.]+ \? '[A-Za-z0-9_]+' : '([A-Za-z0-9_]+)'/g);
  }
  for (const text of filesUnder(EXT, '.html')) add(text, /data-i18n(?:-[a-z-]+)?="([A-Za-z0-9_]+)"/g);
  add(readFileSync(new URL('manifest.json', EXT), 'utf8'), /__MSG_(\w+)__/g);
  return [...used].sort();
}

const placeholderNames = (entry) => Object.keys(entry.placeholders ?? {}).sort();

test('the locales have the same message names as en', () => {
  const names = Object.keys(messages.en).sort();
  for (const locale of LOCALES) assert.deepEqual(Object.keys(messages[locale]).sort(), names, locale);
});

test('each message has the same placeholders in every locale, and uses only those it defines', () => {
  for (const [name, entry] of Object.entries(messages.en)) {
    for (const locale of LOCALES) {
      const other = messages[locale][name];
      assert.deepEqual(placeholderNames(other), placeholderNames(entry), `${locale} ${name}`);
      for (const [, key] of other.message.matchAll(/\$([A-Za-z0-9_@]+)\$/g)) {
        assert.ok(key.toLowerCase() in (other.placeholders ?? {}), `${locale} ${name}: $${key}$ is not defined`);
      }
    }
  }
});

test('the scripts, pages and manifest ask for many messages', () => {
  assert.ok(usedNames().length > 100, String(usedNames().length));
});

for (const locale of LOCALES) {
  test(`${locale}: every message the extension asks for resolves`, () => {
    current = locale;
    const missing = usedNames().filter((name) => t(name, ['1', '2', '3']) === name);
    assert.deepEqual(missing, []);
  });

  test(`${locale}: every error code has a title, and hints are filled`, () => {
    current = locale;
    const codes = Object.keys(messages.en).filter((n) => n.startsWith('error_') && n !== 'error_unknown')
      .map((n) => n.slice('error_'.length));
    for (const code of Object.values(EXT_CODES)) assert.ok(codes.includes(code), code);
    const details = { ban_minutes: 30, provider_name: 'P', existing_base_url: 'https://x.invalid', url: 'https://x.invalid', timeout_s: 30 };
    for (const code of codes) {
      const info = describeError({ code, message: 'HOST MESSAGE', details });
      assert.equal(info.title, messages[locale][`error_${code}`].message.replace(/\$\$/g, '$'), code);
      assert.notEqual(info.hint, `hint_${code}`, `${code}: hint_${code} is missing`);
      assert.doesNotMatch(info.hint, /\$[A-Z0-9_]+\$|\$\d/, `${code}: unfilled placeholder`);
    }
    assert.equal(describeError({ code: 'no_such_code' }).title, t('error_unknown'));
  });

  test(`${locale}: every provider type has a name`, () => {
    current = locale;
    for (const type of PROVIDER_TYPES) assert.notEqual(t(keyFor('provider', type)), keyFor('provider', type), type);
  });
}
