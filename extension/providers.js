// The "CLIProxyAPI" page: what a CLIProxyAPI server holds (providers.list, keys masked)
// and managing it through the host's safe write path: details, remove one key,
// disable / enable, delete, edit the model mappings. Every write ends in a toast with
// Undo (history.undo). With several servers, "All servers" compares them
// (providers.drift) and copies what is missing (providers.sync).
//
// The page never sees a key: providers and keys are named by the host's entry_id / key_id.

import { call } from './lib/api.js';
import { api } from './lib/browser.js';
import { confirmAction, setFormError } from './lib/dialogs.js';
import { describeError, errorText } from './lib/errors.js';
import { $, $$, clear, debounce, el, show, svgIcon, whileBusy } from './lib/dom.js';
import { initHostBanner } from './lib/host-banner.js';
import { formatNumber, keyFor, message, t } from './lib/i18n.js';
import { addMappingRow, mappingRows, mappingText, readMappings } from './lib/mapping-rows.js';
import { loadModelList, mapModel, renderModelChips } from './lib/model-chips.js';
import { HOST_MISSING_CODES, PROVIDER_TYPES } from './lib/messages.js';
import { initPage } from './lib/page-shell.js';
import { failureActions, failureLine, undoAction } from './lib/results.js';
import { showError, showToast } from './lib/toast.js';
import { warningLines } from './lib/warnings.js';

const ALL = '*all*'; // not a valid target name
const OPENAI = 'openai-compatibility';
const LIST_ORDER = PROVIDER_TYPES;
const READ_TIMEOUT_MS = 45_000;
const WRITE_TIMEOUT_MS = 60_000;
const SYNC_TIMEOUT_MS = 120_000;
const MODELS_SHOWN = 8;

const state = {
  settings: null,
  /** A target name, or ALL for the drift view. */
  target: null,
  /** The last providers.list result (one target). */
  listing: null,
  /** The last providers.drift result. */
  drift: null,
  filter: '',
  /** Bumped by every load: an older answer is dropped. */
  loadId: 0,
  /** After the next render, focus this: {entryId, selector} or {list}. */
  focus: null,
};

// ---------- names ----------

function listLabel(list) {
  return message(keyFor('list', list)) || list;
}

function targets() {
  return Array.isArray(state.settings?.targets) ? state.settings.targets : [];
}

function configuredTargets() {
  return targets().filter((target) => target.management_url && target.has_key);
}

/** How a provider (or a drift row) is called on the page (never a key, only its mask). */
function providerName(list, provider) {
  if (list === OPENAI) return provider.name || provider.base_url || provider.label || '?';
  const hint = Array.isArray(provider.keys) ? provider.keys[0] : null;
  const keyHint = typeof hint === 'string' ? hint : hint?.key_hint;
  return keyHint ? `${listLabel(list)} · ${keyHint}` : provider.label || listLabel(list);
}

function baseUrlText(url) {
  return url || t('provider_default_upstream');
}

function sortedLists(lists) {
  const names = Object.keys(lists ?? {});
  return [...LIST_ORDER.filter((name) => names.includes(name)), ...names.filter((name) => !LIST_ORDER.includes(name))];
}

function matches(...texts) {
  const needle = state.filter.trim().toLowerCase();
  if (!needle) return true;
  return texts.flat().some((text) => String(text ?? '').toLowerCase().includes(needle));
}

// ---------- loading ----------

function setStatus(text) {
  $('#view-status').textContent = text || '';
}

function saveLocation() {
  const hash = state.target === ALL ? '#all' : state.target ? `#target=${encodeURIComponent(state.target)}` : '';
  if (location.hash !== hash) history.replaceState(null, '', hash || location.pathname);
}

