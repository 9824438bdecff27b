// Toasts for import results, with Undo (history.undo).

import { call } from './api.js';
import { showError, showSuccess, showToast } from './toast.js';
import { keyFor, t } from './i18n.js';

const ACTION_RANK = { created: 3, updated: 2, unchanged: 1 };

function providerLabel(type) {
  return type ? t(keyFor('provider', type)) : '';
}

/** Undo one or more writes; each {backup_id, target}. */
export async function undoWrites(entries) {
  let undone = 0;
  for (const { backup_id: backupId, target } of entries) {
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

function undoAction(entries) {
  const writes = entries.filter((entry) => entry.backup_id);
  return writes.length ? [{ label: t('undo'), className: 'toast-undo', onClick: () => undoWrites(writes) }] : [];
}

function detailLine(result) {
  const parts = [providerLabel(result.provider_type), result.base_url].filter(Boolean);
  const lines = [parts.join(' · ')];
  for (const warning of result.warnings ?? []) lines.push(warning);
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

function showFanOut(result) {
  const results = result.results ?? [];
  const ok = results.filter((entry) => entry.ok);
  const failed = results.filter((entry) => !entry.ok);
  const total = result.summary?.total ?? results.length;
  if (ok.length === 0) {
    const first = failed[0]?.error ?? {};
    return showError({ code: first.code, message: first.message, details: first.details ?? {} });
  }
  const best = ok
    .map((entry) => entry.result?.action)
    .sort((a, b) => (ACTION_RANK[b] ?? 0) - (ACTION_RANK[a] ?? 0))[0];
  const lines = failed.map((entry) => t('toast_fanout_failed_target', [entry.target, entry.error?.code ?? '?']));
  return showSuccess(t('toast_import_fanout', [ok.length, total]), lines.join('\n'), {
    action: best ?? 'updated',
    actions: undoAction(ok.map((entry) => ({ backup_id: entry.result?.backup_id, target: entry.target }))),
  });
}

/** Show the toast for an `import` result (single target or fan-out). */
export function showImportResult(result) {
  return Array.isArray(result?.results) ? showFanOut(result) : showSingle(result ?? {});
}

export { providerLabel };
