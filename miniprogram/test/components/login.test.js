/** Login, the first-login SMS check, the forced password change and unit choice, as screens. */
const { mount, settle, text } = require('../support/simulate');
const { install, CAPTCHA } = require('../support/fake-server');
const { signIn, SESSION, UNIT } = require('../support/fixtures');

const navigations = () => global.__navigations.map((n) => `${n.name} ${n.url}`);
const tapButton = (node) => node.querySelector('.t-button').dispatchEvent('tap'); // the button inside t-button

test('password login: captcha from the server, the answer and the fields go out, then the next screen', async () => {
  const calls = install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/auth/login': () => Object.assign({ token: 'new' }, SESSION, { must_change_password: true }),
  });
  const page = mount('packageLogin/pages/login/index');
  await settle();
  const captcha = page.querySelector('#captcha');
  expect(captcha.instance.data).toMatchObject({ captchaId: 'cap-1', image: CAPTCHA.image });
  page.querySelector('.submit-password').querySelector('.t-button').dispatchEvent('tap');
  await settle();
  expect(page.instance.data.errors).toMatchObject({ login: '请填写', password: '请填写', captcha_answer: '请输入图形验证码' });
  expect(text(page)).toContain('请输入图形验证码');
  page.instance.onField({ currentTarget: { dataset: { field: 'login' } }, detail: { value: 'demo_newcomer' } });
  page.instance.onField({ currentTarget: { dataset: { field: 'password' } }, detail: { value: 'Temp#1234' } });
  captcha.querySelector('.input').instance.triggerEvent('change', { value: ' ab12 ' });
  await settle();
  tapButton(page.querySelector('.submit-password'));
  await settle(10);
  const login = calls.find((c) => c.key === 'POST /api/auth/login');
  expect(login.data).toEqual({ login: 'demo_newcomer', password: 'Temp#1234', captcha_id: 'cap-1', captcha_answer: 'ab12' });
  expect(login.header['Idempotency-Key']).toBeTruthy();
  expect(navigations()).toEqual(['reLaunch /packageLogin/pages/login/password']);
  expect(global.wx.getStorageSync('cwt:session').token).toBe('new');
});

test('a refused login shows the server message on the field and brings a new captcha', async () => {
  let captchas = 0;
  install({
    'GET /api/auth/captcha': () => Object.assign({}, CAPTCHA, { captcha_id: `cap-${(captchas += 1)}` }),
    'POST /api/auth/login': () => ({
      status: 400,
      body: { error: { code: 'captcha_invalid', message: '图形验证码不正确或已过期，请刷新后重试', fields: { captcha_answer: '图形验证码不正确或已过期，请刷新后重试' } } },
    }),
  });
  const page = mount('packageLogin/pages/login/index');
  await settle();
  page.setData({ login: 'a', password: 'b' });
  page.querySelector('#captcha').querySelector('.input').instance.triggerEvent('change', { value: 'zzzz' });
  tapButton(page.querySelector('.submit-password'));
  await settle(10);
  expect(text(page)).toContain('图形验证码不正确或已过期，请刷新后重试');
  expect(page.querySelector('#captcha').instance.data.captchaId).toBe('cap-2');
  expect(global.__navigations).toHaveLength(0);
});

test('WeChat one-tap: bound -> in; not bound -> hint, and the next password login binds; no route -> button hidden', async () => {
  let wechat = () => ({ wechat_bind_ticket: 'bt-9', message: '首次使用微信登录，请用账号密码或手机验证码登录一次，以绑定这个微信' });
  const calls = install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/wechat/login': () => wechat(),
    'POST /api/auth/login': () => Object.assign({ token: 't', wechat_bound: true }, SESSION),
  });
  global.wx.login = (o) => o.success({ code: 'code-1' });
  const page = mount('packageLogin/pages/login/index');
  await settle();
  tapButton(page.querySelector('.wechat-login'));
  await settle(10);
  expect(text(page.querySelector('.bind-hint'))).toContain('首次使用微信登录');
  page.setData({ login: 'demo_town_admin', password: 'pw' });
  page.querySelector('#captcha').querySelector('.input').instance.triggerEvent('change', { value: 'ab12' });
  tapButton(page.querySelector('.submit-password'));
  await settle(10);
  expect(calls.find((c) => c.key === 'POST /api/auth/login').data.wechat_bind_ticket).toBe('bt-9');
  expect(navigations()).toEqual(['reLaunch /pages/chat/index']);

  wechat = () => Object.assign({ token: 'wx-token' }, SESSION);
  global.wx.removeStorageSync('cwt:session'); // logged out again
  const again = mount('packageLogin/pages/login/index');
  await settle();
  tapButton(again.querySelector('.wechat-login'));
  await settle(10);
  expect(navigations()).toEqual(['reLaunch /pages/chat/index', 'reLaunch /pages/chat/index']);

  global.wx.removeStorageSync('cwt:session');
  install({ 'GET /api/auth/captcha': () => CAPTCHA }); // this server has no WeChat login (404)
  const none = mount('packageLogin/pages/login/index');
  await settle();
  tapButton(none.querySelector('.wechat-login'));
  await settle(10);
  expect(none.querySelector('.wechat-login')).toBeFalsy();
});

