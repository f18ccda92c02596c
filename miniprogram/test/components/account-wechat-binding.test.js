/**
 * The WeChat of "我的": whether one is bound (GET /api/wechat/binding), its unbind on a weak signal
 * (a resend after a lost answer goes with its first Idempotency-Key: done, not "尚未绑定"), a second
 * tap while the first unbind is on its way, and a server without WeChat login.
 */
require('../support/simulate-setup');
const { mount, settle, confirmIfAsked } = require('../support/simulate');
const { install, writeOncePerKey } = require('../support/fake-server');
const { signIn } = require('../support/fixtures');
const { formatTime } = require('../../utils/format');

const toastText = (page) => page.querySelector('#t-toast').instance.data.message;
const cell = (node) => ['title', 'note', 'description'].map((k) => node.instance.data[k] || '').join(' ').trim();
const NOT_BOUND = { status: 404, body: { error: { code: 'not_found', message: '您的账号尚未绑定微信', fields: {} } } };
const PROFILE = () => ({ name: '贾红', realname_level: 'medium', needs_activation: false, card: null });

/** The server's binding, unbound once by DELETE; its answer replayed for the same key (backend/core/idempotency.py). */
function bindingServer(options) {
  const server = { bound: true, lose: !!(options && options.loseFirst), hold: null };
  server.routes = {
    'GET /api/profile': PROFILE,
    'GET /api/wechat/binding': () => ({ bound: server.bound, bound_at: server.bound ? '2026-11-20T08:30:00+08:00' : null }),
    'DELETE /api/wechat/binding': writeOncePerKey(
      server,
      () => (server.bound ? null : NOT_BOUND),
      () => {
        server.bound = false;
        return { status: 204 };
      },
    ),
  };
  return server;
}

async function unbindOnce(page) {
  page.querySelector('.wechat-unbind').instance.triggerEvent('click');
  await settle();
  page.querySelector('#t-dialog').instance._onConfirm();
  await settle(10);
}

test('"我的" shows whether a WeChat is bound, and offers the unbind only when one is', async () => {
  signIn();
  const server = bindingServer();
  install(server.routes);
  let page = mount('packageAccount/pages/index/index');
  await settle(10);
  expect(cell(page.querySelector('.wechat-state'))).toContain('已绑定');
  expect(cell(page.querySelector('.wechat-state'))).toContain(`${formatTime(Date.parse('2026-11-20T08:30:00+08:00'))} 绑定`);
  expect(page.querySelector('.wechat-unbind')).toBeTruthy();

  server.bound = false;
  page = mount('packageAccount/pages/index/index');
  await settle(10);
  expect(cell(page.querySelector('.wechat-state'))).toContain('未绑定');
  expect(page.querySelector('.wechat-unbind')).toBeFalsy();
});

test('a WeChat unbind resent after a lost answer goes with its first key and shows it unbound, not "尚未绑定"', async () => {
  signIn();
  const server = bindingServer({ loseFirst: true });
  const calls = install(server.routes);
  const page = mount('packageAccount/pages/index/index');
  await settle(10);
  await unbindOnce(page); // 504: "服务器繁忙", still shown as bound
  expect(page.querySelector('.wechat-unbind')).toBeTruthy();
  await unbindOnce(page); // the user taps again
  const sent = calls.filter((c) => c.key === 'DELETE /api/wechat/binding');
  expect(sent).toHaveLength(2);
  expect(sent[1].header['Idempotency-Key']).toBe(sent[0].header['Idempotency-Key']);
  expect(toastText(page)).toBe('已解除绑定');
  expect(cell(page.querySelector('.wechat-state'))).toContain('未绑定');
});

test('a second tap while the WeChat unbind is on its way sends nothing more', async () => {
  signIn();
  const server = bindingServer();
  server.hold = true;
  const calls = install(server.routes);
  const page = mount('packageAccount/pages/index/index');
  await settle(10);
  await unbindOnce(page);
  page.querySelector('.wechat-unbind').instance.triggerEvent('click'); // no answer yet: tapped again
  await settle();
  await confirmIfAsked(page);
  server.release();
  await settle(10);
  expect(calls.filter((c) => c.key === 'DELETE /api/wechat/binding')).toHaveLength(1);
  expect(toastText(page)).toBe('已解除绑定');
});

test('a server without WeChat login shows no WeChat entry; one whose binding cannot be read keeps the unbind', async () => {
  signIn();
  const disabled = { status: 503, body: { error: { code: 'wechat_disabled', message: '本系统未开通微信登录，请使用账号密码登录', fields: {} } } };
  install({ 'GET /api/profile': PROFILE, 'GET /api/wechat/binding': () => disabled });
  let page = mount('packageAccount/pages/index/index');
  await settle(10);
  expect(page.querySelector('.wechat-unbind')).toBeFalsy();
  expect(page.querySelector('.wechat-state')).toBeFalsy();

  const server = bindingServer();
  server.routes['GET /api/wechat/binding'] = () => ({ status: 500, body: '' }); // a bad moment: state unknown
  const calls = install(server.routes);
  page = mount('packageAccount/pages/index/index');
  await settle(10);
  await unbindOnce(page);
  expect(calls.filter((c) => c.key === 'DELETE /api/wechat/binding')).toHaveLength(1);
  expect(toastText(page)).toBe('已解除绑定');
});
