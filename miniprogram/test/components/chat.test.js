/**
 * The chat page (home screen) with real TDesign chat components, against a scripted API:
 * quick replies, typing and sending, actions (with their confirm question), resending a failed
 * message with its idempotency key, the cached answer shown offline, history after a restart,
 * scanning, and the offline banner; double taps, forms across re-renders, refused and over-long
 * text, and a 401 during a send.
 */
const { mount, settle, text } = require('../support/simulate');
const { install } = require('../support/fake-server');
const { signIn, SESSION, EVERY_BLOCK } = require('../support/fixtures');

const reply = (t, suggestions) => ({ blocks: [{ type: 'text', text: t }], suggestions: suggestions || [] });

function open(routes) {
  const calls = install(Object.assign({ 'GET /api/session': () => SESSION }, routes));
  const page = mount('pages/chat/index');
  const chats = () => calls.filter((c) => c.key === 'POST /api/chat');
  return { page, calls, chats };
}

function chips(page) {
  return page.querySelector('#replies').querySelectorAll('.chip');
}

function messages(page) {
  return page.instance.data.messages;
}

const tapButton = (node) => node.querySelector('.t-button').dispatchEvent('tap'); // the button inside t-button
const toastText = (page) => page.querySelector('#t-toast').instance.data.message;

function type(page, value) {
  page.querySelector('#sender').instance.textChange({ detail: { value } }); // what its <textarea> input calls
}

function send(page) {
  page.querySelector('#sender').querySelector('.send-btn-icon').dispatchEvent('tap');
}

test('without a session the chat sends the user to the login screen', async () => {
  install({});
  mount('pages/chat/index');
  await settle();
  expect(global.__navigations).toEqual([expect.objectContaining({ name: 'reLaunch', url: '/packageLogin/pages/login/index' })]);
});

test('welcome and default quick replies; tapping one sends its text and shows the answer with its own suggestions', async () => {
  signIn();
  const { page, chats } = open({ 'POST /api/chat': () => EVERY_BLOCK });
  await settle();
  expect(text(page)).toContain('贾红，您好（白沙镇）');
  expect(chips(page).map(text)).toEqual(['本单位汇总', '下级单位', '帮助']);
  chips(page)[0].dispatchEvent('tap');
  await settle(10);
  expect(chats()[0].data).toEqual({ text: '汇总' });
  expect(chats()[0].header['Idempotency-Key']).toMatch(/^[0-9a-f-]{36}$/);
  expect(chats()[0].header.Authorization).toBe('Bearer tok-1');
  const [user, bot] = messages(page);
  expect(user).toMatchObject({ role: 'user', content: [{ type: 'text', data: '汇总' }], statusText: '' });
  expect(bot.blocks.map((b) => b.type)).toEqual(['text', 'card', 'table', 'chart', 'map', 'form', 'qr', 'notice']);
  const rendered = text(page.querySelector('.answer-blocks'));
  ['王家湾村', '户数128', '共 12 条', '李家坪村64户', '王家湾种植社', '新增经办人', 'cwt-pair:ABCD-1234', '数据每晚更新。'].forEach((s) =>
    expect(rendered).toContain(s)
  );
  expect(chips(page).map(text)).toEqual(['本乡汇总', '下级单位']);
  chips(page)[1].dispatchEvent('tap'); // a suggestion carrying an action
  await settle(10);
  expect(chats()[1].data).toEqual({ action: { intent: 'unit.children', params: { unit_id: 4 } } });
});

test('typing in t-chat-sender and sending', async () => {
  signIn();
  const { page, chats } = open({ 'POST /api/chat': (body) => reply(`查到 ${body.text}`) });
  await settle();
  const sender = page.querySelector('#sender');
  sender.instance.textChange({ detail: { value: '王家湾' } }); // what its <textarea> input calls
  await settle();
  expect(page.instance.data.draft).toBe('王家湾');
  sender.querySelector('.send-btn-icon').dispatchEvent('tap');
  await settle(10);
  expect(chats()[0].data).toEqual({ text: '王家湾' });
  expect(page.instance.data.draft).toBe('');
  expect(messages(page)[1].blocks[0].text).toBe('查到 王家湾');
});

