/**
 * Pairing confirmation (C3): after scanning a PC's `cwt://pair/<token>`, the phone shows the PC,
 * its unit, the action and the user code to compare with the PC's screen; confirm or cancel; then
 * follows the pairing (long-poll, services/follower.js) while the card and PIN are used at the PC.
 * A card login that is done claims its session and continues like any login (unit choice etc.);
 * binding and real-name show the server's result and refresh the profile.
 */
const { cardServices } = require('../../services/index');
const { createFollower, isEnding } = require('../../services/follower');
const { pairingView } = require('../../services/pairing');
const { defaultNetwork } = require('../../../utils/network');
const { goNext } = require('../../../utils/router');
const { toast } = require('../../../utils/ui');
const texts = require('../../services/texts');

Page({
  data: {
    view: 'loading',
    action: '',
    actionLabel: '',
    userCode: '',
    deviceName: '',
    unitName: '',
    confirmedBy: '',
    message: '',
    created: '',
    waitingText: '',
    busy: false,
    compareHint: texts.PAIR_COMPARE,
    waitingCard: texts.PAIR_WAITING_CARD,
  },

  onLoad(query) {
    let token = '';
    try {
      token = decodeURIComponent((query && query.token) || '').trim();
    } catch (e) {
      token = '';
    }
    if (!token) {
      this.setData({ view: 'error', message: texts.PAIR_NO_TOKEN });
      return;
    }
    this.scan(token);
  },

  onUnload() {
    this.gone = true;
    if (this.follower) this.follower.stop();
  },

  async scan(token) {
    const { pairing } = cardServices();
    let state;
    try {
      state = await pairing.scan(token);
    } catch (error) {
      if (!this.gone) this.setData({ view: error.code === 'pairing_invalid' ? 'expired' : 'error', message: error.message });
      return;
    }
    if (this.gone) return;
    const id = state.pairing_id;
    const phoneKey = state.phone_key;
    this.pairingId = id;
    this.phoneKey = phoneKey;
    this.follower = createFollower({
      poll: (since, wait) => pairing.events(id, phoneKey, since, wait),
      onState: (next) => this.show(next),
      onError: (error) => this.ended(error),
      onWaiting: (reason) => this.setData({ waitingText: reason === 'offline' ? texts.PAIR_WAITING_NETWORK : '' }),
      network: defaultNetwork(),
    });
    this.follower.accept(state);
    this.follower.start();
  },

  show(state) {
    const shown = pairingView(state);
    if (shown.view === 'done' && state.action === 'login') {
      this.setData(Object.assign(shown, { view: 'claiming' }));
      this.claim();
      return;
    }
    this.setData(shown);
    if (shown.view === 'done') cardServices().pairing.refreshProfile().catch(() => {}); // "我的" loads it again anyway
  },

  /** The pairing ended with an answer, not a state: gone (410) or not this phone's. */
  ended(error) {
    if (this.gone) return;
    this.setData({ view: error.status === 410 ? 'expired' : 'error', message: error.message, busy: false });
  },

  async claim(tries) {
    const { pairing } = cardServices();
    try {
      const next = await pairing.claim(this.pairingId, this.phoneKey);
      toast(this, texts.PAIR_LOGGED_IN, 'success');
      goNext(next);
    } catch (error) {
      if (this.gone) return;
      const n = tries || 0;
      if (error.retryable && n < 2) {
        // lost on the way: again (a claim the server did take answers 410: single use)
        setTimeout(() => this.gone || this.claim(n + 1), 1000 * (n + 1));
        return;
      }
      let shown = { view: 'failed', message: error.message };
      if (error.code === 'pairing_not_done') {
        // done, then failed (the server could not keep the result): the pairing as it is now;
        // still done: its account is being committed (the server freed the claim), claim again
        const now = await pairing.events(this.pairingId, this.phoneKey, 0, 0).then(pairingView, () => null);
        if (this.gone) return;
        if (now && now.view === 'done' && n < 2) {
          setTimeout(() => this.gone || this.claim(n + 1), 1000 * (n + 1));
          return;
        }
        if (now && now.view !== 'done') shown = now;
      }
      if (!this.gone) this.setData(shown);
    }
  },

  async answer(kind) {
    if (this.data.busy || !this.follower) return;
    this.setData({ busy: true });
    try {
      const state = await cardServices().pairing[kind](this.pairingId, this.phoneKey);
      this.setData({ busy: false });
      this.follower.accept(state);
    } catch (error) {
      if (isEnding(error) && error.code !== 'pairing_state') {
        this.follower.stop();
        this.ended(error);
        return;
      }
      this.setData({ busy: false }); // a state that moved on meanwhile comes with the next poll
      toast(this, error.message, 'error');
    }
  },

  onConfirm() {
    return this.answer('confirm');
  },

  onCancel() {
    return this.answer('cancel');
  },

  onBack() {
    if (getCurrentPages().length > 1) wx.navigateBack();
    else goNext();
  },
});
