// Host warnings as localised lines. A result carries `warnings` (English, for logs and the
// CLI) and, from hosts that code them, `warning_codes` ([{code, details}], same order): a
// code with a `warning_<code>` message is shown localised, anything else as the host wrote it.

import { message } from './i18n.js';

/** Placeholder values per warning code, in the order of the message's $1, $2 … */
const ARGS = {};

/** The warnings of a host result, one localised line each. */
export function warningLines(result) {
  const texts = Array.isArray(result?.warnings) ? result.warnings : [];
  const codes = Array.isArray(result?.warning_codes) ? result.warning_codes : [];
  return texts.map((text, index) => {
    const { code, details = {} } = codes[index] ?? {};
    const args = code && ARGS[code] ? ARGS[code](details) : [];
    return (code && message(`warning_${code}`, args)) || String(text);
  });
}