test('an action asks its confirm question first (t-dialog); only a confirmed action is sent', async () => {
  signIn();
  const { page, chats } = open({ 'POST /api/chat': (body) => (body.text ? EVERY_BLOCK : reply('已重置')) });
  await settle();
  chips(page)[0].dispatchEvent('tap');
  await settle(10);
  const answer = () => page.querySelector('.answer-blocks');
  const resetButton = answer().querySelectorAll('.card-action')[1].querySelector('.t-button');
  const dialog = page.querySelector('#t-dialog');

  resetButton.dispatchEvent('tap');
  await settle();
  expect(dialog.instance.data).toMatchObject({ visible: true, content: '确定重置该账号的密码？', title: '重置密码' });
  dialog.instance._onCancel(); // what its cancel button calls
  await settle(10);
  expect(chats()).toHaveLength(1);

  resetButton.dispatchEvent('tap');
  await settle();
  dialog.instance._onConfirm(); // what its confirm button calls
  await settle(10);
  expect(chats()[1].data).toEqual({ action: { intent: 'account.reset_password', params: { account_id: 9 } } });
  expect(messages(page)[2]).toMatchObject({ role: 'user', content: [{ type: 'text', data: '重置密码' }] });
  expect(messages(page)[3].blocks[0].text).toBe('已重置');

  answer().querySelectorAll('.card-action')[0].querySelector('.t-button').dispatchEvent('tap'); // no confirm: sent at once
  await settle(10);
  expect(chats()[2].data).toEqual({ action: { intent: 'summary', params: { unit_id: 7 } } });
});

test('table "更多", a row, a map pin and a form all reach the server as actions', async () => {
  signIn();
  const { page, chats } = open({ 'POST /api/chat': (body) => (body.text ? EVERY_BLOCK : reply('好的')) });
  await settle();
  chips(page)[0].dispatchEvent('tap');
  await settle(10);
  const table = page.querySelector('.answer-blocks').querySelector('.block-table');
  table.querySelector('.more').querySelector('.t-button').dispatchEvent('tap');
  await settle(10);
  table.querySelectorAll('.table-row')[0].dispatchEvent('tap');
  await settle(10);
  page.querySelector('.answer-blocks').querySelector('.block-map').querySelector('.pin').dispatchEvent('tap');
  await settle(10);
  const form = page.querySelector('.answer-blocks').querySelector('.block-form');
  const inputs = form.querySelectorAll('.input');
  inputs[0].instance.triggerEvent('change', { value: '王五' });
  inputs[1].instance.triggerEvent('change', { value: '13900000020' });
  form.querySelector('.submit').querySelector('.t-button').dispatchEvent('tap');
  await settle(10);
  expect(chats().slice(1).map((c) => c.data.action)).toEqual([
    { intent: 'unit.children', params: { unit_id: 4, cursor: 2 } },
    { intent: 'unit.show', params: { unit_id: 7 } },
    { intent: 'coop.show', params: { id: 3 } },
    { intent: 'agent.add', params: { unit_id: 4, name: '王五', phone: '13900000020' } },
  ]);
});

test('a failed send says so; tapping it resends with the same Idempotency-Key', async () => {
  signIn();
  let fail = true;
  const { page, chats } = open({
    'POST /api/chat': () =>
      fail ? { status: 409, body: { error: { code: 'request_in_progress', message: '同一操作正在处理中，请稍候', fields: {} } } } : reply('好了'),
  });
  await settle();
  chips(page)[2].dispatchEvent('tap');
  await settle(10);
  expect(messages(page)[0]).toMatchObject({ status: 'failed', statusText: '同一操作正在处理中，请稍候（点击重发）' });
  expect(text(page.querySelector('.msg-status'))).toBe('同一操作正在处理中，请稍候（点击重发）');
  fail = false;
  page.querySelector('.msg-status').dispatchEvent('tap');
  await settle(10);
  expect(chats()).toHaveLength(2);
  expect(chats()[1].header['Idempotency-Key']).toBe(chats()[0].header['Idempotency-Key']);
  expect(messages(page)[0]).toMatchObject({ status: 'sent', statusText: '' });
  expect(messages(page)[1].blocks[0].text).toBe('好了');
});

