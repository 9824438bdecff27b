// History page: every write cpa-bridge made to a CLIProxyAPI server (history.list), newest
// first, each with Undo (history.undo). The newest PAGE come first; "Load older" adds the
// next PAGE below them, as often as there are older ones. With several servers a picker
// chooses which one; the choice is kept in the fragment (#target=NAME). An undo that finds
// the list changed since asks before restoring anyway (force).

import { call } from './lib/api.js';
import { api } from './lib/browser.js';
import { confirmAction } from './lib/dialogs.js';
import { $, clear, el, show, whileBusy } from './lib/dom.js';
import { initHostBanner } from './lib/host-banner.js';
import { formatNumber, keyFor, message, t } from './lib/i18n.js';
import { initPage } from './lib/page-shell.js';
import { showError, showSuccess } from './lib/toast.js';

/** Entries a page adds. */
const PAGE = 50;
/** The largest `limit` history.list takes. */
const HOST_LIMIT = 200;

/** `entries`: those shown, newest first; `nextOffset`: where the older ones start (null: none);
 * `generation`: counts fresh loads, so that a page asked for before one is dropped. */
const state = { target: null, targets: [], entries: [], nextOffset: null, total: 0, generation: 0 };

function formatWhen(seconds) {
  if (typeof seconds !== 'number') return '—';
  return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    dateStyle: 'medium',
    timeStyle: 'medium',
  }).format(new Date(seconds * 1000));
}

/** One change of a write, as a line: "Added key sk-ab…wxyz". */
function changeLine(change) {
  const op = String(change?.op ?? '');
  const models = Array.isArray(change.models) ? change.models.map((m) => m.alias || m.name).join(', ') : '';
  const args = {
    create_provider: [change.provider_name ?? '', change.base_url ?? ''],
    add_key: [change.key_hint ?? ''],
    add_models: [models],
    remove_key: [change.key_hint ?? '', change.provider ?? ''],
    delete_provider: [change.provider ?? ''],
    disable_provider: [change.provider ?? ''],
    enable_provider: [change.provider ?? ''],
    set_models: [formatNumber(change.model_count ?? 0), change.provider ?? ''],
    restore: [change.backup_id ?? ''],
  }[op];
  return (args && message(keyFor('history_change', op), args)) || op;
}

function operationLabel(operation) {
  return message(keyFor('history_op', operation ?? '')) || String(operation ?? '');
}

function renderEntry(entry) {
  const undone = Boolean(entry.undone_by);
  const changes = Array.isArray(entry.summary) ? entry.summary : [];
  const outcome = message(keyFor('history_outcome', entry.outcome ?? '')) || String(entry.outcome ?? '');
  const action = undone
    ? el('span', { className: 'badge', text: t('history_undone') })
    : el('button', {
        className: 'button button-small history-undo',
        text: t('undo'),
        attrs: { type: 'button', 'aria-label': t('history_undo_named', [operationLabel(entry.operation), formatWhen(entry.created_at)]) },
        on: { click: (event) => undo(entry, event.currentTarget) },
      });
  return el(
    'tr',
    {
      className: `history-entry${undone ? ' is-undone' : ''}`,
      dataset: { backupId: entry.backup_id ?? '', operation: entry.operation ?? '', outcome: entry.outcome ?? '' },
    },
    [
      el('td', { className: 'history-when', text: formatWhen(entry.created_at) }),
      el('td', { className: 'history-detail' }, [
        el('div', { className: 'history-operation', text: operationLabel(entry.operation) }),
        changes.length
          ? el('ul', { className: 'history-changes' }, changes.slice(0, 6).map((c) => el('li', { text: changeLine(c) })))
          : null,
      ]),
      el('td', { className: 'history-list' }, [message(keyFor('list', entry.list ?? '')) || entry.list || '']),
      el('td', { className: 'history-outcome', text: outcome }),
      el('td', { className: 'history-action' }, [action]),
    ],
  );
}

function countText() {
  const shown = state.entries.length;
  if (shown === 0) return t('history_empty');
  if (state.nextOffset !== null) return t('history_count_partial', [formatNumber(shown), formatNumber(Math.max(state.total, shown))]);
  return shown === 1 ? t('history_count_one') : t('history_count', [formatNumber(shown)]);
}

function setStatus(text) {
  $('#history-status').textContent = text;
}

/** Up to `count` entries from `offset` on, in as few history.list calls as the host allows. */
async function fetchEntries(offset, count) {
  const entries = [];
  let next = offset;
  let total = 0;
  while (next !== null && entries.length < count) {
    const result = await call('history.list', { target: state.target, offset: next, limit: Math.min(HOST_LIMIT, count - entries.length) });
    if (Array.isArray(result.entries)) entries.push(...result.entries);
    next = typeof result.next_offset === 'number' && result.next_offset > next ? result.next_offset : null;
    total = typeof result.total === 'number' ? result.total : entries.length;
  }
  return { entries, next, total };
}

/** Rows for `entries` after those shown (an entry already shown is skipped: a write between two
 * pages shifts the older ones by one). Returns the first new row. */
