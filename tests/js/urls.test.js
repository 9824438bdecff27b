// The provider base-URL rule of lib/urls.js on tests/fixtures/url_cases.json, one test per case (tests/test_urls.py
// runs the host's rule on the same table; tests/tooling/test_js_tools.py checks every case ran here).
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
