// Error code → localised title, hint and what to do. Titles are the
// `error_<code>` messages (one per code in host/PROTOCOL.md section 4, plus the
// extension's own codes); codes with a specific hint use `hint_<code>`, every
// other code shows the host's own message.

import { message, t } from './i18n.js';

/** Codes whose hint says what to do (with details substituted). */
const HINTS = {
  not_configured: () => [],
  unauthorized: () => [],
  auth_blocked: () => [],
  banned: (d) => [d.ban_minutes ?? 30],
  remote_disabled: () => [],
  name_conflict: (d) => [d.provider_name ?? '', d.existing_base_url ?? ''],
  conflict: () => [],
  unreachable: (d) => [d.url ?? ''],
  timeout: (d) => [d.url ?? ''],
  management_disabled: () => [],
  insecure_url: () => [],
  tls_error: () => [],
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
  const hint = HINTS[code]
    ? t(`hint_${code}`, HINTS[code](details))
    : error?.message || '';
  return { code, title, hint, linkToOptions: OPTIONS_CODES.has(code) };
}

/** The localised one-line text for a HostError (title: hint). */
export function errorText(error) {
  const info = describeError(error);
  return info.hint ? `${info.title}: ${info.hint}` : info.title;
}
