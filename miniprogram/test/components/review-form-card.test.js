/**
 * The co-op info card as a chat form (coop.edit answers it, coop.save takes it back), with the
 * block exactly as backend/coops/card_form.py builds it: every field kind, what is sent, the
 * server's refusals, resends, restarts, and a second form in a later answer.
 */
const exparser = require('miniprogram-exparser');
const { mount, settle, text } = require('../support/simulate');
const { install } = require('../support/fake-server');
const { signIn, SESSION } = require('../support/fixtures');
const blocks = require('../../services/chat/blocks');

const YES_NO = [
  { label: '是', value: 'true' },
  { label: '否', value: 'false' },
];

/** The form block the backend answers to "编辑王家湾村茶叶专业合作社的信息卡" (printed from tests/test_chat_card_form.py). */
function cardForm(values, version) {
  const v = Object.assign(
    {
      contact_name: '王建国',
      members: '120',
      staff: '8',
      registered_capital: '50',
      assets: '123.456789',
      revenue: '88',
      profit: '-1.5',
      is_village_level: 'true',
      is_benchmark: 'true',
      in_poverty_county: 'false',
      latitude: '25.04',
      longitude: '102.71',
    },
    values || {}
  );
  const field = (name, label, kind, required, extra) =>
    Object.assign({ name, label, kind, required }, v[name] === undefined ? {} : { value: v[name] }, extra || {}); // no value: absent, as pydantic leaves it
  return {
    type: 'form',
    title: '编辑信息卡：王家湾村茶叶专业合作社',
    fields: [
      field('contact_name', '联系人', 'text', false),
      field('contact_phone', '联系电话（不改请留空）', 'phone', false, { landline: true }), // as the server marks it
      field('address', '详细地址', 'text', false),
      field('members', '社员数', 'number', true),
      field('staff', '从业人员', 'number', true),
      field('registered_capital', '注册资本（万元）', 'number', true),
      field('assets', '资产总额（万元）', 'number', true),
      field('revenue', '营业收入（万元）', 'number', true),
      field('profit', '利润（万元，亏损填负数）', 'text', true),
      field('founded_year', '成立年份', 'number', false),
      field('report_year', '数据年份', 'number', false),
      field('is_village_level', '村级社', 'select', true, { options: YES_NO }),
      field('is_benchmark', '标杆社', 'select', true, { options: YES_NO }),
      field('in_poverty_county', '贫困县基层社', 'select', true, { options: YES_NO }),
      field('business_scope', '经营范围', 'textarea', false),
      field('latitude', '纬度', 'number', false),
      field('longitude', '经度', 'number', false),
    ],
    submit: { label: '保存', intent: 'coop.save', params: { unit_id: 8, version: version || '"973cef335894fdf0560b5dda97d0989a"' }, style: 'primary' },
  };
}

const INPUTS = ['contact_name', 'contact_phone', 'address', 'members', 'staff', 'registered_capital', 'assets', 'revenue', 'profit', 'founded_year', 'report_year', 'latitude', 'longitude'];
const SELECTS = ['is_village_level', 'is_benchmark', 'in_poverty_county'];
const SHOWN = { contact_name: '王建国', members: '120', staff: '8', registered_capital: '50', assets: '123.456789', revenue: '88', profit: '-1.5', latitude: '25.04', longitude: '102.71' };
const SENT_AS_SHOWN = Object.assign({ unit_id: 8, version: '"973cef335894fdf0560b5dda97d0989a"', is_village_level: 'true', is_benchmark: 'true', in_poverty_county: 'false' }, SHOWN);

const tapButton = (node) => node.querySelector('.t-button').dispatchEvent('tap');

