// The provider base URL rule of host/PROTOCOL.md (`import`, `base_url`), used
// to prefill the import dialog. The host's dry-run shows the final value.

const REQUEST_SUFFIXES = [
  '/chat/completions', '/completions', '/responses', '/models', '/embeddings',
  '/moderations', '/images/generations', '/audio/speech', '/audio/transcriptions',
];
const VERSION_TAIL = /\/v\d+(?:[a-z]+\d*)?(?:\/openai)?$/i;
const GEMINI_TAIL = /\/v\d+(?:beta|alpha)?\d*(?:\/models(?:\/[^/]*)?)?$/i;

function stripRequestSuffix(path) {
  const lowered = path.toLowerCase();
  const suffix = REQUEST_SUFFIXES.find((s) => lowered.endsWith(s));
  return suffix ? path.slice(0, -suffix.length).replace(/\/+$/, '') : path;
}

/** The provider base URL for a site URL, or '' when the site URL is not a usable http(s) URL. */
export function providerBaseUrl(providerType, siteUrl) {
  let url;
  try {
    url = new URL(String(siteUrl).trim());
  } catch {
    return '';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return '';
  let path = url.pathname.replace(/\/+$/, '');
  if (['openai-compatibility', 'codex-api-key', 'xai-api-key'].includes(providerType)) {
    if (providerType === 'codex-api-key' && path.includes('/backend-api/codex')) {
      path = `${path.split('/backend-api/codex')[0]}/backend-api/codex`;
    } else {
      path = stripRequestSuffix(path);
      if (!VERSION_TAIL.test(path)) path += '/v1';
    }
  } else if (providerType === 'claude-api-key') {
    const lowered = path.toLowerCase();
    if (lowered.endsWith('/v1/messages')) path = path.slice(0, -'/v1/messages'.length);
    else if (lowered.endsWith('/v1')) path = path.slice(0, -'/v1'.length);
  } else if (providerType === 'gemini-api-key') {
    path = path.replace(GEMINI_TAIL, '');
  }
  // URL() already lower-cases scheme and host and drops default ports.
  return `${url.protocol}//${url.host}${path.replace(/\/+$/, '')}`;
}