function wantedFromLocation() {
  const hash = location.hash.slice(1);
  if (hash === 'all') return ALL;
  const match = /^target=(.+)$/.exec(hash);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

function renderTargetSelect() {
  const select = clear($('#target-select'));
  const all = targets();
  for (const target of all) {
    const plain = !target.default || target.name.toLowerCase() === 'default';
    const label = plain ? target.name : t('providers_target_default', [target.name]);
    select.append(el('option', { text: label, attrs: { value: target.name } }));
  }
  if (configuredTargets().length > 1) {
    select.append(el('option', { text: t('providers_all_targets'), attrs: { value: ALL } }));
  }
  select.disabled = all.length === 0;
  const help = $('#target-select-help');
  help.textContent = all.length === 1 ? t('providers_one_target_help') : '';
  show(help, all.length === 1);
  if (state.target) select.value = state.target;
}

async function loadSettings() {
  state.settings = await call('settings.get');
  const all = targets();
  const wanted = state.target ?? wantedFromLocation();
  const known =
    wanted === ALL ? configuredTargets().length > 1 : all.some((target) => target.name === wanted);
  state.target = known ? wanted : (state.settings.default_target ?? all[0]?.name ?? null);
  if (!all.some((target) => target.name === state.target) && state.target !== ALL) state.target = null;
  renderTargetSelect();
}

async function loadView() {
  const id = ++state.loadId;
  const configured = configuredTargets().length > 0;
  show($('#setup-hint'), !configured);
  const main = $('#main');
  if (!configured || !state.target) {
    state.listing = null;
    state.drift = null;
    clear($('#list-view'));
    show($('#drift-view'), false);
    setStatus('');
    main.dataset.state = 'empty';
    return;
  }
  saveLocation();
  setStatus(t('loading'));
  main.setAttribute('aria-busy', 'true');
  main.dataset.state = 'loading';
  try {
    if (state.target === ALL) {
      const params = { targets: 'all', include_in_sync: $('#drift-show-all').checked };
      const drift = await call('providers.drift', params, { timeoutMs: READ_TIMEOUT_MS });
      if (id !== state.loadId) return;
      state.drift = drift;
      state.listing = null;
    } else {
      const listing = await call('providers.list', { target: state.target }, { timeoutMs: READ_TIMEOUT_MS });
      if (id !== state.loadId) return;
      state.listing = listing;
      state.drift = null;
    }
  } catch (error) {
    if (id !== state.loadId) return;
    state.listing = null;
    state.drift = null;
    clear($('#list-view'));
    clear($('#drift-lists'));
    show($('#drift-view'), false);
    setStatus(HOST_MISSING_CODES.has(error.code) ? '' : t('providers_load_failed', [errorText(error)]));
    if (!HOST_MISSING_CODES.has(error.code)) showError(error, { title: t('providers_load_failed_title') });
    main.dataset.state = 'error';
    return;
  } finally {
    if (id === state.loadId) main.removeAttribute('aria-busy');
  }
  render();
  main.dataset.state = 'ready';
}

function render() {
  if (state.target === ALL) renderDrift();
  else renderListing();
  applyFocus();
}

function applyFocus() {
  const wanted = state.focus;
  state.focus = null;
  if (!wanted) return;
  let node = null;
  if (wanted.entryId) {
    const card = $(`.provider-card[data-entry-id="${CSS.escape(wanted.entryId)}"]`);
    node = card ? $(wanted.selector, card) ?? $('.provider-name', card) : null;
  }
  if (!node && wanted.list) node = $(`.plist[data-list="${CSS.escape(wanted.list)}"] h2`);
  if (!node) node = $('h1');
  if (!node.hasAttribute('tabindex') && !node.matches('button, input, select, a')) node.setAttribute('tabindex', '-1');
  node.focus();
}

// ---------- one server: the provider lists ----------

function actionButton(className, text, label, onClick) {
  return el('button', {
    className: `button button-small ${className}`,
    text,
    attrs: { type: 'button', 'aria-label': label },
    on: { click: (event) => onClick(event.currentTarget) },
  });
}

function renderKeys(list, provider, name) {
  const keys = provider.keys ?? [];
  const ids = provider.key_ids ?? [];
  const items = keys.map((hint, index) => {
    const keyId = ids[index];
    const removable = list === OPENAI && keyId;
    return el('li', { className: `provider-key${removable ? '' : ' no-action'}`, dataset: { keyId: keyId ?? '' } }, [
      el('code', { className: 'key-hint', text: hint }),
      removable
        ? el(
            'button',
            {
              className: 'icon-button icon-button-danger key-remove',
              attrs: {
                type: 'button',
                'aria-label': t('provider_remove_key_named', [hint, name]),
                title: t('provider_remove_key_named', [hint, name]),
              },
              on: { click: (event) => removeKey(list, provider, keyId, hint, event.currentTarget) },
            },
            [svgIcon('i-x')],
          )
        : null,
    ]);
  });
  if (items.length === 0) items.push(el('li', { className: 'provider-key is-empty', text: t('provider_no_keys') }));
  return el('ul', { className: 'provider-keys', attrs: { 'aria-label': t('provider_keys_of', [name]) } }, items);
}

/** An OpenAI-compatible provider without models serves nothing (the key lists serve their defaults). */
function servesNothing(list, provider) {
  return list === 'openai-compatibility' && !provider.model_count && !provider.disabled;
}

function modelsLine(list, provider) {
  const models = provider.models ?? [];
  if (!models.length && servesNothing(list, provider)) {
    return el('p', { className: 'provider-models-line is-warning', text: t('provider_serves_nothing_text') });
  }
  if (!models.length) return el('p', { className: 'provider-models-line is-empty', text: t('provider_no_models') });
  const shown = models
    .slice(0, MODELS_SHOWN)
    .map(mappingText)
    .join(', ');
  const more = provider.model_count > MODELS_SHOWN ? ` ${t('provider_models_more', [formatNumber(provider.model_count - MODELS_SHOWN)])}` : '';
  return el('p', { className: 'provider-models-line' }, [
    el('span', { className: 'provider-models-label', text: `${t('provider_models_label')} ` }),
    el('span', { className: 'mono', text: shown + more }),
  ]);
}

function renderCard(list, provider) {
  const name = providerName(list, provider);
  const meta = [
    t('provider_key_count', [formatNumber(provider.key_count ?? 0)]),
    t('provider_model_count', [formatNumber(provider.model_count ?? 0)]),
  ];
  if (provider.prefix) meta.push(t('provider_prefix', [provider.prefix]));
  const toggleText = provider.disabled ? t('provider_enable') : t('provider_disable');
  const toggleLabel = provider.disabled ? t('provider_enable_named', [name]) : t('provider_disable_named', [name]);
  return el(
    'li',
    {
      className: `provider-card${provider.disabled ? ' is-disabled' : ''}`,
      dataset: { entryId: provider.entry_id, list, disabled: provider.disabled ? 'true' : 'false' },
    },
    [
      el('div', { className: 'provider-head' }, [
        el('div', { className: 'provider-title' }, [
          el('div', { className: 'provider-name-row' }, [
            el('h3', { className: 'provider-name', text: name }),
            provider.disabled ? el('span', { className: 'badge badge-warning provider-disabled-badge', text: t('provider_disabled') }) : null,
            servesNothing(list, provider)
              ? el('span', { className: 'badge badge-warning provider-no-models-badge', text: t('provider_serves_nothing') })
              : null,
          ]),
          el('p', { className: 'provider-url mono', text: baseUrlText(provider.base_url) }),
          el('p', { className: 'provider-meta', text: meta.join(' · ') }),
        ]),
        el('div', { className: 'provider-actions' }, [
          actionButton('provider-show', t('provider_details'), t('provider_details_named', [name]), () =>
            openDetails(list, provider),
          ),
          actionButton('provider-models', t('provider_models'), t('provider_models_named', [name]), () =>
            openModels(list, provider),
          ),
          actionButton('provider-toggle', toggleText, toggleLabel, (button) => toggleDisabled(list, provider, button)),
          actionButton('button-danger-outline provider-delete', t('delete'), t('provider_delete_named', [name]), (button) =>
            deleteProvider(list, provider, button),
          ),
        ]),
      ]),
      renderKeys(list, provider, name),
      modelsLine(list, provider),
    ],
  );
}

function renderListing() {
  show($('#drift-view'), false);
  const view = clear($('#list-view'));
  const lists = state.listing?.lists ?? {};
  let total = 0;
  let shown = 0;
  for (const list of sortedLists(lists)) {
    const entries = Array.isArray(lists[list]) ? lists[list] : [];
    total += entries.length;
    const visible = entries.filter((p) =>
      matches(p.name, p.label, p.base_url, p.keys ?? [], (p.models ?? []).map((m) => [m.name, m.alias])),
    );
    if (!visible.length) continue;
    shown += visible.length;
    const headingId = `list-${list}`;
    view.append(
      el('section', { className: 'plist', dataset: { list }, attrs: { 'aria-labelledby': headingId } }, [
        el('h2', { attrs: { id: headingId, tabindex: '-1' } }, [
          listLabel(list),
          el('span', { className: 'badge plist-count', text: formatNumber(visible.length) }),
        ]),
        el('ul', { className: 'provider-cards' }, visible.map((provider) => renderCard(list, provider))),
      ]),
    );
  }
  const version = state.listing?.server_version ? t('providers_server_version', [state.listing.server_version]) : '';
  const idle = sortedLists(lists).reduce(
    (count, list) => count + (Array.isArray(lists[list]) ? lists[list].filter((p) => servesNothing(list, p)).length : 0),
    0,
  );
  const idleText = idle ? t('providers_serving_nothing', [formatNumber(idle)]) : '';
  if (total === 0) setStatus(t('providers_none', [state.target]));
  else if (shown === 0) setStatus(t('no_match', [state.filter.trim()]));
  else setStatus([t('providers_counts', [formatNumber(shown), state.target]), idleText, version].filter(Boolean).join(' · '));
}

// ---------- writes (safe write path + Undo) ----------

function resultToast(result, title, action) {
  if (result.action === 'unchanged') {
    return showToast({ kind: 'info', title: t('provider_unchanged'), message: title, data: { action: 'unchanged' } });
  }
  const uncertain = result.outcome === 'uncertain';
  return showToast({
    kind: uncertain ? 'warning' : 'success',
    title: uncertain ? t('provider_write_uncertain') : title,
    message: warningLines(result).join('\n'),
    data: { action },
    actions: undoAction([{ backup_id: result.backup_id, target: result.target }], { onDone: () => loadView() }),
  });
}

/** The params that name one provider on the server shown. */
function entryParams(list, provider) {
  return { target: state.target, list, entry_id: provider.entry_id };
}

/** Run one provider write; on success a toast with Undo, then the list is read again. */
async function write(type, list, provider, params, { button, title, action, focus }) {
  const run = async () => {
    try {
      const result = await call(type, { ...entryParams(list, provider), ...params }, { timeoutMs: WRITE_TIMEOUT_MS });
      resultToast(result, title, action);
      state.focus = focus ?? { list };
      await loadView();
      return result;
    } catch (error) {
      showError(error);
      if (error.code === 'not_found' || error.code === 'conflict') await loadView();
      return null;
    }
  };
  return button ? whileBusy(button, run) : run();
}

async function deleteProvider(list, provider, button) {
  const name = providerName(list, provider);
  const ok = await confirmAction({
    title: t('provider_delete_title'),
    text: t('provider_delete_text', [name, state.target, formatNumber(provider.key_count ?? 0)]),
    ok: t('delete'),
  });
  if (!ok) return;
  await write('providers.delete', list, provider, {}, {
    button,
    title: t('provider_deleted', [name]),
    action: 'deleted',
    focus: { list },
  });
}

async function removeKey(list, provider, keyId, hint, button) {
  const name = providerName(list, provider);
  const last = (provider.key_count ?? 0) <= 1;
  const ok = await confirmAction({
    title: t('provider_remove_key_title'),
    text: [t('provider_remove_key_text', [hint, name, state.target]), last ? t('provider_remove_last_key') : '']
      .filter(Boolean)
      .join(' '),
    ok: t('provider_remove_key'),
  });
  if (!ok) return;
  await write('providers.remove_key', list, provider, { key_id: keyId }, {
    button,
    title: t('provider_key_removed', [hint, name]),
    action: 'key-removed',
    focus: { entryId: provider.entry_id, selector: '.provider-show', list },
  });
}

async function toggleDisabled(list, provider, button) {
  const name = providerName(list, provider);
  const disabled = !provider.disabled;
  await write('providers.set_disabled', list, provider, { disabled }, {
    button,
    title: t(disabled ? 'provider_disabled_done' : 'provider_enabled_done', [name]),
    action: disabled ? 'disabled' : 'enabled',
    focus: { entryId: provider.entry_id, selector: '.provider-toggle', list },
  });
}

// ---------- details ----------

/** One provider in full (providers.show): for the details and the model editor. */
function showProvider(list, provider) {
  return call('providers.show', entryParams(list, provider), { timeoutMs: READ_TIMEOUT_MS });
}

function kvRow(term, value, { mono = false } = {}) {
  return [el('dt', { text: term }), el('dd', { className: mono ? 'mono' : '', text: value ?? '—' })];
}

function table(caption, headers, rows, className) {
  return el('table', { className: `data-table ${className}` }, [
    el('caption', { text: caption }),
    el('thead', {}, [el('tr', {}, headers.map((h) => el('th', { text: h, attrs: { scope: 'col' } })))]),
    el(
      'tbody',
      {},
      rows.map((cells) => el('tr', {}, cells.map((cell, i) => el(i === 0 ? 'th' : 'td', {
        className: cell.mono ? 'mono' : '',
        text: cell.text ?? '—',
        attrs: i === 0 ? { scope: 'row' } : {},
      })))),
    ),
  ]);
}

function renderDetails(list, detail) {
  const provider = detail.provider ?? {};
  const body = clear($('#details-body'));
  const dl = el('dl', { className: 'kv details-kv' }, [
    ...kvRow(t('details_list'), `${listLabel(list)} (${list})`),
    ...(list === OPENAI ? kvRow(t('provider_name'), provider.name) : []),
    ...kvRow(t('base_url'), baseUrlText(provider.base_url), { mono: true }),
    ...kvRow(t('details_status'), provider.disabled ? t('provider_disabled') : t('provider_enabled')),
    ...kvRow(t('details_prefix'), provider.prefix || '—', { mono: true }),
    ...kvRow(t('details_priority'), provider.priority ?? '—'),
    ...kvRow(t('details_headers'), (provider.headers ?? []).join(', ') || '—', { mono: true }),
    ...kvRow(t('details_excluded'), (provider.excluded_models ?? []).join(', ') || '—', { mono: true }),
    ...kvRow(t('details_server'), `${detail.target ?? state.target}${detail.server_version ? ` · ${detail.server_version}` : ''}`),
  ]);
  body.append(dl);
  const keys = provider.keys ?? [];
  body.append(
    table(
      t('details_keys', [formatNumber(keys.length)]),
      [t('key_secret'), t('details_weight'), t('details_proxy')],
      keys.map((key) => [
        { text: key.key_hint, mono: true },
        { text: key.weight ?? '—' },
        { text: key.proxy_url || '—', mono: true },
      ]),
      'details-keys',
    ),
  );
  const models = provider.models ?? [];
  body.append(
    models.length
      ? table(
          t('details_models', [formatNumber(models.length)]),
          [t('mapping_original'), t('details_alias')],
          models.map((model) => [{ text: model.name, mono: true }, { text: model.alias ?? model.name, mono: true }]),
          'details-models',
        )
      : el('p', { className: 'field-help', text: t('provider_no_models') }),
  );
  const other = provider.other ?? {};
  if (Object.keys(other).length) {
    body.append(
      el('h3', { className: 'details-other-title', text: t('details_other') }),
      el('pre', { className: 'details-other mono', text: JSON.stringify(other, null, 2) }),
    );
  }
}

async function openDetails(list, provider) {
  const dialog = $('#details-dialog');
  const name = providerName(list, provider);
  $('#details-subtitle').textContent = `${name} · ${state.target}`;
  dialog.dataset.entryId = provider.entry_id;
  clear($('#details-body')).append(el('p', { className: 'field-help', attrs: { role: 'status' }, text: t('loading') }));
  dialog.showModal();
  try {
    const detail = await showProvider(list, provider);
    if (dialog.dataset.entryId !== provider.entry_id || !dialog.open) return;
    renderDetails(list, detail);
  } catch (error) {
    clear($('#details-body')).append(el('p', { className: 'form-error', attrs: { role: 'alert' }, text: errorText(error) }));
  }
}

// ---------- model mappings ----------

let modelsSession = null;

function addModelRow(name = '', alias = '') {
  return addMappingRow($('#model-rows'), {
    name,
    alias,
    maxLength: 300,
    suggestions: 'models-upstream',
    addButton: $('#model-add-row'),
    onRemove: renderModelSuggestions,
  });
}

function renderModelSuggestions() {
  const models = modelsSession?.upstream ?? [];
  renderModelChips($('#models-suggestions'), $('#models-upstream'), models, $('#model-rows'), (model) => {
    mapModel($('#model-rows'), model, addModelRow);
    renderModelSuggestions();
  });
}

/** The site's model list as suggestions (openai-compatibility: the host asks with the provider's key). */
async function loadModelSuggestions(current, list, provider) {
  const status = $('#models-suggest-status');
  status.classList.remove('is-error');
  if (list !== 'openai-compatibility' || !provider.key_count || !provider.base_url) {
    show(status, false);
    return;
  }
  show(status, true);
  const params = { target: state.target, entry_id: provider.entry_id };
  const models = await loadModelList(status, params, () => modelsSession !== current, { timeoutMs: READ_TIMEOUT_MS });
  if (models === null) return;
  current.upstream = models;
  renderModelSuggestions();
}

async function openModels(list, provider) {
  const current = { list, provider, hash: null, ready: false, upstream: [] };
  modelsSession = current;
  const dialog = $('#models-dialog');
  const form = $('#models-form');
  setFormError(form, '');
  clear($('#model-rows'));
  renderModelSuggestions();
  $('#models-subtitle').textContent = `${providerName(list, provider)} · ${state.target}`;
  $('#models-edit-status').textContent = t('loading');
  $('#models-save').disabled = true;
  dialog.showModal();
  try {
    const detail = await showProvider(list, provider);
    if (modelsSession !== current) return;
    current.hash = detail.list_hash ?? null;
    current.ready = true;
    const models = detail.provider?.models ?? [];
    for (const model of models) {
      addModelRow(model.name ?? '', model.alias && model.alias !== model.name ? model.alias : '');
    }
    if (!models.length) addModelRow();
    $('#models-edit-status').textContent = t('models_edit_count', [formatNumber(models.length)]);
    $('#models-save').disabled = false;
    $('.map-name', mappingRows($('#model-rows'))[0])?.focus();
    loadModelSuggestions(current, list, provider);
  } catch (error) {
    if (modelsSession !== current) return;
    $('#models-edit-status').textContent = '';
    setFormError(form, errorText(error));
  }
}

async function saveModels(event) {
  event.preventDefault();
  const current = modelsSession;
  if (!current?.ready) return;
  const form = $('#models-form');
  setFormError(form, '');
  const { models, unnamed } = readMappings($('#model-rows'));
  if (unnamed) {
    setFormError(form, t('models_edit_name_missing', [unnamed.alias]));
    $('.map-name', unnamed.row).focus();
    return;
  }
  const { list, provider } = current;
  const name = providerName(list, provider);
  await whileBusy($('#models-save'), async () => {
    try {
      const params = { ...entryParams(list, provider), models };
      if (current.hash) params.expect_list_hash = current.hash;
      const result = await call('providers.set_models', params, { timeoutMs: WRITE_TIMEOUT_MS });
      if (modelsSession !== current) return;
      $('#models-dialog').close('saved');
      resultToast(result, t('provider_models_saved', [name]), 'models');
      state.focus = { entryId: provider.entry_id, selector: '.provider-models', list };
      await loadView();
    } catch (error) {
      if (modelsSession !== current) return;
      setFormError(form, errorText(error));
    }
  });
}

// ---------- all servers: drift ----------

function presenceCell(target, present) {
  const label = present ? t('drift_present') : t('drift_missing');
  return el('td', { className: 'presence-cell', dataset: { target, state: present ? 'present' : 'missing' } }, [
    el('span', { className: 'presence', dataset: { state: present ? 'present' : 'missing' } }, [
      svgIcon(present ? 'i-check' : 'i-minus'),
      el('span', { text: label }),
    ]),
  ]);
}

/** Targets a row could be synced to: where the provider or one of its keys is missing. */
function rowMissingTargets(row) {
  const missing = new Set(row.missing_on ?? []);
  for (const key of row.keys ?? []) for (const target of key.missing_on ?? []) missing.add(target);
  return [...missing];
}

function renderDriftTable(list, rows, compared) {
  const headingId = `drift-${list}`;
  const body = el('tbody');
  for (const row of rows) {
    const name = providerName(row.list, row);
    const missing = rowMissingTargets(row);
    const badges = [];
    if (row.in_sync) badges.push(el('span', { className: 'badge badge-success', text: t('drift_in_sync') }));
    if (row.models_differ) badges.push(el('span', { className: 'badge badge-warning', text: t('drift_models_differ') }));
    const canSync = missing.length > 0 && (row.present_on ?? []).length > 0;
    body.append(
      el('tr', { className: 'drift-provider', dataset: { list, name: row.name ?? '', baseUrl: row.base_url ?? '' } }, [
        el('th', { className: 'drift-name-cell', attrs: { scope: 'row' } }, [
          el('div', { className: 'drift-name-box' }, [
            el('div', { className: 'drift-name-wrap' }, [
              el('span', { className: 'drift-name', text: name }),
              el('span', { className: 'drift-url mono', text: baseUrlText(row.base_url) }),
              badges.length ? el('span', { className: 'drift-badges' }, badges) : null,
            ]),
            canSync
              ? el('button', {
                  className: 'button button-small drift-sync',
                  text: t('sync_button'),
                  attrs: { type: 'button', 'aria-label': t('sync_button_named', [name]) },
                  on: { click: (event) => openSync({ row, name, opener: event.currentTarget }) },
                })
              : null,
          ]),
        ]),
        ...compared.map((target) => presenceCell(target, (row.present_on ?? []).includes(target))),
      ]),
    );
    // A key list's entry is one key: its row already says where the key is.
    if (list !== OPENAI) continue;
    for (const key of row.keys ?? []) {
      body.append(
        el('tr', { className: 'drift-key', dataset: { keyId: key.key_id ?? '', list } }, [
          el('th', { className: 'drift-key-cell', attrs: { scope: 'row' } }, [
            el('span', { className: 'visually-hidden', text: `${t('drift_key_of', [name])} ` }),
            el('code', { text: key.key_hint }),
          ]),
          ...compared.map((target) => presenceCell(target, (key.present_on ?? []).includes(target))),
        ]),
      );
    }
  }
  return el('section', { className: 'drift-list', dataset: { list }, attrs: { 'aria-labelledby': headingId } }, [
    el('h2', { attrs: { id: headingId, tabindex: '-1' } }, [
      listLabel(list),
      el('span', { className: 'badge plist-count', text: formatNumber(rows.length) }),
    ]),
    el('div', { className: 'table-scroll', attrs: { role: 'region', tabindex: '0', 'aria-labelledby': headingId } }, [
      el('table', { className: 'data-table drift-table' }, [
        el('caption', { className: 'visually-hidden', text: t('drift_caption', [listLabel(list)]) }),
        el('colgroup', {}, [
          el('col', { className: 'drift-col-name' }),
          ...compared.map(() => el('col', { className: 'drift-col-target' })),
        ]),
        el('thead', {}, [
          el('tr', {}, [
            el('th', { text: t('drift_provider_key'), attrs: { scope: 'col' } }),
            ...compared.map((target) => el('th', { text: target, attrs: { scope: 'col' }, dataset: { target } })),
          ]),
        ]),
        body,
      ]),
    ]),
  ]);
}

function renderDrift() {
  clear($('#list-view'));
  const drift = state.drift ?? {};
  const compared = drift.targets ?? [];
  const summary = drift.summary ?? {};
  show($('#drift-view'), true);
  $('#drift-summary').textContent = t('drift_summary', [
    formatNumber(compared.length),
    formatNumber(summary.providers ?? 0),
    formatNumber(summary.in_sync ?? 0),
    formatNumber(summary.drifted ?? 0),
  ]);
  const errors = drift.errors ?? [];
  const errorList = clear($('.drift-error-list'));
  for (const entry of errors) errorList.append(el('li', { text: failureLine({ target: entry.target, error: entry.error }) }));
  show($('#drift-errors'), errors.length > 0);
  $('#sync-all').disabled = compared.length < 2;

  const container = clear($('#drift-lists'));
  let shown = 0;
  for (const list of sortedLists(drift.lists)) {
    const rows = (drift.lists[list] ?? []).filter((row) =>
      matches(row.name, row.label, row.base_url, (row.keys ?? []).map((k) => k.key_hint)),
    );
    if (!rows.length) continue;
    shown += rows.length;
    container.append(renderDriftTable(list, rows, compared));
  }
  // The summary above the tables says the counts; the status line only the exceptions.
  if (compared.length < 2) setStatus(t('drift_too_few'));
  else if (shown === 0 && state.filter.trim()) setStatus(t('no_match', [state.filter.trim()]));
  else if (shown === 0) setStatus(t('drift_all_in_sync'));
  else setStatus('');
}

// ---------- sync ----------

let syncSession = null;

function renderSyncTargets() {
  const current = syncSession;
  const from = $('#sync-from').value;
  const list = clear($('#sync-to-list'));
  for (const target of current.compared) {
    if (target === from) continue;
    const id = `sync-to-${target.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const checked = current.row ? current.missing.includes(target) : true;
    list.append(
      el('li', {}, [
        el('input', {
          className: 'sync-to-target',
          attrs: { type: 'checkbox', id, value: target, checked },
        }),
        el('label', { text: target, attrs: { for: id } }),
      ]),
    );
  }
}

/** Open the sync dialog for one drift row, or for everything (`row` null). */
function openSync({ row = null, name = '', opener = null } = {}) {
  const compared = state.drift?.targets ?? [];
  const sources = row ? compared.filter((target) => (row.present_on ?? []).includes(target)) : compared;
  if (!sources.length) return;
  syncSession = { row, name, compared, missing: row ? rowMissingTargets(row) : [], opener };
  const form = $('#sync-form');
  setFormError(form, '');
  show($('#sync-results'), false);
  clear($('#sync-result-list'));
  $('#sync-subtitle').textContent = row ? name : t('sync_everything');
  const select = clear($('#sync-from'));
  const preferred = sources.includes(state.settings?.default_target) ? state.settings.default_target : sources[0];
  for (const target of sources) {
    select.append(el('option', { text: target, attrs: { value: target, selected: target === preferred } }));
  }
  select.value = preferred;
  renderSyncTargets();
  $('#sync-dialog').showModal();
  select.focus();
}

function syncParams(dryRun) {
  const current = syncSession;
  const from = $('#sync-from').value;
  const to = $$('.sync-to-target').filter((box) => box.checked).map((box) => box.value);
  const params = { from_target: from, to_targets: to };
  if (current.row) {
    const ids = [].concat(current.row.entry_ids?.[from] ?? []);
    params.entry_ids = ids;
    params.list = current.row.list;
  }
  if (dryRun) params.dry_run = true;
  return params;
}

function syncTargetText(entry, dryRun) {
  if (!entry.ok) return errorText(entry.error ?? {});
  const summary = entry.result?.summary ?? {};
  const counts = [
    formatNumber(summary.providers_created ?? 0),
    formatNumber(summary.keys_added ?? 0),
    formatNumber(summary.models_added ?? 0),
  ];
  const nothing = !summary.providers_created && !summary.keys_added && !summary.models_added;
  const parts = [nothing ? t('sync_target_nothing') : t(dryRun ? 'sync_target_would' : 'sync_target_done', counts)];
  if (summary.failed) parts.push(t('sync_target_key_failures', [formatNumber(summary.failed)]));
  for (const list of Object.values(entry.result?.lists ?? {})) {
    for (const error of list.errors ?? []) {
      const info = describeError(error);
      parts.push(`${error.provider ?? ''} ${error.key_hint ?? ''}: ${info.title}`.trim());
    }
  }
  return parts.join(' · ');
}

function renderSyncResults(result, dryRun) {
  const list = clear($('#sync-result-list'));
  for (const entry of result.results ?? []) {
    const status = !entry.ok ? 'failed' : entry.result?.summary?.failed ? 'partial' : 'ok';
    list.append(
      el('li', { className: 'sync-result', dataset: { target: entry.target ?? '', status } }, [
        el('span', { className: 'sync-result-target', text: entry.target ?? '' }),
        el('span', { className: 'sync-result-text', text: syncTargetText(entry, dryRun) }),
      ]),
    );
  }
  $('#sync-results-title').textContent = t(dryRun ? 'sync_preview_title' : 'sync_results_title');
  show($('#sync-results'), true);
}

/** The toast after a sync: "Synced to N of M servers", failures, Undo, Retry failed. */
function showSyncToast(result, params) {
  const results = result.results ?? [];
  const ok = results.filter((entry) => entry.ok);
  const failed = results.filter((entry) => !entry.ok);
  const writes = [];
  for (const entry of ok) {
    for (const list of Object.values(entry.result?.lists ?? {})) {
      if (list?.backup_id) writes.push({ backup_id: list.backup_id, target: entry.target });
    }
  }
  const lines = [
    ...ok.map((entry) => t('toast_target_line', [entry.target, syncTargetText(entry, false)])),
    ...failed.map(failureLine),
  ];
  const retry = (names) => runSync({ ...params, to_targets: names, dry_run: undefined }, { fromToast: true });
  showToast({
    kind: failed.length ? (ok.length ? 'warning' : 'error') : 'success',
    title: t('toast_sync', [formatNumber(ok.length), formatNumber(results.length)]),
    message: lines.join('\n'),
    data: { action: 'synced', failedTargets: failed.map((entry) => entry.target).join(',') },
    actions: [...undoAction(writes, { onDone: () => loadView() }), ...failureActions(failed, retry)],
  });
}

async function runSync(params, { fromToast = false, button = null } = {}) {
  const clean = Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
  const dryRun = Boolean(clean.dry_run);
  const work = async () => {
    try {
      const result = await call('providers.sync', clean, { timeoutMs: SYNC_TIMEOUT_MS });
      if (!fromToast && syncSession) renderSyncResults(result, dryRun);
      if (dryRun) return result;
      showSyncToast(result, clean);
      const allOk = (result.results ?? []).every((entry) => entry.ok && !entry.result?.summary?.failed);
      if (!fromToast && allOk && $('#sync-dialog').open) $('#sync-dialog').close('synced');
      await loadView();
      return result;
    } catch (error) {
      if (!fromToast && $('#sync-dialog').open) setFormError($('#sync-form'), errorText(error));
      else showError(error);
      return null;
    }
  };
  return button ? whileBusy(button, work) : work();
}

function submitSync(event, dryRun) {
  event?.preventDefault();
  const form = $('#sync-form');
  setFormError(form, '');
  const params = syncParams(dryRun);
  if (!params.to_targets.length) {
    setFormError(form, t('sync_choose_target'));
    $('.sync-to-target')?.focus();
    return;
  }
  runSync(params, { button: dryRun ? $('#sync-preview') : $('#sync-apply') });
}

// ---------- start ----------

async function start() {
  initPage('providers_page_title');

  $('#target-select').addEventListener('change', (event) => {
    state.target = event.currentTarget.value;
    loadView();
  });
  $('#reload').addEventListener('click', (event) =>
    whileBusy(event.currentTarget, async () => {
      await loadSettings();
      await loadView();
    }),
  );
  const filter = $('#provider-filter');
  filter.addEventListener(
    'input',
    debounce(() => {
      state.filter = filter.value;
      if (state.listing || state.drift) render();
    }, 150),
  );
  $('#setup-open-options').addEventListener('click', () => api.runtime.openOptionsPage());
  $('#drift-show-all').addEventListener('change', () => loadView());
  $('#sync-all').addEventListener('click', (event) => openSync({ opener: event.currentTarget }));
  $('#sync-from').addEventListener('change', renderSyncTargets);
  $('#sync-form').addEventListener('submit', (event) => submitSync(event, false));
  $('#sync-preview').addEventListener('click', (event) => submitSync(event, true));
  $('#models-form').addEventListener('submit', saveModels);
  $('#model-add-row').addEventListener('click', () => $('.map-name', addModelRow()).focus());
  $('#models-dialog').addEventListener('close', (event) => {
    if (!event.currentTarget.open) modelsSession = null;
  });
  $('#sync-dialog').addEventListener('close', (event) => {
    if (!event.currentTarget.open) syncSession = null;
  });

  const status = await initHostBanner();
  if (!status.ping) {
    $('#target-select').disabled = true;
    return;
  }
  try {
    await loadSettings();
  } catch (error) {
    showError(error);
    return;
  }
  await loadView();
}

start();
