/** Unit choice after login when the account has several (agents), and the switch from "我的". */
const { services } = require('../../../services/index');
const { goNext, SCREENS } = require('../../../utils/router');
const { toast } = require('../../../utils/ui');

Page({
  data: { units: [], currentId: 0, busy: false },

  onLoad() {
    const s = services();
    const next = s.session.next();
    if (next !== SCREENS.unit && next !== SCREENS.chat) {
      goNext(next);
      return;
    }
    this.show(s.session.info());
    s.auth.reloadSession().then((info) => this.show(info), () => {});
  },

  show(info) {
    if (!info) return;
    this.setData({ units: info.units || [], currentId: info.unit ? info.unit.id : 0 });
  },

  async onChoose(e) {
    if (this.data.busy) return;
    this.setData({ busy: true });
    try {
      const next = await services().auth.chooseUnit(e.currentTarget.dataset.id);
      this.setData({ busy: false });
      wx.reLaunch({ url: next });
    } catch (error) {
      this.setData({ busy: false });
      toast(this, error.message, 'error');
    }
  },

  async onLogout() {
    await services().signOut();
    goNext(SCREENS.login);
  },
});
