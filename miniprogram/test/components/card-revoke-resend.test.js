/**
 * "撤销登记" of an office PC on a weak signal: sent again after a lost answer it goes with its first
 * Idempotency-Key, so the server's stored answer (the revoked PC) shows it revoked, instead of
 * 409 "已撤销" with the row still shown as enrolled; a second tap while it is on its way sends
 * nothing more.
 */
require('../support/simulate-setup');
const { mount, settle, confirmIfAsked } = require('../support/simulate');
const { install, writeOncePerKey } = require('../support/fake-server');
const { signIn, DEVICE } = require('../support/fixtures');

const toastText = (page) => page.querySelector('#t-toast').instance.data.message;
const ALREADY = { status: 409, body: { error: { code: 'device_revoked', message: '这台电脑已撤销登记', fields: {} } } };
const REVOKED = Object.assign({}, DEVICE, { status: 'revoked', status_label: '已撤销', revoked_at: '2026-11-22T21:00:00+00:00' });

function devicesServer() {
  const server = { revoked: false, lose: false, hold: false, release: null };
  server.routes = {
    'GET /api/devices': () => ({ items: [server.revoked ? REVOKED : DEVICE], total: 1, next_cursor: null }),
    'POST /api/devices/3/revoke': writeOncePerKey(
      server,
      () => (server.revoked ? ALREADY : null),
      () => {
        server.revoked = true;
        return { status: 200, body: REVOKED };
      },
    ),
  };
  return server;
}

async function revokeOnce(page) {
  const link = page.querySelector('.revoke');
  if (!link) return;
  link.dispatchEvent('tap');
  await settle();
  await confirmIfAsked(page);
}

test('a PC revoked again after a lost answer goes with its first key and shows it revoked, not "已撤销登记" refused', async () => {
  signIn();
  const server = devicesServer();
  server.lose = true;
  const calls = install(server.routes);
  const page = mount('packageCard/pages/devices/index');
  await settle(10);
  await revokeOnce(page);
  expect(page.querySelectorAll('.device-active')).toHaveLength(1);
  await revokeOnce(page);
  const sent = calls.filter((c) => c.key === 'POST /api/devices/3/revoke');
  expect(sent).toHaveLength(2);
  expect(sent[1].header['Idempotency-Key']).toBe(sent[0].header['Idempotency-Key']);
  expect(toastText(page)).toBe('已撤销登记');
  expect(page.querySelectorAll('.device-revoked')).toHaveLength(1);
});

test('"撤销登记" tapped again while the first is on its way sends nothing more', async () => {
  signIn();
  const server = devicesServer();
  server.hold = true;
  const calls = install(server.routes);
  const page = mount('packageCard/pages/devices/index');
  await settle(10);
  await revokeOnce(page);
  await revokeOnce(page);
  server.release();
  await settle(10);
  expect(calls.filter((c) => c.key === 'POST /api/devices/3/revoke')).toHaveLength(1);
  expect(toastText(page)).toBe('已撤销登记');
  expect(page.querySelectorAll('.device-revoked')).toHaveLength(1);
});
