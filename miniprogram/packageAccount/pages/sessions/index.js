/** Own live sessions with "结束" (a lost phone): cached list at once, then the fresh one. */
const { services } = require('../../../services/index');
const { guard, SCREENS } = require('../../../utils/router');
const { toast, confirm } = require('../../../utils/ui');
const { formatTime, offlineLabel } = require('../../../utils/format');
const msg = require('../../../utils/messages');

/** What the user agent says in Chinese ("未知设备" for e.g. "okhttp/4.9"); the raw string is shown under it. */
function device(userAgent) {
  const ua = String(userAgent || '');
  if (/MicroMessenger/i.test(ua) && /miniProgram|appbrand/i.test(ua)) return msg.DEVICE_MINIPROGRAM;
  if (/MicroMessenger/i.test(ua)) return msg.DEVICE_WECHAT;
  if (/iPhone|iPad/i.test(ua)) return msg.DEVICE_IOS;
  if (/Android/i.test(ua)) return msg.DEVICE_ANDROID;
  if (/Windows|Macintosh|Linux/i.test(ua)) return msg.DEVICE_COMPUTER;
  return msg.DEVICE_UNKNOWN;
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
    if (!(await confirm(this, '结束后，该设备需要重新登录。', '结束登录'))) return;
    try {
      await services().auth.endSession(e.currentTarget.dataset.id);
      toast(this, '已结束', 'success');
      this.load();
    } catch (error) {
      toast(this, error.message, 'error');
      if (error.status === 404) this.load(); // ended meanwhile (expired, or from another device)
    }
  },
});
