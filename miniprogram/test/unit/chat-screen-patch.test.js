/**
 * What the chat page hands to setData on each change of the conversation (services/chat/view
 * screenPatch): only the messages that changed or are new, by path ("messages[7]"), never the whole
 * history again (up to 100 messages / 400,000 characters: WeChat asks for under 256 KB a call).
 * Messages the history drops at its front leave a small gap until the list is compacted.
 */
const blocks = require('../../services/chat/blocks');
const { view, screenPatch, GAPS_MAX } = require('../../services/chat/view');
const { createConversation } = require('../../services/chat/conversation');
const { createHistory } = require('../../utils/history');
const { createCache } = require('../../utils/cache');
const { createStorage } = require('../../utils/storage');
const { createFakeWx } = require('../support/fake-wx');
const config = require('../../config/index');

const bytes = (v) => Buffer.byteLength(JSON.stringify(v), 'utf8');

function countyMap(n) {
  const pins = [];
  for (let i = 0; i < n; i += 1) {
    pins.push({
      latitude: 25 + i / 1000,
      longitude: 102 + i / 1000,
      title: `青山县白沙镇王家湾村第${i}号茶叶种植专业合作社`,
      subtitle: '白沙镇王家湾村',
      action: { label: '信息卡', intent: 'coop.card', params: { unit_id: 1000 + i } },
    });
  }
  return { blocks: [{ type: 'map', title: '青山县合作社分布', pins }], suggestions: [], context: '青山县' };
}

function townTable(n) {
  const rows = [];
  const rowActions = [];
  for (let i = 0; i < n; i += 1) {
    rows.push([`白沙镇第${i}村股份经济合作社`, '12', '8', '1,234.56', '567.89', '王家湾村']);
    rowActions.push({ label: '信息卡', intent: 'coop.card', params: { unit_id: 2000 + i } });
  }
  return {
    blocks: [{ type: 'table', title: '下级单位汇总', columns: ['名称', '合作社', '村级社', '总资产', '总收入', '上级'], rows, row_actions: rowActions, total: n }],
    suggestions: [],
    context: '白沙镇',
  };
}

/** The screen as the page keeps it: the patches applied in order, as setData applies paths. */
function applyPatch(screen, data) {
  let out = screen.slice();
  Object.keys(data).forEach((key) => {
    if (key === 'messages') out = data[key].slice();
    const at = /^messages\[(\d+)\]$/.exec(key);
    if (at) out[Number(at[1])] = data[key];
  });
  return out;
}

const live = (screen) => screen.filter((m) => !m.gone);

/** A conversation as the chat page renders it; `answer(n)` is the server's n-th reply. */
function chat(answer) {
  const storage = createStorage(createFakeWx());
  const history = createHistory({ storage, limit: config.HISTORY_LIMIT, maxChars: config.HISTORY_MAX_CHARS });
  const renders = [];
  let shown = null;
  let screen = [];
  let n = 0;
  const conversation = createConversation({
    chatApi: { send: async () => blocks.reply(answer(n++)) },
    history,
    cache: createCache({ storage }),
    owner: () => '6',
    scope: () => '6:6',
    onChange: (messages) => {
      const views = view(messages, Date.now(), true);
      const step = screenPatch(shown, views);
      shown = step.shown;
      screen = applyPatch(screen, step.data);
      renders.push({ bytes: bytes(step.data), full: bytes({ messages: views }), step, views });
    },
  });
  conversation.load();
  return { conversation, renders, screen: () => screen };
}

test('a county map is stored once: pins only (the map component builds its markers)', () => {
  const one = blocks.reply(countyMap(200)).blocks[0];
  expect(one.markers).toBeUndefined();
  expect(one.points).toBeUndefined();
  expect(bytes(one)).toBeLessThan(60 * 1024); // 200 pins; over 90 KB with markers and points
});

