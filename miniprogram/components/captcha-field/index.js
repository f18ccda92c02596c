/**
 * The picture captcha: loads one on attach, tap the image for a new one. Emits "change" with
 * { captchaId, answer }. Captchas are single use: pages call refresh() after every submit.
 */
const { services } = require('../../services/index');

Component({
  properties: {
    error: { type: String, value: '' },
  },
  data: { image: '', captchaId: '', answer: '', loading: false },
  lifetimes: {
    attached() {
      this.refresh();
    },
  },
  methods: {
    async refresh() {
      this.setData({ loading: true, answer: '' });
      try {
        const out = await services().auth.captcha();
        this.setData({ image: out.image, captchaId: out.captcha_id, loading: false });
      } catch (error) {
        this.setData({ image: '', captchaId: '', loading: false, error: error.message });
      }
      this.emit();
    },
    onInput(e) {
      this.setData({ answer: ((e.detail && e.detail.value) || '').trim(), error: '' });
      this.emit();
    },
    emit() {
      this.triggerEvent('change', { captchaId: this.data.captchaId, answer: this.data.answer });
    },
    value() {
      return { captchaId: this.data.captchaId, answer: this.data.answer };
    },
  },
});
