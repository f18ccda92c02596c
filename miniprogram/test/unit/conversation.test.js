/**
 * The chat conversation: history that survives a restart, cached answers shown at once (offline,
 * with their time) and replaced by the fresh one, failed sends resent with the same key.
 */
const { createFakeWx } = require('../support/fake-wx');
const { createStorage } = require('../../utils/storage');
const { createCache } = require('../../utils/cache');
const { createHistory } = require('../../utils/history');
const { createConversation, cacheable } = require('../../services/chat/conversation');
const blocks = require('../../services/chat/blocks');

function setup(chatApi, wx) {
  const store = createStorage(wx || createFakeWx());
  let clock = 1000;
  const changes = [];
  const deps = {
    chatApi,
    history: createHistory({ storage: store }),
    cache: createCache({ storage: store, now: () => clock }),
    owner: () => '6',
    scope: () => '6:6',
    now: () => clock,
    onChange: (m) => changes.push(m.map((x) => Object.assign({}, x))),
  };
  return { conversation: createConversation(deps), deps, changes, tick: (ms) => (clock += ms), store };
}

const answer = (text) => blocks.reply({ blocks: [{ type: 'text', text }], suggestions: [{ label: '帮助', text: '帮助' }] });

test('a typed query: the user message, then the answer; both kept in storage', async () => {
  const chatApi = { send: jest.fn(async () => answer('答复')) };
  const { conversation, deps } = setup(chatApi);
  const reply = await conversation.sendText('  王家湾 ');
  expect(chatApi.send).toHaveBeenCalledWith({ text: '王家湾' }, expect.stringMatching(/^[0-9a-f-]{36}$/));
  expect(reply.blocks[0].text).toBe('答复');
  const [user, bot] = conversation.messages();
  expect(user).toMatchObject({ role: 'user', text: '王家湾', status: 'sent', answerId: bot.id });
  expect(bot).toMatchObject({ role: 'assistant', offline: false, replyTo: user.id });
  expect(conversation.suggestions()).toEqual([{ key: 's0', label: '帮助', text: '帮助', action: null }]);
  expect(deps.history.load('6')).toHaveLength(2);
});

test('a query answered before: the cached answer shows at once, offline with its time, then the fresh one replaces it', async () => {
  let release;
  const chatApi = {
    send: jest
      .fn()
      .mockResolvedValueOnce(answer('旧答复'))
      .mockImplementationOnce(() => new Promise((r) => (release = r))),
  };
  const { conversation, changes, tick } = setup(chatApi);
  await conversation.sendText('汇总');
  tick(3600000);
  const second = conversation.sendText('汇总');
  const shown = conversation.messages();
  const cached = shown[shown.length - 1];
  expect(cached).toMatchObject({ role: 'assistant', offline: true, cachedAt: 1000 });
  expect(cached.blocks[0].text).toBe('旧答复');
  expect(shown[shown.length - 2]).toMatchObject({ role: 'user', status: 'sending' });
  release(answer('新答复'));
  await second;
  const after = conversation.messages();
  expect(after).toHaveLength(4); // the cached answer was replaced, not duplicated
  expect(after[3]).toMatchObject({ id: cached.id, offline: false, cachedAt: 0 });
  expect(after[3].blocks[0].text).toBe('新答复');
  expect(changes.length).toBeGreaterThanOrEqual(4);
});

test('a failed send stays failed (with the cached answer still marked offline); a resend uses the same key', async () => {
  const offline = Object.assign(new Error('网络不给力，请检查网络后重试'), { code: 'network', retryable: true });
  const chatApi = {
    send: jest.fn().mockResolvedValueOnce(answer('旧')).mockRejectedValueOnce(offline).mockResolvedValueOnce(answer('新')),
  };
  const { conversation } = setup(chatApi);
  await conversation.sendText('汇总');
  await conversation.sendText('汇总');
  let msgs = conversation.messages();
  const failed = msgs[2];
  expect(failed).toMatchObject({ status: 'failed', error: '网络不给力，请检查网络后重试' });
  expect(msgs[3]).toMatchObject({ offline: true });
  await conversation.retry(failed.id);
  msgs = conversation.messages();
  expect(chatApi.send.mock.calls[2][1]).toBe(chatApi.send.mock.calls[1][1]);
  expect(chatApi.send.mock.calls[1][1]).not.toBe(chatApi.send.mock.calls[0][1]);
  expect(msgs).toHaveLength(4);
  expect(msgs[2].status).toBe('sent');
  expect(msgs[3]).toMatchObject({ offline: false });
  expect(msgs[3].blocks[0].text).toBe('新');
  expect(await conversation.retry(msgs[2].id)).toBeNull(); // only failed messages are resent
});

test('"更多" and actions are never answered from the cache', async () => {
  expect(cacheable({ text: '更多' })).toBe(false);
  expect(cacheable({ text: ' 下一页 ' })).toBe(false);
  expect(cacheable({ action: { intent: 'x' } })).toBe(false);
  expect(cacheable({ text: '汇总' })).toBe(true);
  const chatApi = { send: jest.fn(async () => answer('页')) };
  const { conversation } = setup(chatApi);
  await conversation.sendText('更多');
  await conversation.sendText('更多');
  await conversation.sendAction({ intent: 'unit.children', params: { cursor: 2 }, label: '更多' });
  await conversation.sendAction({ intent: 'unit.children', params: { cursor: 2 }, label: '更多' });
  expect(conversation.messages().filter((m) => m.offline)).toHaveLength(0);
  expect(chatApi.send.mock.calls[2][0]).toEqual({ action: { intent: 'unit.children', params: { cursor: 2 } } });
  expect(conversation.messages()[4]).toMatchObject({ role: 'user', text: '更多' });
});

test('cached answers belong to one account and unit (scope)', async () => {
  const wx = createFakeWx();
  const first = setup({ send: async () => answer('镇的答复') }, wx);
  await first.conversation.sendText('汇总');
  const other = setup({ send: () => new Promise(() => {}) }, wx);
  other.deps.scope = () => '9:12';
  other.conversation.sendText('汇总');
  expect(other.conversation.messages().filter((m) => m.role === 'assistant')).toHaveLength(0);
});

test('the history comes back after a restart; empty text is ignored; clear empties it', async () => {
  const wx = createFakeWx();
  const first = setup({ send: async () => answer('a') }, wx);
  await first.conversation.sendText('帮助');
  expect(await first.conversation.sendText('   ')).toBeNull();
  const second = setup({ send: async () => answer('b') }, wx);
  expect(second.conversation.load()).toHaveLength(2);
  second.conversation.clear();
  expect(setup({ send: async () => answer('c') }, wx).conversation.load()).toEqual([]);
});
