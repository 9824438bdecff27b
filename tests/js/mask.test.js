// lib/mask.js maskKey, on the cases the host's redact.mask must agree on.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { maskKey } from '../../extension/lib/mask.js';

const { cases } = JSON.parse(readFileSync(new URL('../fixtures/masks.json', import.meta.url), 'utf8'));

for (const { secret, masked } of cases) {
  test(`mask of a ${Array.from(secret.trim()).length}-character secret`, () => {
    assert.equal(maskKey(secret), masked);
  });
}

test('a mask shows at most 9 characters, and at most 2 of a secret under 12', () => {
  const secret = 'sk-0123456789abcdefghijklmnopqrstuvwxyz';
  for (let n = 0; n <= secret.length; n += 1) {
    const shown = maskKey(secret.slice(0, n)).replace('…', '');
    assert.ok(shown.length <= (n < 12 ? 2 : 9), `${n} characters show ${shown.length}`);
  }
});

test('null and undefined mask to nothing', () => {
  assert.equal(maskKey(null), '');
  assert.equal(maskKey(undefined), '');
});
