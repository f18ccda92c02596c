/**
 * The chat page (home screen) with real TDesign chat components, against a scripted API:
 * quick replies, typing and sending, actions (with their confirm question), resending a failed
 * message with its idempotency key, the cached answer shown offline, history after a restart,
 * scanning, and the offline banner.
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

test('without a session the chat sends the user to the login screen', async () => {
  install({});
  mount('pages/chat/index');
  await settle();
  expect(global.__navigations).toEqual([expect.objectContaining({ name: 'reLaunch', url: '/pages/login/index' })]);
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
  table.querySelector('.table').querySelectorAll('.t-table__tr')[0].dispatchEvent('tap');
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
