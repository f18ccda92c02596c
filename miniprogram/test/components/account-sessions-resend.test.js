/**
 * "登录设备 > 结束" on a weak signal: a resend after a lost answer goes with its first
 * Idempotency-Key (the server answers it once: "已结束", not "没有找到这个登录会话"), and a second tap
 * while the first is on its way sends nothing more.
 */
require('../support/simulate-setup');
const { mount, settle, confirmIfAsked } = require('../support/simulate');
const { install, writeOncePerKey } = require('../support/fake-server');
const { signIn } = require('../support/fixtures');

const tapButton = (node) => node.querySelector('.t-button').dispatchEvent('tap');
const toastText = (page) => page.querySelector('#t-toast').instance.data.message;
const GONE = { status: 404, body: { error: { code: 'not_found', message: '没有找到这个登录会话', fields: {} } } };

function sessionsServer() {
  const now = Date.now() / 1000;
  const server = { lose: false, hold: false, release: null };
  server.list = [
    { id: 'aaa', current: true, ip: '10.0.0.1', user_agent: 'MicroMessenger miniProgram', started_at: now, last_seen: now },
    { id: 'bbb', current: false, ip: '10.0.0.2', user_agent: 'Mozilla/5.0 (Windows NT 10.0)', started_at: now, last_seen: now },
  ];
  server.routes = {
    'GET /api/sessions': () => server.list,
    'DELETE /api/sessions/bbb': writeOncePerKey(
      server,
      () => (server.list.some((s) => s.id === 'bbb') ? null : GONE),
      () => {
        server.list = server.list.filter((s) => s.id !== 'bbb');
        return { status: 204 };
      },
    ),
  };
  return server;
}

async function endOnce(page) {
  tapButton(page.querySelector('.end'));
  await settle();
  await confirmIfAsked(page);
}

test('a session ended again after a lost answer goes with its first key and shows "已结束", not "没有找到"', async () => {
  signIn();
  const server = sessionsServer();
  server.lose = true;
  const calls = install(server.routes);
  const page = mount('packageAccount/pages/sessions/index');
  await settle(10);
  await endOnce(page); // 504: "服务器繁忙"; the list on screen still has it
  expect(page.instance.data.sessions).toHaveLength(2);
  await endOnce(page);
  const sent = calls.filter((c) => c.key === 'DELETE /api/sessions/bbb');
  expect(sent).toHaveLength(2);
  expect(sent[1].header['Idempotency-Key']).toBe(sent[0].header['Idempotency-Key']);
  expect(toastText(page)).toBe('已结束');
  expect(page.instance.data.sessions).toHaveLength(1);
});

test('"结束" tapped again while the first is on its way sends nothing more', async () => {
  signIn();
  const server = sessionsServer();
  server.hold = true;
  const calls = install(server.routes);
  const page = mount('packageAccount/pages/sessions/index');
  await settle(10);
  await endOnce(page);
  await endOnce(page); // no answer yet
  server.release();
  await settle(10);
  expect(calls.filter((c) => c.key === 'DELETE /api/sessions/bbb')).toHaveLength(1);
  expect(toastText(page)).toBe('已结束');
});
