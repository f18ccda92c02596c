/**
 * @jest-environment jsdom
 */
/**
 * Writes of the account and card screens on a weak signal: a write whose answer was lost (a
 * timeout, a gateway's 504) and that the user sends again goes with its first Idempotency-Key, so
 * the server answers it once (its stored answer), instead of doing it again or refusing it as
 * done already ("账号已激活", "操作已过期"). Another request, or one after a refusal, has a new key.
 *
 * The fake server keeps what it did by key, like backend/core/idempotency.py: a key seen before
 * gets the first answer again; a new key runs the write again.
 */
require('../support/simulate-setup');
const { mount, settle, text } = require('../support/simulate');
const { install, CAPTCHA } = require('../support/fake-server');
const { signIn, UNIT } = require('../support/fixtures');

const tapButton = (node) => node.querySelector('.t-button').dispatchEvent('tap');
const toastText = (page) => page.querySelector('#t-toast').instance.data.message;
const LOST = { status: 504, body: '' }; // done on the server, the answer lost on the way back

/** A write the server does once: `first(call)` the first time; its answer replayed for its key; `again` for a new key. */
function onceByKey(first, again) {
  const done = new Map();
  let lose = true;
  return (data, call) => {
    const key = call.header['Idempotency-Key'];
    if (done.has(key)) return done.get(key);
    if (done.size) return again;
    done.set(key, first(data));
    if (lose) {
      lose = false;
      return LOST;
    }
    return done.get(key);
  };
}

