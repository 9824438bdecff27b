// Relay accounts on the key page: "Add account", the account bar on its site card
// (family, last refresh, Refresh, Import usable keys, Clean up, Remove), key status
// badges and "Test", the All API Hub "fetch keys from N sites now?" flow with
// progress, and the clean-up dialog (preview, then remove with Undo). The host does
// every site call and keeps the access token; the page only ever sees it masked.

import { call } from './lib/api.js';
import { confirmAction, setFormError } from './lib/dialogs.js';
import { $, clear, el, show, whileBusy } from './lib/dom.js';
import { errorText } from './lib/errors.js';
import { togglePassword } from './lib/fields.js';
import { formatNumber, keyFor, t } from './lib/i18n.js';
import { showError, showSuccess, showToast } from './lib/toast.js';
import { undoAction } from './lib/results.js';

/** Site calls can take a while (many pages, slow sites). */
const FETCH_TIMEOUT_MS = 120_000;

let reload = async () => {};
let selectKeys = () => {};

// ---------- badges on keys ----------

function when(seconds) {
  return new Date(seconds * 1000).toLocaleString(document.documentElement.lang || undefined);
}

/** The status badge of a relay key: enabled / disabled / expired / exhausted / deleted / rejected. */
function statusBadge(key) {
  const problem = key.problem;
  const status = problem ?? key.remote?.status ?? 'enabled';
  const kind = problem ? (problem === 'deleted' || problem === 'rejected' ? 'danger' : 'warning') : 'success';
  return el('span', {
    className: `badge badge-${kind} key-status`,
    text: t(keyFor('key_status', status)),
    dataset: { status },
  });
}

function factsLine(key) {
  const remote = key.remote ?? {};
  const parts = [];
  parts.push(remote.unlimited_quota ? t('quota_unlimited') : t('quota_left', [formatNumber(remote.remain_quota ?? 0)]));
  parts.push(remote.expires_at ? t('expires_at', [when(remote.expires_at)]) : t('expires_never'));
  if (remote.group) parts.push(t('key_group', [remote.group]));
  if (remote.models?.length) parts.push(t('key_models', [remote.models.slice(0, 5).join(', ') + (remote.models.length > 5 ? ' …' : '')]));
  if (key.masked) parts.push(t('key_masked_on_site'));
  return parts.join(' · ');
}

function checkBadge(key) {
  const result = key.check?.result;
  if (!result) return null;
  const kind = result === 'valid' ? 'success' : result === 'rejected' ? 'danger' : 'warning';
  return el('span', { className: `badge badge-${kind} key-check`, text: t(keyFor('check', result)), dataset: { check: result } });
}

/** Add the site's facts and status (relay keys), the last check and a Test button to a key row. */
export function decorateKey(row, site, key) {
  if (key.remote) {
    row.classList.toggle('key-row-unusable', key.usable === false);
    const badges = el('span', { className: 'key-badges' }, [statusBadge(key), checkBadge(key)]);
    $('.key-main', row).append(badges, el('span', { className: 'key-facts', text: factsLine(key) }));
  } else if (key.check) {
    $('.key-main', row).append(el('span', { className: 'key-badges' }, [checkBadge(key)]));
  }
  const test = el('button', {
    className: 'button button-small key-test',
    text: t('key_test'),
    attrs: { type: 'button', 'aria-label': t('key_test_label', [key.label || key.key_hint]) },
  });
  test.addEventListener('click', () => whileBusy(test, () => testKeys([key.id])));
  $('.key-actions', row).prepend(test);
}

async function testKeys(ids) {
  try {
    const { results } = await call('keys.check', { ids }, { timeoutMs: FETCH_TIMEOUT_MS });
    const counts = { valid: 0, rejected: 0, unknown: 0 };
    for (const r of results ?? []) counts[r.result] = (counts[r.result] ?? 0) + 1;
    showSuccess(t('check_done'), t('check_counts', [counts.valid, counts.rejected, counts.unknown]), { timeoutMs: 5000 });
    await reload();
    return results ?? [];
  } catch (error) {
    showError(error);
    return null;
  }
}

