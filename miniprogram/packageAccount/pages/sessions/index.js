/** Own live sessions with "结束" (a lost phone): cached list at once, then the fresh one. */
const { services } = require('../../../services/index');
const { guard, SCREENS } = require('../../../utils/router');
const { toast, confirm } = require('../../../utils/ui');
const { formatTime, offlineLabel } = require('../../../utils/format');

function device(userAgent) {
  const ua = String(userAgent || '');
  if (/MicroMessenger/i.test(ua) && /miniProgram/i.test(ua)) return '微信小程序';
  if (/MicroMessenger/i.test(ua)) return '微信';
  if (/iPhone|iPad/i.test(ua)) return 'iPhone / iPad';
  if (/Android/i.test(ua)) return 'Android';
  if (/Windows|Macintosh|Linux/i.test(ua)) return '电脑';
  return ua ? ua.slice(0, 24) : '未知设备';
}

function rows(list) {
  return (list || []).map((s) => ({
    id: s.id,
    current: s.current,
    device: device(s.user_agent),
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
    }
  },
});
