/**
 * The services of the app, built once and shared by every page (subpackage pages too):
 * session, API client, cache, history and the services the main package needs. Recovery and
 * reviews live in packageRecovery/services, the profile in packageAccount/services, the WeChat
 * login in packageLogin/services: the first screen does not need them, so they do not weigh on
 * the main package.
 */
const { defaultSession } = require('./session');
const { api } = require('./api');
const { createCache } = require('../utils/cache');
const { createHistory } = require('../utils/history');
const config = require('../config/index');
const { createAuth } = require('./auth/index');
const { createChatApi } = require('./chat/index');

let shared = null;

function services() {
  if (shared) return shared;
  const session = defaultSession();
  const client = api();
  const cache = createCache({ limit: config.CACHE_LIMIT });
  const history = createHistory({
    limit: config.HISTORY_LIMIT,
    maxChars: config.HISTORY_MAX_CHARS,
    totalChars: config.HISTORY_TOTAL_CHARS,
    onFull: () => cache.clear(), // storage full: cached answers give way to what the user typed
  });
  shared = {
    session,
    client,
    cache,
    history,
    auth: createAuth(client, session),
    chat: createChatApi(client),
    /** "退出登录" from any screen: the session ends, and this account's conversation and the cache go. */
    async signOut() {
      const owner = String((session.info() || {}).account_id || '');
      await shared.auth.logout();
      if (owner) history.clear(owner);
      cache.clear();
    },
  };
  return shared;
}

module.exports = { services };
