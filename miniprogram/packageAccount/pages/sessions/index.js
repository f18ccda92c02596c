/** Own live sessions with "结束" (a lost phone): cached list at once, then the fresh one. */
const { services } = require('../../../services/index');
const { accountServices } = require('../../services/index');
const { resendKey } = require('../../../utils/ids');
const { guard, SCREENS } = require('../../../utils/router');
const { toast, confirm } = require('../../../utils/ui');
const { formatTime, offlineLabel } = require('../../../utils/format');

/** The devices of "登录设备", recognised from their user agent. */
const DEVICES = {
  MINIPROGRAM: '微信小程序',
  WECHAT: '微信',
  IOS: '苹果手机 / 平板',
  ANDROID: '安卓手机',
  COMPUTER: '电脑',
  UNKNOWN: '未知设备',
};

/** What the user agent says in Chinese ("未知设备" for e.g. "okhttp/4.9"); the raw string is shown under it. */
function device(userAgent) {
  const ua = String(userAgent || '');
  if (/MicroMessenger/i.test(ua) && /miniProgram|appbrand/i.test(ua)) return DEVICES.MINIPROGRAM;
  if (/MicroMessenger/i.test(ua)) return DEVICES.WECHAT;
  if (/iPhone|iPad/i.test(ua)) return DEVICES.IOS;
  if (/Android/i.test(ua)) return DEVICES.ANDROID;
  if (/Windows|Macintosh|Linux/i.test(ua)) return DEVICES.COMPUTER;
  return DEVICES.UNKNOWN;
}

function rows(list) {
  return (list || []).map((s) => ({
    id: s.id,
    current: s.current,
    device: device(s.user_agent),
    agent: String(s.user_agent || ''),
    detail: `${s.ip || ''} · 最近使用 ${formatTime(s.last_seen * 1000)}`,
  }));
}

Page({
  data: { sessions: [], offlineText: '' },

  onLoad() {
    this.endKey = resendKey(); // "结束" resent after a lost answer is answered once
    if (!guard(SCREENS.chat)) return;
    this.load();
  },

  load() {
    const s = services();
    return s.cache
      .query(`sessions:${s.session.scope()}`, () => s.auth.sessions(), (shown) =>
        this.setData({ sessions: rows(shown.value), offlineText: shown.offline ? offlineLabel(shown.time) : '' })
      )
      .catch((error) => toast(this, error.message));
  },

  async onEnd(e) {
    if (this.ending) return; // tapped again while one is on its way
    this.ending = true;
    const id = e.currentTarget.dataset.id;
    try {
      if (!(await confirm(this, '结束后，该设备需要重新登录。', '结束登录'))) return;
      await accountServices().profile.endSession(id, this.endKey.key(id));
      this.endKey.settle();
      toast(this, '已结束', 'success');
      this.load();
    } catch (error) {
      this.endKey.settle(error);
      toast(this, error.message, 'error');
      if (error.status === 404) this.load(); // ended meanwhile (expired, or from another device)
    } finally {
      this.ending = false;
    }
  },
});
