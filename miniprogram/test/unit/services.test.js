/** The domain services over a fake wx: the paths and bodies they send, what they keep. */
const { createFakeApi: setup } = require('../support/fake-wx');
const { SCREENS } = require('../../services/session');
const { createAuth } = require('../../services/auth/index');
const { createRecovery } = require('../../packageRecovery/services/recovery');
const { createReviews } = require('../../packageRecovery/services/reviews');
const { createWechat } = require('../../packageLogin/services/wechat');
const { createProfile } = require('../../packageAccount/services/profile');
const { createChatApi } = require('../../services/chat/index');
const { view } = require('../../services/chat/view');

const unit = { id: 6, unit_id: 4, unit_name: '白沙镇', role: 'admin', role_label: '管理员' };
const sessionOut = (extra) =>
  Object.assign({ account_id: 6, username: 'u', name: '贾红', must_change_password: false, sms_check_required: false, unit, units: [unit] }, extra);

test('auth: login keeps the token and the session; the forced change rotates the token', async () => {
  const { wx, session, client } = setup({
    'POST /api/auth/login': () => Object.assign({ token: 't1' }, sessionOut({ must_change_password: true })),
    'POST /api/account/password': () => ({ token: 't2' }),
    'GET /api/session': () => sessionOut(),
  });
  const auth = createAuth(client, session);
  const out = await auth.login({ login: ' demo ', password: 'p', captchaId: 'c', captchaAnswer: ' ab12 ', bindTicket: 'bt' });
  expect(out.next).toBe(SCREENS.password);
  expect(wx.requests[0].data).toEqual({ login: 'demo', password: 'p', captcha_id: 'c', captcha_answer: 'ab12', wechat_bind_ticket: 'bt' });
  expect(wx.requests[0].header.Authorization).toBeUndefined();
  expect(await auth.changePassword('p', 'Newpass1!')).toBe(SCREENS.chat);
  expect(wx.requests[1].header.Authorization).toBe('Bearer t1');
  expect(wx.requests[1].data).toEqual({ old_password: 'p', new_password: 'Newpass1!' });
  expect(wx.requests[2].header.Authorization).toBe('Bearer t2');
  expect(session.token()).toBe('t2');
});

test('auth: first-login SMS check, unit choice, sessions, and a logout the server refused still logs out', async () => {
  const { wx, session, client } = setup({
    'POST /api/session/first-login/send-code': () => ({ phone: '139****0014', resend_after: 60, expires_in: 300 }),
    'POST /api/session/first-login/verify': () => ({ statusCode: 204, data: '' }),
    'GET /api/session': () => sessionOut({ must_change_password: true }),
    'POST /api/session/unit': () => sessionOut(),
    'GET /api/sessions': () => [{ id: 's1', current: true }],
  });
  session.saveLogin(Object.assign({ token: 't' }, sessionOut({ sms_check_required: true })));
  const auth = createAuth(client, session);
  expect(await auth.firstLoginSendCode('c', 'a')).toMatchObject({ phone: '139****0014' });
  expect(await auth.firstLoginVerify(' 123456 ')).toBe(SCREENS.password);
  expect(wx.requests[1].data).toEqual({ code: '123456' });
  expect(await auth.chooseUnit(6)).toBe(SCREENS.chat);
  expect(await auth.sessions()).toEqual([{ id: 's1', current: true }]);
  await auth.logout(); // no logout route here (404): the phone forgets the session anyway
  expect(wx.requests[wx.requests.length - 1].url).toBe('http://api.test/api/auth/logout');
  expect(session.loggedIn()).toBe(false);
});

