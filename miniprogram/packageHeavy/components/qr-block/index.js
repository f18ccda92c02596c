/** A QR block: the server's image when it sent one, otherwise drawn from the payload (t-qrcode). */
Component({
  properties: {
    block: { type: Object, value: { title: '', payload: '', image: '' } },
  },
  methods: {
    onCopy() {
      wx.setClipboardData({ data: this.data.block.payload });
    },
    onPreview() {
      // a data: URL cannot be previewed by wx.previewImage; long-press shows WeChat's own menu
    },
  },
});
