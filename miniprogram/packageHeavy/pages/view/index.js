/**
 * One chart, map or QR block on a whole screen (opened from the chat with the block in the event
 * channel). A tapped pin's action goes back to the chat through the same channel, and the chat
 * shows again to send it.
 */
Page({
  data: { block: {} },
  onLoad() {
    const channel = this.getOpenerEventChannel && this.getOpenerEventChannel();
    this.channel = channel;
    if (channel && channel.on) {
      channel.on('block', (block) => {
        this.setData({ block: block || {} });
        if (block && block.title) wx.setNavigationBarTitle({ title: block.title });
      });
    }
  },
  onAction(e) {
    if (!this.channel || !this.channel.emit) return;
    this.channel.emit('action', e.detail);
    wx.navigateBack();
  },
});
