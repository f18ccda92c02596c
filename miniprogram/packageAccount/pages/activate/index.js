/**
 * Activation (C5): an account a card login created has no password; setting one (the usual
 * password policy) lets it log in by user name and password too.
 */
const { services } = require('../../../services/index');
const { accountServices } = require('../../services/index');
const { guard, SCREENS } = require('../../../utils/router');
const { toast, backAfterToast } = require('../../../utils/ui');
const { passwordProblem } = require('../../../utils/validate');
const { resendKey } = require('../../../utils/ids');
const { texts } = require('../../services/card');
const msg = require('../../../utils/messages');

Page({
  data: {
    newPassword: '',
    confirm: '',
    errors: {},
    busy: false,
    done: false,
    username: '',
    hint: `${texts.ACTIVATE_PROMPT}${msg.PASSWORD_RULE}。`,
  },

  onLoad() {
    this.resend = resendKey(); // a resend after a lost answer is answered once, not "账号已激活"
    if (!guard(SCREENS.chat)) return;
    this.setData({ username: (services().session.info() || {}).username || '' });
  },

  onUnload() {
    clearTimeout(this.backTimer); // left already: the page below stays
  },

  onField(e) {
    this.setData({ [e.currentTarget.dataset.field]: (e.detail && e.detail.value) || '', errors: {} });
  },

  async onSubmit() {
    const problem = passwordProblem(this.data.newPassword, this.data.confirm);
    if (problem) {
      this.setData({ errors: { new_password: problem } });
      return;
    }
    this.setData({ busy: true });
    try {
      const out = await accountServices().profile.activate(this.data.newPassword, this.resend.key(this.data.newPassword));
      this.resend.settle();
      if (out && out.token) services().session.setToken(out.token);
      this.setData({ busy: false, newPassword: '', confirm: '', done: true });
      toast(this, texts.ACTIVATE_DONE, 'success');
      backAfterToast(this);
    } catch (error) {
      this.resend.settle(error);
      this.setData({ busy: false, errors: error.fields || {} });
      toast(this, error.message, 'error');
    }
  },
});