test('an answer seen before shows at once marked offline with its time; history survives a restart', async () => {
  signIn();
  let hang = false;
  const first = open({ 'POST /api/chat': () => (hang ? new Promise(() => {}) : reply('共 3 个村')) });
  await settle();
  chips(first.page)[0].dispatchEvent('tap');
  await settle(10);
  first.page.detach();

  hang = true; // the next answer never comes (weak signal)
  install({ 'GET /api/session': () => SESSION, 'POST /api/chat': () => new Promise(() => {}) });
  const page = mount('pages/chat/index'); // the app was closed and opened again
  await settle(10);
  expect(messages(page)).toHaveLength(2); // the history came back
  chips(page)[0].dispatchEvent('tap');
  await settle(10);
  const shown = messages(page);
  expect(shown).toHaveLength(4);
  expect(shown[3]).toMatchObject({ offline: true });
  expect(shown[3].offlineText).toMatch(/^离线 · 上次结果 \d\d-\d\d \d\d:\d\d$/);
  expect(shown[3].blocks[0].text).toBe('共 3 个村');
  expect(text(page.querySelectorAll('.offline-tag')[0])).toBe(shown[3].offlineText);
});

test('offline: a banner, and "等待网络…" on a message waiting to go', async () => {
  signIn();
  const listeners = [];
  global.wx.onNetworkStatusChange = (fn) => listeners.push(fn);
  const { page, chats } = open({ 'POST /api/chat': () => reply('回来了') });
  await settle();
  listeners.forEach((fn) => fn({ isConnected: false, networkType: 'none' }));
  await settle();
  expect(text(page.querySelector('.net-banner'))).toContain('当前没有网络');
  chips(page)[2].dispatchEvent('tap');
  await settle(10);
  expect(chats()).toHaveLength(0);
  expect(messages(page)[0].statusText).toBe('等待网络…');
  listeners.forEach((fn) => fn({ isConnected: true, networkType: '4g' }));
  await settle(10);
  expect(chats()).toHaveLength(1);
  expect(page.querySelector('.net-banner')).toBeFalsy();
  expect(messages(page)[1].blocks[0].text).toBe('回来了');
});

test('scan sends the scanned text; "我的" opens the account subpackage', async () => {
  signIn();
  global.wx.scanCode = (o) => o.success({ result: 'cwt-house:42' });
  const { page, chats } = open({ 'POST /api/chat': () => reply('门牌 42') });
  await settle();
  page.querySelector('.tool-scan').dispatchEvent('tap');
  await settle(10);
  expect(chats()[0].data).toEqual({ text: 'cwt-house:42' });
  page.querySelector('.tool-mine').dispatchEvent('tap');
  await settle();
  expect(global.__navigations.pop()).toMatchObject({ name: 'navigateTo', url: '/packageAccount/pages/index/index' });
});