test('a forced password change or SMS check the server took counts, even when the session cannot be read back after it', async () => {
  jest.useFakeTimers();
  const busy = () => ({ statusCode: 503, data: { error: { code: 'unavailable', message: '服务器繁忙，请稍后重试', fields: {} } } });
  const { session, client } = setup({
    'POST /api/account/password': () => ({ token: 't2' }),
    'POST /api/session/first-login/verify': () => ({ statusCode: 204, data: '' }),
    'GET /api/session': busy, // a weak signal right after the change
  });
  const auth = createAuth(client, session);
  session.saveLogin(Object.assign({ token: 't1' }, sessionOut({ must_change_password: true })));
  const changed = auth.changePassword('Temp#1234', 'Newpass#2026');
  await jest.advanceTimersByTimeAsync(10000);
  await expect(changed).resolves.toBe(SCREENS.chat); // not the password screen again, whose old password is gone
  expect(session.token()).toBe('t2');

  session.saveLogin(Object.assign({ token: 't3' }, sessionOut({ sms_check_required: true, must_change_password: true })));
  const verified = auth.firstLoginVerify('123456');
  await jest.advanceTimersByTimeAsync(10000);
  await expect(verified).resolves.toBe(SCREENS.password); // the used code is not asked for again
  jest.useRealTimers();
});

test('a 401 on a signed-in call ends the local session', async () => {
  const { session, client } = setup({
    'GET /api/session': () => ({ statusCode: 401, data: { error: { code: 'session_invalid', message: '登录已过期，请重新登录', fields: {} } } }),
  });
  session.saveLogin(Object.assign({ token: 't' }, sessionOut()));
  await expect(createAuth(client, session).reloadSession()).rejects.toMatchObject({ status: 401 });
  expect(session.next()).toBe(SCREENS.login);
});

test('recovery: every step posts to its path without a token, upper-casing ID numbers and codes', async () => {
  const seen = [];
  const record = (call) => {
    seen.push([call.url.replace('http://api.test', ''), call.data, call.header.Authorization]);
    return { ticket: 'tk', phone: '139****0001', resend_after: 60, reset_ticket: 'rt', accounts: [], username: 'x', unit_name: 'y' };
  };
  const routes = {};
  [
    'password/start', 'password/send-code', 'password/verify', 'password/reset',
    'username/by-phone/send-code', 'username/by-phone/verify', 'username/by-unit/send-code', 'username/by-unit/verify',
    'unit/start', 'unit/send-code', 'unit/verify',
  ].forEach((p) => (routes[`POST /api/recovery/${p}`] = record));
  const { session, client } = setup(routes);
  session.saveLogin(Object.assign({ token: 'should-not-be-sent' }, sessionOut()));
  const r = createRecovery(client);
  await r.password.start('demo', 'c', 'a');
  await r.password.sendCode('tk', 'c', 'a');
  await r.password.verify('tk', '123456', '11010519491231002x');
  await r.password.reset('rt', 'Newpass1!');
  await r.username.byPhoneSendCode('13900000001', 'c', 'a');
  await r.username.byPhoneVerify('tk', '123456');
  await r.username.byUnitSendCode({ orgCode: 'ab', name: '王', idNumber: 'x', phone: 'p', captchaId: 'c', captchaAnswer: 'a' });
  await r.username.byUnitVerify('tk', '123456');
  await r.unit.start('91x', 'c', 'a');
  await r.unit.sendCode({ ticket: 'tk', identity: 'agent', name: 'n', idNumber: 'i', newAgentName: 'm', newAgentPhone: 'p', captchaId: 'c', captchaAnswer: 'a' });
  await r.unit.verify('tk', '123456');
  expect(seen.every((s) => s[2] === undefined)).toBe(true);
  expect(seen[2][1]).toEqual({ ticket: 'tk', code: '123456', id_number: '11010519491231002X' });
  expect(seen[6][1]).toEqual({ name: '王', id_number: 'X', phone: 'p', captcha_id: 'c', captcha_answer: 'a', org_code: 'AB' });
  expect(seen[8][1].credit_code).toBe('91X');
  expect(seen[9][1]).toMatchObject({ identity: 'agent', new_agent_name: 'm', new_agent_phone: 'p' });
});

