// Options page: the CLIProxyAPI servers ("targets") cpa-bridge imports to, each with its
// management URL and key (sent to the host with settings.set, never stored in the
// extension), the default one, Test connection, and the helper app's status.
//
// With one server the page is a single form, as before. With several, a list shows them
// all (URL, masked key, default badge, key-rejected warning) with Edit, Test, Make default
// and Remove; the form below edits the chosen one. "Add server" turns the form into a new,
// named server.

import { call } from './lib/api.js';
import { confirmAction } from './lib/dialogs.js';
import { errorText } from './lib/errors.js';
import { $, clear, el, show, svgIcon, whileBusy } from './lib/dom.js';
import { setFieldError, togglePassword } from './lib/fields.js';
import { initHostBanner } from './lib/host-banner.js';
import { formatNumber, keyFor, message, t } from './lib/i18n.js';
import { HOST_MISSING_CODES } from './lib/messages.js';
import { initPage } from './lib/page-shell.js';
import { showError, showSuccess } from './lib/toast.js';
import { warningLines } from './lib/warnings.js';

const URL_CODES = new Set(['invalid_url', 'insecure_url', 'forbidden_address']);
/** Target names the host accepts (host/PROTOCOL.md, settings.set). */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$/;

const state = {
  /** The last settings.get / settings.set / settings.delete_target result. */
  settings: null,
  /** Name of the target the form edits. */
  editing: null,
  /** The form describes a new target. */
  adding: false,
  /** The host's settings are in the form (until then it is disabled). */
  loaded: false,
};

// ---------- helpers ----------

function targets() {
  return Array.isArray(state.settings?.targets) ? state.settings.targets : [];
}

function findTarget(name) {
  const wanted = String(name ?? '').toLowerCase();
  return targets().find((target) => target.name.toLowerCase() === wanted) ?? null;
}

/** The target the form edits; a blank one before anything is saved. */
function editedTarget() {
  return (
    findTarget(state.editing) ?? {
      name: state.settings?.target ?? 'default',
      management_url: state.settings?.management_url ?? '',
      has_key: Boolean(state.settings?.has_key),
      key_hint: state.settings?.key_hint ?? '',
      allow_insecure_http: Boolean(state.settings?.allow_insecure_http),
      key_rejected: Boolean(state.settings?.key_rejected),
      default: true,
    }
  );
}

/** `{target}` for a request about `name`, or {} when the host should use its default. */
function targetParam(name) {
  const target = findTarget(name);
  return target ? { target: target.name } : {};
}

function setUrlError(text) {
  setFieldError($('#mgmt-url'), text);
}

function setKeyError(text) {
  setFieldError($('#mgmt-key'), text);
}

function setNameError(text) {
  setFieldError($('#target-name'), text);
}

function showWarnings(settings) {
  const list = clear($('#settings-warnings'));
  for (const warning of warningLines(settings ?? {})) list.append(el('li', { text: warning }));
  show(list, list.childElementCount > 0);
}

// ---------- the list of targets ----------

