/**
 * Round 3: what the offline banner says ("恢复后自动发送") is what happens. Messages typed while the
 * phone has no network wait for it however long it takes (not failed after two minutes), and go
 * out, each with its key, when it returns; several failed ones can be resent at once.
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

function setup() {
  const wx = createFakeWx();
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
  const answer = (call) => ({ statusCode: 200, data: { blocks: [{ type: 'text', text: `答：${call.data.text}` }], suggestions: [] } });
  const statuses = () => conversation.messages().filter((m) => m.role === 'user').map((m) => m.status);
  return { wx, network, conversation, answer, statuses };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('three messages typed offline wait past two minutes, shown "等待网络…", and go out in order when the network returns', async () => {
  const { wx, conversation, answer, statuses } = setup();
  wx.respond(answer);
  wx.setNetwork('none');
  conversation.sendText('王家湾村');
  conversation.sendText('这个村的汇总');
  conversation.sendText('下级单位');
  await jest.advanceTimersByTimeAsync(10 * 60 * 1000); // ten minutes without a network
  expect(wx.requests).toHaveLength(0);
  expect(statuses()).toEqual(['sending', 'sending', 'sending']);
  expect(view(conversation.messages(), Date.now(), false).map((m) => m.statusText)).toEqual(['等待网络…', '等待网络…', '等待网络…']);
  const keys = conversation.messages().map((m) => m.key);
  wx.setNetwork('4g');
  await jest.advanceTimersByTimeAsync(0);
  expect(wx.requests.map((r) => r.data.text)).toEqual(['王家湾村', '这个村的汇总', '下级单位']);
  expect(wx.requests.map((r) => r.header['Idempotency-Key'])).toEqual(keys);
  expect(statuses()).toEqual(['sent', 'sent', 'sent']);
});

test('a message on its way when the network drops, and those behind it, wait for the network instead of failing', async () => {
  const { wx, conversation, answer, statuses } = setup();
  wx.respond((call, n) => {
    if (n === 1) {
      wx.setNetwork('none');
      return { fail: 'net::ERR_INTERNET_DISCONNECTED' };
    }
    return answer(call);
  });
  conversation.sendText('汇总');
  conversation.sendText('下级单位');
  await jest.advanceTimersByTimeAsync(5 * 60 * 1000);
  expect(statuses()).toEqual(['sending', 'sending']);
  wx.setNetwork('wifi');
  await jest.advanceTimersByTimeAsync(0);
  expect(wx.requests.map((r) => r.data.text)).toEqual(['汇总', '汇总', '下级单位']);
  expect(wx.requests[1].header['Idempotency-Key']).toBe(wx.requests[0].header['Idempotency-Key']);
  expect(statuses()).toEqual(['sent', 'sent']);
});

test('online failures (a timeout) stay failed for "点击重发"; "全部重发" resends them all, in order, with their keys', async () => {
  const { wx, conversation, answer, statuses } = setup();
  wx.respond((call, n) => (n === 1 ? { fail: 'timeout' } : answer(call)));
  conversation.sendText('汇总');
  conversation.sendText('下级单位');
  await jest.advanceTimersByTimeAsync(0);
  expect(statuses()).toEqual(['failed', 'failed']); // the second failed with the first, at once
  expect(wx.requests).toHaveLength(1);
  const keys = conversation.messages().map((m) => m.key);
  await conversation.retryAll();
  expect(wx.requests.slice(1).map((r) => r.data.text)).toEqual(['汇总', '下级单位']);
  expect(wx.requests.slice(1).map((r) => r.header['Idempotency-Key'])).toEqual(keys);
  expect(statuses()).toEqual(['sent', 'sent']);
});
