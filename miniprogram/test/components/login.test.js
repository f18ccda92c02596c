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
  const page = mount('pages/login/index');
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
  expect(navigations()).toEqual(['reLaunch /pages/login/password']);
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
  const page = mount('pages/login/index');
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
  const page = mount('pages/login/index');
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
  const again = mount('pages/login/index');
  await settle();
  tapButton(again.querySelector('.wechat-login'));
  await settle(10);
  expect(navigations()).toEqual(['reLaunch /pages/chat/index', 'reLaunch /pages/chat/index']);

  global.wx.removeStorageSync('cwt:session');
  install({ 'GET /api/auth/captcha': () => CAPTCHA }); // this server has no WeChat login (404)
  const none = mount('pages/login/index');
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
  const page = mount('pages/login/password');
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
  expect(navigations()).toEqual(['reLaunch /pages/login/password']);
});

test('first-login SMS check: captcha, code to the bound phone, verify, then the password change', async () => {
  signIn({ sms_check_required: true, must_change_password: true });
  const calls = install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/session/first-login/send-code': () => ({ phone: '139****0014', resend_after: 60, expires_in: 300 }),
    'POST /api/session/first-login/verify': () => ({ status: 204 }),
    'GET /api/session': () => Object.assign({}, SESSION, { must_change_password: true }),
  });
  const page = mount('pages/login/sms-check');
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
  expect(navigations()).toEqual(['reLaunch /pages/login/password']);
});

test('unit choice lists the units with roles and chooses one', async () => {
  const other = { id: 15, unit_id: 11, unit_name: '张家冲村', role: 'clerk', role_label: '录入员', finance_access: 'none' };
  signIn({ unit: null, units: [UNIT, other] });
  const calls = install({
    'GET /api/session': () => Object.assign({}, SESSION, { unit: null, units: [UNIT, other] }),
    'POST /api/session/unit': () => Object.assign({}, SESSION, { unit: other, units: [UNIT, other] }),
  });
  const page = mount('pages/unit/index');
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
