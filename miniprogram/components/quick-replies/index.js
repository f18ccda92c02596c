/** Quick-reply chips from the server's suggestions; tapping one emits "reply" with the suggestion. */
Component({
  properties: {
    items: { type: Array, value: [] },
  },
  methods: {
    onTap(e) {
      const item = this.data.items[e.currentTarget.dataset.index];
      if (item) this.triggerEvent('reply', item);
    },
  },
});