test('activation whose answer was lost, sent again, goes with its first key and shows done, not "账号已激活"', async () => {
  signIn({ username: '91530100_ADMIN', unit: Object.assign({}, UNIT, { role: 'clerk' }) });
  const activated = { status: 409, body: { error: { code: 'not_awaiting_activation', message: '账号已激活，如需修改密码请使用“修改密码”', fields: {} } } };
  const calls = install({ 'POST /api/profile/activate': onceByKey(() => ({ status: 204 }), activated) });
  const page = mount('packageAccount/pages/activate/index');
  await settle();
  page.setData({ newPassword: 'Xinmima#2026', confirm: 'Xinmima#2026' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(page.instance.data.done).toBe(false);
  tapButton(page.querySelector('.submit')); // "服务器繁忙": the user taps again
  await settle(10);
  const sent = calls.filter((c) => c.key === 'POST /api/profile/activate');
  expect(sent).toHaveLength(2);
  expect(sent[1].header['Idempotency-Key']).toBe(sent[0].header['Idempotency-Key']);
  expect(page.instance.data.done).toBe(true);
  expect(toastText(page)).toBe('密码已设置，账号已激活');
});

test('a bound phone change confirmed again after a lost answer goes with its first key and shows the new phone', async () => {
  signIn();
  const gone = { status: 410, body: { error: { code: 'ticket_invalid', message: '操作已过期或无效，请从头开始', fields: {} } } };
  const calls = install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/profile/phone/send-code': () => ({ phone: '139****0021', ticket: 'pt-1', resend_after: 60 }),
    'POST /api/profile/phone/confirm': onceByKey(() => ({ name: '贾红', phone: '139****0021' }), gone),
  });
  const page = mount('packageAccount/pages/phone/index');
  await settle();
  page.setData({ password: 'Jiuma#2025', newPhone: '13900000021' });
  await page.instance.onSendCode();
  await settle();
  page.setData({ code: '123456' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  tapButton(page.querySelector('.submit'));
  await settle(10);
  const sent = calls.filter((c) => c.key === 'POST /api/profile/phone/confirm');
  expect(sent).toHaveLength(2);
  expect(sent[1].header['Idempotency-Key']).toBe(sent[0].header['Idempotency-Key']);
  expect(toastText(page)).toBe('已更换为 139****0021');
});

test('a PC enrolment approved again after a lost answer goes with its first key and shows the enrolled PC', async () => {
  signIn();
  const TOKEN = 'q3VdJ0bX9c_TlK2m-8wZyA';
  const device = { id: 3, name: 'DESKTOP-WJW01', hostname: 'DESKTOP-WJW01', unit: { id: 4, name: '白沙镇' }, status_label: '已登记', enrolled_at: '2026-11-22T20:40:00+00:00' };
  const used = { status: 410, body: { error: { code: 'enrolment_invalid', message: '登记二维码已过期或已使用，请在读卡程序上刷新二维码', fields: {} } } };
  const calls = install({
    [`GET /api/devices/enrolments/${TOKEN}`]: () => ({ hostname: 'DESKTOP-WJW01', fingerprint: '3F2A', expires_at: '2026-11-22T20:45:00+00:00' }),
    [`POST /api/devices/enrolments/${TOKEN}/approve`]: onceByKey(() => ({ status: 201, body: device }), used),
  });
  const page = mount('packageCard/pages/enrol/index', undefined, { token: TOKEN });
  await settle(10);
  tapButton(page.querySelector('.approve'));
  await settle(10);
  expect(page.instance.data.view).toBe('form');
  tapButton(page.querySelector('.approve'));
  await settle(10);
  const sent = calls.filter((c) => c.key.endsWith('/approve'));
  expect(sent).toHaveLength(2);
  expect(sent[1].header['Idempotency-Key']).toBe(sent[0].header['Idempotency-Key']);
  expect(page.instance.data.view).toBe('done');
  expect(text(page)).toContain('DESKTOP-WJW01');
});

test('a write the server refused, or changed by the user, goes with a new key (it is another request)', async () => {
  signIn({ username: '91530100_ADMIN', unit: Object.assign({}, UNIT, { role: 'clerk' }) });
  const answers = [
    LOST,
    { status: 422, body: { error: { code: 'invalid_input', message: '密码不能包含用户名', fields: { new_password: '密码不能包含用户名' } } } },
    { status: 204 },
  ];
  const calls = install({ 'POST /api/profile/activate': () => answers.shift() });
  const page = mount('packageAccount/pages/activate/index');
  await settle();
  page.setData({ newPassword: 'Xinmima#2026', confirm: 'Xinmima#2026' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  page.instance.onField({ currentTarget: { dataset: { field: 'newPassword' } }, detail: { value: 'Xinmima#2027' } });
  page.instance.onField({ currentTarget: { dataset: { field: 'confirm' } }, detail: { value: 'Xinmima#2027' } });
  tapButton(page.querySelector('.submit')); // another password: another request
  await settle(10);
  expect(page.instance.data.errors.new_password).toBe('密码不能包含用户名');
  tapButton(page.querySelector('.submit')); // the same again after a refusal
  await settle(10);
  const keys = calls.filter((c) => c.key === 'POST /api/profile/activate').map((c) => c.header['Idempotency-Key']);
  expect(keys).toHaveLength(3);
  expect(new Set(keys).size).toBe(3);
  expect(page.instance.data.done).toBe(true);
});

test('an IC card unbind resent after a lost answer goes with its first key and shows it unbound, not "未绑定IC卡"', async () => {
  signIn();
  let card = { card_number: '9153****0001', kind: 'legal_rep', bound_at: '2026-11-20T08:30:00+08:00' };
  const notBound = { status: 409, body: { error: { code: 'card_not_bound', message: '您的账号没有绑定IC卡', fields: {} } } };
  const unbind = onceByKey(() => {
    card = null;
    return { status: 204 };
  }, notBound);
  const calls = install({
    'GET /api/profile': () => ({ name: '贾红', realname_level: card ? 'high' : 'medium', needs_activation: false, card }),
    'DELETE /api/profile/card': unbind,
  });
  const page = mount('packageAccount/pages/index/index');
  await settle(10);
  for (let i = 0; i < 2; i += 1) {
    page.querySelector('.card-unbind').instance.triggerEvent('click');
    await settle();
    page.querySelector('#t-dialog').instance._onConfirm();
    await settle(10);
  }
  const sent = calls.filter((c) => c.key === 'DELETE /api/profile/card');
  expect(sent).toHaveLength(2);
  expect(sent[1].header['Idempotency-Key']).toBe(sent[0].header['Idempotency-Key']);
  expect(toastText(page)).toBe('已解除IC卡绑定');
  expect(page.querySelector('.card-bound')).toBeFalsy();
});

test('"解除IC卡绑定" tapped again while the first is on its way sends nothing more (no "未绑定IC卡" after it)', async () => {
  signIn();
  let card = { card_number: '9153****0001', kind: 'legal_rep', bound_at: '2026-11-20T08:30:00+08:00' };
  let release;
  const calls = install({
    'GET /api/profile': () => ({ name: '贾红', realname_level: card ? 'high' : 'medium', needs_activation: false, card }),
    'DELETE /api/profile/card': () => {
      if (!card) return { status: 409, body: { error: { code: 'card_not_bound', message: '您的账号没有绑定IC卡', fields: {} } } };
      card = null;
      return new Promise((resolve) => (release = () => resolve({ status: 204 })));
    },
  });
  const page = mount('packageAccount/pages/index/index');
  await settle(10);
  for (let i = 0; i < 2; i += 1) {
    page.querySelector('.card-unbind').instance.triggerEvent('click');
    await settle();
    const dialog = page.querySelector('#t-dialog').instance;
    if (dialog.data.visible) dialog._onConfirm();
    await settle(10);
  }
  release();
  await settle(10);
  expect(calls.filter((c) => c.key === 'DELETE /api/profile/card')).toHaveLength(1);
  expect(toastText(page)).toBe('已解除IC卡绑定');
});