test('the forced password change checks the policy on the phone, then goes on with the new token', async () => {
  signIn({ must_change_password: true });
  const calls = install({
    'POST /api/account/password': () => ({ token: 'tok-2' }),
    'GET /api/session': () => SESSION,
  });
  const page = mount('packageLogin/pages/login/password');
  await settle();
  expect(global.__navigations).toHaveLength(0); // this is the screen the session requires
  page.setData({ oldPassword: 'Temp#1234', newPassword: 'abcdefgh', confirm: 'abcdefgh' });
  tapButton(page.querySelector('.submit'));
  await settle();
  expect(text(page)).toContain('至少三种');
  page.setData({ newPassword: 'Newpass#2026', confirm: 'Newpass#2026' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(calls.find((c) => c.key === 'POST /api/account/password').data).toEqual({ old_password: 'Temp#1234', new_password: 'Newpass#2026' });
  expect(calls.find((c) => c.key === 'GET /api/session').header.Authorization).toBe('Bearer tok-2');
  expect(navigations()).toEqual(['reLaunch /pages/chat/index']);
});

test('the forced change is the only screen: the chat sends a must-change session back to it', async () => {
  signIn({ must_change_password: true });
  install({});
  mount('pages/chat/index');
  await settle();
  expect(navigations()).toEqual(['reLaunch /packageLogin/pages/login/password']);
});

test('first-login SMS check: captcha, code to the bound phone, verify, then the password change', async () => {
  signIn({ sms_check_required: true, must_change_password: true });
  const calls = install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/session/first-login/send-code': () => ({ phone: '139****0014', resend_after: 60, expires_in: 300 }),
    'POST /api/session/first-login/verify': () => ({ status: 204 }),
    'GET /api/session': () => Object.assign({}, SESSION, { must_change_password: true }),
  });
  const page = mount('packageLogin/pages/login/sms-check');
  await settle();
  page.querySelector('#captcha').querySelector('.input').instance.triggerEvent('change', { value: 'ab12' });
  tapButton(page.querySelector('#codeButton').querySelector('.btn'));
  await settle(10);
  expect(calls.find((c) => c.key === 'POST /api/session/first-login/send-code').data).toEqual({ captcha_id: 'cap-1', captcha_answer: 'ab12' });
  expect(text(page)).toContain('139****0014');
  expect(page.querySelector('#codeButton').instance.data.left).toBe(60);
  page.setData({ code: '123456' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(navigations()).toEqual(['reLaunch /packageLogin/pages/login/password']);
});

test('unit choice lists the units with roles and chooses one', async () => {
  const other = { id: 15, unit_id: 11, unit_name: '张家冲村', role: 'clerk', role_label: '录入员', finance_access: 'none' };
  signIn({ unit: null, units: [UNIT, other] });
  const calls = install({
    'GET /api/session': () => Object.assign({}, SESSION, { unit: null, units: [UNIT, other] }),
    'POST /api/session/unit': () => Object.assign({}, SESSION, { unit: other, units: [UNIT, other] }),
  });
  const page = mount('packageLogin/pages/unit/index');
  await settle(10);
  const cells = page.querySelectorAll('.unit-cell');
  expect(cells.map((c) => [c.instance.data.title, c.instance.data.description])).toEqual([
    ['白沙镇', '管理员'],
    ['张家冲村', '录入员'],
  ]);
  cells[1].instance.triggerEvent('click');
  await settle(10);
  expect(calls.find((c) => c.key === 'POST /api/session/unit').data).toEqual({ membership_id: 15 });
  expect(navigations()).toEqual(['reLaunch /pages/chat/index']);
});

const toastText = (page) => page.querySelector('#t-toast').instance.data.message;
const BIND = { status: 'bind_required', bind_ticket: 'bt-9', expires_in: 600, message: '首次使用微信登录，请用账号密码或手机验证码登录一次，以绑定这个微信' };

async function passwordLogin(page) {
  page.setData({ login: 'demo_town_admin', password: 'pw' });
  page.querySelector('#captcha').querySelector('.input').instance.triggerEvent('change', { value: 'ab12' });
  tapButton(page.querySelector('.submit-password'));
  await settle(10);
}

test.each([
  [410, 'ticket_invalid', '操作已过期或无效，请从头开始'],
  [409, 'wechat_account_bound', '该账号已绑定其他微信，请先用账号密码登录并在“我的”中解除绑定'],
  [409, 'wechat_identity_bound', '这个微信已绑定其他账号，请先登录那个账号并解除绑定'],
])('a bind ticket the server refuses (%i %s) is dropped: its message shows, the next password login goes without it', async (status, code, message) => {
  let refused = true;
  const calls = install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/wechat/login': () => BIND,
    'POST /api/auth/login': () => (refused ? { status, body: { error: { code, message, fields: {} } } } : Object.assign({ token: 't' }, SESSION)),
  });
  global.wx.login = (o) => o.success({ code: 'code-1' });
  const page = mount('packageLogin/pages/login/index');
  await settle();
  tapButton(page.querySelector('.wechat-login'));
  await settle(10);
  await passwordLogin(page);
  expect(toastText(page)).toBe(message);
  expect(page.querySelector('.bind-hint')).toBeFalsy();
  refused = false;
  await passwordLogin(page);
  const logins = calls.filter((c) => c.key === 'POST /api/auth/login').map((c) => c.data.wechat_bind_ticket);
  expect(logins).toEqual(['bt-9', undefined]);
  expect(navigations()).toEqual(['reLaunch /pages/chat/index']);
});

