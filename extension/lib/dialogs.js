// <dialog> helpers: the close button, a confirmation dialog, inline form errors.

import { $, $$, el, svgIcon } from './dom.js';
import { applyI18n } from './i18n.js';

/**
 * Give the dialog's header its close (×) button, and make it and every .dialog-cancel
 * button close the dialog.
 */
export function wireDialog(dialog) {
  $('.dialog-head', dialog)?.append(
    el(
      'button',
      {
        className: 'icon-button dialog-close',
        attrs: { type: 'button' },
        dataset: { i18nAriaLabel: 'close', i18nTitle: 'close' },
      },
      [svgIcon('i-x')],
    ),
  );
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

/** #confirm-dialog, made on first use. */
function confirmDialog() {
  const existing = document.getElementById('confirm-dialog');
  if (existing) return existing;
  const dialog = el(
    'dialog',
    {
      className: 'dialog dialog-narrow',
      attrs: { id: 'confirm-dialog', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' },
    },
    [
      el('form', { className: 'dialog-form', attrs: { method: 'dialog' } }, [
        el('header', { className: 'dialog-head' }, [el('h2', { attrs: { id: 'confirm-title' } })]),
        el('div', { className: 'dialog-body' }, [el('p', { attrs: { id: 'confirm-text' } })]),
        el('footer', { className: 'dialog-foot' }, [
          el('button', { className: 'button button-ghost', attrs: { value: 'cancel' }, dataset: { i18n: 'cancel' } }),
          el('button', { className: 'button button-danger', attrs: { id: 'confirm-ok', value: 'ok' } }),
        ]),
      ]),
    ],
  );
  applyI18n(dialog);
  document.body.append(dialog);
  return dialog;
}

/** Ask for confirmation in #confirm-dialog. Resolves true when confirmed. */
export function confirmAction({ title, text, ok }) {
  const dialog = confirmDialog();
  $('#confirm-title', dialog).textContent = title;
  $('#confirm-text', dialog).textContent = text;
  $('#confirm-ok', dialog).textContent = ok;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
  });
}
