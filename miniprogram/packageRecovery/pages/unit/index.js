/**
 * Unit account recovery (R4): credit code -> legal representative's or agent's identity + new agent
 * -> code. The code sent again after a lost answer goes with its first Idempotency-Key (the server
 * answers the hand-over it did); told the unit was recovered already (another key), the page shows
 * it done with the server's message.
 */
const { recoveryServices } = require('../../services/index');
const { toast } = require('../../../utils/ui');
const { isPhone, isCode, isIdNumber } = require('../../../utils/validate');
const { resendKey } = require('../../../utils/ids');
const msg = require('../../../utils/messages');

Page({
  data: {
    step: 'start',
    creditCode: '',
    identity: 'legal_rep',
    name: '',
    idNumber: '',
    newAgentName: '',
    newAgentPhone: '',
    code: '',
    errors: {},
    busy: false,
    username: '',
    unitName: '',
    doneMessage: '',
  },

  onLoad() {
    this.captcha = { captchaId: '', answer: '' };
    this.ticket = '';
    this.resend = resendKey(); // a recovery resent after a lost answer is answered once, not refused
  },

  onField(e) {
    const field = e.currentTarget.dataset.field;
    this.setData({ [field]: (e.detail && e.detail.value) || '', errors: {} });
  },

  onIdentity(e) {
    this.setData({ identity: e.currentTarget.dataset.identity });
  },

  onCaptcha(e) {
    this.captcha = e.detail;
  },

  fail(error) {
    const patch = { busy: false, errors: error.fields || {} };
    if (error.code === 'ticket_invalid') {
      // expired or lost on the server: the first step again, everything typed stays in the form
      patch.step = 'start';
      this.ticket = '';
    }
    this.setData(patch);
    toast(this, error.message, 'error');
    const captcha = this.selectComponent('#captcha');
    if (captcha) captcha.refresh();
  },

  async onStart() {
    this.setData({ busy: true });
    try {
      const out = await recoveryServices().recovery.unit.start(this.data.creditCode.trim(), this.captcha.captchaId, this.captcha.answer);
      this.ticket = out.ticket;
      this.setData({ step: 'identify', busy: false, errors: {} });
    } catch (error) {
      this.fail(error);
    }
  },

  async onSendCode() {
    const d = this.data;
    const errors = {};
    if (!d.name.trim()) errors.name = msg.REQUIRED + '姓名';
    if (!isIdNumber(d.idNumber)) errors.id_number = msg.BAD_ID_NUMBER;
    if (!d.newAgentName.trim()) errors.new_agent_name = msg.REQUIRED + '新经办人姓名';
    if (!isPhone(d.newAgentPhone)) errors.new_agent_phone = msg.BAD_PHONE;
    if (Object.keys(errors).length) {
      this.setData({ errors });
      this.selectComponent('#codeButton').stop();
      return;
    }
    try {
      const out = await recoveryServices().recovery.unit.sendCode({
        ticket: this.ticket,
        identity: d.identity,
        name: d.name.trim(),
        idNumber: d.idNumber,
        newAgentName: d.newAgentName.trim(),
        newAgentPhone: d.newAgentPhone,
        captchaId: this.captcha.captchaId,
        captchaAnswer: this.captcha.answer,
      });
      this.ticket = out.ticket;
      this.selectComponent('#codeButton').start(out.resend_after);
      toast(this, `验证码已发送至 ${out.phone || d.newAgentPhone}`);
      this.selectComponent('#captcha').refresh();
    } catch (error) {
      this.selectComponent('#codeButton').stop();
      this.fail(error);
    }
  },

  async onVerify() {
    if (!isCode(this.data.code)) {
      this.setData({ errors: { code: msg.BAD_CODE } });
      return;
    }
    this.setData({ busy: true });
    const { code } = this.data;
    try {
      const out = await recoveryServices().recovery.unit.verify(this.ticket, code, this.resend.key([this.ticket, code]));
      this.resend.settle();
      this.setData({ step: 'done', busy: false, errors: {}, username: out.username, unitName: out.unit_name, doneMessage: '' });
    } catch (error) {
      this.resend.settle(error);
      if (error.code === 'unit_already_recovered') {
        // sent before with another key and done then (its answer lost): the server's message says what follows
        this.setData({ step: 'done', busy: false, errors: {}, doneMessage: error.message });
        return;
      }
      this.fail(error);
    }
  },

  onLogin() {
    wx.reLaunch({ url: '/packageLogin/pages/login/index' });
  },
});
