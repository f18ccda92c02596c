const { createFakeWx, storedSize } = require('../support/fake-wx');
const { createStorage } = require('../../utils/storage');
const { createHistory } = require('../../utils/history');

const msg = (i, extra) => Object.assign({ id: `m${i}`, role: i % 2 ? 'assistant' : 'user', text: `t${i}` }, extra);

test('keeps the newest messages per owner and reads them back (survives an app restart)', () => {
  const wx = createFakeWx();
  const history = createHistory({ storage: createStorage(wx), limit: 3 });
  history.save('7', [0, 1, 2, 3, 4].map((i) => msg(i)));
  const again = createHistory({ storage: createStorage(wx), limit: 3 }); // a new app start
  expect(again.load('7').map((m) => m.id)).toEqual(['m2', 'm3', 'm4']);
  expect(again.load('8')).toEqual([]);
  again.clear('7');
  expect(again.load('7')).toEqual([]);
});

test('a message still sending when the app closed comes back failed (to be resent)', () => {
  const wx = createFakeWx();
  const history = createHistory({ storage: createStorage(wx) });
  history.save('1', [msg(0, { status: 'sending', key: 'k-1' })]);
  expect(history.load('1')[0]).toMatchObject({ status: 'failed', key: 'k-1' });
});

test('stays under maxChars by dropping the oldest; ignores junk in storage', () => {
  const wx = createFakeWx();
  const history = createHistory({ storage: createStorage(wx), limit: 100, maxChars: 300 });
  const big = [0, 1, 2, 3, 4, 5].map((i) => msg(i, { text: 'x'.repeat(80) }));
  const kept = history.save('1', big);
  expect(JSON.stringify(kept).length).toBeLessThanOrEqual(300);
  expect(kept[kept.length - 1].id).toBe('m5');
  wx.setStorageSync('cwt:history:2', [null, { role: 'robot', id: 'x' }, msg(0)]);
  expect(history.load('2').map((m) => m.id)).toEqual(['m0']);
  wx.setStorageSync('cwt:history:3', 'garbage');
  expect(history.load('3')).toEqual([]);
});

test('a full storage (or a key over its limit) keeps the newest messages that fit, not an older history', () => {
  const wx = createFakeWx();
  const history = createHistory({ storage: createStorage(wx), limit: 100, maxChars: 100000 });
  history.save('1', [0, 1].map((i) => msg(i)));
  const real = wx.setStorageSync;
  wx.setStorageSync = (key, value) => {
    if (JSON.stringify(value).length > 1000) throw new Error('setStorageSync:fail exceed storage max size 10MB');
    real(key, value);
  };
  const many = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => msg(i, { text: 'x'.repeat(150) }));
  many[9].status = 'failed'; // not sent yet: to be resent after a restart
  expect(history.save('1', many)).toHaveLength(10); // the screen keeps showing them all
  const kept = history.load('1');
  expect(kept.length).toBeGreaterThan(1);
  expect(kept[kept.length - 1]).toMatchObject({ id: 'm9', status: 'failed' });
  expect(JSON.stringify(kept).length).toBeLessThanOrEqual(1000);
});

test('the text left in the input is kept per account and goes with the history', () => {
  const wx = createFakeWx();
  const history = createHistory({ storage: createStorage(wx) });
  history.saveDraft('7', '王家湾村的');
  expect(createHistory({ storage: createStorage(wx) }).draft('7')).toBe('王家湾村的');
  expect(history.draft('8')).toBe('');
  history.saveDraft('7', '');
  expect(wx.store.has('cwt:draft:7')).toBe(false);
  history.saveDraft('7', '汇总');
  history.clear('7'); // "退出登录"
  expect(history.draft('7')).toBe('');
});

const ids = (list) => list.map((m) => m.id);
const historySize = (wx) =>
  Array.from(wx.store.keys())
    .filter((k) => k.startsWith('cwt:history:'))
    .reduce((n, k) => n + wx.store.get(k).length, 0);

test('a chat page closed by a relaunch cannot save its older list over the newer page\'s: the newest claim wins; a logout is not undone', () => {
  const wx = createFakeWx();
  const history = createHistory({ storage: createStorage(wx) });
  const old = history.claim('7'); // the chat page before the relaunch
  history.save('7', [msg(0, { status: 'sending' })], old);
  const fresh = createHistory({ storage: createStorage(wx) }).claim('7'); // the chat page after it
  history.save('7', [msg(0, { status: 'failed' }), msg(2), msg(3)], fresh);
  history.save('7', [msg(0, { status: 'sent' }), msg(1)], old); // the old page's late answer
  expect(ids(history.load('7'))).toEqual(['m0', 'm2', 'm3']);
  history.saveDraft('7', '李家坪', fresh);
  history.saveDraft('7', '王家湾', old); // the old page's onUnload, after the new page loaded
  history.saveDraft('7', '', old);
  expect(history.draft('7')).toBe('李家坪');
  history.clear('7'); // "退出登录": a page still open must not bring the history back
  history.save('7', [msg(4)], fresh);
  history.saveDraft('7', '王', fresh);
  expect(wx.store.has('cwt:history:7')).toBe(false);
  expect(history.draft('7')).toBe('');
  history.save('8', [msg(1)]); // a save that claims nothing (no page) is kept as before
  expect(ids(history.load('8'))).toEqual(['m1']);
});

