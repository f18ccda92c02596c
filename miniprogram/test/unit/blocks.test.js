/** Block normalisation for every block type of backend/chat/protocol.py. */
const blocks = require('../../services/chat/blocks');
const msg = require('../../utils/messages');

test('text keeps its text and becomes chat-text content', () => {
  expect(blocks.block({ type: 'text', text: '你好' }, 0)).toEqual({
    key: 'k0',
    type: 'text',
    text: '你好',
    content: { type: 'text', data: '你好' },
  });
});

test('card: fields and actions (style, theme, confirm, a unique key); actions without an intent are dropped', () => {
  const card = blocks.block(
    {
      type: 'card',
      title: '王家湾村',
      subtitle: '村',
      fields: [{ label: '户数', value: '120' }, 'junk'],
      actions: [
        { label: '重置密码', intent: 'account.reset_password', params: { id: 3 }, style: 'danger', confirm: '确定重置？' },
        { label: '坏的' },
        { label: '汇总', intent: 'summary', params: { unit_id: 9 }, style: 'weird' },
      ],
    },
    1
  );
  expect(card.fields).toEqual([{ label: '户数', value: '120' }]);
  expect(card.actions).toEqual([
    { key: 'a0', label: '重置密码', intent: 'account.reset_password', params: { id: 3 }, style: 'danger', theme: 'danger', confirm: '确定重置？' },
    { key: 'a1', label: '汇总', intent: 'summary', params: { unit_id: 9 }, style: 'default', theme: 'default', confirm: '' },
  ]);
});

test('table: columns become t-table columns, rows keyed, row actions, total and "more"', () => {
  const table = blocks.block(
    {
      type: 'table',
      title: '下级单位',
      columns: ['名称', '类型'],
      rows: [['王家湾村', '村'], ['李家坪村', 7], 'bad'],
      row_actions: [{ label: '王家湾村', intent: 'unit.show', params: { id: 1 } }, null],
      total: 25,
      more: { label: '更多', intent: 'unit.children', params: { cursor: 2 } },
    },
    2
  );
  expect(table.columns).toEqual([
    { colKey: 'c0', title: '名称', ellipsis: true },
    { colKey: 'c1', title: '类型', ellipsis: true },
  ]);
  expect(table.rows).toHaveLength(2);
  expect(table.rows[1]).toMatchObject({ key: 'r1', c0: '李家坪村', c1: '7', action: null });
  expect(table.rows[0].action).toMatchObject({ intent: 'unit.show', params: { id: 1 }, label: '王家湾村' });
  expect(table).toMatchObject({ summary: '共 25 条', tappable: true, total: 25 });
  expect(table.more).toMatchObject({ intent: 'unit.children', params: { cursor: 2 } });
  expect(blocks.block({ type: 'table', title: 't', columns: ['a'], rows: [['1']] }, 0)).toMatchObject({
    more: null,
    summary: '1 条',
    tappable: false,
  });
});

test('chart: bars in percent of the largest value, numbers formatted, pie shares', () => {
  const chart = blocks.block(
    { type: 'chart', title: '户数', kind: 'bar', labels: ['甲', '乙', '丙'], series: [{ name: '户', values: [50, 100, 0] }], unit: '户' },
    0
  );
  expect(chart.groups[0].bars.map((b) => [b.label, b.percent, b.display])).toEqual([
    ['甲', 50, '50户'],
    ['乙', 100, '100户'],
    ['丙', 0, '0户'],
  ]);
  const pie = blocks.block({ type: 'chart', title: 'p', kind: 'pie', labels: ['a', 'b'], series: [{ name: '', values: [1, 3] }] }, 0);
  expect(pie.groups[0].bars.map((b) => b.display)).toEqual(['1 (25%)', '3 (75%)']);
  const big = blocks.block({ type: 'chart', title: 'x', labels: ['a'], series: [{ name: 's', values: [1234567.891] }] }, 0);
  expect(big.groups[0].bars[0].display).toBe('1,234,567.89');
});

test('map: pins (kept once: the map component builds its markers), centred on the pins; bad pins dropped', () => {
  const map = blocks.block(
    {
      type: 'map',
      title: '合作社分布',
      pins: [
        { latitude: 25, longitude: 102, title: 'A社', subtitle: '种植', action: { label: 'A社', intent: 'coop.show', params: { id: 1 } } },
        { latitude: 27, longitude: 104, title: 'B社' },
        { latitude: 'x', longitude: 1, title: 'bad' },
      ],
    },
    0
  );
  expect(map.pins).toHaveLength(2);
  expect(map.pins[0]).toMatchObject({ id: 0, latitude: 25, longitude: 102, title: 'A社', subtitle: '种植' });
  expect(map).toMatchObject({ latitude: 26, longitude: 103 });
  expect(map.pins[0].action.intent).toBe('coop.show');
  expect(map.markers).toBeUndefined(); // not a second and third copy of every pin in setData and the history
  expect(map.points).toBeUndefined();
});