test('the SMS login without a ticket runs the WeChat login first and sends its ticket with the code and the login', async () => {
  const calls = install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/wechat/login': () => BIND,
    'POST /api/wechat/sms-login/send-code': () => ({ phone: '139****0001', resend_after: 60, expires_in: 300 }),
    'POST /api/wechat/sms-login': () => Object.assign({ token: 't', wechat_bound: true }, SESSION),
  });
  global.wx.login = (o) => o.success({ code: 'code-1' });
  const page = mount('packageLogin/pages/login/index');
  await settle();
  page.querySelector('.mode-sms').dispatchEvent('tap');
  await settle(10);
  expect(page.instance.data.mode).toBe('sms');
  expect(text(page.querySelector('.bind-hint'))).toContain('首次使用微信登录');
  page.setData({ phone: '13900000001' });
  page.querySelector('#captcha').querySelector('.input').instance.triggerEvent('change', { value: 'ab12' });
  tapButton(page.querySelector('#codeButton').querySelector('.btn'));
  await settle(10);
  page.setData({ code: '123456' });
  tapButton(page.querySelector('.submit-sms'));
  await settle(10);
  expect(calls.filter((c) => c.key.startsWith('POST')).map((c) => [c.key, c.data.wechat_bind_ticket])).toEqual([
    ['POST /api/wechat/login', undefined],
    ['POST /api/wechat/sms-login/send-code', 'bt-9'],
    ['POST /api/wechat/sms-login', 'bt-9'],
  ]);
  expect(navigations()).toEqual(['reLaunch /pages/chat/index']);
});