/** The form's parts by field name: t-input of text / phone / number, the pickers of the selects, the textarea. */
function parts(form) {
  const inputs = form.querySelectorAll('.input');
  const pickers = Array.from(form.dom.querySelectorAll('wx-picker')); // a native node: no class to select it by
  const change = (dom, detail) => exparser.Event.dispatchEvent(dom.__wxElement, exparser.Event.create('change', detail, { bubbles: true, composed: true }));
  return {
    input: (name) => inputs[INPUTS.indexOf(name)],
    type: (name, value) => inputs[INPUTS.indexOf(name)].instance.triggerEvent('change', { value }),
    pick: (name, index) => change(pickers[SELECTS.indexOf(name)], { value: String(index) }), // what the picker's 确定 does
    shown: (name) => text(pickers[SELECTS.indexOf(name)]).replace('&nbsp;*', ''), // t-cell's required mark, decoded by WeChat only
    scope: (value) => form.querySelector('.textarea').dispatchEvent('input', { detail: { value } }),
    submit: () => tapButton(form.querySelector('.submit')),
    errors: () => form.querySelectorAll('.field-error').map((e) => [e.dom.dataset.field, text(e)]),
  };
}

function renderAlone(raw) {
  const comp = mount('components/chat-blocks/index', { blocks: blocks.reply({ blocks: [raw || cardForm()] }).blocks, messageId: 'm1' });
  const actions = [];
  comp.addEventListener('action', (e) => actions.push(e.detail));
  return { comp, actions, form: () => comp.querySelector('.block-form') };
}

test('the card form: every field kind renders with the card\'s values, selects as 是/否, numbers on the digit keyboard, the profit on the text one', async () => {
  const { form } = renderAlone();
  await settle();
  const p = parts(form());
  expect(form().querySelectorAll('.input').map((i) => [i.instance.data.label, i.instance.data.type, i.instance.data.value || ''])).toEqual([
    ['联系人', 'text', '王建国'],
    ['联系电话（不改请留空）', 'number', ''],
    ['详细地址', 'text', ''],
    ['社员数', 'digit', '120'],
    ['从业人员', 'digit', '8'],
    ['注册资本（万元）', 'digit', '50'],
    ['资产总额（万元）', 'digit', '123.456789'],
    ['营业收入（万元）', 'digit', '88'],
    ['利润（万元，亏损填负数）', 'text', '-1.5'], // a digit keyboard has no minus sign
    ['成立年份', 'digit', ''],
    ['数据年份', 'digit', ''],
    ['纬度', 'digit', '25.04'],
    ['经度', 'digit', '102.71'],
  ]);
  expect(SELECTS.map((name) => p.shown(name))).toEqual(['村级社是', '标杆社是', '贫困县基层社否']);
  expect(form().instance.data.block.fields.filter((f) => f.kind === 'select').map((f) => f.optionLabels)).toEqual([
    ['是', '否'],
    ['是', '否'],
    ['是', '否'],
  ]);
  expect(form().querySelector('.textarea')).toBeTruthy();
  expect(text(form())).toContain('经营范围');
  expect(text(form().querySelector('.submit').querySelector('.t-button'))).toBe('保存');
});

test('the card form: typing in every kind is kept as typed; a select sends "true"/"false"; a loss goes with its minus sign', async () => {
  const { form, actions, comp } = renderAlone();
  await settle();
  const p = parts(form());
  p.type('members', '150');
  p.type('profit', '-3.25');
  p.type('contact_phone', '13912345670');
  p.scope('茶叶种植、加工\n销售');
  p.pick('is_benchmark', 1); // 否
  p.pick('in_poverty_county', 0); // 是
  await settle();
  comp.setData({ blocks: blocks.reply({ blocks: [cardForm()] }).blocks }); // the chat renders again
  await settle();
  expect(form().instance.data.values).toMatchObject({
    members: '150',
    profit: '-3.25',
    contact_phone: '13912345670',
    business_scope: '茶叶种植、加工\n销售',
    is_benchmark: 'false',
    in_poverty_county: 'true',
  });
  expect(p.shown('is_benchmark')).toBe('标杆社否');
  expect(p.shown('in_poverty_county')).toBe('贫困县基层社是');
  p.submit();
  await settle();
  expect(actions).toHaveLength(1);
  expect(actions[0].action).toMatchObject({ intent: 'coop.save' });
  expect(actions[0].action.params).toEqual(
    Object.assign({}, SENT_AS_SHOWN, {
      members: '150',
      profit: '-3.25',
      contact_phone: '13912345670',
      business_scope: '茶叶种植、加工\n销售',
      is_benchmark: 'false',
      in_poverty_county: 'true',
    })
  );
  expect(actions[0].label).toBe('保存');
});

