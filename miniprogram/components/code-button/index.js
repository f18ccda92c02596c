/**
 * "获取验证码" with the server's wait before the next send (resend_after): emits "send"; the page
 * calls start(seconds) once the server accepted the send.
 */
Component({
  properties: {
    label: { type: String, value: '获取验证码' },
    disabled: { type: Boolean, value: false },
  },
  data: { left: 0 },
  lifetimes: {
    detached() {
      clearInterval(this.timer);
    },
  },
  methods: {
    onTap() {
      if (this.data.left > 0 || this.data.disabled) return;
      this.triggerEvent('send');
    },
    start(seconds) {
      clearInterval(this.timer);
      this.setData({ left: Math.max(0, Math.round(seconds || 60)) });
      this.timer = setInterval(() => {
        const left = this.data.left - 1;
        this.setData({ left: Math.max(0, left) });
        if (left <= 0) clearInterval(this.timer);
      }, 1000);
    },
  },
});