test('reviews: one multipart request; a resend with the same key sends the same bytes', async () => {
  const { wx, client } = setup({ 'POST /api/reviews': () => ({ statusCode: 202, data: { message: '已提交' } }) });
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]).buffer;
  const fs = { readFileSync: () => png };
  const reviews = createReviews(client, fs);
  const form = { kind: 'password', name: '王五', id_number: '11010519491231002X', phone: '13900000001', username: 'demo', statement: '忘了', captcha_id: 'c', captcha_answer: 'a', credit_code: '' };
  await expect(reviews.submit(form, [{ path: '/tmp/a', size: 11 }], 'key-12345678')).resolves.toEqual({ message: '已提交' });
  await reviews.submit(form, [{ path: '/tmp/a', size: 11 }], 'key-12345678');
  const [a, b] = wx.requests;
  expect(a.header['Idempotency-Key']).toBe('key-12345678');
  expect(a.header['Content-Type']).toBe('multipart/form-data; boundary=----cwtkey12345678');
  expect(a.header.Authorization).toBeUndefined();
  expect(a.timeout).toBe(60000);
  expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
  const body = Buffer.from(a.data).toString('utf8');
  expect(body).toContain('name="statement"\r\n\r\n忘了');
  expect(body).not.toContain('credit_code');
  expect(() => reviews.submit(form, [], 'k')).toThrow(/1 到 3/);
});

test('wechat: bound -> session; not bound -> a bind ticket; no route yet -> unavailable', async () => {
  let answer = () => Object.assign({ token: 'wt' }, sessionOut());
  const { wx, session, client } = setup({ 'POST /api/wechat/login': () => answer() });
  const wechat = createWechat(client, session, wx);
  expect(await wechat.loginWithWechat()).toEqual({ status: 'logged_in', next: SCREENS.chat });
  expect(wx.requests[0].data).toEqual({ code: 'wx-code-1' });
  expect(session.token()).toBe('wt');
  answer = () => ({ wechat_bind_ticket: 'bt-1', message: '首次使用微信登录' });
  expect(await wechat.loginWithWechat()).toEqual({ status: 'bind_required', ticket: 'bt-1', message: '首次使用微信登录' });
  answer = () => ({ statusCode: 404, data: { error: { code: 'not_found', message: '不存在', fields: {} } } });
  expect(await wechat.loginWithWechat()).toEqual({ status: 'unavailable', message: '该功能暂未开放' });
  wx.login = (o) => o.fail({ errMsg: 'login:fail' });
  expect(await wechat.loginWithWechat()).toEqual({ status: 'failed', message: '微信登录失败，请稍后重试' });
});

test('profile: cached at once (offline) then fresh; scoped to the account', async () => {
  let name = '贾红';
  const { session, client, cache } = setup({ 'GET /api/profile': () => ({ name }), 'PATCH /api/profile': (c) => c.data });
  session.saveLogin(Object.assign({ token: 't' }, sessionOut()));
  const profile = createProfile(client, cache, session);
  await profile.load();
  name = '贾红红';
  const shown = [];
  await profile.load((s) => shown.push([s.value.name, s.offline]));
  expect(shown).toEqual([
    ['贾红', true],
    ['贾红红', false],
  ]);
  await expect(profile.update({ email: 'a@b.cn' })).resolves.toEqual({ email: 'a@b.cn' });
});

test('profile: own sessions ended and the WeChat unbound with the screen\'s key; the binding read once', async () => {
  const { wx, session, client, cache } = setup({
    'DELETE /api/sessions/s%201': () => ({ statusCode: 204, data: '' }),
    'GET /api/wechat/binding': () => ({ bound: true, bound_at: '2026-11-20T08:30:00+08:00' }),
    'DELETE /api/wechat/binding': () => ({ statusCode: 204, data: '' }),
  });
  session.saveLogin(Object.assign({ token: 't' }, sessionOut()));
  const profile = createProfile(client, cache, session);
  await profile.endSession('s 1', 'key-end-0001');
  await expect(profile.wechatBinding()).resolves.toMatchObject({ bound: true });
  await profile.unbindWechat('key-wx-00001');
  expect(wx.requests.map((r) => [r.method, r.url.replace('http://api.test', ''), r.header['Idempotency-Key']])).toEqual([
    ['DELETE', '/api/sessions/s%201', 'key-end-0001'],
    ['GET', '/api/wechat/binding', undefined],
    ['DELETE', '/api/wechat/binding', 'key-wx-00001'],
  ]);
});

