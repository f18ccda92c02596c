const { createFakeWx } = require('../support/fake-wx');
const { createStorage } = require('../../utils/storage');
const { createSession, nextScreen, SCREENS } = require('../../services/session');

const unit = { id: 6, unit_id: 4, unit_name: '白沙镇', role: 'admin', role_label: '管理员' };
const base = { account_id: 6, username: 'u', name: '贾红', must_change_password: false, sms_check_required: false, unit, units: [unit] };

test('the next screen follows the server: SMS check, then password change, then unit choice, then chat', () => {
  expect(nextScreen('', base)).toBe(SCREENS.login);
  expect(nextScreen('t', null)).toBe(SCREENS.login);
  expect(nextScreen('t', Object.assign({}, base, { sms_check_required: true, must_change_password: true }))).toBe(SCREENS.smsCheck);
  expect(nextScreen('t', Object.assign({}, base, { must_change_password: true }))).toBe(SCREENS.password);
  expect(nextScreen('t', Object.assign({}, base, { unit: null, units: [unit, unit] }))).toBe(SCREENS.unit);
  expect(nextScreen('t', Object.assign({}, base, { unit: null, units: [] }))).toBe(SCREENS.unit);
  expect(nextScreen('t', base)).toBe(SCREENS.chat);
});

test('login, token rotation and session info survive a restart; clear forgets them', () => {
  const wx = createFakeWx();
  const session = createSession(createStorage(wx));
  const seen = [];
  session.onChange((s) => seen.push(!!s.token));
  session.saveLogin(Object.assign({ token: 'tok-1', expires_in: 1800, extra: 'x' }, base));
  expect(session.info()).toEqual(base);
  expect(session.scope()).toBe('6:6');
  session.setToken('tok-2');
  const restarted = createSession(createStorage(wx));
  expect(restarted.token()).toBe('tok-2');
  expect(restarted.next()).toBe(SCREENS.chat);
  restarted.setInfo(Object.assign({}, base, { unit: null }));
  expect(restarted.scope()).toBe('6:-');
  restarted.clear();
  expect(createSession(createStorage(wx)).loggedIn()).toBe(false);
  expect(createSession(createStorage(wx)).scope()).toBe('anon');
  expect(seen).toEqual([true, true]);
});
