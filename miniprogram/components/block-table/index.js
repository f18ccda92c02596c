/**
 * A table block: rows (tap one for its action), and "更多" when the server offers a next page
 * (disabled while that page is being fetched: more.busy).
 */
Component({
  properties: {
    block: { type: Object, value: { columns: [], rows: [] } },
  },
  methods: {
    onRow(e) {
      const index = e.detail && e.detail.index;
      const row = this.data.block.rows[index];
      if (row && row.action) this.triggerEvent('action', { action: row.action, label: row.action.label });
    },
    onMore() {
      const more = this.data.block.more;
      if (more && !more.busy) this.triggerEvent('action', { action: more, label: more.label || '更多' });
    },
  },
});