test('the SMS tab: a bound WeChat logs in at once; a server without WeChat login hides it with the one-tap button', async () => {
  install({ 'GET /api/auth/captcha': () => CAPTCHA, 'POST /api/wechat/login': () => Object.assign({ token: 'wx-token' }, SESSION) });
  global.wx.login = (o) => o.success({ code: 'code-1' });
  const bound = mount('packageLogin/pages/login/index');
  await settle();
  bound.querySelector('.mode-sms').dispatchEvent('tap');
  await settle(10);
  expect(navigations()).toEqual(['reLaunch /pages/chat/index']);

  global.wx.removeStorageSync('cwt:session');
  const calls = install({ 'GET /api/auth/captcha': () => CAPTCHA }); // no WeChat login here (404)
  const none = mount('packageLogin/pages/login/index');
  await settle();
  none.querySelector('.mode-sms').dispatchEvent('tap');
  await settle(10);
  expect(none.instance.data.mode).toBe('password');
  expect(none.querySelector('.mode-sms')).toBeFalsy();
  expect(none.querySelector('.wechat-login')).toBeFalsy();
  expect(calls.filter((c) => c.key.startsWith('POST /api/wechat/sms'))).toHaveLength(0);
});

test('WeChat busy, unreachable or a timeout keep the one-tap button and say why; WeChat login off hides it', async () => {
  let answer = () => ({ status: 503, body: { error: { code: 'wechat_busy', message: '微信服务繁忙，请稍后再试', fields: {} } } });
  install({ 'GET /api/auth/captcha': () => CAPTCHA, 'POST /api/wechat/login': () => answer() });
  global.wx.login = (o) => o.success({ code: 'code-1' });
  const page = mount('packageLogin/pages/login/index');
  await settle();
  tapButton(page.querySelector('.wechat-login'));
  await settle(10);
  expect(toastText(page)).toBe('微信服务繁忙，请稍后再试');
  expect(page.querySelector('.wechat-login')).toBeTruthy();
  expect(page.querySelector('.mode-sms')).toBeTruthy();

  answer = () => ({ status: 502, body: { error: { code: 'wechat_unavailable', message: '暂时无法连接微信服务，请稍后再试或使用账号密码登录', fields: {} } } });
  tapButton(page.querySelector('.wechat-login'));
  await settle(10);
  expect(toastText(page)).toBe('暂时无法连接微信服务，请稍后再试或使用账号密码登录');
  expect(page.querySelector('.wechat-login')).toBeTruthy();

  answer = () => ({ status: 503, body: { error: { code: 'wechat_disabled', message: '本系统未开通微信登录，请使用账号密码登录', fields: {} } } });
  tapButton(page.querySelector('.wechat-login'));
  await settle(10);
  expect(toastText(page)).toBe('本系统未开通微信登录，请使用账号密码登录');
  expect(page.querySelector('.wechat-login')).toBeFalsy();
  expect(page.querySelector('.mode-sms')).toBeFalsy();
});

test('a refused code request makes "获取验证码" ready again', async () => {
  signIn({ sms_check_required: true });
  let refuse = true;
  const calls = install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/session/first-login/send-code': () =>
      refuse
        ? { status: 400, body: { error: { code: 'captcha_invalid', message: '图形验证码不正确或已过期，请刷新后重试', fields: {} } } }
        : { phone: '139****0014', resend_after: 60, expires_in: 300 },
  });
  const page = mount('packageLogin/pages/login/sms-check');
  await settle();
  const button = () => page.querySelector('#codeButton').querySelector('.btn');
  tapButton(button()); // no captcha answer yet: nothing is sent
  await settle(10);
  expect(button().instance.data.disabled).toBe(false);
  page.querySelector('#captcha').querySelector('.input').instance.triggerEvent('change', { value: 'zz99' });
  tapButton(button());
  tapButton(button()); // a double tap
  await settle(10);
  expect(calls.filter((c) => c.key === 'POST /api/session/first-login/send-code')).toHaveLength(1);
  expect(button().instance.data.disabled).toBe(false);
  refuse = false;
  page.querySelector('#captcha').querySelector('.input').instance.triggerEvent('change', { value: 'ab12' });
  tapButton(button());
  await settle(10);
  expect(calls.filter((c) => c.key === 'POST /api/session/first-login/send-code')).toHaveLength(2);
  expect(page.querySelector('#codeButton').instance.data.left).toBe(60);
});