/** Before a batch: test the keys, return the ids the site rejected. */
export async function rejectedKeyIds(ids) {
  const results = await testKeys(ids);
  if (!results) return null;
  return new Set(results.filter((r) => r.result === 'rejected').map((r) => r.key_id));
}

/** Ask before importing a key the site reports unusable. Resolves true to go on. */
export function confirmUnusable(site, key) {
  if (key.usable !== false) return Promise.resolve(true);
  return confirmAction({
    title: t('unusable_title'),
    text: t('unusable_text', [key.label || key.key_hint, t(keyFor('key_status', key.problem ?? 'disabled'))]),
    ok: t('import_anyway'),
  });
}

// ---------- the account bar on a site card ----------

export function decorateSite(card, site, account) {
  if (!account) return;
  card.classList.add('site-card-account');
  const counts = account.counts ?? {};
  const refreshed = account.refreshed_at ? t('refreshed_at', [when(account.refreshed_at)]) : t('refreshed_never');
  const error = account.last_error ? errorText(account.last_error) : '';
  const refresh = el('button', { className: 'button button-small account-refresh', text: t('refresh'), attrs: { type: 'button' } });
  refresh.addEventListener('click', () => whileBusy(refresh, () => refreshAccounts([account])));
  // The batch dialog with every usable key of this account.
  const usableKeys = (site.keys ?? []).filter((k) => k.remote && k.usable);
  const usable = el('button', {
    className: 'button button-small account-import-usable',
    text: t('import_usable', [formatNumber(usableKeys.length)]),
    attrs: { type: 'button', disabled: usableKeys.length === 0 },
  });
  usable.addEventListener('click', () => selectKeys(site, usableKeys));
  const cleanup = el('button', { className: 'button button-small account-cleanup', text: t('cleanup'), attrs: { type: 'button' } });
  cleanup.addEventListener('click', () => openCleanup(account));
  const remove = el('button', {
    className: 'button button-small button-ghost account-remove',
    text: t('remove_account'),
    attrs: { type: 'button' },
  });
  remove.addEventListener('click', () => removeAccount(account));
  const bar = el('div', { className: 'account-bar', dataset: { accountId: account.id } }, [
    el('div', { className: 'account-info' }, [
      el('span', { className: 'badge badge-primary account-family', text: t(keyFor('family', account.family)) }),
      el('span', { className: 'account-user', text: t('account_user', [String(account.user_id), account.token_hint]) }),
      el('span', {
        className: 'account-counts',
        text: t('account_counts', [formatNumber(counts.keys ?? 0), formatNumber(counts.usable ?? 0), formatNumber(counts.gone ?? 0)]),
      }),
      el('span', { className: 'account-refreshed', text: refreshed }),
      error ? el('span', { className: 'account-error', text: error, attrs: { role: 'status' } }) : null,
    ]),
    el('div', { className: 'account-actions' }, [refresh, usable, (counts.unusable ?? 0) > 0 ? cleanup : null, remove]),
  ]);
  $('.site-head', card).after(bar);
  // The account owns this card: "Remove account" replaces "Delete site" (the next refresh would bring it back).
  show($('.delete-site', card), false);
}

// ---------- refresh with progress ----------