test('a form keeps what was typed and stays sent when the chat renders again, and after a restart', async () => {
  signIn();
  const { page, chats } = open({ 'POST /api/chat': (body) => (body.text ? EVERY_BLOCK : reply('已添加')) });
  await settle();
  chips(page)[0].dispatchEvent('tap');
  await settle(10);
  const form = (p) => p.querySelector('.answer-blocks').querySelector('.block-form');
  form(page).querySelectorAll('.input')[0].instance.triggerEvent('change', { value: '王五' });
  page.instance.render(); // what every change of the conversation or of the network does
  await settle();
  expect(form(page).instance.data.values).toEqual({ name: '王五', phone: '' });
  form(page).querySelectorAll('.input')[1].instance.triggerEvent('change', { value: '13900000020' });
  tapButton(form(page).querySelector('.submit'));
  await settle(10); // the answer came: the chat rendered again
  expect(form(page).instance.data.sent).toBe(true);
  tapButton(form(page).querySelector('.submit'));
  await settle(10);
  expect(chats().map((c) => c.data.action && c.data.action.intent)).toEqual([undefined, 'agent.add']);
  page.detach();

  const again = mount('pages/chat/index'); // the app was closed and opened again
  await settle(10);
  expect(form(again).instance.data).toMatchObject({ sent: true, values: { name: '王五', phone: '13900000020' } });
  expect(form(again).querySelector('.submit').instance.data.disabled).toBe(true);
});

test('an action tapped twice while it is sending goes out once; its button is disabled and the message says "发送中…" until the answer', async () => {
  signIn();
  const pending = [];
  const { page, chats } = open({ 'POST /api/chat': (body) => (body.text ? EVERY_BLOCK : new Promise((r) => pending.push(r))) });
  await settle();
  chips(page)[0].dispatchEvent('tap');
  await settle(10);
  const answer = () => page.querySelector('.answer-blocks');
  const summary = () => answer().querySelectorAll('.card-action')[0];
  const more = () => answer().querySelector('.block-table').querySelector('.more');
  tapButton(summary());
  await settle(10);
  expect(summary().instance.data.disabled).toBe(true);
  expect(messages(page)[2]).toMatchObject({ status: 'sending', statusText: '发送中…' });
  tapButton(summary());
  tapButton(more());
  tapButton(more());
  answer().querySelector('.block-table').querySelectorAll('.table-row')[0].dispatchEvent('tap');
  answer().querySelector('.block-table').querySelectorAll('.table-row')[0].dispatchEvent('tap');
  await settle(10);
  expect(chats().slice(1).map((c) => c.data.action.intent)).toEqual(['summary']); // the others wait for its answer
  expect(more().instance.data.disabled).toBe(true);
  expect(messages(page).slice(2).map((m) => m.statusText)).toEqual(['发送中…', '发送中…', '发送中…']);
  for (let i = 0; i < 3; i += 1) {
    pending[i](reply('好的'));
    await settle(10);
  }
  expect(chats().slice(1).map((c) => c.data.action.intent)).toEqual(['summary', 'unit.children', 'unit.show']);
  expect(summary().instance.data.disabled).toBe(false);
  expect(more().instance.data.disabled).toBe(false);
  expect(messages(page)[2].statusText).toBe('');
  tapButton(summary());
  await settle(10);
  expect(chats()).toHaveLength(5);
});

test('pasted control characters go out as spaces; a text the server refuses shows why and comes back to the input', async () => {
  signIn();
  const { page, chats } = open({
    'POST /api/chat': () => ({ status: 422, body: { error: { code: 'validation_failed', message: '输入有误', fields: { text: '请换一种说法' } } } }),
  });
  await settle();
  type(page, '王家\u0000湾\u001b村');
  send(page);
  await settle(10);
  expect(chats().map((c) => c.data)).toEqual([{ text: '王家 湾 村' }]);
  expect(messages(page)[0]).toMatchObject({ status: 'refused', statusText: '请换一种说法' });
  expect(text(page.querySelector('.msg-status'))).toBe('请换一种说法');
  expect(page.instance.data.draft).toBe('王家 湾 村');
  page.querySelector('.msg-status').dispatchEvent('tap'); // not offered for resending
  await settle(10);
  expect(chats()).toHaveLength(1);
});

test('a text over 200 characters is not sent: "最多 200 字", and it stays in the input', async () => {
  signIn();
  const { page, chats } = open({ 'POST /api/chat': (body) => reply(`查到 ${body.text.length}`) });
  await settle();
  const long = '村'.repeat(201);
  type(page, long);
  send(page);
  await settle(10);
  expect(chats()).toHaveLength(0);
  expect(toastText(page)).toBe('最多 200 字');
  expect(page.instance.data.draft).toBe(long);
  const emoji = '😀'.repeat(200); // 200 characters, 400 UTF-16 units
  type(page, emoji);
  send(page);
  await settle(10);
  expect(chats().map((c) => c.data.text)).toEqual([emoji]);
});

