/**
 * Enrolling an office PC (C2), after an admin scanned its `cwt://enrol/<token>`: the PC's host
 * name and key fingerprint (to compare with the PC's screen), a name and a unit in the admin's
 * scope, then approve; the enrolled device is shown.
 */
const { services } = require('../../../services/index');
const { cardServices } = require('../../services/index');
const { enrolProblems, NAME_MAX } = require('../../services/devices');
const { guard, SCREENS } = require('../../../utils/router');
const { toast } = require('../../../utils/ui');
const { formatTime } = require('../../../utils/format');
const { resendKey } = require('../../../utils/ids');
const texts = require('../../services/texts');

const ADMIN_ROLES = ['admin', 'sysadmin'];
const DEVICES = '/packageCard/pages/devices/index';

function when(iso) {
  const ms = Date.parse(iso || '');
  return isFinite(ms) ? formatTime(ms) : '';
}

Page({
  data: {
    view: 'loading',
    message: '',
    hostname: '',
    fingerprint: '',
    expiresText: '',
    name: '',
    nameMax: NAME_MAX,
    unitId: 0,
    unitName: '',
    picking: false,
    unitQuery: '',
    units: [],
    errors: {},
    busy: false,
    device: null,
    compareHint: texts.ENROL_COMPARE,
  },

  onLoad(query) {
    this.resend = resendKey(); // an approval resent after a lost answer is answered once
    if (!guard(SCREENS.chat)) return;
    const unit = (services().session.info() || {}).unit || {};
    if (ADMIN_ROLES.indexOf(unit.role) < 0) {
      this.setData({ view: 'error', message: texts.ADMIN_ONLY });
      return;
    }
    this.token = String((query && query.token) || '').trim();
    if (!this.token) {
      this.setData({ view: 'error', message: texts.ENROL_NO_TOKEN });
      return;
    }
    this.setData({ unitId: unit.unit_id || 0, unitName: unit.unit_name || '' });
    this.load();
  },

  async load() {
    try {
      const found = await cardServices().devices.enrolment(this.token);
      this.setData({
        view: 'form',
        hostname: found.hostname,
        fingerprint: found.fingerprint,
        expiresText: when(found.expires_at),
        name: this.data.name || String(found.hostname || '').slice(0, NAME_MAX),
      });
    } catch (error) {
      this.setData({ view: 'error', message: error.message });
    }
  },

  onField(e) {
    this.setData({ [e.currentTarget.dataset.field]: (e.detail && e.detail.value) || '', 'errors.name': '' });
  },

  onPickUnit() {
    const picking = !this.data.picking;
    this.setData({ picking });
    if (picking && !this.data.units.length) this.searchUnits();
  },

  onUnitQuery(e) {
    this.setData({ unitQuery: (e.detail && e.detail.value) || '' });
  },

  async searchUnits() {
    try {
      const page = await cardServices().devices.units(this.data.unitQuery);
      this.setData({ units: (page.items || []).map((u) => ({ id: u.id, name: u.name })) });
    } catch (error) {
      toast(this, error.message, 'error');
    }
  },

  onChooseUnit(e) {
    const { id, name } = e.currentTarget.dataset;
    this.setData({ unitId: Number(id), unitName: name, picking: false, 'errors.unit_id': '' });
  },

  async onApprove() {
    const errors = enrolProblems({ name: this.data.name, unitId: this.data.unitId });
    if (Object.keys(errors).length) {
      this.setData({ errors });
      return;
    }
    this.setData({ busy: true, errors: {} });
    try {
      const form = { name: this.data.name, unitId: this.data.unitId };
      const device = await cardServices().devices.approve(this.token, form, this.resend.key(form));
      this.resend.settle();
      this.setData({
        busy: false,
        view: 'done',
        device: Object.assign({}, device, { enrolledText: when(device.enrolled_at) }),
        message: texts.ENROL_DONE,
      });
    } catch (error) {
      this.resend.settle(error);
      this.setData({ busy: false, errors: error.fields || {} });
      toast(this, error.message, 'error');
    }
  },

  /**
   * Back to the devices page this came from ("办公电脑 > 扫码登记"; it reloads on show), not a second
   * one on top of it: one more page per PC enrolled would reach WeChat's 10 pages. Opened from a
   * scan elsewhere (the chat), this page gives way to the devices page.
   */
  onDevices() {
    const pages = getCurrentPages();
    const below = pages.length > 1 ? pages[pages.length - 2] : null;
    if (below && `/${below.route}` === DEVICES) wx.navigateBack();
    else wx.redirectTo({ url: DEVICES });
  },

  onBack() {
    wx.navigateBack();
  },
});
