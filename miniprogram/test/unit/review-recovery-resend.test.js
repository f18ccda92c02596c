/**
 * @jest-environment jsdom
 */
/**
 * The last steps of the recovery flows on a weak signal (commit 40bb5c0): a password reset or a unit
 * recovery whose answer was lost, sent again with its first Idempotency-Key, is answered as done by
 * the server; without it (or with another key) the server answers 409 `password_already_reset` /
 * `unit_already_recovered`. Either way the page shows the flow as done, never its first step.
 *
 * The fake server does what backend/recovery/actions.py does: the first request does the work (its
 * answer may be lost); a resend with that key gets the same answer, another key the 409.
 */
require('../support/simulate-setup');
const { mount, settle, text } = require('../support/simulate');
const { install, CAPTCHA } = require('../support/fake-server');

const tapButton = (node) => node.querySelector('.t-button').dispatchEvent('tap');
const toastText = (page) => page.querySelector('#t-toast').instance.data.message;
const LOST = { status: 504, body: '' }; // done on the server, the answer lost on the way back
const TIMEOUT = { status: 408, body: { error: { code: 'request_timeout', message: '网络较慢，请求超时，请重试', fields: {} } } };
const ALREADY_RESET = { status: 409, body: { error: { code: 'password_already_reset', message: '密码已经重置成功，请用新密码登录', fields: {} } } };
const UNIT_DONE_MESSAGE = '该单位的账号已经找回，用户名和临时密码已通过短信发给新经办人，请查收短信后登录';
const ALREADY_RECOVERED = { status: 409, body: { error: { code: 'unit_already_recovered', message: UNIT_DONE_MESSAGE, fields: {} } } };

/** A last step the server does once: `answer` for its first key (the first time lost), `again` for any other key. */
function onceByKey(answer, again, first) {
  let doneKey = null;
  return (data, call) => {
    const key = call.header['Idempotency-Key'];
    if (doneKey === null) {
      doneKey = key;
      return first || LOST;
    }
    return key === doneKey ? answer : again;
  };
}

