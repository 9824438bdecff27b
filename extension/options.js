// Options page: CLIProxyAPI management URL and key (sent to the host with
// settings.set, never stored in the extension), Test connection, host status.

import { call } from './lib/api.js';
import { describeError } from './lib/errors.js';
import { $, applyIcon, clear, el, setLabel, show, whileBusy } from './lib/dom.js';
import { initHostBanner } from './lib/host-banner.js';
import { formatNumber, keyFor, localizeDocument, message, t } from './lib/i18n.js';
import { HOST_MISSING_CODES } from './lib/messages.js';
import { showError, showSuccess } from './lib/toast.js';

const URL_CODES = new Set(['invalid_url', 'insecure_url', 'forbidden_address']);

function fill(settings) {
  $('#mgmt-url').value = settings.management_url ?? '';
  const key = $('#mgmt-key');
  key.value = '';
  key.placeholder = settings.has_key ? settings.key_hint : t('management_key_placeholder');
  key.dataset.hasKey = settings.has_key ? 'true' : 'false';
  $('#allow-insecure').checked = Boolean(settings.allow_insecure_http);
  show($('#mgmt-key-rejected'), Boolean(settings.key_rejected));
}

function setUrlError(text) {
  const node = $('#mgmt-url-error');
  node.textContent = text || '';
  show(node, Boolean(text));
  if (text) $('#mgmt-url').setAttribute('aria-invalid', 'true');
  else $('#mgmt-url').removeAttribute('aria-invalid');
}

function showWarnings(warnings) {
  const list = clear($('#settings-warnings'));
  for (const warning of warnings ?? []) list.append(el('li', { text: warning }));
  show(list, list.childElementCount > 0);
}

async function loadSettings() {
  try {
    fill(await call('settings.get'));
  } catch (error) {
    if (!HOST_MISSING_CODES.has(error.code)) showError(error);
  }
}

async function save(event) {
  event.preventDefault();
  setUrlError('');
  const params = {
    management_url: $('#mgmt-url').value.trim(),
    allow_insecure_http: $('#allow-insecure').checked,
  };
  const key = $('#mgmt-key').value.trim();
  if (key) params.management_key = key;
  await whileBusy($('#save-settings'), async () => {
    try {
      const settings = await call('settings.set', params);
      fill(settings); // clears the key field; its placeholder shows the masked hint
      showWarnings(settings.warnings);
      showSuccess(t('settings_saved'), (settings.warnings ?? []).join('\n'), { action: 'saved', timeoutMs: 5000 });
    } catch (error) {
      if (URL_CODES.has(error.code)) {
        const info = describeError(error);
        setUrlError(info.hint ? `${info.title}: ${info.hint}` : info.title);
      }
      showError(error);
    }
  });
}

function renderConnection(result) {
  $('#server-version').textContent = result.server_version || t('unknown_version');
  $('#connection-url').textContent = result.management_url ?? '';
  const body = clear($('#list-counts'));
  for (const [name, count] of Object.entries(result.lists ?? {})) {
    body.append(
      el('tr', { dataset: { list: name } }, [
        el('th', { attrs: { scope: 'row' } }, [
          message(keyFor('list', name)) || name,
          el('span', { className: 'list-id mono', text: name }),
        ]),
        el('td', { className: 'num', text: formatNumber(count) }),
      ]),
    );
  }
  show($('#connection-result'), true);
}

async function testConnection() {
  show($('#connection-result'), false);
  await whileBusy($('#test-connection'), async () => {
    try {
      const result = await call('connection.test');
      renderConnection(result);
      showSuccess(t('connection_ok'), t('connection_ok_text', [result.server_version || t('unknown_version')]), {
        action: 'connected',
        timeoutMs: 5000,
      });
    } catch (error) {
      showError(error, { title: t('connection_failed') });
    }
    await loadSettings(); // key_rejected may have changed
  });
}

function toggleKey() {
  const input = $('#mgmt-key');
  const toggle = $('#mgmt-key-toggle');
  const showing = input.type === 'text';
  input.type = showing ? 'password' : 'text';
  toggle.setAttribute('aria-pressed', String(!showing));
  applyIcon(toggle, showing ? 'i-eye' : 'i-eye-off');
  setLabel(toggle, t(showing ? 'show_key' : 'hide_key_field'));
}

function renderHostStatus({ ping, error }) {
  const pill = $('#host-status');
  const state = ping ? 'ok' : HOST_MISSING_CODES.has(error?.code) ? 'missing' : 'error';
  pill.dataset.state = state;
  pill.textContent = t({ ok: 'host_installed', missing: 'host_not_installed', error: 'host_not_responding' }[state]);
  $('#host-version').textContent = ping?.host_version ?? '—';
  $('#host-protocol').textContent = ping?.protocol ?? '—';
}

async function start() {
  localizeDocument('options_page_title');
  $('#host-status').textContent = t('host_checking');
  $('#settings-form').addEventListener('submit', save);
  $('#test-connection').addEventListener('click', testConnection);
  $('#mgmt-key-toggle').addEventListener('click', toggleKey);
  const status = await initHostBanner();
  renderHostStatus(status);
  if (status.ping) await loadSettings();
}

start();
