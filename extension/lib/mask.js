// Masking of a secret for display: the rule of host/cpa_bridge/core/redact.py `mask`
// (tests/fixtures/masks.json holds the cases both must agree on).

/**
 * A secret as its first 5 and last 4 characters (`sk-ab…wxyz`). Shorter secrets
 * reveal less: under 12 characters only the last 2, under 6 nothing but the ellipsis.
 * Counts code points, as Python does.
 */
export function maskKey(secret) {
  const chars = Array.from(String(secret ?? '').trim());
  if (!chars.length) return '';
  if (chars.length < 6) return '…';
  if (chars.length < 12) return `…${chars.slice(-2).join('')}`;
  return `${chars.slice(0, 5).join('')}…${chars.slice(-4).join('')}`;
}
