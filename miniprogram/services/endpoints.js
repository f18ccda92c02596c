/**
 * Every API path the mini-program calls, in one place.
 *
 * PENDING: WeChat login, binding, unbinding, the phone-number button and SMS login belong to
 * issue 4 (backend/wechat/), whose routes were not in the repository when this was written; the
 * paths below are the client's assumption. The screens treat a 404 from them as "not available
 * yet" and fall back to user name + password. Check them against backend/wechat/routes.py.
 */
module.exports = {
  captcha: '/api/auth/captcha',
  login: '/api/auth/login',
  logout: '/api/auth/logout',
  session: '/api/session',
  chooseUnit: '/api/session/unit',
  refresh: '/api/session/refresh',
  sessions: '/api/sessions',
  session_: (id) => `/api/sessions/${encodeURIComponent(id)}`,
  changePassword: '/api/account/password',
  firstLoginSendCode: '/api/session/first-login/send-code',
  firstLoginVerify: '/api/session/first-login/verify',
  profile: '/api/profile',
  phoneSendCode: '/api/profile/phone/send-code',
  phoneConfirm: '/api/profile/phone/confirm',
  chat: '/api/chat',
  recovery: {
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
  },
  reviews: '/api/reviews',
  // PENDING (issue 4)
  wechatLogin: '/api/wechat/login',
  wechatBinding: '/api/wechat/binding',
  wechatPhone: '/api/wechat/phone',
  smsLoginSendCode: '/api/auth/sms/send-code',
  smsLogin: '/api/auth/sms/login',
};
