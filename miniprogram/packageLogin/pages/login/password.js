/**
 * The forced password change (temporary password from an admin, a reset, a review): the server
 * allows nothing else until it is done, and neither does the app.
 */
const { services } = require('../../../services/index');
const { guard, goNext, SCREENS } = require('../../../utils/router');
const { toast } = require('../../../utils/ui');
const { passwordProblem } = require('../../../utils/validate');
const { resendKey } = require('../../../utils/ids');
const msg = require('../../../utils/messages');

Page({
  data: {
    oldPassword: '',
    newPassword: '',
    confirm: '',
    errors: {},
    busy: false,
    hint: `${msg.PASSWORD_RULE}，不能包含用户名或手机号。修改后其他设备上的登录会退出。`,
  },

  onLoad() {
    this.resend = resendKey(); // a change resent after a lost answer goes with its first key
    guard(SCREENS.password);
  },

  onField(e) {
    this.setData({ [e.currentTarget.dataset.field]: (e.detail && e.detail.value) || '', errors: {} });
  },

  async onSubmit() {
    if (!this.data.oldPassword) {
      this.setData({ errors: { old_password: msg.REQUIRED + '当前密码' } });
      return;
    }
    const problem = passwordProblem(this.data.newPassword, this.data.confirm);
    if (problem) {
      this.setData({ errors: { new_password: problem } });
      return;
    }
    this.setData({ busy: true });
    try {
      const change = [this.data.oldPassword, this.data.newPassword];
      const next = await services().auth.changePassword(change[0], change[1], this.resend.key(change));
      this.resend.settle();
      this.setData({ busy: false, oldPassword: '', newPassword: '', confirm: '' });
      toast(this, '密码已修改', 'success');
      goNext(next);
    } catch (error) {
      this.resend.settle(error);
      this.setData({ busy: false, errors: error.fields || {} });
      toast(this, error.message, 'error');
    }
  },

  async onLogout() {
    await services().signOut();
    goNext(SCREENS.login);
  },
});
