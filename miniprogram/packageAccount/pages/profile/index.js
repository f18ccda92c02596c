/**
 * Own profile (P11): name, ID type, number and validity, e-mail; only what changed is sent. What
 * the user changed and has not saved is kept per account with the cached answers, so a session
 * that ends mid-edit (a 401 on "保存") finds it again after the new login; "退出登录" clears it.
 */
const { services } = require('../../../services/index');
const { accountServices } = require('../../services/index');
const { guard, SCREENS } = require('../../../utils/router');
const { toast } = require('../../../utils/ui');
const { offlineLabel } = require('../../../utils/format');
const { isIdNumber, isOtherIdNumber, plainIdNumber } = require('../../../utils/validate');
const msg = require('../../../utils/messages');

const TEXTS = {
  BAD_OTHER_ID: '证件号码格式不正确（5-20 位字母或数字）',
  NO_CHANGE: '没有修改',
  SAVED: '已保存',
};

const ID_TYPES = [
  { value: 'resident_id', label: '居民身份证' },
  { value: 'passport', label: '护照' },
  { value: 'hk_macao_permit', label: '港澳居民来往内地通行证' },
  { value: 'taiwan_permit', label: '台湾居民来往大陆通行证' },
  { value: 'foreign_permanent', label: '外国人永久居留身份证' },
];

const EDITABLE = ['name', 'idNumber', 'validUntil', 'email']; // and idTypeIndex

Page({
  data: {
    profile: {},
    name: '',
    idNumber: '',
    validUntil: '',
    email: '',
    idTypeIndex: 0,
    idTypeLabels: ID_TYPES.map((t) => t.label),
    errors: {},
    busy: false,
    offlineText: '',
    restored: false,
  },

  onLoad() {
    this.edited = {};
    if (!guard(SCREENS.chat)) return;
    const kept = (services().cache.get(this.draftKey()) || {}).value || {};
    const restored = {};
    Object.keys(kept)
      .filter((f) => (f === 'idTypeIndex' ? !!ID_TYPES[kept[f]] : EDITABLE.indexOf(f) >= 0 && typeof kept[f] === 'string'))
      .forEach((f) => {
        this.edited[f] = true;
        restored[f] = kept[f];
      });
    if (Object.keys(restored).length) this.setData(Object.assign({ restored: true }, restored));
    accountServices()
      .profile.load((shown) => this.show(shown.value, shown.offline ? offlineLabel(shown.time) : ''))
      .catch((error) => toast(this, error.message));
  },

  /** The profile into the form; a field the user has changed keeps what they typed (a fresh
   * profile may come after the cached one, while they type). */
  show(profile, offlineText) {
    const index = Math.max(0, ID_TYPES.findIndex((t) => t.value === profile.id_type));
    const values = {
      name: profile.name || '',
      email: profile.email || '',
      validUntil: profile.id_valid_until || '',
      idNumber: '',
      idTypeIndex: index,
    };
    Object.keys(this.edited).forEach((field) => delete values[field]);
    this.setData(Object.assign(values, { profile, offlineText: offlineText || '' }));
  },

  onField(e) {
    const field = e.currentTarget.dataset.field;
    this.edited[field] = true;
    this.setData({ [field]: (e.detail && e.detail.value) || '', errors: {} });
    this.keepDraft();
  },

  onIdType(e) {
    this.edited.idTypeIndex = true;
    this.setData({ idTypeIndex: Number(e.detail.value) });
    this.keepDraft();
  },

  draftKey() {
    return `profile-draft:${(services().session.info() || {}).account_id}`;
  },

  /** The fields the user changed, as typed (none: nothing kept). */
  keepDraft() {
    const fields = Object.keys(this.edited);
    const cache = services().cache;
    if (!fields.length) cache.remove(this.draftKey());
    else cache.set(this.draftKey(), fields.reduce((kept, f) => Object.assign(kept, { [f]: this.data[f] }), {}));
  },

  changes() {
    const d = this.data;
    const p = d.profile;
    const out = {};
    if (d.name.trim() && d.name.trim() !== p.name) out.name = d.name.trim();
    const idType = ID_TYPES[d.idTypeIndex].value;
    if (p.id_type && idType !== p.id_type) out.id_type = idType;
    const number = d.idNumber.trim();
    if (number) out.id_number = idType === 'resident_id' ? plainIdNumber(number) : number.toUpperCase();
    if (d.validUntil && d.validUntil !== (p.id_valid_until || '')) out.id_valid_until = d.validUntil;
    if (d.email.trim() !== (p.email || '')) out.email = d.email.trim() || null;
    return out;
  },

  /** The ID number checked as the server will, against the ID type chosen: { id_number: message } or {}. */
  problems(changes) {
    if (changes.id_number === undefined) return {};
    const resident = ID_TYPES[this.data.idTypeIndex].value === 'resident_id';
    if (resident ? isIdNumber(changes.id_number) : isOtherIdNumber(changes.id_number)) return {};
    return { id_number: resident ? msg.BAD_ID_NUMBER : TEXTS.BAD_OTHER_ID };
  },

  async onSave() {
    const changes = this.changes();
    if (!Object.keys(changes).length) {
      toast(this, TEXTS.NO_CHANGE);
      return;
    }
    const errors = this.problems(changes);
    if (Object.keys(errors).length) {
      this.setData({ errors });
      return;
    }
    this.setData({ busy: true });
    try {
      const profile = await accountServices().profile.update(changes);
      this.edited = {}; // saved: the form shows the server's profile
      this.keepDraft();
      this.show(profile, '');
      this.setData({ busy: false, restored: false });
      toast(this, TEXTS.SAVED, 'success');
    } catch (error) {
      this.setData({ busy: false, errors: error.fields || {} });
      toast(this, error.message, 'error');
    }
  },
});