function renderTarget(target) {
  const name = target.name;
  const editing = !state.adding && findTarget(state.editing)?.name === name;
  const badges = el('span', { className: 'target-badges' }, [
    target.default ? el('span', { className: 'badge badge-primary target-default-badge', text: t('target_default') }) : null,
    target.key_rejected
      ? el('span', { className: 'badge badge-danger target-rejected', text: t('target_key_rejected') })
      : null,
  ]);
  const keyText = target.has_key ? t('target_key_hint', [target.key_hint]) : t('target_no_key');
  const actions = el('div', { className: 'target-actions' }, [
    el('button', {
      className: 'button button-small target-edit',
      text: t('target_edit'),
      attrs: { type: 'button', 'aria-label': t('target_edit_named', [name]), 'aria-pressed': editing ? 'true' : 'false' },
      on: { click: () => editTarget(name, { focus: true }) },
    }),
    el('button', {
      className: 'button button-small target-test',
      text: t('target_test'),
      attrs: { type: 'button', 'aria-label': t('target_test_named', [name]) },
      on: { click: (event) => testConnection(name, event.currentTarget) },
    }),
    target.default
      ? null
      : el('button', {
          className: 'button button-small target-make-default',
          text: t('target_make_default'),
          attrs: { type: 'button', 'aria-label': t('target_make_default_named', [name]) },
          on: { click: (event) => makeDefault(name, event.currentTarget) },
        }),
    el(
      'button',
      {
        className: 'icon-button icon-button-danger target-remove',
        attrs: { type: 'button', 'aria-label': t('target_remove_named', [name]), title: t('target_remove_named', [name]) },
        on: { click: () => removeTarget(name) },
      },
      [svgIcon('i-trash')],
    ),
  ]);
  return el(
    'li',
    {
      className: `target-row${editing ? ' is-editing' : ''}`,
      dataset: { target: name, default: target.default ? 'true' : 'false' },
      attrs: { 'aria-current': editing ? 'true' : false },
    },
    [
      el('div', { className: 'target-main' }, [
        el('div', { className: 'target-title' }, [el('span', { className: 'target-name', text: name }), badges]),
        el('span', {
          className: `target-url mono${target.management_url ? '' : ' is-empty'}`,
          text: target.management_url || t('target_no_url'),
        }),
        el('span', { className: 'target-key', text: keyText }),
      ]),
      actions,
    ],
  );
}

function renderList() {
  const list = clear($('#targets'));
  const all = targets();
  for (const target of all) list.append(renderTarget(target));
  // One server: the page is just its form, as it has always been.
  const several = all.length > 1 || (state.adding && all.length > 0);
  show(list, several);
  show($('#targets-help'), several);
}

// ---------- the form ----------

/** The form differs from what the host has stored (a new server always does). */
function formDirty() {
  if (state.adding) return true;
  const target = editedTarget();
  return (
    $('#mgmt-url').value.trim() !== (target.management_url ?? '') ||
    $('#mgmt-key').value.trim() !== '' ||
    $('#allow-insecure').checked !== Boolean(target.allow_insecure_http)
  );
}

/** "Test connection" tests what is stored; with unsaved changes it says it saves them first. */
function updateTestButton() {
  const dirty = state.loaded && formDirty();
  const button = $('#test-connection');
  button.textContent = t(dirty ? 'save_and_test' : 'test_connection');
  button.dataset.saves = dirty ? 'true' : 'false';
}

/** The form stays disabled until the host's settings are in it (saving blanks would wipe them). */
function setFormEnabled(enabled) {
  $('#settings-fields').disabled = !enabled;
  $('#settings-form').setAttribute('aria-busy', enabled ? 'false' : 'true');
  $('#add-target').disabled = !enabled;
}

function fillForm() {
  const adding = state.adding;
  const target = adding ? null : editedTarget();
  const several = targets().length > 1 || (adding && targets().length > 0);
  const title = $('#target-form-title');
  title.textContent = adding ? t('target_add_title') : t('target_editing', [target.name]);
  show(title, adding || several);
  const form = $('#settings-form');
  if (adding || several) form.setAttribute('aria-labelledby', 'target-form-title');
  else form.removeAttribute('aria-labelledby');
  form.dataset.target = adding ? '' : target.name;

  show($('#target-name-field'), adding);
  $('#target-name').value = '';
  setNameError('');
  setUrlError('');
  setKeyError('');
  show($('#make-default-field'), adding && targets().length > 0);
  $('#target-make-default').checked = false;
  show($('#cancel-target'), adding);
  $('#mgmt-key-help').textContent = t(adding ? 'management_key_help_new' : 'management_key_help');

  $('#mgmt-url').value = target?.management_url ?? '';
  const key = $('#mgmt-key');
  key.value = '';
  key.placeholder = target?.has_key ? target.key_hint : t('management_key_placeholder');
  key.dataset.hasKey = target?.has_key ? 'true' : 'false';
  $('#allow-insecure').checked = Boolean(target?.allow_insecure_http);
  show($('#mgmt-key-rejected'), Boolean(target?.key_rejected));
  $('#add-target').setAttribute('aria-expanded', adding ? 'true' : 'false');
  show($('#test-connection'), !adding); // a new server is tested once it is saved
  updateTestButton();
}