test('a 401 during a send keeps the conversation under the account; nothing is copied to "anon"', async () => {
  signIn();
  const { page } = open({
    'POST /api/chat': () => ({ status: 401, body: { error: { code: 'session_invalid', message: '登录已过期，请重新登录', fields: {} } } }),
  });
  await settle();
  chips(page)[2].dispatchEvent('tap');
  await settle(10);
  expect(global.wx.getStorageSync('cwt:session')).toBe(''); // the 401 ended the session
  expect(global.wx.getStorageSync('cwt:history:anon')).toBe('');
  expect(global.wx.getStorageSync('cwt:history:')).toBe('');
  expect(global.wx.getStorageSync('cwt:history:6')).toEqual([expect.objectContaining({ text: '帮助', status: 'failed' })]);
});

test('a form whose confirm question is cancelled can be sent again', async () => {
  signIn();
  const confirmed = {
    blocks: [{ type: 'form', title: '注销账号', fields: [{ name: 'reason', label: '原因' }], submit: { label: '注销', intent: 'account.close', confirm: '确定注销？' } }],
  };
  const { page, chats } = open({ 'POST /api/chat': (body) => (body.text ? confirmed : reply('已注销')) });
  await settle();
  chips(page)[2].dispatchEvent('tap');
  await settle(10);
  const form = () => page.querySelector('.answer-blocks').querySelector('.block-form');
  form().querySelector('.input').instance.triggerEvent('change', { value: '调离' });
  tapButton(form().querySelector('.submit'));
  await settle();
  page.querySelector('#t-dialog').instance._onCancel();
  await settle(10);
  expect(form().instance.data).toMatchObject({ sent: false, values: { reason: '调离' } });
  tapButton(form().querySelector('.submit'));
  await settle();
  page.querySelector('#t-dialog').instance._onConfirm();
  await settle(10);
  expect(chats()[1].data).toEqual({ action: { intent: 'account.close', params: { reason: '调离' } } });
  expect(form().instance.data.sent).toBe(true);
});

test('a draft survives the session ending mid-chat: after logging in again the input holds it, for that account only', async () => {
  signIn();
  const expired = () => ({ status: 401, body: { error: { code: 'session_invalid', message: '登录已过期，请重新登录', fields: {} } } });
  const { page } = open({ 'POST /api/chat': expired });
  await settle();
  type(page, '王家湾村有哪些合作');
  await settle();
  chips(page)[2].dispatchEvent('tap'); // a quick reply while typing: the session had ended
  await settle(10);
  expect(global.wx.getStorageSync('cwt:session')).toBe('');
  page.detach(); // the app's 401 handler relaunches to the login screen: the chat unloads

  signIn(); // logged in again
  const again = open({ 'POST /api/chat': () => reply('好的') }).page;
  await settle(10);
  expect(again.instance.data.draft).toBe('王家湾村有哪些合作');
  expect(again.querySelector('#sender').instance.data.value).toBe('王家湾村有哪些合作');
  send(again);
  await settle(10);
  expect(again.instance.data.draft).toBe('');
  again.detach();

  signIn({ account_id: 9, name: '李四' }); // another account on this phone
  const other = open({}).page;
  await settle(10);
  expect(other.instance.data.draft).toBe('');
});

test('a scanned code too long to ask about says so, not "最多 200 字" (nothing was typed)', async () => {
  signIn();
  global.wx.scanCode = (o) => o.success({ result: `https://example.com/?q=${'x'.repeat(300)}` });
  const { page, chats } = open({ 'POST /api/chat': () => reply('?') });
  await settle();
  page.querySelector('.tool-scan').dispatchEvent('tap');
  await settle(10);
  expect(chats()).toHaveLength(0);
  expect(toastText(page)).toBe('二维码内容过长，无法查询');
  expect(page.instance.data.draft).toBe('');
});

