/**
 * What the WeChat runtime gives every page and component, for miniprogram-simulate in jsdom:
 * getApp, getCurrentPages, and Page. miniprogram-simulate knows components only; WeChat itself
 * can build a page with Component (methods holding onLoad and the handlers), which is what Page
 * becomes here: page functions are methods, attached runs onLoad(query), onShow and onReady,
 * detached runs onUnload.
 */
require('miniprogram-simulate'); // defines global.Component and global.wx (its API mocks)

// A file's first mount compiles the templates (TDesign included) with wcc: about 2 s alone,
// beyond jest's 5 s when the suites run side by side on a busy machine.
jest.setTimeout(20000);

global.getApp = () => ({ globalData: {} });
global.getCurrentPages = () => global.__pageStack || [];
global.__pageQuery = {};

global.Page = (options) => {
  const methods = {};
  Object.keys(options).forEach((key) => {
    if (key !== 'data' && typeof options[key] === 'function') methods[key] = options[key];
  });
  methods.getOpenerEventChannel = function getOpenerEventChannel() {
    return global.__openerChannel || { on() {}, emit() {} };
  };
  global.Component({
    data: options.data || {},
    methods,
    lifetimes: {
      attached() {
        if (this.onLoad) this.onLoad(global.__pageQuery || {});
        if (this.onShow) this.onShow();
        if (this.onReady) this.onReady();
      },
      detached() {
        if (this.onUnload) this.onUnload();
      },
    },
  });
};

/**
 * miniprogram-simulate's wx mocks keep nothing in storage and go nowhere: give the tests a real
 * in-memory storage (cleared before each test) and a record of navigations (global.__navigations,
 * with the events a page's opener listens to).
 */
const store = new Map();
const storedSize = () => Array.from(store).reduce((n, [key, value]) => n + key.length + value.length, 0);
global.__navigations = [];
global.__storageQuota = Infinity; // characters (keys and JSON values) the storage holds, as WeChat's 10 MB
Object.assign(global.wx, {
  getStorageSync: (key) => (store.has(key) ? JSON.parse(store.get(key)) : ''),
  setStorageSync: (key, value) => {
    const json = JSON.stringify(value);
    const before = store.has(key) ? key.length + store.get(key).length : 0;
    if (storedSize() - before + key.length + json.length > global.__storageQuota) throw new Error('setStorageSync:fail exceed storage max size 10MB');
    store.set(key, json);
  },
  removeStorageSync: (key) => store.delete(key),
  clearStorageSync: () => store.clear(),
  getStorageInfoSync: () => ({ keys: Array.from(store.keys()), currentSize: Math.ceil(storedSize() / 1024), limitSize: 10240 }),
});
global.__storedSize = storedSize;
['reLaunch', 'navigateTo', 'redirectTo', 'navigateBack', 'switchTab'].forEach((name) => {
  global.wx[name] = (options) => {
    const opts = options || {};
    const channel = { emitted: [], emit(event, data) { this.emitted.push([event, data]); }, on() {} };
    global.__navigations.push({ name, url: opts.url, channel, events: opts.events || {} });
    if (opts.success) opts.success({ eventChannel: channel });
  };
});
beforeEach(() => {
  store.clear();
  global.__storageQuota = Infinity;
  global.__navigations.length = 0;
  global.__openerChannel = undefined;
});
