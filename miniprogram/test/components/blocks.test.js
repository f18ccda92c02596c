/**
 * What each block type of the chat protocol renders (components/chat-blocks and the components it
 * uses, TDesign's included), and which taps reach the server as actions.
 */
const { mount, settle, text } = require('../support/simulate');
const { EVERY_BLOCK } = require('../support/fixtures');
const blocks = require('../../services/chat/blocks');

function render(rawBlocks) {
  const comp = mount('components/chat-blocks/index', { blocks: blocks.reply({ blocks: rawBlocks }).blocks });
  const actions = [];
  comp.addEventListener('action', (e) => actions.push(e.detail));
  return { comp, actions };
}

const byType = (type) => EVERY_BLOCK.blocks.filter((b) => b.type === type);

test('text: handed to chat-text as text', async () => {
  const { comp } = render(byType('text'));
  await settle();
  const content = comp.querySelector('.content');
  expect(content).toBeTruthy();
  expect(content.instance.data.content).toEqual({ type: 'text', data: '白沙镇共有 3 个村。' });
});

test('notice: its text with the level as a style', async () => {
  const { comp } = render([{ type: 'notice', level: 'warning', text: '数据每晚更新。' }, { type: 'mystery' }]);
  await settle();
  const [warning, unknown] = comp.querySelectorAll('.block-notice');
  expect(text(warning)).toBe('数据每晚更新。');
  expect(warning.dom.className).toContain('notice-warning');
  expect(text(unknown)).toBe('这条消息需要新版小程序才能显示');
});

test('card: title, label/value rows (t-cell) and action buttons; tapping one sends its action', async () => {
  const { comp, actions } = render(byType('card'));
  await settle();
  const card = comp.querySelector('.block-card');
  expect(text(card)).toContain('王家湾村');
  const cells = comp.querySelectorAll('.cell');
  expect(cells.map((c) => [c.instance.data.title, c.instance.data.note])).toEqual([
    ['户数', '128'],
    ['人口', '502'],
  ]);
  const buttons = comp.querySelectorAll('.card-action');
  expect(buttons.map((b) => text(b.querySelector('.t-button')))).toEqual(['本村汇总', '重置密码']);
  expect(buttons[1].instance.data.theme).toBe('danger');
  buttons[0].querySelector('.t-button').dispatchEvent('tap');
  await settle();
  expect(actions).toEqual([{ action: expect.objectContaining({ intent: 'summary', params: { unit_id: 7 } }), label: '本村汇总' }]);
});

test('table: columns and rows, the total, a tap on a row and "更多"', async () => {
  const { comp, actions } = render(byType('table'));
  await settle();
  const table = comp.querySelector('.block-table');
  expect(text(table)).toContain('共 12 条');
  expect(text(table)).toContain('名称类型王家湾村村李家坪村村');
  table.querySelectorAll('.table-row')[1].dispatchEvent('tap'); // no action on this row
  table.querySelectorAll('.table-row')[0].dispatchEvent('tap');
  table.querySelector('.more').querySelector('.t-button').dispatchEvent('tap');
  await settle();
  expect(actions).toEqual([
    { action: expect.objectContaining({ intent: 'unit.show', params: { unit_id: 7 } }), label: '王家湾村' },
    { action: expect.objectContaining({ intent: 'unit.children', params: { unit_id: 4, cursor: 2 } }), label: '更多' },
  ]);
});

test('chart: one bar per label, widths relative to the largest, values with the unit', async () => {
  const { comp } = render(byType('chart'));
  await settle();
  const chart = comp.querySelector('.block-chart');
  const rows = chart.querySelectorAll('.bar-row');
  expect(rows.map((r) => text(r))).toEqual(['王家湾村128户', '李家坪村64户']);
  const fills = chart.querySelectorAll('.bar-fill').map((f) => f.dom.getAttribute('style'));
  expect(fills).toEqual(['width: 100%', 'width: 50%']);
  expect(text(comp)).toContain('全屏查看');
});