test('all accounts together stay within the total budget: the least recently used go first, never the current account\'s newest, never a message not yet sent', () => {
  const wx = createFakeWx();
  const history = createHistory({ storage: createStorage(wx), limit: 100, maxChars: 2000, totalChars: 4700 });
  const chat = (owner) => // about 1 500 characters each
    [...Array(15).keys()].map((i) => msg(i, { id: `${owner}-${i}`, text: 'x'.repeat(50), status: i % 2 ? undefined : 'sent' }));
  const unsent = chat('2');
  unsent[2].status = 'failed'; // its send failed: to be resent
  unsent[4].status = 'sending'; // still waiting for the network when the app closed
  history.save('1', chat('1'));
  history.save('2', unsent);
  history.save('3', chat('3'));
  expect(historySize(wx)).toBeLessThanOrEqual(4700); // three fit
  history.claim('1'); // account 1 opened the chat again: 2 is now the least recently used
  history.save('4', chat('4')); // a fourth cadre on this phone: over the budget
  expect(historySize(wx)).toBeLessThanOrEqual(4700);
  expect(ids(history.load('4'))).toEqual(ids(chat('4'))); // the current account keeps everything
  expect(ids(history.load('1'))).toEqual(ids(chat('1'))); // used recently: kept
  expect(ids(history.load('3'))).toEqual(ids(chat('3')));
  expect(history.load('2')).toEqual([
    expect.objectContaining({ id: '2-2', status: 'failed' }),
    expect.objectContaining({ id: '2-4', status: 'failed' }),
  ]);
  history.save('5', chat('5')); // and a fifth: 2 has nothing more to give, 3 is next
  expect(historySize(wx)).toBeLessThanOrEqual(4700);
  expect(history.load('2')).toHaveLength(2);
  const third = ids(history.load('3'));
  expect(third.length).toBeLessThan(15);
  expect(third).toEqual(ids(chat('3')).slice(15 - third.length)); // its newest stay
  expect(ids(history.load('1'))).toEqual(ids(chat('1')));
  expect(ids(history.load('5'))).toEqual(ids(chat('5')));
});

test('histories kept before the budget existed count too; a cleared account leaves the budget', () => {
  const wx = createFakeWx();
  const big = (owner) => [...Array(15).keys()].map((i) => msg(i, { id: `${owner}-${i}`, text: 'y'.repeat(80) })); // 1 800 characters
  wx.setStorageSync('cwt:history:1', big('1')); // an older version of the app kept these
  wx.setStorageSync('cwt:history:2', big('2'));
  wx.setStorageSync('cwt:draft:1', '王家湾村的'); // text typed and not sent: never evicted
  const history = createHistory({ storage: createStorage(wx), limit: 100, maxChars: 2000, totalChars: 4000 });
  history.save('3', big('3'));
  expect(historySize(wx)).toBeLessThanOrEqual(4000);
  expect(ids(history.load('3'))).toEqual(ids(big('3')));
  const first = ids(history.load('1'));
  expect(first).toEqual(ids(big('1')).slice(15 - first.length));
  expect(first.length).toBeLessThan(10);
  expect(history.draft('1')).toBe('王家湾村的');
  history.clear('3'); // "退出登录"
  history.save('1', big('1')); // fits again: nothing else goes
  expect(ids(history.load('1'))).toEqual(ids(big('1')));
  expect(ids(history.load('2'))).toEqual(ids(big('2')));
});

test('storage full: the message just typed is kept, by evicting other accounts\' sent messages, then calling onFull; the draft too', () => {
  const wx = createFakeWx({ quota: 5680 });
  const onFull = jest.fn(() => wx.removeStorageSync('cwt:cache:x'));
  const history = createHistory({ storage: createStorage(wx), limit: 100, maxChars: 100000, totalChars: 100000, onFull });
  const old = [...Array(20).keys()].map((i) => msg(i, { id: `9-${i}`, text: 'z'.repeat(100) }));
  history.save('9', old); // another account's chat: 2800 characters or so
  wx.setStorageSync('cwt:cache:x', { value: 'c'.repeat(2800) }); // cached answers fill the rest
  const typed = [msg(0, { text: '王家湾村有哪些合作社', status: 'sending' })];
  expect(history.save('6', typed)).toEqual(typed);
  expect(history.load('6')).toEqual([expect.objectContaining({ text: '王家湾村有哪些合作社', status: 'failed' })]);
  expect(history.load('9')).toEqual([]); // sent long ago: its place went to the new message
  expect(onFull).not.toHaveBeenCalled(); // the account's chats made room: the cache stays
  wx.setStorageSync('cwt:cache:y', { value: 'c'.repeat(5680 - storedSize(wx.store) - 40) }); // full again
  history.saveDraft('6', '李'.repeat(150)); // no history left to evict: the cache makes room
  expect(onFull).toHaveBeenCalledTimes(1);
  expect(history.draft('6')).toBe('李'.repeat(150));
});
