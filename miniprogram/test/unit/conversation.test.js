/**
 * The chat conversation: history that survives a restart, cached answers shown at once (offline,
 * with their time) and replaced by the fresh one, failed sends resent with the same key, refused
 * ones handed back, double taps on an action, text limits, sent forms, the owner of the history.
 */
const { createFakeWx } = require('../support/fake-wx');
const { createStorage } = require('../../utils/storage');
const { createCache } = require('../../utils/cache');
const { createHistory } = require('../../utils/history');
const { createConversation, cacheable, textProblem } = require('../../services/chat/conversation');
const { view } = require('../../services/chat/view');
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

test('an action tapped again while the same one is still sending is not sent twice; once answered it may be', async () => {
  let release;
  const chatApi = {
    send: jest
      .fn()
      .mockImplementationOnce(() => new Promise((r) => (release = r)))
      .mockResolvedValue(answer('好')),
  };
  const { conversation } = setup(chatApi);
  const reset = { intent: 'account.reset_password', params: { account_id: 9 }, label: '重置密码' };
  const first = conversation.sendAction(reset);
  expect(await conversation.sendAction(Object.assign({}, reset, { params: { account_id: 9 } }))).toBeNull();
  expect(chatApi.send).toHaveBeenCalledTimes(1);
  const other = conversation.sendAction({ intent: 'account.reset_password', params: { account_id: 10 } }); // another account
  expect(chatApi.send).toHaveBeenCalledTimes(1); // it goes once the first is answered
  release(answer('已重置'));
  await first;
  await other;
  expect(chatApi.send).toHaveBeenCalledTimes(2);
  await conversation.sendAction(reset);
  expect(chatApi.send).toHaveBeenCalledTimes(3);
  expect(conversation.messages().filter((m) => m.role === 'user')).toHaveLength(3);
});

test('pasted control characters go out as spaces; tabs and newlines as typed', async () => {
  const chatApi = { send: jest.fn(async () => answer('答复')) };
  const { conversation } = setup(chatApi);
  await conversation.sendText('\u0000王家\u0007湾\u001b\u007f');
  await conversation.sendText('王家湾\t村\n委会');
  expect(chatApi.send.mock.calls.map((c) => c[0].text)).toEqual(['王家 湾', '王家湾\t村\n委会']);
  expect(conversation.messages()[0].text).toBe('王家 湾');
});

test('a message the server refuses (a 4xx resending cannot change) shows its reason, is not offered again and is handed back', async () => {
  const refused = Object.assign(new Error('输入有误'), { status: 422, code: 'validation_failed', retryable: false, fields: { text: '不能包含控制字符' } });
  const chatApi = { send: jest.fn().mockRejectedValueOnce(refused) };
  const { conversation, deps } = setup(chatApi);
  const handed = [];
  deps.onRefused = (m) => handed.push(m.request.text);
  expect(await conversation.sendText('汇总')).toBeNull();
  const [user] = conversation.messages();
  expect(user).toMatchObject({ status: 'refused', error: '不能包含控制字符' });
  expect(handed).toEqual(['汇总']);
  expect(await conversation.retry(user.id)).toBeNull();
  expect(chatApi.send).toHaveBeenCalledTimes(1);
  expect(view(conversation.messages(), 0, true)[0]).toMatchObject({ status: 'refused', statusText: '不能包含控制字符' });
});

test.each(['password_change_required', 'sms_check_required', 'unit_choice_required'])(
  'a 403 %s (a step first: the server does not keep it for the key) stays failed, to be resent after the step',
  async (code) => {
    const blocked = Object.assign(new Error('请先完成这一步'), { status: 403, code, retryable: false, fields: {} });
    const chatApi = { send: jest.fn().mockRejectedValueOnce(blocked).mockResolvedValueOnce(answer('答复')) };
    const { conversation, deps } = setup(chatApi);
    const handed = [];
    deps.onRefused = (m) => handed.push(m.request.text);
    await conversation.sendText('汇总');
    const [user] = conversation.messages();
    expect(user.status).toBe('failed');
    expect(handed).toEqual([]); // not handed back to the input: its bubble offers the resend
    await conversation.retry(user.id);
    expect(chatApi.send).toHaveBeenCalledTimes(2);
    expect(chatApi.send.mock.calls[1][1]).toBe(chatApi.send.mock.calls[0][1]); // with its key
    expect(conversation.messages()[0].status).toBe('sent');
  }
);

