/**
 * What a scanned QR code means. The card service on an office PC shows two kinds
 * (docs/card-protocol.md): `cwt://enrol/<token>` (an admin enrols the PC) and `cwt://pair/<token>`
 * (card login, card binding, real-name by card). Anything else is left to the caller as text
 * (the chat sends it as a message, as before).
 *
 * parseScan(raw) answers one of:
 *   { kind: 'enrol' | 'pair', token }
 *   { kind: 'invalid', message }       it says cwt:// but is not one of ours (or is damaged)
 *   { kind: 'text', text }             anything else, trimmed
 *   { kind: 'empty', message }         nothing readable
 */
const msg = require('./messages');

const SCHEME = /^cwt:/i;
const SHAPE = /^cwt:\/\/([A-Za-z]+)\/([^/?#\s]*)\/?$/i;
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/; // base64url, >= 96 bits; the server makes 128 and more
const MAX_LENGTH = 200; // cwt:// + kind + the longest token, with room to spare
const KINDS = ['enrol', 'pair'];

const PAGES = {
  enrol: '/packageCard/pages/enrol/index',
  pair: '/packageCard/pages/pair/index',
};

function parseScan(raw) {
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (!text) return { kind: 'empty', message: msg.SCAN_EMPTY };
  if (!SCHEME.test(text)) return { kind: 'text', text };
  const invalid = { kind: 'invalid', message: msg.SCAN_INVALID };
  if (text.length > MAX_LENGTH) return invalid;
  const found = SHAPE.exec(text);
  if (!found) return invalid;
  const kind = found[1].toLowerCase();
  if (KINDS.indexOf(kind) < 0 || !TOKEN.test(found[2])) return invalid;
  return { kind, token: found[2] };
}

/** The page that handles an enrol or pair code, with its token; '' for anything else. */
function pageFor(parsed) {
  const page = parsed && PAGES[parsed.kind];
  return page ? `${page}?token=${encodeURIComponent(parsed.token)}` : '';
}

/** wx.scanCode as a promise: the scanned text, or null when the user backed out. */
function scanCode(api) {
  const wxApi = api || wx;
  return new Promise((resolve) => {
    wxApi.scanCode({
      scanType: ['qrCode', 'barCode'],
      success: (res) => resolve(String((res && res.result) || '')),
      fail: () => resolve(null),
    });
  });
}

module.exports = { parseScan, pageFor, scanCode, PAGES, MAX_LENGTH };
