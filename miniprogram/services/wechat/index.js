/**
 * WeChat login (W1) through wx.login's code (backend/wechat/routes.py); a 404 or 503 means WeChat
 * login is not available on this server.
 *
 * loginWithWechat() answers one of:
 *   { status: 'logged_in', next }          the WeChat identity is bound: a session was started
 *   { status: 'bind_required', ticket }    log in once by password or SMS with this ticket to bind
 *   { status: 'unavailable', message }     no WeChat login on this server (or not reachable)
 */
const endpoints = require('../endpoints');
const msg = require('../../utils/messages');

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
        return { status: 'unavailable', message: msg.NOT_YET };
      }
      try {
        const out = await client.post(endpoints.wechatLogin, { code }, { auth: false });
        if (out && out.token) {
          session.saveLogin(out);
          return { status: 'logged_in', next: session.next() };
        }
        const ticket = out && (out.wechat_bind_ticket || out.bind_ticket);
        if (ticket) return { status: 'bind_required', ticket, message: out.message || '' };
        return { status: 'unavailable', message: msg.NOT_YET };
      } catch (error) {
        if ([404, 405, 503].includes(error.status)) return { status: 'unavailable', message: msg.NOT_YET };
        return { status: 'unavailable', message: error.message };
      }
    },

    unbind: () => client.del(endpoints.wechatBinding),

    /** The phone-number button: its code for the bound phone (prefills SMS forms). */
    phoneNumber: (code) => client.post(endpoints.wechatPhone, { code }),

    /** Phone + SMS code login, to bind this WeChat: needs the bind ticket from loginWithWechat. */
    smsSendCode: (phone, captchaId, captchaAnswer, bindTicket) =>
      client.post(
        endpoints.smsLoginSendCode,
        { phone, captcha_id: captchaId, captcha_answer: captchaAnswer, wechat_bind_ticket: bindTicket },
        { auth: false },
      ),

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
