/**
 * Office PCs enrolled in the admin's units (C2): name, unit, status, fingerprint; "撤销登记" with a
 * confirm; "扫码登记" scans a PC's enrolment QR.
 */
const { cardServices } = require('../../services/index');
const { guard, SCREENS } = require('../../../utils/router');
const { toast, confirm } = require('../../../utils/ui');
const { parseScan, pageFor, scanCode } = require('../../../utils/scan');
const { formatTime } = require('../../../utils/format');
const { resendKey } = require('../../../utils/ids');
const texts = require('../../services/texts');

function row(device) {
  const ms = Date.parse(device.enrolled_at || '');
  return {
    id: device.id,
    name: device.name,
    unitName: (device.unit || {}).name || '',
    fingerprint: device.fingerprint,
    active: device.status === 'active',
    statusLabel: device.status_label || device.status,
    description: `${(device.unit || {}).name || ''} · ${device.fingerprint}${isFinite(ms) ? ` · ${formatTime(ms)} 登记` : ''}`,
  };
}

Page({
  data: { items: [], total: null, nextCursor: null, loading: false, loaded: false, emptyText: texts.DEVICES_EMPTY },

  onLoad() {
    this.revokeKey = resendKey(); // a revocation resent after a lost answer is answered once
    if (!guard(SCREENS.chat)) return;
    this.ready = true;
  },

  onShow() {
    if (this.ready) this.load(true);
  },

  async load(first) {
    if (this.data.loading) return;
    this.setData({ loading: true });
    try {
      const page = await cardServices().devices.list({ cursor: first ? undefined : this.data.nextCursor });
      const items = (first ? [] : this.data.items).concat((page.items || []).map(row));
      this.setData({
        items,
        total: first ? page.total : this.data.total,
        nextCursor: page.next_cursor || null,
        loading: false,
        loaded: true,
      });
    } catch (error) {
      this.setData({ loading: false, loaded: true });
      toast(this, error.message, 'error');
    }
  },

  onMore() {
    return this.load(false);
  },

  async onRevoke(e) {
    const item = this.data.items.find((d) => d.id === Number(e.currentTarget.dataset.id));
    if (!item || !item.active || this.revoking) return; // tapped again while one is on its way
    this.revoking = true;
    try {
      if (!(await confirm(this, texts.REVOKE_CONFIRM(item.name), texts.REVOKE_TITLE))) return;
      const device = await cardServices().devices.revoke(item.id, this.revokeKey.key(item.id));
      this.revokeKey.settle();
      this.setData({ items: this.data.items.map((d) => (d.id === item.id ? row(device) : d)) });
      toast(this, texts.REVOKED, 'success');
    } catch (error) {
      this.revokeKey.settle(error);
      toast(this, error.message, 'error');
    } finally {
      this.revoking = false;
    }
  },

  async onScan() {
    const raw = await scanCode();
    if (raw === null) return;
    const scanned = parseScan(raw);
    const page = pageFor(scanned);
    if (page) wx.navigateTo({ url: page });
    else toast(this, scanned.kind === 'text' ? texts.SCAN_NOT_ENROL : scanned.message);
  },
});
