// The provider base-URL rule of lib/urls.js, on tests/fixtures/url_cases.json (tests/test_urls.py runs the host on them).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { providerBaseUrl } from '../../extension/lib/urls.js';

const cases = JSON.parse(readFileSync(new URL('../fixtures/url_cases.json', import.meta.url), 'utf8')).provider_base_url;

test('the base-URL cases are there', () => {
  assert.ok(cases.length >= 15);
});

for (const { provider_type: type, site_url: siteUrl, base_url: expected } of cases) {
  test(`${type}: ${siteUrl}`, () => {
    assert.equal(providerBaseUrl(type, siteUrl), expected);
  });
}

test('a site URL that is not http(s) gives no base URL', () => {
  for (const bad of ['javascript:alert(1)', 'file:///etc/passwd', 'relay.example.invalid', '', null, undefined]) {
    assert.equal(providerBaseUrl('openai-compatibility', bad), '', String(bad));
  }
});

test('surrounding spaces are ignored', () => {
  assert.equal(providerBaseUrl('openai-compatibility', '  https://r.example.invalid/api  '), 'https://r.example.invalid/api/v1');
});
