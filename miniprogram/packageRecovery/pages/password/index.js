/**
 * Forgot password (R2): user name (or the phone the account logs in with) + captcha -> a code to
 * the bound phone (captcha again) -> the code + the ID number on file -> a new password. When the
 * server says only a manual review can help, the page offers it. The new password sent again after
 * a lost answer goes with its first Idempotency-Key (the server answers it as done); told it was
 * reset already (another key), the page shows it done.
 */
const { recoveryServices } = require('../../services/index');
const { toast } = require('../../../utils/ui');
const { isCode, isIdNumber, passwordProblem } = require('../../../utils/validate');
const { resendKey } = require('../../../utils/ids');
const msg = require('../../../utils/messages');

const STEP_NO = { start: 1, verify: 2, reset: 3, done: 3 };
const REVIEW_CODES = ['manual_review_needed', 'identity_mismatch'];
const CAPTCHA_STEPS = ['start', 'verify'];

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
    doneHint: '',
  },

  onLoad() {
    this.captcha = { captchaId: '', answer: '' };
    this.ticket = '';
    this.resetTicket = '';
    this.resend = resendKey(); // a reset resent after a lost answer is answered as done, not refused
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
    if (CAPTCHA_STEPS.indexOf(this.data.step) < 0) return; // the new password's step has none
    const captcha = this.selectComponent('#captcha');
    if (captcha) captcha.refresh();
  },

  async onStart() {
    if (!this.data.username.trim()) {
      this.setData({ errors: { username: msg.REQUIRED + '用户名或登录手机号' } });
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
    const { newPassword } = this.data;
    try {
      await recoveryServices().recovery.password.reset(this.resetTicket, newPassword, this.resend.key([this.resetTicket, newPassword]));
      this.resend.settle();
      this.go('done', { newPassword: '', confirm: '', doneHint: '' });
    } catch (error) {
      this.resend.settle(error);
      if (error.code === 'password_already_reset') {
        // sent before with another key and done then (its answer lost): the server's message says so
        this.go('done', { newPassword: '', confirm: '', doneHint: error.message });
        return;
      }
      this.fail(error);
    }
  },

  onReview() {
    wx.redirectTo({ url: '/packageRecovery/pages/review/index?kind=password' });
  },

  onLogin() {
    wx.reLaunch({ url: '/packageLogin/pages/login/index' });
  },
});
