/**
 * WeChat login (W1) through wx.login's code (backend/wechat/routes.py). Only a server without the
 * route (404, 405) or with WeChat login off (wechat_disabled, wechat_misconfigured) means WeChat
 * login is not available; anything else (a timeout, WeChat busy or unreachable) may pass.
 *
 * loginWithWechat() answers one of:
 *   { status: 'logged_in', next }          the WeChat identity is bound: a session was started
 *   { status: 'bind_required', ticket }    log in once by password or SMS with this ticket to bind
 *   { status: 'unavailable', message }     no WeChat login on this server: hide it
 *   { status: 'failed', message }          not this time: say why, the user may try again
 */
const endpoints = require('../../services/endpoints');
const msg = require('../../utils/messages');
const texts = require('./texts');

const OFF_STATUSES = [404, 405];
const OFF_CODES = ['wechat_disabled', 'wechat_misconfigured'];

/** A refused login: is WeChat login off on this server (rather than failing this time)? */
function wechatOff(error) {
  if (OFF_CODES.indexOf(error.code) >= 0) return { status: 'unavailable', message: error.message };
  if (OFF_STATUSES.indexOf(error.status) >= 0) return { status: 'unavailable', message: msg.NOT_YET };
  return null;
}

function wxLogin(wxApi) {
  return new Promise((resolve, reject) => {
    wxApi.login({ timeout: 10000, success: (res) => resolve(res.code), fail: reject });
  });
}

function createWechat(client, session, api) {
  const wxApi = api || wx;
  return {
    async loginWithWechat() {
      let code;
      try {
        code = await wxLogin(wxApi);
      } catch (e) {
        return { status: 'failed', message: texts.WECHAT_LOGIN_FAILED };
      }
      try {
        const out = await client.post(endpoints.wechatLogin, { code }, { auth: false });
        if (out && out.token) {
          session.saveLogin(out);
          return { status: 'logged_in', next: session.next() };
        }
        const ticket = out && (out.wechat_bind_ticket || out.bind_ticket);
        if (ticket) return { status: 'bind_required', ticket, message: out.message || '' };
        return { status: 'failed', message: msg.BAD_ANSWER };
      } catch (error) {
        return wechatOff(error) || { status: 'failed', message: error.message || msg.NETWORK };
      }
    },

    /** The phone-number button: its code for the bound phone (prefills SMS forms). */
    phoneNumber: (code) => client.post(endpoints.wechatPhone, { code }),

    /** Phone + SMS code login, to bind this WeChat: needs the bind ticket from loginWithWechat. */
    smsSendCode(phone, captchaId, captchaAnswer, bindTicket) {
      const body = { phone, captcha_id: captchaId, captcha_answer: captchaAnswer };
      if (bindTicket) body.wechat_bind_ticket = bindTicket;
      return client.post(endpoints.smsLoginSendCode, body, { auth: false });
    },

    async smsLogin(phone, code, bindTicket) {
      const body = { phone, code };
      if (bindTicket) body.wechat_bind_ticket = bindTicket;
      const out = await client.post(endpoints.smsLogin, body, { auth: false });
      session.saveLogin(out);
      return { info: session.info(), next: session.next() };
    },
  };
}

module.exports = { createWechat };
