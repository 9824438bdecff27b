// The "Import to CLIProxyAPI" dialog for one key: provider type and name, the
// final base URL, proxy, model mapping (upstream models fetched once per open),
// Preview (dry run, keeps list_hash) and Import (with expect_list_hash).

import { call, compact } from './lib/api.js';
import { api } from './lib/browser.js';
import { describeError } from './lib/errors.js';
import { $, clear, el, show, whileBusy } from './lib/dom.js';
import { addProviderTypeOptions } from './lib/fields.js';
import { formatNumber, t } from './lib/i18n.js';
import { addMappingRow, mappingRows, mappingText, readMappings } from './lib/mapping-rows.js';
import { loadModelList, mapModel, renderModelChips } from './lib/model-chips.js';
import { showError } from './lib/toast.js';
import { showImportResult } from './lib/results.js';
import { loadTargetChoice, targetChoiceParams } from './lib/targets.js';
import { providerBaseUrl } from './lib/urls.js';
import { warningLines } from './lib/warnings.js';
import { invalidOptions, mountProviderOptions, readProviderOptions, resetProviderOptions } from './lib/provider-options.js';

const IMPORT_TIMEOUT_MS = 60_000;

/** Everything about the current opening of the dialog. */
let session = null;

const dialog = () => $('#import-dialog');

// ---------- form <-> params ----------

function currentModels() {
  return readMappings($('#mapping-rows')).models;
}

/** The `import` params the form describes (without dry_run / expect_list_hash). */
function buildParams() {
  const type = $('#imp-type').value;
  const base = $('#imp-base').value.trim();
  const params = compact({
    key_id: session.key.id,
    provider_type: type,
    provider_name: type === 'openai-compatibility' ? $('#imp-name').value.trim() : undefined,
    // Only an edited base URL is sent; otherwise the host derives it from the site.
    base_url: session.baseEdited && base ? base : undefined,
    proxy_url: $('#imp-proxy').value.trim(),
    on_name_conflict: session.conflictChoice !== 'fail' ? session.conflictChoice : undefined,
  });
  const options = readProviderOptions($('#imp-options'), 'imp-opt');
  if (options.error) return invalidOptions(options);
  Object.assign(params, options.params);
  const models = currentModels();
  if (models.length) params.models = models;
  if (session.allowUnusable) params.allow_unusable = true;
  return Object.assign(params, targetChoiceParams($('#imp-target-field'), $('#imp-target')));
}

// ---------- model suggestions ----------

function filteredModels() {
  const needle = $('#models-filter').value.trim().toLowerCase();
  return needle ? session.models.filter((m) => m.toLowerCase().includes(needle)) : session.models;
}

function renderSuggestions() {
  const models = filteredModels();
  renderModelChips($('#model-suggestions'), $('#upstream-models'), models, $('#mapping-rows'), addMapping);
  const addAll = $('#models-add-all');
  addAll.textContent = t('models_add_all', [formatNumber(models.length)]);
  addAll.disabled = models.length === 0;
}

function addRow(name = '') {
  return addMappingRow($('#mapping-rows'), {
    name,
    suggestions: 'upstream-models',
    addButton: $('#mapping-add'),
    onRemove: () => {
      changed();
      renderSuggestions();
    },
  });
}

/** Map `model` (a chip): fill the first empty row, else add one; the focus goes to its alias. */
function addMapping(model) {
  if (!mapModel($('#mapping-rows'), model, addRow)) return;
  changed();
  renderSuggestions();
}

function addAll() {
  const used = new Set(currentModels().map((m) => m.name));
  for (const row of mappingRows($('#mapping-rows'))) {
    if (!$('.map-name', row).value.trim()) row.remove();
  }
  for (const model of filteredModels()) {
    if (!used.has(model)) addRow(model);
  }
  changed();
  renderSuggestions();
}

async function loadModels(current) {
  const models = await loadModelList($('#models-status'), { key_id: current.key.id }, () => session !== current);
  if (models === null) return;
  current.models = models;
  show($('#models-tools'), current.models.length > 0);
  renderSuggestions();
}

// ---------- preview, conflict, errors ----------

function hidePanels() {
  show($('#imp-preview'), false);
  show($('#imp-error'), false);
  show($('#imp-conflict'), false);
}

/** Any edit makes the preview stale. */
function changed() {
  if (session?.preview) {
    session.preview = null;
    show($('#imp-preview'), false);
  }
}

