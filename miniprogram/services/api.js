/**
 * The shared API client of the app: utils/request wired to the stored session. A 401 on a call
 * that carried a token ends the local session (the app then shows the login screen).
 */
const { createClient } = require('../utils/request');
const { defaultSession } = require('./session');

let shared = null;

function api() {
  if (!shared) {
    const session = defaultSession();
    shared = createClient({ getToken: () => session.token() });
    shared.on('unauthenticated', () => session.clear());
  }
  return shared;
}

/** Tests and the integration harness start from a fresh client and session. */
function reset() {
  shared = null;
}

module.exports = { api, reset };
