/** Bound phone change (P11): password again + captcha -> a code to the new phone -> confirm. */
const { services } = require('../../../services/index');
const { accountServices } = require('../../services/index');
const { guard, SCREENS } = require('../../../utils/router');
const { toast, backAfterToast } = require('../../../utils/ui');
const { isPhone, isCode } = require('../../../utils/validate');
const { resendKey } = require('../../../utils/ids');
const msg = require('../../../utils/messages');

Page({
  data: { password: '', newPhone: '', code: '', errors: {}, busy: false },

  onLoad() {
    guard(SCREENS.chat);
    this.captcha = { captchaId: '', answer: '' };
    this.ticket = '';
    this.resend = resendKey(); // a confirm resent after a lost answer is answered once
  },

  onUnload() {
    clearTimeout(this.backTimer); // left already: the page below stays
  },

  onField(e) {
    this.setData({ [e.currentTarget.dataset.field]: (e.detail && e.detail.value) || '', errors: {} });
  },

  onCaptcha(e) {
    this.captcha = e.detail;
  },

  async onSendCode() {
    const errors = {};
    if (!this.data.password) errors.password = msg.REQUIRED + '登录密码';
    if (!isPhone(this.data.newPhone)) errors.new_phone = msg.BAD_PHONE;
    if (Object.keys(errors).length) {
      this.setData({ errors });
      this.selectComponent('#codeButton').stop();
      return;
    }
    try {
      const out = await accountServices().profile.phoneSendCode({
        password: this.data.password,
        newPhone: this.data.newPhone,
        captchaId: this.captcha.captchaId,
        captchaAnswer: this.captcha.answer,
      });
      this.ticket = out.ticket;
      this.selectComponent('#codeButton').start(out.resend_after);
      toast(this, `验证码已发送至 ${out.phone}`);
    } catch (error) {
      this.selectComponent('#codeButton').stop();
      this.setData({ errors: error.fields || {} });
      toast(this, error.message, 'error');
    }
    this.selectComponent('#captcha').refresh();
  },

  async onConfirm() {
    if (!this.ticket) {
      toast(this, '请先获取验证码');
      return;
    }
    if (!isCode(this.data.code)) {
      this.setData({ errors: { code: msg.BAD_CODE } });
      return;
    }
    this.setData({ busy: true });
    try {
      const profile = await accountServices().profile.phoneConfirm(this.ticket, this.data.code, this.resend.key([this.ticket, this.data.code]));
      this.resend.settle();
      this.setData({ busy: false, password: '' });
      toast(this, `已更换为 ${profile.phone}`, 'success');
      backAfterToast(this);
    } catch (error) {
      this.resend.settle(error);
      this.setData({ busy: false, errors: error.fields || {} });
      toast(this, error.message, 'error');
    }
  },
});