test('the card form: an emptied optional field is left out of what is sent (the server clears it; an empty phone keeps it)', async () => {
  const { form, actions } = renderAlone();
  await settle();
  const p = parts(form());
  p.type('contact_name', '');
  p.type('latitude', '   ');
  p.type('longitude', '');
  p.submit();
  await settle();
  const sent = actions[0].action.params;
  ['contact_name', 'contact_phone', 'address', 'latitude', 'longitude', 'founded_year', 'report_year', 'business_scope'].forEach((name) => expect(sent).not.toHaveProperty(name));
  expect(sent).toMatchObject({ members: '120', unit_id: 8 });
});

test('the card form: an empty required field is stopped on the phone with a Chinese message under it; nothing is sent', async () => {
  const { form, actions } = renderAlone();
  await settle();
  const p = parts(form());
  p.type('members', '');
  p.type('profit', ' ');
  p.type('staff', '很多');
  p.submit();
  await settle();
  expect(actions).toEqual([]);
  expect(p.errors()).toEqual([
    ['members', '请填写社员数'],
    ['staff', '请输入数字'],
    ['profit', '请填写利润（万元，亏损填负数）'],
  ]);
  expect(form().instance.data.sent).toBe(false);
  p.type('members', '0'); // a zero is a value
  p.type('profit', '0');
  p.type('staff', '8');
  p.submit();
  await settle();
  expect(actions).toHaveLength(1);
  expect(actions[0].action.params).toMatchObject({ members: '0', profit: '0', staff: '8' });
});

test('the card form: an office line is a contact phone the server takes (0871-65150432), so the phone lets it go', async () => {
  const { form, actions } = renderAlone();
  await settle();
  const p = parts(form());
  p.type('contact_phone', '0871-65150432');
  p.submit();
  await settle();
  expect(p.errors()).toEqual([]);
  expect(actions).toHaveLength(1);
  expect(actions[0].action.params.contact_phone).toBe('0871-65150432');
});

test('the card form: a phone that is neither a mobile nor an office line is still stopped', async () => {
  const { form, actions } = renderAlone();
  await settle();
  const p = parts(form());
  p.type('contact_phone', '12345');
  p.submit();
  await settle();
  expect(actions).toEqual([]);
  expect(p.errors()).toEqual([['contact_phone', '请输入 11 位手机号码，或带区号的固定电话（如 0871-65150432）']]);
});

// --- On the chat page, against a small card server shaped like backend/coops/chat.py ---

const SAVED = { blocks: [{ type: 'notice', level: 'success', text: '王家湾村茶叶专业合作社的信息卡已保存。' }], suggestions: [] };

/** The card as the server keeps it: coop.edit (or the typed question) answers its form; coop.save checks the version. */
function cardServer() {
  const server = { card: {}, version: 1, saves: [], answer: null };
  server.form = () => cardForm(server.card, `"v${server.version}"`);
  server.route = (body, call) => {
    if (body.text !== undefined || body.action.intent === 'coop.edit') {
      const answer = { blocks: [server.form()], suggestions: [] };
      return server.hold ? new Promise((resolve) => (server.release = () => resolve(answer))) : answer;
    }
    server.saves.push({ params: body.action.params, key: call.header['Idempotency-Key'] });
    if (server.answer) return server.answer(body.action.params);
    if (body.action.params.version !== `"v${server.version}"`) {
      return { blocks: [{ type: 'notice', level: 'warning', text: '您编辑期间这张信息卡已被其他人修改，本次没有保存。' }, server.form()], suggestions: [] };
    }
    server.version += 1;
    return SAVED;
  };
  return server;
}

