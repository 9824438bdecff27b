// The "Import to" choice of the import dialogs: with two or more CLIProxyAPI servers,
// one option per server (the default one selected) and "All servers".

import { call } from './api.js';
import { clear, el, show } from './dom.js';
import { t } from './i18n.js';

const ALL_TARGETS = '*all*'; // not a valid target name

/**
 * Fill `select` from settings.get and show `field` when there are two or more servers.
 * `isCurrent()` false means the dialog was opened again meanwhile: the answer is dropped.
 */
export async function loadTargetChoice(field, select, isCurrent) {
  show(field, false);
  let settings;
  try {
    settings = await call('settings.get');
  } catch {
    return;
  }
  if (!isCurrent()) return;
  const targets = Array.isArray(settings.targets) ? settings.targets : [];
  if (targets.length < 2) return;
  clear(select);
  for (const target of targets) {
    select.append(el('option', { text: target.name, attrs: { value: target.name, selected: target.default } }));
  }
  select.append(el('option', { text: t('all_targets'), attrs: { value: ALL_TARGETS } }));
  show(field, true);
}

/** The `target` or `targets` param of the choice; {} when it is not shown. */
export function targetChoiceParams(field, select) {
  if (field.hidden) return {};
  const target = select.value;
  if (target === ALL_TARGETS) return { targets: 'all' };
  return target ? { target } : {};
}