/** Refresh accounts one by one, with a progress dialog and the outcome per site. */
export async function refreshAccounts(accounts) {
  if (!accounts.length) return;
  const dialog = $('#progress-dialog');
  const list = clear($('#progress-list'));
  const bar = $('#progress-bar');
  bar.max = accounts.length;
  bar.value = 0;
  $('#progress-title').textContent = t('progress_title', [formatNumber(accounts.length)]);
  const rows = accounts.map((account) => {
    const status = el('span', { className: 'progress-status', text: t('status_pending'), dataset: { status: 'pending' } });
    const row = el('li', { className: 'progress-item', dataset: { accountId: account.id } }, [
      el('span', { className: 'progress-name', text: account.name }),
      status,
    ]);
    list.append(row);
    return status;
  });
  if (accounts.length > 1 || !dialog.open) dialog.showModal();
  let failed = 0;
  let stale = 0;
  for (const [index, account] of accounts.entries()) {
    const status = rows[index];
    status.textContent = t('status_fetching');
    status.dataset.status = 'fetching';
    try {
      const result = await call('accounts.refresh', { account: account.id }, { timeoutMs: FETCH_TIMEOUT_MS });
      const outcome = result.results?.[0]?.result ?? {};
      stale += outcome.turned_unusable?.length ?? 0;
      status.textContent = t('progress_ok', [formatNumber(outcome.total ?? 0), formatNumber(outcome.added ?? 0), formatNumber(outcome.gone ?? 0)]);
      status.dataset.status = 'ok';
    } catch (error) {
      failed += 1;
      status.textContent = errorText(error);
      status.dataset.status = 'failed';
    }
    bar.value = index + 1;
  }
  $('#progress-summary').textContent = t('progress_done', [formatNumber(accounts.length - failed), formatNumber(accounts.length)]);
  await reload();
  if (stale > 0) {
    showToast({
      kind: 'warning',
      title: t('stale_title', [formatNumber(stale)]),
      message: t('stale_text'),
      actions: [{ label: t('cleanup'), className: 'toast-cleanup', onClick: () => openCleanup(null) }],
    });
  }
}

// ---------- add / remove ----------

function openAccountDialog() {
  const form = $('#account-form');
  form.reset();
  setFormError(form, '');
  $('#account-dialog').showModal();
  $('#account-url').focus();
}

async function submitAccount(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const url = $('#account-url').value.trim();
  const userId = Number.parseInt($('#account-user').value.trim(), 10);
  const token = $('#account-token').value.trim();
  if (!url || !Number.isInteger(userId) || userId < 1 || !token) {
    setFormError(form, t('account_required'));
    return;
  }
  const params = { site_url: url, user_id: userId, access_token: token, family: $('#account-family').value };
  const name = $('#account-name').value.trim();
  if (name) params.name = name;
  const submit = event.submitter ?? $('button[type=submit]', form);
  $('#account-progress').hidden = false;
  await whileBusy(submit, async () => {
    try {
      const result = await call('accounts.add', params, { timeoutMs: FETCH_TIMEOUT_MS });
      $('#account-token').value = '';
      $('#account-dialog').close('saved');
      const r = result.refresh ?? {};
      showSuccess(t(result.updated ? 'account_updated' : 'account_added', [result.account?.name ?? url]), t('account_added_text', [formatNumber(r.total ?? 0), formatNumber(r.usable ?? 0)]) + (r.warnings?.length ? `\n${r.warnings.join('\n')}` : ''), { action: 'account' });
      await reload();
    } catch (error) {
      setFormError(form, errorText(error));
    } finally {
      $('#account-progress').hidden = true;
    }
  });
}

async function removeAccount(account) {
  const ok = await confirmAction({
    title: t('remove_account_title'),
    text: t('remove_account_text', [account.name, formatNumber(account.counts?.keys ?? 0)]),
    ok: t('remove_account'),
  });
  if (!ok) return;
  try {
    await call('accounts.remove', { account: account.id });
    showSuccess(t('account_removed', [account.name]), '', { timeoutMs: 4000 });
    await reload();
  } catch (error) {
    showError(error);
  }
}

// ---------- clean up dead keys in CLIProxyAPI ----------

