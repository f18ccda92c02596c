/**
 * "我的": profile at a glance (cached, then fresh), the account and security entries (W7, P11),
 * the bound IC card and the real-name level, activation of an account a card login created
 * (C5-C7), and for admins the office PCs (C2).
 */
const { services } = require('../../../services/index');
const { accountServices } = require('../../services/index');
const { guard, goNext, SCREENS } = require('../../../utils/router');
const { toast, confirm } = require('../../../utils/ui');
const { formatTime, offlineLabel } = require('../../../utils/format');
const { resendKey } = require('../../../utils/ids');
const msg = require('../../../utils/messages');
const { cardSection, texts: cardTexts } = require('../../services/card');

const ADMIN_ROLES = ['admin', 'sysadmin'];
// 404, 405: no such route on this server; the codes: WeChat login off (as services/wechat reads them)
const WECHAT_OFF = [404, 405, 'wechat_disabled', 'wechat_misconfigured'];
const WECHAT = {
  HOW: '在登录页用“微信一键登录”，按提示登录一次即可绑定',
  CONFIRM: '解除后，这个微信不能再一键登录本账号。',
  TITLE: '解除微信绑定',
  DONE: '已解除绑定',
};
const PHONE_LOGIN = {
  HINT: '开启后可用绑定的手机号加密码登录；一个手机号只能登录一个账号',
  TITLE: '手机号登录',
  ON: '开启后，可以用绑定的手机号代替用户名登录（仍需密码）。',
  OFF: '关闭后，只能用用户名登录。',
  DONE_ON: '已开启手机号登录',
  DONE_OFF: '已关闭手机号登录',
};

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
    phoneLoginHint: PHONE_LOGIN.HINT,
    wechatHow: WECHAT.HOW,
    // state: '' (not known: the unbind is offered), 'bound', 'unbound', 'off' (no WeChat login here)
    wechat: { state: '', boundText: '' },
  },

  onLoad() {
    this.unbindKey = resendKey(); // an unbind resent after a lost answer is answered once
    this.wechatKey = resendKey(); // the same for the WeChat's
    if (!guard(SCREENS.chat)) return;
    this.setData({ info: services().session.info() || {} });
  },

  onShow() {
    if (services().session.next() !== SCREENS.chat) return;
    const info = services().session.info() || {};
    this.setData({ info, isAdmin: !!info.unit && ADMIN_ROLES.indexOf(info.unit.role) >= 0 });
    this.loadProfile();
    this.loadWechat();
  },

  loadWechat() {
    return accountServices()
      .profile.wechatBinding()
      .then((out) => {
        const bound = Date.parse((out && out.bound_at) || '');
        this.setData({
          wechat: { state: out && out.bound ? 'bound' : 'unbound', boundText: isFinite(bound) ? `${formatTime(bound)} 绑定` : '' },
        });
      })
      .catch((error) => {
        if (WECHAT_OFF.indexOf(error.status) >= 0 || WECHAT_OFF.indexOf(error.code) >= 0) this.setData({ 'wechat.state': 'off' });
      });
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
    if (this.unbindingCard) return; // tapped again while the unbind is on its way
    this.unbindingCard = true;
    try {
      if (!(await confirm(this, cardTexts.UNBIND_CONFIRM, cardTexts.UNBIND_TITLE))) return;
      await accountServices().profile.unbindCard(this.unbindKey.key('unbind'));
      this.unbindKey.settle();
      toast(this, cardTexts.UNBOUND, 'success');
      await this.loadProfile();
    } catch (error) {
      this.unbindKey.settle(error);
      toast(this, error.message, 'error');
    } finally {
      this.unbindingCard = false;
    }
  },

  /** P16: switch logging in by the bound phone on or off (the server keeps one phone to one account). */
  async onPhoneLogin() {
    const enable = !this.data.profile.phone_login;
    if (!(await confirm(this, enable ? PHONE_LOGIN.ON : PHONE_LOGIN.OFF, PHONE_LOGIN.TITLE))) return;
    try {
      const profile = await accountServices().profile.setPhoneLogin(enable);
      this.setData({ profile, section: cardSection(profile) });
      toast(this, enable ? PHONE_LOGIN.DONE_ON : PHONE_LOGIN.DONE_OFF, 'success');
    } catch (error) {
      toast(this, error.message, 'error');
    }
  },

  onActivate() {
    wx.navigateTo({ url: '/packageAccount/pages/activate/index' });
  },

  onSwitchUnit() {
    wx.navigateTo({ url: '/packageLogin/pages/unit/index' });
  },

  async onUnbind() {
    if (this.unbinding) return; // tapped again while the unbind is on its way
    this.unbinding = true;
    try {
      if (!(await confirm(this, WECHAT.CONFIRM, WECHAT.TITLE))) return;
      await accountServices().profile.unbindWechat(this.wechatKey.key('unbind'));
      this.wechatKey.settle();
      this.setData({ wechat: { state: 'unbound', boundText: '' } });
      toast(this, WECHAT.DONE, 'success');
    } catch (error) {
      this.wechatKey.settle(error);
      // 404 is the server's "not bound" (its message says so); 405: no such route on this server
      if (error.status === 404) this.setData({ wechat: { state: 'unbound', boundText: '' } });
      toast(this, error.status === 405 ? msg.NOT_YET : error.message, 'error');
    } finally {
      this.unbinding = false;
    }
  },

  async onLogout() {
    if (!(await confirm(this, '退出后本机的聊天记录和缓存会清除。', '退出登录'))) return;
    await services().signOut();
    goNext(SCREENS.login);
  },
});