/** The forgot-password page at its last step (ticket "rt"), the new password typed. */
async function atResetStep(reset) {
  const calls = install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/recovery/password/start': () => ({ ticket: 't1', phone: '139****0014' }),
    'POST /api/recovery/password/verify': () => ({ reset_ticket: 'rt', expires_in: 900 }),
    'POST /api/recovery/password/reset': reset,
  });
  const page = mount('packageRecovery/pages/password/index');
  await settle();
  page.setData({ username: 'op_wang' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  page.setData({ code: '123456', idNumber: '11010519491231002X' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(page.instance.data.step).toBe('reset');
  page.setData({ newPassword: 'Newpass#2026', confirm: 'Newpass#2026' });
  return { page, calls };
}

/** The unit recovery page at its code step (ticket "t2"), the code typed. */
async function atUnitCodeStep(verify) {
  const calls = install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/recovery/unit/start': () => ({ ticket: 't1' }),
    'POST /api/recovery/unit/send-code': () => ({ ticket: 't2', phone: '136****6666', resend_after: 60 }),
    'POST /api/recovery/unit/verify': verify,
  });
  const page = mount('packageRecovery/pages/unit/index');
  await settle();
  page.setData({ creditCode: '91350100M000100Y43' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  page.setData({ name: '王法人', idNumber: '110105198001010016', newAgentName: '新经办', newAgentPhone: '13600006666' });
  tapButton(page.querySelector('#codeButton').querySelector('.btn'));
  await settle(10);
  page.setData({ code: '123456' });
  return { page, calls };
}

const keysOf = (calls, key) => calls.filter((c) => c.key === key).map((c) => c.header['Idempotency-Key']);

test('a password reset whose answer was lost, sent again, goes with its first key and shows the password reset', async () => {
  const { page, calls } = await atResetStep(onceByKey({ status: 204 }, ALREADY_RESET));
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(page.instance.data.step).toBe('reset'); // "服务器繁忙": the password typed stays for the resend
  tapButton(page.querySelector('.submit'));
  await settle(10);
  const keys = keysOf(calls, 'POST /api/recovery/password/reset');
  expect(keys).toHaveLength(2);
  expect(keys[0]).toBeTruthy();
  expect(keys[1]).toBe(keys[0]);
  expect(page.instance.data.step).toBe('done');
  expect(text(page)).toContain('密码已重置');
});

test('a password reset kept its key through a timeout and 409 request_in_progress', async () => {
  const answers = [TIMEOUT, { status: 409, body: { error: { code: 'request_in_progress', message: '同一操作正在处理中，请稍候', fields: {} } } }, { status: 204 }];
  const { page, calls } = await atResetStep(() => answers.shift());
  for (let i = 0; i < 3; i += 1) {
    tapButton(page.querySelector('.submit'));
    await settle(10);
  }
  expect(new Set(keysOf(calls, 'POST /api/recovery/password/reset')).size).toBe(1);
  expect(page.instance.data.step).toBe('done');
});

test('a password reset the server refused, then sent again, goes with a new key (it is another request)', async () => {
  const weak = { status: 422, body: { error: { code: 'invalid_input', message: '密码不能包含用户名', fields: { new_password: '密码不能包含用户名' } } } };
  const answers = [weak, { status: 204 }];
  const { page, calls } = await atResetStep(() => answers.shift());
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(page.instance.data.errors.new_password).toBe('密码不能包含用户名');
  tapButton(page.querySelector('.submit'));
  await settle(10);
  const keys = keysOf(calls, 'POST /api/recovery/password/reset');
  expect(keys).toHaveLength(2);
  expect(keys[1]).not.toBe(keys[0]);
});

test('409 password_already_reset shows the done screen with the server\'s message, not the first step', async () => {
  const { page } = await atResetStep(() => ALREADY_RESET);
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(page.instance.data).toMatchObject({ step: 'done', stepNo: 3, newPassword: '', confirm: '' });
  expect(text(page)).toContain('密码已重置');
  expect(text(page)).toContain('密码已经重置成功，请用新密码登录');
  expect(page.querySelector('.submit')).toBeFalsy();
});

test('a unit recovery whose answer was lost, sent again, goes with its first key and shows the account handed over', async () => {
  const recovered = { username: '91350100M000100Y43_ADMIN', unit_name: '王家湾村' };
  const { page, calls } = await atUnitCodeStep(onceByKey(recovered, ALREADY_RECOVERED));
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(page.instance.data.step).toBe('identify');
  tapButton(page.querySelector('.submit'));
  await settle(10);
  const keys = keysOf(calls, 'POST /api/recovery/unit/verify');
  expect(keys).toHaveLength(2);
  expect(keys[0]).toBeTruthy();
  expect(keys[1]).toBe(keys[0]);
  expect(page.instance.data.step).toBe('done');
  expect(text(page)).toContain('王家湾村 的管理员账号 91350100M000100Y43_ADMIN 已交给新经办人');
});

test('a unit recovery code sent again after a new code was sent is another request (a new key)', async () => {
  const wrong = { status: 422, body: { error: { code: 'sms_code_wrong', message: '验证码错误', fields: { code: '验证码错误' } } } };
  const answers = [TIMEOUT, wrong];
  const { page, calls } = await atUnitCodeStep(() => answers.shift());
  tapButton(page.querySelector('.submit'));
  await settle(10);
  page.setData({ code: '654321' }); // another code: another request
  tapButton(page.querySelector('.submit'));
  await settle(10);
  const keys = keysOf(calls, 'POST /api/recovery/unit/verify');
  expect(keys).toHaveLength(2);
  expect(keys[1]).not.toBe(keys[0]);
});

test('409 unit_already_recovered shows the done screen with the server\'s message, not the first step', async () => {
  const { page } = await atUnitCodeStep(() => ALREADY_RECOVERED);
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(page.instance.data.step).toBe('done');
  expect(text(page)).toContain(UNIT_DONE_MESSAGE);
  expect(text(page)).not.toContain('undefined');
  expect(text(page)).not.toContain('的管理员账号  已交给'); // no empty unit name or user name
  expect(page.querySelector('#t-toast').instance.data.theme).not.toBe('error');
  expect(page.querySelector('.submit')).toBeFalsy();
});

test('forgot password: the first step says the login phone may be typed instead of the user name, and sends it as typed', async () => {
  const calls = install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/recovery/password/start': () => ({ ticket: 't1', phone: '139****0014' }),
  });
  const page = mount('packageRecovery/pages/password/index');
  await settle();
  expect(text(page)).toContain('手机号');
  tapButton(page.querySelector('.submit'));
  await settle();
  expect(page.instance.data.errors.username).toContain('手机号'); // nothing typed: the message names both
  page.setData({ username: ' 13900000014 ' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(calls.find((c) => c.key === 'POST /api/recovery/password/start').data.username).toBe('13900000014');
  expect(page.instance.data.step).toBe('verify');
});

test('the recovery menu says forgot password starts from the user name or the login phone', async () => {
  install({});
  const page = mount('packageRecovery/pages/index/index');
  await settle();
  expect(text(page)).toContain('用户名或登录手机号');
});
