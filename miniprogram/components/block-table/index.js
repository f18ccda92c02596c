/**
 * A table block: rows (tap one for its action; a row without one shows its cells in full, which
 * the table cuts off), and "更多" when the server offers a next page (disabled while that page is
 * being fetched: more.busy). Drawn with plain views like TDesign's t-table (equal-width cells,
 * stripes, sideways scroll), which would add ~18 KB to the main package for this one use.
 */
const msg = require('../../utils/messages');

Component({
  properties: {
    block: { type: Object, value: { columns: [], rows: [] } },
  },
  methods: {
    onRow(e) {
      const index = Number(e.currentTarget.dataset.index);
      const row = this.data.block.rows[index];
      if (!row) return;
      if (row.action) {
        this.triggerEvent('action', { action: row.action, label: row.action.label });
        return;
      }
      const { title, columns } = this.data.block;
      wx.showModal({
        title: title || msg.ROW_DETAIL,
        content: columns.map((col) => msg.LABELLED(col.title, row[col.colKey])).join('\n'),
        showCancel: false,
        confirmText: msg.GOT_IT,
      });
    },
    onMore() {
      const more = this.data.block.more;
      if (more && !more.busy) this.triggerEvent('action', { action: more, label: more.label || '更多' });
    },
  },
});