function appendEntries(entries) {
  const known = new Set(state.entries.map((entry) => entry.backup_id));
  const fresh = entries.filter((entry) => !known.has(entry.backup_id));
  const rows = fresh.map(renderEntry);
  $('#history-entries').append(...rows);
  state.entries.push(...fresh);
  return rows[0] ?? null;
}

function showPaging() {
  show($('#history-card'), state.entries.length > 0);
  show($('#history-older'), state.nextOffset !== null);
  show($('#history-end'), state.nextOffset === null && state.entries.length > PAGE);
  setStatus(countText());
}

/** Load the newest `count` entries afresh (a reload keeps as many as were shown). */
async function loadEntries(count = PAGE) {
  const main = $('#main');
  const generation = ++state.generation;
  main.dataset.state = 'loading';
  setStatus(t('loading'));
  try {
    const page = await fetchEntries(0, Math.max(PAGE, count));
    if (generation !== state.generation) return;
    clear($('#history-entries'));
    Object.assign(state, { entries: [], nextOffset: page.next, total: page.total });
    appendEntries(page.entries);
    showPaging();
  } catch (error) {
    if (generation !== state.generation) return;
    Object.assign(state, { entries: [], nextOffset: null, total: 0 });
    clear($('#history-entries'));
    showPaging();
    setStatus('');
    showError(error);
  }
  main.dataset.state = 'ready';
}

/** "Load older": the next PAGE below those shown. Focus stays on the button while there are
 * more, else moves to the first row added. */
async function loadOlder(button) {
  const main = $('#main');
  const generation = state.generation;
  main.dataset.state = 'loading';
  let first = null;
  await whileBusy(button, async () => {
    try {
      const page = await fetchEntries(state.nextOffset, PAGE);
      if (generation !== state.generation) return; // reloaded or another server meanwhile
      Object.assign(state, { nextOffset: page.next, total: page.total });
      first = appendEntries(page.entries);
      showPaging();
    } catch (error) {
      if (generation === state.generation) showError(error);
    }
  });
  if (generation !== state.generation) return;
  main.dataset.state = 'ready';
  if (!button.hidden) button.focus();
  else focusRow(first);
}

function focusRow(row) {
  if (!row) return false;
  row.tabIndex = -1;
  row.focus();
  return true;
}

async function undo(entry, button) {
  const params = { backup_id: entry.backup_id, target: state.target };
  await whileBusy(button, async () => {
    try {
      await call('history.undo', params);
    } catch (error) {
      if (error.code !== 'conflict') {
        showError(error, { title: t('undo_failed') });
        return;
      }
      const ok = await confirmAction({
        title: t('history_conflict_title'),
        text: t('history_conflict_text'),
        ok: t('history_undo_anyway'),
      });
      if (!ok) return;
      try {
        await call('history.undo', { ...params, force: true });
      } catch (again) {
        showError(again, { title: t('undo_failed') });
        return;
      }
    }
    showSuccess(t('toast_undone_title'), t('toast_undone_text'), { action: 'undone' });
  });
  // The undo is itself a write, listed first: load one more so the oldest shown stays shown.
  await loadEntries(state.entries.length + 1);
  const row = $(`tr.history-entry[data-backup-id="${CSS.escape(entry.backup_id ?? '')}"]`);
  if (!focusRow(row)) $('#history-reload').focus();
}

function targetFromHash() {
  const match = /^#target=(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

async function loadTargets() {
  const settings = await call('settings.get');
  state.targets = (Array.isArray(settings.targets) ? settings.targets : []).filter((x) => x.management_url && x.has_key);
  if (!state.targets.length) {
    show($('#history-setup'), true);
    setStatus('');
    $('#main').dataset.state = 'ready';
    return false;
  }
  const wanted = (targetFromHash() ?? '').toLowerCase();
  const chosen = state.targets.find((x) => x.name.toLowerCase() === wanted) ?? state.targets.find((x) => x.default) ?? state.targets[0];
  state.target = chosen.name;
  const select = clear($('#history-target'));
  for (const target of state.targets) {
    select.append(el('option', { text: target.name, attrs: { value: target.name, selected: target.name === state.target } }));
  }
  show($('#history-target-field'), state.targets.length > 1);
  return true;
}

async function start() {
  initPage('history_page_title');
  $('#history-open-options').addEventListener('click', () => api.runtime.openOptionsPage());
  $('#history-reload').addEventListener('click', (event) => whileBusy(event.currentTarget, () => loadEntries(state.entries.length)));
  $('#history-older').addEventListener('click', (event) => loadOlder(event.currentTarget));
  $('#history-target').addEventListener('change', (event) => {
    state.target = event.currentTarget.value;
    history.replaceState(null, '', `#target=${encodeURIComponent(state.target)}`);
    loadEntries();
  });
  const status = await initHostBanner();
  if (!status.ping) {
    $('#history-reload').disabled = true;
    $('#main').dataset.state = 'ready';
    return;
  }
  try {
    if (await loadTargets()) await loadEntries();
  } catch (error) {
    showError(error);
    $('#main').dataset.state = 'ready';
  }
}

start();
