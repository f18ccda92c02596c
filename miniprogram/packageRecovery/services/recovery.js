/**
 * Public recovery flows (R2-R4): no login. Every step answers a ticket for the next one; the
 * screens show the server's Chinese messages as they come. The last step of a flow (a password
 * reset, a unit recovery) takes the screen's Idempotency-Key: resent with it after a lost answer,
 * the server answers it as done instead of refusing it.
 */
const r = {
  passwordStart: '/api/recovery/password/start',
  passwordSendCode: '/api/recovery/password/send-code',
  passwordVerify: '/api/recovery/password/verify',
  passwordReset: '/api/recovery/password/reset',
  usernameByPhoneSendCode: '/api/recovery/username/by-phone/send-code',
  usernameByPhoneVerify: '/api/recovery/username/by-phone/verify',
  usernameByUnitSendCode: '/api/recovery/username/by-unit/send-code',
  usernameByUnitVerify: '/api/recovery/username/by-unit/verify',
  unitStart: '/api/recovery/unit/start',
  unitSendCode: '/api/recovery/unit/send-code',
  unitVerify: '/api/recovery/unit/verify',
};

function createRecovery(client) {
  const post = (path, body, key) => client.post(path, body, { auth: false, idempotencyKey: key });
  return {
    password: {
      start: (username, captchaId, captchaAnswer) =>
        post(r.passwordStart, { username, captcha_id: captchaId, captcha_answer: captchaAnswer }),
      sendCode: (ticket, captchaId, captchaAnswer) =>
        post(r.passwordSendCode, { ticket, captcha_id: captchaId, captcha_answer: captchaAnswer }),
      verify: (ticket, code, idNumber) =>
        post(r.passwordVerify, { ticket, code, id_number: String(idNumber || '').toUpperCase() }),
      reset: (resetTicket, newPassword, key) => post(r.passwordReset, { reset_ticket: resetTicket, new_password: newPassword }, key),
    },
    username: {
      byPhoneSendCode: (phone, captchaId, captchaAnswer) =>
        post(r.usernameByPhoneSendCode, { phone, captcha_id: captchaId, captcha_answer: captchaAnswer }),
      byPhoneVerify: (ticket, code) => post(r.usernameByPhoneVerify, { ticket, code }),
      /** unit: { credit_code } or { org_code } */
      byUnitSendCode: ({ creditCode, orgCode, name, idNumber, phone, captchaId, captchaAnswer }) => {
        const body = {
          name,
          id_number: String(idNumber || '').toUpperCase(),
          phone,
          captcha_id: captchaId,
          captcha_answer: captchaAnswer,
        };
        if (creditCode) body.credit_code = creditCode.toUpperCase();
        if (orgCode) body.org_code = orgCode.toUpperCase();
        return post(r.usernameByUnitSendCode, body);
      },
      byUnitVerify: (ticket, code) => post(r.usernameByUnitVerify, { ticket, code }),
    },
    unit: {
      start: (creditCode, captchaId, captchaAnswer) =>
        post(r.unitStart, { credit_code: String(creditCode || '').toUpperCase(), captcha_id: captchaId, captcha_answer: captchaAnswer }),
      /** identity: "legal_rep" or "agent" */
      sendCode: ({ ticket, identity, name, idNumber, newAgentName, newAgentPhone, captchaId, captchaAnswer }) =>
        post(r.unitSendCode, {
          ticket,
          identity,
          name,
          id_number: String(idNumber || '').toUpperCase(),
          new_agent_name: newAgentName,
          new_agent_phone: newAgentPhone,
          captcha_id: captchaId,
          captcha_answer: captchaAnswer,
        }),
      verify: (ticket, code, key) => post(r.unitVerify, { ticket, code }, key),
    },
  };
}

module.exports = { createRecovery };
