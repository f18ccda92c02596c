/**
 * The blocks of one answer. Text, notice and card render here; table and form are components of
 * the main package; chart, map and QR come from the "heavy" subpackage (loaded on first use,
 * a plain view stands in meanwhile). Every tap that should reach the server is emitted as
 * "action" with { action, label } (and form: { messageId, key, values } from a form block); also a
 * pin tapped in the full-screen view. An action marked busy (still sending) is not emitted again.
 */
Component({
  properties: {
    blocks: { type: Array, value: [] },
    messageId: { type: String, value: '' },
  },
  methods: {
    onCardAction(e) {
      const { block, index } = e.currentTarget.dataset;
      const act = this.data.blocks[block] && this.data.blocks[block].actions[index];
      if (act && !act.busy) this.triggerEvent('action', { action: act, label: act.label });
    },
    onExpand(e) {
      const block = this.data.blocks[e.currentTarget.dataset.index];
      wx.navigateTo({
        url: '/packageHeavy/pages/view/index',
        events: { action: (detail) => this.triggerEvent('action', detail) },
        success: (res) => res.eventChannel.emit('block', block),
      });
    },
    onChildAction(e) {
      const detail = e.detail;
      if (detail.form) detail.form = Object.assign({ messageId: this.data.messageId }, detail.form);
      this.triggerEvent('action', detail);
    },
  },
});
