/**
 * The phone's side of a pairing (docs/card-protocol.md, C3): scan the PC's QR, confirm or
 * cancel, follow the pairing, and after a card login claim the session.
 */
const endpoints = require('../../services/endpoints');
const { cacheKeys } = require('../../utils/cache');
const { WAIT_SECONDS } = require('./follower');
const texts = require('./texts');

const paths = {
  scan: '/api/pairings/scan',
  confirm: (id) => `/api/pairings/${encodeURIComponent(id)}/confirm`,
  cancel: (id) => `/api/pairings/${encodeURIComponent(id)}/cancel`,
  phoneEvents: (id) => `/api/pairings/${encodeURIComponent(id)}/phone-events`,
  claim: (id) => `/api/pairings/${encodeURIComponent(id)}/claim`,
};

const PAIRING_KEY_HEADER = 'X-Pairing-Key';
const POLL_MARGIN_MS = 10000; // the long-poll's own wait plus this is its request timeout

const VIEWS = {
  created: 'scanned',
  scanned: 'scanned',
  confirmed: 'waiting',
  done: 'done',
  failed: 'failed',
  expired: 'expired',
  cancelled: 'cancelled',
};

/** What the pairing page shows for a state (the server's texts where it has them). */
function pairingView(state) {
  const device = state.device || {};
  const unit = device.unit || {};
  const result = state.result || {};
  const error = state.error || {};
  const who = state.confirmed_by;
  const view = VIEWS[state.state] || 'failed';
  const fallback = { done: texts.PAIR_DONE, expired: texts.PAIR_EXPIRED, cancelled: texts.PAIR_CANCELLED };
  return {
    view,
    action: state.action || '',
    actionLabel: state.action_label || '',
    userCode: state.user_code || '',
    deviceName: device.name || '',
    unitName: unit.name || '',
    confirmedBy: who ? texts.CONFIRMED_BY(who.name || who.username) : '',
    // a cancelled pairing says who ended it when the server tells (the PC: "电脑上已取消本次业务")
    message:
      view === 'failed'
        ? error.message || texts.PAIR_FAILED
        : view === 'done'
          ? result.message || fallback.done
          : (view === 'cancelled' && error.message) || fallback[view] || '',
    created: Array.isArray(result.created) ? result.created.join('、') : '',
  };
}

function createPairing(client, session, cache) {
  const key = (phoneKey) => ({ [PAIRING_KEY_HEADER]: phoneKey });
  return {
    /** With the session when there is one (bind and real-name need it; login does not). */
    scan: (token) => client.post(paths.scan, { token }),
    confirm: (id, phoneKey) => client.post(paths.confirm(id), { phone_key: phoneKey }),
    cancel: (id, phoneKey) => client.post(paths.cancel(id), { phone_key: phoneKey }),

    /** One long-poll; the follower polls again itself, so the helper does not retry it. */
    events: (id, phoneKey, since, wait) => {
      const seconds = wait === undefined ? WAIT_SECONDS : wait;
      return client.get(paths.phoneEvents(id), {
        query: { since, wait: seconds },
        header: key(phoneKey),
        auth: false,
        retries: 0,
        timeout: seconds * 1000 + POLL_MARGIN_MS,
      });
    },

    /** After a card login is done: the session, then the screen a login goes to next. */
    async claim(id, phoneKey) {
      const out = await client.post(paths.claim(id), { phone_key: phoneKey }, { auth: false });
      session.saveLogin(out);
      return session.next();
    },

    /** After binding or real-name: the fresh profile, also for "我的" (its cache entry). */
    async refreshProfile() {
      const profile = await client.get(endpoints.profile, { retries: 1 });
      if (cache) cache.set(cacheKeys.profile(session.scope()), profile);
      return profile;
    },
  };
}

module.exports = { createPairing, pairingView, PAIRING_KEY_HEADER };
