/** Chinese texts only the login subpackage shows (the app's shared ones are in utils/messages). */
module.exports = {
  WECHAT_LOGIN_FAILED: '微信登录失败，请稍后重试',
  WECHAT_BIND_HINT: '首次使用微信登录，请用账号密码或手机验证码登录一次，以绑定这个微信',
};