test('map: a <map> with one marker per pin, the pin list, and a pin tap sends its action', async () => {
  const { comp, actions } = render(byType('map'));
  await settle();
  const map = comp.querySelector('.block-map');
  expect(map.dom.querySelector('wx-map')).toBeTruthy();
  expect(map.instance.data.markers).toEqual([
    expect.objectContaining({ id: 0, latitude: 25.1, longitude: 102.7, title: '王家湾种植社', callout: expect.objectContaining({ content: '王家湾种植社\n种植' }) }),
  ]); // built here from the pins: the block (setData, history) keeps each pin once
  expect(map.instance.data.points).toEqual([{ latitude: 25.1, longitude: 102.7 }]);
  expect(text(map)).toContain('王家湾种植社种植');
  map.querySelector('.pin').dispatchEvent('tap');
  await settle();
  expect(actions[0]).toEqual({ action: expect.objectContaining({ intent: 'coop.show', params: { id: 3 } }), label: '王家湾种植社' });
});

test('form: inputs per field, checks before sending, submit sends its action with the values once', async () => {
  const { comp, actions } = render(byType('form'));
  await settle();
  const form = comp.querySelector('.block-form');
  const inputs = form.querySelectorAll('.input');
  expect(inputs.map((i) => i.instance.data.label)).toEqual(['姓名', '手机号']);
  const submit = form.querySelector('.submit').querySelector('.t-button');
  submit.dispatchEvent('tap');
  await settle();
  expect(form.querySelectorAll('.field-error').map((e) => text(e))).toEqual(['请填写姓名', '请填写手机号']);
  expect(actions).toEqual([]);
  inputs[0].instance.triggerEvent('change', { value: '王五' });
  inputs[1].instance.triggerEvent('change', { value: '1390000' });
  submit.dispatchEvent('tap');
  await settle();
  expect(form.querySelectorAll('.field-error').map((e) => text(e))).toEqual(['请输入正确的 11 位手机号']); // an agent's phone: a mobile
  inputs[1].instance.triggerEvent('change', { value: '13900000020' });
  submit.dispatchEvent('tap');
  submit.dispatchEvent('tap');
  await settle();
  expect(actions).toEqual([
    {
      action: expect.objectContaining({ intent: 'agent.add', params: { unit_id: 4, name: '王五', phone: '13900000020' } }),
      label: '添加',
      form: { messageId: '', key: 'k0', values: { name: '王五', phone: '13900000020' } },
    },
  ]);
});

test('qr: the server image when given, otherwise drawn from the payload by t-qrcode', async () => {
  const { comp } = render([
    { type: 'qr', title: '配对二维码', payload: 'cwt-pair:ABCD-1234' },
    { type: 'qr', title: '门牌', payload: 'cwt-house:9', image: 'data:image/png;base64,iVBORw0KGgo=' },
  ]);
  await settle();
  const [drawn, image] = comp.querySelectorAll('.block-qr');
  expect(drawn.querySelector('.qrcode').instance.data.value).toBe('cwt-pair:ABCD-1234');
  expect(text(drawn)).toContain('cwt-pair:ABCD-1234');
  expect(image.querySelector('.qr-image')).toBeTruthy(); // an <image> of the server's picture
  expect(image.instance.data.block.image).toBe('data:image/png;base64,iVBORw0KGgo=');
  expect(image.querySelector('.qrcode')).toBeFalsy();
  expect(drawn.querySelector('.qr-image')).toBeFalsy();
});

test('"全屏查看" opens the heavy subpackage page with the block', async () => {
  const { comp } = render(byType('chart'));
  await settle();
  comp.querySelector('.expand').dispatchEvent('tap');
  await settle();
  const nav = global.__navigations[0];
  expect(nav.url).toBe('/packageHeavy/pages/view/index');
  expect(nav.channel.emitted[0][0]).toBe('block');
  expect(nav.channel.emitted[0][1]).toMatchObject({ type: 'chart', title: '各村户数' });
});

test('a pin tapped in the full-screen map goes back to the chat as an action', async () => {
  const { comp, actions } = render(byType('map'));
  await settle();
  comp.querySelector('.expand').dispatchEvent('tap');
  await settle();
  const opened = global.__navigations[0];
  // The channel as the full-screen page sees it: the block from the chat, its events back to the chat.
  global.__openerChannel = {
    on: (event, fn) => event === 'block' && fn(opened.channel.emitted[0][1]),
    emit: (event, detail) => opened.events[event](detail),
  };
  const view = mount('packageHeavy/pages/view/index');
  await settle();
  view.querySelector('.block-map').querySelector('.pin').dispatchEvent('tap');
  await settle();
  expect(actions).toEqual([{ action: expect.objectContaining({ intent: 'coop.show', params: { id: 3 } }), label: '王家湾种植社' }]);
  expect(global.__navigations.map((n) => n.name)).toEqual(['navigateTo', 'navigateBack']);
});

