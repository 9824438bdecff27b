// Key-management page: sites and their keys (kept by the host), search,
// reveal / copy, All API Hub backup import, and the CLIProxyAPI import buttons.

import { call, compact, onHostMissing } from './lib/api.js';
import { confirmAction, setFormError } from './lib/dialogs.js';
import { $, $$, afterNextPaint, applyIcon, clear, debounce, fromTemplate, setLabel, show, whileBusy } from './lib/dom.js';
import { errorText } from './lib/errors.js';
import { addProviderTypeOptions, togglePassword } from './lib/fields.js';
import { initHostBanner } from './lib/host-banner.js';
import { HOST_MISSING_CODES } from './lib/messages.js';
import { applyI18n, formatNumber, t } from './lib/i18n.js';
import { initPage } from './lib/page-shell.js';
import { showError, showSuccess, showToast } from './lib/toast.js';
import { warningLines } from './lib/warnings.js';
import { openBatchDialog, setupBatchDialog } from './batch-import.js';
import { openImportDialog, setupImportDialog } from './import-dialog.js';
import { confirmUnusable, decorateKey, decorateSite, importBackupWithAccounts, setupAccounts } from './accounts.js';

const state = {
  sites: [],
  /** account id → relay account (accounts.list) */
  accounts: new Map(),
  query: '',
  loaded: false,
  /** key id → {site, key} of checked keys */
  selected: new Map(),
};

// ---------- loading and rendering ----------

async function load() {
  const list = $('#list-status');
  if (!state.loaded) list.textContent = t('loading');
  try {
    const [result, accounts] = await Promise.all([
      call('keys.list', compact({ query: state.query.trim() })),
      call('accounts.list').catch(() => ({ accounts: [] })),
    ]);
    state.sites = Array.isArray(result.sites) ? result.sites : [];
    state.accounts = new Map((accounts.accounts ?? []).map((account) => [account.id, account]));
    state.loaded = true;
  } catch (error) {
    // A missing host is explained by the banner above the list.
    list.textContent = HOST_MISSING_CODES.has(error.code) ? '' : errorText(error);
    state.sites = [];
    render();
    return;
  }
  render();
}

function keyName(site, key) {
  return key.label || key.key_hint || site.name;
}

function renderKey(site, key) {
  const row = fromTemplate('tpl-key');
  row.dataset.keyId = key.id;
  const name = keyName(site, key);
  $('.key-label', row).textContent = key.label || t('key_unlabelled');
  row.classList.toggle('key-row-unlabelled', !key.label);
  const value = $('.key-value', row);
  value.textContent = key.key_hint;

  const select = $('.key-select', row);
  select.checked = state.selected.has(key.id);
  select.setAttribute('aria-label', t('select_key', [name, site.name]));
  select.addEventListener('change', () => {
    if (select.checked) state.selected.set(key.id, { site, key });
    else state.selected.delete(key.id);
    updateSelection();
  });

  const label = (button, messageKey) => setLabel(button, t(messageKey, [name]));

  const reveal = $('.key-reveal', row);
  label(reveal, 'reveal_key');
  reveal.addEventListener('click', () => toggleReveal(reveal, value, key, name));

  const copy = $('.key-copy', row);
  label(copy, 'copy_key');
  copy.addEventListener('click', () => whileBusy(copy, () => copyKey(key)));

  const cpa = $('.cpa-import', row);
  cpa.dataset.keyId = key.id;
  setLabel(cpa, t('import_to_cpa'));
  cpa.addEventListener('click', async () => {
    if (await confirmUnusable(site, key)) openImportDialog(site, key, { allowUnusable: key.usable === false });
  });

  const edit = $('.key-edit', row);
  label(edit, 'edit_key');
  edit.addEventListener('click', () => openKeyDialog(site, key));

  const remove = $('.key-delete', row);
  label(remove, 'delete_key');
  remove.addEventListener('click', () => deleteKey(site, key));
  decorateKey(row, site, key);
  return row;
}

function renderSite(site) {
  const card = fromTemplate('tpl-site');
  card.dataset.siteId = site.id;
  applyI18n(card);
  $('.site-name', card).textContent = site.name;
  $('.site-url', card).textContent = site.url;
  const notes = $('.site-notes', card);
  notes.textContent = site.notes || '';
  show(notes, Boolean(site.notes));

  const addKey = $('.add-key', card);
  addKey.setAttribute('aria-label', t('add_key_to', [site.name]));
  addKey.addEventListener('click', () => openKeyDialog(site, null));
  const edit = $('.edit-site', card);
  setLabel(edit, t('edit_site', [site.name]));
  edit.addEventListener('click', () => openSiteDialog(site));
  const remove = $('.delete-site', card);
  setLabel(remove, t('delete_site', [site.name]));
  remove.addEventListener('click', () => deleteSite(site));

  const list = $('.key-list', card);
  const keys = site.keys ?? [];
  for (const key of keys) list.append(renderKey(site, key));
  show(list, keys.length > 0);
  show($('.key-empty', card), keys.length === 0);
  decorateSite(card, site, state.accounts.get(site.account_id));
  return card;
}