test('a form the server refuses comes back editable with its values and the server\'s messages next to the fields', async () => {
  signIn();
  let answer = () => ({
    status: 422,
    body: { error: { code: 'validation_failed', message: '输入有误', fields: { 'action.params.phone': '该手机号已登记为经办人' } } },
  });
  const { page, chats } = open({ 'POST /api/chat': (body) => (body.text ? EVERY_BLOCK : answer()) });
  await settle();
  chips(page)[0].dispatchEvent('tap');
  await settle(10);
  const form = () => page.querySelector('.answer-blocks').querySelector('.block-form');
  const inputs = () => form().querySelectorAll('.input');
  inputs()[0].instance.triggerEvent('change', { value: '王五' });
  inputs()[1].instance.triggerEvent('change', { value: '13900000020' });
  tapButton(form().querySelector('.submit'));
  await settle(10);
  expect(messages(page)[2]).toMatchObject({ status: 'refused', statusText: '输入有误' });
  expect(form().instance.data).toMatchObject({ sent: false, values: { name: '王五', phone: '13900000020' } });
  expect(form().querySelector('.submit').instance.data.disabled).toBe(false);
  expect(form().querySelectorAll('.field-error').map((e) => [e.dom.dataset.field, text(e)])).toEqual([['phone', '该手机号已登记为经办人']]);
  page.instance.render(); // another change of the conversation: still editable, still saying why
  await settle();
  expect(form().instance.data.sent).toBe(false);
  expect(form().querySelectorAll('.field-error').map(text)).toEqual(['该手机号已登记为经办人']);

  // A refusal that names no field of the form: its message in the form.
  answer = () => ({ status: 403, body: { error: { code: 'forbidden', message: '无权为该单位添加经办人', fields: {} } } });
  tapButton(form().querySelector('.submit'));
  await settle(10);
  expect(form().instance.data.sent).toBe(false);
  expect(form().querySelectorAll('.field-error')).toHaveLength(0);
  expect(text(form().querySelector('.form-refusal'))).toBe('无权为该单位添加经办人');

  answer = () => reply('已添加');
  inputs()[1].instance.triggerEvent('change', { value: '13900000021' });
  tapButton(form().querySelector('.submit'));
  await settle(10);
  expect(chats().slice(1).map((c) => c.data.action.params.phone)).toEqual(['13900000020', '13900000020', '13900000021']);
  expect(form().instance.data.sent).toBe(true);
  expect(form().querySelector('.form-refusal')).toBeFalsy();
});

test('a refused form is still editable, with the server\'s message, after a restart', async () => {
  signIn();
  const { page } = open({
    'POST /api/chat': (body) =>
      body.text ? EVERY_BLOCK : { status: 422, body: { error: { code: 'validation_failed', message: '输入有误', fields: { name: '姓名不能含数字' } } } },
  });
  await settle();
  chips(page)[0].dispatchEvent('tap');
  await settle(10);
  const form = (p) => p.querySelector('.answer-blocks').querySelector('.block-form');
  form(page).querySelectorAll('.input')[0].instance.triggerEvent('change', { value: '王5' });
  form(page).querySelectorAll('.input')[1].instance.triggerEvent('change', { value: '13900000020' });
  tapButton(form(page).querySelector('.submit'));
  await settle(10);
  page.detach();

  const again = mount('pages/chat/index'); // the app was closed and opened again
  await settle(10);
  expect(form(again).instance.data).toMatchObject({ sent: false, values: { name: '王5', phone: '13900000020' } });
  expect(form(again).querySelectorAll('.field-error').map(text)).toEqual(['姓名不能含数字']);
  expect(form(again).querySelector('.submit').instance.data.disabled).toBe(false);
});