test('code button: a double tap sends once; it is ready again after stop() (nothing was sent) and counts down after start()', async () => {
  const button = mount('components/code-button/index');
  const sent = [];
  button.addEventListener('send', () => sent.push(1));
  const tap = () => button.querySelector('.btn').querySelector('.t-button').dispatchEvent('tap');
  tap();
  tap();
  await settle();
  expect(sent).toHaveLength(1);
  expect(button.querySelector('.btn').instance.data.disabled).toBe(true);
  button.instance.stop();
  await settle();
  tap();
  await settle();
  expect(sent).toHaveLength(2);
  button.instance.start(60);
  await settle();
  tap();
  expect(sent).toHaveLength(2);
  expect(text(button)).toBe('60 秒后重发');
  button.detach();
});

test('table: tapping a row without an action shows its cut-off cells in full (wx.showModal); a row with one sends it', async () => {
  const long = '王家湾村茶叶种植专业合作社联合社（白沙镇示范基地）';
  const { comp, actions } = render([
    {
      type: 'table',
      title: '合作社',
      columns: ['名称', '负责人'],
      rows: [
        [long, '王五'],
        ['李家坪村合作社', '李四'],
      ],
      row_actions: [null, { label: '李家坪村合作社', intent: 'unit.card', params: { unit_id: 8 } }],
    },
  ]);
  const shown = [];
  global.wx.showModal = (options) => shown.push(options);
  await settle();
  const rows = comp.querySelector('.block-table').querySelectorAll('.table-row');
  rows[0].dispatchEvent('tap');
  rows[1].dispatchEvent('tap');
  await settle();
  expect(shown).toEqual([expect.objectContaining({ title: '合作社', content: `名称：${long}\n负责人：王五`, showCancel: false })]);
  expect(actions).toEqual([{ action: expect.objectContaining({ intent: 'unit.card' }), label: '李家坪村合作社' }]);
});

test('card: buttons are keyed uniquely, also several with the same intent (wx:key)', async () => {
  const wxml = require('fs').readFileSync(require('path').join(__dirname, '../../components/chat-blocks/index.wxml'), 'utf8');
  const loop = wxml.match(/<t-button\s+wx:for="\{\{block\.actions\}\}"\s+wx:key="([^"]+)"/);
  expect(loop).toBeTruthy();
  const { comp } = render([
    {
      type: 'card',
      title: '白沙镇',
      actions: [
        { label: '王家湾村', intent: 'unit.card', params: { unit_id: 7 } },
        { label: '李家坪村', intent: 'unit.card', params: { unit_id: 8 } },
        { label: '张家岭村', intent: 'unit.card', params: { unit_id: 9 } },
      ],
    },
  ]);
  await settle();
  const shownActions = comp.instance.data.blocks[0].actions;
  const keys = shownActions.map((a) => (loop[1] === '*this' ? a : a[loop[1]]));
  expect(keys.every((k) => k !== undefined && k !== '')).toBe(true);
  expect(new Set(keys).size).toBe(3);
  expect(comp.querySelectorAll('.card-action').map((b) => text(b.querySelector('.t-button')))).toEqual(['王家湾村', '李家坪村', '张家岭村']);
});

test('map: with no pins, no map of the open sea at 0°, 0° but a line saying there is nothing to place', async () => {
  const { comp } = render([{ type: 'map', title: '合作社分布', pins: [] }]);
  await settle();
  const map = comp.querySelector('.block-map');
  expect(map.dom.querySelector('wx-map')).toBeFalsy();
  expect(text(map)).toBe('合作社分布没有可在地图上标出的位置');
});

test('code button: the countdown follows the clock, so it is right after the app was in the background (timers paused)', async () => {
  const button = mount('components/code-button/index');
  jest.useFakeTimers({ now: 1700000000000 });
  try {
    button.instance.start(60);
    jest.setSystemTime(1700000000000 + 50000); // 50 s reading the SMS elsewhere: no tick ran
    jest.advanceTimersByTime(1000); // back: the next tick
    expect(button.instance.data.left).toBe(9);
    jest.setSystemTime(1700000000000 + 120000);
    jest.advanceTimersByTime(1000);
    expect(button.instance.data.left).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  } finally {
    jest.useRealTimers();
  }
  button.detach();
});
