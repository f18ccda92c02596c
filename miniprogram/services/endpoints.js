/**
 * The API paths of the main package and those more than one package calls (the backend routes:
 * routes.py of each package). A path only one subpackage calls is in that subpackage's services,
 * off the main package: packageRecovery/services (recovery, reviews), packageAccount/services/profile
 * (bound phone, card, activation), packageCard/services (devices, units, pairings).
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
  profile: '/api/profile', // "我的" and the pairing's refresh after a card binding
  chat: '/api/chat',
  // the chat's "review.image" buttons (1-based index): the image bytes, downloaded by the phone
  reviewImage: (id, index) => `/api/reviews/${encodeURIComponent(id)}/images/${encodeURIComponent(index)}`,
  wechatLogin: '/api/wechat/login',
  wechatBinding: '/api/wechat/binding',
  wechatPhone: '/api/wechat/phone',
  // Phone + SMS code login exists to bind a WeChat: it needs the bind ticket of /api/wechat/login.
  smsLoginSendCode: '/api/wechat/sms-login/send-code',
  smsLogin: '/api/wechat/sms-login',
};