function openChat(server) {
  const calls = install({ 'GET /api/session': () => SESSION, 'POST /api/chat': server.route });
  const page = mount('pages/chat/index');
  return { page, calls };
}

const forms = (page) =>
  page
    .querySelectorAll('.answer-blocks')
    .map((a) => a.querySelector('.block-form'))
    .filter(Boolean);
const ask = (page, words) => {
  const sender = page.querySelector('#sender');
  sender.instance.textChange({ detail: { value: words } });
  sender.querySelector('.send-btn-icon').dispatchEvent('tap');
};

test('a card asked again shows the saved answer at once; when the fresh one brings a changed card, the form holds the fresh values, not the old ones', async () => {
  signIn();
  const server = cardServer();
  const { page } = openChat(server);
  await settle();
  ask(page, '编辑王家湾村茶叶专业合作社的信息卡');
  await settle(10);
  expect(parts(forms(page)[0]).input('staff').instance.data.value).toBe('8');

  server.card = { staff: '30' }; // someone else saved the card meanwhile
  server.version = 2;
  server.hold = true;
  ask(page, '编辑王家湾村茶叶专业合作社的信息卡'); // answered at once from the cache, then by the server
  await settle(10);
  expect(page.instance.data.messages[3]).toMatchObject({ offline: true });
  expect(forms(page)[1].instance.data.values.staff).toBe('8');
  server.release();
  await settle(10);
  const messages = page.instance.data.messages;
  expect(messages[3]).toMatchObject({ offline: false });
  const fresh = forms(page)[1];
  expect(fresh.instance.data.values.staff).toBe('30');
  parts(fresh).type('members', '150');
  parts(fresh).submit();
  await settle(10);
  expect(server.saves.map((s) => [s.params.version, s.params.staff, s.params.members])).toEqual([['"v2"', '30', '150']]);
});

test('a form whose answer is lost is resent with the same Idempotency-Key, also after the app was closed meanwhile', async () => {
  signIn();
  const server = cardServer();
  const { page, calls } = openChat(server);
  const real = global.wx.request;
  let lose = true;
  global.wx.request = (options) => {
    if (!lose || !options.data || !options.data.action) return real(options);
    calls.push({ key: 'POST /api/chat', header: options.header, data: options.data, lost: true });
    setTimeout(() => options.fail({ errMsg: 'request:fail timeout' }), 0); // the answer never came
    return { abort() {} };
  };
  await settle();
  ask(page, '编辑王家湾村茶叶专业合作社的信息卡');
  await settle(10);
  parts(forms(page)[0]).type('members', '150');
  parts(forms(page)[0]).submit();
  await settle(10);
  expect(page.instance.data.messages[2]).toMatchObject({ status: 'failed' });
  expect(page.instance.data.messages[2].statusText).toMatch(/（点击重发）$/);
  expect(forms(page)[0].instance.data.sent).toBe(true); // not sent twice by a second tap
  const lostKey = calls.find((c) => c.lost).header['Idempotency-Key'];
  page.detach();

  lose = false;
  install({ 'GET /api/session': () => SESSION, 'POST /api/chat': server.route });
  const again = mount('pages/chat/index'); // the app was closed and opened again
  await settle(10);
  expect(forms(again)[0].instance.data).toMatchObject({ sent: true, values: expect.objectContaining({ members: '150' }) });
  again.querySelectorAll('.msg-status')[0].dispatchEvent('tap');
  await settle(10);
  expect(server.saves).toEqual([{ params: Object.assign({}, SENT_AS_SHOWN, { version: '"v1"', members: '150' }), key: lostKey }]);
  expect(again.instance.data.messages[2]).toMatchObject({ status: 'sent' });
});

