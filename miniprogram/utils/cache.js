/**
 * The last answer of each query, kept in storage: shown at once (marked offline, with its time)
 * while the fresh answer is fetched. At most `limit` entries; the least recently used go first.
 */
const { defaultStorage } = require('./storage');

const PREFIX = 'cwt:cache:';
const INDEX = 'cwt:cache-index';

function createCache(options) {
  const opts = options || {};
  const store = opts.storage || defaultStorage();
  const limit = opts.limit || 60;
  const now = opts.now || (() => Date.now());

  function index() {
    const list = store.get(INDEX, []);
    return Array.isArray(list) ? list : [];
  }

  function touch(key) {
    const list = index().filter((k) => k !== key);
    list.push(key);
    while (list.length > limit) store.remove(PREFIX + list.shift());
    store.set(INDEX, list);
  }

  const cache = {
    /** { value, time } or null */
    get(key) {
      const entry = store.get(PREFIX + key, null);
      if (!entry || typeof entry !== 'object' || !('value' in entry)) return null;
      return entry;
    },
    set(key, value) {
      const entry = { value, time: now() };
      if (!store.set(PREFIX + key, entry)) {
        // storage full: drop the older half of the cache and try once more
        const list = index();
        list.splice(0, Math.ceil(list.length / 2)).forEach((k) => store.remove(PREFIX + k));
        store.set(INDEX, list);
        if (!store.set(PREFIX + key, entry)) return null;
      }
      touch(key);
      return entry;
    },
    remove(key) {
      store.remove(PREFIX + key);
      store.set(
        INDEX,
        index().filter((k) => k !== key)
      );
    },
    clear() {
      index().forEach((k) => store.remove(PREFIX + k));
      store.remove(INDEX);
    },
    keys: index,

    /**
     * Cached-then-fresh: calls show({ value, time, offline: true }) at once if an answer is cached,
     * then fetches; on success stores it and calls show({ value, time, offline: false }).
     * When the fetch fails and something was cached, the cached answer stays on screen (marked
     * offline, with the error) and the call resolves with it; otherwise the error is thrown.
     */
    async query(key, fetch, show) {
      const cached = cache.get(key);
      if (cached && show) show({ value: cached.value, time: cached.time, offline: true });
      try {
        const value = await fetch();
        const stored = cache.set(key, value) || { value, time: now() };
        const fresh = { value, time: stored.time, offline: false };
        if (show) show(fresh);
        return fresh;
      } catch (error) {
        if (!cached) throw error;
        const stale = { value: cached.value, time: cached.time, offline: true, error };
        if (show) show(stale);
        return stale;
      }
    },
  };
  return cache;
}

/** Keys of answers that more than one package reads or refreshes. */
const cacheKeys = {
  profile: (scope) => `profile:${scope}`,
};

module.exports = { createCache, cacheKeys, PREFIX, INDEX };