test('another 403 (no permission) is a refusal', async () => {
  const forbidden = Object.assign(new Error('没有权限'), { status: 403, code: 'forbidden', retryable: false, fields: {} });
  const { conversation } = setup({ send: jest.fn().mockRejectedValueOnce(forbidden) });
  await conversation.sendText('汇总');
  expect(conversation.messages()[0]).toMatchObject({ status: 'refused', error: '没有权限' });
});

test('a 409 (in progress), a 429 and a 401 stay failed: resending may help', async () => {
  const chatApi = { send: jest.fn() };
  [409, 429, 401].forEach((status) =>
    chatApi.send.mockRejectedValueOnce(Object.assign(new Error('稍后'), { status, retryable: status === 429, fields: {} }))
  );
  const { conversation } = setup(chatApi);
  await conversation.sendText('a');
  await conversation.sendText('b');
  await conversation.sendText('c');
  expect(conversation.messages().map((m) => m.status)).toEqual(['failed', 'failed', 'failed']);
});

test('text over 200 characters is not sent, nor cut; 200 emoji are 200 characters', async () => {
  const chatApi = { send: jest.fn(async () => answer('答复')) };
  const { conversation } = setup(chatApi);
  const emoji = '😀'.repeat(200); // 400 UTF-16 units
  expect(textProblem(emoji)).toBe('');
  expect(textProblem(`${emoji}好`)).toBe('最多 200 字');
  expect(await conversation.sendText(`${'村'.repeat(201)}`)).toBeNull();
  expect(chatApi.send).not.toHaveBeenCalled();
  await conversation.sendText(emoji);
  expect(chatApi.send.mock.calls[0][0].text).toBe(emoji);
});

test('a 401 during a send keeps the conversation under its account, never under "anon"', async () => {
  const wx = createFakeWx();
  const expired = Object.assign(new Error('登录已过期，请重新登录'), { status: 401, retryable: false, fields: {} });
  let account = '6';
  const chatApi = {
    send: jest.fn(async () => {
      account = 'anon'; // the 401 handler has cleared the session before the caller hears of it
      throw expired;
    }),
  };
  const { conversation, deps } = setup(chatApi, wx);
  deps.owner = () => account;
  await conversation.sendText('汇总');
  expect(wx.store.has('cwt:history:anon')).toBe(false);
  expect(deps.history.load('6')).toEqual([expect.objectContaining({ text: '汇总', status: 'failed' })]);
  deps.owner = () => '';
  await conversation.sendText('帮助'); // nobody logged in: nothing saved
  expect([...wx.store.keys()].filter((k) => k.startsWith('cwt:history:'))).toEqual(['cwt:history:6']);
});

test('a sent form keeps its values and stays sent, in the history and in the view', async () => {
  const wx = createFakeWx();
  const formReply = blocks.reply({
    blocks: [{ type: 'form', title: '新增经办人', fields: [{ name: 'name', label: '姓名' }], submit: { label: '添加', intent: 'agent.add' } }],
  });
  const first = setup({ send: async () => formReply }, wx);
  const shown = await first.conversation.sendText('新增经办人');
  first.conversation.formSent(shown.id, 'k0', { name: '王五' });
  const again = setup({ send: async () => formReply }, wx); // the app was closed and opened again
  const [, bot] = again.conversation.load();
  expect(bot.forms).toEqual({ k0: { values: { name: '王五' }, sent: true } });
  expect(view([bot], 0, true)[0].blocks[0]).toMatchObject({ type: 'form', values: { name: '王五' }, sent: true });
});