test('a number field takes full-width digits, minus and point (as the server reads them), and sends them half-width', () => {
  const form = blocks.block(
    {
      type: 'form',
      title: '编辑信息卡',
      fields: [
        { name: 'members', label: '社员数', kind: 'number' },
        { name: 'longitude', label: '经度', kind: 'number', required: false },
      ],
      submit: { label: '保存', intent: 'coop.card_save', params: { unit_id: 7 } },
    },
    0
  );
  expect(blocks.formErrors(form, { members: '１５０', longitude: '－２．５' })).toEqual({});
  expect(blocks.formAction(form, { members: '１５０', longitude: '－２．５' }).params).toEqual({ unit_id: 7, members: '150', longitude: '-2.5' });
  expect(blocks.formErrors(form, { members: '一百五' })).toEqual({ members: msg.BAD_NUMBER });
});

test('form: fields by kind, initial values; a form without submit becomes a notice', () => {
  const form = blocks.block(
    {
      type: 'form',
      title: '新增经办人',
      fields: [
        { name: 'phone', label: '手机号', kind: 'phone' },
        { name: 'role', label: '角色', kind: 'select', options: [{ label: '管理员', value: 'admin' }], value: 'admin' },
        { name: 'note', label: '备注', kind: 'textarea', required: false },
        { label: 'no name' },
      ],
      submit: { label: '提交', intent: 'agent.add', params: { unit_id: 4 } },
    },
    0
  );
  expect(form.fields.map((f) => [f.name, f.kind, f.inputType, f.required])).toEqual([
    ['phone', 'phone', 'number', true],
    ['role', 'select', 'text', true],
    ['note', 'textarea', 'text', false],
  ]);
  expect(form.values).toEqual({ phone: '', role: 'admin', note: '' });
  expect(form.fields[1].optionLabels).toEqual(['管理员']);
  expect(blocks.block({ type: 'form', title: '无提交', fields: [] }, 3)).toMatchObject({ type: 'notice', text: '无提交' });
});

test('form checks by kind, and the submit action carries the values', () => {
  const form = blocks.block(
    {
      type: 'form',
      title: 'f',
      fields: [
        { name: 'phone', label: '手机号', kind: 'phone' },
        { name: 'id', label: '身份证号', kind: 'id_number' },
        { name: 'n', label: '数量', kind: 'number', required: false },
        { name: 'd', label: '日期', kind: 'date', required: false },
      ],
      submit: { label: '提交', intent: 'x.add', params: { unit_id: 4 } },
    },
    0
  );
  expect(blocks.formErrors(form, { phone: '', id: '1101' , n: 'abc', d: '2024/1/1' })).toEqual({
    phone: '请填写手机号',
    id: '身份证号码不正确（应为 18 位，出生日期有效，且校验位正确）',
    n: '请输入数字',
    d: '日期格式应为 YYYY-MM-DD',
  });
  const values = { phone: '13900000001', id: '11010519491231002x', n: '3' };
  expect(blocks.formErrors(form, values)).toEqual({});
  expect(blocks.formAction(form, values)).toEqual({
    intent: 'x.add',
    params: { unit_id: 4, phone: '13900000001', id: '11010519491231002X', n: '3' },
  });
});

test('form values pasted with control characters (a line break from Word is \\v) go out as spaces, which the server takes', () => {
  const form = blocks.block(
    {
      type: 'form',
      title: '走访记录',
      fields: [
        { name: 'note', label: '情况', kind: 'textarea' },
        { name: 'name', label: '姓名' },
      ],
      submit: { label: '提交', intent: 'visit.add' },
    },
    0
  );
  const values = { note: '已走访\u000b家中 3 人\n均在家', name: '\u0007王五\u001f' };
  expect(blocks.formErrors(form, values)).toEqual({});
  expect(blocks.formAction(form, values).params).toEqual({ note: '已走访 家中 3 人\n均在家', name: '王五' });
  expect(blocks.formErrors(form, { note: '\u0007 ', name: '王五' })).toEqual({ note: '请填写情况' }); // nothing left to send
});