test('a form saved whose answer was lost (409 request_done on the resend) stays sent: it is not offered to be saved again', async () => {
  signIn();
  const server = cardServer();
  const { page } = openChat(server);
  await settle();
  ask(page, '编辑王家湾村茶叶专业合作社的信息卡');
  await settle(10);
  server.answer = () => ({ status: 503, body: {} });
  parts(forms(page)[0]).type('members', '150');
  parts(forms(page)[0]).submit();
  await settle(10);
  server.answer = () => ({ status: 409, body: { error: { code: 'request_done', message: '该操作已经完成，但结果没能返回；请刷新查看，不要重复提交', fields: {} } } });
  page.querySelectorAll('.msg-status')[0].dispatchEvent('tap');
  await settle(10);
  expect(page.instance.data.messages[2]).toMatchObject({ status: 'refused', statusText: '该操作已经完成，但结果没能返回；请刷新查看，不要重复提交' });
  const form = forms(page)[0];
  expect(form.instance.data.sent).toBe(true);
  expect(form.querySelector('.submit').instance.data.disabled).toBe(true);
  expect(server.saves.map((s) => s.key)).toEqual([server.saves[0].key, server.saves[0].key]);
});

test('a refused field (422) reopens the form with the message under that field and every typed value kept, also after a restart', async () => {
  signIn();
  const server = cardServer();
  const { page } = openChat(server);
  await settle();
  ask(page, '编辑王家湾村茶叶专业合作社的信息卡');
  await settle(10);
  server.answer = () => ({
    status: 422,
    body: { error: { code: 'invalid_input', message: '提交的内容有误，请检查标出的项目', fields: { report_year: '年份不能早于 1949 年，请检查是否填错' } } },
  });
  let p = parts(forms(page)[0]);
  p.type('members', '150');
  p.type('report_year', '1948');
  p.pick('is_benchmark', 1);
  p.scope('茶叶');
  p.submit();
  await settle(10);
  const check = (form) => {
    expect(form.instance.data.sent).toBe(false);
    expect(form.instance.data.values).toMatchObject({ members: '150', report_year: '1948', is_benchmark: 'false', business_scope: '茶叶' });
    expect(parts(form).errors()).toEqual([['report_year', '年份不能早于 1949 年，请检查是否填错']]);
    expect(parts(form).shown('is_benchmark')).toBe('标杆社否');
  };
  check(forms(page)[0]);
  expect(page.instance.data.messages[2]).toMatchObject({ status: 'refused', statusText: '提交的内容有误，请检查标出的项目' });
  page.detach();

  install({ 'GET /api/session': () => SESSION, 'POST /api/chat': server.route });
  const again = mount('pages/chat/index');
  await settle(10);
  check(forms(again)[0]);
  server.answer = null;
  p = parts(forms(again)[0]);
  p.type('report_year', '2023');
  await settle();
  expect(p.errors()).toEqual([]);
  p.submit();
  await settle(10);
  expect(server.saves[1].params).toMatchObject({ members: '150', report_year: '2023', is_benchmark: 'false', business_scope: '茶叶' });
  expect(server.saves[1].key).not.toBe(server.saves[0].key);
  expect(forms(again)[0].instance.data.sent).toBe(true);
});

test('a finance refusal (403 naming a field not in the form) is said on the form; the form opens again', async () => {
  signIn();
  const server = cardServer();
  const { page } = openChat(server);
  await settle();
  ask(page, '编辑王家湾村茶叶专业合作社的信息卡');
  await settle(10);
  const message = '您没有这个合作社的财务权限，不能填写或修改金额';
  server.answer = () => ({ status: 403, body: { error: { code: 'finance_required', message, fields: { assets: message } } } });
  parts(forms(page)[0]).type('assets', '1');
  parts(forms(page)[0]).submit();
  await settle(10);
  const form = forms(page)[0];
  expect(form.instance.data.sent).toBe(false);
  expect(parts(form).errors()).toEqual([['assets', message]]);
  expect(form.instance.data.values.assets).toBe('1');
});