test('each send hands setData its own messages only, also on a full chat; the screen stays right', async () => {
  const { conversation, renders, screen } = chat((n) => (n % 10 === 0 ? countyMap(200) : townTable(20)));
  for (let i = 0; i < 50; i += 1) await conversation.sendText(`问题${i}`);
  const last = renders.slice(-2);
  // before: the whole history each time (426,127 and 432,791 bytes for these two in review 6)
  console.log(
    'setData bytes per render, last send: now',
    last.map((r) => r.bytes),
    'whole list',
    last.map((r) => r.full),
    '; largest render after the first 10 sends:',
    Math.max(...renders.slice(21).map((r) => r.bytes))
  );
  expect(Math.max(...last.map((r) => r.bytes))).toBeLessThan(16 * 1024);
  renders.slice(21).forEach((r) => expect(r.bytes).toBeLessThan(64 * 1024)); // a map answer is the largest
  expect(live(screen()).map((m) => m.id)).toEqual(renders[renders.length - 1].views.map((m) => m.id));
  expect(live(screen())).toEqual(renders[renders.length - 1].views);
});

test('the history cap on big answers: one answer a render, not 400,000 characters', async () => {
  const { conversation, renders, screen } = chat(() => townTable(100)); // a county's 100 villages (MAX_CHILDREN)
  for (let i = 0; i < 40; i += 1) await conversation.sendText(`汇总${i}`);
  const last = renders[renders.length - 1];
  console.log('last render bytes: now', last.bytes, 'whole list', last.full);
  expect(last.full).toBeGreaterThan(350000); // the history is at its cap
  const steady = renders.slice(-30).filter((r) => !('messages' in r.step.data)); // compactions aside
  expect(steady.length).toBeGreaterThan(20);
  steady.forEach((r) => expect(r.bytes).toBeLessThan(40 * 1024)); // one 100-row table is ~31 KB
  expect(live(screen())).toEqual(last.views);
});

test('gaps left by dropped messages are compacted with one full list after GAPS_MAX of them', () => {
  const msgs = (ids) => ids.map((id) => ({ id, role: 'user', content: [{ type: 'text', data: id }] }));
  let step = screenPatch(null, msgs(['a', 'b', 'c']));
  expect(Object.keys(step.data)).toEqual(['messages']);
  expect(step.scroll).toBe(true);
  step = screenPatch(step.shown, msgs(['b', 'c', 'd'])); // "a" dropped, "d" added
  expect(step.data).toEqual({ 'messages[0]': { id: 'gap-0', gone: true }, 'messages[3]': msgs(['d'])[0] });
  expect(step.scroll).toBe(true);
  step = screenPatch(step.shown, msgs(['b', 'c', 'd'])); // nothing changed
  expect(step.data).toEqual({});
  expect(step.scroll).toBe(false);
  step = screenPatch(step.shown, msgs(['b', 'c', 'd']), ['c']); // sent again on purpose
  expect(step.data).toEqual({ 'messages[2]': msgs(['c'])[0] });
  expect(step.scroll).toBe(false);
  let ids = ['b', 'c', 'd'];
  let steps = 0;
  while (!('messages' in step.data) && steps < GAPS_MAX + 5) {
    ids = ids.slice(1).concat([`n${steps}`]);
    step = screenPatch(step.shown, msgs(ids));
    steps += 1;
  }
  expect(steps).toBe(GAPS_MAX); // one gap was there already
  expect(step.data).toEqual({ messages: msgs(ids) });
  expect(step.shown).toHaveLength(3);
});

test('a message moved to the end (a failed action sent again) leaves a gap and shows at the end', () => {
  const msgs = (ids) => ids.map((id) => ({ id, role: 'user', content: [{ type: 'text', data: id }] }));
  let step = screenPatch(null, msgs(['a', 'b', 'c']));
  step = screenPatch(step.shown, msgs(['a', 'c', 'b']));
  expect(step.data).toEqual({ 'messages[1]': { id: 'gap-1', gone: true }, 'messages[3]': msgs(['b'])[0] });
  expect(step.scroll).toBe(true);
  expect(live(step.shown).map((m) => m.id)).toEqual(['a', 'c', 'b']);
});
