/**
 * Own profile (P11), the bound phone change, the bound IC card and activation after a card login
 * (C5, C6), the bound WeChat (W1). `key`: the Idempotency-Key of a resend (utils/ids resendKey).
 */
const endpoints = require('../../services/endpoints');
const { cacheKeys } = require('../../utils/cache');

const paths = {
  phoneSendCode: '/api/profile/phone/send-code',
  phoneConfirm: '/api/profile/phone/confirm',
  card: '/api/profile/card',
  activate: '/api/profile/activate',
};

function createProfile(client, cache, session) {
  return {
    /** Cached-then-fresh: show() gets the last profile at once (offline), then the fresh one. */
    load(show) {
      return cache.query(cacheKeys.profile(session.scope()), () => client.get(endpoints.profile), show);
    },
    /** Only the fields given change; a new name or ID voids the real-name level. */
    update: (changes) => client.patch(endpoints.profile, changes),
    /** Password again + captcha; a code goes to the new phone. Answers { phone, ticket, resend_after }. */
    phoneSendCode: ({ password, newPhone, captchaId, captchaAnswer }) =>
      client.post(paths.phoneSendCode, {
        password,
        new_phone: newPhone,
        captcha_id: captchaId,
        captcha_answer: captchaAnswer,
      }),
    phoneConfirm: (ticket, code, key) => client.post(paths.phoneConfirm, { ticket, code }, { idempotencyKey: key }),
    /** Unbind one's own card (binding happens at an office PC, by pairing). */
    unbindCard: (key) => client.del(paths.card, { idempotencyKey: key }),
    /** P16: log in by the bound phone (with the password) or not; one phone logs in to one account. */
    setPhoneLogin: (enabled) => client.request({ method: 'PUT', path: `${endpoints.profile}/phone-login`, data: { enabled } }),
    /** End one of one's own sessions ("登录设备 > 结束"). */
    endSession: (id, key) => client.del(endpoints.session_(id), { idempotencyKey: key }),
    /** Whether a WeChat is bound ({ bound, bound_at }); not retried: "我的" works without it. */
    wechatBinding: () => client.get(endpoints.wechatBinding, { retries: 0 }),
    /** Unbind it: the next WeChat login asks to bind again. */
    unbindWechat: (key) => client.del(endpoints.wechatBinding, { idempotencyKey: key }),
    /** An account a card login created has no password until this sets one. */
    activate: (newPassword, key) => client.post(paths.activate, { new_password: newPassword }, { idempotencyKey: key }),
  };
}

module.exports = { createProfile };