test('chat api normalises the reply; the view marks offline answers and failed sends', async () => {
  const { wx, client } = setup({ 'POST /api/chat': () => ({ blocks: [{ type: 'notice', level: 'info', text: '没有更多了。' }], suggestions: [] }) });
  const chat = createChatApi(client);
  const reply = await chat.send({ action: { intent: 'x', params: {} } }, 'key-abcdefgh');
  expect(wx.requests[0].data).toEqual({ action: { intent: 'x', params: {} } });
  expect(wx.requests[0].header['Idempotency-Key']).toBe('key-abcdefgh');
  expect(reply.blocks[0]).toMatchObject({ type: 'notice', text: '没有更多了。' });
  const now = new Date(2026, 10, 22, 21, 0).getTime();
  const rows = view(
    [
      { id: 'u1', role: 'user', text: '汇总', time: now, status: 'failed', error: '网络不给力' },
      { id: 'u2', role: 'user', text: '帮助', time: now, status: 'sending' },
      { id: 'a1', role: 'assistant', blocks: [], time: now, offline: true, cachedAt: new Date(2026, 10, 22, 8, 5).getTime() },
    ],
    now,
    false
  );
  expect(rows[0]).toMatchObject({ content: [{ type: 'text', data: '汇总' }], statusText: '网络不给力（点击重发）' });
  expect(rows[1].statusText).toBe('等待网络…');
  expect(rows[2]).toMatchObject({ offline: true, offlineText: '离线 · 上次结果 11-22 08:05' });
});

test('wechat: only a missing route or WeChat login off hides it; busy, unreachable or a timeout say why', async () => {
  const refuse = (statusCode, code, message) => () => ({ statusCode, data: { error: { code, message, fields: {} } } });
  let answer;
  const { wx, session, client } = setup({ 'POST /api/wechat/login': () => answer() });
  const wechat = createWechat(client, session, wx);
  answer = refuse(503, 'wechat_busy', '微信服务繁忙，请稍后再试');
  expect(await wechat.loginWithWechat()).toEqual({ status: 'failed', message: '微信服务繁忙，请稍后再试' });
  answer = refuse(502, 'wechat_unavailable', '暂时无法连接微信服务，请稍后再试或使用账号密码登录');
  expect(await wechat.loginWithWechat()).toEqual({ status: 'failed', message: '暂时无法连接微信服务，请稍后再试或使用账号密码登录' });
  answer = refuse(503, 'wechat_disabled', '本系统未开通微信登录，请使用账号密码登录');
  expect(await wechat.loginWithWechat()).toEqual({ status: 'unavailable', message: '本系统未开通微信登录，请使用账号密码登录' });
  answer = refuse(503, 'wechat_misconfigured', '微信登录暂不可用，请使用账号密码登录');
  expect((await wechat.loginWithWechat()).status).toBe('unavailable');
  answer = () => ({ statusCode: 405, data: '' });
  expect(await wechat.loginWithWechat()).toEqual({ status: 'unavailable', message: '该功能暂未开放' });
  wx.respond(() => ({ fail: 'timeout' }));
  expect(await wechat.loginWithWechat()).toEqual({ status: 'failed', message: '网络超时，请稍后重试' });
});

test('wechat: the SMS login code request carries no empty bind ticket', async () => {
  const { wx, session, client } = setup({ 'POST /api/wechat/sms-login/send-code': () => ({ phone: '139****0001', resend_after: 60 }) });
  const wechat = createWechat(client, session, wx);
  await wechat.smsSendCode('13900000001', 'c', 'a', '');
  await wechat.smsSendCode('13900000001', 'c', 'a', 'bt-1');
  expect(wx.requests.map((r) => r.data)).toEqual([
    { phone: '13900000001', captcha_id: 'c', captcha_answer: 'a' },
    { phone: '13900000001', captcha_id: 'c', captcha_answer: 'a', wechat_bind_ticket: 'bt-1' },
  ]);
});
