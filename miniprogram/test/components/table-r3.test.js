/**
 * Round 3: the table block is drawn without TDesign's t-table (kept off the main package); it
 * still shows the header, every cell, "没有数据" for no rows, and a tapped row's action.
 */
const { mount, settle, text } = require('../support/simulate');
const blocks = require('../../services/chat/blocks');

function render(rawBlocks) {
  const comp = mount('components/chat-blocks/index', { blocks: blocks.reply({ blocks: rawBlocks }).blocks });
  const actions = [];
  comp.addEventListener('action', (e) => actions.push(e.detail));
  return { comp, actions };
}

test('table: header and cells in order; the third row tapped sends its own action', async () => {
  const { comp, actions } = render([
    {
      type: 'table',
      title: '下级单位',
      columns: ['名称', '类型', '户数'],
      rows: [
        ['王家湾村', '村', '128'],
        ['李家坪村', '村', '64'],
        ['张家沟村', '村', '32'],
      ],
      row_actions: [null, null, { label: '张家沟村', intent: 'unit.show', params: { unit_id: 9 } }],
    },
  ]);
  await settle();
  const table = comp.querySelector('.block-table');
  expect(table.querySelectorAll('.table-th').map(text)).toEqual(['名称', '类型', '户数']);
  const rows = table.querySelectorAll('.table-row');
  expect(rows.map(text)).toEqual(['王家湾村村128', '李家坪村村64', '张家沟村村32']);
  rows[2].dispatchEvent('tap');
  await settle();
  expect(actions).toEqual([{ action: expect.objectContaining({ intent: 'unit.show', params: { unit_id: 9 } }), label: '张家沟村' }]);
});

test('table: no rows shows "没有数据"', async () => {
  const { comp } = render([{ type: 'table', title: '合作社', columns: ['名称'], rows: [] }]);
  await settle();
  const table = comp.querySelector('.block-table');
  expect(table.querySelectorAll('.table-row')).toHaveLength(0);
  expect(text(table)).toContain('没有数据');
});
