// The optional provider settings of an import: prefix, priority, per-key weight and headers.
// One block, built into a <details> of the import dialog and of the batch dialog; the host
// checks the values again and reads them back after the write.

import { el } from './dom.js';
import { t } from './i18n.js';
import { showToast } from './toast.js';

const MAX = 1000000;

function field(id, labelKey, helpKey, input) {
  input.id = id;
  input.setAttribute('aria-describedby', `${id}-help`);
  return el('div', { className: 'field' }, [
    el('label', { text: t(labelKey), attrs: { for: id } }),
    input,
    el('p', { className: 'field-help', text: t(helpKey), attrs: { id: `${id}-help` } }),
  ]);
}

/** Fill `details` (a <details> element) with the option fields; ids start with `prefix`. */
export function mountProviderOptions(details, prefix) {
  const number = (min) => el('input', { attrs: { type: 'number', inputmode: 'numeric', min, max: MAX, step: 1 } });
  details.replaceChildren(
    el('summary', { text: t('provider_options_title') }),
    el('div', { className: 'field-grid' }, [
      field(`${prefix}-prefix`, 'option_prefix', 'option_prefix_help',
        el('input', { attrs: { maxlength: 100, autocomplete: 'off', spellcheck: 'false' } })),
      field(`${prefix}-priority`, 'option_priority', 'option_priority_help', number(-MAX)),
      field(`${prefix}-weight`, 'option_weight', 'option_weight_help', number(1)),
    ]),
    field(`${prefix}-headers`, 'option_headers', 'option_headers_help',
      el('textarea', { attrs: { rows: 2, spellcheck: 'false', autocomplete: 'off', placeholder: 'X-Org: acme' } })),
  );
}

function whole(value, min) {
  if (!/^-?\d+$/.test(value)) return null;
  const n = Number(value);
  return n >= min && n <= MAX ? n : null;
}

/**
 * The options typed in the block, as `import` params: `{ params }`, or `{ error, input }` with a
 * localised message and the field to focus.
 */
export function readProviderOptions(details, prefix) {
  const get = (name) => details.querySelector(`#${prefix}-${name}`);
  const params = {};
  const prefixValue = get('prefix').value.trim();
  if (prefixValue) {
    if (/[\s/]/.test(prefixValue.replace(/^\/+|\/+$/g, ''))) return { error: t('option_prefix_invalid'), input: get('prefix') };
    params.prefix = prefixValue;
  }
  for (const [name, min] of [['priority', -MAX], ['weight', 1]]) {
    const raw = get(name).value.trim();
    if (!raw) continue;
    const n = whole(raw, min);
    if (n === null) return { error: t('option_number_invalid', [String(min), String(MAX)]), input: get(name) };
    params[name] = n;
  }
  const headers = {};
  for (const line of get('headers').value.split('\n')) {
    if (!line.trim()) continue;
    const at = line.indexOf(':');
    const name = at > 0 ? line.slice(0, at).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return { error: t('option_headers_invalid'), input: get('headers') };
    headers[name] = line.slice(at + 1).trim();
  }
  if (Object.keys(headers).length) params.headers = headers;
  return { params };
}

/** Empty every option field. */
export function resetProviderOptions(details) {
  for (const input of details.querySelectorAll('input, textarea')) input.value = '';
  details.open = false;
}

/** Show why the options are refused, open the block and focus the field; returns null (no params). */
export function invalidOptions({ error, input }) {
  input.closest('details').open = true;
  input.setAttribute('aria-invalid', 'true');
  input.addEventListener('input', () => input.removeAttribute('aria-invalid'), { once: true });
  input.focus();
  showToast({ kind: 'error', title: t('options_invalid_title'), message: error });
  return null;
}
