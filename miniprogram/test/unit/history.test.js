const { createFakeWx } = require('../support/fake-wx');
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