function showInlineError(error) {
  const info = describeError(error);
  const box = $('#imp-error');
  box.dataset.code = info.code;
  $('.callout-title', box).textContent = info.title;
  $('.callout-text', box).textContent = info.hint;
  show($('#imp-error-options'), info.linkToOptions);
  show(box, true);
  box.scrollIntoView({ block: 'nearest' });
}

function showConflict(error, action) {
  const details = error.details ?? {};
  $('#imp-conflict-title').textContent = t('conflict_title', [details.provider_name ?? $('#imp-name').value]);
  $('#imp-conflict-existing').textContent = details.existing_base_url ?? '';
  $('#imp-conflict-new').textContent = details.base_url ?? $('#imp-base').value;
  session.conflictAction = action;
  show($('#imp-conflict'), true);
  $('#imp-conflict').scrollIntoView({ block: 'nearest' });
  $('#imp-conflict-rename').focus();
}

function changeText(change) {
  switch (change.op) {
    case 'create_provider':
      return t('change_create_provider', [change.name ?? change.provider_name ?? '']);
    case 'add_key':
      return t('change_add_key', [change.key_hint ?? '']);
    case 'add_models': {
      const names = (change.models ?? []).map((m) => (typeof m === 'string' ? m : mappingText(m)));
      return t('change_add_models', [formatNumber(names.length), names.join(', ')]);
    }
    default:
      return t('change_other', [change.op ?? '?']);
  }
}

function renderPreview(result) {
  const entries = Array.isArray(result.results) ? result.results : [{ ok: true, result }];
  const first = entries.find((entry) => entry.ok)?.result ?? {};
  const changes = clear($('#pv-changes'));
  const warnings = clear($('#pv-warnings'));
  $('#pv-action').textContent = first.action ? t(`status_would_${first.action}`) : '—';
  $('#pv-action').dataset.action = first.action ?? '';
  $('#pv-name').textContent = first.provider_name ?? '—';
  $('#pv-base').textContent = first.base_url ?? '—';
  for (const entry of entries) {
    const prefix = entries.length > 1 ? `${entry.target}: ` : '';
    if (!entry.ok) {
      changes.append(el('li', { className: 'change-failed', text: `${prefix}${describeError(entry.error ?? {}).title}` }));
      continue;
    }
    const list = entry.result.changes ?? [];
    if (list.length === 0) changes.append(el('li', { text: prefix + t('change_none') }));
    for (const change of list) changes.append(el('li', { text: prefix + changeText(change), dataset: { op: change.op ?? '' } }));
    for (const warning of warningLines(entry.result)) warnings.append(el('li', { text: prefix + warning }));
  }
  show(warnings, warnings.childElementCount > 0);
  show($('#imp-preview'), true);
  $('#imp-preview').scrollIntoView({ block: 'nearest' });
  // Show the host's final base URL unless the user typed their own.
  if (!session.baseEdited && first.base_url) $('#imp-base').value = first.base_url;
  adoptNewName(first);
}

/**
 * "Import under a new name": the host picked a free name ("fake relay-2"). Put it in the name
 * field, so the field, the preview and the import all say the same; it is now the user's choice.
 */
function adoptNewName(result) {
  if (session.conflictChoice !== 'rename' || !result.provider_name) return;
  if ($('#imp-type').value !== 'openai-compatibility') return;
  $('#imp-name').value = result.provider_name;
  session.conflictChoice = 'fail';
  if (session.preview) session.preview.params = JSON.stringify(buildParams());
}

// ---------- actions ----------

async function runPreview() {
  const current = session;
  const params = buildParams();
  if (!params) return;
  hidePanels();
  await whileBusy($('#imp-preview-btn'), async () => {
    try {
      const result = await call('import', { ...params, dry_run: true }, { timeoutMs: IMPORT_TIMEOUT_MS });
      if (session !== current) return;
      current.preview = { params: JSON.stringify(params), hash: result.list_hash ?? null };
      renderPreview(result);
    } catch (error) {
      if (session !== current) return;
      if (error.code === 'name_conflict') showConflict(error, 'preview');
      else showInlineError(error);
    }
  });
}