function render(settings) {
  if (settings) state.settings = settings;
  if (!state.adding && !findTarget(state.editing)) {
    state.editing = state.settings?.default_target ?? state.settings?.target ?? null;
  }
  renderList();
  fillForm();
}

function editTarget(name, { focus = false } = {}) {
  state.adding = false;
  state.editing = name;
  showWarnings(null);
  render();
  if (focus) {
    $('#settings-form').scrollIntoView({ block: 'nearest' });
    $('#mgmt-url').focus();
  }
}

function startAdding() {
  state.adding = true;
  showWarnings(null);
  show($('#connection-result'), false);
  render();
  $('#settings-form').scrollIntoView({ block: 'nearest' });
  $('#target-name').focus();
}

function cancelAdding() {
  state.adding = false;
  render();
  $('#add-target').focus();
}

async function loadSettings() {
  try {
    render(await call('settings.get'));
    state.loaded = true;
    setFormEnabled(true);
    updateTestButton();
  } catch (error) {
    if (!HOST_MISSING_CODES.has(error.code)) showError(error);
  }
}

/** Settings again after a test (key_rejected may have changed); what is typed is kept. */
async function refreshAfterTest() {
  if (formDirty()) return;
  await loadSettings();
}

/** Check the new target's name; the error text, or '' when it is fine. */
function nameProblem(name) {
  if (!name) return t('target_name_required');
  if (!NAME_PATTERN.test(name)) return t('target_name_invalid');
  if (findTarget(name)) return t('target_name_taken', [name]);
  return '';
}

/**
 * The settings.set params for what the form holds, or null (with the field errors shown).
 * `needKey`: a key must be typed or stored (to test the connection).
 */
function formParams({ needKey = false } = {}) {
  setUrlError('');
  setNameError('');
  setKeyError('');
  const adding = state.adding;
  const params = {
    management_url: $('#mgmt-url').value.trim(),
    allow_insecure_http: $('#allow-insecure').checked,
  };
  const key = $('#mgmt-key').value.trim();
  if (key) params.management_key = key;
  let problem = null;
  if (adding) {
    const name = $('#target-name').value.trim();
    const nameError = nameProblem(name);
    if (nameError) {
      setNameError(nameError);
      problem ??= $('#target-name');
    }
    params.target = name;
    if ($('#target-make-default').checked) params.make_default = true;
  } else {
    Object.assign(params, targetParam(state.editing));
  }
  if (!params.management_url) {
    setUrlError(t('management_url_required'));
    problem ??= $('#mgmt-url');
  }
  if (needKey && !key && (adding || !editedTarget().has_key)) {
    setKeyError(t('management_key_required'));
    problem ??= $('#mgmt-key');
  }
  problem?.focus();
  return problem ? null : params;
}

/** Save the form; the new settings, or null when nothing was saved (the form is kept as typed). */
async function saveForm({ needKey = false } = {}) {
  const params = formParams({ needKey });
  if (!params) return null;
  const adding = state.adding;
  try {
    const settings = await call('settings.set', params);
    if (adding) {
      state.adding = false;
      state.editing = params.target;
    }
    render(settings); // clears the key field; its placeholder shows the masked hint
    showWarnings(settings);
    const title = adding ? t('target_added', [params.target]) : t('settings_saved');
    showSuccess(title, warningLines(settings).join('\n'), { action: 'saved', timeoutMs: 5000 });
    if (adding) $('#target-form-title').focus();
    return settings;
  } catch (error) {
    if (URL_CODES.has(error.code)) {
      setUrlError(errorText(error));
    } else if (adding && error.code === 'invalid_request' && error.details?.field === 'params.target') {
      setNameError(t('target_name_invalid'));
    } else if (error.details?.field === 'params.management_key') {
      setKeyError(errorText(error));
    }
    showError(error);
    return null;
  }
}

async function save(event) {
  event.preventDefault();
  await whileBusy($('#save-settings'), saveForm);
}

// ---------- per-target actions ----------

