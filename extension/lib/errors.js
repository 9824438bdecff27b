// Error code → localised title, hint and what to do. Titles are the
// `error_<code>` messages, hints the `hint_<code>` messages (one each per code in
// host/PROTOCOL.md section 4, plus the extension's own codes); a code this extension
// does not know shows the host's own message.

import { message, t } from './i18n.js';

/** The CLIProxyAPI ban rule: failures before the ban, and its length (host details, else the defaults). */
function banRule(d) {
  return [d.ban_failures ?? 5, d.ban_minutes ?? 30];
}

/**
 * Every code's hint (`hint_<code>`, or the key given) and its placeholder values. A code
 * missing here (a newer host) shows the host's own message.
 */
const HINTS = {
  invalid_request: (d) => [d.field ?? '—'],
  bad_frame: () => [],
  too_large: (d) => [d.limit ?? '—'],
  not_configured: () => [],
  invalid_url: () => [],
  insecure_url: () => [],
  unreachable: (d) => [d.url ?? ''],
  timeout: (d) => [d.url ?? ''],
  tls_error: () => [],
  management_disabled: () => [],
  unauthorized: banRule,
  remote_disabled: () => [],
  banned: (d) => [d.ban_minutes ?? 30, d.ban_failures ?? 5],
  bad_response: () => [],
  server_error: (d) => [d.status ?? '—'],
  name_conflict: (d) => [d.provider_name ?? '', d.existing_base_url ?? ''],
  conflict: () => [],
  not_found: () => [],
  forbidden_origin: () => [],
  storage_error: (d) => [d.path ?? '—'],
  upstream_error: (d) => {
    if (d.status === 401 || d.status === 403) return { key: 'hint_upstream_error_auth', args: [d.status] };
    if (d.status === 404) return { key: 'hint_upstream_error_404', args: [] };
    return [d.status ?? '—'];
  },
  rejected: (d) => [d.status ?? '—'],
  auth_blocked: banRule,
  forbidden_address: () => [],
  internal_error: () => [],
  busy: (d) => [d.waited_s ?? 60],
  host_not_found: () => [],
  host_forbidden: () => [],
  host_exited: () => [],
  request_timeout: (d) => [d.timeout_s ?? 30],
  extension_error: () => [],
  relay_token_invalid: () => [],
  relay_user_mismatch: () => [],
  relay_family_mismatch: () => [],
  relay_rate_limited: () => [],
  key_unusable: () => [],
};

/** Codes whose hint gets "this computer has had N failures…" when the host counted them. */
const BAN_COUNTED = new Set(['unauthorized', 'auth_blocked', 'banned']);

function hintFor(code, details) {
  const spec = HINTS[code](details);
  const { key, args } = Array.isArray(spec) ? { key: `hint_${code}`, args: spec } : spec;
  const hint = t(key, args);
  const seen = Number(details.failures_seen);
  if (!BAN_COUNTED.has(code) || !Number.isInteger(seen) || seen <= 0) return hint;
  return `${hint} ${t('hint_failures_seen', [seen, details.ban_minutes ?? 30])}`;
}

/** Codes whose fix is in the options page: the toast links there. */
const OPTIONS_CODES = new Set(['not_configured', 'unauthorized', 'auth_blocked', 'insecure_url']);

/**
 * Describe a HostError for the user:
 * {code, title, hint, linkToOptions}.
 */
export function describeError(error) {
  const code = error?.code || 'extension_error';
  const details = error?.details ?? {};
  const title = message(`error_${code}`) || t('error_unknown');
  const hint = HINTS[code] ? hintFor(code, details) : error?.message || '';
  return { code, title, hint, linkToOptions: OPTIONS_CODES.has(code) };
}

/** The localised one-line text for a HostError (title: hint). */
export function errorText(error) {
  const info = describeError(error);
  return info.hint ? `${info.title}: ${info.hint}` : info.title;
}
