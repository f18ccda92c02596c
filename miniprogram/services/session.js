/**
 * The login session on this phone: the token and what the server last said about it
 * (must change password, SMS check, chosen unit, units). Kept in storage so a restart of the
 * app keeps the user logged in; the server stays the judge (401 clears it).
 */
const { defaultStorage } = require('../utils/storage');
const { createEmitter } = require('../utils/emitter');

const KEY = 'cwt:session';
const PASSWORD_SENT_KEY = 'cwt:password-sent'; // a password change whose answer never came (outlives the session)

const SCREENS = {
  login: '/packageLogin/pages/login/index',
  smsCheck: '/packageLogin/pages/login/sms-check',
  password: '/packageLogin/pages/login/password',
  unit: '/packageLogin/pages/unit/index',
  chat: '/pages/chat/index',
};

/** The screen the user must see next, from the server's description of the session. */
function nextScreen(token, info) {
  if (!token || !info) return SCREENS.login;
  if (info.sms_check_required) return SCREENS.smsCheck;
  if (info.must_change_password) return SCREENS.password;
  if (!info.unit) return SCREENS.unit;
  return SCREENS.chat;
}

/** Only what the screens need from a SessionOut / LoginOut (the token is kept apart). */
function pickInfo(body) {
  if (!body) return null;
  return {
    account_id: body.account_id,
    username: body.username,
    name: body.name,
    must_change_password: !!body.must_change_password,
    sms_check_required: !!body.sms_check_required,
    unit: body.unit || null,
    units: Array.isArray(body.units) ? body.units : [],
  };
}

function createSession(storage) {
  const store = storage || defaultStorage();
  const emitter = createEmitter();
  let state = store.get(KEY, null) || { token: '', info: null };

  function persist() {
    store.set(KEY, state);
    emitter.emit('change', state);
  }

  return {
    token: () => state.token || '',
    info: () => state.info,
    loggedIn: () => !!state.token,
    /** The key that separates one account-and-unit's cached answers from another's. */
    scope() {
      const info = state.info;
      if (!info) return 'anon';
      return `${info.account_id}:${info.unit ? info.unit.id : '-'}`;
    },
    /** After a login: LoginOut carries the token and the session description. */
    saveLogin(body) {
      state = { token: body.token, info: pickInfo(body) };
      persist();
      store.remove(PASSWORD_SENT_KEY); // whichever password worked, the question is settled
    },
    setToken(token) {
      state = { token, info: state.info };
      persist();
    },
    setInfo(body) {
      state = { token: state.token, info: pickInfo(body) };
      persist();
    },
    clear() {
      state = { token: '', info: null };
      store.remove(KEY);
      emitter.emit('change', state);
    },
    next: () => nextScreen(state.token, state.info),
    /**
     * A password change went out and no answer came (a timeout, a gateway's 504): the server may
     * have changed the password and ended every session, this one too. Kept apart from the session,
     * which the 401 that follows clears, so that the login screen can say to use the new password.
     */
    notePasswordSent() {
      store.set(PASSWORD_SENT_KEY, Date.now());
    },
    /** The server's answer showed whether the change happened: nothing left to say. */
    passwordSettled() {
      store.remove(PASSWORD_SENT_KEY);
    },
    passwordMaybeChanged: () => !!store.get(PASSWORD_SENT_KEY, 0),
    onChange: (fn) => emitter.on('change', fn),
  };
}

let shared = null;
function defaultSession() {
  if (!shared) shared = createSession();
  return shared;
}

module.exports = { createSession, defaultSession, nextScreen, pickInfo, SCREENS, KEY };
