// Toasts for import results, with Undo (history.undo).

import { call } from './api.js';
import { api } from './browser.js';
import { describeError, errorText } from './errors.js';
import { onOptionsPage, showError, showSuccess, showToast } from './toast.js';
import { keyFor, t } from './i18n.js';
import { warningLines } from './warnings.js';

const ACTION_RANK = { created: 3, updated: 2, unchanged: 1 };

function providerLabel(type) {
  return type ? t(keyFor('provider', type)) : '';
}

/** Undo one or more writes; each {backup_id, target}. The newest write is undone first. */
export async function undoWrites(entries) {
  let undone = 0;
  for (const { backup_id: backupId, target } of [...entries].reverse()) {
    try {
      const params = { backup_id: backupId };
      if (target) params.target = target;
      await call('history.undo', params);
      undone += 1;
    } catch (error) {
      showError(error, { title: t('undo_failed') });
    }
  }
  if (undone > 0) {
    showSuccess(t('toast_undone_title'), t('toast_undone_text'), { action: 'undone' });
  }
  return undone;
}

/** The Undo button of a result toast ([] when nothing was written); `onDone(count)` runs after. */
export function undoAction(entries, { onDone } = {}) {
  const writes = entries.filter((entry) => entry.backup_id);
  if (!writes.length) return [];
  const onClick = async () => {
    const undone = await undoWrites(writes);
    onDone?.(undone);
  };
  return [{ label: t('undo'), className: 'toast-undo', onClick }];
}

function detailLine(result) {
  const parts = [providerLabel(result.provider_type), result.base_url].filter(Boolean);
  const lines = [parts.join(' · ')];
  for (const warning of warningLines(result)) lines.push(warning);
  return lines.filter(Boolean).join('\n');
}

function showSingle(result) {
  const action = ACTION_RANK[result.action] ? result.action : 'updated';
  const name = result.provider_name || '';
  if (result.outcome === 'uncertain') {
    return showToast({
      kind: 'warning',
      title: t('toast_import_uncertain_title'),
      message: t('toast_import_uncertain_text', [name]),
      data: { action },
      actions: undoAction([{ backup_id: result.backup_id, target: result.target }]),
    });
  }
  return showSuccess(t(`toast_import_${action}`, [name]), detailLine(result), {
    action,
    actions: undoAction([{ backup_id: result.backup_id, target: result.target }]),
  });
}

/** One line per failed target: "name: title: hint" (the hint says what to do). */
function failureLine(entry) {
  return t('toast_target_failed', [entry.target ?? '?', errorText(entry.error ?? {})]);
}

/** Toast buttons for failed targets: Retry failed (when the caller can), Open settings (when that is the fix). */
function failureActions(failed, retry) {
  const actions = [];
  const targets = failed.map((entry) => entry.target).filter(Boolean);
  if (retry && targets.length) {
    actions.push({ label: t('retry_failed'), className: 'toast-retry', onClick: () => retry(targets) });
  }
  if (!onOptionsPage() && failed.some((entry) => describeError(entry.error ?? {}).linkToOptions)) {
    actions.push({ label: t('open_options'), className: 'toast-options', onClick: () => api.runtime.openOptionsPage() });
  }
  return actions;
}

/**
 * The toast for a fan-out result ({results: [{target, ok, result|error}], summary}):
 * "Imported to N of M servers", a line per failed target with the reason, Undo for the
 * writes that happened and Retry failed (`retry(failedTargets)`).
 */
function showFanOut(result, { retry } = {}) {
  const results = result.results ?? [];
  const ok = results.filter((entry) => entry.ok);
  const failed = results.filter((entry) => !entry.ok);
  const total = result.summary?.total ?? results.length;
  const lines = failed.map(failureLine);
  const failedTargets = failed.map((entry) => entry.target ?? '').join(',');
  if (ok.length === 0) {
    return showToast({
      kind: 'error',
      title: t('toast_import_fanout_failed', [total]),
      message: lines.join('\n'),
      data: { code: failed[0]?.error?.code ?? 'unknown', failedTargets },
      actions: failureActions(failed, retry),
    });
  }
  const best = ok
    .map((entry) => entry.result?.action)
    .sort((a, b) => (ACTION_RANK[b] ?? 0) - (ACTION_RANK[a] ?? 0))[0];
  return showToast({
    kind: failed.length ? 'warning' : 'success',
    title: t('toast_import_fanout', [ok.length, total]),
    message: lines.join('\n'),
    data: { action: best ?? 'updated', failedTargets },
    actions: [
      ...undoAction(ok.map((entry) => ({ backup_id: entry.result?.backup_id, target: entry.target }))),
      ...failureActions(failed, retry),
    ],
  });
}

/**
 * Show the toast for an `import` result (single target or fan-out). `retry(targets)`,
 * when given, re-sends the import to the targets that failed.
 */
export function showImportResult(result, { retry } = {}) {
  return Array.isArray(result?.results) ? showFanOut(result, { retry }) : showSingle(result ?? {});
}

export { failureActions, failureLine, providerLabel };