test('a card changed meanwhile: the warning and a second form with the newest card; the two forms keep their own values, after a restart too', async () => {
  signIn();
  const server = cardServer();
  const { page } = openChat(server);
  await settle();
  ask(page, '编辑王家湾村茶叶专业合作社的信息卡');
  await settle(10);
  server.card = { staff: '30' };
  server.version = 2; // another clerk saved it
  parts(forms(page)[0]).type('members', '150');
  parts(forms(page)[0]).submit();
  await settle(10);
  expect(text(page.querySelectorAll('.answer-blocks')[1].querySelector('.block-notice'))).toContain('已被其他人修改');
  const [first, second] = forms(page);
  expect(first.instance.data).toMatchObject({ sent: true, values: expect.objectContaining({ members: '150', staff: '8' }) });
  expect(second.instance.data).toMatchObject({ sent: false, values: expect.objectContaining({ members: '120', staff: '30' }) });
  parts(second).type('contact_name', '李四');
  parts(second).type('members', '151');
  await settle();
  page.instance.render();
  await settle();
  expect(first.instance.data.values).toMatchObject({ members: '150', contact_name: '王建国' });
  expect(second.instance.data.values).toMatchObject({ members: '151', contact_name: '李四', staff: '30' });
  parts(second).submit();
  await settle(10);
  expect(server.saves.map((s) => [s.params.version, s.params.members, s.params.staff, s.params.contact_name])).toEqual([
    ['"v1"', '150', '8', '王建国'],
    ['"v2"', '151', '30', '李四'],
  ]);
  page.detach();

  install({ 'GET /api/session': () => SESSION, 'POST /api/chat': server.route });
  const again = mount('pages/chat/index');
  await settle(10);
  const [a, b] = forms(again);
  expect(a.instance.data).toMatchObject({ sent: true, values: expect.objectContaining({ members: '150', staff: '8', contact_name: '王建国' }) });
  expect(b.instance.data).toMatchObject({ sent: true, values: expect.objectContaining({ members: '151', staff: '30', contact_name: '李四' }) });
});

test('what is typed in a saved answer\'s form while the fresh answer is on its way is kept when the card did not change', async () => {
  signIn();
  const server = cardServer();
  const { page } = openChat(server);
  await settle();
  ask(page, '编辑王家湾村茶叶专业合作社的信息卡');
  await settle(10);
  server.hold = true;
  ask(page, '编辑王家湾村茶叶专业合作社的信息卡');
  await settle(10);
  expect(page.instance.data.messages[3]).toMatchObject({ offline: true });
  parts(forms(page)[1]).type('members', '150'); // typed in the saved answer's form
  await settle();
  server.release();
  await settle(10);
  expect(page.instance.data.messages[3]).toMatchObject({ offline: false });
  expect(forms(page)[1].instance.data.values).toMatchObject({ members: '150', staff: '8' });
  expect(forms(page)[0].instance.data.values).toMatchObject({ members: '120' });
  parts(forms(page)[1]).submit();
  await settle(10);
  expect(server.saves.map((s) => [s.params.version, s.params.members])).toEqual([['"v1"', '150']]);
});

test('a select\'s picker opens on its value: 确定 without scrolling keeps 否 (it turned a flag to 是)', async () => {
  const { form } = renderAlone();
  await settle();
  // the picker's value (where it opens) is bound to picks; the simulator keeps no native property to read
  const opensAt = () => SELECTS.map((name) => form().instance.data.picks[name]);
  expect(opensAt()).toEqual([0, 0, 1]); // 是, 是, 否
  parts(form()).pick('is_benchmark', 1);
  await settle();
  expect(opensAt()).toEqual([0, 1, 1]);
});
