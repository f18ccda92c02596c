/**
 * Whether the phone has a network, from wx.getNetworkType and wx.onNetworkStatusChange.
 * Optimistic until told otherwise (a failed request says more than a guess).
 */
const { createEmitter } = require('./emitter');

function createNetwork(api) {
  const wxApi = api || wx;
  const emitter = createEmitter();
  let online = true;
  let started = false;

  function set(value) {
    const next = !!value;
    if (next === online) return;
    online = next;
    emitter.emit('change', online);
  }

  return {
    start() {
      if (started) return;
      started = true;
      try {
        wxApi.getNetworkType({ success: (res) => set(res.networkType !== 'none') });
        wxApi.onNetworkStatusChange((res) => set(res.isConnected));
      } catch (e) {
        // an environment without network events: stay optimistic
      }
    },
    isOnline: () => online,
    set,
    onChange: (fn) => emitter.on('change', fn),
    /** Resolves true as soon as the network is back, false after `timeoutMs`. */
    waitOnline(timeoutMs) {
      if (online) return Promise.resolve(true);
      return new Promise((resolve) => {
        let timer = null;
        const off = emitter.on('change', (value) => {
          if (!value) return;
          clearTimeout(timer);
          off();
          resolve(true);
        });
        timer = setTimeout(() => {
          off();
          resolve(false);
        }, timeoutMs);
      });
    },
  };
}

let shared = null;
function defaultNetwork() {
  if (!shared) {
    shared = createNetwork();
    shared.start();
  }
  return shared;
}

module.exports = { createNetwork, defaultNetwork };
