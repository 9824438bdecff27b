// Host warnings as localised lines. A result carries `warnings` (English, for logs and the
// CLI) and, from hosts that code them, `warning_codes` ([{code, details}], same order): a
// code with a `warning_<code>` message is shown localised, anything else as the host wrote it.

import { message } from './i18n.js';

/** Placeholder values per warning code (host/PROTOCOL.md section 4b), in the order $1, $2 … */
const ARGS = {
  url_query_removed: () => [],
  url_suffix_removed: (d) => [d.suffix ?? ''],
  url_path_added: (d) => [d.added ?? '/v0/management', d.path ?? ''],
  // A 404 is not a refusal: the site has no model list at that address.
  model_list_failed: (d) => (d.status === 404 ? { key: 'warning_model_list_404', args: [] } : [d.status ?? d.error ?? '—']),
  model_list_empty: () => [],
  provider_without_models: (d) => [d.provider ?? ''],
  provider_without_key: (d) => [d.provider ?? ''],
  read_back_failed: () => [],
  read_back_mismatch: () => [],
  write_uncertain: () => [],
  config_not_saved: () => [],
  config_not_saved_uncertain: () => [],
  config_resent: () => [],
  options_dropped: (d) => [(d.options ?? []).join(', ')],
  sync_skipped_no_key: (d) => [d.provider ?? ''],
  targets_not_read: (d) => [d.count ?? 1],
  too_few_targets: () => [],
  backup_account_without_url: () => [],
  backup_sites_without_key: (d) => [d.count ?? 1],
  backup_site_skipped: () => [],
};

/** The localised text of one warning code (with details), or '' when this extension does not know it. */
export function warningText(code, details = {}) {
  if (!code || !ARGS[code]) return '';
  const spec = ARGS[code](details ?? {});
  const { key, args } = Array.isArray(spec) ? { key: `warning_${code}`, args: spec } : spec;
  return message(key, args.map(String));
}

/** The warnings of a host result, one localised line each. */
export function warningLines(result) {
  const texts = Array.isArray(result?.warnings) ? result.warnings : [];
  const codes = Array.isArray(result?.warning_codes) ? result.warning_codes : [];
  return texts.map((text, index) => {
    const { code, details } = codes[index] ?? {};
    return warningText(code, details) || String(text);
  });
}
