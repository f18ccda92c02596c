/** Forgot user name (R3): by phone, or by unit + own identity; the accounts found come back masked. */
const { recoveryServices } = require('../../services/index');
const { toast } = require('../../../utils/ui');
const { isPhone, isCode, isIdNumber } = require('../../../utils/validate');
const msg = require('../../../utils/messages');

Page({
  data: {
    mode: 'phone',
    phone: '',
    code: '',
    creditCode: '',
    orgCode: '',
    name: '',
    idNumber: '',
    errors: {},
    busy: false,
    found: false,
    accounts: [],
  },

  onLoad(query) {
    this.captcha = { captchaId: '', answer: '' };
    this.ticket = '';
    if (query && query.mode === 'unit') this.setData({ mode: 'unit' });
  },

  onMode(e) {
    this.ticket = '';
    this.setData({ mode: e.currentTarget.dataset.mode, errors: {} });
  },

  onField(e) {
    const field = e.currentTarget.dataset.field;
    this.setData({ [field]: (e.detail && e.detail.value) || '', errors: {} });
  },

  onCaptcha(e) {
    this.captcha = e.detail;
  },

  fail(error) {
    this.setData({ busy: false, errors: error.fields || {} });
    toast(this, error.message, 'error');
  },

  async onSendCode() {
    const d = this.data;
    const errors = {};
    if (!isPhone(d.phone)) errors.phone = msg.BAD_PHONE;
    if (d.mode === 'unit') {
      if (!d.creditCode && !d.orgCode) errors.credit_code = '请填写统一社会信用代码或组织机构代码（二选一）';
      if (!d.name.trim()) errors.name = msg.REQUIRED + '姓名';
      if (!isIdNumber(d.idNumber)) errors.id_number = msg.BAD_ID_NUMBER;
    }
    if (Object.keys(errors).length) {
      this.setData({ errors });
      this.selectComponent('#codeButton').stop();
      return;
    }
    const recovery = recoveryServices().recovery.username;
    try {
      const out =
        d.mode === 'phone'
          ? await recovery.byPhoneSendCode(d.phone, this.captcha.captchaId, this.captcha.answer)
          : await recovery.byUnitSendCode({
              creditCode: d.creditCode.trim(),
              orgCode: d.orgCode.trim(),
              name: d.name.trim(),
              idNumber: d.idNumber,
              phone: d.phone,
              captchaId: this.captcha.captchaId,
              captchaAnswer: this.captcha.answer,
            });
      this.ticket = out.ticket;
      this.selectComponent('#codeButton').start(out.resend_after);
      toast(this, `验证码已发送至 ${out.phone || d.phone}`);
    } catch (error) {
      this.selectComponent('#codeButton').stop();
      this.fail(error);
    }
    this.selectComponent('#captcha').refresh();
  },

  async onVerify() {
    if (!this.ticket) {
      toast(this, '请先获取验证码');
      return;
    }
    if (!isCode(this.data.code)) {
      this.setData({ errors: { code: msg.BAD_CODE } });
      return;
    }
    this.setData({ busy: true });
    const recovery = recoveryServices().recovery.username;
    try {
      const out =
        this.data.mode === 'phone'
          ? await recovery.byPhoneVerify(this.ticket, this.data.code)
          : await recovery.byUnitVerify(this.ticket, this.data.code);
      const accounts = (out.accounts || []).map((a) => Object.assign({}, a, { unitsText: (a.units || []).join('、') }));
      this.setData({ busy: false, found: true, accounts });
    } catch (error) {
      this.fail(error);
    }
  },

  onLogin() {
    wx.reLaunch({ url: '/packageLogin/pages/login/index' });
  },
});