test('a form whose send fails on the way (5xx) stays sent; "点击重发" resends it with the same Idempotency-Key', async () => {
  signIn();
  let down = true;
  const { page, chats } = open({
    'POST /api/chat': (body) => (body.text ? EVERY_BLOCK : down ? { status: 503, body: {} } : reply('已添加')),
  });
  await settle();
  chips(page)[0].dispatchEvent('tap');
  await settle(10);
  const form = () => page.querySelector('.answer-blocks').querySelector('.block-form');
  form().querySelectorAll('.input')[0].instance.triggerEvent('change', { value: '王五' });
  form().querySelectorAll('.input')[1].instance.triggerEvent('change', { value: '13900000020' });
  tapButton(form().querySelector('.submit'));
  await settle(10);
  expect(messages(page)[2]).toMatchObject({ status: 'failed', statusText: '服务器繁忙，请稍后重试（点击重发）' });
  expect(form().instance.data.sent).toBe(true);
  down = false;
  page.querySelectorAll('.msg-status')[0].dispatchEvent('tap');
  await settle(10);
  expect(chats()).toHaveLength(3);
  expect(chats()[2].header['Idempotency-Key']).toBe(chats()[1].header['Idempotency-Key']);
  expect(chats()[2].data).toEqual(chats()[1].data);
  expect(messages(page)[2].status).toBe('sent');
  expect(form().instance.data.sent).toBe(true);
});

test('a co-op row tapped names the co-op in the conversation, not only "信息卡"', async () => {
  signIn();
  const coops = {
    blocks: [
      {
        type: 'table',
        title: '白沙镇的合作社',
        columns: ['名称', '所在村'],
        rows: [
          ['王家湾村茶叶合作社', '王家湾村'],
          ['李家坪村养蜂合作社', '李家坪村'],
        ],
        row_actions: [
          { label: '信息卡', intent: 'coop.card', params: { unit_id: 21 } },
          { label: '信息卡', intent: 'coop.card', params: { unit_id: 22 } },
        ],
      },
    ],
  };
  const { page, chats } = open({ 'POST /api/chat': (body) => (body.text ? coops : reply('信息卡')) });
  await settle();
  chips(page)[0].dispatchEvent('tap');
  await settle(10);
  page.querySelector('.answer-blocks').querySelector('.block-table').querySelectorAll('.table-row')[1].dispatchEvent('tap');
  await settle(10);
  expect(chats()[1].data).toEqual({ action: { intent: 'coop.card', params: { unit_id: 22 } } });
  expect(messages(page)[2].content).toEqual([{ type: 'text', data: '信息卡：李家坪村养蜂合作社' }]);
});

test('a chat closed by a relaunch cannot save its older conversation over the new chat\'s when its answer comes late', async () => {
  signIn();
  let late;
  const first = open({ 'POST /api/chat': () => new Promise((r) => (late = r)) });
  await settle();
  chips(first.page)[2].dispatchEvent('tap'); // "帮助": still on its way (weak signal)
  await settle(10);
  first.page.detach(); // a unit switch or a new login relaunches the chat: this page unloads

  const { page } = open({ 'POST /api/chat': (body) => reply(`查到 ${body.text}`) });
  await settle(10);
  expect(messages(page)[0]).toMatchObject({ status: 'failed' }); // to be resent, with its key
  type(page, '王家湾');
  send(page);
  await settle(10);
  late(reply('帮助的答复')); // the old page's answer comes at last
  await settle(10);
  const kept = global.wx.getStorageSync('cwt:history:6');
  expect(kept.map((m) => m.text || m.blocks[0].text)).toEqual(['帮助', '王家湾', '查到 王家湾']);
  page.detach();
  const again = mount('pages/chat/index'); // the app was closed and opened again
  await settle(10);
  expect(messages(again)).toHaveLength(3);
});

