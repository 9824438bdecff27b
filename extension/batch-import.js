// Import several selected keys in one `import.batch` request, with a status
// per key. Preview (dry run) keeps the list hashes; Import sends them back.

import { call } from './lib/api.js';
import { describeError } from './lib/errors.js';
import { $, $$, clear, el, whileBusy } from './lib/dom.js';
import { addProviderTypeOptions } from './lib/fields.js';
import { formatNumber, t } from './lib/i18n.js';
import { showError, showToast } from './lib/toast.js';
import { failureActions, failureLine, undoAction } from './lib/results.js';
import { BATCH_TIMEOUT_MS } from './lib/messages.js';
import { loadTargetChoice, targetChoiceParams } from './lib/targets.js';
import { warningLines } from './lib/warnings.js';
import { invalidOptions, mountProviderOptions, readProviderOptions, resetProviderOptions } from './lib/provider-options.js';
import { rejectedKeyIds } from './accounts.js';

let session = null;
let onDoneCallback = () => {};

function buildParams() {
  const type = $('#batch-type').value;
  const options = readProviderOptions($('#batch-options'), 'batch-opt');
  if (options.error) return invalidOptions(options);
  const params = {
    items: session.items.map(({ key }) => ({ key_id: key.id, provider_type: type, ...options.params })),
  };
  // Relay keys the site reports dead (or rejected in a key check) are skipped, or imported when unticked.
  if (session.items.some(({ key }) => key.usable === false)) {
    if ($('#batch-skip-unusable').checked) params.skip_unusable = true;
    else params.allow_unusable = true;
  }
  return Object.assign(params, targetChoiceParams($('#batch-target-field'), $('#batch-target')));
}

/** "Test keys first": check the relay keys, mark the rejected ones unusable (they are then skipped). */
async function testFirst() {
  if (!$('#batch-test').checked) return true;
  const ids = session.items.filter(({ key }) => key.remote).map(({ key }) => key.id);
  if (!ids.length) return true;
  const rejected = await rejectedKeyIds(ids);
  if (rejected === null) return false;
  for (const item of session.items) {
    if (rejected.has(item.key.id)) item.key = { ...item.key, usable: false, problem: 'rejected' };
  }
  return true;
}

/** Items the host skipped (unusable on their site). */
function skippedIndexes(result) {
  const lists = Array.isArray(result.results) ? result.results.filter((r) => r.ok).map((r) => r.result) : [result];
  return new Set(lists.flatMap((r) => (r.skipped ?? []).map((s) => s.index)));
}

function setStatus(index, status, text, warnings = []) {
  const row = $$('#batch-items .batch-item')[index];
  if (!row) return;
  const badge = $('.batch-status', row);
  row.dataset.status = status;
  badge.dataset.status = status;
  badge.textContent = text;
  $('.batch-warnings', row)?.remove();
  if (warnings.length) {
    row.append(el('ul', { className: 'batch-warnings' }, warnings.map((line) => el('li', { text: line }))));
  }
}

