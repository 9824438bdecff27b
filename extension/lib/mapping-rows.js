// The rows of a model mapping (original name → alias, Remove) in a <ul class="mapping-rows">:
// the import dialog's and the CLIProxyAPI page's model editor.

import { $, $$, el, svgIcon } from './dom.js';
import { applyI18n } from './i18n.js';

/** "name → alias", or the name alone when there is no other alias. */
export function mappingText(model) {
  return model.alias && model.alias !== model.name ? `${model.name} → ${model.alias}` : model.name;
}

export function mappingRows(list) {
  return $$('.mapping-row', list);
}

function mappingInput(className, messageName, attrs) {
  return el('input', {
    className,
    attrs: { ...attrs, autocomplete: 'off', spellcheck: 'false' },
    dataset: { i18nPlaceholder: messageName, i18nAriaLabel: messageName },
  });
}

/**
 * Append a row to `list` and return it. `suggestions`: the id of a <datalist> for the name;
 * `maxLength`: of both inputs. Remove takes the row away, runs `onRemove` and moves the focus
 * to a neighbouring row, else to `addButton`.
 */
export function addMappingRow(list, { name = '', alias = '', suggestions, maxLength, addButton, onRemove } = {}) {
  const remove = el(
    'button',
    {
      className: 'icon-button map-remove',
      attrs: { type: 'button' },
      dataset: { i18nAriaLabel: 'mapping_remove', i18nTitle: 'mapping_remove' },
    },
    [svgIcon('i-x')],
  );
  const row = el('li', { className: 'mapping-row' }, [
    mappingInput('map-name', 'mapping_original', { list: suggestions, maxlength: maxLength }),
    el('span', { className: 'map-arrow', text: '→', attrs: { 'aria-hidden': 'true' } }),
    mappingInput('map-alias', 'mapping_alias', { maxlength: maxLength }),
    remove,
  ]);
  applyI18n(row);
  $('.map-name', row).value = name;
  $('.map-alias', row).value = alias;
  remove.addEventListener('click', () => {
    const next = row.nextElementSibling ?? row.previousElementSibling;
    row.remove();
    onRemove?.();
    (next ? $('.map-name', next) : addButton).focus();
  });
  list.append(row);
  return row;
}

/**
 * The mapping the rows describe: `models` [{name, alias?}] from the rows with a name, and
 * `unnamed` {row, alias}, the first row with an alias but no name (null when there is none).
 */
export function readMappings(list) {
  const models = [];
  let unnamed = null;
  for (const row of mappingRows(list)) {
    const name = $('.map-name', row).value.trim();
    const alias = $('.map-alias', row).value.trim();
    if (name) models.push(alias ? { name, alias } : { name });
    else if (alias) unnamed ??= { row, alias };
  }
  return { models, unnamed };
}
