// Result notifications in the page's bottom-right corner (clear of the header and its
// navigation). <div class="toast toast-success|toast-error" data-action|data-code …>
//
// Every toast dismisses itself (errors stay longer), pauses while the pointer or focus is
// on it, and has a close button. A success clears the error toasts before it: they are
// about an earlier attempt. A new error replaces an open one with the same code.

import { api } from './browser.js';
import { el } from './dom.js';
import { describeError } from './errors.js';
import { t } from './i18n.js';

const SUCCESS_MS = 10_000;
const ERROR_MS = 20_000;
const MAX_TOASTS = 3;

function region() {
  let node = document.getElementById('toasts');
  if (!node) {
    node = el('div', {
      className: 'toast-region',
      attrs: { id: 'toasts', popover: 'manual', 'aria-live': 'polite', 'aria-relevant': 'additions' },
    });
    document.body.append(node);
  }
  return node;
}

/** The topmost open modal <dialog>, or null. */
function openModal() {
  const open = [...document.querySelectorAll('dialog[open]')].filter((dialog) => dialog.matches(':modal'));
  return open.at(-1) ?? null;
}

/**
 * A modal dialog makes everything outside it inert, toasts included: their buttons
 * (Undo, Retry failed) could not be clicked or focused. So while one is open the
 * region lives inside it, and goes back to <body> when it closes.
 */
function place(node) {
  const modal = openModal();
  const parent = modal ?? document.body;
  if (node.parentElement === parent) return;
  parent.append(node); // moving a shown popover hides it: raise() shows it again
  if (modal) {
    modal.addEventListener(
      'close',
      () => {
        if (node.parentElement !== modal) return;
        document.body.append(node);
        if (node.firstElementChild) raise(node);
      },
      { once: true },
    );
  }
}

/**
 * The region is a manual popover so toasts sit in the top layer, above an open
 * modal <dialog> (showing it again moves it to the top). Without the Popover
 * API (Firefox < 125) it stays a fixed element.
 */
function raise(node) {
  if (typeof node.showPopover !== 'function') return;
  if (node.matches(':popover-open')) node.hidePopover();
  node.showPopover();
}

function lower(node) {
  if (typeof node.hidePopover === 'function' && node.matches(':popover-open') && !node.firstElementChild) {
    node.hidePopover();
  }
}

function dismiss(toast) {
  clearTimeout(toast._timer);
  const parent = toast.parentElement;
  toast.remove();
  if (parent) lower(parent);
}

function arm(toast, ms) {
  clearTimeout(toast._timer);
  toast._timer = setTimeout(() => dismiss(toast), ms);
}

/** Keep the toast while the pointer or focus is on it; count down again once both have left. */
function holdWhileUsed(toast, ms) {
  const rearm = () => {
    if (!toast.matches(':hover') && !toast.contains(document.activeElement)) arm(toast, ms);
  };
  toast.addEventListener('mouseenter', () => clearTimeout(toast._timer));
  toast.addEventListener('focusin', () => clearTimeout(toast._timer));
  toast.addEventListener('mouseleave', rearm);
  toast.addEventListener('focusout', () => setTimeout(rearm, 0)); // activeElement settles after focusout
}

/** Toasts made stale by a new one of `kind` (and `code`, for errors). */
function stale(container, kind, code) {
  const toasts = [...container.querySelectorAll(':scope > .toast')];
  if (kind === 'success') return toasts.filter((toast) => toast.classList.contains('toast-error'));
  if (kind === 'error' && code) return toasts.filter((toast) => toast.classList.contains('toast-error') && toast.dataset.code === code);
  return [];
}

/** The page is the options page: a link "Open settings" would lead where the user already is. */
export function onOptionsPage() {
  return location.pathname.endsWith('/options.html');
}

/**
 * Show a toast.
 * kind: 'success' | 'warning' | 'error' | 'info'; title, message: text;
 * actions: [{label, onClick, className}]; data: data-* attributes.
 */
export function showToast({ kind = 'info', title, message, actions = [], data = {}, timeoutMs } = {}) {
  const buttons = actions.map(({ label, onClick, className }) =>
    el('button', {
      className: `button button-small ${className ?? ''}`.trim(),
      text: label,
      attrs: { type: 'button' },
      on: {
        click: async (event) => {
          event.currentTarget.disabled = true;
          dismiss(toast);
          await onClick?.();
        },
      },
    }),
  );
  const toast = el(
    'div',
    {
      className: `toast toast-${kind}`,
      attrs: { role: kind === 'error' || kind === 'warning' ? 'alert' : 'status' },
      dataset: data,
    },
    [
      el('div', { className: 'toast-body' }, [
        title ? el('p', { className: 'toast-title', text: title }) : null,
        message ? el('p', { className: 'toast-message', text: message }) : null,
        buttons.length ? el('div', { className: 'toast-actions' }, buttons) : null,
      ]),
      el('button', {
        className: 'toast-close',
        text: '×',
        attrs: { type: 'button', 'aria-label': t('close'), title: t('close') },
        on: { click: () => dismiss(toast) },
      }),
    ],
  );
  const ms = timeoutMs || (kind === 'error' || kind === 'warning' ? ERROR_MS : SUCCESS_MS);
  holdWhileUsed(toast, ms);
  const container = region();
  place(container);
  for (const old of stale(container, kind, data.code)) dismiss(old);
  container.prepend(toast);
  while (container.children.length > MAX_TOASTS) dismiss(container.lastElementChild);
  raise(container);
  arm(toast, ms);
  return toast;
}

export function showSuccess(title, message, { action, actions, timeoutMs } = {}) {
  return showToast({ kind: 'success', title, message, actions, timeoutMs, data: action ? { action } : {} });
}

/** An error toast for a HostError: localised title, hint, and a link to the options when that is the fix. */
export function showError(error, { title } = {}) {
  const info = describeError(error);
  const actions =
    info.linkToOptions && !onOptionsPage()
      ? [{ label: t('open_options'), onClick: () => api.runtime.openOptionsPage() }]
      : [];
  return showToast({
    kind: 'error',
    title: title ? `${title}: ${info.title}` : info.title,
    message: info.hint,
    actions,
    data: { code: info.code },
  });
}
