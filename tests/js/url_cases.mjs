// The extension's half of tests/fixtures/url_cases.json (pytest runs the host's half).
import { readFileSync } from 'node:fs';
import { providerBaseUrl } from '../../extension/lib/urls.js';

const cases = JSON.parse(readFileSync(new URL('../fixtures/url_cases.json', import.meta.url), 'utf8'));
const failures = cases.provider_base_url.filter(
  (c) => providerBaseUrl(c.provider_type, c.site_url) !== c.base_url,
);
for (const c of failures) {
  console.log(`FAIL ${c.provider_type} ${c.site_url}: got ${providerBaseUrl(c.provider_type, c.site_url)}, want ${c.base_url}`);
}
console.log(`${cases.provider_base_url.length} cases, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