function render() {
  const container = clear($('#sites'));
  // Keep only selections that still exist.
  const present = new Map();
  for (const site of state.sites) {
    for (const key of site.keys ?? []) {
      if (state.selected.has(key.id)) present.set(key.id, { site, key });
    }
  }
  state.selected = present;
  for (const site of state.sites) container.append(renderSite(site));

  const status = $('#list-status');
  if (state.loaded) {
    if (state.sites.length === 0) {
      status.textContent = state.query.trim() ? t('no_match', [state.query.trim()]) : t('no_sites');
    } else {
      const keyCount = state.sites.reduce((n, site) => n + (site.keys?.length ?? 0), 0);
      status.textContent = t('list_counts', [formatNumber(state.sites.length), formatNumber(keyCount)]);
    }
  }
  updateSelection();
}

function updateSelection() {
  const count = state.selected.size;
  show($('#selection-bar'), count > 0);
  $('#selection-count').textContent = t('selected_count', [formatNumber(count)]);
}

// ---------- reveal and copy (the key is never stored by the extension) ----------

async function toggleReveal(button, value, key, name) {
  const revealed = button.getAttribute('aria-pressed') === 'true';
  if (revealed) {
    value.textContent = key.key_hint;
    value.classList.remove('revealed');
    button.setAttribute('aria-pressed', 'false');
    applyIcon(button, 'i-eye');
    setLabel(button, t('reveal_key', [name]));
    return;
  }
  await whileBusy(button, async () => {
    try {
      const { api_key: apiKey } = await call('keys.reveal', { id: key.id });
      value.textContent = apiKey;
      value.classList.add('revealed');
      button.setAttribute('aria-pressed', 'true');
      applyIcon(button, 'i-eye-off');
      setLabel(button, t('hide_key', [name]));
    } catch (error) {
      showError(error);
    }
  });
}

async function copyKey(key) {
  let apiKey;
  try {
    ({ api_key: apiKey } = await call('keys.reveal', { id: key.id }));
  } catch (error) {
    showError(error);
    return;
  }
  try {
    await navigator.clipboard.writeText(apiKey);
    showSuccess(t('copied'), key.key_hint, { timeoutMs: 4000 });
  } catch {
    showToast({ kind: 'error', title: t('copy_failed'), data: { code: 'clipboard' } });
  }
}

// ---------- sites ----------

function openSiteDialog(site) {
  const dialog = $('#site-dialog');
  const form = $('#site-form');
  form.reset();
  setFormError(form, '');
  $('#site-dialog-title').textContent = t(site ? 'edit_site_title' : 'add_site_title');
  $('#site-name').value = site?.name ?? '';
  $('#site-url').value = site?.url ?? '';
  $('#site-notes').value = site?.notes ?? '';
  form.dataset.siteId = site?.id ?? '';
  dialog.showModal();
  $('#site-name').focus();
}

async function submitSite(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const name = $('#site-name').value.trim();
  const url = $('#site-url').value.trim();
  if (!name || !url) {
    setFormError(form, t('site_required'));
    (name ? $('#site-url') : $('#site-name')).focus();
    return;
  }
  const params = { name, url, notes: $('#site-notes').value.trim() };
  if (form.dataset.siteId) params.id = form.dataset.siteId;
  await whileBusy(event.submitter ?? $('button[type=submit]', form), async () => {
    try {
      await call('sites.save', params);
      $('#site-dialog').close('saved');
      showSuccess(t('site_saved', [name]), '', { timeoutMs: 4000 });
      await load();
    } catch (error) {
      setFormError(form, errorText(error));
    }
  });
}

async function deleteSite(site) {
  const keyCount = site.keys?.length ?? 0;
  const ok = await confirmAction({
    title: t('delete_site_title'),
    text: t('delete_site_text', [site.name, keyCount]),
    ok: t('delete'),
  });
  if (!ok) return;
  try {
    await call('sites.delete', { id: site.id });
    showSuccess(t('site_deleted', [site.name]), '', { timeoutMs: 4000 });
    await load();
  } catch (error) {
    showError(error);
  }
}

// ---------- keys ----------

function openKeyDialog(site, key) {
  const dialog = $('#key-dialog');
  const form = $('#key-form');
  form.reset();
  setFormError(form, '');
  form.dataset.siteId = site.id;
  form.dataset.keyId = key?.id ?? '';
  $('#key-dialog-title').textContent = t(key ? 'edit_key_title' : 'add_key_title');
  $('#key-dialog-site').textContent = `${site.name} · ${site.url}`;
  $('#key-label').value = key?.label ?? '';
  const secret = $('#key-secret');
  secret.value = '';
  secret.type = 'password';
  secret.placeholder = key ? key.key_hint : 'sk-…';
  secret.required = !key;
  $('#key-secret-help').textContent = t(key ? 'key_secret_keep' : 'key_secret_help');
  const toggle = $('#key-secret-toggle');
  toggle.setAttribute('aria-pressed', 'false');
  applyIcon(toggle, 'i-eye');
  $('#key-provider').value = key?.provider_type ?? '';
  dialog.showModal();
  $('#key-label').focus();
}

