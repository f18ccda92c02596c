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
