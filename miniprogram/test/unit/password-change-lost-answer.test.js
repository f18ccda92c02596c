/**
 * A password change whose answer was lost on a weak signal. The server changes the password, ends
 * every session (this one too) and answers a new token; when that answer does not arrive, the phone
 * still holds the old, dead token. The next call (the retry of "确认修改", or any later one) gets a
 * 401: the user must then be told that the NEW password may already be in force, not only that the
 * login expired (typing the old or temporary password again would be refused, and may lock the
 * account). A retry of the same change goes with the key of its first try.
 */
const { createFakeWx, createFakeApi } = require('../support/fake-wx');
const { createStorage } = require('../../utils/storage');
const { createSession } = require('../../services/session');
const { createAuth } = require('../../services/auth/index');
const { resendKey } = require('../../utils/ids');
const msg = require('../../utils/messages');

const expired = { statusCode: 401, data: { error: { code: 'session_invalid', message: '登录已过期，请重新登录', fields: {} } } };
const SESSION = { token: 'tok-old', account_id: 6, username: 'u', name: 'n', must_change_password: true, unit: null, units: [] };

/** A server that changes the password once per live session; `lose()`: the next answer is lost. */
function setup() {
  const server = { password: 'Temp#1234', tokens: new Set(['tok-old']), lost: false, keys: [] };
  const api = createFakeApi({});
  api.wx.respond((call) => {
    if (!call.url.endsWith('/api/account/password')) return call.header.Authorization === 'Bearer tok-new' ? { statusCode: 200, data: SESSION } : expired;
    server.keys.push(call.header['Idempotency-Key']);
    const token = (call.header.Authorization || '').replace('Bearer ', '');
    if (!server.tokens.has(token)) return expired;
    if (call.data.old_password !== server.password) {
      return { statusCode: 400, data: { error: { code: 'password_wrong', message: '当前密码不正确', fields: { old_password: '当前密码不正确' } } } };
    }
    server.password = call.data.new_password;
    server.tokens.clear();
    server.tokens.add('tok-new');
    if (server.lost) {
      server.lost = false;
      return { fail: 'timeout' };
    }
    return { statusCode: 200, data: { token: 'tok-new' } };
  });
  api.session.saveLogin(SESSION);
  const auth = createAuth(api.client, api.session);
  return { server, api, auth };
}

test('a retry that gets 401 after a lost answer says the new password may already be in force', async () => {
  const { server, api, auth } = setup();
  server.lost = true;
  const first = await auth.changePassword('Temp#1234', 'NewPass#2025').catch((e) => e);
  expect(first.code).toBe('timeout');
  expect(server.password).toBe('NewPass#2025'); // done on the server
  expect(api.session.passwordMaybeChanged()).toBe(true);

  const second = await auth.changePassword('Temp#1234', 'NewPass#2025').catch((e) => e);
  expect(second.status).toBe(401);
  expect(second.message).toBe(msg.PASSWORD_MAYBE_CHANGED);
  expect(api.session.token()).toBe(''); // the session is over all the same
  expect(api.session.passwordMaybeChanged()).toBe(true); // the login screen says it (see its test)
});

test('the next call after a lost answer (not the retry) gets 401: the hint survives the session ending', async () => {
  const { server, api, auth } = setup();
  server.lost = true;
  await auth.changePassword('Temp#1234', 'NewPass#2025').catch(() => null);
  await auth.reloadSession().catch(() => null); // e.g. the app opened again later
  expect(api.session.loggedIn()).toBe(false);
  expect(api.session.passwordMaybeChanged()).toBe(true);
});

test('the hint goes with the next login, and with a change whose answer came', async () => {
  const { server, api, auth } = setup();
  server.lost = true;
  await auth.changePassword('Temp#1234', 'NewPass#2025').catch(() => null);
  api.session.saveLogin(Object.assign({}, SESSION, { token: 'tok-new' })); // logged in again
  expect(api.session.passwordMaybeChanged()).toBe(false);

  const again = setup();
  await again.auth.changePassword('Temp#1234', 'NewPass#2025');
  expect(again.api.session.passwordMaybeChanged()).toBe(false);
});

test('an answer that shows the change did not happen (wrong old password) drops the hint', async () => {
  const { api, auth } = setup();
  api.wx.respond(() => ({ fail: 'timeout' })); // no answer: it may have been done
  await auth.changePassword('Temp#1234', 'NewPass#2025').catch(() => null);
  expect(api.session.passwordMaybeChanged()).toBe(true);
  // the retry is answered with the session still alive: the first try had not changed anything
  api.wx.respond(() => ({ statusCode: 400, data: { error: { code: 'password_wrong', message: '当前密码不正确', fields: {} } } }));
  const again = await auth.changePassword('Temp#1234', 'NewPass#2025').catch((e) => e);
  expect(again.message).toBe('当前密码不正确');
  expect(api.session.passwordMaybeChanged()).toBe(false);
});

test('the hint is kept in storage: it outlives an app restart', async () => {
  const wx = createFakeWx();
  const first = createSession(createStorage(wx));
  first.notePasswordSent();
  first.clear(); // a 401 ends the session
  expect(createSession(createStorage(wx)).passwordMaybeChanged()).toBe(true);
});

test('a retry of the same change goes with the key of its first try (utils/ids resendKey)', async () => {
  const { server, auth } = setup();
  server.tokens = new Set(['tok-old']);
  const resend = resendKey();
  const tryChange = async () => {
    const change = { old: 'Temp#1234', new: 'NewPass#2025' };
    try {
      await auth.changePassword(change.old, change.new, resend.key(change));
      resend.settle();
    } catch (error) {
      resend.settle(error);
    }
  };
  server.lost = true;
  await tryChange();
  await tryChange();
  expect(server.keys).toHaveLength(2);
  expect(server.keys[1]).toBe(server.keys[0]);
});
