/**
 * @jest-environment jsdom
 */
/**
 * P16 in "我的": logging in by the bound phone switched on or off by the account itself, through
 * PUT /api/profile/phone-login; the server's refusal (one phone, one account) is shown as it says.
 */
require('../support/simulate-setup');
const { mount, settle, text } = require('../support/simulate');
const { install } = require('../support/fake-server');
const { signIn } = require('../support/fixtures');

const toastText = (page) => page.querySelector('#t-toast').instance.data.message;
const PROFILE = { name: '贾红', phone: '139****0001', phone_login: true, realname_level: 'medium', needs_activation: false, card: null };
const TAKEN = {
  status: 409,
  body: { error: { code: 'phone_login_taken', message: '这个手机号已用于登录另一个账号；一个手机号只能登录一个账号，请先在那个账号关闭手机号登录', fields: {} } },
};

async function tapSwitch(page) {
  page.querySelector('.phone-login').instance.triggerEvent('click');
  await settle();
  page.querySelector('#t-dialog').instance._onConfirm();
  await settle(10);
}

test('the switch shows the state, turns phone login off and on, and says so', async () => {
  signIn();
  let profile = PROFILE;
  const calls = install({
    'GET /api/profile': () => profile,
    'PUT /api/profile/phone-login': (body) => {
      profile = Object.assign({}, profile, { phone_login: body.enabled });
      return profile;
    },
  });
  const page = mount('packageAccount/pages/index/index');
  await settle(10);
  const cell = () => page.querySelector('.phone-login').instance.data;
  expect(cell().note).toBe('已开启');
  await tapSwitch(page);
  expect(calls.filter((c) => c.key === 'PUT /api/profile/phone-login').map((c) => c.data)).toEqual([{ enabled: false }]);
  expect(cell().note).toBe('未开启');
  expect(toastText(page)).toBe('已关闭手机号登录');
  await tapSwitch(page);
  expect(cell().note).toBe('已开启');
  expect(toastText(page)).toBe('已开启手机号登录');
});

test('a phone that logs in to another account is refused with the server\'s message, the state unchanged', async () => {
  signIn();
  install({ 'GET /api/profile': () => Object.assign({}, PROFILE, { phone_login: false }), 'PUT /api/profile/phone-login': () => TAKEN });
  const page = mount('packageAccount/pages/index/index');
  await settle(10);
  await tapSwitch(page);
  expect(toastText(page)).toMatch(/一个手机号只能登录一个账号/);
  expect(page.querySelector('.phone-login').instance.data.note).toBe('未开启');
});

test('an account with no bound phone has no switch', async () => {
  signIn();
  install({ 'GET /api/profile': () => Object.assign({}, PROFILE, { phone: null, phone_login: false }) });
  const page = mount('packageAccount/pages/index/index');
  await settle(10);
  expect(page.querySelector('.phone-login')).toBeFalsy();
  expect(text(page.querySelector('.group'))).toMatch(/未绑定/);
});