test('the view says "发送中…" on a message on its way and marks the buttons of an action still sending busy', () => {
  const more = { label: '更多', intent: 'unit.children', params: { unit_id: 4, cursor: 2 } };
  const reset = { label: '重置密码', intent: 'account.reset_password', params: { account_id: 9 } };
  const other = { label: '本村汇总', intent: 'summary', params: { unit_id: 7 } };
  const bot = { id: 'a1', role: 'assistant', time: 0, blocks: [
    { key: 'k0', type: 'card', actions: [other, reset] },
    { key: 'k1', type: 'table', rows: [], more },
  ] };
  const sending = (act) => ({ id: 'u1', role: 'user', text: act.label, time: 0, status: 'sending', request: { action: act } });
  let rows = view([bot, sending(reset)], 0, true);
  expect(rows[1].statusText).toBe('发送中…');
  expect(rows[0].blocks[0].actions.map((a) => !!a.busy)).toEqual([false, true]);
  expect(rows[0].blocks[1].more.busy).toBeFalsy();
  rows = view([bot, sending(more)], 0, true);
  expect(rows[0].blocks[1].more.busy).toBe(true);
  rows = view([bot, Object.assign(sending(more), { status: 'sent' })], 0, true);
  expect(rows[0].blocks).toBe(bot.blocks); // nothing sending: the blocks as they are
  expect(rows[1].statusText).toBe('');
});

test('paging words the server reads as "更多" (edge punctuation, full-width letters) are never answered from the cache', async () => {
  ['更多。', '更多~', ' 下一页 。', '继续！', 'ＭＯＲＥ', 'Next?'].forEach((typed) => expect(cacheable({ text: typed })).toBe(false));
  expect(cacheable({ text: '汇总。' })).toBe(true);
  const chatApi = { send: jest.fn().mockResolvedValueOnce(answer('第 2 页')).mockImplementationOnce(() => new Promise(() => {})) };
  const { conversation } = setup(chatApi);
  await conversation.sendText('更多。');
  conversation.sendText('更多。'); // another list's next page: nothing from the cache
  expect(conversation.messages().filter((m) => m.offline)).toHaveLength(0);
});

test('a question answered by where the conversation is ("下级单位") is not answered from the cache of another place', async () => {
  const at = (place, text) => Object.assign(answer(text), { context: place });
  let hang = false;
  const replies = {
    王家湾村: () => at('王家湾村', '王家湾村的卡片'),
    李家坪村: () => at('李家坪村', '李家坪村的卡片'),
  };
  let place = '';
  const chatApi = {
    send: jest.fn(async (request) => {
      if (hang) return new Promise(() => {});
      if (replies[request.text]) {
        place = request.text;
        return replies[request.text]();
      }
      return at(place, `${place}的下级单位`); // "下级单位": of the unit shown last
    }),
  };
  const { conversation } = setup(chatApi);
  const lastShown = () => conversation.messages()[conversation.messages().length - 1];
  await conversation.sendText('王家湾村');
  await conversation.sendText('下级单位');
  await conversation.sendText('李家坪村');
  hang = true; // no signal from here on
  conversation.sendText('下级单位');
  expect(lastShown()).toMatchObject({ role: 'user', status: 'sending' }); // not 王家湾村's children
  conversation.sendText('王家湾村'); // named: its cached answer holds anywhere
  expect(lastShown()).toMatchObject({ role: 'assistant', offline: true });
  expect(lastShown().blocks[0].text).toBe('王家湾村的卡片');
});

test('a conversation replaced by a newer one (a relaunch) cannot save its late answer over the newer conversation', async () => {
  let late;
  const wx = createFakeWx();
  const old = setup({ send: jest.fn(() => new Promise((r) => (late = r))) }, wx);
  old.conversation.load();
  const pending = old.conversation.sendText('帮助'); // on its way when the chat page closed
  const fresh = setup({ send: jest.fn(async () => answer('王家湾村')) }, wx);
  expect(fresh.conversation.load()).toEqual([expect.objectContaining({ text: '帮助', status: 'failed' })]);
  await fresh.conversation.sendText('王家湾');
  late(answer('帮助的答复'));
  await pending;
  const kept = fresh.deps.history.load('6');
  expect(kept.map((m) => m.text || m.blocks[0].text)).toEqual(['帮助', '王家湾', '王家湾村']);
});

test('an action whose send failed, tapped again, goes out with its first key (the server does it once), as the newest message', async () => {
  const lost = Object.assign(new Error('网络超时，请稍后重试'), { code: 'timeout', retryable: true });
  const chatApi = { send: jest.fn().mockRejectedValueOnce(lost).mockResolvedValue(answer('已重置')) };
  const { conversation, tick } = setup(chatApi);
  const reset = { intent: 'account.reset_password', params: { account_id: 9 }, label: '重置密码', confirm: '确定重置？' };
  await conversation.sendAction(reset);
  await conversation.sendText('帮助');
  tick(5000);
  await conversation.sendAction(reset); // the button tapped again instead of "点击重发"
  expect(chatApi.send).toHaveBeenCalledTimes(3);
  expect(chatApi.send.mock.calls[2][1]).toBe(chatApi.send.mock.calls[0][1]);
  const users = conversation.messages().filter((m) => m.role === 'user');
  expect(users.map((m) => [m.text, m.status])).toEqual([
    ['帮助', 'sent'],
    ['重置密码', 'sent'],
  ]);
  expect(conversation.messages().slice(-2).map((m) => m.text || m.blocks[0].text)).toEqual(['重置密码', '已重置']);
});

