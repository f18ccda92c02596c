/**
 * Messages waiting for the network (or for their answer) when the app is closed: kept in storage,
 * back on the next start as failed with why, in Chinese, and resent with their keys, in order.
 */
const { createFakeWx } = require('../support/fake-wx');
const { createNetwork } = require('../../utils/network');
const { createClient } = require('../../utils/request');
const { createStorage } = require('../../utils/storage');
const { createCache } = require('../../utils/cache');
const { createHistory } = require('../../utils/history');
const { createChatApi } = require('../../services/chat/index');
const { createConversation } = require('../../services/chat/conversation');
const { view } = require('../../services/chat/view');

/** The app closed and started again: a new process (network, requests) over the same storage. */
function reopened(old) {
  const wx = createFakeWx();
  old.store.forEach((value, key) => wx.store.set(key, value));
  return wx;
}

/** One app start on `wx`. */
function start(wx) {
  const network = createNetwork(wx);
  network.start();
  const client = createClient({ wx, network, baseUrl: () => 'http://api.test', random: Math.random });
  const store = createStorage(wx);
  const conversation = createConversation({
    chatApi: createChatApi(client),
    history: createHistory({ storage: store }),
    cache: createCache({ storage: store }),
    owner: () => '6',
    scope: () => '6:6',
    online: () => network.isOnline(),
  });
  network.onChange((online) => online && conversation.resume());
  conversation.load();
  return conversation;
}

const answer = (call) => ({ statusCode: 200, data: { blocks: [{ type: 'text', text: `答：${call.data.text}` }], suggestions: [] } });
const users = (conversation) => conversation.messages().filter((m) => m.role === 'user');

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('messages waiting for the network when the app closed come back failed, saying why, and are resent with their keys', async () => {
  const old = createFakeWx();
  old.setNetwork('none');
  const before = start(old);
  before.sendText('王家湾村');
  before.sendText('这个村的汇总');
  await jest.advanceTimersByTimeAsync(0);
  const kept = users(before).map((m) => ({ text: m.text, key: m.key, request: m.request }));

  const wx = reopened(old); // the next start has a network
  wx.respond(answer);
  const after = start(wx);
  expect(users(after).map((m) => ({ text: m.text, key: m.key, request: m.request }))).toEqual(kept);
  expect(users(after).map((m) => m.status)).toEqual(['failed', 'failed']);
  expect(view(after.messages(), Date.now(), true).map((m) => m.statusText)).toEqual([
    '小程序关闭前没有收到答复（点击重发）',
    '小程序关闭前没有收到答复（点击重发）',
  ]);
  expect(wx.requests).toHaveLength(0); // nothing goes out by itself

  await after.retryAll();
  await jest.advanceTimersByTimeAsync(0);
  expect(wx.requests.map((r) => [r.data.text, r.header['Idempotency-Key']])).toEqual(kept.map((m) => [m.text, m.key]));
  expect(users(after).map((m) => m.status)).toEqual(['sent', 'sent']);
});

test('a message whose send failed before the app closed keeps its own reason after a restart', async () => {
  const old = createFakeWx();
  old.respond(() => ({ statusCode: 503, data: {} }));
  const before = start(old);
  const sent = before.sendText('王家湾村');
  await jest.advanceTimersByTimeAsync(60 * 1000);
  await sent;
  const reason = users(before)[0].error;
  expect(users(before)[0].status).toBe('failed');
  expect(reason).not.toBe('');

  const after = start(reopened(old));
  expect(users(after)[0]).toMatchObject({ status: 'failed', error: reason });
});
