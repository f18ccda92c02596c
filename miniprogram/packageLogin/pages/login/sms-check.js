/** First login of an operator an admin created (P4): a code to the bound phone, before anything else. */
const { services } = require('../../../services/index');
const { guard, goNext, SCREENS } = require('../../../utils/router');
const { toast } = require('../../../utils/ui');
const { isCode } = require('../../../utils/validate');
const msg = require('../../../utils/messages');

Page({
  data: { code: '', phone: '', errors: {}, busy: false },

  onLoad() {
    guard(SCREENS.smsCheck);
    this.captcha = { captchaId: '', answer: '' };
  },

  onCaptcha(e) {
    this.captcha = e.detail;
  },

  onCode(e) {
    this.setData({ code: (e.detail && e.detail.value) || '', 'errors.code': '' });
  },

  async onSendCode() {
    if (!this.captcha.answer) {
      this.setData({ 'errors.captcha_answer': '请输入图形验证码' });
      this.selectComponent('#codeButton').stop();
      return;
    }
    try {
      const out = await services().auth.firstLoginSendCode(this.captcha.captchaId, this.captcha.answer);
      this.setData({ phone: out.phone, errors: {} });
      this.selectComponent('#codeButton').start(out.resend_after);
      toast(this, `验证码已发送至 ${out.phone}`);
    } catch (error) {
      this.selectComponent('#codeButton').stop();
      this.setData({ errors: error.fields || {} });
      toast(this, error.message, 'error');
    }
    this.selectComponent('#captcha').refresh();
  },

  async onVerify() {
    if (!isCode(this.data.code)) {
      this.setData({ 'errors.code': msg.BAD_CODE });
      return;
    }
    this.setData({ busy: true });
    try {
      const next = await services().auth.firstLoginVerify(this.data.code);
      this.setData({ busy: false });
      goNext(next);
    } catch (error) {
      this.setData({ busy: false, errors: error.fields || {} });
      toast(this, error.message, 'error');
    }
  },

  async onLogout() {
    await services().signOut();
    goNext(SCREENS.login);
  },
});
