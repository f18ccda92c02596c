/**
 * The mini-program as the integration tests start it: a fresh module registry and empty storage
 * (a newly opened app), wx on Node's fetch, pointed at the test server; and the captcha login.
 */
const { createNodeWx } = require('./wx-node');

function freshApp(server) {
  jest.resetModules();
  global.wx = createNodeWx();
  global.wx.setStorageSync('cwt:apiBase', server.url); // the develop-version override (see README)
  const { services } = require('../../services/index');
  const { createConversation } = require('../../services/chat/conversation');
  // The subpackages' services from this app's registry (a later freshApp starts another).
  const recovery = require('../../packageRecovery/services/index');
  const account = require('../../packageAccount/services/index');
  const card = require('../../packageCard/services/index');
  const s = services();
  return {
    s,
    wx: global.wx,
    recovery: () => recovery.recoveryServices(),
    account: () => account.accountServices(),
    card: () => card.cardServices(),
    conversation: () =>
      createConversation({
        chatApi: s.chat,
        history: s.history,
        cache: s.cache,
        owner: () => String(s.session.info().account_id),
        scope: () => s.session.scope(),
      }),
  };
}

/** A captcha from the API and its answer from the development hook. */
async function solvedCaptcha(server, s) {
  const captcha = await s.auth.captcha();
  expect(captcha.image).toMatch(/^data:image\/png;base64,/);
  return { captchaId: captcha.captcha_id, captchaAnswer: await server.captchaAnswer(captcha.captcha_id) };
}

async function login(server, s, loginName, password) {
  return s.auth.login(Object.assign({ login: loginName, password }, await solvedCaptcha(server, s)));
}

module.exports = { freshApp, solvedCaptcha, login };
