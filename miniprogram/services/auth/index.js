/**
 * Login and the session: picture captcha, password login (optionally binding WeChat), the
 * first-login SMS check, the forced password change, unit choice, own sessions, logout.
 */
const endpoints = require('../endpoints');
const { ApiError } = require('../../utils/errors');
const msg = require('../../utils/messages');

const NO_ANSWER = ['network', 'timeout']; // sent, and nothing came back (utils/errors)
const LOST_ON_THE_WAY = [502, 504]; // a gateway's: the server may have done it

/** Whether the server may have done a write whose answer this error stands for. */
function answerLost(error) {
  return NO_ANSWER.indexOf(error.code) >= 0 || LOST_ON_THE_WAY.indexOf(error.status) >= 0;
}

function createAuth(client, session) {
  async function reloadSession() {
    const body = await client.get(endpoints.session, { retries: 1 });
    session.setInfo(body);
    return session.info();
  }

  /**
   * After a step the server took (password changed, SMS check passed): the session read back;
   * if that fails (a weak signal), the step is done all the same, so the screen after it is next.
   */
  async function afterStep(done) {
    try {
      await reloadSession();
    } catch (error) {
      if (session.info()) session.setInfo(Object.assign({}, session.info(), done));
    }
    return session.next();
  }

  return {
    /** { captcha_id, image (data URL), expires_in } */
    captcha: () => client.get(endpoints.captcha, { auth: false }),

    /** login: user name or (where allowed) phone. bindTicket: from a WeChat login that found no account. */
    async login({ login, password, captchaId, captchaAnswer, bindTicket }) {
      const body = {
        login: String(login || '').trim(),
        password,
        captcha_id: captchaId,
        captcha_answer: String(captchaAnswer || '').trim(),
      };
      if (bindTicket) body.wechat_bind_ticket = bindTicket;
      const out = await client.post(endpoints.login, body, { auth: false });
      session.saveLogin(out);
      return { info: session.info(), next: session.next(), wechatBound: !!out.wechat_bound };
    },

    reloadSession,

    async chooseUnit(membershipId) {
      const out = await client.post(endpoints.chooseUnit, { membership_id: membershipId });
      session.setInfo(out);
      return session.next();
    },

    /**
     * Also the forced first change: every session ends and a new token comes back. key: the
     * Idempotency-Key of a resend (utils/ids resendKey). When the answer is lost, the server may
     * have changed the password and ended this session: the session remembers it (see
     * notePasswordSent), and the 401 that follows says the new password may be in force.
     */
    async changePassword(oldPassword, newPassword, key) {
      let out;
      try {
        out = await client.post(endpoints.changePassword, { old_password: oldPassword, new_password: newPassword }, { idempotencyKey: key });
      } catch (error) {
        if (answerLost(error)) session.notePasswordSent();
        else if (error.status === 401 && session.passwordMaybeChanged()) {
          throw new ApiError({ status: 401, code: error.code, message: msg.PASSWORD_MAYBE_CHANGED });
        } else if (error.status !== 401 && !error.retryable) session.passwordSettled(); // answered with this session alive: not done
        throw error;
      }
      session.passwordSettled();
      session.setToken(out.token);
      return afterStep({ must_change_password: false });
    },

    /** First login of an operator an admin created: a code to the bound phone (masked phone back). */
    firstLoginSendCode: (captchaId, captchaAnswer) =>
      client.post(endpoints.firstLoginSendCode, { captcha_id: captchaId, captcha_answer: captchaAnswer }),

    async firstLoginVerify(code) {
      try {
        await client.post(endpoints.firstLoginVerify, { code: String(code).trim() });
      } catch (e) {
        if (e.code !== 'sms_check_not_needed') throw e; // done already: its answer was lost
      }
      return afterStep({ sms_check_required: false });
    },

    async refresh() {
      const out = await client.post(endpoints.refresh);
      session.setToken(out.token);
      return out.token;
    },

    sessions: () => client.get(endpoints.sessions),

    /** Ends the session on the server if it can; the phone forgets it either way. */
    async logout() {
      try {
        if (session.token()) await client.post(endpoints.logout, undefined, { timeout: 5000 });
      } catch (e) {
        // offline or already expired: forgetting it here is what matters
      }
      session.clear();
    },
  };
}

module.exports = { createAuth };
