/** Own profile (P11) and the bound phone change. */
const endpoints = require('../../services/endpoints');

function createProfile(client, cache, session) {
  return {
    /** Cached-then-fresh: show() gets the last profile at once (offline), then the fresh one. */
    load(show) {
      return cache.query(`profile:${session.scope()}`, () => client.get(endpoints.profile), show);
    },
    /** Only the fields given change; a new name or ID voids the real-name level. */
    update: (changes) => client.patch(endpoints.profile, changes),
    /** Password again + captcha; a code goes to the new phone. Answers { phone, ticket, resend_after }. */
    phoneSendCode: ({ password, newPhone, captchaId, captchaAnswer }) =>
      client.post(endpoints.phoneSendCode, {
        password,
        new_phone: newPhone,
        captcha_id: captchaId,
        captcha_answer: captchaAnswer,
      }),
    phoneConfirm: (ticket, code) => client.post(endpoints.phoneConfirm, { ticket, code }),
  };
}

module.exports = { createProfile };
