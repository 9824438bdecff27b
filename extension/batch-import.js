// Import several selected keys in one `import.batch` request, with a status
// per key. Preview (dry run) keeps the list hashes; Import sends them back.

import { call } from './lib/api.js';
import { describeError } from './lib/errors.js';
import { $, $$, clear, el, show, whileBusy } from './lib/dom.js';
import { formatNumber, t } from './lib/i18n.js';
import { showError, showSuccess, showToast } from './lib/toast.js';
import { undoWrites } from './lib/results.js';
import { BATCH_TIMEOUT_MS } from './lib/messages.js';

const ALL_TARGETS = '*all*'; // not a valid target name

let session = null;
let onDoneCallback = () => {};

function buildParams() {
  const type = $('#batch-type').value;
  const params = { items: session.items.map(({ key }) => ({ key_id: key.id, provider_type: type })) };
  if (!$('#batch-target-field').hidden) {
    const target = $('#batch-target').value;
    if (target === ALL_TARGETS) params.targets = 'all';
    else if (target) params.target = target;
  }
  return params;
}

function setStatus(index, status, text) {
  const row = $$('#batch-items .batch-item')[index];
  if (!row) return;
  const badge = $('.batch-status', row);
  row.dataset.status = status;
  badge.dataset.status = status;
  badge.textContent = text;
}

/** The whole request failed: every key gets the same status. */
function markAllFailed(error) {
  const { title } = describeError(error);
  session.items.forEach((_, index) => setStatus(index, 'failed', title));
}

function statusOf(entry, dryRun) {
  if (!entry?.ok) {
    const info = describeError(entry?.error ?? {});
    return ['failed', info.title];
  }
  const action = entry.result?.action ?? 'updated';
  return [action, t(dryRun ? `status_would_${action}` : `action_${action}`)];
}

/** Per-target batch results: [{target, ok, result|error}] (one entry when not fanned out). */
function perTarget(result) {
  return Array.isArray(result.results) ? result.results : [{ target: null, ok: true, result }];
}

function renderResult(result, dryRun) {
  const targets = perTarget(result);
  session.items.forEach((_, index) => {
    const parts = targets.map((entry) => {
      const item = entry.ok
        ? entry.result.items?.find((i) => i.index === index) ?? entry.result.items?.[index]
        : { ok: false, error: entry.error };
      const [status, text] = statusOf(item, dryRun);
      return { status, text: entry.target ? `${entry.target}: ${text}` : text };
    });
    const failed = parts.some((p) => p.status === 'failed');
    const status = parts.length === 1 ? parts[0].status : failed ? 'failed' : parts[0].status;
    setStatus(index, status, parts.map((p) => p.text).join(' · '));
  });
  const totals = { created: 0, updated: 0, unchanged: 0, failed: 0 };
  for (const entry of targets) {
    if (!entry.ok) {
      totals.failed += session.items.length;
      continue;
    }
    for (const name of Object.keys(totals)) totals[name] += entry.result.summary?.[name] ?? 0;
  }
  $('#batch-summary').textContent = t(dryRun ? 'batch_preview_summary' : 'batch_summary', [
    formatNumber(totals.created),
    formatNumber(totals.updated),
    formatNumber(totals.unchanged),
    formatNumber(totals.failed),
  ]);
  return { targets, totals };
}

async function runPreview() {
  const current = session;
  const params = buildParams();
  await whileBusy($('#batch-preview'), async () => {
    try {
      const result = await call('import.batch', { ...params, dry_run: true }, { timeoutMs: BATCH_TIMEOUT_MS });
      if (session !== current) return;
      renderResult(result, true);
      // Hashes only make sense for one target.
      const lists = Array.isArray(result.results) ? null : result.lists;
      current.preview = {
        params: JSON.stringify(params),
        hashes: lists
          ? Object.fromEntries(Object.entries(lists).filter(([, v]) => v?.list_hash).map(([name, v]) => [name, v.list_hash]))
          : null,
      };
    } catch (error) {
      if (session !== current) return;
      markAllFailed(error);
      showError(error);
    }
  });
}