/** Items of a batch result that made a provider without models (it serves nothing). */
function withoutModels(targets) {
  return targets
    .flatMap((entry) => (entry.ok ? entry.result.items ?? [] : []))
    .filter((item) => item.ok && (item.result?.warning_codes ?? []).some((w) => w.code === 'provider_without_models'));
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

/** Created / updated / unchanged / failed over every target (a failed target fails each key). */
function countTotals(targets, itemCount) {
  const totals = { created: 0, updated: 0, unchanged: 0, failed: 0 };
  for (const entry of targets) {
    if (!entry.ok) {
      totals.failed += itemCount;
      continue;
    }
    for (const name of Object.keys(totals)) totals[name] += entry.result.summary?.[name] ?? 0;
  }
  return totals;
}

function summaryText(totals, dryRun) {
  return t(dryRun ? 'batch_preview_summary' : 'batch_summary', [
    formatNumber(totals.created),
    formatNumber(totals.updated),
    formatNumber(totals.unchanged),
    formatNumber(totals.failed),
  ]);
}

function renderResult(result, dryRun) {
  const targets = perTarget(result);
  const skipped = skippedIndexes(result);
  session.items.forEach((_, index) => {
    if (skipped.has(index)) {
      setStatus(index, 'skipped', t('status_skipped_unusable'));
      return;
    }
    const parts = targets.map((entry) => {
      const item = entry.ok
        ? entry.result.items?.find((i) => i.index === index) ?? entry.result.items?.[index]
        : { ok: false, error: entry.error };
      const [status, text] = statusOf(item, dryRun);
      const prefix = entry.target ? `${entry.target}: ` : '';
      const warnings = item?.ok ? warningLines(item.result).map((line) => prefix + line) : [];
      return { status, text: prefix + text, warnings };
    });
    const failed = parts.some((p) => p.status === 'failed');
    const status = parts.length === 1 ? parts[0].status : failed ? 'failed' : parts[0].status;
    const warnings = [...new Set(parts.flatMap((p) => p.warnings))];
    setStatus(index, status, parts.map((p) => p.text).join(' · '), warnings);
  });
  const totals = countTotals(targets, session.items.length);
  $('#batch-summary').textContent = summaryText(totals, dryRun);
  return { targets, totals };
}

async function runPreview() {
  const current = session;
  if (!buildParams()) return; // invalid provider options: shown in the form, nothing sent
  await whileBusy($('#batch-preview'), async () => {
    if (!(await testFirst())) return;
    const params = buildParams();
    if (!params) return;
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
  if (!buildParams()) return; // invalid provider options: shown in the form, nothing sent
  await whileBusy($('#batch-apply'), async () => {
    if (!current.preview && !(await testFirst())) return;
    const params = buildParams();
    if (!params) return;
    if (current.preview?.hashes && current.preview.params === JSON.stringify(params)) {
      params.expect_list_hashes = current.preview.hashes;
    }
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
    renderResult(result, false);
    if (showBatchResult(result, params, current.items.length) > 0) onDoneCallback();
  });
}

/** Send the same batch again to the targets that failed (from the result toast). */
async function retryBatch(params, targets, itemCount) {
  const { target: _single, expect_list_hashes: _hashes, ...rest } = params;
  const again = { ...rest, targets };
  try {
    const result = await call('import.batch', again, { timeoutMs: BATCH_TIMEOUT_MS });
    showBatchResult(result, again, itemCount);
  } catch (error) {
    showError(error, { title: t('toast_batch_failed') });
  }
}

/**
 * The result toast of a batch: counts, a line per failed target, Undo and Retry failed.
 * Returns how many key imports succeeded.
 */
function showBatchResult(result, params, itemCount) {
  const targets = perTarget(result);
  const totals = countTotals(targets, itemCount);
  const writes = [];
  for (const entry of targets) {
    if (!entry.ok) continue;
    for (const list of Object.values(entry.result.lists ?? {})) {
      if (list?.backup_id) writes.push({ backup_id: list.backup_id, target: entry.target ?? undefined });
    }
  }
  const failedTargets = targets.filter((entry) => !entry.ok && entry.target);
  const retry = (names) => retryBatch(params, names, itemCount);
  const empty = withoutModels(targets);
  const lines = [
    summaryText(totals, false),
    ...(empty.length ? [t('batch_without_models', [formatNumber(empty.length)])] : []),
    ...failedTargets.map(failureLine),
  ];
  const done = totals.created + totals.updated + totals.unchanged;
  const total = done + totals.failed;
  if (done === 0) {
    if (failedTargets.length) {
      showToast({
        kind: 'error',
        title: t('toast_batch_failed'),
        message: lines.join('\n'),
        data: { code: failedTargets[0].error?.code ?? 'unknown' },
        actions: failureActions(failedTargets, retry),
      });
      return 0;
    }
    const firstError = targets.flatMap((entry) => entry.result?.items ?? []).find((item) => !item.ok)?.error;
    if (firstError) {
      showError(
        { code: firstError.code, message: firstError.message, details: firstError.details ?? {} },
        { title: t('toast_batch_failed') },
      );
    } else {
      showToast({ kind: 'error', title: t('toast_batch_failed'), message: lines.join('\n') });
    }
    return 0;
  }
  const action = totals.created ? 'created' : totals.updated ? 'updated' : 'unchanged';
  showToast({
    kind: failedTargets.length || empty.length ? 'warning' : 'success',
    title: t('toast_batch_done', [formatNumber(done), formatNumber(total)]),
    message: lines.join('\n'),
    data: { action },
    actions: [...undoAction(writes), ...failureActions(failedTargets, retry)],
  });
  return done;
}

/** items: [{site, key}] */
export function openBatchDialog(items) {
  if (!items.length) return;
  const current = { items, preview: null };
  session = current;
  $('#batch-form').reset();
  resetProviderOptions($('#batch-options'));
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
  loadTargetChoice($('#batch-target-field'), $('#batch-target'), () => session === current);
}

export function setupBatchDialog({ onDone } = {}) {
  onDoneCallback = onDone ?? (() => {});
  addProviderTypeOptions($('#batch-type'));
  mountProviderOptions($('#batch-options'), 'batch-opt');
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
