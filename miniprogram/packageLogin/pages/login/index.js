/**
 * Login (W1): WeChat one-tap when this WeChat is bound; otherwise user name or phone + password
 * + picture captcha, or phone + SMS code. A WeChat login that finds no account gives a ticket,
 * and the next password or SMS login binds this WeChat; a ticket the server refuses (expired,
 * or either side bound elsewhere) is dropped, so the next login goes without it. The SMS login
 * exists only to bind a WeChat: it runs the WeChat login first when there is no ticket, and is
 * hidden with the one-tap button when this server has no WeChat login. Then the session decides
 * the next screen (SMS check, forced password change, unit choice, chat). "卡登录 / 扫码" scans
 * the QR of an office PC's card reader and continues on the pairing page (packageCard).
 */
const { services } = require('../../../services/index');
const { loginServices } = require('../../services/index');
const texts = require('../../services/texts');
const { goNext, SCREENS } = require('../../../utils/router');
const { toast } = require('../../../utils/ui');
const { isPhone, isCode, required } = require('../../../utils/validate');
const msg = require('../../../utils/messages');
const { parseScan, pageFor, scanCode } = require('../../../utils/scan');

// The server refused the bind ticket: 410 expired or used, 409 account or WeChat bound elsewhere.
const TICKET_REFUSED = ['ticket_invalid', 'wechat_account_bound', 'wechat_identity_bound'];

Page({
  data: {
    mode: 'password',
    login: '',
    password: '',
    phone: '',
    code: '',
    errors: {},
    busy: false,
    wechatBusy: false,
    wechatState: 'unknown',
    bindHint: '',
    notice: '',
  },

  /** query.expired: the server ended the session (the app came here after a 401). */
  onLoad(query) {
    const s = services();
    if (s.session.loggedIn() && s.session.next() !== SCREENS.login) goNext();
    if (s.session.passwordMaybeChanged()) this.setData({ notice: msg.PASSWORD_MAYBE_CHANGED }); // a change whose answer was lost
    else if (query && query.expired) this.setData({ notice: msg.SESSION_EXPIRED });
    this.captcha = { captchaId: '', answer: '' };
    this.bindTicket = '';
  },

  /** The SMS login needs a bind ticket: without one, the WeChat login runs first. */
  async onMode(e) {
    const mode = e.currentTarget.dataset.mode;
    if (mode === 'sms' && !(await this.ticketReady())) return;
    this.setData({ mode, errors: {} });
  },

  /** True when there is a bind ticket, after a WeChat login if needed (which may log in instead). */
  async ticketReady() {
    return !!this.bindTicket || (await this.onWechat());
  },

  onField(e) {
    const field = e.currentTarget.dataset.field;
    this.setData({ [field]: (e.detail && e.detail.value) || '', [`errors.${field}`]: '' });
  },

  onCaptcha(e) {
    this.captcha = e.detail;
  },

  refreshCaptcha() {
    const field = this.selectComponent('#captcha');
    if (field) field.refresh();
  },

  fail(error) {
    const patch = { errors: Object.assign({}, error.fields || {}), busy: false };
    if (TICKET_REFUSED.indexOf(error.code) >= 0) {
      this.bindTicket = ''; // the next login goes without it (the SMS login asks WeChat for a new one)
      patch.bindHint = '';
    }
    this.setData(patch);
    toast(this, error.message, 'error');
    this.refreshCaptcha();
  },

  /** The one-tap login; true when it gave a bind ticket (kept for the next login). */
  async onWechat() {
    if (this.data.wechatBusy) return false;
    this.setData({ wechatBusy: true });
    const result = await loginServices().wechat.loginWithWechat();
    this.setData({ wechatBusy: false });
    if (result.status === 'logged_in') {
      goNext(result.next);
      return false;
    }
    if (result.status === 'bind_required') {
      this.bindTicket = result.ticket;
      this.setData({ bindHint: result.message || texts.WECHAT_BIND_HINT });
      return true;
    }
    if (result.status === 'unavailable') this.setData({ wechatState: 'unavailable', mode: 'password' });
    toast(this, result.message, 'error');
    return false;
  },

  async onPasswordLogin() {
    const errors = required(this.data, ['login', 'password']);
    if (!this.captcha.answer) errors.captcha_answer = '请输入图形验证码';
    if (Object.keys(errors).length) {
      this.setData({ errors });
      return;
    }
    this.setData({ busy: true, errors: {} });
    try {
      const out = await services().auth.login({
        login: this.data.login,
        password: this.data.password,
        captchaId: this.captcha.captchaId,
        captchaAnswer: this.captcha.answer,
        bindTicket: this.bindTicket,
      });
      this.setData({ busy: false, password: '' });
      if (out.wechatBound) toast(this, '已绑定微信，下次可一键登录', 'success');
      goNext(out.next);
    } catch (error) {
      this.fail(error);
    }
  },

  async onPhoneNumber(e) {
    const code = e.detail && e.detail.code;
    if (!code) return;
    try {
      const out = await loginServices().wechat.phoneNumber(code);
      if (out && out.phone) this.setData({ phone: out.phone, 'errors.phone': '' });
    } catch (error) {
      toast(this, error.status === 404 ? msg.NOT_YET : error.message);
    }
  },

  async onSendCode() {
    const button = this.selectComponent('#codeButton');
    if (!isPhone(this.data.phone)) {
      this.setData({ 'errors.phone': msg.BAD_PHONE });
      button.stop();
      return;
    }
    if (!(await this.ticketReady())) {
      button.stop();
      return;
    }
    try {
      const out = await loginServices().wechat.smsSendCode(
        this.data.phone,
        this.captcha.captchaId,
        this.captcha.answer,
        this.bindTicket,
      );
      button.start(out.resend_after);
      toast(this, `验证码已发送至 ${out.phone || this.data.phone}`);
      this.refreshCaptcha(); // spent by the send
    } catch (error) {
      button.stop();
      if (error.status === 404) error.message = msg.NOT_YET;
      this.fail(error);
    }
  },

  async onSmsLogin() {
    const errors = {};
    if (!isPhone(this.data.phone)) errors.phone = msg.BAD_PHONE;
    if (!isCode(this.data.code)) errors.code = msg.BAD_CODE;
    if (Object.keys(errors).length) {
      this.setData({ errors });
      return;
    }
    if (!(await this.ticketReady())) return;
    this.setData({ busy: true });
    try {
      const out = await loginServices().wechat.smsLogin(this.data.phone, this.data.code, this.bindTicket);
      this.setData({ busy: false });
      goNext(out.next);
    } catch (error) {
      this.fail(error);
    }
  },

  /** Card login: the PC's pairing QR. Enrolling a PC needs an admin, so a logged-in one. */
  async onScanLogin() {
    const raw = await scanCode();
    if (raw === null) return;
    const scanned = parseScan(raw);
    if (scanned.kind === 'pair') wx.navigateTo({ url: pageFor(scanned) });
    else if (scanned.kind === 'enrol') toast(this, msg.SCAN_ENROL_LOGIN_FIRST);
    else toast(this, scanned.kind === 'text' ? msg.SCAN_NOT_PAIRING : scanned.message);
  },

  onForgotPassword() {
    wx.navigateTo({ url: '/packageRecovery/pages/password/index' });
  },
  onForgotUsername() {
    wx.navigateTo({ url: '/packageRecovery/pages/username/index' });
  },
  onRecovery() {
    wx.navigateTo({ url: '/packageRecovery/pages/index/index' });
  },
});