test('qr: only data:image URLs are used as images; the payload is kept', () => {
  expect(blocks.block({ type: 'qr', title: '配对', payload: 'cwt://pair/abc', image: 'data:image/png;base64,AAA' }, 0)).toMatchObject({
    image: 'data:image/png;base64,AAA',
    payload: 'cwt://pair/abc',
  });
  expect(blocks.block({ type: 'qr', title: '配对', payload: 'p', image: 'https://evil/x.png' }, 0).image).toBe('');
});

test('notice levels; unknown and malformed blocks never break the answer', () => {
  expect(blocks.block({ type: 'notice', level: 'warning', text: '注意' }, 0)).toMatchObject({ level: 'warning' });
  expect(blocks.block({ type: 'notice', level: 'loud', text: '?' }, 0).level).toBe('info');
  expect(blocks.block({ type: 'video', src: 'x' }, 4)).toEqual({ key: 'k4', type: 'unsupported', text: '这条消息需要新版小程序才能显示' });
  expect(blocks.block(null, 5).type).toBe('unsupported');
});

test('a reply: blocks, suggestions (text or action), context; a broken reply is an error notice', () => {
  const reply = blocks.reply({
    blocks: [{ type: 'text', text: 'hi' }],
    suggestions: [{ label: '汇总', text: '汇总' }, { label: '下级', action: { label: '下级', intent: 'unit.children' } }, { label: '空' }],
    context: '白沙镇',
  });
  expect(reply.suggestions).toEqual([
    { key: 's0', label: '汇总', text: '汇总', action: null },
    { key: 's1', label: '下级', text: '', action: expect.objectContaining({ intent: 'unit.children' }) },
  ]);
  expect(reply.context).toBe('白沙镇');
  expect(blocks.reply('<html>').blocks[0]).toMatchObject({ type: 'notice', level: 'error' });
});

test('a refused form: the server\'s field messages go under its fields ("phone" or "action.params.phone"), else its message', () => {
  const form = blocks.block(
    { type: 'form', title: '新增经办人', fields: [{ name: 'name', label: '姓名' }, { name: 'phone', label: '手机号', kind: 'phone' }], submit: { intent: 'agent.add' } },
    0
  );
  expect(blocks.formRefusal(form, { message: '输入有误', fields: { 'action.params.phone': '手机号已登记', name: '姓名太长', unit_id: '单位不存在' } })).toEqual({
    errors: { phone: '手机号已登记', name: '姓名太长' },
    message: '',
  });
  expect(blocks.formRefusal(form, { message: '无权操作', fields: { unit_id: '单位不存在' } })).toEqual({ errors: {}, message: '无权操作' });
  expect(blocks.formRefusal(form, { fields: {} })).toEqual({ errors: {}, message: '服务器繁忙，请稍后重试' });
});

test('a row action with a generic label ("信息卡") is sent with the row named: "信息卡：<first cell>"', () => {
  const table = blocks.block(
    {
      type: 'table',
      columns: ['名称', '所在村'],
      rows: [['王家湾村茶叶合作社', '王家湾村'], ['李家坪村', '白沙镇'], ['', '—']],
      row_actions: [
        { label: '信息卡', intent: 'coop.card', params: { unit_id: 21 } },
        { label: '李家坪村', intent: 'unit.card', params: { unit_id: 8 } },
        { label: '汇总', intent: 'summary', params: { unit_id: 9 } },
      ],
    },
    0
  );
  expect(table.rows.map((r) => r.action.label)).toEqual(['信息卡：王家湾村茶叶合作社', '李家坪村', '汇总']);
  expect(table.rows[0].action).toMatchObject({ intent: 'coop.card', params: { unit_id: 21 } });
});

test('a form phone field marked landline (a co-op contact) takes an office line and says so; an unmarked one (an agent) a mobile only', () => {
  const form = (landline) =>
    blocks.block(
      { type: 'form', title: 'f', fields: [{ name: 'phone', label: '联系电话', kind: 'phone', landline }], submit: { intent: 'x.add' } },
      0
    );
  const contact = form(true);
  expect(blocks.formErrors(contact, { phone: '0871-65150432' })).toEqual({});
  expect(blocks.formErrors(contact, { phone: '087165150432' })).toEqual({});
  const refused = blocks.formErrors(contact, { phone: '1390000' }).phone;
  expect(refused).toContain('固定电话');
  expect(refused).not.toBe(msg.BAD_PHONE);
  expect(msg.BAD_PHONE).not.toContain('固定电话'); // login, bound phone, recovery, agents: a mobile only
  const agent = form(undefined);
  expect(blocks.formErrors(agent, { phone: '0871-65150432' })).toEqual({ phone: msg.BAD_PHONE });
  expect(blocks.formErrors(agent, { phone: '13900001111' })).toEqual({});
});