test('a chat that unloads only after the new chat loaded: the new chat has what was typed, and keeps its own text', async () => {
  signIn();
  const first = open({});
  await settle();
  type(first.page, '王家湾村的');
  await settle();
  const { page } = open({}); // the new chat loads before the old one unloads
  await settle(10);
  expect(page.instance.data.draft).toBe('王家湾村的');
  type(page, '李家坪村');
  await settle();
  page.instance.onHide(); // the app goes to the background
  first.page.detach(); // the old chat's onUnload comes last
  await settle();
  expect(global.wx.getStorageSync('cwt:draft:6')).toBe('李家坪村');
});

test('storage full: the message just typed is kept after a restart (another account\'s old chat makes room), and nothing breaks', async () => {
  signIn();
  const old = [...Array(30).keys()].map((i) => ({ id: `9-${i}`, role: i % 2 ? 'assistant' : 'user', text: '旧'.repeat(100), status: 'sent' }));
  global.wx.setStorageSync('cwt:history:9', old); // a cadre who used this phone before
  const { page } = open({ 'POST /api/chat': () => ({ status: 503, body: {} }) });
  await settle(10);
  global.__storageQuota = global.__storedSize() + 200; // the storage is full
  type(page, '王家湾村有哪些合作社');
  send(page);
  await settle(10);
  expect(messages(page)[0]).toMatchObject({ status: 'failed', content: [{ type: 'text', data: '王家湾村有哪些合作社' }] });
  page.detach();
  const again = mount('pages/chat/index'); // the app was closed and opened again
  await settle(10);
  expect(messages(again)).toEqual([expect.objectContaining({ status: 'failed', content: [{ type: 'text', data: '王家湾村有哪些合作社' }] })]);
});

test('a quick reply tapped twice while its answer is on the way is asked once', async () => {
  signIn();
  const pending = [];
  const { page, chats } = open({ 'POST /api/chat': () => new Promise((r) => pending.push(r)) });
  await settle();
  chips(page)[0].dispatchEvent('tap');
  chips(page)[0].dispatchEvent('tap');
  await settle(10);
  expect(chats()).toHaveLength(1);
  expect(messages(page).filter((m) => m.role === 'user')).toHaveLength(1);
  pending.forEach((release) => release(reply('共 3 个村')));
  await settle(10);
  chips(page)[0].dispatchEvent('tap'); // answered: it may be asked again
  await settle(10);
  expect(chats()).toHaveLength(2);
});

test('no signal: messages typed behind one that timed out fail with it at once, each with "点击重发"; resent in order, each with its key', async () => {
  signIn();
  const { page, chats } = open({ 'POST /api/chat': (body) => reply(`查到 ${body.text}`) });
  await settle();
  const answered = global.wx.request;
  const lost = [];
  global.wx.request = (o) => {
    if (o.url.indexOf('/api/chat') < 0) return answered(o);
    lost.push({ key: o.header['Idempotency-Key'], timeout: () => o.fail({ errMsg: 'request:fail timeout' }) });
    return { abort() {} };
  };
  for (const t of ['王家湾村', '这个村的汇总', '帮助']) {
    type(page, t);
    await settle();
    send(page);
    await settle();
  }
  lost[0].timeout(); // its 10 s are over, with no signal
  await settle(10);
  expect(lost).toHaveLength(1); // not three timeouts one after another
  expect(messages(page).map((m) => [m.content[0].data, m.status, m.statusText])).toEqual(
    ['王家湾村', '这个村的汇总', '帮助'].map((t) => [t, 'failed', '网络超时，请稍后重试（点击重发）'])
  );
  global.wx.request = answered; // the signal is back
  page.querySelectorAll('.msg-status').forEach((node) => node.dispatchEvent('tap'));
  await settle(20);
  expect(chats().map((c) => c.data.text)).toEqual(['王家湾村', '这个村的汇总', '帮助']);
  expect(chats()[0].header['Idempotency-Key']).toBe(lost[0].key);
  expect(messages(page).filter((m) => m.role === 'assistant').map((m) => m.blocks[0].text)).toEqual([
    '查到 王家湾村',
    '查到 这个村的汇总',
    '查到 帮助',
  ]);
});
