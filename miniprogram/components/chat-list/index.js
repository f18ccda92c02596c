/**
 * The chat's scrolling list: TDesign's t-chat (chat-list, 1.16) with its markup and styles, as the
 * chat page uses it (its messages in the default slot, newest last, the input in the "footer"
 * slot). TDesign's own renders its messages through t-chat-message and so carries the markdown
 * renderer (see components/chat-text).
 */
Component({
  options: { virtualHost: true, multipleSlots: true },
  externalClasses: ['class'],
  data: { scrollViewTop: 0 },
  methods: {
    /** As t-chat's: a scroll-top the same as the last one is moved by 1 so that it applies again. */
    scrollToBottom() {
      const top = 999999;
      this.setData({ scrollViewTop: top === this.data.scrollViewTop ? top - 1 : top });
    },
  },
});
