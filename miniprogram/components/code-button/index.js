/**
 * "获取验证码" with the server's wait before the next send (resend_after): emits "send" once per
 * tap and stays disabled (sending) until the page calls start(seconds), once the server accepted
 * the send, or stop(), when nothing was sent (a check failed, the server refused).
 */
Component({
  properties: {
    label: { type: String, value: '获取验证码' },
    disabled: { type: Boolean, value: false },
  },
  data: { left: 0, sending: false },
  lifetimes: {
    detached() {
      clearInterval(this.timer);
    },
  },
  methods: {
    onTap() {
      if (this.data.sending || this.data.left > 0 || this.data.disabled) return;
      this.setData({ sending: true }); // this.data changes at once: a second tap finds it set
      this.triggerEvent('send');
    },
    start(seconds) {
      clearInterval(this.timer);
      // from the clock, not by counting ticks: WeChat pauses timers while the app is in the background
      const end = Date.now() + Math.max(0, Math.round(seconds || 60)) * 1000;
      const tick = () => {
        const left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
        this.setData({ sending: false, left });
        if (!left) clearInterval(this.timer);
      };
      tick();
      this.timer = setInterval(tick, 1000);
    },
    stop() {
      this.setData({ sending: false });
    },
  },
});
