const { createFakeWx } = require('../support/fake-wx');
const { createStorage } = require('../../utils/storage');
const { createCache } = require('../../utils/cache');

function setup(limit) {
  const wx = createFakeWx();
  let clock = 1000;
  const cache = createCache({ storage: createStorage(wx), limit: limit || 3, now: () => clock });
  return { wx, cache, tick: (ms) => (clock += ms) };
}

test('keeps the last answer with its time, in storage', () => {
  const { wx, cache } = setup();
  expect(cache.get('q')).toBeNull();
  cache.set('q', { blocks: [1] });
  expect(cache.get('q')).toEqual({ value: { blocks: [1] }, time: 1000 });
  expect(wx.store.has('cwt:cache:q')).toBe(true);
});

test('drops the least recently used entry beyond the limit', () => {
  const { cache } = setup(2);
  cache.set('a', 1);
  cache.set('b', 2);
  cache.set('a', 11); // a is now the most recent
  cache.set('c', 3);
  expect(cache.get('b')).toBeNull();
  expect(cache.get('a').value).toBe(11);
  expect(cache.keys()).toEqual(['a', 'c']);
  cache.clear();
  expect(cache.get('a')).toBeNull();
  expect(cache.keys()).toEqual([]);
});

test('query shows the cached answer at once, marked offline with its time, then the fresh one', async () => {
  const { cache, tick } = setup();
  cache.set('profile', { name: '旧' });
  tick(60000);
  const shown = [];
  const result = await cache.query('profile', async () => ({ name: '新' }), (s) => shown.push(s));
  expect(shown).toEqual([
    { value: { name: '旧' }, time: 1000, offline: true },
    { value: { name: '新' }, time: 61000, offline: false },
  ]);
  expect(result.offline).toBe(false);
  expect(cache.get('profile').value).toEqual({ name: '新' });
});

test('query keeps the cached answer on screen when the fetch fails; without one it throws', async () => {
  const { cache } = setup();
  const boom = Object.assign(new Error('网络不给力'), { code: 'network' });
  await expect(cache.query('none', () => Promise.reject(boom))).rejects.toBe(boom);
  cache.set('s', [1]);
  const shown = [];
  const result = await cache.query('s', () => Promise.reject(boom), (s) => shown.push(s));
  expect(result).toMatchObject({ value: [1], offline: true, error: boom });
  expect(shown).toHaveLength(2);
});

test('a full storage makes room by dropping the older half, and never throws', () => {
  const { wx, cache } = setup(10);
  ['a', 'b', 'c', 'd'].forEach((k) => cache.set(k, k));
  const real = wx.setStorageSync;
  let fail = 1;
  wx.setStorageSync = (key, value) => {
    if (key === 'cwt:cache:e' && fail-- > 0) throw new Error('exceed storage max size 10MB');
    real(key, value);
  };
  expect(cache.set('e', 'e')).toMatchObject({ value: 'e' });
  expect(cache.get('a')).toBeNull();
  expect(cache.get('b')).toBeNull();
  expect(cache.get('c').value).toBe('c');
  expect(cache.keys()).toEqual(['c', 'd', 'e']);
});
