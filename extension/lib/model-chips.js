// Model suggestions for a mapping editor: the site's model list (models.list, with its status
// line), a chip per model (the first MAX_CHIPS) and a <datalist> with them all; picking one
// maps it and puts the focus on its alias. Used by the import dialog and the CLIProxyAPI
// tab's Models dialog.

import { call } from './api.js';
import { $, clear, el, show } from './dom.js';
import { describeError } from './errors.js';
import { formatNumber, t } from './i18n.js';
import { mappingRows, readMappings } from './mapping-rows.js';

const MAX_CHIPS = 60;

/** Fill `chips` (a <ul>) and `datalist` with `models`; chips of mapped models are pressed. */
export function renderModelChips(chips, datalist, models, rows, pick) {
  const used = new Set(readMappings(rows).models.map((m) => m.name));
  clear(datalist);
  for (const model of models) datalist.append(el('option', { attrs: { value: model } }));
  clear(chips);
  for (const model of models.slice(0, MAX_CHIPS)) {
    chips.append(
      el('li', {}, [
        el('button', {
          className: 'chip',
          text: model,
          attrs: { type: 'button', 'aria-pressed': used.has(model) ? 'true' : 'false' },
          dataset: { model },
          on: { click: () => pick(model) },
        }),
      ]),
    );
  }
  if (models.length > MAX_CHIPS) {
    chips.append(el('li', { className: 'chip-more', text: t('models_more', [formatNumber(models.length - MAX_CHIPS)]) }));
  }
  show(chips, models.length > 0);
}

/**
 * Map `model` in the mapping `rows`: fill the first empty row, else `addRow(model)`; the focus
 * goes to that row's alias. An already mapped model is not added again (its alias gets the focus).
 * Returns true when a row changed.
 */
export function mapModel(rows, model, addRow) {
  const all = mappingRows(rows);
  const existing = all.find((row) => $('.map-name', row).value.trim() === model);
  if (existing) {
    $('.map-alias', existing).focus();
    return false;
  }
  let row = all.find((candidate) => !$('.map-name', candidate).value.trim());
  if (row) $('.map-name', row).value = model;
  else row = addRow(model);
  $('.map-alias', row).focus();
  return true;
}

/** The status line when the site's model list failed: what the site answered (a 404 is not a refusal). */
function modelListProblem(error) {
  const info = describeError(error);
  return info.code === 'upstream_error' && info.hint ? info.hint : t('models_failed', [info.title]);
}

/**
 * The site's model list (models.list with `params`), told in `status`: loading, then how many
 * or what went wrong. Resolves to the model names ([] when the list failed), or to null when
 * `stale()` says the dialog moved on meanwhile (then `status` is left alone).
 */
export async function loadModelList(status, params, stale, options) {
  status.textContent = t('models_loading');
  status.classList.remove('is-error');
  try {
    const result = await call('models.list', params, options);
    if (stale()) return null;
    const models = Array.isArray(result.models) ? result.models : [];
    status.textContent = models.length ? t('models_loaded', [formatNumber(models.length)]) : t('models_none');
    return models;
  } catch (error) {
    if (stale()) return null;
    status.textContent = modelListProblem(error);
    status.classList.add('is-error');
    return [];
  }
}