async function openCleanup(account) {
  const dialog = $('#cleanup-dialog');
  const list = clear($('#cleanup-list'));
  $('#cleanup-status').textContent = t('loading');
  $('#cleanup-apply').disabled = true;
  dialog.dataset.accountId = account?.id ?? '';
  dialog.showModal();
  try {
    const params = account ? { account: account.id } : {};
    const stale = await call('accounts.stale', params, { timeoutMs: FETCH_TIMEOUT_MS });
    for (const key of stale.keys ?? []) {
      const where = key.held_by.length
        ? key.held_by.map((h) => `${h.target} · ${h.provider}`).join(', ')
        : t('cleanup_not_held');
      list.append(
        el('li', { className: 'cleanup-item', dataset: { keyId: key.key_id, held: String(key.held_by.length > 0) } }, [
          el('span', { className: 'cleanup-key', text: `${key.label || key.key_hint} (${key.site_name})` }),
          el('span', { className: 'badge badge-warning', text: t(keyFor('key_status', key.problem)) }),
          el('span', { className: 'cleanup-where', text: where }),
        ]),
      );
    }
    $('#cleanup-status').textContent = t('cleanup_summary', [formatNumber(stale.keys?.length ?? 0), formatNumber(stale.held ?? 0)]);
    $('#cleanup-apply').disabled = !(stale.held > 0);
  } catch (error) {
    $('#cleanup-status').textContent = errorText(error);
  }
}

async function applyCleanup(event) {
  event.preventDefault();
  const dialog = $('#cleanup-dialog');
  const accountId = dialog.dataset.accountId;
  const params = accountId ? { account: accountId } : {};
  await whileBusy($('#cleanup-apply'), async () => {
    try {
      const result = await call('accounts.cleanup', params, { timeoutMs: FETCH_TIMEOUT_MS });
      const writes = [];
      let removed = 0;
      for (const entry of result.results ?? []) {
        if (!entry.ok) continue;
        for (const list of Object.values(entry.result.lists ?? {})) {
          removed += (list.changes ?? []).reduce((n, c) => n + (c.removed ?? 1), 0);
          if (list.backup_id) writes.push({ backup_id: list.backup_id, target: entry.target ?? entry.result.target });
        }
      }
      const failed = (result.results ?? []).filter((entry) => !entry.ok);
      dialog.close('done');
      showToast({
        kind: failed.length ? 'warning' : 'success',
        title: t('cleanup_done', [formatNumber(removed)]),
        message: failed.map((entry) => `${entry.target}: ${errorText(entry.error)}`).join('\n'),
        data: { action: 'cleanup' },
        actions: undoAction(writes),
      });
    } catch (error) {
      showError(error);
    }
  });
}

// ---------- All API Hub backups ----------

/**
 * After a backup's dry run: ask "fetch keys from N sites now?", import, then refresh
 * each new account with progress. Returns the import result (or null when cancelled).
 */
export async function importBackupWithAccounts(text, preview) {
  const found = preview.accounts_found ?? 0;
  let withAccounts = false;
  if (found > 0) {
    withAccounts = await confirmAction({
      title: t('backup_accounts_title'),
      text: t('backup_accounts_text', [formatNumber(found)]),
      ok: t('backup_accounts_fetch'),
    });
  }
  const result = await call('keys.import_backup', { data: text, accounts: withAccounts }, { timeoutMs: 60_000 });
  for (const need of result.needs_access_token ?? []) {
    result.warnings = [...(result.warnings ?? []), t('needs_access_token', [need.name, need.site_url])];
  }
  if (withAccounts && result.accounts_added?.length) {
    await refreshAccounts(result.accounts_added.map((a) => ({ id: a.id, name: a.name })));
  }
  return result;
}

// ---------- start ----------

export function setupAccounts({ onReload, onSelect }) {
  reload = onReload;
  selectKeys = onSelect;
  $('#add-account').addEventListener('click', openAccountDialog);
  $('#account-form').addEventListener('submit', submitAccount);
  $('#account-token-toggle').addEventListener('click', (event) => togglePassword($('#account-token'), event.currentTarget));
  $('#account-dialog').addEventListener('close', () => {
    $('#account-token').value = '';
  });
  $('#cleanup-form').addEventListener('submit', applyCleanup);
  $('#refresh-all').addEventListener('click', async (event) => {
    const button = event.currentTarget;
    await whileBusy(button, async () => {
      try {
        const { accounts } = await call('accounts.list');
        await refreshAccounts(accounts ?? []);
      } catch (error) {
        showError(error);
      }
    });
  });
  show($('#refresh-all'), true);
}
