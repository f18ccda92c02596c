/**
 * Manual review submission (R5): identity details, a statement, 1-3 images picked with
 * wx.chooseMedia (size checked before upload), and a captcha; one multipart request.
 */
const { recoveryServices } = require('../../services/index');
const { toast } = require('../../../utils/ui');
const { isPhone, isIdNumber } = require('../../../utils/validate');
const { checkChosen, MAX_IMAGES, MAX_IMAGE_BYTES, texts: imageTexts } = require('../../utils/images');
const { idempotencyKey } = require('../../../utils/ids');
const msg = require('../../../utils/messages');

const KINDS = [
  { value: 'password', label: '找回密码' },
  { value: 'username', label: '找回用户名' },
  { value: 'unit', label: '找回单位账号' },
];

// The server's answer to a submission (backend/reviews/messages.py), for one whose answer was lost.
const SUBMITTED = '申请已提交。上级单位管理员审核后，结果会以短信发送到您填写的手机号。';

// Pasted control characters as spaces: the server refuses them (the statement keeps its line breaks).
const oneLine = (text) => text.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, ' ').trim();
const lines = (text) => text.replace(/\r\n?/g, '\n').replace(/[\x00-\x09\x0b-\x1f\x7f\u2028\u2029]/g, ' ').trim();

function sizeText(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

Page({
  data: {
    kinds: KINDS,
    kind: 'password',
    username: '',
    creditCode: '',
    name: '',
    idNumber: '',
    phone: '',
    statement: '',
    images: [],
    maxImages: MAX_IMAGES,
    errors: {},
    busy: false,
    done: false,
    message: '',
  },

  onLoad(query) {
    this.captcha = { captchaId: '', answer: '' };
    if (query && query.kind && KINDS.some((k) => k.value === query.kind)) this.setData({ kind: query.kind });
  },

  onKind(e) {
    const kind = e.currentTarget.dataset.kind;
    if (kind !== this.data.kind) this.key = null; // another kind is another submission (the server replays by key alone)
    this.setData({ kind, errors: {} });
  },

  onField(e) {
    const field = e.currentTarget.dataset.field;
    this.setData({ [field]: (e.detail && e.detail.value) || '', errors: {} });
    this.key = null; // a changed form is a new submission
  },

  onCaptcha(e) {
    this.captcha = e.detail;
  },

  onChoose() {
    wx.chooseMedia({
      count: MAX_IMAGES - this.data.images.length,
      mediaType: ['image'],
      sourceType: ['album', 'camera'],
      sizeType: ['compressed'],
      success: (res) => {
        const picked = (res.tempFiles || []).map((f) => ({ path: f.tempFilePath, size: f.size, sizeText: sizeText(f.size) }));
        const tooBig = picked.filter((f) => f.size > MAX_IMAGE_BYTES);
        if (tooBig.length) toast(this, imageTexts.TOO_BIG, 'warning');
        const images = this.data.images.concat(picked.filter((f) => f.size <= MAX_IMAGE_BYTES));
        this.setData({ images: images.slice(0, MAX_IMAGES), 'errors.images': '' });
        this.key = null;
      },
    });
  },

  onRemove(e) {
    const images = this.data.images.slice();
    images.splice(e.currentTarget.dataset.index, 1);
    this.setData({ images });
    this.key = null;
  },

  validate() {
    const d = this.data;
    const errors = {};
    if (d.kind === 'password' && !d.username.trim()) errors.username = msg.REQUIRED + '用户名';
    if (d.kind === 'unit' && !d.creditCode.trim()) errors.credit_code = msg.REQUIRED + '统一社会信用代码';
    if (!d.name.trim()) errors.name = msg.REQUIRED + '姓名';
    if (!isIdNumber(d.idNumber)) errors.id_number = msg.BAD_ID_NUMBER;
    if (!isPhone(d.phone)) errors.phone = msg.BAD_PHONE;
    if (!d.statement.trim()) errors.statement = msg.REQUIRED + '情况说明';
    const imageProblem = checkChosen(d.images);
    if (imageProblem) errors.images = imageProblem;
    return errors;
  },

  async onSubmit() {
    const errors = this.validate();
    if (Object.keys(errors).length) {
      this.setData({ errors });
      return;
    }
    const d = this.data;
    const form = {
      kind: d.kind,
      name: oneLine(d.name),
      id_number: d.idNumber.toUpperCase(),
      phone: d.phone,
      username: d.kind === 'password' ? oneLine(d.username) : '',
      credit_code: d.kind === 'unit' ? d.creditCode.trim().toUpperCase() : '',
      statement: lines(d.statement),
      captcha_id: this.captcha.captchaId,
      captcha_answer: this.captcha.answer,
    };
    this.key = this.key || idempotencyKey(); // a resend of the same submission is one review
    this.setData({ busy: true });
    try {
      const out = await recoveryServices().reviews.submit(form, d.images, this.key);
      this.setData({ busy: false, done: true, message: out.message });
    } catch (error) {
      if (error.code === 'request_done') {
        // a resend of a submission the server took (its answer was lost): it is one review already
        this.setData({ busy: false, done: true, message: SUBMITTED });
        return;
      }
      if (!error.code) {
        // a picture read on the phone failed (utils/images): nothing was sent, the captcha is unspent
        this.setData({ busy: false, errors: { images: error.message } });
        toast(this, error.message, 'error');
        return;
      }
      this.setData({ busy: false, errors: error.fields || {} });
      toast(this, error.message, 'error');
      if (!error.retryable) {
        this.key = null;
        this.selectComponent('#captcha').refresh();
      }
    }
  },

  onLogin() {
    wx.reLaunch({ url: '/packageLogin/pages/login/index' });
  },
});
