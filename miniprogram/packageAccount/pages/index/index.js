/**
 * "我的": profile at a glance (cached, then fresh), the account and security entries (W7, P11),
 * the bound IC card and the real-name level, activation of an account a card login created
 * (C5-C7), and for admins the office PCs (C2).
 */
const { services } = require('../../../services/index');
const { accountServices } = require('../../services/index');
const { guard, goNext, SCREENS } = require('../../../utils/router');
const { toast, confirm } = require('../../../utils/ui');
const { offlineLabel } = require('../../../utils/format');
const { resendKey } = require('../../../utils/ids');
const msg = require('../../../utils/messages');
const { cardSection, texts: cardTexts } = require('../../services/card');

const ADMIN_ROLES = ['admin', 'sysadmin'];

Page({
  data: {
    info: {},
    profile: {},
    offlineText: '',
    section: cardSection(null),
    isAdmin: false,
    bindHow: cardTexts.BIND_HOW,
    activatePrompt: cardTexts.ACTIVATE_PROMPT,
    realnameHint: cardTexts.REALNAME_HINT,
  },

  onLoad() {
    this.unbindKey = resendKey(); // an unbind resent after a lost answer is answered once
    if (!guard(SCREENS.chat)) return;
    this.setData({ info: services().session.info() || {} });
  },

  onShow() {
    if (services().session.next() !== SCREENS.chat) return;
    const info = services().session.info() || {};
    this.setData({ info, isAdmin: !!info.unit && ADMIN_ROLES.indexOf(info.unit.role) >= 0 });
    this.loadProfile();
  },

  loadProfile() {
    return accountServices()
      .profile.load((shown) =>
        this.setData({
          profile: shown.value,
          section: cardSection(shown.value),
          offlineText: shown.offline ? offlineLabel(shown.time) : '',
        })
      )
      .catch((error) => toast(this, error.message));
  },

  async onUnbindCard() {
    if (!(await confirm(this, cardTexts.UNBIND_CONFIRM, cardTexts.UNBIND_TITLE))) return;
    try {
      await accountServices().profile.unbindCard(this.unbindKey.key('unbind'));
      this.unbindKey.settle();
      toast(this, cardTexts.UNBOUND, 'success');
      await this.loadProfile();
    } catch (error) {
      this.unbindKey.settle(error);
      toast(this, error.message, 'error');
    }
  },

  onActivate() {
    wx.navigateTo({ url: '/packageAccount/pages/activate/index' });
  },

  onSwitchUnit() {
    wx.navigateTo({ url: '/pages/unit/index' });
  },

  async onUnbind() {
    if (!(await confirm(this, '解除后，这个微信不能再一键登录本账号。', '解除微信绑定'))) return;
    try {
      await services().wechat.unbind();
      toast(this, '已解除绑定', 'success');
    } catch (error) {
      // 404 is the server's "not bound" (its message says so); 405: no such route on this server
      toast(this, error.status === 405 ? msg.NOT_YET : error.message, 'error');
    }
  },

  async onLogout() {
    if (!(await confirm(this, '退出后本机的聊天记录和缓存会清除。', '退出登录'))) return;
    await services().signOut();
    goNext(SCREENS.login);
  },
});