async function submitKey(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const apiKey = $('#key-secret').value.trim();
  const isNew = !form.dataset.keyId;
  if (isNew && !apiKey) {
    setFormError(form, t('key_required'));
    $('#key-secret').focus();
    return;
  }
  const params = compact({
    site_id: form.dataset.siteId,
    id: form.dataset.keyId,
    label: $('#key-label').value.trim(),
    api_key: apiKey,
    provider_type: $('#key-provider').value,
  });
  if (params.label === undefined) params.label = '';
  await whileBusy(event.submitter ?? $('button[type=submit]', form), async () => {
    try {
      const saved = await call('keys.save', params);
      $('#key-secret').value = '';
      $('#key-dialog').close('saved');
      showSuccess(t('key_saved'), saved.key?.key_hint ?? '', { timeoutMs: 4000 });
      await load();
    } catch (error) {
      setFormError(form, errorText(error));
    }
  });
}

async function deleteKey(site, key) {
  const ok = await confirmAction({
    title: t('delete_key_title'),
    text: t('delete_key_text', [keyName(site, key), site.name]),
    ok: t('delete'),
  });
  if (!ok) return;
  try {
    await call('keys.delete', { id: key.id });
    showSuccess(t('key_deleted'), '', { timeoutMs: 4000 });
    await load();
  } catch (error) {
    showError(error);
  }
}

// ---------- All API Hub backup ----------

async function importBackup(file) {
  const button = $('#import-backup');
  await whileBusy(button, async () => {
    try {
      const text = await file.text();
      const preview = await call('keys.import_backup', { data: text, dry_run: true }, { timeoutMs: 60_000 });
      const result = await importBackupWithAccounts(text, preview);
      const lines = [
        t('backup_counts', [
          formatNumber(result.sites_added ?? 0),
          formatNumber(result.keys_added ?? 0),
          formatNumber(result.keys_skipped ?? 0),
        ]),
        ...warningLines(result),
      ];
      showSuccess(t('backup_imported'), lines.join('\n'), { action: 'backup' });
      await load();
    } catch (error) {
      showError(error, { title: t('backup_failed') });
    }
  });
}

// ---------- start ----------

/** Add site and Import backup need the host: off until it answers, and again if it goes missing. */
function setHostActions(enabled) {
  for (const button of [$('#add-site'), $('#import-backup')]) {
    button.disabled = !enabled;
    if (enabled) button.removeAttribute('aria-describedby');
    else button.setAttribute('aria-describedby', 'host-banner-title');
  }
}

function start() {
  initPage('keys_page_title');
  addProviderTypeOptions($('#key-provider'));

  $('#add-site').addEventListener('click', () => openSiteDialog(null));
  $('#site-form').addEventListener('submit', submitSite);
  $('#key-form').addEventListener('submit', submitKey);
  $('#key-secret-toggle').addEventListener('click', (event) => togglePassword($('#key-secret'), event.currentTarget));
  // Never leave a typed key behind in a closed dialog.
  $('#key-dialog').addEventListener('close', () => {
    $('#key-secret').value = '';
  });

  const search = $('#search');
  const runSearch = debounce(() => {
    state.query = search.value;
    load();
  }, 200);
  search.addEventListener('input', runSearch);

  const fileInput = $('#backup-file');
  $('#import-backup').addEventListener('click', () => fileInput.click());
  fileInput.addEventListener('change', () => {
    const [file] = fileInput.files;
    fileInput.value = '';
    if (file) importBackup(file);
  });

  $('#clear-selection').addEventListener('click', () => {
    state.selected.clear();
    for (const box of $$('.key-select')) box.checked = false;
    updateSelection();
  });
  $('#batch-import').addEventListener('click', () => openBatchDialog([...state.selected.values()]));

  setupImportDialog();
  setupBatchDialog({
    onDone: () => {
      state.selected.clear();
      // The list behind the dialog (its checkboxes) is redrawn after the result toast is painted:
      // redrawing every site first made the toast wait for it (bench/click.py, batch of 50).
      afterNextPaint(render);
    },
  });

  setupAccounts({
    onReload: load,
    onSelect: (site, keys) => openBatchDialog(keys.map((key) => ({ site, key }))),
  });

  setHostActions(false);
  onHostMissing(() => setHostActions(false));
  initHostBanner().then((status) => setHostActions(Boolean(status.ping)));
  load();
}

start();
