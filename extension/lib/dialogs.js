// <dialog> helpers: close buttons, a confirmation dialog, inline form errors.

import { $, $$ } from './dom.js';
import { describeError } from './errors.js';

/** Make every .dialog-close / .dialog-cancel button inside `dialog` close it. */
export function wireDialog(dialog) {
  for (const button of $$('.dialog-close, .dialog-cancel', dialog)) {
    button.addEventListener('click', () => dialog.close('cancel'));
  }
  return dialog;
}

/** Show a message in the form's .form-error (or hide it with ''). */
export function setFormError(form, text) {
  const node = $('.form-error', form);
  node.textContent = text || '';
  node.hidden = !text;
}

/** The localised one-line text for a HostError (title: hint). */
export function errorText(error) {
  const info = describeError(error);
  return info.hint ? `${info.title}: ${info.hint}` : info.title;
}

/** Ask for confirmation in #confirm-dialog. Resolves true when confirmed. */
export function confirmAction({ title, text, ok }) {
  const dialog = document.getElementById('confirm-dialog');
  $('#confirm-title', dialog).textContent = title;
  $('#confirm-text', dialog).textContent = text;
  $('#confirm-ok', dialog).textContent = ok;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
  });
}