test('a write the server did whose answer was lost (409 request_done) is not offered for resending, nor handed back to the input', async () => {
  const done = Object.assign(new Error('该操作已经完成，但结果没能返回；请刷新查看，不要重复提交'), {
    status: 409,
    code: 'request_done',
    retryable: false,
    fields: {},
  });
  const chatApi = { send: jest.fn().mockRejectedValue(done) };
  const { conversation, deps } = setup(chatApi);
  const handed = [];
  deps.onRefused = (m) => handed.push(m.request.text);
  await conversation.sendText('解锁 张三');
  const [user] = conversation.messages();
  expect(view(conversation.messages(), 0, true)[0].statusText).toBe('该操作已经完成，但结果没能返回；请刷新查看，不要重复提交');
  expect(await conversation.retry(user.id)).toBeNull();
  expect(chatApi.send).toHaveBeenCalledTimes(1);
  expect(handed).toEqual([]);
});

/** chatApi.send answered by hand: calls[i].resolve / .reject, in the order they went out. */
function heldApi() {
  const calls = [];
  const send = jest.fn((request, key) => new Promise((resolve, reject) => calls.push({ request, key, resolve, reject })));
  return { chatApi: { send }, calls };
}
const flush = () => new Promise((resolve) => setImmediate(resolve));
const at = (place, text) => Object.assign(answer(text), { context: place });

test('messages sent quickly go out one at a time, each once the one before is answered (the server keeps the context); all show "sending" at once, answers in the order sent', async () => {
  const { chatApi, calls } = heldApi();
  const { conversation } = setup(chatApi);
  const first = conversation.sendText('王家湾村');
  const second = conversation.sendText('这个村的汇总');
  const third = conversation.sendAction({ intent: 'unit.children', params: { unit_id: 7, cursor: 2 }, label: '更多' });
  expect(conversation.messages().map((m) => [m.text, m.status])).toEqual([
    ['王家湾村', 'sending'],
    ['这个村的汇总', 'sending'],
    ['更多', 'sending'],
  ]);
  await flush();
  expect(calls.map((c) => c.request)).toEqual([{ text: '王家湾村' }]);
  calls[0].resolve(at('王家湾村', '王家湾村的卡片'));
  await first;
  await flush();
  expect(calls.map((c) => c.request)).toEqual([{ text: '王家湾村' }, { text: '这个村的汇总' }]);
  calls[1].resolve(at('王家湾村', '王家湾村的汇总'));
  await second;
  await flush();
  expect(calls).toHaveLength(3);
  expect(calls[2].request).toEqual({ action: { intent: 'unit.children', params: { unit_id: 7, cursor: 2 } } });
  calls[2].resolve(at('王家湾村', '第 2 页'));
  await third;
  expect(new Set(calls.map((c) => c.key)).size).toBe(3);
  expect(conversation.messages().filter((m) => m.role === 'assistant').map((m) => m.blocks[0].text)).toEqual([
    '王家湾村的卡片',
    '王家湾村的汇总',
    '第 2 页',
  ]);
});

