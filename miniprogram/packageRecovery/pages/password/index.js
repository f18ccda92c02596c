/**
 * Forgot password (R2): user name + captcha -> a code to the bound phone (captcha again) ->
 * the code + the ID number on file -> a new password. When the server says only a manual review
 * can help, the page offers it.
 */
const { recoveryServices } = require('../../services/index');
const { toast } = require('../../../utils/ui');
const { isCode, isIdNumber, passwordProblem } = require('../../../utils/validate');
const msg = require('../../../utils/messages');

const STEP_NO = { start: 1, verify: 2, reset: 3, done: 3 };
const REVIEW_CODES = ['manual_review_needed', 'identity_mismatch'];

Page({
  data: {
    step: 'start',
    stepNo: 1,
    username: '',
    phone: '',
    code: '',
    idNumber: '',
    newPassword: '',
    confirm: '',
    errors: {},
    busy: false,
    reviewHint: '',
  },

  onLoad() {
    this.captcha = { captchaId: '', answer: '' };
    this.ticket = '';
    this.resetTicket = '';
  },

  go(step, extra) {
    this.setData(Object.assign({ step, stepNo: STEP_NO[step], errors: {}, busy: false }, extra || {}));
  },

  onField(e) {
    const field = e.currentTarget.dataset.field;
    this.setData({ [field]: (e.detail && e.detail.value) || '', errors: {} });
  },

  onCaptcha(e) {
    this.captcha = e.detail;
  },

  fail(error) {
    const patch = { busy: false, errors: error.fields || {} };
    if (REVIEW_CODES.indexOf(error.code) >= 0) patch.reviewHint = error.message;
    if (error.code === 'ticket_invalid') {
      Object.assign(patch, { step: 'start', stepNo: 1 });
      this.ticket = '';
    }
    this.setData(patch);
    toast(this, error.message, 'error');
    const captcha = this.selectComponent('#captcha');
    if (captcha) captcha.refresh();
  },

  async onStart() {
    if (!this.data.username.trim()) {
      this.setData({ errors: { username: msg.REQUIRED + '用户名' } });
      return;
    }
    this.setData({ busy: true });
    try {
      const out = await recoveryServices().recovery.password.start(this.data.username.trim(), this.captcha.captchaId, this.captcha.answer);
      this.ticket = out.ticket;
      this.go('verify', { phone: out.phone || '' });
    } catch (error) {
      this.fail(error);
    }
  },

  async onSendCode() {
    try {
      const out = await recoveryServices().recovery.password.sendCode(this.ticket, this.captcha.captchaId, this.captcha.answer);
      this.ticket = out.ticket;
      this.setData({ phone: out.phone || this.data.phone, errors: {} });
      this.selectComponent('#codeButton').start(out.resend_after);
      toast(this, `验证码已发送至 ${out.phone || this.data.phone}`);
      this.selectComponent('#captcha').refresh();
    } catch (error) {
      this.selectComponent('#codeButton').stop();
      this.fail(error);
    }
  },

  async onVerify() {
    const errors = {};
    if (!isCode(this.data.code)) errors.code = msg.BAD_CODE;
    if (!isIdNumber(this.data.idNumber)) errors.id_number = msg.BAD_ID_NUMBER;
    if (Object.keys(errors).length) {
      this.setData({ errors });
      return;
    }
    this.setData({ busy: true });
    try {
      const out = await recoveryServices().recovery.password.verify(this.ticket, this.data.code, this.data.idNumber);
      this.resetTicket = out.reset_ticket;
      this.go('reset');
    } catch (error) {
      this.fail(error);
    }
  },

  async onReset() {
    const problem = passwordProblem(this.data.newPassword, this.data.confirm);
    if (problem) {
      this.setData({ errors: { new_password: problem } });
      return;
    }
    this.setData({ busy: true });
    try {
      await recoveryServices().recovery.password.reset(this.resetTicket, this.data.newPassword);
      this.go('done', { newPassword: '', confirm: '' });
    } catch (error) {
      this.fail(error);
    }
  },

  onReview() {
    wx.redirectTo({ url: '/packageRecovery/pages/review/index?kind=password' });
  },

  onLogin() {
    wx.reLaunch({ url: '/pages/login/index' });
  },
});
