/**
 * A wx object for unit tests: storage in a Map, a scripted wx.request, network events that the
 * test fires, wx.login codes. Every request is recorded (method, url, header, data).
 * options.quota: the storage holds at most this many characters (keys and JSON values), as
 * WeChat's 10 MB: a write beyond it throws as WeChat's does, and leaves the old value.
 */
function storedSize(store) {
  let total = 0;
  store.forEach((value, key) => (total += key.length + value.length));
  return total;
}

function createFakeWx(options) {
  const quota = (options && options.quota) || Infinity;
  const store = new Map();
  const networkListeners = [];
  const requests = [];
  let networkType = 'wifi';
  let responder = () => ({ statusCode: 200, data: {} });

  const wx = {
    requests,
    store,
    /** responder(call, n) -> { statusCode, data, header } | { fail: errMsg } | Promise of either */
    respond(fn) {
      responder = fn;
    },
    setNetwork(type) {
      networkType = type;
      networkListeners.forEach((fn) => fn({ isConnected: type !== 'none', networkType: type }));
    },
    request(options) {
      const call = {
        url: options.url,
        method: options.method,
        header: Object.assign({}, options.header),
        data: options.data,
        timeout: options.timeout,
      };
      requests.push(call);
      let aborted = false;
      Promise.resolve()
        .then(() => responder(call, requests.length))
        .then((out) => {
          if (aborted) return;
          if (out && out.fail) options.fail({ errMsg: `request:fail ${out.fail}` });
          else options.success(Object.assign({ header: {}, errMsg: 'request:ok' }, out));
        });
      return {
        abort() {
          aborted = true;
        },
      };
    },
    getStorageSync(key) {
      return store.has(key) ? JSON.parse(store.get(key)) : '';
    },
    setStorageSync(key, value) {
      const json = JSON.stringify(value);
      const before = store.has(key) ? key.length + store.get(key).length : 0;
      if (storedSize(store) - before + key.length + json.length > quota) throw new Error('setStorageSync:fail exceed storage max size 10MB');
      store.set(key, json);
    },
    removeStorageSync(key) {
      store.delete(key);
    },
    getStorageInfoSync() {
      return { keys: Array.from(store.keys()), currentSize: Math.ceil(storedSize(store) / 1024), limitSize: 10240 };
    },
    getNetworkType(options) {
      options.success({ networkType });
    },
    onNetworkStatusChange(fn) {
      networkListeners.push(fn);
    },
    getAccountInfoSync() {
      return { miniProgram: { envVersion: 'develop', appId: 'touristappid' } };
    },
    login(options) {
      options.success({ code: 'wx-code-1' });
    },
  };
  return wx;
}

/**
 * The app's request client, session and cache over a fake wx whose answers come from `routes`:
 * "METHOD /path" (the path with its query string as sent) -> (call) => body | { statusCode, data }.
 * An unknown route answers 404.
 */
function createFakeApi(routes) {
  const { createStorage } = require('../../utils/storage');
  const { createNetwork } = require('../../utils/network');
  const { createClient } = require('../../utils/request');
  const { createCache } = require('../../utils/cache');
  const { createSession } = require('../../services/session');
  const wx = createFakeWx();
  const storage = createStorage(wx);
  const session = createSession(storage);
  const network = createNetwork(wx);
  const client = createClient({ wx, network, getToken: () => session.token(), baseUrl: () => 'http://api.test' });
  client.on('unauthenticated', () => session.clear());
  wx.respond((call) => {
    const path = call.url.replace('http://api.test', '');
    const route = routes[`${call.method} ${path}`];
    if (!route) return { statusCode: 404, data: { error: { code: 'not_found', message: '不存在', fields: {} } } };
    const out = route(call);
    return out && out.statusCode ? out : { statusCode: 200, data: out };
  });
  return { wx, session, client, network, cache: createCache({ storage }) };
}

module.exports = { createFakeWx, createFakeApi, storedSize };