function renderConnection(result, name) {
  $('#connection-target').textContent = result.target ?? name ?? '';
  $('#server-version').textContent = result.server_version || t('unknown_version');
  $('#connection-url').textContent = result.management_url ?? '';
  const body = clear($('#list-counts'));
  for (const [list, count] of Object.entries(result.lists ?? {})) {
    body.append(
      el('tr', { dataset: { list } }, [
        el('th', { attrs: { scope: 'row' } }, [
          message(keyFor('list', list)) || list,
          el('span', { className: 'list-id mono', text: list }),
        ]),
        el('td', { className: 'num', text: formatNumber(count) }),
      ]),
    );
  }
  const box = $('#connection-result');
  box.dataset.target = result.target ?? name ?? '';
  show(box, true);
}

/** The form's Test connection: saves unsaved changes first (the button says so), then tests. */
async function testForm(button) {
  await whileBusy(button, async () => {
    if (formDirty() || !editedTarget().management_url || !editedTarget().has_key) {
      const settings = await saveForm({ needKey: true });
      if (!settings) return;
    }
    await runTest(editedTarget().name);
  });
}

async function testConnection(name, button) {
  await whileBusy(button, () => runTest(name));
}

async function runTest(name) {
  show($('#connection-result'), false);
  try {
    const result = await call('connection.test', targetParam(name));
    renderConnection(result, name);
    const text = t('connection_ok_text', [result.server_version || t('unknown_version')]);
    showSuccess(
      targets().length > 1 ? t('connection_ok_named', [result.target ?? name]) : t('connection_ok'),
      text,
      { action: 'connected', timeoutMs: 5000 },
    );
  } catch (error) {
    const title = targets().length > 1 ? t('connection_failed_named', [name]) : t('connection_failed');
    showError(error, { title });
  }
  await refreshAfterTest();
}

async function makeDefault(name, button) {
  await whileBusy(button, async () => {
    try {
      render(await call('settings.set', { target: name, make_default: true }));
      showSuccess(t('target_now_default', [name]), '', { action: 'default', timeoutMs: 5000 });
      $(`.target-row[data-target="${CSS.escape(name)}"] .target-edit`)?.focus();
    } catch (error) {
      showError(error);
    }
  });
}

async function removeTarget(name) {
  const ok = await confirmAction({
    title: t('target_remove_title'),
    text: t('target_remove_text', [name]),
    ok: t('target_remove'),
  });
  if (!ok) return;
  try {
    const settings = await call('settings.delete_target', { target: name });
    if (state.editing?.toLowerCase() === name.toLowerCase()) state.editing = null;
    if ($('#connection-result').dataset.target === name) show($('#connection-result'), false);
    render(settings);
    showSuccess(t('target_removed', [name]), '', { action: 'removed', timeoutMs: 5000 });
    $('#add-target').focus();
  } catch (error) {
    showError(error);
  }
}

function renderHostStatus({ ping, error }) {
  const pill = $('#host-status');
  const status = ping ? 'ok' : HOST_MISSING_CODES.has(error?.code) ? 'missing' : 'error';
  pill.dataset.state = status;
  pill.textContent = t({ ok: 'host_installed', missing: 'host_not_installed', error: 'host_not_responding' }[status]);
  $('#host-version').textContent = ping?.host_version ?? '—';
  $('#host-protocol').textContent = ping?.protocol ?? '—';
}

async function start() {
  initPage('options_page_title');
  $('#host-status').textContent = t('host_checking');
  $('#settings-form').addEventListener('submit', save);
  $('#test-connection').addEventListener('click', (event) => testForm(event.currentTarget));
  $('#settings-form').addEventListener('input', updateTestButton);
  $('#settings-form').addEventListener('change', updateTestButton);
  $('#mgmt-url').addEventListener('input', () => setUrlError(''));
  $('#mgmt-key').addEventListener('input', () => setKeyError(''));
  $('#mgmt-key-toggle').addEventListener('click', (event) => togglePassword($('#mgmt-key'), event.currentTarget));
  $('#add-target').addEventListener('click', startAdding);
  $('#cancel-target').addEventListener('click', cancelAdding);
  $('#target-name').addEventListener('input', () => setNameError(''));
  setFormEnabled(false);
  fillForm();
  const status = await initHostBanner();
  renderHostStatus(status);
  if (status.ping) await loadSettings();
}

start();
