// Form field helpers: inline field errors, the show / hide button of a key field,
// the provider type choices.

import { applyIcon, el, setLabel, show } from './dom.js';
import { keyFor, t } from './i18n.js';
import { PROVIDER_TYPES } from './messages.js';

/** Show `text` in the field's error line (#<input id>-error) and mark the input invalid; '' clears both. */
export function setFieldError(input, text) {
  const node = document.getElementById(`${input.id}-error`);
  node.textContent = text || '';
  show(node, Boolean(text));
  if (text) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

/** Show or hide what is typed in a key field; `toggle` is its eye button. */
export function togglePassword(input, toggle) {
  const showing = input.type === 'text';
  input.type = showing ? 'password' : 'text';
  toggle.setAttribute('aria-pressed', String(!showing));
  applyIcon(toggle, showing ? 'i-eye' : 'i-eye-off');
  setLabel(toggle, t(showing ? 'show_key' : 'hide_key_field'));
}

/** Add an <option> for every provider type to `select` (after any it already has). */
export function addProviderTypeOptions(select) {
  for (const type of PROVIDER_TYPES) {
    select.append(el('option', { text: t(keyFor('provider', type)), attrs: { value: type } }));
  }
}