test('a send the server fails (5xx) does not hold the ones after it: the next goes once it has failed; its resend waits its turn and keeps its key', async () => {
  const lost = Object.assign(new Error('服务器繁忙，请稍后重试'), { status: 503, code: 'server', retryable: true });
  const { chatApi, calls } = heldApi();
  const { conversation } = setup(chatApi);
  const first = conversation.sendText('王家湾村');
  const second = conversation.sendText('帮助');
  await flush();
  calls[0].reject(lost);
  expect(await first).toBeNull();
  await flush();
  expect(calls.map((c) => c.request.text)).toEqual(['王家湾村', '帮助']);
  const failed = conversation.messages()[0];
  expect(failed).toMatchObject({ status: 'failed' });
  const resent = conversation.retry(failed.id);
  expect(conversation.messages()[0].status).toBe('sending'); // shown at once
  await flush();
  expect(calls).toHaveLength(2); // after "帮助" has its answer
  calls[1].resolve(answer('帮助的答复'));
  await second;
  await flush();
  expect(calls).toHaveLength(3);
  expect(calls[2].key).toBe(calls[0].key);
  calls[2].resolve(at('王家湾村', '王家湾村的卡片'));
  expect((await resent).blocks[0].text).toBe('王家湾村的卡片');
  expect(conversation.messages().map((m) => m.status || m.blocks[0].text)).toEqual(['sent', 'sent', '帮助的答复', '王家湾村的卡片']);
});

test('a question about where the conversation is, sent behind one still on its way, is not answered from the cache of the place before', async () => {
  let place = '';
  const chatApi = {
    send: jest.fn(async (request) => {
      if (request.text !== '下级单位') place = request.text;
      return at(place, `${place}的${request.text === '下级单位' ? '下级单位' : '卡片'}`);
    }),
  };
  const { conversation } = setup(chatApi);
  await conversation.sendText('王家湾村');
  await conversation.sendText('下级单位');
  const going = conversation.sendText('李家坪村');
  const children = conversation.sendText('下级单位'); // will be about 李家坪村
  expect(conversation.messages().filter((m) => m.offline)).toHaveLength(0);
  await going;
  expect((await children).blocks[0].text).toBe('李家坪村的下级单位');
});

test('a message still in line when the conversation is cleared is not sent', async () => {
  const { chatApi, calls } = heldApi();
  const { conversation } = setup(chatApi);
  const first = conversation.sendText('王家湾村');
  const second = conversation.sendText('这个村的汇总');
  conversation.clear();
  calls[0].resolve(at('王家湾村', '王家湾村的卡片'));
  await first;
  expect(await second).toBeNull();
  expect(calls).toHaveLength(1);
});

test('a send that fails on the way (no signal, timed out) fails the ones in line behind it at once, texts kept; resends go one at a time, in order', async () => {
  const lost = Object.assign(new Error('网络超时，请稍后重试'), { code: 'timeout', retryable: true });
  const { chatApi, calls } = heldApi();
  const { conversation, deps } = setup(chatApi);
  const sends = ['王家湾村', '这个村的汇总', '帮助'].map((t) => conversation.sendText(t));
  await flush();
  calls[0].reject(lost);
  await sends[0];
  await flush();
  expect(calls).toHaveLength(1); // the two behind it do not each wait out their own timeout
  expect(await Promise.all(sends)).toEqual([null, null, null]);
  const failed = conversation.messages();
  expect(failed.map((m) => [m.text, m.status, m.error])).toEqual([
    ['王家湾村', 'failed', '网络超时，请稍后重试'],
    ['这个村的汇总', 'failed', '网络超时，请稍后重试'],
    ['帮助', 'failed', '网络超时，请稍后重试'],
  ]);
  expect(view(failed, 0, true).map((m) => m.statusText)).toEqual(Array(3).fill('网络超时，请稍后重试（点击重发）'));
  expect(deps.history.load('6').map((m) => m.status)).toEqual(['failed', 'failed', 'failed']);
  const resent = failed.map((m) => conversation.retry(m.id));
  const typed = conversation.sendText('李家坪村'); // typed after the failure: goes too, after the resends
  await flush();
  expect(calls).toHaveLength(2);
  calls[1].resolve(at('王家湾村', '王家湾村的卡片'));
  await resent[0];
  await flush();
  expect(calls).toHaveLength(3);
  calls[2].resolve(at('王家湾村', '王家湾村的汇总'));
  await flush();
  calls[3].resolve(answer('帮助的答复'));
  await flush();
  calls[4].resolve(at('李家坪村', '李家坪村的卡片'));
  await Promise.all(resent.concat(typed));
  expect(calls.map((c) => c.request.text)).toEqual(['王家湾村', '王家湾村', '这个村的汇总', '帮助', '李家坪村']);
  expect(calls.slice(1, 4).map((c) => c.key)).toEqual(failed.map((m) => m.key));
  expect(conversation.messages().filter((m) => m.role === 'user').map((m) => m.status)).toEqual(Array(4).fill('sent'));
});