test('a session the server ended mid-chat: the app goes to the login screen, which says why', async () => {
  signIn();
  install({
    'GET /api/session': () => SESSION,
    'POST /api/chat': () => ({ status: 401, body: { error: { code: 'session_invalid', message: '登录已过期，请重新登录', fields: {} } } }),
    'GET /api/auth/captcha': () => CAPTCHA,
  });
  const chat = mount('pages/chat/index');
  let app = null;
  global.App = (options) => (app = options);
  require('../../app'); // the app of the chat's module registry (what WeChat starts first)
  app.onLaunch();
  await settle();
  chat.querySelector('#replies').querySelectorAll('.chip')[2].dispatchEvent('tap');
  await settle(10);
  expect(navigations()).toEqual(['reLaunch /packageLogin/pages/login/index?expired=1']);
  const page = mount('packageLogin/pages/login/index', {}, { expired: '1' });
  await settle();
  expect(text(page.querySelector('.login-notice'))).toBe('登录已过期，请重新登录');
  expect(text(mount('packageLogin/pages/login/index')).indexOf('登录已过期')).toBe(-1); // an ordinary visit says nothing
  delete global.App;
});

test.each([
  ['packageLogin/pages/unit/index', { unit: null }],
  ['packageLogin/pages/login/password', { must_change_password: true }],
  ['packageLogin/pages/login/sms-check', { sms_check_required: true }],
])('"退出登录" on %s clears this account\'s conversation, input and cached answers, like "我的 > 退出登录"', async (screen, state) => {
  signIn(state);
  global.wx.setStorageSync('cwt:history:6', [{ id: 'm1', role: 'user', text: '430102199001011234' }]);
  global.wx.setStorageSync('cwt:draft:6', '王家湾村');
  global.wx.setStorageSync('cwt:cache:chat:6:6:汇总', { value: { blocks: [] }, time: 1 });
  global.wx.setStorageSync('cwt:cache-index', ['chat:6:6:汇总']);
  install({
    'GET /api/session': () => Object.assign({}, SESSION, state),
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/auth/logout': () => ({ status: 204 }),
  });
  const page = mount(screen);
  await settle(10);
  page.querySelector('.logout').dispatchEvent('tap');
  await settle(10);
  expect(global.wx.getStorageSync('cwt:session')).toBe('');
  ['cwt:history:6', 'cwt:draft:6', 'cwt:cache:chat:6:6:汇总'].forEach((key) => expect(global.wx.getStorageSync(key)).toBe(''));
  expect(navigations().pop()).toBe('reLaunch /packageLogin/pages/login/index');
});

test('the SMS login: a code sent spends the captcha, so a new one is shown for the resend', async () => {
  let captchas = 0;
  const calls = install({
    'GET /api/auth/captcha': () => Object.assign({}, CAPTCHA, { captcha_id: `cap-${(captchas += 1)}` }),
    'POST /api/wechat/login': () => BIND,
    'POST /api/wechat/sms-login/send-code': () => ({ phone: '139****0001', resend_after: 60, expires_in: 300 }),
  });
  global.wx.login = (o) => o.success({ code: 'code-1' });
  const page = mount('packageLogin/pages/login/index');
  await settle();
  page.querySelector('.mode-sms').dispatchEvent('tap');
  await settle(10);
  page.setData({ phone: '13900000001' });
  page.querySelector('#captcha').querySelector('.input').instance.triggerEvent('change', { value: 'ab12' });
  tapButton(page.querySelector('#codeButton').querySelector('.btn'));
  await settle(10);
  expect(calls.find((c) => c.key === 'POST /api/wechat/sms-login/send-code').data).toMatchObject({ captcha_id: 'cap-2', captcha_answer: 'ab12' });
  expect(page.querySelector('#captcha').instance.data).toMatchObject({ captchaId: 'cap-3', answer: '' });
});

test('first-login SMS check: a check the server already took (its answer lost) goes on to the next screen, not stuck on 409 sms_check_not_needed', async () => {
  signIn({ sms_check_required: true, must_change_password: true });
  install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/session/first-login/verify': () => ({ status: 409, body: { error: { code: 'sms_check_not_needed', message: '无需进行首次登录短信验证', fields: {} } } }),
    'GET /api/session': () => Object.assign({}, SESSION, { must_change_password: true }),
  });
  const page = mount('packageLogin/pages/login/sms-check');
  await settle();
  page.setData({ code: '123456' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(navigations()).toEqual(['reLaunch /packageLogin/pages/login/password']);
});
