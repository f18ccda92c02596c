/** One chart, map or QR block on a whole screen (opened from the chat with the block in the event channel). */
Page({
  data: { block: {} },
  onLoad() {
    const channel = this.getOpenerEventChannel && this.getOpenerEventChannel();
    if (channel && channel.on) {
      channel.on('block', (block) => {
        this.setData({ block: block || {} });
        if (block && block.title) wx.setNavigationBarTitle({ title: block.title });
      });
    }
  },
});
