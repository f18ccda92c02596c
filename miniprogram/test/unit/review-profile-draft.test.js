/**
 * @jest-environment jsdom
 */
/**
 * The own-profile form when the session ends mid-edit (a 401 on "保存"): the app goes to the
 * login screen, and after logging in again the profile page shows what was typed, not the
 * server's old values. Saved, or after "退出登录", nothing is kept.
 */
require('../support/simulate-setup');
const { mount, settle, text } = require('../support/simulate');
const { install } = require('../support/fake-server');
const { signIn } = require('../support/fixtures');

const PROFILE = { username: 'demo_town_admin', name: '贾红', id_type: 'resident_id', id_number: '5301**********0006', email: 'old@example.cn' };
const EXPIRED = { status: 401, body: { error: { code: 'session_invalid', message: '登录已过期，请重新登录', fields: {} } } };
const tapButton = (node) => node.querySelector('.t-button').dispatchEvent('tap');

function typeInto(page, field, value) {
  page.instance.onField({ currentTarget: { dataset: { field } }, detail: { value } });
}

async function editedThenExpired() {
  signIn();
  install({ 'GET /api/profile': () => PROFILE, 'PATCH /api/profile': () => EXPIRED });
  const page = mount('packageAccount/pages/profile/index');
  await settle(10);
  typeInto(page, 'name', '贾红梅');
  typeInto(page, 'email', 'new@example.cn');
  page.instance.onIdType({ detail: { value: '1' } });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(global.wx.getStorageSync('cwt:session')).toBe(''); // the 401 ended the session
  page.detach(); // the app relaunches to the login screen
}

test('profile edits survive a session that ends on "保存": after logging in again the form holds them', async () => {
  await editedThenExpired();
  signIn(); // logged in again
  const calls = install({ 'GET /api/profile': () => PROFILE, 'PATCH /api/profile': (body) => Object.assign({}, PROFILE, body) });
  const page = mount('packageAccount/pages/profile/index');
  await settle(10);
  expect(page.instance.data).toMatchObject({ name: '贾红梅', email: 'new@example.cn', idTypeIndex: 1 });
  expect(text(page.querySelector('.restored'))).toBe('上次未保存的修改已填回，请核对后点“保存”');
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(calls.find((c) => c.key === 'PATCH /api/profile').data).toEqual({ name: '贾红梅', email: 'new@example.cn', id_type: 'passport' });
  page.detach();

  const again = mount('packageAccount/pages/profile/index'); // saved: the server's profile from now on
  await settle(10);
  expect(again.instance.data).toMatchObject({ name: '贾红', email: 'old@example.cn', idTypeIndex: 0 });
  expect(again.querySelector('.restored')).toBeFalsy();
});

test('profile edits kept for a new login are not kept after "退出登录", nor shown to another account', async () => {
  await editedThenExpired();
  signIn({ account_id: 9, name: '李四' }); // another cadre on this phone
  install({ 'GET /api/profile': () => PROFILE });
  const other = mount('packageAccount/pages/profile/index');
  await settle(10);
  expect(other.instance.data).toMatchObject({ name: '贾红', email: 'old@example.cn' });
  other.detach();

  signIn();
  install({ 'GET /api/profile': () => PROFILE, 'POST /api/auth/logout': () => ({ status: 204 }) });
  const { services } = require('../../services/index');
  await services().signOut();
  signIn();
  const page = mount('packageAccount/pages/profile/index');
  await settle(10);
  expect(page.instance.data).toMatchObject({ name: '贾红', email: 'old@example.cn' });
});

test('kept profile edits that are not the form\'s (damaged storage) are ignored', async () => {
  signIn();
  global.wx.setStorageSync('cwt:cache:profile-draft:6', { value: { name: '贾红梅', idTypeIndex: 9, busy: true, email: 5 }, time: 1 });
  global.wx.setStorageSync('cwt:cache-index', ['profile-draft:6']);
  install({ 'GET /api/profile': () => PROFILE });
  const page = mount('packageAccount/pages/profile/index');
  await settle(10);
  expect(page.instance.data).toMatchObject({ name: '贾红梅', idTypeIndex: 0, busy: false, email: 'old@example.cn' });
});
