/**
 * Round 3, the chat page on a weak network: the offline banner's "恢复后自动发送" holds (messages
 * that lost the network on the way go out by themselves when it returns), and several failed
 * messages can be resent with one "全部重发".
 */
const { mount, settle, text } = require('../support/simulate');
const { install } = require('../support/fake-server');
const { signIn, SESSION } = require('../support/fixtures');

const reply = (t) => ({ blocks: [{ type: 'text', text: t }], suggestions: [] });

function open(routes) {
  const calls = install(Object.assign({ 'GET /api/session': () => SESSION }, routes));
  const page = mount('pages/chat/index');
  const chats = () => calls.filter((c) => c.key === 'POST /api/chat');
  return { page, calls, chats };
}

const messages = (page) => page.instance.data.messages;
const type = (page, value) => page.querySelector('#sender').instance.textChange({ detail: { value } });
const send = (page) => page.querySelector('#sender').querySelector('.send-btn-icon').dispatchEvent('tap');

async function typeAndSend(page, words) {
  for (const t of words) {
    type(page, t);
    await settle();
    send(page);
    await settle();
  }
}

/** Chat calls are held (not answered) until the test fails them: what a dropped signal does. */
function holdChats() {
  const answered = global.wx.request;
  const held = [];
  global.wx.request = (o) => {
    if (o.url.indexOf('/api/chat') < 0) return answered(o);
    held.push({ key: o.header['Idempotency-Key'], fail: (why) => o.fail({ errMsg: `request:fail ${why}` }) });
    return { abort() {} };
  };
  return { held, restore: () => (global.wx.request = answered) };
}

test('the network drops with messages on their way: the banner says they go when it is back, and they do, with their keys', async () => {
  signIn();
  const listeners = [];
  global.wx.onNetworkStatusChange = (fn) => listeners.push(fn);
  const { page, chats } = open({ 'POST /api/chat': (body) => reply(`查到 ${body.text}`) });
  await settle();
  const { held, restore } = holdChats();
  await typeAndSend(page, ['王家湾村', '这个村的汇总']);
  listeners.forEach((fn) => fn({ isConnected: false, networkType: 'none' }));
  held[0].fail('net::ERR_INTERNET_DISCONNECTED');
  await settle(10);
  expect(text(page.querySelector('.net-banner'))).toContain('恢复后自动发送');
  expect(messages(page).map((m) => m.statusText)).toEqual(['等待网络…', '等待网络…']);
  expect(page.querySelector('.retry-all')).toBeFalsy();
  restore();
  listeners.forEach((fn) => fn({ isConnected: true, networkType: '4g' }));
  await settle(20);
  expect(chats().map((c) => c.data.text)).toEqual(['王家湾村', '这个村的汇总']);
  expect(chats()[0].header['Idempotency-Key']).toBe(held[0].key);
  expect(messages(page).filter((m) => m.role === 'assistant').map((m) => m.blocks[0].text)).toEqual(['查到 王家湾村', '查到 这个村的汇总']);
});

test('several failed messages: one "全部重发" resends them all in order with their keys; one failed alone has only "点击重发"', async () => {
  signIn();
  const { page, chats } = open({ 'POST /api/chat': (body) => reply(`查到 ${body.text}`) });
  await settle();
  const { held, restore } = holdChats();
  await typeAndSend(page, ['王家湾村']);
  held[0].fail('timeout');
  await settle(10);
  expect(page.querySelector('.retry-all')).toBeFalsy(); // one: its own "点击重发"
  await typeAndSend(page, ['这个村的汇总', '帮助']);
  held[1].fail('timeout');
  await settle(10);
  expect(messages(page).map((m) => m.status)).toEqual(['failed', 'failed', 'failed']);
  expect(text(page.querySelector('.retry-all'))).toContain('全部重发');
  restore();
  page.querySelector('.retry-all').dispatchEvent('tap');
  await settle(20);
  expect(chats().map((c) => c.data.text)).toEqual(['王家湾村', '这个村的汇总', '帮助']);
  const keys = page.instance.conversation.messages().filter((m) => m.role === 'user').map((m) => m.key);
  expect(keys.slice(0, 2)).toEqual([held[0].key, held[1].key]);
  expect(chats().map((c) => c.header['Idempotency-Key'])).toEqual(keys);
  expect(messages(page).filter((m) => m.role === 'user').map((m) => m.status)).toEqual(['sent', 'sent', 'sent']);
  expect(page.querySelector('.retry-all')).toBeFalsy();
});
