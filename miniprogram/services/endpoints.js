/**
 * Every API path the mini-program calls, in one place (the backend routes: routes.py of each package).
 * A server without WeChat login configured answers its paths with an error; the screens then fall
 * back to user name + password.
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
  units: '/api/units',
  // Office PCs with the card service, pairing and cards (docs/card-protocol.md).
  profileCard: '/api/profile/card',
  profileActivate: '/api/profile/activate',
  devices: {
    list: '/api/devices',
    revoke: (id) => `/api/devices/${encodeURIComponent(id)}/revoke`,
    enrolment: (token) => `/api/devices/enrolments/${encodeURIComponent(token)}`,
    approve: (token) => `/api/devices/enrolments/${encodeURIComponent(token)}/approve`,
  },
  pairings: {
    scan: '/api/pairings/scan',
    confirm: (id) => `/api/pairings/${encodeURIComponent(id)}/confirm`,
    cancel: (id) => `/api/pairings/${encodeURIComponent(id)}/cancel`,
    phoneEvents: (id) => `/api/pairings/${encodeURIComponent(id)}/phone-events`,
    claim: (id) => `/api/pairings/${encodeURIComponent(id)}/claim`,
  },
  wechatLogin: '/api/wechat/login',
  wechatBinding: '/api/wechat/binding',
  wechatPhone: '/api/wechat/phone',
  // Phone + SMS code login exists to bind a WeChat: it needs the bind ticket of /api/wechat/login.
  smsLoginSendCode: '/api/wechat/sms-login/send-code',
  smsLogin: '/api/wechat/sms-login',
};