async function runImport() {
  const current = session;
  const params = buildParams();
  if (!params) return;
  if (current.preview && current.preview.params === JSON.stringify(params) && current.preview.hash) {
    params.expect_list_hash = current.preview.hash;
  }
  show($('#imp-error'), false);
  show($('#imp-conflict'), false);
  await whileBusy($('#imp-apply'), async () => {
    try {
      const result = await call('import', params, { timeoutMs: IMPORT_TIMEOUT_MS });
      if (session !== current) return;
      dialog().close('imported');
      showImportResult(result, { retry: (targets) => retryImport(params, targets) });
    } catch (error) {
      if (session !== current) return;
      showError(error);
      if (error.code === 'name_conflict') showConflict(error, 'import');
      if (error.code === 'conflict') changed();
    }
  });
}

/** Send the same import again to the targets that failed (from the result toast). */
async function retryImport(params, targets) {
  const { target: _single, expect_list_hash: _hash, ...rest } = params;
  const again = { ...rest, targets };
  try {
    const result = await call('import', again, { timeoutMs: IMPORT_TIMEOUT_MS });
    showImportResult(result, { retry: (failed) => retryImport(again, failed) });
  } catch (error) {
    showError(error);
  }
}

async function resolveConflict(choice) {
  const current = session;
  session.conflictChoice = choice;
  show($('#imp-conflict'), false);
  changed();
  if (session.conflictAction === 'import') {
    await runImport();
    return;
  }
  await runPreview();
  // The conflict panel (and its focused button) is gone: focus stays in the dialog.
  if (session !== current || !dialog().open) return;
  const name = $('#imp-name');
  (name.closest('[hidden]') ? $('#imp-apply') : name).focus();
}

function onTypeChange() {
  const type = $('#imp-type').value;
  show($('#imp-name-field'), type === 'openai-compatibility');
  if (!session.baseEdited) $('#imp-base').value = providerBaseUrl(type, session.site.url);
}

// ---------- open / setup ----------

export function openImportDialog(site, key, { allowUnusable = false } = {}) {
  const current = {
    site,
    key,
    allowUnusable,
    models: [],
    preview: null,
    baseEdited: false,
    conflictChoice: 'fail',
    conflictAction: 'preview',
  };
  session = current;
  const form = $('#import-form');
  form.reset();
  resetProviderOptions($('#imp-options'));
  hidePanels();
  clear($('#mapping-rows'));
  clear($('#model-suggestions'));
  clear($('#upstream-models'));
  show($('#models-tools'), false);
  $('#import-subtitle').textContent = `${site.name} · ${key.label || key.key_hint}`;
  $('#imp-type').value = key.provider_type || 'openai-compatibility';
  $('#imp-name').value = site.name;
  onTypeChange();
  dialog().dataset.keyId = key.id;
  // Ask the host first, then open: the requests run while the browser restyles the page for
  // the modal dialog (showModal makes the rest of it inert) and paints it.
  loadModels(current); // once per open, never per keystroke
  loadTargetChoice($('#imp-target-field'), $('#imp-target'), () => session === current);
  dialog().showModal();
  $('#imp-type').focus();
}

export function setupImportDialog() {
  addProviderTypeOptions($('#imp-type'));
  mountProviderOptions($('#imp-options'), 'imp-opt');
  const form = $('#import-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    runImport();
  });
  form.addEventListener('input', (event) => {
    if (!session) return;
    if (event.target.id === 'models-filter') {
      renderSuggestions();
      return;
    }
    if (event.target.id === 'imp-base') session.baseEdited = true;
    if (event.target.classList.contains('map-name')) renderSuggestions();
    changed();
  });
  form.addEventListener('change', (event) => {
    if (!session) return;
    if (event.target.id === 'imp-type') onTypeChange();
    if (event.target.id !== 'models-filter') changed();
  });
  $('#imp-preview-btn').addEventListener('click', runPreview);
  $('#imp-error-options').addEventListener('click', () => api.runtime.openOptionsPage());
  $('#mapping-add').addEventListener('click', () => {
    $('.map-name', addRow()).focus();
    changed();
  });
  $('#models-add-all').addEventListener('click', addAll);
  $('#imp-conflict-rename').addEventListener('click', () => resolveConflict('rename'));
  $('#imp-conflict-existing-btn').addEventListener('click', () => resolveConflict('use_existing'));
  dialog().addEventListener('close', (event) => {
    // The event is queued: ignore it if the dialog was opened again meanwhile.
    if (!event.currentTarget.open) session = null;
  });
}