async function runImport() {
  const current = session;
  const params = buildParams();
  if (current.preview?.hashes && current.preview.params === JSON.stringify(params)) {
    params.expect_list_hashes = current.preview.hashes;
  }
  await whileBusy($('#batch-apply'), async () => {
    let result;
    try {
      result = await call('import.batch', params, { timeoutMs: BATCH_TIMEOUT_MS });
    } catch (error) {
      if (session === current) {
        current.preview = null;
        markAllFailed(error);
      }
      showError(error, { title: t('toast_batch_failed') });
      return;
    }
    if (session !== current) return;
    current.preview = null;
    const { targets, totals } = renderResult(result, false);
    const writes = [];
    for (const entry of targets) {
      if (!entry.ok) continue;
      for (const list of Object.values(entry.result.lists ?? {})) {
        if (list?.backup_id) writes.push({ backup_id: list.backup_id, target: entry.target ?? undefined });
      }
    }
    const done = totals.created + totals.updated + totals.unchanged;
    const total = done + totals.failed;
    const actions = writes.length
      ? [{ label: t('undo'), className: 'toast-undo', onClick: () => undoWrites(writes) }]
      : [];
    if (done === 0) {
      const firstError =
        targets.find((entry) => !entry.ok)?.error ??
        targets.flatMap((entry) => entry.result?.items ?? []).find((item) => !item.ok)?.error;
      if (firstError) {
        showError(
          { code: firstError.code, message: firstError.message, details: firstError.details ?? {} },
          { title: t('toast_batch_failed') },
        );
      } else {
        showToast({ kind: 'error', title: t('toast_batch_failed'), message: $('#batch-summary').textContent });
      }
      return;
    }
    const action = totals.created ? 'created' : totals.updated ? 'updated' : 'unchanged';
    showSuccess(t('toast_batch_done', [formatNumber(done), formatNumber(total)]), $('#batch-summary').textContent, {
      action,
      actions,
    });
    onDoneCallback();
  });
}

async function loadTargets(current) {
  show($('#batch-target-field'), false);
  let settings;
  try {
    settings = await call('settings.get');
  } catch {
    return;
  }
  if (session !== current) return;
  const targets = Array.isArray(settings.targets) ? settings.targets : [];
  if (targets.length < 2) return;
  const select = clear($('#batch-target'));
  for (const target of targets) {
    select.append(el('option', { text: target.name, attrs: { value: target.name, selected: target.default } }));
  }
  select.append(el('option', { text: t('all_targets'), attrs: { value: ALL_TARGETS } }));
  show($('#batch-target-field'), true);
}

/** items: [{site, key}] */
export function openBatchDialog(items) {
  if (!items.length) return;
  const current = { items, preview: null };
  session = current;
  $('#batch-form').reset();
  $('#batch-subtitle').textContent = t('batch_subtitle', [formatNumber(items.length)]);
  $('#batch-summary').textContent = '';
  const list = clear($('#batch-items'));
  for (const { site, key } of items) {
    list.append(
      el('li', { className: 'batch-item', dataset: { keyId: key.id, status: 'pending' } }, [
        el('div', { className: 'batch-item-main' }, [
          el('span', { className: 'batch-site', text: site.name }),
          el('code', { className: 'batch-key', text: key.label ? `${key.label} · ${key.key_hint}` : key.key_hint }),
        ]),
        el('span', { className: 'batch-status', text: t('status_pending'), dataset: { status: 'pending' } }),
      ]),
    );
  }
  $('#batch-dialog').showModal();
  $('#batch-type').focus();
  loadTargets(current);
}

export function setupBatchDialog({ onDone } = {}) {
  onDoneCallback = onDone ?? (() => {});
  $('#batch-form').addEventListener('submit', (event) => {
    event.preventDefault();
    runImport();
  });
  $('#batch-form').addEventListener('change', () => {
    if (session) session.preview = null;
  });
  $('#batch-preview').addEventListener('click', runPreview);
  $('#batch-dialog').addEventListener('close', (event) => {
    // The event is queued: ignore it if the dialog was opened again meanwhile.
    if (!event.currentTarget.open) session = null;
  });
}
